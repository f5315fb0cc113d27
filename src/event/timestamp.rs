//! Event time: UTC nanoseconds, parsed from and written as RFC 3339.

use chrono::{DateTime, Utc};

/// A point in time in UTC with nanosecond precision, as container runtimes write it and as Elasticsearch's
/// `date_nanos` keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp::from_datetime(Utc::now())
    }

    pub fn from_nanos(nanos: i64) -> Timestamp {
        Timestamp(nanos)
    }

    pub fn as_nanos(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 with any fraction and offset (`2026-11-24T06:54:58.1234Z`, `…+01:00`).
    /// `None` for anything else, and for times outside what 64-bit nanoseconds hold (years 1677-2262).
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        if let Some(nanos) = parse_utc(s) {
            return Some(Timestamp(nanos));
        }
        let parsed = DateTime::parse_from_rfc3339(s).ok()?;
        parsed.timestamp_nanos_opt().map(Timestamp)
    }

    /// Parses the time a runtime wrote on a line, as [`Timestamp::parse_rfc3339`], and checks that
    /// `@timestamp` can hold it: Elasticsearch's `date_nanos` counts nanoseconds from 1970 in a signed
    /// 64-bit number, so holds 1970-01-01T00:00:00Z to 2262-04-11T23:47:16.854775807Z, and refuses
    /// the whole document otherwise.
    pub fn parse_shippable(s: &str) -> Result<Timestamp, TimeError> {
        if let Some(nanos) = parse_utc(s) {
            return Ok(Timestamp(nanos));
        }
        let parsed = DateTime::parse_from_rfc3339(s).map_err(|_| TimeError::NotRfc3339)?;
        match parsed.timestamp_nanos_opt() {
            Some(nanos) if nanos >= 0 => Ok(Timestamp(nanos)),
            _ => Err(TimeError::OutOfRange),
        }
    }

    fn from_datetime(dt: DateTime<Utc>) -> Timestamp {
        // `now()` is always within range; saturate rather than panic if a clock is absurd.
        Timestamp(dt.timestamp_nanos_opt().unwrap_or(i64::MAX))
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`: always nine fraction digits and `Z`, so documents sort
    /// and compare as text too. Written digit by digit because it runs once per event.
    /// The calendar by hand rather than through chrono's `DateTime`, which costs several times as
    /// much; the tests hold the two to the same text.
    pub fn write_rfc3339(self, out: &mut Vec<u8>) {
        const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;
        let days = self.0.div_euclid(NANOS_PER_DAY);
        let of_day = self.0.rem_euclid(NANOS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let seconds = (of_day / 1_000_000_000) as u32;
        let mut buf = *b"0000-00-00T00:00:00.000000000Z";
        put_digits(&mut buf[0..4], year.clamp(0, 9999) as u32);
        put_digits(&mut buf[5..7], month);
        put_digits(&mut buf[8..10], day);
        put_digits(&mut buf[11..13], seconds / 3600);
        put_digits(&mut buf[14..16], seconds / 60 % 60);
        put_digits(&mut buf[17..19], seconds % 60);
        put_digits(&mut buf[20..29], (of_day % 1_000_000_000) as u32);
        out.extend_from_slice(&buf);
    }
}

/// Why a line's time cannot be its `@timestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    NotRfc3339,
    /// A valid time `@timestamp` cannot hold (before 1970 or after 2262).
    OutOfRange,
}

/// Year, month and day of the proleptic Gregorian calendar, `days` after 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, exact over all of `i64` nanoseconds' range).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// The form container runtimes write, `YYYY-MM-DDTHH:MM:SS[.f…]Z` with up to nine fraction digits, in
/// the years `@timestamp` holds, read without chrono: chrono's general RFC 3339 parser cost about 500
/// instructions a line, 7 % of the `pipeline` bench. `None` leaves anything else (offsets, leap
/// seconds, lowercase, other years) to chrono; the tests hold the two to the same value.
fn parse_utc(s: &str) -> Option<i64> {
    const SCALE: [u32; 10] = [
        1_000_000_000,
        100_000_000,
        10_000_000,
        1_000_000,
        100_000,
        10_000,
        1_000,
        100,
        10,
        1,
    ];
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let fraction = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            digits(fraction)? * SCALE[fraction.len()]
        }
        _ => return None,
    };
    let in_range = (1970..=2261).contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !in_range {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(seconds * 1_000_000_000 + i64::from(fraction))
}

