//! Elasticsearch's index name rules, checked in its order, with its messages
//! (`MetadataCreateIndexService.validateIndexOrAliasName` + `validateIndexName`).

const MAX_INDEX_NAME_BYTES: usize = 255;
const INVALID_CHARS: [char; 10] = ['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ','];

/// `Err(reason)` is the text after "Invalid index name [name], ".
pub fn check(index: &str) -> Result<(), String> {
    check_alias(index)?;
    if index.to_lowercase() != index {
        return Err("must be lowercase".to_string());
    }
    Ok(())
}

/// The rules index names share with alias names (`validateIndexOrAliasName`): all but lowercase.
pub fn check_alias(index: &str) -> Result<(), String> {
    if index.chars().any(|c| INVALID_CHARS.contains(&c)) {
        let listed: Vec<String> = INVALID_CHARS.iter().map(|c| format!("'{c}'")).collect();
        return Err(format!(
            "must not contain the following characters [{}]",
            listed.join(",")
        ));
    }
    if index.is_empty() {
        return Err("must not be empty".to_string());
    }
    if index.contains('#') {
        return Err("must not contain '#'".to_string());
    }
    if index.contains(':') {
        return Err("must not contain ':'".to_string());
    }
    if index.starts_with(['_', '-', '+']) {
        return Err("must not start with '_', '-', or '+'".to_string());
    }
    if index.len() > MAX_INDEX_NAME_BYTES {
        return Err(format!(
            "index name is too long, ({} > {MAX_INDEX_NAME_BYTES})",
            index.len()
        ));
    }
    if index == "." || index == ".." {
        return Err("must not be '.' or '..'".to_string());
    }
    Ok(())
}

/// The full exception reason.
pub fn reason(index: &str, rule: &str) -> String {
    format!("Invalid index name [{index}], {rule}")
}
