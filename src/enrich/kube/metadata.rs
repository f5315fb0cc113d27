//! Pod (with its Namespace and Node) -> the fields Filebeat's add_kubernetes_metadata writes, as the typed
//! `kubernetes` object of each of its containers, built once per pod and shared by the pod's files.

use k8s_openapi::api::core::v1::{
    Container, ContainerStatus, EphemeralContainer, Namespace, Node, Pod, PodSpec, PodStatus,
};
use std::sync::Arc;

use super::hints::{container_hints, is_hint_annotation, HintError};
use super::{dedot, owners};
use crate::event::kubernetes::{self, FromApi, Kubernetes};
use crate::event::Hints;

/// What the enrichment adds, as Filebeat's add_kubernetes_metadata options of the same names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataOptions {
    /// `labels.dedot` and `annotations.dedot`: `.` -> `_` in label and annotation keys.
    pub dedot: bool,
    /// `include_annotations`: exact keys, or prefixes ending in `*`. None by default, as in Filebeat:
    /// annotations are often large (last-applied-configuration) and rarely searched.
    pub include_annotations: Vec<String>,
    /// `kubernetes.namespace_labels.*`, when the Namespace is known.
    pub namespace_labels: bool,
    /// `kubernetes.node.{uid,labels}`, when the Node is known (`add_resource_metadata.node`).
    pub node_metadata: bool,
    /// `orchestrator.cluster.name` (`kubernetes.cluster_name`).
    pub cluster_name: Option<String>,
    /// Read `co.elastic.logs/*` and `elastic.co/*` annotations as hints (`hints.enabled`).
    pub hints: bool,
}

impl Default for MetadataOptions {
    fn default() -> MetadataOptions {
        MetadataOptions {
            dedot: true,
            include_annotations: Vec::new(),
            namespace_labels: true,
            node_metadata: false,
            cluster_name: None,
            hints: true,
        }
    }
}

impl MetadataOptions {
    /// Whether [`trim_pod`] keeps an annotation: shipped, or a hint.
    fn keeps_annotation(&self, key: &str) -> bool {
        self.includes_annotation(key) || (self.hints && is_hint_annotation(key))
    }

    /// Whether an annotation key is shipped.
    pub fn includes_annotation(&self, key: &str) -> bool {
        self.include_annotations
            .iter()
            .any(|pattern| crate::config::name_matches(pattern, key))
    }
}

/// One container of a pod (regular, init or ephemeral: each writes its own log file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerMetadata {
    pub name: String,
    pub image: Option<String>,
    /// The runtime's ID without its `<runtime>://` prefix: what the log file name ends with.
    pub id: Option<String>,
    /// `containerd`, `cri-o` or `docker`, from the ID's prefix. Both containerd and CRI-O write the CRI
    /// format, so only this tells them apart.
    pub runtime: Option<String>,
}

/// What the enrichment adds for the containers of one pod, built once and shared by every file of the pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodMetadata {
    pub uid: String,
    pub name: String,
    pub namespace: String,
    pub node_name: Option<String>,
    pub containers: Vec<ContainerMetadata>,
    /// The `kubernetes` object of each of `containers`, in the same order.
    kubernetes: Vec<Arc<Kubernetes>>,
    /// The hints of each of `containers`, in the same order.
    hints: Vec<Option<Arc<Hints>>>,
    /// Hints of this pod (or its namespace) left out, and why.
    pub hint_errors: Vec<HintError>,
}

