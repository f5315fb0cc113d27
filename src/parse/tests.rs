//! The line parser's tests: framing, partial joins, timeouts and hand-overs across rotation.

use bytes::Bytes;

use super::*;

const TIMEOUT: Duration = Duration::from_secs(5);

fn parser(max_line_bytes: usize) -> LineParser {
    let origin = Origin::new("/var/log/containers/x.log".into(), Default::default());
    LineParser::new(origin, max_line_bytes, TIMEOUT)
}

fn line(bytes: impl Into<Bytes>, offset: u64) -> Line {
    let bytes = bytes.into();
    let end = offset + bytes.len() as u64 + 1;
    Line {
        bytes,
        offset,
        end,
        truncated: false,
    }
}

#[test]
fn a_cri_message_is_a_slice_of_the_line() {
    let mut out = Vec::new();
    let bytes = Bytes::from(b"2026-11-24T06:54:58.1Z stdout F zero copy".to_vec());
    let range = bytes.as_ptr_range();
    parser(1024).push(line(bytes, 0), Instant::now(), &mut out);
    assert_eq!(out[0].message.as_str(), "zero copy");
    assert!(range.contains(&out[0].message.as_bytes().as_ptr()));
}

#[test]
fn a_docker_message_without_escapes_is_a_slice_of_the_line() {
    let mut out = Vec::new();
    let bytes = Bytes::from(
        br#"{"log":"zero copy\n","stream":"stdout","time":"2019-01-01T00:00:00Z"}"#.to_vec(),
    );
    let range = bytes.as_ptr_range();
    parser(1024).push(line(bytes, 0), Instant::now(), &mut out);
    assert_eq!(out[0].message.as_str(), "zero copy");
    assert!(range.contains(&out[0].message.as_bytes().as_ptr()));
}

#[test]
fn a_partial_line_is_flushed_after_the_timeout() {
    let t0 = Instant::now();
    let mut parser = parser(1024);
    let mut out = Vec::new();
    assert_eq!(parser.next_deadline(), None);
    parser.push(line("2026-11-24T06:54:58Z stdout P wait", 10), t0, &mut out);
    parser.push(
        line("2026-11-24T06:54:58Z stderr F e", 50),
        t0 + Duration::from_secs(1),
        &mut out,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].checkpoint, 10,
        "the pending partial holds the checkpoint"
    );
    assert_eq!(parser.pending_offset(), Some(10));
    assert_eq!(parser.next_deadline(), Some(t0 + TIMEOUT));

    out.clear();
    parser.flush_expired(t0 + Duration::from_secs(4), &mut out);
    assert!(out.is_empty());
    parser.flush_expired(t0 + Duration::from_secs(6), &mut out);
    assert_eq!(out.len(), 1);
    let event = &out[0];
    assert_eq!(event.message.as_str(), "wait");
    assert_eq!(event.flags, Flags::PARTIAL);
    assert_eq!((event.offset, event.checkpoint), (10, 45));
    assert_eq!(parser.pending_offset(), None);
    assert_eq!(parser.next_deadline(), None);
    assert_eq!(parser.stats().partial_flushed, 1);
}

#[test]
fn the_deadline_runs_from_the_first_part() {
    let t0 = Instant::now();
    let mut parser = parser(1024);
    let mut out = Vec::new();
    parser.push(line("2026-11-24T06:54:58Z stdout P a", 0), t0, &mut out);
    parser.push(
        line("2026-11-24T06:54:58Z stdout P b", 32),
        t0 + Duration::from_secs(4),
        &mut out,
    );
    assert_eq!(parser.next_deadline(), Some(t0 + TIMEOUT));
    parser.flush_expired(t0 + TIMEOUT, &mut out);
    assert_eq!(out[0].message.as_str(), "ab");
}

