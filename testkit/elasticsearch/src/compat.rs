//! REST API compatibility headers (`compatible-with=<major>` in `Accept` and `Content-Type`), checked
//! as `RestCompatibleVersionHelper` checks them: each major takes its own version and the one before
//! (8.x: 8 and 7; 9.x: 9 and 8), the two headers must agree when there is a body, and either both are
//! versioned or neither. Anything else is a 400 `media_type_header_exception`.

use super::errors::EsError;

/// The majors a node of `version` answers: its own and the one before.
fn range(version: &str) -> (u8, u8) {
    let major: u8 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(8);
    // A 7.17 node also takes 8 (its compatibility with 8.x clients).
    if major == 7 {
        return (7, 8);
    }
    (major - 1, major)
}

/// The `compatible-with` of a media type, when it has one.
pub fn asked(value: Option<&str>) -> Option<u8> {
    value?.split(';').skip(1).find_map(|p| {
        let (name, v) = p.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("compatible-with")
            .then(|| v.trim().parse().ok())?
    })
}

/// Checks the headers of a request to a node of `version`; the version to answer in.
pub fn check(
    version: &str,
    accept: Option<&str>,
    content_type: Option<&str>,
    has_body: bool,
) -> Result<Option<u8>, EsError> {
    let (oldest, current) = range(version);
    let (a, c) = (asked(accept), asked(content_type));
    let fail = |headers: &str, reason: String| {
        Err(EsError::new(
            "media_type_header_exception",
            format!("Invalid media-type value on headers [{headers}]"),
        )
        .caused_by(EsError::new("status_exception", reason)))
    };
    let accept_version = a.unwrap_or(current);
    if accept_version > current || accept_version < oldest {
        return fail(
            "Accept",
            format!(
                "Accept version must be either version {current} or {oldest}, but found \
                 {accept_version}. Accept={}",
                accept.unwrap_or_default()
            ),
        );
    }
    if has_body {
        let content_version = c.unwrap_or(current);
        if content_version > current || content_version < oldest {
            return fail(
                "Content-Type",
                format!(
                    "Content-Type version must be either version {current} or {oldest}, but found \
                     {content_version}. Content-Type={}",
                    content_type.unwrap_or_default()
                ),
            );
        }
        if content_version != accept_version || a.is_some() != c.is_some() {
            return fail(
                "Accept, Content-Type",
                format!(
                    "A compatible version is required on both Content-Type and Accept headers if \
                     either one has requested a compatible version and the compatible versions must \
                     match. Accept={}, Content-Type={}",
                    accept.unwrap_or_default(),
                    content_type.unwrap_or_default()
                ),
            );
        }
    }
    Ok(a.or(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON8: &str = "application/vnd.elasticsearch+json; compatible-with=8";
    const JSON9: &str = "application/vnd.elasticsearch+json; compatible-with=9";
    const NDJSON9: &str = "application/vnd.elasticsearch+x-ndjson;compatible-with=9";

    #[test]
    fn each_major_takes_its_own_version_and_the_one_before() {
        assert_eq!(
            check("8.17.0", Some(JSON8), Some(JSON8), true).unwrap(),
            Some(8)
        );
        assert_eq!(
            check("9.1.0", Some(JSON8), Some(JSON8), true).unwrap(),
            Some(8)
        );
        assert_eq!(
            check("9.1.0", Some(JSON9), Some(NDJSON9), true).unwrap(),
            Some(9)
        );
        assert_eq!(
            check("9.1.0", None, Some("application/json"), true).unwrap(),
            None
        );
        let refused = check("8.19.0", Some(JSON9), Some(NDJSON9), true).unwrap_err();
        let body = refused.body(400).to_string();
        assert!(body.contains("media_type_header_exception"), "{body}");
        assert!(
            body.contains("Accept version must be either version 8 or 7, but found 9"),
            "{body}"
        );
        let seven = "application/vnd.elasticsearch+json; compatible-with=7";
        assert!(check("9.0.0", Some(seven), None, false).is_err());
        assert!(check("8.8.0", Some(seven), None, false).is_ok());
    }

    #[test]
    fn the_two_headers_must_agree_when_there_is_a_body() {
        let body = |e: EsError| e.body(400).to_string();
        let mixed = check("9.1.0", Some(JSON8), Some(NDJSON9), true).unwrap_err();
        assert!(body(mixed).contains("the compatible versions must match"));
        let half = check("9.1.0", Some(JSON9), Some("application/x-ndjson"), true).unwrap_err();
        assert!(body(half).contains("A compatible version is required"));
        // Without a body the Content-Type is not looked at.
        assert!(check("9.1.0", Some(JSON9), Some(JSON8), false).is_ok());
    }
}
