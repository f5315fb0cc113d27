//! `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`: whether the caller may do a verb on a
//! resource, answered from the RBAC rules the test set (`KubeServer::set_rules`), as the API server's
//! RBAC authorizer answers it. Without rules the caller may do anything (a kubeconfig's admin).
//!
//! Simplifications: the rules are one ClusterRole's (no namespaced Roles, no `resourceNames`); a
//! `nonResourceAttributes` review is allowed exactly when the rules hold a `*` verb and resource.

use serde_json::{json, Value};

use super::routes::status;

/// One rule of a ClusterRole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
}

impl Rule {
    /// A core-group (`""`) rule.
    pub fn core(resources: &[&str], verbs: &[&str]) -> Rule {
        Rule {
            api_groups: vec![String::new()],
            resources: resources.iter().map(|s| s.to_string()).collect(),
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn allows(&self, group: &str, resource: &str, verb: &str) -> bool {
        let has = |list: &[String], wanted: &str| list.iter().any(|x| x == "*" || x == wanted);
        has(&self.api_groups, group) && has(&self.resources, resource) && has(&self.verbs, verb)
    }
}

/// The review's answer: its status code and body.
pub fn review(rules: Option<&[Rule]>, body: &[u8]) -> (u16, Value) {
    let mut review: Value = match serde_json::from_slice(body) {
        Ok(value @ Value::Object(_)) => value,
        _ => {
            let message = "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf";
            return (415, status(415, "UnsupportedMediaType", message, None));
        }
    };
    if let Some(kind) = review.get("kind").and_then(Value::as_str) {
        if kind != "SelfSubjectAccessReview" {
            let message = format!(
                "SelfSubjectAccessReview in version \"v1\" cannot be handled as a {kind}: kind mismatch"
            );
            return (400, status(400, "BadRequest", &message, None));
        }
    }
    let spec = review.get("spec").cloned().unwrap_or(Value::Null);
    let resource = spec.get("resourceAttributes").filter(|v| v.is_object());
    let non_resource = spec.get("nonResourceAttributes").filter(|v| v.is_object());
    if resource.is_some() == non_resource.is_some() {
        let message = "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified";
        let details = json!({ "group": "authorization.k8s.io", "kind": "SelfSubjectAccessReview", "causes": [{ "reason": "FieldValueInvalid", "message": "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified", "field": "spec.resourceAttributes" }] });
        return (422, status(422, "Invalid", message, Some(details)));
    }
    let text = |attributes: Option<&Value>, key: &str| {
        attributes
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let allowed = match rules {
        None => true,
        Some(rules) if resource.is_some() => {
            let mut name = text(resource, "resource");
            let sub = text(resource, "subresource");
            if !sub.is_empty() {
                name = format!("{name}/{sub}");
            }
            let (group, verb) = (text(resource, "group"), text(resource, "verb"));
            rules.iter().any(|r| r.allows(&group, &name, &verb))
        }
        Some(rules) => rules
            .iter()
            .any(|r| r.verbs.iter().any(|v| v == "*") && r.resources.iter().any(|v| v == "*")),
    };
    let mut answer = json!({ "allowed": allowed });
    if allowed {
        answer["reason"] = json!(match rules {
            None => "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to User \"loglynk-test\"",
            Some(_) => "RBAC: allowed by ClusterRoleBinding \"loglynk\" of ClusterRole \"loglynk\" to ServiceAccount \"loglynk/logging\"",
        });
    }
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["kind"] = json!("SelfSubjectAccessReview");
    review["metadata"] = json!({ "creationTimestamp": null });
    review["status"] = answer;
    (201, review)
}
