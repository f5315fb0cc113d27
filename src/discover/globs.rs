//! Expanding the configured globs into the set of files to tail.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error)]
#[error("invalid path pattern {pattern:?}: {cause}")]
pub struct PatternError {
    pattern: String,
    cause: glob::PatternError,
}

/// Whether `pattern` is a glob [`Globs`] can expand, so a command line can be refused before anything
/// starts.
pub fn check_pattern(pattern: &str) -> Result<(), PatternError> {
    glob::Pattern::new(pattern)
        .map(drop)
        .map_err(|cause| PatternError {
            pattern: pattern.to_owned(),
            cause,
        })
}

/// `tail --no-follow` has nothing to read: no path or glob matched a file.
#[derive(Debug, Error)]
#[error("nothing to read: no file matches {}", .patterns.join(", "))]
pub struct NothingMatched {
    pub patterns: Vec<String>,
}

/// The configured patterns, and what they matched at the last scan.
#[derive(Debug)]
pub struct Globs {
    patterns: Vec<String>,
    matched: BTreeSet<PathBuf>,
    scanned: bool,
    /// Per pattern: it matched nothing at the first scan, and nothing since.
    waiting: Vec<bool>,
}

/// What changed between two scans.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScanDelta {
    pub added: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    /// At the first scan: the patterns that match no file (a typo, or files still to come).
    pub unmatched: Vec<String>,
    /// Patterns that matched nothing until this scan and match a file now.
    pub now_matching: Vec<String>,
}

impl Globs {
    pub fn new(patterns: &[String]) -> Result<Globs, PatternError> {
        for pattern in patterns {
            check_pattern(pattern)?;
        }
        Ok(Globs {
            patterns: patterns.to_vec(),
            matched: BTreeSet::new(),
            scanned: false,
            waiting: vec![false; patterns.len()],
        })
    }

    /// The directories whose entries decide what the patterns match: each pattern's longest leading part
    /// without wildcards. Watching them reports new files without waiting for the next scan.
    pub fn base_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self.patterns.iter().map(|p| base_dir(p)).collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// Where a discovered file may be, symlinks resolved: each pattern's base directory, kubelet's
    /// `pods` directory beside a `containers` one (where its symlinks point), and `extra`. Canonical
    /// paths; roots that do not exist (yet) are left out until they do.
    pub fn log_roots(&self, extra: &[PathBuf]) -> Vec<PathBuf> {
        let mut roots: Vec<PathBuf> = Vec::new();
        for base in self.base_dirs() {
            if base.file_name().is_some_and(|n| n == "containers") {
                roots.push(base.with_file_name("pods"));
            }
            roots.push(base);
        }
        roots.extend(extra.iter().cloned());
        let mut roots: Vec<PathBuf> = roots
            .iter()
            .filter_map(|r| std::fs::canonicalize(r).ok())
            .collect();
        roots.sort();
        roots.dedup();
        roots
    }

    /// Expands the patterns again. Only files (or links to files) count; a dangling link does not.
    /// A pattern that matches nothing is reported at the first scan only, and again once it matches:
    /// the agent's default glob may rightly match nothing for a while on a fresh node.
    pub fn scan(&mut self) -> ScanDelta {
        let first = !std::mem::replace(&mut self.scanned, true);
        let mut delta = ScanDelta::default();
        let mut now = BTreeSet::new();
        for (pattern, waiting) in self.patterns.iter().zip(&mut self.waiting) {
            let Ok(paths) = glob::glob(pattern) else {
                continue; // validated in `new`
            };
            // Unreadable directories along the way are skipped; the next scan tries again.
            let mut found = false;
            for path in paths.flatten().filter(|p| p.is_file()) {
                found = true;
                now.insert(path);
            }
            if first && !found {
                *waiting = true;
                delta.unmatched.push(pattern.clone());
            } else if *waiting && found {
                *waiting = false;
                delta.now_matching.push(pattern.clone());
            }
        }
        delta.added = now.difference(&self.matched).cloned().collect();
        delta.removed = self.matched.difference(&now).cloned().collect();
        self.matched = now;
        delta
    }
}

impl Globs {
    /// What the patterns matched at the last scan.
    pub fn matched(&self) -> impl Iterator<Item = &PathBuf> {
        self.matched.iter()
    }
}

fn base_dir(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    let path = Path::new(pattern);
    let components: Vec<Component> = path.components().collect();
    for (i, component) in components.iter().enumerate() {
        let text = component.as_os_str().to_string_lossy();
        let is_last = i + 1 == components.len();
        if is_last || text.contains(['*', '?', '[']) {
            break;
        }
        base.push(component);
    }
    if base.as_os_str().is_empty() {
        base.push(".");
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_dirs_stop_at_the_first_wildcard() {
        let globs = Globs::new(&[
            "/var/log/containers/*.log".into(),
            "/var/log/pods/*/app/*.log".into(),
            "rel/x.log".into(),
            "*.log".into(),
        ])
        .unwrap();
        assert_eq!(
            globs.base_dirs(),
            [
                PathBuf::from("/var/log/containers"),
                PathBuf::from("/var/log/pods"),
                PathBuf::from("."),
                PathBuf::from("rel"),
            ]
        );
    }

    #[test]
    fn invalid_patterns_are_refused() {
        let error = Globs::new(&["/var/log/[.log".into()]).unwrap_err();
        assert!(error.to_string().contains("/var/log/[.log"), "{error}");
    }

    #[test]
    fn scan_reports_added_and_removed_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.log"), "").unwrap();
        std::fs::create_dir(d.join("dir.log")).unwrap();
        std::os::unix::fs::symlink(d.join("missing"), d.join("dangling.log")).unwrap();
        std::os::unix::fs::symlink(d.join("a.log"), d.join("link.log")).unwrap();
        let mut globs = Globs::new(&[format!("{}/*.log", d.display())]).unwrap();
        assert_eq!(globs.scan().added, [d.join("a.log"), d.join("link.log")]);
        assert_eq!(globs.scan(), ScanDelta::default());
        std::fs::remove_file(d.join("link.log")).unwrap();
        std::fs::write(d.join("b.log"), "").unwrap();
        assert_eq!(
            globs.scan(),
            ScanDelta {
                added: vec![d.join("b.log")],
                removed: vec![d.join("link.log")],
                ..ScanDelta::default()
            }
        );
    }

    #[test]
    fn a_pattern_matching_nothing_is_named_at_the_first_scan_and_when_it_matches() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.log"), "").unwrap();
        let (some, none, missing) = (
            format!("{}/*.log", d.display()),
            format!("{}/*.txt", d.display()),
            format!("{}/no/such/file.log", d.display()),
        );
        let mut globs = Globs::new(&[some, none.clone(), missing.clone()]).unwrap();
        let first = globs.scan();
        assert_eq!(first.unmatched, [none.clone(), missing]);
        assert!(first.now_matching.is_empty());
        // Still nothing: said once, not at every scan.
        assert_eq!(globs.scan(), ScanDelta::default());
        std::fs::write(d.join("b.txt"), "").unwrap();
        let later = globs.scan();
        assert_eq!(later.now_matching, [none]);
        assert!(later.unmatched.is_empty());
        std::fs::remove_file(d.join("b.txt")).unwrap();
        let gone = globs.scan();
        assert!(gone.unmatched.is_empty() && gone.now_matching.is_empty());
    }
}
