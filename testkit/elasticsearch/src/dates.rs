//! The date formats a `date` or `date_nanos` field accepts, as Elasticsearch's java.time parsers read
//! them: `strict_date_optional_time` (`2026-11-24`, `2026-11-24T06:54`, `2026-11-24T06:54:58.123456789Z`,
//! `…+01:00`), the `_nanos` variant (the same text; it only keeps more precision), the full
//! `date_time` forms, and `epoch_millis` / `epoch_second`. Formats are tried in `||` order.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// The default `format` of each field type.
pub const DATE_DEFAULT: &str = "strict_date_optional_time||epoch_millis";
pub const DATE_NANOS_DEFAULT: &str = "strict_date_optional_time_nanos||epoch_millis";

/// A parsed instant: seconds since the epoch, and nanoseconds within that second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Instant {
    pub seconds: i64,
    pub nanos: u32,
}

/// Whether one of `format`'s alternatives reads `text`; `None` for a format this server does not
/// know (a custom java pattern), which the caller then accepts unchecked.
pub fn parse(format: &str, text: &str) -> Option<Result<Instant, ()>> {
    let mut known = false;
    for name in format.split("||").map(str::trim) {
        let parsed = match name {
            "strict_date_optional_time"
            | "date_optional_time"
            | "strict_date_optional_time_nanos" => iso(text, Need::Date),
            "strict_date_time" | "date_time" => iso(text, Need::Fraction),
            "strict_date_time_no_millis" | "date_time_no_millis" => iso(text, Need::Seconds),
            "strict_date" | "date" | "yyyy-MM-dd" => iso(text, Need::DayOnly),
            "epoch_millis" => epoch(text, 1000),
            "epoch_second" => epoch(text, 1),
            _ => continue,
        };
        known = true;
        if let Some(instant) = parsed {
            return Some(Ok(instant));
        }
    }
    known.then_some(Err(()))
}

#[derive(Clone, Copy, PartialEq)]
enum Need {
    /// A date, optionally followed by a time.
    Date,
    /// A date and nothing else.
    DayOnly,
    /// Date and time to the second, with a zone.
    Seconds,
    /// Date and time with a fraction, with a zone.
    Fraction,
}

fn epoch(text: &str, per_second: i64) -> Option<Instant> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = whole.strip_prefix('-').unwrap_or(whole);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = whole.parse().ok()?;
    let seconds = value.div_euclid(per_second);
    let rest = value.rem_euclid(per_second);
    let nanos = (rest * (1_000_000_000 / per_second)) as u32;
    Some(Instant { seconds, nanos })
}

/// A cursor over ASCII digits and separators.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, exactly: usize) -> Option<u32> {
        let end = self.pos + exactly;
        let slice = self.bytes.get(self.pos..end)?;
        if !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.pos = end;
        std::str::from_utf8(slice).ok()?.parse().ok()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn done(&self) -> bool {
        self.pos == self.bytes.len()
    }
}

fn iso(text: &str, need: Need) -> Option<Instant> {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let year = c.digits(4)? as i32;
    let (mut month, mut day) = (1, 1);
    if c.eat(b'-') {
        month = c.digits(2)?;
        if c.eat(b'-') {
            day = c.digits(2)?;
        } else if need != Need::Date {
            return None;
        }
    } else if need != Need::Date {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0u32);
    let mut offset_seconds = 0i64;
    let has_time = c.eat(b'T');
    if has_time && need == Need::DayOnly {
        return None;
    }
    if has_time {
        hour = c.digits(2)?;
        let mut parts = 1;
        if c.eat(b':') {
            minute = c.digits(2)?;
            parts = 2;
            if c.eat(b':') {
                second = c.digits(2)?;
                parts = 3;
                if c.eat(b'.') || c.eat(b',') {
                    let start = c.pos;
                    while c.pos < c.bytes.len() && c.bytes[c.pos].is_ascii_digit() {
                        c.pos += 1;
                    }
                    let digits = &text[start..c.pos];
                    if digits.is_empty() || digits.len() > 9 {
                        return None;
                    }
                    nanos = format!("{digits:0<9}").parse().ok()?;
                    parts = 4;
                }
            }
        }
        let wanted = match need {
            Need::Seconds => 3,
            Need::Fraction => 4,
            _ => parts,
        };
        if parts != wanted {
            return None;
        }
        if !c.done() {
            offset_seconds = zone(&mut c)?;
        } else if matches!(need, Need::Seconds | Need::Fraction) {
            return None;
        }
    } else if matches!(need, Need::Seconds | Need::Fraction) {
        return None;
    }
    if !c.done() {
        return None;
    }
    let time = NaiveTime::from_hms_opt(hour, minute, second)?;
    let local = NaiveDateTime::new(date, time).and_utc().timestamp();
    Some(Instant {
        seconds: local - offset_seconds,
        nanos,
    })
}

/// `Z`, `+HH`, `+HHmm` or `+HH:mm`; the offset in seconds east of UTC.
fn zone(c: &mut Cursor) -> Option<i64> {
    if c.eat(b'Z') {
        return Some(0);
    }
    let sign = if c.eat(b'+') {
        1
    } else if c.eat(b'-') {
        -1
    } else {
        return None;
    };
    let hours = c.digits(2)?;
    let minutes = if c.eat(b':') {
        c.digits(2)?
    } else {
        c.digits(2).unwrap_or(0)
    };
    if hours > 18 || minutes > 59 {
        return None;
    }
    Some(sign * i64::from(hours * 3600 + minutes * 60))
}

/// An instant as `strict_date_optional_time` prints it, for error messages.
pub fn print(instant: Instant) -> String {
    chrono::DateTime::from_timestamp(instant.seconds, instant.nanos)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}
