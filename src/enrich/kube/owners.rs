//! `kubernetes.{deployment,replicaset,statefulset,daemonset,job,cronjob}.name` from a pod's controller.
//!
//! Filebeat reads the pod's controller ownerReference for the direct owner, then, with
//! `add_resource_metadata.deployment` / `.cronjob`, asks the API for the ReplicaSet's (or Job's) own owner.
//! That is one more watch (or GET) per pod on every node. The names Kubernetes generates let us skip it:
//! - the Deployment controller names its ReplicaSets `<deployment>-<pod-template-hash>` and stamps the same
//!   hash on the pods as the `pod-template-hash` label, so the ReplicaSet name minus `-<that label>` is the
//!   Deployment;
//! - the CronJob controller names its Jobs `<cronjob>-<scheduled time in minutes since the epoch>`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use crate::event::kubernetes::Workloads;

/// The workloads a pod's controller names, directly or (for a ReplicaSet or a Job) through its name.
pub fn workloads(
    owners: &[OwnerReference],
    labels: Option<&BTreeMap<String, String>>,
) -> Workloads {
    let mut out = Workloads::default();
    // Only the managing controller: other owners (e.g. a garbage-collection parent) say nothing about
    // which workload the pod belongs to, and Filebeat ignores them too.
    let Some(owner) = owners.iter().find(|o| o.controller == Some(true)) else {
        return out;
    };
    let name = owner.name.clone();
    match owner.kind.as_str() {
        "ReplicaSet" => {
            let hash = labels.and_then(|l| l.get("pod-template-hash"));
            out.deployment = hash
                .and_then(|h| deployment_of(&name, h))
                .map(str::to_owned);
            out.replicaset = Some(name);
        }
        "Job" => {
            out.cronjob = cronjob_of(&name).map(str::to_owned);
            out.job = Some(name);
        }
        "Deployment" => out.deployment = Some(name),
        "StatefulSet" => out.statefulset = Some(name),
        "DaemonSet" => out.daemonset = Some(name),
        "CronJob" => out.cronjob = Some(name),
        _ => {}
    }
    out
}

/// `web-7d9f8b6c5` with hash `7d9f8b6c5` -> `web`. A ReplicaSet made by hand carries no matching
/// `pod-template-hash`, so it names no Deployment rather than a wrong one.
fn deployment_of<'a>(replicaset: &'a str, hash: &str) -> Option<&'a str> {
    let prefix = replicaset.strip_suffix(hash)?.strip_suffix('-')?;
    (!prefix.is_empty()).then_some(prefix)
}

/// Scheduled times a CronJob's Job suffix may plausibly hold, in minutes since the epoch: 2015-01-01
/// (CronJobs arrived in Kubernetes 1.4, 2016) to about 2200. The floor is what tells a CronJob's Job from a
/// hand-made `migrate-20240101`: a yyyymmdd date read as minutes falls before 2015 until the year 2366.
const CRONJOB_MINUTES: std::ops::RangeInclusive<u64> = 23_667_840..=121_000_000;

/// `report-28391234` -> `report`.
fn cronjob_of(job: &str) -> Option<&str> {
    let (prefix, suffix) = job.rsplit_once('-')?;
    if prefix.is_empty() || suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let minutes: u64 = suffix.parse().ok()?;
    CRONJOB_MINUTES.contains(&minutes).then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The workloads set, as (kind, name) in key order.
    fn owner_names(
        owners: &[OwnerReference],
        labels: Option<&BTreeMap<String, String>>,
    ) -> Vec<(&'static str, String)> {
        workloads(owners, labels)
            .names()
            .map(|(kind, name)| (kind, name.to_owned()))
            .collect()
    }

    fn owner(kind: &str, name: &str, controller: Option<bool>) -> OwnerReference {
        OwnerReference {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: "u".into(),
            controller,
            block_owner_deletion: None,
        }
    }

    fn labels(hash: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("pod-template-hash".to_owned(), hash.to_owned())])
    }

    #[test]
    fn replicaset_names_its_deployment_only_with_the_matching_hash() {
        let rs = [owner("ReplicaSet", "web-7d9f8b6c5", Some(true))];
        assert_eq!(
            owner_names(&rs, Some(&labels("7d9f8b6c5"))),
            [
                ("deployment", "web".into()),
                ("replicaset", "web-7d9f8b6c5".into())
            ]
        );
        assert_eq!(
            owner_names(&rs, Some(&labels("other"))),
            [("replicaset", "web-7d9f8b6c5".into())]
        );
        assert_eq!(
            owner_names(&rs, None),
            [("replicaset", "web-7d9f8b6c5".into())]
        );
    }

    #[test]
    fn job_names_its_cronjob_only_for_a_scheduled_time_suffix() {
        let names = |job: &str| owner_names(&[owner("Job", job, Some(true))], None);
        assert_eq!(
            names("report-28391234"),
            [
                ("cronjob", "report".into()),
                ("job", "report-28391234".into())
            ]
        );
        for job in [
            "migrate-20240101",
            "migrate",
            "migrate-v2",
            "-28391234",
            "x-99999999999",
        ] {
            assert_eq!(names(job), [("job", job.into())], "{job}");
        }
    }

    #[test]
    fn only_the_controller_counts() {
        let owners = [
            owner("StatefulSet", "not-me", None),
            owner("DaemonSet", "loglynk", Some(true)),
        ];
        assert_eq!(
            owner_names(&owners, None),
            [("daemonset", "loglynk".into())]
        );
        assert!(owner_names(&[owner("Node", "n", Some(true))], None).is_empty());
    }
}
