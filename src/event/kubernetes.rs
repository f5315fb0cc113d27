//! `kubernetes.*`: the object Filebeat's add_kubernetes_metadata writes on every event, as a typed value,
//! and its JSON.
//!
//! Enrichment fills one per container of a pod from the API; without the API it is read from the log path
//! ([`Kubernetes::from_path`]). Either way it is serialized once, when a file's [`Origin`](super::Origin) is
//! built, so an event pays a copy of bytes for it, not a walk of this value.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::encode::string;
use super::PathMetadata;

/// Label (or annotation) keys and values as shipped, keys dedotted when asked. Sorted, one value a key; an
/// empty map is never written (no `labels: {}`).
pub type Labels = BTreeMap<String, String>;

/// `kubernetes.*` of one container's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kubernetes {
    pub pod: Pod,
    pub namespace: Option<String>,
    /// From the Namespace object, when it is known.
    pub namespace_uid: Option<String>,
    pub namespace_labels: Labels,
    pub node: Option<Node>,
    pub labels: Labels,
    pub annotations: Labels,
    pub workloads: Workloads,
    pub container: Container,
    /// Not under `kubernetes`: the top-level `service.*` the pod's labels name (see
    /// [`Kubernetes::write_derived`]).
    pub service: Service,
    /// `orchestrator.cluster.name`, from `kubernetes.cluster_name`: the API does not know its cluster's
    /// name.
    pub cluster_name: Option<String>,
}

/// `service.name` and `service.version`: what Kibana's log views and APM group a line under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Service {
    pub name: Option<String>,
    pub version: Option<String>,
}

/// `kubernetes.pod.*`. Name and UID are optional because a log path may lack either; the API always
/// has both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pod {
    pub name: Option<String>,
    pub uid: Option<String>,
    pub ip: Option<String>,
}

/// `kubernetes.node.*`: the name from the pod spec, the rest from the Node object when asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub uid: Option<String>,
    pub labels: Labels,
}

/// `kubernetes.<kind>.name` for the workload controllers a pod belongs to (a pod of a Deployment has
/// both `deployment` and `replicaset`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workloads {
    pub cronjob: Option<String>,
    pub daemonset: Option<String>,
    pub deployment: Option<String>,
    pub job: Option<String>,
    pub replicaset: Option<String>,
    pub statefulset: Option<String>,
}

/// `kubernetes.container.*`: the name from the log path or the pod spec, the image from the spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Container {
    pub name: Option<String>,
    pub image: Option<String>,
}

/// What the Kubernetes API said about a file's container: the `kubernetes` object, complete (it replaces
/// what the path said rather than merging with it), and the runtime's names that go in `container`.
#[derive(Debug, Clone, Copy)]
pub struct FromApi<'a> {
    pub kubernetes: &'a Arc<Kubernetes>,
    /// The container's runtime ID from the pod status; the path's ID wins when it has one, since a
    /// restarted container's older file belongs to the previous ID.
    pub container_id: Option<&'a str>,
    /// `containerd`, `cri-o`, `docker`: from the ID's prefix, truer than the line format's guess.
    pub runtime: Option<&'a str>,
    /// The container's hints (`co.elastic.logs/*`), when any.
    pub hints: Option<&'a Arc<super::Hints>>,
}

impl Workloads {
    /// The kinds set and their names, in key order.
    pub fn names(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("cronjob", &self.cronjob),
            ("daemonset", &self.daemonset),
            ("deployment", &self.deployment),
            ("job", &self.job),
            ("replicaset", &self.replicaset),
            ("statefulset", &self.statefulset),
        ]
        .into_iter()
        .filter_map(|(kind, name)| Some((kind, name.as_deref()?)))
    }
}

impl Kubernetes {
    /// What kubelet's log path names: pod name and UID, namespace, container name.
    pub fn from_path(meta: &PathMetadata) -> Kubernetes {
        Kubernetes {
            pod: Pod {
                name: meta.pod_name.clone(),
                uid: meta.pod_uid.clone(),
                ip: None,
            },
            namespace: meta.namespace.clone(),
            container: Container {
                name: meta.container_name.clone(),
                image: None,
            },
            ..Kubernetes::default()
        }
    }