/// Up to nine ASCII digits as a number; `None` if any byte is not a digit.
fn digits(bytes: &[u8]) -> Option<u32> {
    let mut n = 0;
    for &b in bytes {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u32::from(d);
    }
    Some(n)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 => 28 + u32::from(leap),
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`, the inverse of `civil_from_days`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * i64::from((month + 9) % 12) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Writes `value`'s last `dst.len()` decimal digits, two at a time from a table: this runs for every
/// field of every event's time.
fn put_digits(dst: &mut [u8], mut value: u32) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566\
        676869707172737475767778798081828384858687888990919293949596979899";
    let mut end = dst.len();
    while end >= 2 {
        let pair = (value % 100) as usize * 2;
        dst[end - 2..end].copy_from_slice(&PAIRS[pair..pair + 2]);
        value /= 100;
        end -= 2;
    }
    if end == 1 {
        dst[0] = b'0' + (value % 10) as u8;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn chrono_nanos(s: &str) -> Option<i64> {
        DateTime::parse_from_rfc3339(s).ok()?.timestamp_nanos_opt()
    }

    #[test]
    fn the_runtimes_form_is_read_without_chrono_and_the_rest_with_it() {
        for (text, fast) in [
            ("2026-11-24T06:54:58.123456789Z", true),
            ("1970-01-01T00:00:00Z", true),
            ("2024-02-29T23:59:59.5Z", true),
            ("2261-12-31T23:59:59.999999999Z", true),
            ("2023-02-29T00:00:00Z", false),
            ("2026-11-24T06:54:58.1234567891Z", false),
            ("2026-11-24T06:54:58+01:00", false),
            ("2016-12-31T23:59:60Z", false),
            ("1969-12-31T23:59:59Z", false),
            ("2026-11-24t06:54:58z", false),
            ("2026-11-24T06:54:58.Z", false),
        ] {
            assert_eq!(parse_utc(text).is_some(), fast, "{text}");
            if fast {
                assert_eq!(parse_utc(text), chrono_nanos(text), "{text}");
            }
        }
    }

    proptest! {
        #[test]
        fn the_fast_reading_agrees_with_chrono(
            year in 1965u32..2270, month in 0u32..14, day in 0u32..33, hour in 0u32..26,
            minute in 0u32..62, second in 0u32..62, fraction in "[0-9]{0,11}", dot in any::<bool>(),
        ) {
            let dot = if dot || !fraction.is_empty() { "." } else { "" };
            let text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{dot}{fraction}Z");
            if let Some(nanos) = parse_utc(&text) {
                prop_assert_eq!(Some(nanos), chrono_nanos(&text), "{}", text);
            }
            prop_assert_eq!(
                Timestamp::parse_shippable(&text).ok().map(Timestamp::as_nanos),
                chrono_nanos(&text).filter(|n| *n >= 0),
                "{}", text
            );
        }

        #[test]
        fn any_text_reads_as_chrono_reads_it(text in "[0-9TZ:.+-]{18,32}") {
            prop_assert_eq!(Timestamp::parse_rfc3339(&text).map(Timestamp::as_nanos), chrono_nanos(&text));
        }
    }

    fn rfc3339(ts: Timestamp) -> String {
        let mut out = Vec::new();
        ts.write_rfc3339(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn keeps_nanoseconds_and_normalises_to_utc() {
        let ts = Timestamp::parse_rfc3339("2026-11-24T06:54:58.123456789Z").unwrap();
        assert_eq!(rfc3339(ts), "2026-11-24T06:54:58.123456789Z");
        let ts = Timestamp::parse_rfc3339("2026-11-24T00:30:00.5+01:00").unwrap();
        assert_eq!(rfc3339(ts), "2026-11-23T23:30:00.500000000Z");
        let ts = Timestamp::parse_rfc3339("2026-01-02T03:04:05Z").unwrap();
        assert_eq!(rfc3339(ts), "2026-01-02T03:04:05.000000000Z");
    }

    #[test]
    fn rejects_what_is_not_rfc3339() {
        for bad in [
            "",
            "2026-11-24",
            "2026-11-24T06:54",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "9999-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_what_date_nanos_holds_is_shippable() {
        let ok = |s| Timestamp::parse_shippable(s).map(Timestamp::as_nanos);
        assert_eq!(ok("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(ok("2262-04-11T23:47:16.854775807Z"), Ok(i64::MAX));
        for out in [
            "1969-12-31T23:59:59.999999999Z",
            "1970-01-01T00:30:00+01:00",
            "2262-04-11T23:47:16.854775808Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(ok(out), Err(TimeError::OutOfRange), "{out}");
        }
        assert_eq!(ok("2026-11-24"), Err(TimeError::NotRfc3339));
    }

    /// The hand-written calendar against chrono's, over the whole range of nanoseconds.
    #[test]
    fn written_as_chrono_writes_it() {
        let chrono = |nanos: i64| {
            DateTime::from_timestamp_nanos(nanos)
                .format("%Y-%m-%dT%H:%M:%S.%9fZ")
                .to_string()
        };
        let mut edges = vec![i64::MIN, i64::MAX, -1, 0, 1, 951_782_400_000_000_000];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            edges.push(x as i64);
        }
        for nanos in edges {
            assert_eq!(
                rfc3339(Timestamp::from_nanos(nanos)),
                chrono(nanos),
                "{nanos}"
            );
        }
    }

    #[test]
    fn before_the_epoch_is_written_correctly() {
        let ts = Timestamp::parse_rfc3339("1969-12-31T23:59:59.999999999Z").unwrap();
        assert_eq!(ts.as_nanos(), -1);
        assert_eq!(rfc3339(ts), "1969-12-31T23:59:59.999999999Z");
    }
}
