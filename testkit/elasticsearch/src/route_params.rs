//! The query parameters each endpoint accepts (besides `GLOBAL_PARAMS`); any other is refused with
//! "contains unrecognized parameter", as Elasticsearch's REST layer refuses it.

use super::routes::Route;

/// Parameters every endpoint takes.
pub const GLOBAL_PARAMS: [&str; 4] = ["pretty", "human", "error_trace", "filter_path"];
const BULK_PARAMS: [&str; 12] = [
    "timeout",
    "refresh",
    "routing",
    "pipeline",
    "wait_for_active_shards",
    "require_alias",
    "require_data_stream",
    "_source",
    "_source_includes",
    "_source_excludes",
    "list_executed_pipelines",
    "include_source_on_error",
];

/// The parameters each endpoint takes besides the global ones.
pub fn params_of(route: &Route) -> &'static [&'static str] {
    match route {
        Route::Root => &[],
        Route::Bulk(_) => &BULK_PARAMS,
        Route::Index(_) => &[
            "wait_for_active_shards",
            "master_timeout",
            "timeout",
            "include_defaults",
            "flat_settings",
            "local",
            "ignore_unavailable",
            "allow_no_indices",
            "expand_wildcards",
            "features",
        ],
        Route::IlmPolicy(_) => &["master_timeout", "timeout"],
        Route::IlmExplain(_) => &["only_managed", "only_errors", "master_timeout"],
        Route::IndexTemplate(_) => &[
            "create",
            "cause",
            "master_timeout",
            "flat_settings",
            "local",
            "include_defaults",
        ],
        Route::Alias(..) => &[
            "local",
            "ignore_unavailable",
            "allow_no_indices",
            "expand_wildcards",
            "master_timeout",
            "timeout",
        ],
        Route::Aliases => &["master_timeout", "timeout"],
        Route::HasPrivileges => &[],
        Route::ClusterHealth => &[
            "level",
            "local",
            "master_timeout",
            "timeout",
            "wait_for_active_shards",
            "wait_for_nodes",
            "wait_for_events",
            "wait_for_no_relocating_shards",
            "wait_for_no_initializing_shards",
            "wait_for_status",
            "expand_wildcards",
        ],
        Route::Snapshot(_) => &["master_timeout", "timeout", "verify", "local"],
        Route::SlmPolicy(_) => &["master_timeout", "timeout"],
        Route::DataStream(_) => &[
            "expand_wildcards",
            "include_defaults",
            "master_timeout",
            "timeout",
            "verbose",
        ],
    }
}
