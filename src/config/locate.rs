//! Finds the line a key path was written on, for error messages.
//!
//! The YAML parser keeps no positions in the values it returns, so this scans the text itself: block
//! mappings (`key: value`, dotted or quoted keys), block sequences (`- item`, also at the indentation of
//! their key), and skips block scalars (`|`, `>`) and flow collections spanning lines. It does not need to
//! understand every YAML construct: a key it cannot place is reported at its nearest ancestor, which for
//! one-line flow mappings (`ssl: {key: …}`) is the same line anyway.

use std::collections::HashMap;

use super::merge::split_key;

pub(crate) struct Locator {
    /// Dotted path (sequence indices as segments) -> lines it appears on, 1-based, in order.
    lines: HashMap<String, Vec<usize>>,
}

impl Locator {
    pub(crate) fn new(text: &str) -> Locator {
        let mut scan = Scan::default();
        for (i, line) in text.lines().enumerate() {
            scan.line(i + 1, line);
        }
        Locator { lines: scan.lines }
    }

    /// Every line `path` itself was set on.
    pub(crate) fn lines(&self, path: &[String]) -> &[usize] {
        self.lines
            .get(&path.join("."))
            .map_or(&[][..], Vec::as_slice)
    }

    /// The first line of `path`, else of its nearest ancestor written in the text.
    pub(crate) fn line(&self, path: &[String]) -> Option<usize> {
        (1..=path.len())
            .rev()
            .find_map(|n| self.lines(&path[..n]).first().copied())
    }
}

#[derive(Debug)]
struct Frame {
    /// Column of the key, or of the `-` of a sequence item.
    indent: usize,
    path: Vec<String>,
    is_item: bool,
    /// Sequence items seen directly under this frame.
    items: usize,
}

#[derive(Default)]
enum Skip {
    #[default]
    None,
    /// Inside a block scalar: lines indented deeper than this column belong to it.
    BlockScalar(usize),
    /// Inside a flow collection opened on an earlier line, this many brackets deep.
    Flow(i32),
}

#[derive(Default)]
struct Scan {
    /// Never empty below the root frame, which is `stack[0]`.
    stack: Vec<Frame>,
    skip: Skip,
    lines: HashMap<String, Vec<usize>>,
}

impl Scan {
    fn line(&mut self, n: usize, line: &str) {
        if self.stack.is_empty() {
            self.stack.push(Frame {
                indent: 0,
                path: Vec::new(),
                is_item: false,
                items: 0,
            });
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = line[indent..].trim_end();
        match self.skip {
            Skip::BlockScalar(column) if content.is_empty() || indent > column => return,
            Skip::Flow(depth) => {
                let depth = depth + bracket_delta(content);
                self.skip = if depth > 0 {
                    Skip::Flow(depth)
                } else {
                    Skip::None
                };
                return;
            }
            _ => self.skip = Skip::None,
        }
        if content.is_empty() || content.starts_with('#') || content == "---" || content == "..." {
            return;
        }
        self.content(n, indent, content);
    }

    fn content(&mut self, n: usize, mut column: usize, mut content: &str) {
        while content == "-" || content.starts_with("- ") {
            self.item(n, column);
            let rest = &content[1..];
            let trimmed = rest.trim_start();
            column += 1 + rest.len() - trimmed.len();
            content = trimmed;
        }
        let value = match key_and_value(content) {
            Some((key, value)) => {
                self.key(n, column, key);
                value
            }
            None => content,
        };
        let value = value.trim();
        if value.starts_with('|') || value.starts_with('>') {
            self.skip = Skip::BlockScalar(column);
        } else if value.starts_with('[') || value.starts_with('{') {
            let depth = bracket_delta(value);
            if depth > 0 {
                self.skip = Skip::Flow(depth);
            }
        }
    }

    fn item(&mut self, n: usize, column: usize) {
        while self.stack.len() > 1 && self.top().indent > column {
            self.stack.pop();
        }
        // The previous item of the same sequence.
        if self.stack.len() > 1 && self.top().is_item && self.top().indent == column {
            self.stack.pop();
        }
        let parent = self.top_mut();
        let mut path = parent.path.clone();
        path.push(parent.items.to_string());
        parent.items += 1;
        self.record(&path, n);
        self.stack.push(Frame {
            indent: column,
            path,
            is_item: true,
            items: 0,
        });
    }

    fn key(&mut self, n: usize, column: usize, key: &str) {
        while self.stack.len() > 1 && self.top().indent >= column {
            self.stack.pop();
        }
        let mut path = self.top().path.clone();
        let segments = split_key(key);
        let last = segments.len() - 1;
        for (i, segment) in segments.into_iter().enumerate() {
            path.push(segment);
            // `output.elasticsearch:` also places `output`, for errors about it.
            if i < last {
                self.record(&path, n);
            }
        }
        self.record(&path, n);
        self.stack.push(Frame {
            indent: column,
            path,
            is_item: false,
            items: 0,
        });
    }

    fn record(&mut self, path: &[String], n: usize) {
        let lines = self.lines.entry(path.join(".")).or_default();
        if lines.last() != Some(&n) {
            lines.push(n);
        }
    }

    fn top(&self) -> &Frame {
        &self.stack[self.stack.len() - 1]
    }

    fn top_mut(&mut self) -> &mut Frame {
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }
}

/// Splits `key: value` (plain, `"double"` or `'single'` quoted key); `None` when the text is not a
/// mapping entry.
fn key_and_value(content: &str) -> Option<(&str, &str)> {
    let (key, after) = match content.chars().next()? {
        quote @ ('"' | '\'') => {
            let close = closing_quote(content, quote)?;
            (&content[1..close], content[close + 1..].trim_start())
        }
        '[' | '{' | '#' | '&' | '*' | '!' | '|' | '>' | '%' | '@' | '`' | '?' | ',' => return None,
        _ => {
            let colon = content
                .match_indices(':')
                .map(|(i, _)| i)
                .find(|&i| matches!(content.as_bytes().get(i + 1), None | Some(b' ' | b'\t')))?;
            if content[..colon].contains(" #") {
                return None;
            }
            (content[..colon].trim_end(), &content[colon..])
        }
    };
    let value = after.strip_prefix(':')?;
    if !(value.is_empty() || value.starts_with([' ', '\t'])) {
        return None;
    }
    let value = value.trim_start();
    Some((key, if value.starts_with('#') { "" } else { value }))
}

fn closing_quote(s: &str, quote: char) -> Option<usize> {
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if quote == '"' && c == '\\' {
            chars.next();
        } else if c == quote {
            if quote == '\'' && s[i + 1..].starts_with('\'') {
                chars.next();
            } else {
                return Some(i);
            }
        }
    }
    None
}

