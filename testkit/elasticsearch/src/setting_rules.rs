//! Which index settings exist and what values they take (`IndexScopedSettings.validate`), so a typo
//! like `index.lifecycle.rolover_alias` is refused as Elasticsearch refuses it, with its "did you
//! mean" hint. The list is the settings a shipper's template plausibly sets, not every one there is:
//! a real setting missing here would be refused wrongly, so add it when that happens.

use super::settings::Settings;
use super::units;

#[derive(Clone, Copy)]
enum Kind {
    /// An integer of at least this value (and at most the second, when given).
    Int(i64, Option<i64>),
    Bool,
    Time,
    Bytes,
    Text,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// Anything, including lists (groups like `index.analysis.*`).
    Any,
}

/// Exact keys and their kinds.
const KEYS: &[(&str, Kind)] = &[
    ("index.number_of_shards", Kind::Int(1, Some(1024))),
    ("index.number_of_replicas", Kind::Int(0, None)),
    ("index.number_of_routing_shards", Kind::Int(1, None)),
    ("index.routing_partition_size", Kind::Int(1, None)),
    ("index.auto_expand_replicas", Kind::Text),
    ("index.refresh_interval", Kind::Time),
    (
        "index.codec",
        Kind::OneOf(&[
            "default",
            "best_compression",
            "lucene_default",
            "legacy_default",
            "legacy_best_compression",
        ]),
    ),
    ("index.hidden", Kind::Bool),
    ("index.priority", Kind::Int(0, None)),
    ("index.creation_date", Kind::Int(0, None)),
    // Which modes a version knows is `index_mode.rs`'s to say.
    ("index.mode", Kind::Text),
    ("index.routing_path", Kind::Any),
    ("index.default_pipeline", Kind::Text),
    ("index.final_pipeline", Kind::Text),
    ("index.query.default_field", Kind::Any),
    ("index.max_result_window", Kind::Int(1, None)),
    ("index.max_inner_result_window", Kind::Int(1, None)),
    ("index.max_docvalue_fields_search", Kind::Int(0, None)),
    ("index.max_script_fields", Kind::Int(0, None)),
    ("index.max_ngram_diff", Kind::Int(0, None)),
    ("index.max_shingle_diff", Kind::Int(0, None)),
    ("index.max_terms_count", Kind::Int(1, None)),
    ("index.max_regex_length", Kind::Int(1, None)),
    ("index.max_refresh_listeners", Kind::Int(0, None)),
    ("index.highlight.max_analyzed_offset", Kind::Int(1, None)),
    ("index.lifecycle.name", Kind::Text),
    ("index.lifecycle.rollover_alias", Kind::Text),
    ("index.lifecycle.parse_origination_date", Kind::Bool),
    ("index.lifecycle.origination_date", Kind::Int(-1, None)),
    ("index.lifecycle.indexing_complete", Kind::Bool),
    ("index.lifecycle.skip", Kind::Bool),
    ("index.lifecycle.step.wait_time_threshold", Kind::Time),
    ("index.mapping.total_fields.limit", Kind::Int(0, None)),
    (
        "index.mapping.total_fields.ignore_dynamic_beyond_limit",
        Kind::Bool,
    ),
    ("index.mapping.depth.limit", Kind::Int(1, None)),
    ("index.mapping.nested_fields.limit", Kind::Int(0, None)),
    ("index.mapping.nested_objects.limit", Kind::Int(0, None)),
    ("index.mapping.field_name_length.limit", Kind::Int(1, None)),
    ("index.mapping.dimension_fields.limit", Kind::Int(0, None)),
    ("index.mapping.ignore_malformed", Kind::Bool),
    ("index.mapping.coerce", Kind::Bool),
    (
        "index.mapping.source.mode",
        Kind::OneOf(&["stored", "synthetic", "disabled"]),
    ),
    (
        "index.routing.allocation.enable",
        Kind::OneOf(&["all", "primaries", "new_primaries", "none"]),
    ),
    (
        "index.routing.allocation.total_shards_per_node",
        Kind::Int(-1, None),
    ),
    (
        "index.routing.rebalance.enable",
        Kind::OneOf(&["all", "primaries", "replicas", "none"]),
    ),
    (
        "index.translog.durability",
        Kind::OneOf(&["request", "async"]),
    ),
    ("index.translog.sync_interval", Kind::Time),
    ("index.translog.flush_threshold_size", Kind::Bytes),
    ("index.unassigned.node_left.delayed_timeout", Kind::Time),
    ("index.blocks.read_only", Kind::Bool),
    ("index.blocks.read_only_allow_delete", Kind::Bool),
    ("index.blocks.read", Kind::Bool),
    ("index.blocks.write", Kind::Bool),
    ("index.blocks.metadata", Kind::Bool),
    ("index.write.wait_for_active_shards", Kind::Text),
    ("index.search.idle.after", Kind::Time),
    ("index.requests.cache.enable", Kind::Bool),
    ("index.queries.cache.enabled", Kind::Bool),
    ("index.gc_deletes", Kind::Time),
    ("index.soft_deletes.enabled", Kind::Bool),
    ("index.soft_deletes.retention_lease.period", Kind::Time),
    ("index.store.type", Kind::Text),
    ("index.store.preload", Kind::Any),
    (
        "index.shard.check_on_startup",
        Kind::OneOf(&["false", "true", "checksum"]),
    ),
    ("index.load_fixed_bitset_filters_eagerly", Kind::Bool),
    ("index.sort.field", Kind::Any),
    ("index.sort.order", Kind::Any),
    ("index.sort.mode", Kind::Any),
    ("index.sort.missing", Kind::Any),
    ("index.time_series.start_time", Kind::Text),
    ("index.time_series.end_time", Kind::Text),
    ("index.format", Kind::Int(0, None)),
];