impl PodMetadata {
    /// `None` when the pod lacks a name, UID or namespace: every object the API server returns has them,
    /// and without them there is nothing to match log files against.
    pub fn from_pod(
        pod: &Pod,
        namespace: Option<&Namespace>,
        node: Option<&Node>,
        options: &MetadataOptions,
    ) -> Option<PodMetadata> {
        let meta = &pod.metadata;
        let name = meta.name.clone()?;
        let uid = meta.uid.clone()?;
        let ns = meta.namespace.clone()?;
        let spec = pod.spec.as_ref();
        let node_name = spec.and_then(|s| s.node_name.clone());

        let labels = |map| dedot::object(map, options.dedot, |_| true);
        let mut kube = Kubernetes {
            pod: kubernetes::Pod {
                name: Some(name.clone()),
                uid: Some(uid.clone()),
                ip: pod.status.as_ref().and_then(|s| s.pod_ip.clone()),
            },
            namespace: Some(ns.clone()),
            labels: labels(meta.labels.as_ref()),
            annotations: dedot::object(meta.annotations.as_ref(), options.dedot, |k| {
                options.includes_annotation(k)
            }),
            workloads: owners::workloads(
                meta.owner_references.as_deref().unwrap_or_default(),
                meta.labels.as_ref(),
            ),
            cluster_name: options.cluster_name.clone(),
            ..Kubernetes::default()
        };
        kube.service = service(meta.labels.as_ref(), &kube.workloads);
        // The Namespace must be the pod's: the caller's cache could hand over a stale or wrong one.
        let namespace = namespace.filter(|n| n.metadata.name.as_deref() == Some(&ns));
        if let Some(ns_obj) = namespace {
            kube.namespace_uid = ns_obj.metadata.uid.clone();
            if options.namespace_labels {
                kube.namespace_labels = labels(ns_obj.metadata.labels.as_ref());
            }
        }
        if let Some(node_name) = &node_name {
            let mut node_obj = kubernetes::Node {
                name: node_name.clone(),
                ..kubernetes::Node::default()
            };
            let node = node.filter(|n| n.metadata.name.as_ref() == Some(node_name));
            if let (true, Some(node)) = (options.node_metadata, node) {
                node_obj.uid = node.metadata.uid.clone();
                node_obj.labels = labels(node.metadata.labels.as_ref());
            }
            kube.node = Some(node_obj);
        }

        let containers = containers(spec, pod.status.as_ref());
        let kubernetes = containers
            .iter()
            .map(|c| {
                Arc::new(Kubernetes {
                    container: kubernetes::Container {
                        name: Some(c.name.clone()),
                        image: c.image.clone(),
                    },
                    ..kube.clone()
                })
            })
            .collect();
        let mut hint_errors = Vec::new();
        let hints = containers
            .iter()
            .map(|c| {
                if !options.hints {
                    return None;
                }
                let ns_annotations = namespace.and_then(|n| n.metadata.annotations.as_ref());
                container_hints(
                    ns_annotations,
                    meta.annotations.as_ref(),
                    &c.name,
                    &mut hint_errors,
                )
            })
            .collect();
        // One report per annotation, however many containers read it.
        hint_errors.sort_by(|a, b| a.annotation.cmp(&b.annotation));
        hint_errors.dedup();
        Some(PodMetadata {
            uid,
            name,
            namespace: ns,
            node_name,
            containers,
            kubernetes,
            hints,
            hint_errors,
        })
    }

    /// What the API says of a container's events: the complete `kubernetes` object (pod, namespace,
    /// owners, labels, container name and image), and the `container` values it knows. `None` for a
    /// container the pod does not have.
    pub fn for_container(&self, container_name: &str) -> Option<FromApi<'_>> {
        let i = self.position(container_name)?;
        let c = &self.containers[i];
        Some(FromApi {
            kubernetes: &self.kubernetes[i],
            container_id: c.id.as_deref(),
            runtime: c.runtime.as_deref(),
            hints: self.hints[i].as_ref(),
        })
    }

    /// The container whose runtime ID this is, given bare (as in a log file name) or with its prefix.
    pub fn container_by_id(&self, id: &str) -> Option<&ContainerMetadata> {
        let bare = split_container_id(id).map_or(id, |(_, bare)| bare);
        self.containers
            .iter()
            .find(|c| c.id.as_deref() == Some(bare))
    }

    fn position(&self, container_name: &str) -> Option<usize> {
        self.containers
            .iter()
            .position(|c| c.name == container_name)
    }
}

/// `service.name`: the `app.kubernetes.io/name` label (Kubernetes' recommended label), else `app`,
/// else the name of the workload that owns the pod. `service.version`: `app.kubernetes.io/version`,
/// else `version`. From the labels as written, before any dedot.
fn service(
    labels: Option<&std::collections::BTreeMap<String, String>>,
    workloads: &kubernetes::Workloads,
) -> kubernetes::Service {
    let label = |keys: &[&str]| {
        keys.iter()
            .find_map(|key| labels?.get(*key).filter(|v| !v.is_empty()).cloned())
    };
    let owner = || {
        let w = workloads;
        [
            &w.deployment,
            &w.statefulset,
            &w.daemonset,
            &w.cronjob,
            &w.job,
            &w.replicaset,
        ]
        .into_iter()
        .find_map(Clone::clone)
    };
    kubernetes::Service {
        name: label(&["app.kubernetes.io/name", "app"]).or_else(owner),
        version: label(&["app.kubernetes.io/version", "version"]),
    }
}

