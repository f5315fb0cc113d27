//! Filebeat's `output.elasticsearch.index`: literal text with `%{+FORMAT}` (the event's date) and
//! `%{[field]}` (a field's value), e.g. `funlynk-logs-%{+yyyy.MM.dd}`.
//!
//! Parsed once at load, checked against Elasticsearch's index name rules so a bad pattern fails at start
//! rather than on every bulk request, and rendered per event with no allocation beyond the output string.
//!
//! Over 400 lines with its tests, which sit below the pattern's 320 lines of code.

use chrono::{DateTime, Datelike, Timelike, Utc};
use thiserror::Error;

use crate::event::Event;

/// Elasticsearch's limit on an index name.
const MAX_INDEX_NAME_BYTES: usize = 255;
/// Characters Elasticsearch rejects anywhere in an index name (`:` since 7.0).
const FORBIDDEN: [char; 12] = ['\\', '/', '*', '?', '"', '<', '>', '|', ',', '#', ':', ' '];
/// Characters an index name must not start with.
const FORBIDDEN_FIRST: [char; 3] = ['-', '_', '+'];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPattern {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Date(Vec<DateItem>),
    /// A dotted field path, read with `Event::get_str`.
    Field(String),
}

/// One element of a Joda-style date format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateItem {
    Year4,
    Year2,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Separator(char),
}

impl DateItem {
    fn width(self) -> usize {
        match self {
            DateItem::Year4 => 4,
            DateItem::Separator(c) => c.len_utf8(),
            _ => 2,
        }
    }
}

/// How far apart two events may be and still go to the same index, so an output renders the name once
/// per bucket rather than once per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// No date and no field: one name for every event.
    Static,
    /// Events in the same bucket of this many nanoseconds since the epoch share a name. UTC days are
    /// exactly 86,400 s of timestamp (no leap seconds), so a floor division finds the bucket.
    Bucket(i64),
    /// A `%{[field]}` makes the name depend on more than time, so it is rendered for every event.
    PerEvent,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid index pattern {pattern:?}: {reason}")]
pub struct IndexPatternError {
    pub pattern: String,
    pub reason: String,
}

/// The event lacks a field the pattern names, so it has no index; the output dead-letters it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("index pattern field {field} is missing, empty or not a string in this event")]
pub struct MissingField {
    pub field: String,
}

impl IndexPattern {
    pub fn parse(s: &str) -> Result<IndexPattern, IndexPatternError> {
        let error = |reason: String| IndexPatternError {
            pattern: s.to_owned(),
            reason,
        };
        let parts = parse_parts(s).map_err(error)?;
        check_name_rules(&parts).map_err(error)?;
        Ok(IndexPattern {
            source: s.to_owned(),
            parts,
        })
    }

    /// Appends this event's index name to `out`. On error `out` is left as it was.
    ///
    /// Field values are lowercased, as Filebeat does, since Elasticsearch rejects uppercase names.
    pub fn render(&self, event: &Event, out: &mut String) -> Result<(), MissingField> {
        let start = out.len();
        let mut date: Option<DateTime<Utc>> = None;
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Date(items) => {
                    let date = *date.get_or_insert_with(|| event.timestamp.to_datetime());
                    render_date(items, date, out);
                }
                Part::Field(path) => match event.get_str(path) {
                    Some(value) if !value.is_empty() => {
                        out.extend(value.chars().flat_map(char::to_lowercase));
                    }
                    _ => {
                        out.truncate(start);
                        return Err(MissingField {
                            field: path.clone(),
                        });
                    }
                },
            }
        }
        Ok(())
    }

    /// True when every event goes to the same index, so the name can be rendered once.
    /// The finest date unit decides: a name that shows hours changes every hour, one that shows only
    /// days (or months, or years) at most once a day.
    pub fn granularity(&self) -> Granularity {
        const SECOND: i64 = 1_000_000_000;
        let mut finest: Option<i64> = None;
        for part in &self.parts {
            match part {
                Part::Literal(_) => {}
                Part::Field(_) => return Granularity::PerEvent,
                Part::Date(items) => {
                    let step = items
                        .iter()
                        .filter_map(|item| match item {
                            DateItem::Second => Some(SECOND),
                            DateItem::Minute => Some(60 * SECOND),
                            DateItem::Hour => Some(3_600 * SECOND),
                            DateItem::Separator(_) => None,
                            _ => Some(86_400 * SECOND),
                        })
                        .min()
                        .unwrap_or(86_400 * SECOND);
                    finest = Some(finest.map_or(step, |f| f.min(step)));
                }
            }
        }
        finest.map_or(Granularity::Static, Granularity::Bucket)
    }

    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