/// Brackets opened minus closed, outside quotes and comments.
fn bracket_delta(s: &str) -> i32 {
    let mut delta = 0;
    let mut quote = None;
    let mut previous = ' ';
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') if previous == ' ' => break,
            (None, '[' | '{') => delta += 1,
            (None, ']' | '}') => delta -= 1,
            _ => {}
        }
        previous = c;
    }
    delta
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# loglynk
paths:
- /var/log/a/*.log
- /var/log/b/*.log
state_dir: /var/lib/loglynk   # comment: here
decode_json_fields: {fields: [message], target: json}
notes: |
  hosts: not a key
  - nor an item
output.elasticsearch:
  hosts:
    - \"https://es:9200\"
    - https://es2:9200
  'ssl':
    certificate_authorities: [
      /a.crt,
      /b.crt]
    verification_mode: full
  index: \"x-%{+yyyy}\"
logging:
  level: info
";

    fn p(path: &str) -> Vec<String> {
        path.split('.').map(str::to_owned).collect()
    }

    fn line(path: &str) -> Option<usize> {
        Locator::new(TEXT).line(&p(path))
    }

    #[test]
    fn finds_nested_dotted_and_quoted_keys() {
        assert_eq!(line("paths"), Some(2));
        assert_eq!(line("state_dir"), Some(5));
        assert_eq!(line("output"), Some(10));
        assert_eq!(line("output.elasticsearch"), Some(10));
        assert_eq!(line("output.elasticsearch.hosts"), Some(11));
        assert_eq!(line("output.elasticsearch.ssl"), Some(14));
        assert_eq!(line("output.elasticsearch.ssl.verification_mode"), Some(18));
        assert_eq!(line("output.elasticsearch.index"), Some(19));
        assert_eq!(line("logging.level"), Some(21));
    }

    #[test]
    fn finds_sequence_items_at_either_indentation() {
        assert_eq!(line("paths.0"), Some(3));
        assert_eq!(line("paths.1"), Some(4));
        assert_eq!(line("output.elasticsearch.hosts.1"), Some(13));
    }

    #[test]
    fn falls_back_to_the_nearest_ancestor() {
        assert_eq!(line("decode_json_fields.target"), Some(6));
        assert_eq!(
            line("output.elasticsearch.ssl.certificate_authorities.1"),
            Some(15)
        );
        assert_eq!(line("output.elasticsearch.hostz"), Some(10));
        assert_eq!(line("nowhere.at_all"), None);
    }

    #[test]
    fn skips_block_scalars() {
        assert_eq!(line("notes"), Some(7));
        assert_eq!(line("hosts"), None);
        assert_eq!(line("notes.0"), Some(7));
    }

    #[test]
    fn records_every_line_a_key_is_set_on() {
        let locator = Locator::new("a.b: 1\nc: 2\na:\n  b: 3\n");
        assert_eq!(locator.lines(&p("a.b")), [1, 4]);
        assert_eq!(locator.lines(&p("a")), [1, 3]);
    }

    #[test]
    fn splits_keys_from_values() {
        assert_eq!(key_and_value("a: b"), Some(("a", "b")));
        assert_eq!(key_and_value("a:"), Some(("a", "")));
        assert_eq!(key_and_value("a: # c"), Some(("a", "")));
        assert_eq!(key_and_value("\"a.b\": c"), Some(("a.b", "c")));
        assert_eq!(key_and_value("'it''s': c"), Some(("it''s", "c")));
        assert_eq!(key_and_value("http://x:9200"), None);
        assert_eq!(key_and_value("\"a: b\""), None);
        assert_eq!(key_and_value("[a, b]"), None);
    }
}
