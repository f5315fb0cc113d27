//! Which REST API version requests ask for: `compatible-with=<major>` in `Accept` and `Content-Type`.
//!
//! Each major answers its own version and the one before (an 8.x node takes 8 and 7, a 9.x node 9 and
//! 8) and refuses the others with a 400 (`media_type_header_exception`). So the client starts with 8,
//! which both take, and once `GET /` said the cluster runs 9.x, asks for 9: the cluster then answers
//! natively rather than emulating 8.x, and an agent need not change when the cluster is upgraded.

use std::sync::atomic::{AtomicU8, Ordering};

use elasticsearch::http::headers::HeaderValue;

/// The majors loglynk speaks: asked for as is; anything older is asked for as 8 (7.17 takes it in its
/// compatibility mode), anything newer as 9, its own predecessor.
const OLDEST: u8 = 8;
const NEWEST: u8 = 9;

/// The version asked for, shared by every request of one client.
#[derive(Debug)]
pub(super) struct Compat(AtomicU8);

impl Default for Compat {
    fn default() -> Compat {
        Compat(AtomicU8::new(OLDEST))
    }
}

impl Compat {
    /// Ask for what a node of `version` (`GET /`'s `version.number`) answers natively.
    pub(super) fn learn(&self, version: &str) {
        let major = major_of(version).unwrap_or(u32::from(OLDEST));
        let asked = major.clamp(u32::from(OLDEST), u32::from(NEWEST)) as u8;
        self.0.store(asked, Ordering::Relaxed);
    }

    pub(super) fn major(&self) -> u8 {
        self.0.load(Ordering::Relaxed)
    }

    pub(super) fn json(&self) -> HeaderValue {
        HeaderValue::from_static(match self.major() {
            9 => "application/vnd.elasticsearch+json; compatible-with=9",
            _ => "application/vnd.elasticsearch+json; compatible-with=8",
        })
    }

    pub(super) fn ndjson(&self) -> HeaderValue {
        HeaderValue::from_static(match self.major() {
            9 => "application/vnd.elasticsearch+x-ndjson; compatible-with=9",
            _ => "application/vnd.elasticsearch+x-ndjson; compatible-with=8",
        })
    }
}

/// The major of a version number (`8.17.1`, `9.1.0-SNAPSHOT`).
pub fn major_of(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_major_is_asked_for_as_it_answers_natively() {
        let compat = Compat::default();
        let asked = |c: &Compat| c.json().to_str().unwrap().to_owned();
        assert_eq!(compat.major(), 8, "before GET / answered");
        for (version, major) in [
            ("9.1.0", 9),
            ("8.17.1", 8),
            ("9.0.0-SNAPSHOT", 9),
            ("7.17.25", 8),
            ("10.0.0", 9),
            ("garbage", 8),
        ] {
            compat.learn(version);
            assert_eq!(compat.major(), major, "{version}");
            assert!(asked(&compat).ends_with(&format!("compatible-with={major}")));
            assert!(compat
                .ndjson()
                .to_str()
                .unwrap()
                .starts_with("application/vnd.elasticsearch+x-ndjson; "));
        }
    }
}