/// Splits a status `containerID` (`containerd://…`, `cri-o://…`, `docker://…`) into (runtime, id). Any
/// other `<scheme>://` is split the same way, as Filebeat does, since the scheme is the runtime's own name.
pub fn split_container_id(id: &str) -> Option<(&str, &str)> {
    let (runtime, bare) = id.split_once("://")?;
    (!runtime.is_empty() && !bare.is_empty()).then_some((runtime, bare))
}

/// Regular, init and ephemeral containers with their status IDs, matched by name.
fn containers(spec: Option<&PodSpec>, status: Option<&PodStatus>) -> Vec<ContainerMetadata> {
    let named = |name: &str, image: &Option<String>, statuses: Option<&Vec<ContainerStatus>>| {
        let id = statuses
            .and_then(|s| s.iter().find(|s| s.name == name))
            .and_then(|s| s.container_id.as_deref())
            .and_then(split_container_id);
        ContainerMetadata {
            name: name.to_owned(),
            image: image.clone(),
            id: id.map(|(_, id)| id.to_owned()),
            runtime: id.map(|(runtime, _)| runtime.to_owned()),
        }
    };
    let Some(spec) = spec else {
        return Vec::new();
    };
    let regular = spec.containers.iter().map(|c: &Container| {
        named(
            &c.name,
            &c.image,
            status.and_then(|s| s.container_statuses.as_ref()),
        )
    });
    let init = spec.init_containers.iter().flatten().map(|c: &Container| {
        let statuses = status.and_then(|s| s.init_container_statuses.as_ref());
        named(&c.name, &c.image, statuses)
    });
    let ephemeral = spec
        .ephemeral_containers
        .iter()
        .flatten()
        .map(|c: &EphemeralContainer| {
            let statuses = status.and_then(|s| s.ephemeral_container_statuses.as_ref());
            named(&c.name, &c.image, statuses)
        });
    regular.chain(init).chain(ephemeral).collect()
}

/// Drops from a pod what [`PodMetadata::from_pod`] never reads, before the reflector stores it: a node
/// agent caches every pod of its node (or cluster), and managedFields, full container specs, volumes,
/// conditions and unshipped annotations are most of a pod's size. kube-rs's `.modify()` calls this on
/// every object as it arrives.
pub fn trim_pod(pod: &mut Pod, options: &MetadataOptions) {
    let meta = &mut pod.metadata;
    meta.managed_fields = None;
    meta.generate_name = None;
    meta.finalizers = None;
    meta.creation_timestamp = None;
    if let Some(annotations) = &mut meta.annotations {
        annotations.retain(|k, _| options.keeps_annotation(k));
        if annotations.is_empty() {
            meta.annotations = None;
        }
    }
    if let Some(refs) = &mut meta.owner_references {
        refs.retain(|r| r.controller == Some(true));
    }

    let bare = |c: &mut Container| Container {
        name: std::mem::take(&mut c.name),
        image: c.image.take(),
        ..Container::default()
    };
    pod.spec = pod.spec.take().map(|mut spec| PodSpec {
        node_name: spec.node_name.take(),
        containers: spec.containers.iter_mut().map(bare).collect(),
        init_containers: spec
            .init_containers
            .take()
            .map(|cs| cs.into_iter().map(|mut c| bare(&mut c)).collect()),
        ephemeral_containers: spec.ephemeral_containers.take().map(|cs| {
            cs.into_iter()
                .map(|c| EphemeralContainer {
                    name: c.name,
                    image: c.image,
                    ..EphemeralContainer::default()
                })
                .collect()
        }),
        ..PodSpec::default()
    });

    let statuses = |s: Option<Vec<ContainerStatus>>| {
        s.map(|s| {
            s.into_iter()
                .map(|s| ContainerStatus {
                    name: s.name,
                    container_id: s.container_id,
                    ..ContainerStatus::default()
                })
                .collect()
        })
    };
    pod.status = pod.status.take().map(|status| PodStatus {
        pod_ip: status.pod_ip,
        container_statuses: statuses(status.container_statuses),
        init_container_statuses: statuses(status.init_container_statuses),
        ephemeral_container_statuses: statuses(status.ephemeral_container_statuses),
        ..PodStatus::default()
    });
}

#[cfg(test)]
#[path = "metadata_tests.rs"]
mod tests;