/// Groups whose every key is accepted as it is.
const PREFIXES: &[&str] = &[
    "index.routing.allocation.include.",
    "index.routing.allocation.exclude.",
    "index.routing.allocation.require.",
    "index.analysis.",
    "index.similarity.",
    "index.search.slowlog.",
    "index.indexing.slowlog.",
    "index.merge.",
    "index.fielddata.",
];

/// Settings Elasticsearch sets itself and refuses from a request.
const PRIVATE: &[&str] = &[
    "index.uuid",
    "index.version.created",
    "index.provided_name",
    "index.history.uuid",
    "index.resize.source.uuid",
];

/// Every problem, in Elasticsearch's words (each an `illegal_argument_exception` reason).
pub fn problems(settings: &Settings) -> Vec<String> {
    let mut found = Vec::new();
    for (key, value) in settings {
        if PRIVATE.contains(&key.as_str()) {
            found.push(format!(
                "private index setting [{key}] can not be set explicitly"
            ));
            continue;
        }
        if PREFIXES.iter().any(|p| key.starts_with(p)) {
            continue;
        }
        let Some((_, kind)) = KEYS.iter().find(|(k, _)| k == key) else {
            found.push(unknown(key));
            continue;
        };
        if let Some(problem) = check(key, *kind, value) {
            found.push(problem);
        }
    }
    found
}

fn unknown(key: &str) -> String {
    let mut near: Vec<(f64, &str)> = KEYS
        .iter()
        .map(|(k, _)| (similarity(key, k), *k))
        .filter(|(score, _)| *score > 0.7)
        .collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    match near.as_slice() {
        [] => format!(
            "unknown setting [{key}] please check that any required plugins are installed, or check \
             the breaking changes documentation for removed settings"
        ),
        [(_, only)] => format!("unknown setting [{key}] did you mean [{only}]?"),
        many => {
            let names: Vec<&str> = many.iter().map(|(_, k)| *k).collect();
            format!("unknown setting [{key}] did you mean any of [{}]?", names.join(", "))
        }
    }
}

/// Lucene's `LevenshteinDistance.getDistance`: 1 - edits / longer length.
fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    let longest = a.len().max(b.len()).max(1);
    1.0 - previous[b.len()] as f64 / longest as f64
}

fn check(key: &str, kind: Kind, value: &serde_json::Value) -> Option<String> {
    let Some(text) = value.as_str() else {
        return (!matches!(kind, Kind::Any))
            .then(|| format!("Failed to parse value [{value}] for setting [{key}]"));
    };
    match kind {
        Kind::Int(min, max) => match text.parse::<i64>() {
            Err(_) => Some(format!(
                "Failed to parse value [{text}] for setting [{key}]"
            )),
            Ok(n) if n < min => Some(format!(
                "Failed to parse value [{text}] for setting [{key}] must be >= {min}"
            )),
            Ok(n) if max.is_some_and(|m| n > m) => Some(format!(
                "Failed to parse value [{text}] for setting [{key}] must be <= {}",
                max.unwrap_or_default()
            )),
            Ok(_) => None,
        },
        Kind::Bool => (text != "true" && text != "false").then(|| {
            format!("Failed to parse value [{text}] as only [true] or [false] are allowed.")
        }),
        Kind::Time => units::parse_time(text, key).err().map(|e| e.reason),
        Kind::Bytes => units::parse_bytes(text, key).err().map(|e| e.reason),
        Kind::OneOf(words) => (!words.contains(&text)).then(|| {
            format!(
                "unknown value for [{key}] must be one of [{}] but was: {text}",
                words.join(", ")
            )
        }),
        Kind::Text | Kind::Any => None,
    }
}
