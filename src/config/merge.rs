//! Filebeat's dotted keys: `output.elasticsearch: {hosts: …}` is `output: {elasticsearch: {hosts: …}}`,
//! at any level, and both spellings of one mapping merge.

use super::tree::Node;

/// How a second value for the same key is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Within the file: two values for one leaf are a mistake, reported rather than silently resolved.
    File,
    /// An `-E` override: replaces what the file set.
    Override,
}

/// Splits every dotted key into nested mappings and merges mappings that meet. Returns the key paths set
/// more than once (a leaf twice, or a leaf where a mapping also is).
pub(crate) fn normalize(node: Node) -> (Node, Vec<Vec<String>>) {
    let mut conflicts = Vec::new();
    let node = normalize_at(node, &mut Vec::new(), &mut conflicts);
    (node, conflicts)
}

/// Sets `value` at `path` in `tree`, creating or replacing whatever is in the way.
pub(crate) fn set(tree: &mut Node, path: &[String], value: Node) {
    if *tree == Node::Null {
        *tree = Node::Map(Vec::new());
    }
    // A document that is not a mapping is reported by the typed pass; an override cannot fix it.
    if let Node::Map(entries) = tree {
        insert(
            entries,
            &mut Vec::new(),
            path,
            value,
            Mode::Override,
            &mut Vec::new(),
        );
    }
}

/// The segments of a dotted key. A key with an empty segment (`a..b`, `.a`) is kept whole, so it is
/// reported as an unknown key, spelled as written.
pub(crate) fn split_key(key: &str) -> Vec<String> {
    if key.split('.').any(str::is_empty) {
        vec![key.to_owned()]
    } else {
        key.split('.').map(str::to_owned).collect()
    }
}

fn normalize_at(node: Node, path: &mut Vec<String>, conflicts: &mut Vec<Vec<String>>) -> Node {
    match node {
        Node::Map(entries) => {
            let mut merged = Vec::with_capacity(entries.len());
            for (key, value) in entries {
                let segments = split_key(&key);
                let depth = path.len();
                path.extend(segments.iter().cloned());
                let value = normalize_at(value, path, conflicts);
                path.truncate(depth);
                insert(&mut merged, path, &segments, value, Mode::File, conflicts);
            }
            Node::Map(merged)
        }
        Node::Seq(items) => Node::Seq(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    path.push(i.to_string());
                    let item = normalize_at(item, path, conflicts);
                    path.pop();
                    item
                })
                .collect(),
        ),
        scalar => scalar,
    }
}

/// `value` is already normalized: its mappings have single-segment, unique keys.
fn insert(
    entries: &mut Vec<(String, Node)>,
    path: &mut Vec<String>,
    segments: &[String],
    value: Node,
    mode: Mode,
    conflicts: &mut Vec<Vec<String>>,
) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    path.push(first.clone());
    match entries.iter().position(|(k, _)| k == first) {
        None if rest.is_empty() => entries.push((first.clone(), value)),
        None => {
            let mut child = Vec::new();
            insert(&mut child, path, rest, value, mode, conflicts);
            entries.push((first.clone(), Node::Map(child)));
        }
        Some(i) => {
            let existing = &mut entries[i].1;
            // `key:` with nothing after it is an empty mapping waiting for its keys, not a value.
            if *existing == Node::Null && (mode == Mode::Override || !rest.is_empty()) {
                *existing = Node::Map(Vec::new());
            }
            match (existing, rest.is_empty()) {
                (Node::Map(child), false) => insert(child, path, rest, value, mode, conflicts),
                (Node::Map(child), true) => match value {
                    Node::Map(incoming) => {
                        for (key, v) in incoming {
                            insert(child, path, &[key], v, mode, conflicts);
                        }
                    }
                    Node::Null if mode == Mode::File => {}
                    value => conflict(entries, i, path, rest, value, mode, conflicts),
                },
                (_, _) => conflict(entries, i, path, rest, value, mode, conflicts),
            }
        }
    }
    path.pop();
}

fn conflict(
    entries: &mut [(String, Node)],
    i: usize,
    path: &mut Vec<String>,
    rest: &[String],
    value: Node,
    mode: Mode,
    conflicts: &mut Vec<Vec<String>>,
) {
    match mode {
        Mode::File => conflicts.push(path.clone()),
        Mode::Override => {
            entries[i].1 = if rest.is_empty() {
                value
            } else {
                let mut child = Vec::new();
                insert(&mut child, path, rest, value, mode, conflicts);
                Node::Map(child)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> (Node, Vec<Vec<String>>) {
        normalize(Node::parse(yaml).unwrap())
    }

    fn paths(conflicts: &[Vec<String>]) -> Vec<String> {
        conflicts.iter().map(|p| p.join(".")).collect()
    }

    #[test]
    fn dotted_and_nested_keys_merge() {
        let (dotted, none) =
            parse("output.elasticsearch:\n  hosts: [a]\noutput:\n  elasticsearch.username: u\n");
        assert!(none.is_empty());
        let (nested, _) = parse("output: {elasticsearch: {hosts: [a], username: u}}\n");
        assert_eq!(dotted, nested);
    }

    #[test]
    fn a_leaf_set_twice_is_a_conflict() {
        let (_, conflicts) =
            parse("output.elasticsearch.hosts: [a]\noutput: {elasticsearch: {hosts: [b]}}\n");
        assert_eq!(paths(&conflicts), ["output.elasticsearch.hosts"]);
        let (_, conflicts) = parse("a: 1\na: 2\nb: x\nb.c: 1\n");
        assert_eq!(paths(&conflicts), ["a", "b"]);
    }

    #[test]
    fn an_empty_key_opens_a_mapping() {
        let (tree, conflicts) = parse("output:\noutput.elasticsearch.index: x\n");
        assert!(conflicts.is_empty());
        assert_eq!(
            tree.get(&["output", "elasticsearch", "index"]),
            Some(&Node::Str("x".into()))
        );
    }

    #[test]
    fn keys_with_empty_segments_stay_whole() {
        assert_eq!(split_key("a..b"), ["a..b"]);
        assert_eq!(split_key("a.b"), ["a", "b"]);
    }

    #[test]
    fn set_replaces_leaves_and_merges_mappings() {
        let (mut tree, _) = parse("a: {b: 1, c: 2}\nd: 5\n");
        set(&mut tree, &["a".into(), "b".into()], Node::UInt(9));
        set(&mut tree, &["d".into(), "e".into()], Node::UInt(6));
        set(&mut tree, &["a".into()], Node::parse("{f: 3}").unwrap());
        let (expected, _) = parse("a: {b: 9, c: 2, f: 3}\nd: {e: 6}\n");
        assert_eq!(tree, expected);

        let mut empty = Node::Null;
        set(&mut empty, &["x".into(), "y".into()], Node::Bool(true));
        assert_eq!(empty.get(&["x", "y"]), Some(&Node::Bool(true)));
    }
}