#[test]
fn a_huge_timeout_never_expires_and_does_not_panic() {
    let origin = Origin::new("x.log".into(), Default::default());
    let mut parser = LineParser::new(origin, 1024, Duration::MAX);
    let mut out = Vec::new();
    parser.push(
        line("2026-11-24T06:54:58Z stdout P a", 0),
        Instant::now(),
        &mut out,
    );
    assert_eq!(parser.next_deadline(), None);
    assert_eq!(parser.pending_offset(), Some(0));
    parser.flush_all(&mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn a_line_the_tailer_cut_is_parsed_and_flagged() {
    let mut parser = parser(1024);
    let mut out = Vec::new();
    let mut cut = line(&b"2026-11-24T06:54:58Z stdout F caf\xc3"[..], 0);
    cut.truncated = true;
    parser.push(cut, Instant::now(), &mut out);
    let event = &out[0];
    assert_eq!(
        event.message.as_str(),
        "caf",
        "the half character is dropped"
    );
    assert_eq!(event.flags, Flags::TRUNCATED);
    assert_eq!(event.format, Some(Format::Cri));

    let mut cut = line(r#"{"log":"abc"#, 100);
    cut.truncated = true;
    parser.push(cut, Instant::now(), &mut out);
    assert_eq!(out[1].message.as_str(), r#"{"log":"abc"#);
    assert_eq!(out[1].flags, Flags::TRUNCATED | Flags::UNPARSED);
    assert_eq!(
        parser.stats(),
        ParseStats {
            lines: 2,
            unparsed: 1,
            invalid_utf8: 0,
            partial_flushed: 0,
            truncated: 2,
        }
    );
}

#[test]
fn a_line_split_by_a_rotation_is_completed_by_the_next_file() {
    let t0 = Instant::now();
    let mut old = parser(1024);
    let mut new = parser(1024);
    let mut out = Vec::new();
    old.push(line("2026-11-24T06:54:58Z stdout F whole", 0), t0, &mut out);
    old.push(line("2026-11-24T06:54:58Z stdout P hal", 36), t0, &mut out);
    assert_eq!(old.pending_offset(), Some(36));
    assert_eq!(new.take_over(&mut old, 0), Some(70), "the old file's end");
    assert!(new.carries());
    assert_eq!(old.pending_offset(), Some(36), "still held back: lent");
    assert_eq!(new.pending_offset(), Some(0), "the new file's start");
    // A late line of the old file cannot move its checkpoint past the line lent.
    old.push(line("2026-11-24T06:54:58Z stderr F late", 70), t0, &mut out);
    assert_eq!(out[1].checkpoint, 36);

    new.push(line("2026-11-24T06:54:58Z stdout F f", 0), t0, &mut out);
    let joined = &out[2];
    assert_eq!(joined.message.as_str(), "half");
    assert_eq!(joined.flags, Flags::empty());
    assert_eq!(
        (joined.offset, joined.checkpoint),
        (36, 32),
        "its first piece's offset; the new file's checkpoint past its last"
    );
    assert!(!new.carries());
}

#[test]
fn a_line_taken_over_expires_with_its_first_deadline_and_holds_only_the_new_start() {
    let t0 = Instant::now();
    let mut old = parser(1024);
    let mut new = parser(1024);
    let mut out = Vec::new();
    old.push(line("2026-11-24T06:54:58Z stdout P half", 10), t0, &mut out);
    assert_eq!(new.take_over(&mut old, 500), Some(45));
    assert_eq!(new.next_deadline(), Some(t0 + TIMEOUT));
    assert_eq!(old.next_deadline(), None);
    new.push(line("2026-11-24T06:54:58Z stderr F e", 500), t0, &mut out);
    assert_eq!(out[0].checkpoint, 500, "held at the new file's start");
    new.flush_expired(t0 + TIMEOUT, &mut out);
    assert_eq!(out[1].message.as_str(), "half");
    assert_eq!(out[1].flags, Flags::PARTIAL);
    assert_eq!(out[1].checkpoint, 500, "never the old file's offsets");
    assert!(!new.carries());

    // Nothing pending: nothing taken over.
    let mut third = parser(1024);
    assert_eq!(third.take_over(&mut new, 0), None);
}

#[test]
fn a_cut_part_is_flagged_on_the_joined_line() {
    let mut parser = parser(1024);
    let mut out = Vec::new();
    let mut cut = line("2026-11-24T06:54:58Z stdout P abc", 0);
    cut.truncated = true;
    parser.push(cut, Instant::now(), &mut out);
    parser.push(
        line("2026-11-24T06:54:58Z stdout F def", 40),
        Instant::now(),
        &mut out,
    );
    assert_eq!(out[0].message.as_str(), "abcdef");
    assert_eq!(out[0].flags, Flags::TRUNCATED);
}
