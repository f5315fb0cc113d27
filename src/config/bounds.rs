//! Limits on configuration text, checked before the YAML parser sees it.
//!
//! The YAML scanner's work grows with the square of the nesting depth (100,000 nested `[`, 200 KB,
//! took over a minute of CPU), and the whole document is held as a tree, so a 48 MB file took 787 MB
//! of memory. A configuration is a few KB nested a few levels; these limits are far above that and far
//! below where either cost shows.

use std::fmt;

/// 1 MiB: the seed's whole configuration, every default written out, is 5 KB.
pub(crate) const MAX_FILE_BYTES: usize = 1 << 20;
/// 64 KiB for one `-E` value: a list of hosts or paths fits many times over.
pub(crate) const MAX_OVERRIDE_BYTES: usize = 64 << 10;
/// A configuration nests 5 levels deep (`output.elasticsearch.ssl.certificate_authorities: [ … ]`).
pub(crate) const MAX_NESTING: usize = 64;

/// The text nests deeper than [`MAX_NESTING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooDeep {
    /// 1-based, within the text checked.
    pub(crate) line: usize,
}

impl fmt::Display for TooDeep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "nested deeper than {MAX_NESTING} levels")
    }
}

/// Fails at the first line where block indentation levels plus open flow collections (`[`, `{`)
/// exceed [`MAX_NESTING`].
///
/// A byte scan, not a YAML parser: it skips comments, quoted text and block scalars (`|`, `>`) as YAML
/// does, and counts a bracket as opening a collection only where YAML could start one. Where the two
/// might disagree (a quote in a plain scalar's continuation line), it counts an opening bracket
/// anyway and a closing one only if it closes one opened in the same quoted text, so it can
/// overestimate the depth, never hide it.
pub(crate) fn check_nesting(text: &str) -> Result<(), TooDeep> {
    let mut scan = Scan::default();
    for (i, line) in text.lines().enumerate() {
        if scan.line(line) > MAX_NESTING {
            return Err(TooDeep { line: i + 1 });
        }
    }
    Ok(())
}

#[derive(Default)]
struct Scan {
    /// Indentation columns of the open block levels, increasing.
    block: Vec<usize>,
    /// Flow collections opened and not yet closed.
    flow: usize,
    quote: Option<Quote>,
    /// Inside a block scalar: the indentation of the line that introduced it; lines indented deeper
    /// (or blank) are its text.
    literal: Option<usize>,
}

#[derive(Clone, Copy)]
struct Quote {
    mark: u8,
    /// `flow` when the quote opened: brackets inside it only cancel brackets inside it.
    floor: usize,
}

impl Scan {
    /// Scans one line; returns the deepest nesting reached on it.
    fn line(&mut self, line: &str) -> usize {
        let bytes = line.as_bytes();
        let indent = bytes.iter().take_while(|&&b| b == b' ').count();
        if let Some(parent) = self.literal {
            if line.trim().is_empty() || indent > parent {
                return self.depth();
            }
            self.literal = None;
        }
        let mut i = indent;
        if self.quote.is_none() && self.flow == 0 {
            if i == bytes.len() || bytes[i] == b'#' {
                return self.depth();
            }
            self.enter(i);
            // `- - x`, `- key: v`: each dash that starts the line opens a level at its item.
            while bytes[i] == b'-' && matches!(bytes.get(i + 1), None | Some(b' ')) {
                i += 1;
                while bytes.get(i) == Some(&b' ') {
                    i += 1;
                }
                if i == bytes.len() {
                    break;
                }
                self.enter(i);
            }
        }
        let mut deepest = self.depth();
        // The start of the line (after its indentation) counts as whitespace.
        let mut previous = b' ';
        while i < bytes.len() {
            let c = bytes[i];
            match self.quote {
                Some(Quote { mark: b'"', .. }) if c == b'\\' => i += 1,
                Some(Quote { mark, .. }) if c == mark => {
                    if mark == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 1;
                    } else {
                        self.quote = None;
                    }
                }
                Some(quote) => match c {
                    b'[' | b'{' => self.flow += 1,
                    b']' | b'}' if self.flow > quote.floor => self.flow -= 1,
                    _ => {}
                },
                None => match c {
                    b'#' if matches!(previous, b' ' | b'\t') => break,
                    b'"' | b'\'' if self.starts_node(previous) => {
                        self.quote = Some(Quote {
                            mark: c,
                            floor: self.flow,
                        })
                    }
                    b'[' | b'{' if self.flow > 0 || self.starts_node(previous) => self.flow += 1,
                    b']' | b'}' => self.flow = self.flow.saturating_sub(1),
                    _ => {}
                },
            }
            deepest = deepest.max(self.depth());
            previous = c;
            i += 1;
        }
        if self.quote.is_none() && self.flow == 0 && introduces_block_scalar(&line[indent..]) {
            self.literal = Some(indent);
        }
        deepest
    }

    /// Whether a node (a quoted scalar, a flow collection) can start after `previous`: at the start of
    /// the line or after whitespace, and inside a flow collection also after `[`, `{`, `,` or `:`.
    fn starts_node(&self, previous: u8) -> bool {
        matches!(previous, b' ' | b'\t')
            || (self.flow > 0 && matches!(previous, b'[' | b'{' | b',' | b':'))
    }

    /// A block level at `column`: closes the deeper ones, opens this one unless it is open.
    fn enter(&mut self, column: usize) {
        while self.block.last().is_some_and(|&open| open > column) {
            self.block.pop();
        }
        if self.block.last() != Some(&column) {
            self.block.push(column);
        }
    }

    fn depth(&self) -> usize {
        self.block.len() + self.flow
    }
}

