//! The `_id` a document is sent with when `output.elasticsearch.deduplicate` is on: the same for every
//! reading of the same line, so a line sent again after a crash is refused by Elasticsearch as a
//! duplicate (409 on `create`) instead of being indexed twice.
//!
//! The ID is made of where the line is and a hash of what it says (see [`write`] for its layout):
//!
//! - the container it was written by: the pod UID and container name from kubelet's
//!   `/var/log/pods/<ns>_<pod>_<uid>/<container>/` path, which a rotated file keeps; else the container
//!   ID in the `/var/log/containers` name; else the path as discovered;
//! - `log.offset`, the line's start in its file, which rename rotation keeps (the inode moves with the
//!   name) and copytruncate keeps too (the copy holds the line at the same offset);
//! - the stream and the time the runtime wrote on the line (nanoseconds), and the message.
//!
//! The inode is left out on purpose: an inode is reused by a new file within minutes on a busy node,
//! and a truncated file starts again at offset 0, so inode and offset alone would give a new line the
//! ID of an old one, which Elasticsearch would then refuse as a duplicate: a loss. With the line's time
//! and text in the hash, two lines share an ID only when they are the same bytes at the same offset of
//! the same container's log, which is the same line read twice. For the same reason the read time is
//! left out: a line without a time of its own (`unparsed`) or with one `@timestamp` cannot hold is
//! identified by its raw text (and `log.original_timestamp`) alone.
//!
//! Everything hashed is read from the file, so the ID does not depend on the run, the registry (an
//! imported one included) or the agent's identity.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::event::{Event, Flags};

/// Characters of an ID: 20 bytes in unpadded URL-safe base64, the alphabet of Elasticsearch's own IDs.
pub const ID_LEN: usize = 27;

/// Appends the event's ID (no quotes): 8 characters naming the container (48 bits of its hash), 8
/// for the offset (48 bits, big-endian), 11 for a 64-bit hash of the rest of the line.
///
/// Laid out so that the IDs of one file share their first characters and grow with the offset:
/// gzip finds the shared part in the previous document, and Elasticsearch looks up IDs that sit next
/// to each other in its `_id` index rather than scattered at random. Two different lines share an ID
/// only if they are at the same offset (to 256 TiB) in containers whose 48-bit hashes collide, and
/// their 64-bit hashes collide too.
pub fn write(event: &Event, out: &mut Vec<u8>) {
    let (source, rest) = of(event);
    let mut id = [0u8; 20];
    id[0..6].copy_from_slice(&source.to_be_bytes()[2..8]);
    id[6..12].copy_from_slice(&event.offset.to_be_bytes()[2..8]);
    id[12..20].copy_from_slice(&rest.to_be_bytes());
    let mut text = [0u8; ID_LEN];
    // Cannot fail: 20 bytes encode to exactly ID_LEN characters.
    let written = URL_SAFE_NO_PAD
        .encode_slice(id, &mut text)
        .unwrap_or_default();
    out.extend_from_slice(&text[..written]);
}

/// The container's hash, and the hash of the whole line (container and offset included). The short
/// fields are hashed into a seed for the hash of the message, so nothing is copied and the message,
/// the one long part, is read once.
fn of(event: &Event) -> (u64, u64) {
    let meta = &event.origin.metadata;
    let source = match (&meta.pod_uid, &meta.container_name, &meta.container_id) {
        (Some(uid), Some(container), _) => xxh3_64_pair(b'k', uid, container),
        (_, _, Some(id)) => xxh3_64_pair(b'c', id, ""),
        _ => xxh3_64_pair(b'p', &event.origin.path, ""),
    };
    let stream = match event.stream {
        None => 0u8,
        Some(crate::event::Stream::Stdout) => 1,
        Some(crate::event::Stream::Stderr) => 2,
    };
    // The line's own time, never the time it was read (which a second reading changes).
    let (time_kind, time) = if event.flags.contains(Flags::UNPARSED) {
        (0u8, 0u64)
    } else if event.flags.contains(Flags::TIMESTAMP_OUT_OF_RANGE) {
        let original = event.original_timestamp.as_deref().unwrap_or_default();
        (1, xxh3_64(original.as_bytes()))
    } else {
        (2, event.timestamp.as_nanos() as u64)
    };
    let mut head = [0u8; 26];
    head[0..8].copy_from_slice(&source.to_le_bytes());
    head[8..16].copy_from_slice(&event.offset.to_le_bytes());
    head[16] = stream;
    head[17] = time_kind;
    head[18..26].copy_from_slice(&time.to_le_bytes());
    let rest = xxh3_64_with_seed(event.message.as_str().as_bytes(), xxh3_64(&head));
    (source, rest)
}

