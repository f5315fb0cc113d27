//! Elasticsearch's time values (`30d`, `12h`, `0ms`) and byte sizes (`5gb`), parsed and printed the way
//! `TimeValue` and `ByteSizeValue` do, with their messages: ILM policies and index settings take both,
//! and `GET` answers print them back normalized (`50GB` comes back as `50gb`, `0` as `0ms`).

use super::errors::EsError;

/// A parsed time value: its amount in the unit it was written in, and that unit's suffix.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeValue {
    pub amount: i64,
    pub suffix: &'static str,
}

/// Nanoseconds per unit, largest first; the suffixes `TimeValue.parseTimeValue` knows.
const TIME_UNITS: [(&str, i128); 7] = [
    ("d", 86_400_000_000_000),
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("micros", 1_000),
    ("nanos", 1),
];

impl TimeValue {
    pub fn millis(&self) -> i64 {
        let nanos = TIME_UNITS
            .iter()
            .find(|(s, _)| *s == self.suffix)
            .map_or(1, |(_, n)| *n);
        (i128::from(self.amount) * nanos / 1_000_000) as i64
    }

    /// `getStringRep`: how Elasticsearch prints it back.
    pub fn string_rep(&self) -> String {
        if self.amount < 0 {
            return self.amount.to_string();
        }
        format!("{}{}", self.amount, self.suffix)
    }
}

/// `TimeValue.parseTimeValue(text, setting)`; `Err` is the `parse_exception` Elasticsearch throws.
pub fn parse_time(text: &str, setting: &str) -> Result<TimeValue, EsError> {
    let fail = |why: &str| {
        EsError::new(
            "parse_exception",
            format!("failed to parse setting [{setting}] with value [{text}] as a time value{why}"),
        )
    };
    let normalized = text.trim().to_ascii_lowercase();
    match normalized.as_str() {
        "0" => {
            return Ok(TimeValue {
                amount: 0,
                suffix: "ms",
            })
        }
        "-1" => {
            return Ok(TimeValue {
                amount: -1,
                suffix: "ms",
            })
        }
        _ => {}
    }
    // Longest suffix first, so "ms" is not read as "s" after a number ending in "m".
    let mut suffixes: Vec<&str> = TIME_UNITS.iter().map(|(s, _)| *s).collect();
    suffixes.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let Some(suffix) = suffixes.into_iter().find(|s| normalized.ends_with(s)) else {
        return Err(fail(": unit is missing or unrecognized"));
    };
    let number = normalized[..normalized.len() - suffix.len()].trim();
    let amount = match number.parse::<i64>() {
        Ok(n) => n,
        Err(_) if number.parse::<f64>().is_ok() => {
            return Err(fail(": fractional time values are not supported"))
        }
        Err(_) => return Err(fail("")),
    };
    if amount < 0 {
        return Err(fail(": negative durations are not supported"));
    }
    let suffix = TIME_UNITS
        .iter()
        .map(|(s, _)| *s)
        .find(|s| *s == suffix)
        .unwrap_or("ms");
    Ok(TimeValue { amount, suffix })
}

/// `TimeValue.toHumanReadableString(digits)` (ILM's `age` uses 2, `toString` 1): the largest unit
/// that fits, with up to `digits` fraction digits cut (not rounded), none when those are zero.
pub fn human_readable(millis: i64, digits: usize) -> String {
    if millis < 0 {
        return millis.to_string();
    }
    let nanos = i128::from(millis) * 1_000_000;
    if nanos == 0 {
        return "0s".to_string();
    }
    let (unit, per) = TIME_UNITS
        .iter()
        .find(|(_, per)| nanos >= *per)
        .copied()
        .unwrap_or(("nanos", 1));
    let value = nanos as f64 / per as f64;
    let text = format!("{value:?}");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let kept: String = fraction.chars().take(digits).collect();
    if kept.trim_end_matches('0').is_empty() {
        format!("{whole}{unit}")
    } else {
        format!("{whole}.{kept}{unit}")
    }
}

/// Byte-size suffixes `ByteSizeValue.parseBytesSizeValue` knows, longest first, with what each is
/// printed back as.
const BYTE_UNITS: [(&str, &str); 11] = [
    ("kb", "kb"),
    ("mb", "mb"),
    ("gb", "gb"),
    ("tb", "tb"),
    ("pb", "pb"),
    ("k", "kb"),
    ("m", "mb"),
    ("g", "gb"),
    ("t", "tb"),
    ("p", "pb"),
    ("b", "b"),
];

/// `ByteSizeValue.parseBytesSizeValue(text, setting)`; `Ok` is its string rep (`5GB` → `5gb`).
pub fn parse_bytes(text: &str, setting: &str) -> Result<String, EsError> {
    let fail = |why: &str| {
        EsError::new(
            "parse_exception",
            format!(
                "failed to parse setting [{setting}] with value [{text}] as a size in bytes{why}"
            ),
        )
    };
    let normalized = text.trim().to_ascii_lowercase();
    match normalized.as_str() {
        "0" => return Ok("0b".to_string()),
        "-1" => return Ok("-1".to_string()),
        _ => {}
    }
    let Some((suffix, printed)) = BYTE_UNITS.iter().find(|(s, _)| normalized.ends_with(s)) else {
        return Err(fail(": unit is missing or unrecognized"));
    };
    let number = normalized[..normalized.len() - suffix.len()].trim();
    match number.parse::<i64>() {
        Ok(n) if n < 0 => Err(fail("")),
        Ok(n) => Ok(format!("{n}{printed}")),
        // Fractions are allowed (deprecated); Elasticsearch prints them back in bytes, this keeps them.
        Err(_) if number.parse::<f64>().is_ok_and(|f| f >= 0.0) => Ok(normalized),
        Err(_) => Err(fail("")),
    }
}