    /// Nothing to write: no `kubernetes` member at all.
    pub fn is_empty(&self) -> bool {
        *self == Kubernetes::default()
    }

    /// Appends `,"orchestrator":{…}` and `,"service":{…}`: the ECS fields the API's description of a
    /// pod gives beside `kubernetes.*`. Written once per file, like the object itself.
    pub(super) fn write_derived(&self, out: &mut Vec<u8>) {
        if let (Some(pod), Some(namespace)) = (&self.pod.name, &self.namespace) {
            out.extend_from_slice(b",\"orchestrator\":");
            let mut o = Object::open(out);
            if let Some(cluster) = &self.cluster_name {
                let mut inner = Object::open(o.key("cluster"));
                inner.opt_str("name", Some(cluster));
                inner.close();
            }
            o.opt_str("namespace", Some(namespace));
            let mut resource = Object::open(o.key("resource"));
            resource.opt_str("name", Some(pod));
            resource.opt_str("type", Some("pod"));
            resource.close();
            o.opt_str("type", Some("kubernetes"));
            o.close();
        }
        let service = &self.service;
        if service.name.is_some() || service.version.is_some() {
            out.extend_from_slice(b",\"service\":");
            let mut o = Object::open(out);
            o.opt_str("name", service.name.as_deref());
            o.opt_str("version", service.version.as_deref());
            o.close();
        }
    }

    /// Appends the object, `{…}`. Members go in sorted key order: the order loglynk's documents have always
    /// had (they were once written from a sorted JSON map), kept so documents stay byte for byte the same.
    pub(super) fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Object::open(out);
        o.labels("annotations", &self.annotations);
        let c = &self.container;
        if c.name.is_some() || c.image.is_some() {
            let mut inner = Object::open(o.key("container"));
            inner.opt_str("image", c.image.as_deref());
            inner.opt_str("name", c.name.as_deref());
            inner.close();
        }
        let w = &self.workloads;
        o.workload("cronjob", w.cronjob.as_deref());
        o.workload("daemonset", w.daemonset.as_deref());
        o.workload("deployment", w.deployment.as_deref());
        o.workload("job", w.job.as_deref());
        o.labels("labels", &self.labels);
        o.opt_str("namespace", self.namespace.as_deref());
        o.labels("namespace_labels", &self.namespace_labels);
        o.opt_str("namespace_uid", self.namespace_uid.as_deref());
        if let Some(node) = &self.node {
            let mut inner = Object::open(o.key("node"));
            inner.labels("labels", &node.labels);
            inner.opt_str("name", Some(&node.name));
            inner.opt_str("uid", node.uid.as_deref());
            inner.close();
        }
        let pod = &self.pod;
        if pod.name.is_some() || pod.uid.is_some() || pod.ip.is_some() {
            let mut inner = Object::open(o.key("pod"));
            inner.opt_str("ip", pod.ip.as_deref());
            inner.opt_str("name", pod.name.as_deref());
            inner.opt_str("uid", pod.uid.as_deref());
            inner.close();
        }
        o.workload("replicaset", w.replicaset.as_deref());
        o.workload("statefulset", w.statefulset.as_deref());
        o.close();
    }
}