fn parse_parts(s: &str) -> Result<Vec<Part>, String> {
    if s.is_empty() {
        return Err("it is empty".to_owned());
    }
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = s;
    while let Some(at) = rest.find("%{") {
        literal.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after.find('}').ok_or_else(|| {
            format!(
                "`%{{` at byte {} has no closing `}}`",
                s.len() - rest.len() + at
            )
        })?;
        let body = &after[..end];
        if !literal.is_empty() {
            parts.push(Part::Literal(std::mem::take(&mut literal)));
        }
        if let Some(format) = body.strip_prefix('+') {
            parts.push(Part::Date(parse_date(format)?));
        } else if let Some(field) = body.strip_prefix('[').and_then(|b| b.strip_suffix(']')) {
            if field.is_empty() {
                return Err("`%{[]}` names no field".to_owned());
            }
            parts.push(Part::Field(field.to_owned()));
        } else {
            return Err(format!(
                "`%{{{body}}}` is neither a date (`%{{+yyyy.MM.dd}}`) nor a field (`%{{[field]}}`)"
            ));
        }
        rest = &after[end + 1..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok(parts)
}

/// Joda tokens Filebeat users write for daily, monthly or hourly indices; other letters are refused
/// rather than passed through, since a typo would otherwise silently become part of every index name.
fn parse_date(format: &str) -> Result<Vec<DateItem>, String> {
    const SUPPORTED: &str = "supported: yyyy, yy, MM, dd, HH, mm, ss";
    if format.is_empty() {
        return Err("`%{+}` has an empty date format".to_owned());
    }
    let mut items = Vec::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_alphabetic() {
            items.push(DateItem::Separator(c));
            continue;
        }
        let mut run = 1;
        while chars.next_if_eq(&c).is_some() {
            run += 1;
        }
        let item = match (c, run) {
            ('y', 4) => DateItem::Year4,
            ('y', 2) => DateItem::Year2,
            ('M', 2) => DateItem::Month,
            ('d', 2) => DateItem::Day,
            ('H', 2) => DateItem::Hour,
            ('m', 2) => DateItem::Minute,
            ('s', 2) => DateItem::Second,
            ('y' | 'M' | 'd' | 'H' | 'm' | 's', _) => {
                let token: String = std::iter::repeat_n(c, run).collect();
                return Err(format!(
                    "date token `{token}` in `{format}` is not supported ({SUPPORTED})"
                ));
            }
            _ => {
                return Err(format!(
                    "unknown date letter '{c}' in `{format}` ({SUPPORTED})"
                ))
            }
        };
        items.push(item);
    }
    Ok(items)
}

/// The checks Elasticsearch applies to a name, on the parts known before any event is seen.
fn check_name_rules(parts: &[Part]) -> Result<(), String> {
    let mut fixed_bytes = 0;
    for part in parts {
        match part {
            Part::Literal(text) => {
                text.chars().try_for_each(check_char)?;
                fixed_bytes += text.len();
            }
            Part::Date(items) => {
                for item in items {
                    if let DateItem::Separator(c) = item {
                        check_char(*c)?;
                    }
                    fixed_bytes += item.width();
                }
            }
            Part::Field(_) => {}
        }
    }
    let first = match parts.first() {
        Some(Part::Literal(text)) => text.chars().next(),
        Some(Part::Date(items)) => match items.first() {
            Some(DateItem::Separator(c)) => Some(*c),
            _ => None,
        },
        _ => None,
    };
    if let Some(c) = first.filter(|c| FORBIDDEN_FIRST.contains(c)) {
        return Err(format!("an index name must not start with '{c}'"));
    }
    if fixed_bytes > MAX_INDEX_NAME_BYTES {
        return Err(format!(
            "the name is at least {fixed_bytes} bytes long; Elasticsearch allows {MAX_INDEX_NAME_BYTES}"
        ));
    }
    Ok(())
}

fn check_char(c: char) -> Result<(), String> {
    if c.is_uppercase() {
        Err(format!("uppercase '{c}': index names must be lowercase"))
    } else if FORBIDDEN.contains(&c) {
        Err(format!("'{c}' is not allowed in an index name"))
    } else {
        Ok(())
    }
}

fn render_date(items: &[DateItem], date: DateTime<Utc>, out: &mut String) {
    for item in items {
        match *item {
            // Timestamps span years 1677-2262, so the year is always four digits.
            DateItem::Year4 => push_digits(out, date.year().unsigned_abs(), 4),
            DateItem::Year2 => push_digits(out, date.year().unsigned_abs() % 100, 2),
            DateItem::Month => push_digits(out, date.month(), 2),
            DateItem::Day => push_digits(out, date.day(), 2),
            DateItem::Hour => push_digits(out, date.hour(), 2),
            DateItem::Minute => push_digits(out, date.minute(), 2),
            DateItem::Second => push_digits(out, date.second(), 2),
            DateItem::Separator(c) => out.push(c),
        }
    }
}

fn push_digits(out: &mut String, value: u32, width: u32) {
    for power in (0..width).rev() {
        let digit = (value / 10u32.pow(power) % 10) as u8;
        out.push(char::from(b'0' + digit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Field, FieldValue, Origin, Text, Timestamp};

    fn event_at(rfc3339: &str) -> Event {
        Event::new(
            Origin::new("p".into(), Default::default()),
            Timestamp::parse_rfc3339(rfc3339).unwrap(),
            Text::from("m"),
            0,
        )
    }

    fn render(pattern: &str, event: &Event) -> Result<String, MissingField> {
        let mut out = String::from("prefix|");
        IndexPattern::parse(pattern)
            .unwrap()
            .render(event, &mut out)
            .map(|()| out["prefix|".len()..].to_owned())
    }

    #[test]
    fn daily_index_uses_the_utc_date() {
        let pattern = "funlynk-logs-%{+yyyy.MM.dd}";
        let late = event_at("2026-11-24T23:59:59.9Z");
        assert_eq!(render(pattern, &late).unwrap(), "funlynk-logs-2026.11.24");
        let offset = event_at("2026-11-25T00:30:00+01:00");
        assert_eq!(render(pattern, &offset).unwrap(), "funlynk-logs-2026.11.24");
    }

    #[test]
    fn renders_every_token() {
        let event = event_at("2026-01-02T03:04:05Z");
        assert_eq!(
            render("x-%{+yy_yyyy-MM-dd.HH.mm.ss}-y", &event).unwrap(),
            "x-26_2026-01-02.03.04.05-y"
        );
        assert!(!IndexPattern::parse("x-%{+yyyy}").unwrap().is_static());
        let fixed = IndexPattern::parse("logs").unwrap();
        assert!(fixed.is_static());
        assert_eq!(fixed.as_str(), "logs");
    }

    #[test]
    fn fields_are_read_lowercased_and_missing_ones_reported() {
        let mut event = event_at("2026-01-02T03:04:05Z");
        event.fields.push(Field {
            path: "app".into(),
            value: FieldValue::Json(serde_json::json!({"team": "Payments"})),
        });
        assert_eq!(
            render("logs-%{[app.team]}-%{+yyyy}", &event).unwrap(),
            "logs-payments-2026"
        );
        let pattern = IndexPattern::parse("logs-%{[app.owner]}").unwrap();
        let mut out = String::from("kept");
        let err = pattern.render(&event, &mut out).unwrap_err();
        assert_eq!(err.field, "app.owner");
        assert_eq!(out, "kept");
    }

    #[test]
    fn rejects_invalid_patterns() {
        let reason = |p: &str| IndexPattern::parse(p).unwrap_err().reason;
        assert!(reason("Funlynk-%{+yyyy}").contains("lowercase"));
        assert!(reason("logs-%{+yyyy.QQ}").contains("unknown date letter 'Q'"));
        assert!(reason("%{+yyyy").contains("no closing"));
        assert!(reason("_x").contains("must not start with '_'"));
        assert!(reason("-x").contains("must not start"));
        assert!(reason("%{+-yyyy}").contains("must not start"));
        assert!(reason("logs-%{+yyy}").contains("`yyy`"));
        assert!(reason("a/b").contains("'/'"));
        assert!(reason("a b").contains("' '"));
        assert!(reason("logs-%{+yyyy/MM}").contains("'/'"));
        assert!(reason("%{host}").contains("neither"));
        assert!(reason("%{[]}").contains("no field"));
        assert!(reason("").contains("empty"));
        assert!(reason(&"a".repeat(256)).contains("255"));
        assert!(IndexPattern::parse(&"a".repeat(255)).is_ok());
        let err = IndexPattern::parse("_x").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid index pattern \"_x\": an index name must not start with '_'"
        );
    }
}