/// Whether the line ends in a block scalar's header (`key: |`, `- >-`, `|2`), before any comment.
fn introduces_block_scalar(content: &str) -> bool {
    let content = match content.find(" #") {
        Some(comment) => &content[..comment],
        None => content,
    };
    let last = content.split_whitespace().next_back().unwrap_or_default();
    let mut chars = last.chars();
    matches!(chars.next(), Some('|' | '>')) && chars.all(|c| matches!(c, '-' | '+' | '0'..='9'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(text: &str) -> usize {
        let mut scan = Scan::default();
        text.lines().map(|l| scan.line(l)).max().unwrap_or(0)
    }

    #[test]
    fn counts_block_and_flow_levels() {
        assert_eq!(depth("paths: [/a]\n"), 2);
        assert_eq!(
            depth("output.elasticsearch:\n  ssl:\n    certificate_authorities: [/a, /b]\n"),
            4
        );
        assert_eq!(depth("a:\n  - - x\n    - y\nb: 1\n"), 4);
        assert_eq!(depth("a: {b: [{c: 1}]}\n"), 4);
        // A flow collection over several lines keeps its depth, and its lines open no block levels.
        assert_eq!(depth("a: [\n      x,\n          {y: 1}]\nb: 2\n"), 3);
    }

    #[test]
    fn skips_comments_quotes_and_block_scalars() {
        assert_eq!(depth("# [[[[\na: 1 # {{{{\n"), 1);
        assert_eq!(depth("a: '{{''{{'\n"), 5, "opened in quotes, counted");
        // Quoted text balances itself: the next lines are block levels again.
        assert_eq!(depth("a: \"[x]\" # c\nb:\n  c:\n    d:\n      e: 1\n"), 4);
        assert_eq!(
            depth("a: \"]]]]\"\nb: [[x]]\n"),
            3,
            "quoted closers close nothing"
        );
        assert_eq!(depth("a: |\n  [[[[\n      {{{{\n\nb: 1\n"), 1);
        assert_eq!(depth("- >-\n  [[[[\n"), 2);
        assert_eq!(
            depth("path: /var/log/[ab]*.log\n"),
            1,
            "a plain scalar's bracket"
        );
    }

    #[test]
    fn refuses_deep_nesting_at_its_line() {
        assert_eq!(check_nesting("paths: [/a]\n"), Ok(()));
        let deep = format!("a: 1\nb: {}\n", "[".repeat(100_000));
        assert_eq!(check_nesting(&deep), Err(TooDeep { line: 2 }));
        let ok = format!("b: {}{}\n", "[".repeat(63), "]".repeat(63));
        assert_eq!(check_nesting(&ok), Ok(()));
        let over = format!("b: {}\n", "{".repeat(64));
        assert_eq!(check_nesting(&over), Err(TooDeep { line: 1 }));
        let indented: String = (0..65)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert_eq!(check_nesting(&indented), Err(TooDeep { line: 65 }));
        // Closing brackets hidden in quotes do not cancel real ones.
        let hidden = format!("b: {}\n", "[ \"]\", ".repeat(70));
        assert_eq!(check_nesting(&hidden), Err(TooDeep { line: 1 }));
    }
}
