//! `output.file`, as Filebeat's file output: NDJSON files in a directory, rotated by size.

use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Filebeat names the files after the beat; loglynk after itself.
pub const DEFAULT_FILE_NAME: &str = "loglynk";
/// Filebeat's default: 10 MiB files.
pub const DEFAULT_ROTATE_EVERY_KB: u64 = 10 * 1024;
/// Filebeat's default: the current file and six rotated ones.
pub const DEFAULT_NUMBER_OF_FILES: usize = 7;
/// The events carry whatever the containers logged: readable by the agent's user only, as Filebeat.
pub const DEFAULT_FILE_PERMISSIONS: u32 = 0o600;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileOutput {
    /// `false` leaves the section written but unused, as Filebeat's `enabled`.
    pub enabled: bool,
    /// The directory the files are written in (created if missing). Required.
    pub path: PathBuf,
    /// The current file is `<filename>.ndjson`; rotated ones `<filename>.1.ndjson` (newest) and on.
    pub filename: String,
    /// A file is rotated before it would grow past this many KiB.
    pub rotate_every_kb: u64,
    /// Files kept, the current one included; the oldest is deleted.
    pub number_of_files: usize,
    /// Mode of the files, octal as in Filebeat (`0600`).
    #[serde(
        serialize_with = "serialize_mode",
        deserialize_with = "deserialize_mode"
    )]
    pub permissions: u32,
    /// Rotate an existing current file at start, so each run begins a file.
    pub rotate_on_startup: bool,
}

impl Default for FileOutput {
    fn default() -> FileOutput {
        FileOutput {
            enabled: true,
            path: PathBuf::new(),
            filename: DEFAULT_FILE_NAME.to_owned(),
            rotate_every_kb: DEFAULT_ROTATE_EVERY_KB,
            number_of_files: DEFAULT_NUMBER_OF_FILES,
            permissions: DEFAULT_FILE_PERMISSIONS,
            rotate_on_startup: true,
        }
    }
}

fn serialize_mode<S: Serializer>(mode: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{mode:04o}"))
}

/// `0600` in YAML reads as the number 600 (YAML 1.2 has no leading-zero octal), so a number's decimal
/// digits are read as octal, as Filebeat's configuration reads them; a string (`"0600"`) too.
fn deserialize_mode<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Mode {
        Number(u64),
        Text(String),
    }
    let digits = match Mode::deserialize(d)? {
        Mode::Number(n) => n.to_string(),
        Mode::Text(text) => text,
    };
    let digits = digits.trim();
    let digits = digits.strip_prefix("0o").unwrap_or(digits);
    match u32::from_str_radix(digits, 8) {
        Ok(mode) if mode <= 0o777 => Ok(mode),
        _ => Err(serde::de::Error::custom(format!(
            "{digits:?} is not a file mode like 0600 (octal, at most 0777)"
        ))),
    }
}
