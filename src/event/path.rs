//! Kubernetes identity from kubelet's log paths, needing no API call.
//!
//! Mirrors kubelet's naming (pkg/kubelet/kuberuntime/kuberuntime_manager.go, `BuildContainerLogsDirectory`
//! and the legacy symlink name):
//! - `/var/log/containers/<pod>_<namespace>_<container>-<container id>.log`, a symlink to
//! - `/var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<restart count>.log`
//!
//! Pod and namespace names are DNS labels/subdomains and never contain `_`, which is what makes the
//! underscore a safe separator.

use std::path::Path;

/// Kubernetes identity of a log file, read from its path (kubelet's naming scheme).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathMetadata {
    pub pod_name: Option<String>,
    pub namespace: Option<String>,
    pub pod_uid: Option<String>,
    pub container_name: Option<String>,
    pub container_id: Option<String>,
}

/// Reads what it can from the discovered path (the symlink) and the file it points to; what the symlink
/// name says wins, the pod directory fills in the pod UID.
pub fn path_metadata(discovered: &Path, target: Option<&Path>) -> PathMetadata {
    let mut meta = from_symlink_name(discovered).unwrap_or_default();
    let pods = target
        .and_then(from_pods_path)
        .or_else(|| from_pods_path(discovered));
    if let Some(pods) = pods {
        meta.pod_name = meta.pod_name.or(pods.pod_name);
        meta.namespace = meta.namespace.or(pods.namespace);
        meta.pod_uid = meta.pod_uid.or(pods.pod_uid);
        meta.container_name = meta.container_name.or(pods.container_name);
    }
    meta
}

/// `<pod>_<namespace>_<container>-<64 hex id>.log`
fn from_symlink_name(path: &Path) -> Option<PathMetadata> {
    let name = path.file_name()?.to_str()?.strip_suffix(".log")?;
    let (rest, id) = name.rsplit_once('-')?;
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut parts = rest.splitn(3, '_');
    let (pod, namespace, container) = (parts.next()?, parts.next()?, parts.next()?);
    if [pod, namespace, container].iter().any(|p| p.is_empty()) || container.contains('_') {
        return None;
    }
    Some(PathMetadata {
        pod_name: Some(pod.to_owned()),
        namespace: Some(namespace.to_owned()),
        pod_uid: None,
        container_name: Some(container.to_owned()),
        container_id: Some(id.to_owned()),
    })
}

/// `…/<namespace>_<pod>_<uid>/<container>/<n>.log` (also a rotated `<n>.log.<time>` or its `.gz`).
fn from_pods_path(path: &Path) -> Option<PathMetadata> {
    let file = path.file_name()?.to_str()?;
    let restart = file.split('.').next()?;
    if restart.is_empty() || !restart.bytes().all(|b| b.is_ascii_digit()) || !file.contains(".log")
    {
        return None;
    }
    let container_dir = path.parent()?;
    let container = container_dir.file_name()?.to_str()?;
    let pod_dir = container_dir.parent()?.file_name()?.to_str()?;
    let mut parts = pod_dir.splitn(3, '_');
    let (namespace, pod, uid) = (parts.next()?, parts.next()?, parts.next()?);
    if [namespace, pod, uid, container]
        .iter()
        .any(|p| p.is_empty())
        || uid.contains('_')
    {
        return None;
    }
    Some(PathMetadata {
        pod_name: Some(pod.to_owned()),
        namespace: Some(namespace.to_owned()),
        pod_uid: Some(uid.to_owned()),
        container_name: Some(container.to_owned()),
        container_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4f8d6a3c1b2e9f70a5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918abcd";

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn symlink_and_target_together() {
        let link = format!("/var/log/containers/web-7d9f8b6c5-x2x4q_shop_nginx-proxy-{ID}.log");
        let target =
            "/var/log/pods/shop_web-7d9f8b6c5-x2x4q_0b6f3c1e-8d2a-4c39-9a51-3f1d2e7c8b90/nginx-proxy/0.log";
        let meta = path_metadata(Path::new(&link), Some(Path::new(target)));
        assert_eq!(
            meta,
            PathMetadata {
                pod_name: some("web-7d9f8b6c5-x2x4q"),
                namespace: some("shop"),
                pod_uid: some("0b6f3c1e-8d2a-4c39-9a51-3f1d2e7c8b90"),
                container_name: some("nginx-proxy"),
                container_id: some(ID),
            }
        );
    }

    #[test]
    fn pods_path_alone_and_rotated_files() {
        for file in ["3.log", "0.log.20261124-065458", "0.log.20261124-065458.gz"] {
            let path = format!("/var/log/pods/kube-system_coredns-abc_1234-5678/coredns/{file}");
            let meta = path_metadata(Path::new(&path), None);
            assert_eq!(meta.pod_name, some("coredns-abc"), "{file}");
            assert_eq!(meta.namespace, some("kube-system"));
            assert_eq!(meta.pod_uid, some("1234-5678"));
            assert_eq!(meta.container_name, some("coredns"));
            assert_eq!(meta.container_id, None);
        }
    }

    #[test]
    fn other_paths_give_nothing() {
        for path in [
            "/var/log/syslog",
            "/var/log/containers/no-id.log",
            &format!("/var/log/containers/a_b-{ID}.log"),
            &format!("/var/log/containers/a_b_c-{}.log", &ID[..63]),
            "/var/log/pods/bad/c/0.log",
            "/var/log/pods/ns_pod_uid/c/current.log",
            "0.log",
        ] {
            assert_eq!(
                path_metadata(Path::new(path), None),
                PathMetadata::default(),
                "{path}"
            );
        }
    }
}
