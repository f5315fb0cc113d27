//! Byte sizes: an integer, or a number with a unit as go-humanize (and so Filebeat) reads them:
//! `k`/`kb` = 1000, `ki`/`kib` = 1024, likewise `m`, `g`, `t`; case does not matter, a fraction is
//! allowed (`1.5MiB`).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;

/// Parses a size; `None` for anything malformed or beyond `u64`.
pub(crate) fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(number_end);
    let multiplier = multiplier(&unit.trim().to_ascii_lowercase())?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 18 {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction_value: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    let scale = 10u128.pow(fraction.len() as u32);
    let bytes = whole
        .checked_mul(multiplier)?
        .checked_add(fraction_value * multiplier / scale)?;
    u64::try_from(bytes).ok()
}

fn multiplier(unit: &str) -> Option<u128> {
    let (power, base) = match unit {
        "" | "b" => return Some(1),
        "k" | "kb" => (1, 1000),
        "ki" | "kib" => (1, 1024),
        "m" | "mb" => (2, 1000),
        "mi" | "mib" => (2, 1024),
        "g" | "gb" => (3, 1000),
        "gi" | "gib" => (3, 1024),
        "t" | "tb" => (4, 1000),
        "ti" | "tib" => (4, 1024),
        _ => return None,
    };
    Some(u128::pow(base, power))
}

/// For `#[serde(deserialize_with)]`: an integer or a size string.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    deserializer.deserialize_any(SizeVisitor)
}

/// For `#[serde(serialize_with)]`: `32MiB` where a binary unit divides the size exactly, as README
/// writes the defaults, else the number of bytes; either loads back to the same value.
pub(crate) fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    match Shown(*value).unit() {
        Some(_) => serializer.collect_str(&Shown(*value)),
        None => serializer.serialize_u64(*value),
    }
}

/// A size with the largest binary unit that divides it exactly (`5MiB`), else in bytes (`1000`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shown(pub(crate) u64);

impl Shown {
    fn unit(self) -> Option<(&'static str, u64)> {
        const UNITS: [(&str, u64); 4] = [
            ("TiB", 1 << 40),
            ("GiB", 1 << 30),
            ("MiB", 1 << 20),
            ("KiB", 1 << 10),
        ];
        UNITS
            .into_iter()
            .find(|(_, size)| self.0 >= *size && self.0.is_multiple_of(*size))
    }
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit() {
            Some((unit, size)) => write!(f, "{}{unit}", self.0 / size),
            None => write!(f, "{}", self.0),
        }
    }
}

struct SizeVisitor;

impl Visitor<'_> for SizeVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a size in bytes, like 1048576, \"512KiB\" or \"1MiB\"")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        parse_size(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_and_decimal_units() {
        assert_eq!(parse_size("2048"), Some(2048));
        assert_eq!(parse_size("1MiB"), Some(1 << 20));
        assert_eq!(parse_size("512KiB"), Some(512 * 1024));
        assert_eq!(parse_size("5MB"), Some(5_000_000));
        assert_eq!(parse_size("10kb"), Some(10_000));
        assert_eq!(parse_size(" 64 mib "), Some(64 << 20));
        assert_eq!(parse_size("1.5MiB"), Some(3 << 19));
        assert_eq!(parse_size("1Gi"), Some(1 << 30));
        assert_eq!(parse_size("7b"), Some(7));
    }

    #[test]
    fn shows_the_largest_exact_binary_unit_and_parses_back() {
        for (value, text) in [
            (32 << 20, "32MiB"),
            (5 << 20, "5MiB"),
            (100 << 20, "100MiB"),
            (1 << 40, "1TiB"),
            (3072, "3KiB"),
            (1536, "1536"),
            (1000, "1000"),
            (0, "0"),
            (u64::MAX, "18446744073709551615"),
        ] {
            assert_eq!(Shown(value).to_string(), text);
            assert_eq!(parse_size(text), Some(value), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_and_overflowing_sizes() {
        for bad in [
            "",
            "MiB",
            "1 parsec",
            "-1",
            "1.2.3k",
            ".",
            "1e6",
            "99999999999TiB",
        ] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }
}
