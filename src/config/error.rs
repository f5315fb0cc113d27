//! What loading a configuration can fail with: every problem found, each with its key and where the key
//! was set.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// One or more problems, all reported at once so one edit can fix them all. Displayed one per line.
    #[error("{}", Report { source_name, problems })]
    Invalid {
        /// The file name, or a placeholder when there was no file.
        source_name: String,
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// The problems found; empty when the file could not be read at all.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid { problems, .. } => problems,
        }
    }
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path (`output.elasticsearch.hosts.0`); empty for the document as a whole.
    pub key: String,
    pub location: Location,
    /// What is wrong, naming the key: `unknown key output.elasticsearch.hostz (expected one of: …)`.
    pub message: String,
}

/// Where the offending key was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A line of the file, 1-based.
    Line(usize),
    /// A `-E KEY=VALUE` override on the command line.
    Override,
    /// Neither: a default, or a key that could not be placed.
    Unknown,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

struct Report<'a> {
    source_name: &'a str,
    problems: &'a [Problem],
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            let source = self.source_name;
            match problem.location {
                Location::Line(line) => write!(f, "config error in {source} line {line}: ")?,
                Location::Override => write!(f, "config error in {source} (from -E): ")?,
                Location::Unknown => write!(f, "config error in {source}: ")?,
            }
            f.write_str(&problem.message)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_one_problem_per_line_with_its_location() {
        let problem = |location, message: &str| Problem {
            key: String::new(),
            location,
            message: message.to_owned(),
        };
        let err = ConfigError::Invalid {
            source_name: "/etc/loglynk/loglynk.yml".into(),
            problems: vec![
                problem(Location::Line(12), "first"),
                problem(Location::Override, "second"),
                problem(Location::Unknown, "third"),
            ],
        };
        assert_eq!(
            err.to_string(),
            "config error in /etc/loglynk/loglynk.yml line 12: first\n\
             config error in /etc/loglynk/loglynk.yml (from -E): second\n\
             config error in /etc/loglynk/loglynk.yml: third"
        );
        assert_eq!(err.problems().len(), 3);
    }
}
