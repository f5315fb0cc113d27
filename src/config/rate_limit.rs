//! `rate_limit`: how fast the node, a namespace or a pod may ship, in lines or bytes per second, and
//! what happens beyond it: `delay` (read no faster; the file is the buffer, nothing is lost) or `drop`
//! (what is beyond the limit is dropped and counted). The limit is written as Filebeat's rate_limit
//! processor writes it, `N/s`, `N/m` or `N/h`; a size (`1MiB/s`) limits bytes instead of lines.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::size::{parse_size, Shown};
use super::PodSelector;

/// So many lines, or bytes, per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub amount: u64,
    pub unit: RateUnit,
    /// Seconds: 1, 60 or 3600.
    pub period: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateUnit {
    /// Lines as the runtime wrote them (`delay`), or events after joining (`drop`).
    Lines,
    Bytes,
}

impl Rate {
    pub fn per_second(&self) -> f64 {
        self.amount as f64 / self.period as f64
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Rate, String> {
        let wrong = || {
            format!(
                "{text:?} is not a rate: write lines or a size per s, m or h, like \"1000/s\" or \
                 \"1MiB/s\""
            )
        };
        let (amount, period) = text.trim().split_once('/').ok_or_else(wrong)?;
        let period = match period.trim() {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            _ => return Err(wrong()),
        };
        let amount = amount.trim();
        let unit = if amount.bytes().all(|b| b.is_ascii_digit()) {
            RateUnit::Lines
        } else {
            RateUnit::Bytes
        };
        let amount = match unit {
            RateUnit::Lines => amount.parse().ok(),
            RateUnit::Bytes => parse_size(amount),
        }
        .ok_or_else(wrong)?;
        if amount == 0 {
            return Err(format!(
                "{text:?} allows nothing: a limit must be above zero (remove it to ship nothing \
                 less)"
            ));
        }
        Ok(Rate {
            amount,
            unit,
            period,
        })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let period = match self.period {
            60 => "m",
            3600 => "h",
            _ => "s",
        };
        match self.unit {
            RateUnit::Lines => write!(f, "{}/{period}", self.amount),
            RateUnit::Bytes if Shown(self.amount).to_string().ends_with('B') => {
                write!(f, "{}/{period}", Shown(self.amount))
            }
            RateUnit::Bytes => write!(f, "{}B/{period}", self.amount),
        }
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What happens to what is beyond the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitPolicy {
    /// Read no faster: the lines wait in their file, and ship late rather than not at all.
    #[default]
    Delay,
    /// Lines beyond the limit are dropped, counted as `dropped{reason="rate_limit"}`.
    Drop,
}

impl LimitPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitPolicy::Delay => "delay",
            LimitPolicy::Drop => "drop",
        }
    }
}

/// A limit and its policy, as the `loglynk.io/rate_limit` annotation writes them: `500/s`, or
/// `1MiB/s drop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub rate: Rate,
    pub policy: LimitPolicy,
}

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(text: &str) -> Result<RateLimit, String> {
        let mut words = text.split([' ', ',']).filter(|w| !w.is_empty());
        let rate = words.next().unwrap_or_default().parse()?;
        let policy = match words.next() {
            None | Some("delay") => LimitPolicy::Delay,
            Some("drop") => LimitPolicy::Drop,
            Some(other) => return Err(format!("{other:?} is not a policy: delay or drop")),
        };
        if words.next().is_some() {
            return Err(format!("{text:?}: a rate and a policy at most"));
        }
        Ok(RateLimit { rate, policy })
    }
}

/// Who one limit is counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitScope {
    /// Every file of the node together.
    Node,
    /// Each namespace's files together.
    Namespace,
    /// Each pod's files (all its containers) together.
    #[default]
    Pod,
}

impl LimitScope {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitScope::Node => "node",
            LimitScope::Namespace => "namespace",
            LimitScope::Pod => "pod",
        }
    }
}

/// One entry of `rate_limit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitRule {
    /// `node`, `namespace` or `pod` (the default): what the limit is counted over.
    #[serde(default)]
    pub per: LimitScope,
    pub limit: Rate,
    #[serde(default)]
    pub policy: LimitPolicy,
    /// Only the pods (containers) one of these selects; empty: every pod.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<PodSelector>,
}

impl RateLimitRule {
    /// Whether the rule applies to a container (see [`PodSelector::matches`]).
    pub fn applies_to(
        &self,
        namespace: Option<&str>,
        labels: Option<&BTreeMap<String, String>>,
        container: Option<&str>,
    ) -> bool {
        self.pods.is_empty()
            || self
                .pods
                .iter()
                .any(|s| s.matches(namespace, labels, container))
    }

    /// Whether deciding needs the pod's labels.
    pub fn uses_labels(&self) -> bool {
        self.pods.iter().any(PodSelector::uses_labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_or_bytes_per_second_minute_or_hour() {
        let rate: Rate = "1000/s".parse().unwrap();
        assert_eq!(
            (rate.amount, rate.unit, rate.period),
            (1000, RateUnit::Lines, 1)
        );
        let rate: Rate = "1MiB/s".parse().unwrap();
        assert_eq!((rate.amount, rate.unit), (1 << 20, RateUnit::Bytes));
        let rate: Rate = " 600 / m ".parse().unwrap();
        assert_eq!(rate.per_second(), 10.0);
        assert_eq!("36000/h".parse::<Rate>().unwrap().per_second(), 10.0);
        for bad in [
            "", "1000", "1000/d", "x/s", "0/s", "0MiB/s", "-1/s", "1/s/s",
        ] {
            assert!(bad.parse::<Rate>().is_err(), "{bad:?} accepted");
        }
        for text in ["1000/s", "5MiB/s", "1500B/m", "10/h"] {
            assert_eq!(text.parse::<Rate>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn an_annotation_is_a_rate_and_maybe_a_policy() {
        let limit: RateLimit = "500/s".parse().unwrap();
        assert_eq!(limit.policy, LimitPolicy::Delay);
        let limit: RateLimit = "1MiB/s drop".parse().unwrap();
        assert_eq!(
            (limit.rate.unit, limit.policy),
            (RateUnit::Bytes, LimitPolicy::Drop)
        );
        assert_eq!(
            "2/s,drop".parse::<RateLimit>().unwrap().policy,
            LimitPolicy::Drop
        );
        for bad in ["", "drop", "500/s throttle", "500/s drop now"] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad:?} accepted");
        }
    }
}
