//! Date math in index names (`<funlynk-logs-{now/d}-000001>` → `funlynk-logs-2026.11.24-000001`), as
//! `IndexNameExpressionResolver.DateMathExpressionResolver` reads it: static text with `\`-escapes,
//! and `{math{format|zone}}` parts. Supported: `now` with `+N`/`-N` offsets and `/unit` rounding
//! (units `y M w d h H m s`), java-style formats made of `yyyy uuuu yy MM M dd d HH H mm ss SSS`,
//! quoted text and punctuation, and fixed-offset zones (`UTC`, `Z`, `+01:00`); the default format is
//! `uuuu.MM.dd` in UTC, as in Elasticsearch. Named zones (`Europe/Paris`) are refused.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, Months, NaiveDate, TimeZone, Timelike, Utc,
};

use super::errors::EsError;

const DEFAULT_FORMAT: &str = "uuuu.MM.dd";

/// The name with its date math resolved; names not in `<…>` are returned as they are.
pub fn resolve(name: &str, now: DateTime<Utc>) -> Result<String, EsError> {
    let Some(inner) = name.strip_prefix('<').and_then(|n| n.strip_suffix('>')) else {
        return Ok(name.to_string());
    };
    let chars: Vec<char> = inner.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '{' => {
                let end = closing(&chars, i).ok_or_else(|| invalid(inner, i))?;
                let expression: String = chars[i + 1..end].iter().collect();
                out.push_str(&evaluate(&expression, now, inner)?);
                i = end + 1;
            }
            '}' => return Err(invalid(inner, i)),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// The `}` closing the `{` at `start`, allowing one nested `{format}`.
fn closing(chars: &[char], start: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in chars.iter().enumerate().skip(start) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn invalid(expression: &str, position: usize) -> EsError {
    EsError::new(
        "parse_exception",
        format!(
            "invalid dynamic name expression [{expression}]. invalid character at position \
             [{position}]. `{{` and `}}` are reserved characters and should be escaped when used as \
             part of the index name using `\\` (e.g. `\\{{text\\}}`)"
        ),
    )
}

fn evaluate(expression: &str, now: DateTime<Utc>, whole: &str) -> Result<String, EsError> {
    let (math, format) = match expression.split_once('{') {
        None => (expression, DEFAULT_FORMAT.to_string()),
        Some((math, rest)) => {
            let format = rest.strip_suffix('}').ok_or_else(|| invalid(whole, 0))?;
            (math, format.to_string())
        }
    };
    let (pattern, zone) = match format.split_once('|') {
        None => (format.as_str(), "UTC"),
        Some((pattern, zone)) => (pattern, zone),
    };
    let pattern = if pattern.is_empty() {
        DEFAULT_FORMAT
    } else {
        pattern
    };
    let offset = parse_zone(zone)?;
    let local = now.with_timezone(&offset);
    let instant = apply_math(math, local)?;
    format_date(pattern, instant)
}

fn parse_zone(zone: &str) -> Result<FixedOffset, EsError> {
    let unsupported = || {
        EsError::new(
            "illegal_argument_exception",
            format!("the test server supports only fixed-offset time zones, not [{zone}]"),
        )
    };
    if zone == "UTC" || zone == "Z" {
        return FixedOffset::east_opt(0).ok_or_else(unsupported);
    }
    let sign = match zone.chars().next() {
        Some('+') => 1,
        Some('-') => -1,
        _ => return Err(unsupported()),
    };
    let (hours, minutes) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
    let hours: i32 = hours.parse().map_err(|_| unsupported())?;
    let minutes: i32 = minutes.parse().map_err(|_| unsupported())?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).ok_or_else(unsupported)
}

fn math_error(math: &str, why: &str) -> EsError {
    EsError::new(
        "parse_exception",
        format!("failed to parse date math [{math}]: {why}"),
    )
}

fn apply_math(math: &str, now: DateTime<FixedOffset>) -> Result<DateTime<FixedOffset>, EsError> {
    let Some(mut rest) = math.strip_prefix("now") else {
        return Err(math_error(
            math,
            "the index name date math must start with [now]",
        ));
    };
    let mut time = now;
    while let Some(op) = rest.chars().next() {
        rest = &rest[op.len_utf8()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        rest = &rest[digits.len()..];
        let unit = rest
            .chars()
            .next()
            .ok_or_else(|| math_error(math, "missing unit"))?;
        rest = &rest[unit.len_utf8()..];
        time = match op {
            '/' if digits.is_empty() => {
                round_down(time, unit).ok_or_else(|| math_error(math, "bad unit"))?
            }
            '+' | '-' if !digits.is_empty() => {
                let amount: i64 = digits.parse().map_err(|_| math_error(math, "bad amount"))?;
                let amount = if op == '-' { -amount } else { amount };
                shift(time, amount, unit).ok_or_else(|| math_error(math, "bad unit"))?
            }
            _ => return Err(math_error(math, &format!("operator not supported [{op}]"))),
        };
    }
    Ok(time)
}

fn shift(time: DateTime<FixedOffset>, amount: i64, unit: char) -> Option<DateTime<FixedOffset>> {
    let months = |n: i64| {
        let m = Months::new(n.unsigned_abs() as u32);
        if n >= 0 {
            time.checked_add_months(m)
        } else {
            time.checked_sub_months(m)
        }
    };
    match unit {
        'y' => months(amount * 12),
        'M' => months(amount),
        'w' => Some(time + Duration::weeks(amount)),
        'd' => Some(time + Duration::days(amount)),
        'h' | 'H' => Some(time + Duration::hours(amount)),
        'm' => Some(time + Duration::minutes(amount)),
        's' => Some(time + Duration::seconds(amount)),
        _ => None,
    }
}

fn round_down(time: DateTime<FixedOffset>, unit: char) -> Option<DateTime<FixedOffset>> {
    let date = time.date_naive();
    let day = |d: NaiveDate| {
        time.timezone()
            .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
            .single()
    };
    match unit {
        'y' => day(NaiveDate::from_ymd_opt(date.year(), 1, 1)?),
        'M' => day(NaiveDate::from_ymd_opt(date.year(), date.month(), 1)?),
        'w' => day(date - Duration::days(i64::from(date.weekday().num_days_from_monday()))),
        'd' => day(date),
        'h' | 'H' => time.with_minute(0)?.with_second(0)?.with_nanosecond(0),
        'm' => time.with_second(0)?.with_nanosecond(0),
        's' => time.with_nanosecond(0),
        _ => None,
    }
}

/// A java `DateTimeFormatter` pattern, for the letters index names use.
fn format_date(pattern: &str, time: DateTime<FixedOffset>) -> Result<String, EsError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let end = chars[i + 1..]
                .iter()
                .position(|&q| q == '\'')
                .map(|p| p + i + 1);
            let end = end.unwrap_or(chars.len());
            out.extend(&chars[i + 1..end]);
            i = end + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        let text = match (c, run) {
            ('y' | 'u', 2) => format!("{:02}", time.year() % 100),
            ('y' | 'u', _) => format!("{:0run$}", time.year()),
            ('M', 1) => time.month().to_string(),
            ('M', 2) => format!("{:02}", time.month()),
            ('d', 1) => time.day().to_string(),
            ('d', 2) => format!("{:02}", time.day()),
            ('H', 1) => time.hour().to_string(),
            ('H', 2) => format!("{:02}", time.hour()),
            ('m', 2) => format!("{:02}", time.minute()),
            ('s', 2) => format!("{:02}", time.second()),
            ('S', n) => format!("{:09}", time.nanosecond())[..n.min(9)].to_string(),
            _ => {
                return Err(EsError::new(
                    "illegal_argument_exception",
                    format!(
                        "Invalid format: [{pattern}]: the test server does not support [{}]",
                        c.to_string().repeat(run)
                    ),
                ))
            }
        };
        out.push_str(&text);
        i += run;
    }
    Ok(out)
}
