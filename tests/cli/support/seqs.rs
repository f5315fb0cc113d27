//! Sequence-numbered CRI lines (`seq=<n>`), written to files and counted back from the agent's output,
//! so a test can say exactly what was lost or duplicated.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::ops::Range;
use std::path::Path;

use crate::elasticsearch::EsServer;

/// One CRI line whose message is `seq=<n>`.
pub fn cri_line(n: u64) -> String {
    format!("2026-11-24T10:00:00.000000000Z stdout F seq={n}\n")
}

/// The lines for every number of `seqs`, as one string (one `write` call).
pub fn cri_lines(seqs: Range<u64>) -> String {
    seqs.map(cri_line).collect()
}

/// Appends the lines for `seqs` with one `write`, creating the file when it does not exist.
pub fn append_seqs(path: &Path, seqs: Range<u64>) {
    let mut file = open_append(path);
    write_seqs(&mut file, seqs);
}

/// Opens (creating) a file for appending, as a container runtime does.
pub fn open_append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {} for appending: {e}", path.display()))
}

pub fn write_seqs(file: &mut File, seqs: Range<u64>) {
    file.write_all(cri_lines(seqs).as_bytes()).unwrap();
}

/// Bytes taken by the lines `seqs`: the offset after them, when a file holds them from its start.
pub fn bytes_of(seqs: Range<u64>) -> u64 {
    seqs.map(|n| cri_line(n).len() as u64).sum()
}

/// Sequence numbers in the servers' documents, over every index, and how often each was indexed.
pub fn indexed_seqs(servers: &[&EsServer]) -> BTreeMap<u64, u32> {
    let mut seen = BTreeMap::new();
    for server in servers {
        for n in server.map_documents(|_, doc| seq_of(doc)) {
            *seen.entry(n).or_insert(0) += 1;
        }
    }
    seen
}

/// The `n` of a document whose message is `seq=<n>`.
pub fn seq_of(doc: &serde_json::Value) -> Option<u64> {
    doc["message"].as_str()?.strip_prefix("seq=")?.parse().ok()
}

/// How many times each sequence number was printed, over one or more runs.
#[derive(Debug, Default)]
pub struct Seqs {
    counts: BTreeMap<u64, u32>,
}

impl Seqs {
    /// Adds one stdout line; fails the test on a line that is not a document with `seq=<n>`.
    pub fn add_line(&mut self, line: &str) -> u64 {
        let doc: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:.300}"));
        let n = seq_of(&doc).unwrap_or_else(|| panic!("not a seq=<n> document: {line:.300}"));
        *self.counts.entry(n).or_default() += 1;
        n
    }

    pub fn add_lines<'a>(&mut self, lines: impl IntoIterator<Item = &'a String>) {
        for line in lines {
            self.add_line(line);
        }
    }

    /// Lines of a run ended by SIGKILL: the last one may have been cut in the middle, which is not a
    /// document and was not acknowledged, so it is left out.
    pub fn add_killed_run(&mut self, lines: &[String]) {
        let Some((last, whole)) = lines.split_last() else {
            return;
        };
        self.add_lines(whole);
        if serde_json::from_str::<serde_json::Value>(last).is_ok() {
            self.add_line(last);
        }
    }

    pub fn count(&self, n: u64) -> u32 {
        self.counts.get(&n).copied().unwrap_or(0)
    }

    /// Numbers of `want` never seen.
    pub fn missing(&self, want: &[Range<u64>]) -> Vec<u64> {
        want.iter()
            .flat_map(|r| r.clone())
            .filter(|n| self.count(*n) == 0)
            .collect()
    }

    /// Numbers seen more than once.
    pub fn duplicated(&self) -> Vec<u64> {
        self.counts
            .iter()
            .filter(|(_, c)| **c > 1)
            .map(|(n, _)| *n)
            .collect()
    }

    /// Extra copies printed, over all numbers.
    pub fn duplicates(&self) -> u64 {
        self.counts.values().map(|c| u64::from(c - 1)).sum()
    }

    /// Numbers seen that are not in `want`.
    pub fn unexpected(&self, want: &[Range<u64>]) -> Vec<u64> {
        self.counts
            .keys()
            .filter(|n| !want.iter().any(|r| r.contains(n)))
            .copied()
            .collect()
    }

    pub fn total(&self) -> u64 {
        self.counts.values().map(|c| u64::from(*c)).sum()
    }

    /// Every number of `want` exactly once, and nothing else.
    pub fn assert_exactly(&self, want: &[Range<u64>], context: &str) {
        let missing = self.missing(want);
        let duplicated = self.duplicated();
        let unexpected = self.unexpected(want);
        assert!(
            missing.is_empty() && duplicated.is_empty() && unexpected.is_empty(),
            "{context}: expected exactly {want:?} once each;\n  missing: {}\n  duplicated: {}\n  \
             unexpected: {}",
            describe(&missing),
            describe(&duplicated),
            describe(&unexpected),
        );
    }
}

/// A short description of a set of numbers: `5 numbers: 3..=6, 10`.
pub fn describe(numbers: &[u64]) -> String {
    if numbers.is_empty() {
        return "none".into();
    }
    let mut sorted = numbers.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for n in sorted {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == n => *end = n,
            _ => runs.push((n, n)),
        }
    }
    let shown: Vec<String> = runs
        .iter()
        .take(20)
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}..={b}")
            }
        })
        .collect();
    let more = if runs.len() > 20 { ", …" } else { "" };
    format!("{} numbers: {}{more}", numbers.len(), shown.join(", "))
}
