//! `output.elasticsearch.hosts`, read as Filebeat reads it: a host without a scheme gets `https://` when
//! a CA is configured (else `http://`), and one without a port gets 9200.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::Serializer;
use url::{Position, Url};

use super::de::split_list;
use super::model::{Ssl, DEFAULT_ES_HOST, DEFAULT_ES_PORT};
use super::tree::Node;

pub(crate) fn default_host() -> Url {
    parse_host(DEFAULT_ES_HOST).expect("DEFAULT_ES_HOST is a valid URL")
}

/// Gives every scheme-less host in the tree its scheme. Done on the tree, before typed deserialization,
/// because the choice depends on a sibling key (`ssl.certificate_authorities`) that `hosts` cannot see.
pub(crate) fn default_schemes(tree: &mut Node) {
    let has_ca = match tree.get(&["output", "elasticsearch", "ssl", "certificate_authorities"]) {
        None => !Ssl::default().certificate_authorities.is_empty(),
        Some(Node::Seq(items)) => !items.is_empty(),
        Some(Node::Str(s)) => split_list(s).is_ok_and(|items| !items.is_empty()),
        Some(_) => false,
    };
    let scheme = if has_ca { "https" } else { "http" };
    let Some(hosts) = tree.get_mut(&["output", "elasticsearch", "hosts"]) else {
        return;
    };
    if let Node::Str(s) = hosts {
        if let Ok(items) = split_list(s) {
            *hosts = Node::Seq(items);
        }
    }
    if let Node::Seq(items) = hosts {
        for item in items {
            if let Node::Str(host) = item {
                if !host.contains("://") {
                    *host = format!("{scheme}://{}", host.trim());
                }
            }
        }
    }
}

/// Parses one host URL, adding the default port when none is written. The URL crate drops a port
/// equal to the scheme's default, so whether one was written is read from the text.
pub(crate) fn parse_host(s: &str) -> Result<Url, url::ParseError> {
    let s = s.trim();
    let mut url = Url::parse(s)?;
    if !has_explicit_port(s) {
        // Fails only for URLs that cannot have a port (`mailto:`), which validation rejects by scheme.
        let _ = url.set_port(Some(DEFAULT_ES_PORT));
    }
    Ok(url)
}

fn has_explicit_port(url: &str) -> bool {
    let Some((_, after_scheme)) = url.split_once("://") else {
        return false;
    };
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let after_host = match host_port.rfind(']') {
        Some(end) => &host_port[end + 1..],
        None => host_port,
    };
    after_host.contains(':')
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Url>, D::Error> {
    let hosts = Vec::<Host>::deserialize(deserializer)?;
    Ok(hosts.into_iter().map(|h| h.0).collect())
}

pub(crate) fn serialize<S: Serializer>(hosts: &[Url], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(hosts.iter().map(|url| with_port(url)))
}

/// The URL with its port written out. The URL crate leaves out a port equal to the scheme's default
/// (`https://es:443` is `https://es/`), which [`parse_host`] would read back as port 9200.
fn with_port(url: &Url) -> Cow<'_, str> {
    match (url.port(), url.port_or_known_default()) {
        (None, Some(port)) => Cow::Owned(format!(
            "{}:{port}{}",
            &url[..Position::AfterHost],
            &url[Position::BeforePath..]
        )),
        _ => Cow::Borrowed(url.as_str()),
    }
}

/// One element, so an error names the element's index.
struct Host(Url);

impl<'de> Deserialize<'de> for Host {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Host, D::Error> {
        deserializer.deserialize_string(HostVisitor)
    }
}

struct HostVisitor;

impl Visitor<'_> for HostVisitor {
    type Value = Host;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a URL like https://elasticsearch:9200")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Host, E> {
        let with_scheme;
        let text = if v.contains("://") {
            v
        } else {
            with_scheme = format!("http://{}", v.trim());
            &with_scheme
        };
        parse_host(text)
            .map(Host)
            .map_err(|e| E::custom(format_args!("invalid URL {v:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts_after_defaulting(yaml: &str) -> Node {
        let mut tree = Node::parse(yaml).unwrap();
        default_schemes(&mut tree);
        tree.get(&["output", "elasticsearch", "hosts"])
            .unwrap()
            .clone()
    }

    fn strings(items: &[&str]) -> Node {
        Node::Seq(items.iter().map(|s| Node::Str((*s).to_owned())).collect())
    }

    #[test]
    fn scheme_follows_the_ca() {
        let with_default_ca = "output: {elasticsearch: {hosts: ['es:9200', 'http://x']}}";
        assert_eq!(
            hosts_after_defaulting(with_default_ca),
            strings(&["https://es:9200", "http://x"])
        );
        let no_ca =
            "output: {elasticsearch: {hosts: 'a:1, b', ssl: {certificate_authorities: []}}}";
        assert_eq!(
            hosts_after_defaulting(no_ca),
            strings(&["http://a:1", "http://b"])
        );
    }

    #[test]
    fn port_defaults_to_9200_only_when_absent() {
        let port = |s: &str| parse_host(s).unwrap().port_or_known_default();
        assert_eq!(port("https://es"), Some(9200));
        assert_eq!(port("https://es/prefix"), Some(9200));
        assert_eq!(port("https://es:443"), Some(443));
        assert_eq!(port("http://user:pw@es"), Some(9200));
        assert_eq!(port("http://[::1]"), Some(9200));
        assert_eq!(port("http://[::1]:80"), Some(80));
        assert_eq!(
            default_host().as_str(),
            "https://funlynk-logs-es-http:9200/"
        );
    }

    /// Found by fuzz/fuzz_targets/config_load.rs (fuzz/regressions/config_load/): a scheme's default
    /// port, written or left empty, was printed without it and read back as 9200.
    #[test]
    fn a_printed_host_reads_back_as_the_same_url() {
        for (written, printed) in [
            ("https://es:443", "https://es:443/"),
            (
                "https://https:/\u{fffd}/es:8400",
                "https://https:443/%EF%BF%BD/es:8400",
            ),
            ("http://user@[::1]:80/p?q#f", "http://user@[::1]:80/p?q#f"),
            ("https://es", "https://es:9200/"),
        ] {
            let url = parse_host(written).unwrap();
            assert_eq!(with_port(&url), printed);
            assert_eq!(parse_host(printed).unwrap(), url, "{written}");
        }
    }
}
