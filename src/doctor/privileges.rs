//! The privilege to write where `run` writes, asked of Elasticsearch's privileges API
//! (`_security/user/_has_privileges`) rather than tried with a document: doctor writes nothing.

use elasticsearch::http::Method;
use serde_json::{json, Value};

use super::elasticsearch::{reason, TIMEOUT};
use super::Check;
use crate::config::{Config, IndexMode, DATA_STREAM_PATTERN};
use crate::output::elasticsearch::bulk::BulkAction;
use crate::output::elasticsearch::client::EsClient;
use crate::output::elasticsearch::{write_target, WriteTarget};

/// Asks the cluster whether the user holds the write privilege where `run` writes, and may create
/// the day's index or the data stream on the first write.
pub(super) async fn privileges(config: &Config, client: &EsClient, host: &str) -> Check {
    let name = "elasticsearch write privilege";
    let es = &config.output.elasticsearch;
    let (target, action) = match write_target(es, &config.setup) {
        Ok(WriteTarget::Index(pattern, action)) => (wildcard(pattern.as_str()), action),
        // Any dataset and namespace a pod's hints may name.
        Ok(WriteTarget::DataStreams) => (DATA_STREAM_PATTERN.to_owned(), BulkAction::Create),
        Err(e) => return Check::fail(name, e.to_string(), "fix output.elasticsearch.index"),
    };
    let write = match action {
        BulkAction::Create => "create_doc",
        BulkAction::Index => "index",
    };
    // Daily indices and the data stream are created by the first write to them; the rollover alias
    // is created by bootstrap. Either privilege lets a bulk request create them.
    let creates = !(config.setup.enabled && config.setup.mode == IndexMode::Rollover);
    let mut asked = vec![write];
    if creates {
        asked.extend(["auto_configure", "create_index"]);
    }
    let body = json!({ "index": [{ "names": [target], "privileges": asked }] });
    let reply = match client
        .request(
            Method::Post,
            "/_security/user/_has_privileges",
            Some(body.to_string().into_bytes()),
            TIMEOUT,
        )
        .await
    {
        Ok(reply) => reply,
        Err(e) => return Check::fail(name, e.to_string(), "run doctor again"),
    };
    let answer: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    if reply.status == 500
        && answer.pointer("/error/type").and_then(Value::as_str) == Some("security_exception")
    {
        return Check::pass(
            name,
            format!("{host}: security is off on the cluster: anyone may write to {target}"),
        );
    }
    if reply.status != 200 {
        return Check::fail(
            name,
            format!(
                "{host}: cannot ask (HTTP {}): {}",
                reply.status,
                reason(&reply)
            ),
            "run doctor with the agent's own credentials",
        );
    }
    let held = |privilege: &str| answer["index"][&target][privilege].as_bool() == Some(true);
    let user = answer["username"].as_str().unwrap_or("the user");
    let mut missing = Vec::new();
    if !held(write) {
        missing.push(write.to_owned());
    }
    if creates && !held("auto_configure") && !held("create_index") {
        missing.push("auto_configure (or create_index)".to_owned());
    }
    if missing.is_empty() {
        let how = if creates {
            format!("{write} and auto_configure")
        } else {
            write.to_owned()
        };
        Check::pass(name, format!("{host}: {user} holds {how} on {target}"))
    } else {
        Check::fail(
            name,
            format!("{host}: {user} lacks {} on {target}", missing.join(", ")),
            format!(
                "grant the agent's role the index privileges {} on {target} (ECK: the role in \
                 the loglynk user's secret)",
                missing.join(", ")
            ),
        )
    }
}

/// `funlynk-logs-%{+yyyy.MM.dd}` -> `funlynk-logs-*`: every index the pattern can render.
fn wildcard(pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("%{") {
        out.push_str(&rest[..start]);
        out.push('*');
        rest = rest[start..]
            .find('}')
            .map_or("", |end| &rest[start + end + 1..]);
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_becomes_the_wildcard_of_every_index_it_renders() {
        assert_eq!(wildcard("funlynk-logs-%{+yyyy.MM.dd}"), "funlynk-logs-*");
        assert_eq!(
            wildcard("logs-%{[kubernetes.namespace]}-%{+yyyy}"),
            "logs-*-*"
        );
        assert_eq!(wildcard("funlynk-logs"), "funlynk-logs");
    }
}
