//! Paths in the registry file: a string when they are UTF-8, else their raw bytes.
//!
//! serde's own `PathBuf` impl refuses a path that is not UTF-8. Unix allows such names, and one odd file
//! name must not stop every offset from being saved.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize)]
#[serde(untagged)]
enum Written<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Read {
    Text(String),
    Bytes(Vec<u8>),
}

pub fn serialize<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    match path.to_str() {
        Some(text) => Written::Text(text),
        None => Written::Bytes(path.as_os_str().as_bytes()),
    }
    .serialize(serializer)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PathBuf, D::Error> {
    Ok(match Read::deserialize(deserializer)? {
        Read::Text(text) => PathBuf::from(text),
        Read::Bytes(bytes) => PathBuf::from(OsString::from_vec(bytes)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        path: PathBuf,
    }

    fn round_trip(path: PathBuf) -> String {
        let json = serde_json::to_string(&Holder { path: path.clone() }).unwrap();
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap().path, path);
        json
    }

    #[test]
    fn utf8_paths_are_strings_and_others_are_bytes() {
        assert_eq!(
            round_trip(PathBuf::from("/var/log/containers/a\"b.log")),
            r#"{"path":"/var/log/containers/a\"b.log"}"#
        );
        assert_eq!(
            round_trip(PathBuf::from(OsString::from_vec(b"/x\xff".to_vec()))),
            r#"{"path":[47,120,255]}"#
        );
    }
}
