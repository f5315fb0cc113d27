//! `output.elasticsearch.hosts`, read as Filebeat reads it: a host without a scheme gets `https://` when
//! a CA is configured (else `http://`), one without a port gets 9200, and `user:password@` in a host
//! is taken out of the URL and used as the output's credentials.

use std::borrow::Cow;
use std::fmt;

use percent_encoding::percent_decode_str;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::Serializer;
use url::{Position, Url};

use super::de::split_list;
use super::model::{ElasticsearchOutput, Ssl, DEFAULT_ES_HOST, DEFAULT_ES_PORT};
use super::secret::{Secret, MASK};
use super::tree::Node;
use super::validate::Finding;

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
    serializer.collect_seq(hosts.iter().map(|url| with_port(&masked(url)).into_owned()))
}

/// Which credentials the configuration itself set, as opposed to defaults.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Written {
    pub(crate) username: bool,
    pub(crate) password: bool,
}

/// Moves `user:password@` out of every host URL into `username` and `password`, as Filebeat does,
/// so the URL that is printed, logged and used as the base carries none. Problems: hosts with
/// different credentials, or credentials also set otherwise and differing (named by key, never
/// showing the password). Returns whether a password was taken, so the environment's default
/// password is not applied over it.
pub(crate) fn take_credentials(
    es: &mut ElasticsearchOutput,
    written: Written,
) -> (bool, Vec<Finding>) {
    let mut problems = Vec::new();
    let mut taken: Option<(usize, String, Option<Secret>)> = None;
    for (i, url) in es.hosts.iter_mut().enumerate() {
        if url.username().is_empty() && url.password().is_none() {
            continue;
        }
        let user = decode(url.username());
        let password = url.password().map(|p| Secret::new(decode(p)));
        // Fails only for URLs that cannot have credentials, which validation rejects by scheme.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        match &taken {
            None => taken = Some((i, user, password)),
            Some((first, u, p)) if (u, p) != (&user, &password) => problems.push((
                format!("output.elasticsearch.hosts.{i}"),
                format!(
                    "has other credentials than hosts.{first}; one output uses one user for \
                     every host"
                ),
            )),
            Some(_) => {}
        }
    }
    let Some((i, user, password)) = taken else {
        return (false, problems);
    };
    let from = format!("output.elasticsearch.hosts.{i}");
    let mut conflict = |key: &str, what: &str| {
        problems.push((
            format!("output.elasticsearch.{key}"),
            format!("differs from the {what} in {from}; set it in one place"),
        ))
    };
    if !user.is_empty() {
        if written.username && es.username.as_deref().is_some_and(|u| u != user) {
            conflict("username", "user name");
        }
        es.username = Some(user);
    }
    let Some(password) = password else {
        return (false, problems);
    };
    if es.api_key.is_some() {
        problems.push((
            "output.elasticsearch.api_key".into(),
            format!("cannot be used together with the password in {from}; set one of them"),
        ));
        return (true, problems);
    }
    if written.password && es.password.as_ref().is_some_and(|p| *p != password) {
        conflict("password", "password");
    }
    es.password = Some(password);
    (true, problems)
}

fn decode(part: &str) -> String {
    percent_decode_str(part).decode_utf8_lossy().into_owned()
}

/// The URL with a password masked. Loading takes credentials out of the URLs; this keeps a `Config`
/// built in code from printing one.
fn masked(url: &Url) -> Cow<'_, Url> {
    if url.password().is_none() {
        return Cow::Borrowed(url);
    }
    let mut url = url.clone();
    let _ = url.set_password(Some(MASK));
    Cow::Owned(url)
}

/// `text` with whatever is between the scheme and an `@` masked, for an error about a URL that did
/// not parse (so it could not be taken apart).
fn redact(text: &str) -> Cow<'_, str> {
    let Some((scheme, rest)) = text.split_once("://") else {
        return Cow::Borrowed(text);
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => Cow::Owned(format!("{scheme}://{MASK}{}", &rest[at..])),
        None => Cow::Borrowed(text),
    }
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
            .map_err(|e| E::custom(format_args!("invalid URL {:?}: {e}", redact(v))))
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

    fn output(hosts: &[&str]) -> ElasticsearchOutput {
        ElasticsearchOutput {
            hosts: hosts.iter().map(|h| parse_host(h).unwrap()).collect(),
            ..ElasticsearchOutput::default()
        }
    }

    #[test]
    fn credentials_move_out_of_the_url() {
        let mut es = output(&[
            "http://bob:p%40ss%2Fw@es1",
            "http://bob:p%40ss%2Fw@es2:9201",
        ]);
        let (taken, problems) = take_credentials(&mut es, Written::default());
        assert!(taken);
        assert_eq!(problems, []);
        let hosts: Vec<&str> = es.hosts.iter().map(Url::as_str).collect();
        assert_eq!(hosts, ["http://es1:9200/", "http://es2:9201/"]);
        assert_eq!(es.username.as_deref(), Some("bob"));
        assert_eq!(es.password.as_ref().map(Secret::expose), Some("p@ss/w"));

        // A user name alone sets only the user name.
        let mut es = output(&["http://bob@es"]);
        assert_eq!(
            take_credentials(&mut es, Written::default()),
            (false, vec![])
        );
        assert_eq!((es.username.as_deref(), es.password), (Some("bob"), None));
    }

    #[test]
    fn credentials_set_twice_must_agree() {
        let written = Written {
            username: true,
            password: true,
        };
        let mut es = output(&["http://bob:pw@es"]);
        es.username = Some("bob".into());
        es.password = Some(Secret::new("pw"));
        assert_eq!(take_credentials(&mut es, written).1, []);

        es = output(&["http://bob:pw-1@es", "http://eve:pw-1@es2"]);
        es.password = Some(Secret::new("pw-2"));
        let keys: Vec<String> = take_credentials(&mut es, written)
            .1
            .into_iter()
            .map(|(key, message)| {
                assert!(!message.contains("pw-"), "{message}");
                key
            })
            .collect();
        assert_eq!(
            keys,
            [
                "output.elasticsearch.hosts.1",
                "output.elasticsearch.username",
                "output.elasticsearch.password"
            ]
        );

        // The default user name (not written) gives way; an API key does not.
        let mut es = output(&["http://bob:pw@es"]);
        es.api_key = Some(Secret::new("k"));
        let (_, problems) = take_credentials(&mut es, Written::default());
        assert_eq!(problems[0].0, "output.elasticsearch.api_key");
        assert_eq!(es.username.as_deref(), Some("bob"));
        assert_eq!(es.password, None);
    }

    #[test]
    fn a_password_is_never_printed() {
        assert_eq!(
            redact("http://bob:s3cret@es:port/x"),
            "http://********@es:port/x"
        );
        assert_eq!(redact("http://es:9200/a@b"), "http://es:9200/a@b");
        assert_eq!(redact("es:9200"), "es:9200");
        let url = parse_host("http://bob:s3cret@es").unwrap();
        assert_eq!(with_port(&masked(&url)), "http://bob:********@es:9200/");
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
