//! `SelfSubjectAccessReview`s: allowed by the rules a test sets, refused otherwise, invalid reviews
//! rejected as the API server rejects them.

use serde_json::json;

use crate::client::{post, request};
use crate::kubernetes::{KubeOptions, KubeServer, Rule};

const REVIEWS: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

fn review(verb: &str, resource: &str) -> serde_json::Value {
    json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": verb, "group": "", "resource": resource}},
    })
}

#[test]
fn reviews_answer_from_the_rules() {
    let server = KubeServer::start(KubeOptions::default());
    let admin = post(server.addr(), REVIEWS, &review("watch", "pods"));
    assert_eq!(admin.status, 201);
    let answer = admin.json();
    assert_eq!(answer["status"]["allowed"], true);
    assert_eq!(answer["spec"]["resourceAttributes"]["verb"], "watch");
    assert_eq!(answer["kind"], "SelfSubjectAccessReview");

    server.set_rules(Some(vec![Rule::core(&["pods"], &["get", "list"])]));
    let list = post(server.addr(), REVIEWS, &review("list", "pods")).json();
    assert_eq!(list["status"]["allowed"], true);
    assert!(list["status"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("RBAC: allowed"));
    let watch = post(server.addr(), REVIEWS, &review("watch", "pods")).json();
    assert_eq!(watch["status"], json!({"allowed": false}));
    let nodes = post(server.addr(), REVIEWS, &review("get", "nodes")).json();
    assert_eq!(nodes["status"]["allowed"], false);
}

#[test]
fn invalid_reviews_are_refused() {
    let server = KubeServer::start(KubeOptions::with_token("t0ken"));
    let anonymous = post(server.addr(), REVIEWS, &review("get", "pods"));
    assert_eq!(anonymous.status, 401, "authentication comes first");

    let server = KubeServer::start(KubeOptions::default());
    let empty = post(
        server.addr(),
        REVIEWS,
        &json!({"kind": "SelfSubjectAccessReview", "spec": {}}),
    );
    assert_eq!(empty.status, 422);
    assert_eq!(empty.json()["reason"], "Invalid");
    let wrong = post(server.addr(), REVIEWS, &json!({"kind": "Pod", "spec": {}}));
    assert_eq!(wrong.status, 400);
    let get = request(server.addr(), "GET", REVIEWS, None).unwrap();
    assert_eq!(get.status, 405);
}
