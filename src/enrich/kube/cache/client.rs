//! Building the API client: the service account inside a pod, a kubeconfig elsewhere.

use std::path::{Path, PathBuf};

use kube::config::{InClusterError, KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("in-cluster Kubernetes configuration (KUBERNETES_SERVICE_HOST is set) failed: {0}")]
    InCluster(InClusterError),
    #[error("kubeconfig {}: {cause}", path.display())]
    Kubeconfig {
        path: PathBuf,
        cause: KubeconfigError,
    },
    #[error(
        "no Kubernetes configuration: KUBERNETES_SERVICE_HOST is not set (not in a pod) and no \
         usable kubeconfig in $KUBECONFIG or ~/.kube/config: {0}"
    )]
    NoConfig(KubeconfigError),
    #[error(
        "no node name for the pod watch: set kubernetes.node_name, or NODE_NAME from the downward \
         API (fieldRef spec.nodeName)"
    )]
    NoNodeName,
    #[error("Kubernetes client could not be created: {0}")]
    Client(kube::Error),
}

/// The client for the API server. An explicit `kubeconfig` wins, since someone asked for it; then the
/// pod's service account when `KUBERNETES_SERVICE_HOST` is set (the DaemonSet case); then
/// `$KUBECONFIG` or `~/.kube/config` (a developer's machine).
pub async fn client_from_env(kubeconfig: Option<&Path>) -> Result<Client, KubeError> {
    let config = match kubeconfig {
        Some(path) => {
            let error = |cause| KubeError::Kubeconfig {
                path: path.to_path_buf(),
                cause,
            };
            let file = Kubeconfig::read_from(path).map_err(error)?;
            Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                .await
                .map_err(error)?
        }
        None if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() => {
            Config::incluster().map_err(KubeError::InCluster)?
        }
        None => Config::from_kubeconfig(&KubeConfigOptions::default())
            .await
            .map_err(KubeError::NoConfig)?,
    };
    Client::try_from(config).map_err(KubeError::Client)
}
