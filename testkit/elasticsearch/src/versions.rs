//! What a node answers differently from one version to the next, besides what each feature's module
//! says (`compat.rs` for the REST API versions, `index_mode.rs`, `failure_store.rs`):
//! - `GET /`: the Lucene version and the oldest wire and index versions the node works with;
//! - 7.x names the mapping type of every document in bulk items (`"_type": "_doc"`), which 8.0
//!   removed;
//! - from 9.2, composable templates carry `created_date_millis` and `modified_date_millis`, which a
//!   `PUT` refuses (they are the cluster's to set).

use super::index_mode::version_of;

/// `(lucene_version, minimum_wire_compatibility_version, minimum_index_compatibility_version)`.
pub fn info(version: &str) -> (&'static str, &'static str, &'static str) {
    match version_of(version) {
        (7, _) => ("8.11.3", "6.8.0", "6.0.0-beta1"),
        (8, m) if m < 12 => ("9.7.0", "7.17.0", "7.0.0"),
        (8, m) if m < 16 => ("9.11.1", "7.17.0", "7.0.0"),
        (8, m) if m < 18 => ("9.12.0", "7.17.0", "7.0.0"),
        (8, _) => ("9.12.1", "7.17.0", "7.0.0"),
        (9, 0) => ("10.1.0", "8.18.0", "8.0.0"),
        (9, 1) => ("10.2.2", "8.19.0", "8.0.0"),
        _ => ("10.3.2", "8.19.0", "8.0.0"),
    }
}

/// Bulk items name the document's mapping type (7.x).
pub fn items_have_type(version: &str) -> bool {
    version_of(version).0 < 8
}

/// Composable templates carry their creation and modification times (9.2+).
pub fn templates_have_dates(version: &str) -> bool {
    version_of(version) >= (9, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_major_answers_as_its_own() {
        assert_eq!(info("9.0.2").1, "8.18.0");
        assert_eq!(info("9.1.0").1, "8.19.0");
        assert_eq!(info("8.17.0"), ("9.12.0", "7.17.0", "7.0.0"));
        assert!(items_have_type("7.17.25") && !items_have_type("8.8.0"));
        assert!(!templates_have_dates("9.1.5") && templates_have_dates("9.2.0"));
    }
}
