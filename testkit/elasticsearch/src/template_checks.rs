//! The checks a composable template goes through before it is stored, in
//! `MetadataIndexTemplateService`'s order: overlapping patterns at the same priority, name/pattern/
//! settings validation, the template composed as an index would be (mappings, aliases, a data
//! stream's `@timestamp`), and no data stream left without its data stream template.
//! The built-in `logs` template (`builtin.rs`) is a stored template like the others, so a shipper's
//! `logs-*` template at priority 100 runs into it here.

use std::collections::BTreeMap;

use serde_json::Map;

use super::aliases;
use super::errors::{validation_failed, EsError};
use super::index_mode;
use super::indices;
use super::mapping::Limits;
use super::mapping_json;
use super::patterns::overlap;
use super::setting_rules;
use super::store::Store;
use super::templates::{find, Template};

fn iae(reason: impl Into<String>) -> EsError {
    EsError::new("illegal_argument_exception", reason)
}

pub fn invalid(name: &str, cause: String) -> EsError {
    EsError::new(
        "invalid_index_template_exception",
        format!("index_template [{name}] invalid, cause [{cause}]"),
    )
}

fn java_list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

pub fn check_overlap(store: &Store, name: &str, template: &Template) -> Result<(), EsError> {
    let mut clashes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (other, existing) in &store.templates {
        if other != name
            && existing.priority() == template.priority()
            && overlap(&existing.index_patterns, &template.index_patterns)
        {
            clashes.insert(other.clone(), existing.index_patterns.clone());
        }
    }
    if clashes.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = clashes.keys().map(String::as_str).collect();
    let listed: Vec<String> = clashes
        .iter()
        .map(|(n, p)| format!("{n} => {}", java_list(p)))
        .collect();
    Err(iae(format!(
        "index template [{name}] has index patterns {} matching patterns from existing templates [{}] \
         with patterns ({}) that have the same priority [{}], multiple index templates may not match \
         during index creation, please use a different priority",
        java_list(&template.index_patterns),
        names.join(","),
        listed.join(","),
        template.priority()
    )))
}

/// `MetadataIndexTemplateService.validate`: name, patterns, settings, then aliases.
pub fn validate(name: &str, template: &Template, version: &str) -> Result<(), EsError> {
    let mut problems = Vec::new();
    let name_rules = [
        (name.contains(' '), "name must not contain a space"),
        (name.contains(','), "name must not contain a ','"),
        (name.contains('#'), "name must not contain a '#'"),
        (name.contains('*'), "name must not contain a '*'"),
        (name.starts_with('_'), "name must not start with '_'"),
        (name.to_lowercase() != name, "name must be lower cased"),
    ];
    problems.extend(
        name_rules
            .iter()
            .filter(|(bad, _)| *bad)
            .map(|(_, p)| p.to_string()),
    );
    for pattern in &template.index_patterns {
        let rules = [
            (pattern.contains(' '), format!("index_patterns [{pattern}] must not contain a space")),
            (pattern.contains(','), format!("index_pattern [{pattern}] must not contain a ','")),
            (pattern.contains('#'), format!("index_pattern [{pattern}] must not contain a '#'")),
            (pattern.contains(':'), format!("index_pattern [{pattern}] must not contain a ':'")),
            (pattern.starts_with('_'), format!("index_pattern [{pattern}] must not start with '_'")),
            (
                pattern.chars().any(|c| ['\\', '/', '?', '"', '<', '>', '|'].contains(&c)),
                format!("index_pattern [{pattern}] must not contain the following characters [\\, /, ?, \", <, >, |,  , ,]"),
            ),
        ];
        problems.extend(rules.into_iter().filter(|(bad, _)| *bad).map(|(_, p)| p));
    }
    problems.extend(setting_rules::problems(&template.settings));
    if let Err(error) = index_mode::check_settings(&template.settings, version) {
        problems.push(error.reason);
    }
    if !problems.is_empty() {
        return Err(invalid(name, validation_failed(&problems)));
    }
    for alias in template.aliases.iter().flat_map(Map::keys) {
        if template.index_patterns.contains(alias) {
            return Err(iae(format!(
                "alias [{alias}] cannot be the same as any pattern in [{}]",
                template.index_patterns.join(", ")
            )));
        }
    }
    Ok(())
}

/// The template applied to a stand-in index, as `validateCompositeTemplate` does.
pub fn compose(store: &Store, name: &str, template: &Template) -> Result<(), EsError> {
    let aliases = template.alias_metas()?;
    aliases::validate(store, &format!("validate-template-{name}"), &aliases)?;
    let backing = template.data_stream.is_some();
    let mappings = index_mode::with_defaults(
        &template.settings,
        indices::compose_mappings(backing, template.mappings.as_ref(), None),
    );
    mapping_json::parse(&mappings, Limits::default())
        .map_err(|inner| {
            EsError::new(
                "mapper_parsing_exception",
                format!("Failed to parse mapping: {}", inner.reason),
            )
            .caused_by(inner)
        })
        .and_then(|m| {
            index_mode::check_mapping(&template.settings, &mappings, &m)?;
            if backing {
                indices::check_timestamp(&m)
            } else {
                Ok(())
            }
        })
        .map_err(|cause| iae(format!("invalid composite mappings for [{name}]")).caused_by(cause))
}

/// `validateDataStreamsStillReferenced`: no data stream may lose its data stream template.
pub fn check_data_streams_kept(
    store: &Store,
    name: &str,
    template: &Template,
) -> Result<(), EsError> {
    let mut templates = store.templates.clone();
    templates.insert(name.to_string(), template.clone());
    let after = Store {
        templates,
        ..Store::default()
    };
    let lost: Vec<&String> = store
        .data_streams
        .keys()
        .filter(|ds| {
            let before = find(store, ds).is_some_and(|(_, t)| t.data_stream.is_some());
            let now = find(&after, ds).is_some_and(|(_, t)| t.data_stream.is_some());
            before && !now
        })
        .collect();
    if lost.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = lost.iter().map(|s| s.as_str()).collect();
    Err(iae(format!(
        "composable template [{name}] with index patterns {}, priority [{}] {}would cause data streams [{}] \
         to no longer match a data stream template",
        java_list(&template.index_patterns),
        template.priority.map_or("null".to_string(), |p| p.to_string()),
        if template.data_stream.is_none() { "and no data stream configuration " } else { "" },
        names.join(", ")
    )))
}
