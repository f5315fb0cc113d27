//! What the configuration says to do with a file's lines: its `multiline` settings, compiled once,
//! chosen per file by the glob of its path.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;

use super::auto::{self, State, Verdict};
use crate::config::{Multiline, MultilineMatch, MultilineType};

/// One file's way of grouping lines.
#[derive(Debug)]
pub struct MultilinePlan {
    pub(super) mode: Mode,
    pub(super) max_lines: usize,
    pub(super) max_bytes: usize,
    pub(super) timeout: Duration,
}

#[derive(Debug)]
pub(super) enum Mode {
    None,
    Auto,
    Pattern {
        pattern: Regex,
        negate: bool,
        before: bool,
        flush: Option<Regex>,
    },
    Count(usize),
    While {
        pattern: Regex,
        negate: bool,
    },
}

/// What a line does to its stream's group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Joins the open group.
    Join(State),
    /// Joins the open group, which then ships (`flush_pattern`, `count_lines`).
    JoinEnd(State),
    /// Joins only if the next line continues the group (a blank line inside a trace).
    Tentative(State),
    /// The open group ships; this line starts the next.
    Start(State),
    /// The open group ships, and this line on its own.
    Alone,
}

impl MultilinePlan {
    /// The plan of `settings` (their `rules` aside); `max_bytes` defaults to `max_line_bytes`.
    pub fn new(settings: &Multiline, max_line_bytes: u64) -> Arc<MultilinePlan> {
        let pattern = || settings.pattern.as_ref().map(|p| p.regex().clone());
        let mode = match settings.kind {
            MultilineType::None => Mode::None,
            MultilineType::Auto => Mode::Auto,
            MultilineType::Pattern => match pattern() {
                Some(pattern) => Mode::Pattern {
                    pattern,
                    negate: settings.negate,
                    before: settings.match_ == MultilineMatch::Before,
                    flush: settings.flush_pattern.as_ref().map(|p| p.regex().clone()),
                },
                // Validation requires a pattern; a plan built in code without one joins nothing.
                None => Mode::None,
            },
            MultilineType::Count => Mode::Count(settings.count_lines.unwrap_or(1).max(1)),
            MultilineType::WhilePattern => match pattern() {
                Some(pattern) => Mode::While {
                    pattern,
                    negate: settings.negate,
                },
                None => Mode::None,
            },
        };
        let max_bytes = settings.max_bytes.unwrap_or(max_line_bytes);
        Arc::new(MultilinePlan {
            mode,
            max_lines: settings.max_lines.max(1),
            max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            timeout: settings.timeout,
        })
    }

    /// Every line its own event.
    pub fn none() -> Arc<MultilinePlan> {
        Arc::new(MultilinePlan {
            mode: Mode::None,
            max_lines: 1,
            max_bytes: usize::MAX,
            timeout: Duration::MAX,
        })
    }

    /// What `line` does, after a group whose state, last line and line count are `open`.
    pub(super) fn step(&self, open: Option<(State, &str, usize)>, line: &str) -> Step {
        // A structured logger's line is a whole event: never joined, in any mode.
        if is_json_object(line) {
            return Step::Alone;
        }
        let matches = |pattern: &Regex, text: &str, negate: bool| pattern.is_match(text) != negate;
        match (&self.mode, open) {
            (Mode::None, _) => Step::Alone,
            (Mode::Auto, None) => Step::Start(auto::start(line)),
            (Mode::Auto, Some((state, _, _))) => match auto::continues(state, line) {
                Verdict::Join(next) => Step::Join(next),
                Verdict::Tentative(next) => Step::Tentative(next),
                Verdict::Not => Step::Start(auto::start(line)),
            },
            (Mode::Pattern { .. }, None) => Step::Start(State::Head),
            (
                Mode::Pattern {
                    pattern,
                    negate,
                    before,
                    flush,
                },
                Some((_, last, _)),
            ) => {
                if flush.as_ref().is_some_and(|f| f.is_match(line)) {
                    Step::JoinEnd(State::Head)
                } else if matches(pattern, if *before { last } else { line }, *negate) {
                    Step::Join(State::Head)
                } else {
                    Step::Start(State::Head)
                }
            }
            (Mode::Count(1), _) => Step::Alone,
            (Mode::Count(_), None) => Step::Start(State::Head),
            (Mode::Count(n), Some((_, _, lines))) if lines + 1 >= *n => Step::JoinEnd(State::Head),
            (Mode::Count(_), Some(_)) => Step::Join(State::Head),
            (Mode::While { pattern, negate }, open) => {
                match (matches(pattern, line, *negate), open) {
                    (false, _) => Step::Alone,
                    (true, None) => Step::Start(State::Head),
                    (true, Some(_)) => Step::Join(State::Head),
                }
            }
        }
    }
}

/// `{…}` around the text (spaces aside): the shape of a JSON object, which decode_json checks in full.
fn is_json_object(line: &str) -> bool {
    let line = line.trim_ascii();
    line.starts_with('{') && line.ends_with('}')
}

/// Each file's plan: the first of `multiline.rules` whose globs match its path, else the section's own.
#[derive(Debug, Clone)]
pub struct MultilineRules {
    default: Arc<MultilinePlan>,
    rules: Vec<(Vec<glob::Pattern>, Arc<MultilinePlan>)>,
}

impl MultilineRules {
    pub fn new(config: &Multiline, max_line_bytes: u64) -> MultilineRules {
        let rules = config
            .rules
            .iter()
            .map(|rule| {
                // Validation checked the globs; one that does not compile matches nothing.
                let globs = rule
                    .paths
                    .iter()
                    .filter_map(|p| glob::Pattern::new(p).ok())
                    .collect();
                (globs, MultilinePlan::new(rule, max_line_bytes))
            })
            .collect();
        MultilineRules {
            default: MultilinePlan::new(config, max_line_bytes),
            rules,
        }
    }

    /// No joining for any file.
    pub fn none() -> MultilineRules {
        MultilineRules {
            default: MultilinePlan::none(),
            rules: Vec::new(),
        }
    }

    /// The plan for the file at `path` (as discovered, e.g. the `/var/log/containers` link). A `*`
    /// does not match `/`, as in Filebeat's globs.
    pub fn for_path(&self, path: &Path) -> Arc<MultilinePlan> {
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..glob::MatchOptions::new()
        };
        self.rules
            .iter()
            .find(|(globs, _)| globs.iter().any(|g| g.matches_path_with(path, options)))
            .map_or(&self.default, |(_, plan)| plan)
            .clone()
    }
}
