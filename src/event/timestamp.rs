//! Event time: UTC nanoseconds, parsed from and written as RFC 3339.

use chrono::{DateTime, Datelike, Timelike, Utc};

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
        let parsed = DateTime::parse_from_rfc3339(s).ok()?;
        parsed.timestamp_nanos_opt().map(Timestamp)
    }

    /// Parses the time a runtime wrote on a line, as [`Timestamp::parse_rfc3339`], and checks that
    /// `@timestamp` can hold it: Elasticsearch's `date_nanos` counts nanoseconds from 1970 in a signed
    /// 64-bit number, so holds 1970-01-01T00:00:00Z to 2262-04-11T23:47:16.854775807Z, and refuses
    /// the whole document otherwise.
    pub fn parse_shippable(s: &str) -> Result<Timestamp, TimeError> {
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
    pub fn write_rfc3339(self, out: &mut Vec<u8>) {
        let dt = self.to_datetime();
        let mut buf = *b"0000-00-00T00:00:00.000000000Z";
        put_digits(&mut buf[0..4], dt.year().clamp(0, 9999) as u32);
        put_digits(&mut buf[5..7], dt.month());
        put_digits(&mut buf[8..10], dt.day());
        put_digits(&mut buf[11..13], dt.hour());
        put_digits(&mut buf[14..16], dt.minute());
        put_digits(&mut buf[17..19], dt.second());
        put_digits(&mut buf[20..29], dt.nanosecond().min(999_999_999));
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

fn put_digits(dst: &mut [u8], mut value: u32) {
    for slot in dst.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn before_the_epoch_is_written_correctly() {
        let ts = Timestamp::parse_rfc3339("1969-12-31T23:59:59.999999999Z").unwrap();
        assert_eq!(ts.as_nanos(), -1);
        assert_eq!(rfc3339(ts), "1969-12-31T23:59:59.999999999Z");
    }
}
