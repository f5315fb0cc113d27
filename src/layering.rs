//! The dependency rules of `src/`, checked on the source itself so a change that breaks them fails a test
//! rather than a review: data and imports flow one way through the top-level modules.
//!
//! A module's imports are every `crate::<module>` path in its files (grouped `use crate::{a, b}` too),
//! tests included: a test that needs a module its code must not know is a sign the code is in the wrong
//! place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The stages of the pipeline, which `config` must not know: config is read by them, never the reverse.
const STAGES: &[&str] = &[
    "discover", "tail", "parse", "enrich", "process", "output", "registry", "event",
];

/// What reports its events to telemetry and builds on the Event type: the stages (`event` aside), their
/// wiring, and the cluster's set-up.
const REPORTING: &[&str] = &[
    "discover",
    "tail",
    "parse",
    "enrich",
    "process",
    "output",
    "registry",
    "pipeline",
    "bootstrap",
];

/// Each rule: a module, and the modules it must not import. A module may have several rules.
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("output", &["pipeline", "process"]),
    ("config", STAGES),
    // The Event type and its encoding are what every stage shares; they depend on no stage.
    ("event", REPORTING),
    ("event", &["telemetry"]),
    // Everything is wired in `pipeline`; no stage reaches back into it.
    (
        "tail",
        &[
            "pipeline", "registry", "output", "process", "enrich", "parse",
        ],
    ),
    ("parse", &["pipeline", "output", "process", "registry"]),
    // Every stage reports its events to telemetry, so telemetry reads them only through the traits
    // they implement (`telemetry::sources`).
    ("telemetry", REPORTING),
    ("process", &["pipeline", "output", "registry", "tail"]),
    ("enrich", &["pipeline", "output", "process", "registry"]),
    ("discover", &["pipeline", "output", "process", "registry"]),
    // doctor asks; it never starts the agent's pipeline.
    ("doctor", &["pipeline", "process", "parse", "registry"]),
    // top is a client of a running agent's HTTP endpoint: it knows none of the agent's parts.
    ("top", REPORTING),
    ("top", &["doctor", "config"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules of the library and the files of each.
fn modules() -> BTreeMap<String, Vec<PathBuf>> {
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(src())
        .expect("src/ is readable")
        .flatten()
    {
        let path = entry.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
            continue;
        };
        if matches!(stem.as_str(), "lib" | "main" | "cli" | "layering") {
            continue;
        }
        let files: &mut Vec<PathBuf> = modules.entry(stem).or_default();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    modules
}

/// The top-level modules named by `crate::` paths in `text`, comments left out.
fn imports_of(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `use crate::{a::X, b}`: the first segment of each item, up to the matching brace.
                let mut depth = 0usize;
                let mut item = String::new();
                let mut at_start = true;
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => at_start = true,
                        c if at_start && (c.is_alphanumeric() || c == '_') => item.push(c),
                        _ if !item.is_empty() => {
                            found.insert(std::mem::take(&mut item));
                            at_start = false;
                        }
                        _ => {}
                    }
                }
                if !item.is_empty() {
                    found.insert(item);
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
    }
    found
}

/// Which top-level modules each one imports (itself left out).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    modules
        .iter()
        .map(|(name, files)| {
            let mut imports = BTreeSet::new();
            for file in files {
                let text = std::fs::read_to_string(file).expect("a source file is readable");
                imports.extend(imports_of(&text));
            }
            imports.retain(|i| i != name && modules.contains_key(i));
            (name.clone(), imports)
        })
        .collect()
}

/// A cycle through `from`, if there is one, as the path that closes it.
fn cycle_from(
    graph: &BTreeMap<String, BTreeSet<String>>,
    from: &str,
    path: &mut Vec<String>,
) -> Option<Vec<String>> {
    for next in graph.get(from).into_iter().flatten() {
        if path.first().is_some_and(|start| start == next) {
            let mut cycle = path.clone();
            cycle.push(next.clone());
            return Some(cycle);
        }
        if path.contains(next) {
            continue;
        }
        path.push(next.clone());
        if let Some(cycle) = cycle_from(graph, next, path) {
            return Some(cycle);
        }
        path.pop();
    }
    None
}

#[test]
fn imports_are_parsed_from_paths_and_groups() {
    let text = "use crate::event::Event;\nuse crate::{config::Config, tail::{FileKey, Line}};\n\
                // crate::output in a comment\nlet x = crate::registry::lock(&t);";
    let found: Vec<String> = imports_of(text).into_iter().collect();
    assert_eq!(found, ["config", "event", "registry", "tail"]);
}

#[test]
fn a_cycle_is_found() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert!(cycle_from(&graph, "a", &mut vec!["a".to_owned()]).is_some());
    graph.insert("b".to_owned(), BTreeSet::new());
    assert!(cycle_from(&graph, "a", &mut vec!["a".to_owned()]).is_none());
}

#[test]
fn no_import_loop_among_top_level_modules() {
    let graph = graph();
    assert!(graph.len() >= 10, "found only {graph:?}");
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_from(&graph, m, &mut vec![m.clone()]))
        .map(|c| c.join(" -> "))
        .collect();
    assert!(cycles.is_empty(), "import loops: {cycles:#?}");
}

#[test]
fn stages_import_only_what_the_layering_allows() {
    let graph = graph();
    let mut broken = Vec::new();
    for (module, forbidden) in FORBIDDEN {
        let imports = graph
            .get(*module)
            .unwrap_or_else(|| panic!("no module {module}"));
        for name in *forbidden {
            if imports.contains(*name) {
                broken.push(format!("{module} imports {name}"));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn registry_knows_only_the_identity_of_tail() {
    let allowed = [
        "FileIdentity",
        "FileKey",
        "Fingerprint",
        "FINGERPRINT_BYTES",
        "identity",
    ];
    let mut broken = Vec::new();
    for file in modules().remove("registry").unwrap_or_default() {
        let text = std::fs::read_to_string(&file).expect("a source file is readable");
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let Some(at) = line.find("crate::tail::") else {
                continue;
            };
            let rest = &line[at + "crate::tail::".len()..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || "_:{}, ".contains(*c))
                .collect();
            let names: Vec<&str> = path
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|s| !s.is_empty())
                .collect();
            if names.iter().any(|n| !allowed.contains(n)) {
                broken.push(format!("{}: {}", file.display(), line.trim()));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn anyhow_is_used_only_by_the_binary() {
    let mut found = Vec::new();
    for files in modules().values() {
        for file in files {
            let text = std::fs::read_to_string(file).expect("a source file is readable");
            if text.contains("anyhow") {
                found.push(file.display().to_string());
            }
        }
    }
    assert!(
        found.is_empty(),
        "anyhow outside main.rs and cli.rs: {found:?}"
    );
}
