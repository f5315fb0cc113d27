//! The limiter's buckets against synthetic files and events: what a turn may read, when a held file
//! is asked again, and exactly what a drop limit flags.

use super::*;
use crate::event::{PathMetadata, Text, Timestamp};

fn origin(namespace: &str, pod: &str) -> Arc<Origin> {
    let metadata = PathMetadata {
        namespace: Some(namespace.into()),
        pod_name: Some(pod.into()),
        ..PathMetadata::default()
    };
    Origin::new(
        format!("/var/log/containers/{pod}_{namespace}_app-1.log"),
        metadata,
    )
}

fn rule(per: LimitScope, limit: &str, policy: LimitPolicy) -> RateLimitRule {
    RateLimitRule {
        per,
        limit: limit.parse().unwrap(),
        policy,
        pods: Vec::new(),
    }
}

fn line(offset: u64, len: u64) -> Line {
    Line {
        bytes: bytes::Bytes::new(),
        offset,
        end: offset + len,
        truncated: false,
    }
}

fn events(origin: &Arc<Origin>, n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let text = Text::from("0123456789");
            Event::new(Arc::clone(origin), Timestamp::from_nanos(0), text, i as u64)
        })
        .collect()
}

fn flagged(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| e.flags.contains(Flags::RATE_LIMITED))
        .count()
}

#[test]
fn a_delay_limit_gives_each_turn_what_is_left_and_holds_the_file_until_it_refills() {
    let telemetry = Arc::new(Telemetry::default());
    let rules = vec![rule(LimitScope::Pod, "10/s", LimitPolicy::Delay)];
    let mut limits = Limits::new(rules, Arc::clone(&telemetry));
    let (a, b) = (FileKey::new(1), FileKey::new(2));
    let t0 = Instant::now();
    let web = origin("shop", "web");
    assert_eq!(limits.admit(a, &web, || None, t0), Admit::Now);
    assert_eq!(limits.turn(a, RateUnit::Lines), Some(10));
    assert_eq!(limits.turn(a, RateUnit::Bytes), None);
    for i in 0..10 {
        limits.read(a, &line(i * 10, 10));
    }
    // The pod's other container shares its bucket; another pod has its own.
    let held = limits.admit(b, &web, || None, t0);
    assert_eq!(held, Admit::Limited(t0 + Duration::from_millis(100)));
    assert!(limits.holds_any());
    assert_eq!(
        limits.admit(FileKey::new(3), &origin("shop", "db"), || None, t0),
        Admit::Now
    );
    let t1 = t0 + Duration::from_millis(350);
    assert_eq!(limits.admit(a, &web, || None, t1), Admit::Now);
    assert_eq!(limits.turn(a, RateUnit::Lines), Some(3));
    // Published at once, so /metrics sees the pod held.
    assert_eq!(telemetry.limited_pods()[0].pod, "web");
    assert_eq!(telemetry.limited_pods()[0].policy, "delay");
}

#[test]
fn a_byte_limit_for_the_node_counts_every_file_and_waits_for_a_useful_turn() {
    let rules = vec![rule(LimitScope::Node, "8KiB/s", LimitPolicy::Delay)];
    let mut limits = Limits::new(rules, Arc::new(Telemetry::default()));
    let t0 = Instant::now();
    let (a, b) = (FileKey::new(1), FileKey::new(2));
    assert_eq!(limits.admit(a, &origin("a", "x"), || None, t0), Admit::Now);
    assert_eq!(limits.turn(a, RateUnit::Bytes), Some(8192));
    limits.read(a, &line(0, 8000));
    // 192 bytes left: not worth a turn until 4 KiB are.
    let held = limits.admit(b, &origin("b", "y"), || None, t0);
    let wait = Duration::from_secs_f64((4096.0 - 192.0) / 8192.0);
    assert_eq!(held, Admit::Limited(t0 + wait));
}

#[test]
fn a_drop_limit_flags_exactly_what_is_beyond_it_per_pod_and_per_namespace() {
    let telemetry = Arc::new(Telemetry::default());
    let rules = vec![
        rule(LimitScope::Pod, "100/h", LimitPolicy::Drop),
        rule(LimitScope::Namespace, "150/h", LimitPolicy::Drop),
    ];
    let mut limits = Limits::new(rules, Arc::clone(&telemetry));
    let t0 = Instant::now();
    let web = origin("shop", "web");
    let (a, b) = (FileKey::new(1), FileKey::new(2));
    limits.admit(a, &web, || None, t0);
    let mut batch = events(&web, 130);
    limits.parsed(a, &mut batch[..60], t0);
    limits.parsed(a, &mut batch[60..], t0);
    assert_eq!(flagged(&batch), 30, "the pod's 100 pass");
    assert!(batch[..100].iter().all(|e| e.flags.is_empty()));
    // Another pod of the namespace: 50 left of the namespace's 150.
    let db = origin("shop", "db");
    limits.admit(b, &db, || None, t0);
    let mut batch = events(&db, 80);
    limits.parsed(b, &mut batch, t0);
    assert_eq!(flagged(&batch), 30);
    limits.publish(t0 + PUBLISH_EVERY);
    let pods = telemetry.limited_pods();
    assert_eq!(pods.len(), 2);
    // As many dropped: by name.
    assert_eq!((pods[1].pod.as_str(), pods[1].dropped), ("web", 30));
    assert_eq!((pods[1].policy, pods[1].scope), ("drop", "pod"));
    assert_eq!((pods[0].dropped, pods[0].scope), (30, "namespace"));
    // Once nothing is held or dropped for a while, no pod is limited.
    limits.publish(t0 + PUBLISH_EVERY + LIMITED_FOR);
    assert!(telemetry.limited_pods().is_empty());
}

#[test]
fn bytes_beyond_a_drop_limit_are_the_messages_and_a_full_bucket_lets_a_large_one_through() {
    let rules = vec![rule(LimitScope::Pod, "25B/h", LimitPolicy::Drop)];
    let mut limits = Limits::new(rules, Arc::new(Telemetry::default()));
    let t0 = Instant::now();
    let web = origin("shop", "web");
    limits.admit(FileKey::new(1), &web, || None, t0);
    let mut batch = events(&web, 3);
    limits.parsed(FileKey::new(1), &mut batch, t0);
    assert_eq!(
        flagged(&batch),
        1,
        "10 + 10 bytes pass, the third is over 25"
    );
    let rules = vec![rule(LimitScope::Pod, "5B/h", LimitPolicy::Drop)];
    let mut limits = Limits::new(rules, Arc::new(Telemetry::default()));
    limits.admit(FileKey::new(1), &web, || None, t0);
    let mut batch = events(&web, 2);
    limits.parsed(FileKey::new(1), &mut batch, t0);
    assert_eq!(flagged(&batch), 1);
    assert!(batch[0].flags.is_empty());
}
