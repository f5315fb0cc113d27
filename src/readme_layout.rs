//! README's Layout section names the files and folders of the tree; this checks each one exists, so a
//! file moved or renamed without the section following fails a test instead of misleading a reader.
//!
//! A line of the section's code block starts with a path (`src/pipeline/`) or continues the line
//! above; file and folder names in its description (`source/gate.rs`, `tailer/`,
//! `pipeline/source/{gate,limits}.rs`) are looked for anywhere below that path.

use std::path::Path;

use regex::Regex;

/// The names in README's Layout that name nothing in the tree under `root`, and how many were checked.
fn missing_paths(readme: &str, root: &Path) -> (usize, Vec<String>) {
    let section = readme
        .split_once("\n## Layout")
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(rest))
        .unwrap_or_default();
    let block = section.split("```").nth(1).unwrap_or_default();
    let name = Regex::new(r"[A-Za-z_][\w./{},-]*(?:\.rs|/)").expect("a valid pattern");
    let (mut checked, mut missing) = (0, Vec::new());
    let mut lead: Option<String> = None;
    for line in block.lines() {
        let description = match line.split_once(char::is_whitespace) {
            Some((first, rest)) if !first.is_empty() => {
                checked += 1;
                if !root.join(first).exists() {
                    missing.push(first.to_owned());
                }
                lead = Some(first.to_owned());
                rest
            }
            _ => line,
        };
        let Some(lead) = &lead else { continue };
        let base = root.join(lead);
        let base = if base.is_dir() {
            base
        } else {
            base.parent().unwrap_or(root).to_path_buf()
        };
        let below = relative_paths(&base);
        for found in name.find_iter(description) {
            // A name ends where prose resumes; `a.rs` inside `a.rsx` or a URL is no name.
            let ends_name = description[found.end()..]
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || ",;:)".contains(c));
            let in_url = description[..found.start()].ends_with('/');
            let text = found.as_str();
            if !ends_name || in_url || text.starts_with('/') {
                continue;
            }
            for candidate in expand_braces(text) {
                checked += 1;
                let wanted = candidate.trim_end_matches('/');
                let exists = below
                    .iter()
                    .any(|p| p == wanted || p.ends_with(&format!("/{wanted}")));
                if !exists {
                    missing.push(format!("{lead}: {candidate}"));
                }
            }
        }
    }
    (checked, missing)
}

/// `a/{b,c}.rs` -> `a/b.rs`, `a/c.rs` (one level, as README writes them).
fn expand_braces(text: &str) -> Vec<String> {
    match (text.find('{'), text.find('}')) {
        (Some(open), Some(close)) if open < close => text[open + 1..close]
            .split(',')
            .map(|part| format!("{}{part}{}", &text[..open], &text[close + 1..]))
            .collect(),
        _ => vec![text.to_owned()],
    }
}

/// Every file and folder below `base`, as `/`-separated paths relative to it.
fn relative_paths(base: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![base.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if let Ok(relative) = path.strip_prefix(base) {
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
            if path.is_dir() && entry.file_name() != "target" && entry.file_name() != ".git" {
                stack.push(path);
            }
        }
    }
    out
}

#[test]
fn every_path_readmes_layout_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let (checked, missing) = missing_paths(&readme, root);
    assert!(
        checked >= 40,
        "only {checked} names found: is the section still there?"
    );
    assert!(
        missing.is_empty(),
        "README's Layout names what is not in the tree: {missing:?}"
    );
}

#[test]
fn a_name_that_is_not_in_the_tree_is_found() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = "intro\n## Layout\n\n```\nsrc/pipeline/      the loop (flow.rs), the gate \
                  (source/{gate,gone}.rs)\n                   and sink.rs, see https://x.io/a.rs\n\
                  src/nowhere.rs     not here\n```\n## Next\n```\nsrc/also_gone.rs\n```\n";
    let (checked, missing) = missing_paths(readme, root);
    assert_eq!(
        missing,
        ["src/pipeline/: source/gone.rs", "src/nowhere.rs"],
        "{checked} checked"
    );
    assert_eq!(checked, 6);
}