/// Two strings hashed in turn, the first one's hash seeding the second's, so ("ab", "c") and
/// ("a", "bc") differ; the kind tag keeps a pod UID from ever equalling a path. Nothing is copied.
fn xxh3_64_pair(kind: u8, a: &str, b: &str) -> u64 {
    let first = xxh3_64_with_seed(a.as_bytes(), u64::from(kind));
    xxh3_64_with_seed(b.as_bytes(), first)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::Path;

    use super::*;
    use crate::enrich::path_metadata;
    use crate::event::{Origin, Stream, Text, Timestamp};

    const LINK: &str = "/var/log/containers/api-5c8d9f7b6-k8s2p_shop_api-\
        55a8d1a4f3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6.log";
    const POD_DIR: &str =
        "/var/log/pods/shop_api-5c8d9f7b6-k8s2p_5f0e2a7d-1b3c-4d5e-8f90-a1b2c3d4e5f6/api";

    fn event(path: &str, target: &str, offset: u64, at: i64, message: &str) -> Event {
        let origin = Origin::new(
            path.to_owned(),
            path_metadata(Path::new(path), Some(Path::new(target))),
        );
        let mut event = Event::new(
            origin,
            Timestamp::from_nanos(at),
            Text::from(message.to_owned()),
            offset,
        );
        event.stream = Some(Stream::Stdout);
        event
    }

    fn id(event: &Event) -> String {
        let mut out = Vec::new();
        write(event, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn an_id_is_27_url_safe_characters_sharing_a_prefix_per_file_and_ordered_by_offset() {
        let id = id(&event(LINK, &format!("{POD_DIR}/0.log"), 0, 1, "hello"));
        assert_eq!(id.len(), ID_LEN);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let at = |offset| self::id(&event(LINK, &format!("{POD_DIR}/0.log"), offset, 1, "x"));
        let (first, later) = (at(100), at(70_000));
        assert_eq!(first[..8], later[..8], "the container's part");
        // Base64's alphabet is not in ASCII order, so compare the decoded offsets.
        let offset = |id: &str| {
            let bytes = URL_SAFE_NO_PAD.decode(id).unwrap();
            u64::from_be_bytes([
                0, 0, bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11],
            ])
        };
        assert_eq!((offset(&first), offset(&later)), (100, 70_000));
        assert_ne!(
            first[..8],
            self::id(&event("/srv/a.log", "/srv/a.log", 100, 1, "x"))[..8]
        );
    }

    #[test]
    fn the_same_line_has_the_same_id_under_a_rotated_name_and_from_a_copy() {
        let line = |path: &str, target: &str| id(&event(path, target, 4096, 7, "GET /cart 200"));
        let live = line(LINK, &format!("{POD_DIR}/0.log"));
        // kubelet renamed it; a restart finds it next to its old name.
        assert_eq!(
            live,
            line(LINK, &format!("{POD_DIR}/0.log.20261124-065458"))
        );
        // Read under the rotated name itself.
        assert_eq!(
            live,
            line(
                &format!("{POD_DIR}/0.log.20261124-065458"),
                &format!("{POD_DIR}/0.log.20261124-065458")
            )
        );
        // Outside kubelet's layout the path is what names the file.
        assert_eq!(
            line("/srv/app.log", "/srv/app.log"),
            line("/srv/app.log", "/srv/app.log")
        );
        // The read time of an unparsed line is not part of it.
        let mut first = event(LINK, LINK, 0, 1_000, "no time here");
        let mut again = event(LINK, LINK, 0, 2_000, "no time here");
        first.flags.insert(Flags::UNPARSED);
        again.flags.insert(Flags::UNPARSED);
        assert_eq!(id(&first), id(&again));
        // Nor is it for a line whose own time @timestamp cannot hold.
        for e in [&mut first, &mut again] {
            e.flags = Flags::TIMESTAMP_OUT_OF_RANGE;
            e.original_timestamp = Some("1969-12-31T23:59:59Z".into());
        }
        assert_eq!(id(&first), id(&again));
        again.original_timestamp = Some("1969-12-31T23:59:58Z".into());
        assert_ne!(id(&first), id(&again));
    }

    #[test]
    fn lines_that_differ_in_anything_read_from_the_file_have_different_ids() {
        let target = format!("{POD_DIR}/0.log");
        let base = event(LINK, &target, 100, 5, "same text");
        let side = format!("{POD_DIR}/../side/0.log").replace("/api/../", "/");
        let other_pod = target.replace("k8s2p_5f0e2a7d", "zzzzz_00000000");
        let mut variants = vec![
            // A new line at the same offset of a truncated file, or of a file on a reused inode.
            event(LINK, &target, 100, 6, "same text"),
            event(LINK, &target, 100, 5, "other text"),
            event(LINK, &target, 101, 5, "same text"),
            // Another container, or another pod.
            event(&side, &side, 100, 5, "same text"),
            event(&other_pod, &other_pod, 100, 5, "same text"),
            event("/srv/a.log", "/srv/a.log", 100, 5, "same text"),
            event("/srv/b.log", "/srv/b.log", 100, 5, "same text"),
        ];
        let mut stderr = event(LINK, &target, 100, 5, "same text");
        stderr.stream = Some(Stream::Stderr);
        variants.push(stderr);
        let mut unparsed = event(LINK, &target, 100, 5, "same text");
        unparsed.flags.insert(Flags::UNPARSED);
        variants.push(unparsed);
        let mut seen = HashSet::from([id(&base)]);
        for (i, v) in variants.iter().enumerate() {
            assert!(
                seen.insert(id(v)),
                "variant {i} has the ID of an earlier one"
            );
        }
        // Many lines of one file: all different.
        let ids: HashSet<String> = (0..20_000u64)
            .map(|i| {
                id(&event(
                    LINK,
                    &target,
                    i * 80,
                    i as i64,
                    &format!("line {}", i % 7),
                ))
            })
            .collect();
        assert_eq!(ids.len(), 20_000);
    }
}
