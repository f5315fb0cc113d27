//! The checks' results and how they are printed: one line a check, `✓` or `✗`, what was found and the
//! fix; or one JSON document for scripts.

use std::fmt::Write as _;

use serde::Serialize;

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// What was found, passing or not.
    pub found: String,
    /// What to do about a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// More lines where one is not enough: a diff, the unreadable files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl Check {
    pub fn pass(name: impl Into<String>, found: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            ok: true,
            found: found.into(),
            fix: None,
            details: Vec::new(),
        }
    }

    pub fn fail(
        name: impl Into<String>,
        found: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            name: name.into(),
            ok: false,
            found: found.into(),
            fix: Some(fix.into()),
            details: Vec::new(),
        }
    }

    pub fn with_details(mut self, details: Vec<String>) -> Check {
        self.details = details;
        self
    }
}

/// Every check, in the order they ran.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<Check>,
}

/// Details beyond this many lines are summarized: a template that differs everywhere is not read
/// line by line on a terminal.
const MAX_DETAILS: usize = 20;

impl Report {
    pub fn push(&mut self, check: Check) {
        self.checks.push(check);
        self.ok = self.checks.iter().all(|c| c.ok);
    }

    /// The checks that failed.
    pub fn failed(&self) -> usize {
        self.checks.iter().filter(|c| !c.ok).count()
    }

    /// One line a check, with its details indented below it, and a last line counting failures.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for check in &self.checks {
            let mark = if check.ok { '✓' } else { '✗' };
            let _ = write!(out, "{mark} {}: {}", check.name, check.found);
            if let Some(fix) = &check.fix {
                let _ = write!(out, " → fix: {fix}");
            }
            out.push('\n');
            for line in check.details.iter().take(MAX_DETAILS) {
                let _ = writeln!(out, "    {line}");
            }
            if check.details.len() > MAX_DETAILS {
                let more = check.details.len() - MAX_DETAILS;
                let _ = writeln!(out, "    … and {more} more (--format json has them all)");
            }
        }
        match self.failed() {
            0 => {
                let _ = writeln!(out, "all {} checks passed", self.checks.len());
            }
            failed => {
                let _ = writeln!(out, "{failed} of {} checks failed", self.checks.len());
            }
        }
        out
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            format!("{{\"ok\":false,\"error\":\"cannot encode the report: {e}\"}}")
        });
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_shows_its_fix_and_fails_the_report() {
        let mut report = Report::default();
        report.push(Check::pass("config", "built-in defaults: valid"));
        assert!(report.ok);
        report.push(
            Check::fail("state_dir", "/x is not writable", "mount it read-write")
                .with_details(vec!["a".into()]),
        );
        assert!(!report.ok);
        assert_eq!(
            report.to_text(),
            "✓ config: built-in defaults: valid\n\
             ✗ state_dir: /x is not writable → fix: mount it read-write\n    a\n\
             1 of 2 checks failed\n"
        );
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["ok"], false);
        assert_eq!(json["checks"][1]["fix"], "mount it read-write");
        assert!(json["checks"][0].get("fix").is_none());
    }
}
