//! `GET|POST /_security/user/_has_privileges`: whether the authenticated user holds the cluster and
//! index privileges asked about, answered as Elasticsearch's security layer answers it.
//!
//! The user's roles are one [`Grants`]: cluster privileges, and index privileges per list of
//! patterns. Without grants the user is a superuser (ECK's `elastic`), and with no authentication
//! configured security is off, which a real node answers with a `security_exception`.
//!
//! Simplifications: privileges are the built-in names with their documented implications (`all` >
//! `manage` > `create_index`…, `write` > `index` > `create` > `create_doc`), not the action automatons
//! behind them; a requested pattern is covered when a granted pattern matches it with its `*` taken
//! literally, which holds for the simple `prefix-*` patterns roles and shippers use; no application
//! privileges, no `allow_restricted_indices`.

use serde_json::{json, Map, Value};

use super::errors::EsError;
use super::patterns::simple_match;
use super::EsOptions;

/// What the user's roles grant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    pub cluster: Vec<String>,
    /// Each entry: index name patterns, and the privileges held on them.
    pub indices: Vec<(Vec<String>, Vec<String>)>,
}

impl Grants {
    /// `privileges` on indices matching `patterns`, nothing on the cluster.
    pub fn on_indices(patterns: &[&str], privileges: &[&str]) -> Grants {
        Grants {
            cluster: Vec::new(),
            indices: vec![(strings(patterns), strings(privileges))],
        }
    }

    fn cluster_has(&self, privilege: &str) -> bool {
        self.cluster
            .iter()
            .any(|held| implies_cluster(held, privilege))
    }

    fn index_has(&self, name: &str, privilege: &str) -> bool {
        self.indices.iter().any(|(patterns, held)| {
            patterns.iter().any(|p| simple_match(p, name))
                && held.iter().any(|h| implies_index(h, privilege))
        })
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn implies_cluster(held: &str, wanted: &str) -> bool {
    held == wanted
        || held == "all"
        || (held == "manage"
            && matches!(
                wanted,
                "monitor" | "manage_ilm" | "manage_index_templates" | "manage_pipeline"
            ))
}

fn implies_index(held: &str, wanted: &str) -> bool {
    let implied: &[&str] = match held {
        "all" => return true,
        "manage" => &[
            "create_index",
            "auto_configure",
            "delete_index",
            "view_index_metadata",
            "monitor",
            "manage_ilm",
        ],
        "write" => &["index", "create", "create_doc", "delete"],
        "index" => &["create", "create_doc"],
        "create" => &["create_doc"],
        _ => &[],
    };
    held == wanted || implied.contains(&wanted)
}

/// The answer to a has-privileges request from the user `authorization` authenticated.
pub fn has_privileges(options: &EsOptions, body: &[u8]) -> Result<Value, EsError> {
    if options.username.is_none() && options.api_key.is_none() {
        return Err(EsError::new(
            "security_exception",
            "Security must be explicitly enabled when using a [basic] license. Enable security by \
             setting [xpack.security.enabled] to [true] in the elasticsearch.yml file and restart \
             the node.",
        ));
    }
    let request: Value = if body.is_empty() {
        return Err(EsError::new(
            "action_request_validation_exception",
            "Validation Failed: 1: must specify at least one privilege;",
        ));
    } else {
        serde_json::from_slice(body)
            .map_err(|e| EsError::new("x_content_parse_exception", e.to_string()))?
    };
    let Some(fields) = request.as_object() else {
        return Err(EsError::new(
            "parse_exception",
            "failed to parse privileges check: expected an object",
        ));
    };
    for key in fields.keys() {
        if !matches!(key.as_str(), "cluster" | "index" | "application") {
            return Err(EsError::new(
                "parse_exception",
                format!("failed to parse privileges check: unexpected field [{key}]"),
            ));
        }
    }
    let superuser = Grants {
        cluster: vec!["all".into()],
        indices: vec![(vec!["*".into()], vec!["all".into()])],
    };
    let grants = options.grants.as_ref().unwrap_or(&superuser);
    let mut all = true;
    let mut asked = 0;
    let mut cluster = Map::new();
    for privilege in string_list(fields.get("cluster"), "cluster")? {
        let held = grants.cluster_has(&privilege);
        all &= held;
        asked += 1;
        cluster.insert(privilege, json!(held));
    }
    let mut index = Map::new();
    let entries = match fields.get("index") {
        None => Vec::new(),
        Some(Value::Array(entries)) => entries.clone(),
        Some(_) => return Err(EsError::new("parse_exception", "[index] must be an array")),
    };
    for entry in entries {
        let names = string_list(entry.get("names"), "names")?;
        let privileges = string_list(entry.get("privileges"), "privileges")?;
        if names.is_empty() || privileges.is_empty() {
            return Err(EsError::new(
                "action_request_validation_exception",
                "Validation Failed: 1: indices privileges must refer to at least one index name and \
                 one privilege;",
            ));
        }
        for name in names {
            let slot = index
                .entry(name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            for privilege in &privileges {
                let held = grants.index_has(&name, privilege);
                all &= held;
                asked += 1;
                slot[privilege.as_str()] = json!(held);
            }
        }
    }
    if asked == 0 {
        return Err(EsError::new(
            "action_request_validation_exception",
            "Validation Failed: 1: must specify at least one privilege;",
        ));
    }
    Ok(json!({
        "username": user(options),
        "has_all_requested": all,
        "cluster": cluster,
        "index": index,
        "application": {},
    }))
}

/// The authenticated principal: the basic user, or an API key's id.
fn user(options: &EsOptions) -> String {
    match (&options.username, &options.api_key) {
        (Some(user), _) => user.clone(),
        (None, Some(key)) => key.split(':').next().unwrap_or_default().to_string(),
        (None, None) => String::new(),
    }
}

fn string_list(value: Option<&Value>, field: &str) -> Result<Vec<String>, EsError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_string).ok_or_else(|| {
                    EsError::new("parse_exception", format!("[{field}] must hold strings"))
                })
            })
            .collect(),
        Some(_) => Err(EsError::new(
            "parse_exception",
            format!("[{field}] must be an array of strings"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implications_follow_the_documented_hierarchy() {
        assert!(implies_index("write", "create_doc"));
        assert!(implies_index("index", "create_doc"));
        assert!(!implies_index("create_doc", "index"));
        assert!(!implies_index("read", "index"));
        assert!(implies_index("manage", "auto_configure"));
        assert!(implies_cluster("manage", "manage_ilm"));
        assert!(!implies_cluster("monitor", "manage_ilm"));
    }

    #[test]
    fn a_requested_pattern_is_covered_by_a_wider_grant_only() {
        let grants = Grants::on_indices(&["funlynk-*"], &["write"]);
        assert!(grants.index_has("funlynk-logs-*", "index"));
        assert!(!grants.index_has("other-*", "index"));
        let narrow = Grants::on_indices(&["funlynk-logs-2026*"], &["write"]);
        assert!(!narrow.index_has("funlynk-logs-*", "index"));
    }
}
