//! The Kubernetes side: the API reachable, this node known, and the RBAC the agent needs allowed, one
//! `SelfSubjectAccessReview` per verb and resource (what the service account may do, asked of the API
//! server itself, rather than read from roles doctor may not be allowed to read).

use std::time::Duration;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams, PostParams};
use kube::Client;

use super::{Check, Report};
use crate::config::{Config, Kubernetes, KubernetesMode};
use crate::enrich::kube::cache::{client_from_env, KubeError};

const TIMEOUT: Duration = Duration::from_secs(10);

const RBAC_FIX: &str = "grant the agent's service account the ClusterRole in deploy/loglynk \
                        (README, \"Kubernetes metadata\") and bind it";

pub async fn check(config: &Config, node_name_env: Option<String>, report: &mut Report) {
    let k = &config.kubernetes;
    if k.enabled == KubernetesMode::Off {
        report.push(Check::pass(
            "kubernetes",
            "kubernetes.enabled is false: events carry only their path's metadata",
        ));
        return;
    }
    let client = match client_from_env(k.kubeconfig.as_deref()).await {
        Ok(client) => client,
        Err(KubeError::NoConfig(_)) if k.enabled == KubernetesMode::Auto => {
            report.push(Check::pass(
                "kubernetes",
                "not in a pod and no kubeconfig: off (kubernetes.enabled auto); events carry \
                 only their path's metadata",
            ));
            return;
        }
        Err(e) => {
            report.push(Check::fail(
                "kubernetes config",
                e.to_string(),
                "in a pod, keep automountServiceAccountToken on; elsewhere set \
                 kubernetes.kubeconfig",
            ));
            return;
        }
    };
    match tokio::time::timeout(TIMEOUT, client.apiserver_version()).await {
        Ok(Ok(info)) => report.push(Check::pass(
            "kubernetes API",
            format!("answered: Kubernetes {}", info.git_version),
        )),
        Ok(Err(e)) => {
            report.push(Check::fail(
                "kubernetes API",
                e.to_string(),
                "check the API server's address and that NetworkPolicies let the agent reach it",
            ));
            return;
        }
        Err(_) => {
            report.push(Check::fail(
                "kubernetes API",
                format!("no answer within {}s", TIMEOUT.as_secs()),
                "check the API server's address and that NetworkPolicies let the agent reach it",
            ));
            return;
        }
    }
    let node_name = k
        .node_name
        .clone()
        .or(node_name_env.filter(|n| !n.is_empty()));
    report.push(node(&client, node_name.as_deref()).await);
    for (resource, verbs) in needed(k) {
        report.push(rbac(&client, resource, verbs).await);
    }
}

/// What the agent reads: its node's pods always; namespaces for `namespace_labels`; the node for
/// `node_metadata`.
fn needed(k: &Kubernetes) -> Vec<(&'static str, &'static [&'static str])> {
    let mut needed: Vec<(&str, &[&str])> = vec![("pods", &["get", "list", "watch"])];
    if k.namespace_labels {
        needed.push(("namespaces", &["get", "list", "watch"]));
    }
    if k.node_metadata {
        needed.push(("nodes", &["get"]));
    }
    needed
}

async fn node(client: &Client, name: Option<&str>) -> Check {
    let check = "kubernetes node";
    let Some(name) = name else {
        return Check::fail(
            check,
            "no node name: kubernetes.node_name and $NODE_NAME are unset",
            "set NODE_NAME from the downward API (env valueFrom fieldRef spec.nodeName)",
        );
    };
    let pods: Api<Pod> = Api::all(client.clone());
    let on_node = ListParams::default().fields(&format!("spec.nodeName={name}"));
    let count = match tokio::time::timeout(TIMEOUT, pods.list_metadata(&on_node)).await {
        Ok(Ok(list)) => Ok(list.items.len()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {}s", TIMEOUT.as_secs())),
    };
    let nodes: Api<Node> = Api::all(client.clone());
    match tokio::time::timeout(TIMEOUT, nodes.get_opt(name)).await {
        Ok(Ok(Some(_))) => match count {
            Ok(n) => Check::pass(check, format!("{name}: known, {n} pods scheduled on it")),
            Err(e) => Check::pass(check, format!("{name}: known (its pods: {e})")),
        },
        Ok(Ok(None)) => Check::fail(
            check,
            format!("no node named {name}"),
            "NODE_NAME must come from the pod's spec.nodeName (downward API), not be written by hand",
        ),
        // Reading nodes needs RBAC only node_metadata asks for: its pods show the name is right.
        _ => match count {
            Ok(n) if n > 0 => Check::pass(
                check,
                format!("{name}: {n} pods scheduled on it (the node object is not readable)"),
            ),
            Ok(_) => Check::fail(
                check,
                format!("no pod is scheduled on a node named {name}"),
                "NODE_NAME must come from the pod's spec.nodeName (downward API)",
            ),
            Err(e) => Check::fail(check, format!("{name}: cannot list its pods: {e}"), RBAC_FIX),
        },
    }
}

async fn rbac(client: &Client, resource: &str, verbs: &[&str]) -> Check {
    let check = format!("kubernetes RBAC {resource}");
    let reviews: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let mut refused = Vec::new();
    for verb in verbs {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    group: Some(String::new()),
                    resource: Some(resource.to_owned()),
                    verb: Some((*verb).to_owned()),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let answer =
            tokio::time::timeout(TIMEOUT, reviews.create(&PostParams::default(), &review)).await;
        match answer {
            Ok(Ok(done)) if done.status.as_ref().is_some_and(|s| s.allowed) => {}
            Ok(Ok(_)) => refused.push((*verb).to_owned()),
            Ok(Err(e)) => {
                return Check::fail(
                    check,
                    format!("cannot ask the API server: {e}"),
                    "SelfSubjectAccessReview is allowed to every authenticated user; check the \
                     service account's token",
                )
            }
            Err(_) => {
                return Check::fail(
                    check,
                    format!("no answer within {}s", TIMEOUT.as_secs()),
                    "check the API server",
                )
            }
        }
    }
    if refused.is_empty() {
        Check::pass(check, format!("{} allowed", verbs.join(", ")))
    } else {
        Check::fail(
            check,
            format!(
                "{} refused ({} needed)",
                refused.join(", "),
                verbs.join(", ")
            ),
            RBAC_FIX,
        )
    }
}
