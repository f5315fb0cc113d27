//! Durations: `10s`, `500ms`, `5m`, `1h 30m` (humantime), or a number of seconds.

use std::fmt;
use std::ops::Add;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;

/// Far beyond any configured wait, and far inside what `Instant` holds.
const CENTURY: Duration = Duration::from_secs(100 * 365 * 86_400);

/// `now + wait`, for a wait that came from the configuration. Validation bounds every configured
/// duration (`ranges`), so this cannot overflow for a loaded `Config`; one built in code is not
/// validated, so past a century this saturates rather than panics.
pub fn deadline<I: Clock>(now: I, wait: Duration) -> I {
    now.checked_add(wait).unwrap_or_else(|| now + CENTURY)
}

/// The instants deadlines are computed on: std's, and tokio's (the output's timers, which tests pause).
pub trait Clock: Copy + Add<Duration, Output = Self> {
    fn checked_add(self, wait: Duration) -> Option<Self>;
}

impl Clock for std::time::Instant {
    fn checked_add(self, wait: Duration) -> Option<Self> {
        std::time::Instant::checked_add(&self, wait)
    }
}

impl Clock for tokio::time::Instant {
    fn checked_add(self, wait: Duration) -> Option<Self> {
        tokio::time::Instant::checked_add(&self, wait)
    }
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    deserializer.deserialize_any(DurationVisitor)
}

/// Written the way README documents it and it is read back: `7d`, `90s`, `5m`.
pub(crate) fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&Shown(*value))
}

/// A duration as one number and the largest unit that divides it exactly (`90s`, not humantime's
/// `1m 30s`; `7d`, not `7days`): the form README uses, which the parser reads back to the same value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shown(pub(crate) Duration);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, u128); 7] = [
            ("d", 86_400_000_000_000),
            ("h", 3_600_000_000_000),
            ("m", 60_000_000_000),
            ("s", 1_000_000_000),
            ("ms", 1_000_000),
            ("us", 1_000),
            ("ns", 1),
        ];
        let nanos = self.0.as_nanos();
        if nanos == 0 {
            return f.write_str("0s");
        }
        let (unit, size) = UNITS
            .into_iter()
            .find(|(_, size)| nanos.is_multiple_of(*size))
            .unwrap_or(("ns", 1));
        write!(f, "{}{unit}", nanos / size)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration, like \"10s\", \"500ms\", \"5m\", or a number of seconds")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        u64::try_from(v)
            .map(Duration::from_secs)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        Duration::try_from_secs_f64(v)
            .map_err(|_| E::invalid_value(de::Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        let t = v.trim();
        if let Ok(secs) = t.parse::<u64>() {
            return Ok(Duration::from_secs(secs));
        }
        humantime::parse_duration(t).map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error, F64Deserializer, I64Deserializer, StrDeserializer};

    fn from_str(s: &str) -> Result<Duration, Error> {
        deserialize(StrDeserializer::<Error>::new(s))
    }

    #[test]
    fn accepts_units_and_plain_seconds() {
        assert_eq!(from_str("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(from_str("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(from_str("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(from_str("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(from_str(" 30 ").unwrap(), Duration::from_secs(30));
        let secs = deserialize(I64Deserializer::<Error>::new(7)).unwrap();
        assert_eq!(secs, Duration::from_secs(7));
        let half = deserialize(F64Deserializer::<Error>::new(0.5)).unwrap();
        assert_eq!(half, Duration::from_millis(500));
    }

    #[test]
    fn rejects_garbage_and_negative_values() {
        assert!(from_str("soon").is_err());
        assert!(from_str("-1s").is_err());
        assert!(deserialize(I64Deserializer::<Error>::new(-1)).is_err());
        assert!(deserialize(F64Deserializer::<Error>::new(-0.5)).is_err());
    }

    #[test]
    fn serializes_as_readme_writes_it_and_parses_back() {
        for (value, text) in [
            (Duration::from_secs(7 * 86_400), "7d"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(300), "5m"),
            (Duration::from_secs(3600), "1h"),
            (Duration::from_secs(1), "1s"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_micros(7), "7us"),
            (Duration::from_nanos(1_000_000_001), "1000000001ns"),
            (Duration::ZERO, "0s"),
        ] {
            let shown = serde_json::to_value(Wrapper(value)).unwrap();
            assert_eq!(shown, text);
            assert_eq!(from_str(text).unwrap(), value, "{text}");
        }
    }

    #[test]
    fn a_deadline_saturates_instead_of_panicking() {
        let now = std::time::Instant::now();
        assert_eq!(
            deadline(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
        assert_eq!(deadline(now, Duration::MAX), now + CENTURY);
    }

    #[derive(serde::Serialize)]
    struct Wrapper(#[serde(serialize_with = "serialize")] Duration);
}