/// A JSON object being written: places the commas.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut Vec<u8>) -> Object<'a> {
        out.push(b'{');
        Object { out, empty: true }
    }

    /// Writes `"name":` and hands back the buffer for the value.
    fn key(&mut self, name: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        string(self.out, name);
        self.out.push(b':');
        self.out
    }

    fn opt_str(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            string(self.key(name), value);
        }
    }

    /// `"kind":{"name":…}`
    fn workload(&mut self, kind: &str, name: Option<&str>) {
        if let Some(name) = name {
            let mut inner = Object::open(self.key(kind));
            inner.opt_str("name", Some(name));
            inner.close();
        }
    }

    fn labels(&mut self, name: &str, labels: &Labels) {
        if labels.is_empty() {
            return;
        }
        let mut inner = Object::open(self.key(name));
        for (key, value) in labels {
            inner.opt_str(key, Some(value));
        }
        inner.close();
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(k: &Kubernetes) -> String {
        let mut out = Vec::new();
        k.write_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_member_in_sorted_key_order() {
        let some = |s: &str| Some(s.to_owned());
        let k = Kubernetes {
            pod: Pod {
                name: some("web-1"),
                uid: some("u-1"),
                ip: some("10.0.0.1"),
            },
            namespace: some("shop"),
            namespace_uid: some("n-1"),
            namespace_labels: labels(&[("team", "a")]),
            node: Some(Node {
                name: "node-a".into(),
                uid: some("nd-1"),
                labels: labels(&[("zone", "z1")]),
            }),
            labels: labels(&[("tier", "web"), ("app", "x\"y")]),
            annotations: labels(&[("note", "é\n")]),
            workloads: Workloads {
                cronjob: some("cj"),
                daemonset: some("ds"),
                deployment: some("dep"),
                job: some("j"),
                replicaset: some("rs"),
                statefulset: some("ss"),
            },
            container: Container {
                name: some("app"),
                image: some("app:1"),
            },
            service: Service {
                name: some("web"),
                version: None,
            },
            cluster_name: some("prod-1"),
        };
        assert_eq!(
            json(&k),
            concat!(
                r#"{"annotations":{"note":"é\n"},"container":{"image":"app:1","name":"app"},"#,
                r#""cronjob":{"name":"cj"},"daemonset":{"name":"ds"},"deployment":{"name":"dep"},"#,
                r#""job":{"name":"j"},"labels":{"app":"x\"y","tier":"web"},"namespace":"shop","#,
                r#""namespace_labels":{"team":"a"},"namespace_uid":"n-1","#,
                r#""node":{"labels":{"zone":"z1"},"name":"node-a","uid":"nd-1"},"#,
                r#""pod":{"ip":"10.0.0.1","name":"web-1","uid":"u-1"},"#,
                r#""replicaset":{"name":"rs"},"statefulset":{"name":"ss"}}"#
            )
        );
    }

    #[test]
    fn orchestrator_and_service_beside_kubernetes() {
        let mut k = Kubernetes {
            pod: Pod {
                name: Some("web-1".into()),
                ..Pod::default()
            },
            namespace: Some("shop".into()),
            service: Service {
                name: Some("web".into()),
                version: Some("1.2".into()),
            },
            ..Kubernetes::default()
        };
        let derived = |k: &Kubernetes| {
            let mut out = Vec::new();
            k.write_derived(&mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            derived(&k),
            concat!(
                r#","orchestrator":{"namespace":"shop","resource":{"name":"web-1","type":"pod"},"#,
                r#""type":"kubernetes"},"service":{"name":"web","version":"1.2"}"#
            )
        );
        k.cluster_name = Some("prod-1".into());
        k.service = Service::default();
        assert_eq!(
            derived(&k),
            concat!(
                r#","orchestrator":{"cluster":{"name":"prod-1"},"namespace":"shop","#,
                r#""resource":{"name":"web-1","type":"pod"},"type":"kubernetes"}"#
            )
        );
        // The object itself never carries them.
        assert!(!json(&k).contains("prod-1"));
    }

    #[test]
    fn from_a_path_only_what_it_names() {
        let meta = PathMetadata {
            pod_name: Some("web-1".into()),
            namespace: None,
            pod_uid: None,
            container_name: Some("app".into()),
            container_id: Some("abc".into()),
        };
        assert_eq!(
            json(&Kubernetes::from_path(&meta)),
            r#"{"container":{"name":"app"},"pod":{"name":"web-1"}}"#
        );
        let nothing = PathMetadata {
            container_id: Some("abc".into()),
            ..PathMetadata::default()
        };
        assert!(Kubernetes::from_path(&nothing).is_empty());
        assert!(!Kubernetes::from_path(&meta).is_empty());
    }

    #[test]
    fn workload_names_in_key_order() {
        let w = Workloads {
            replicaset: Some("web-1".into()),
            deployment: Some("web".into()),
            ..Workloads::default()
        };
        assert_eq!(
            w.names().collect::<Vec<_>>(),
            [("deployment", "web"), ("replicaset", "web-1")]
        );
    }
}
