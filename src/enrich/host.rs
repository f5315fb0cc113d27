//! `host.*`, as Filebeat's add_host_metadata writes it, read once at start.

use std::path::Path;

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HostMetadata {
    /// The Kubernetes node name when known (`NODE_NAME` from the downward API), so `host.name` matches
    /// `kubernetes.node.name`; else the hostname.
    pub name: String,
    pub hostname: String,
    pub architecture: &'static str,
    pub os: OsMetadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct OsMetadata {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
}

impl HostMetadata {
    /// Reads the host's identity under `root` (`/`, or where the node's root is mounted in a container, so
    /// `host.os` describes the node rather than the agent's image).
    pub fn read(root: &Path, node_name: Option<String>) -> HostMetadata {
        let hostname = read_trimmed(&root.join("proc/sys/kernel/hostname"))
            .or_else(|| gethostname::gethostname().into_string().ok())
            .unwrap_or_default();
        let os_release = std::fs::read_to_string(root.join("etc/os-release"))
            .or_else(|_| std::fs::read_to_string(root.join("usr/lib/os-release")))
            .unwrap_or_default();
        let mut os = parse_os_release(&os_release);
        os.kernel = read_trimmed(Path::new("/proc/sys/kernel/osrelease"));
        HostMetadata {
            name: node_name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| hostname.clone()),
            hostname,
            architecture: std::env::consts::ARCH,
            os,
            id: read_trimmed(&root.join("etc/machine-id")),
        }
    }
}

fn read_trimmed(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// os-release(5): `KEY=value` lines, values optionally quoted.
fn parse_os_release(text: &str) -> OsMetadata {
    let mut os = OsMetadata {
        kind: "linux",
        ..OsMetadata::default()
    };
    let mut id_like = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .to_owned();
        match key.trim() {
            "ID" => os.platform = Some(value),
            "NAME" => os.name = Some(value),
            "VERSION" => os.version = Some(value),
            "VERSION_CODENAME" => os.codename = Some(value),
            "ID_LIKE" => id_like = Some(value),
            _ => {}
        }
    }
    // Filebeat's family: the distribution a platform derives from, or the platform itself.
    os.family = id_like
        .and_then(|like| like.split_whitespace().next().map(str::to_owned))
        .or_else(|| os.platform.clone());
    os
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_os_release_under_a_root() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::write(
            root.path().join("etc/os-release"),
            "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\n\
             ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\n",
        )
        .unwrap();
        std::fs::write(root.path().join("etc/machine-id"), "abc123\n").unwrap();
        let host = HostMetadata::read(root.path(), Some("node-7".into()));
        assert_eq!(host.name, "node-7");
        assert_eq!(host.os.platform.as_deref(), Some("ubuntu"));
        assert_eq!(host.os.name.as_deref(), Some("Ubuntu"));
        assert_eq!(host.os.family.as_deref(), Some("debian"));
        assert_eq!(host.os.codename.as_deref(), Some("jammy"));
        assert_eq!(host.id.as_deref(), Some("abc123"));
        assert_eq!(host.os.kind, "linux");
    }

    #[test]
    fn falls_back_to_the_hostname_and_tolerates_a_bare_root() {
        let root = tempfile::tempdir().unwrap();
        let host = HostMetadata::read(root.path(), None);
        assert_eq!(host.name, host.hostname);
        assert!(!host.hostname.is_empty());
        assert_eq!(host.os.platform, None);
    }
}
