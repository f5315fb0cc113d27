//! `output.file`: one JSON document per line (the bytes `tail` prints), in files rotated by size, as
//! Filebeat's file output. A batch is acknowledged once its lines were written to the file, so the
//! registry never passes a line that is not in a file (at least once: a crash between the write and
//! the registry's flush writes it again after the restart).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Output, OutputError};
use crate::batch::Batch;
use crate::config;
use crate::event::Encoder;
use crate::telemetry::Telemetry;

#[derive(Debug, thiserror::Error)]
pub enum FileOutputError {
    #[error("output.file.path is not set: the directory to write the files in is required")]
    NoPath,
    #[error("output.file: cannot {doing} {path}: {cause}")]
    Io {
        doing: &'static str,
        path: PathBuf,
        cause: io::Error,
    },
}

fn io_error<'a>(
    doing: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> FileOutputError + 'a {
    move |cause| FileOutputError::Io {
        doing,
        path: path.to_owned(),
        cause,
    }
}

/// The files of one output: `<filename>.ndjson` being written, `<filename>.<n>.ndjson` rotated.
#[derive(Debug)]
struct Files {
    dir: PathBuf,
    filename: String,
    keep: usize,
    mode: u32,
}

impl Files {
    /// The current file is number 0.
    fn path(&self, n: usize) -> PathBuf {
        match n {
            0 => self.dir.join(format!("{}.ndjson", self.filename)),
            n => self.dir.join(format!("{}.{n}.ndjson", self.filename)),
        }
    }

    fn open(&self) -> Result<(File, u64), FileOutputError> {
        let path = self.path(0);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(self.mode)
            .open(&path)
            .map_err(io_error("open", &path))?;
        // The mode given at creation is reduced by the umask, and an existing file keeps its own.
        file.set_permissions(fs::Permissions::from_mode(self.mode))
            .map_err(io_error("set the permissions of", &path))?;
        let len = file.metadata().map_err(io_error("read", &path))?.len();
        Ok((file, len))
    }

    /// Shifts every file one up (the oldest beyond `keep` is deleted); the current file is free.
    fn rotate(&self) -> Result<(), FileOutputError> {
        let oldest = self.path(self.keep.max(1) - 1);
        match fs::remove_file(&oldest) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("delete", &oldest)(e)),
        }
        for n in (0..self.keep.max(1) - 1).rev() {
            let from = self.path(n);
            match fs::rename(&from, self.path(n + 1)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("rotate", &from)(e)),
            }
        }
        Ok(())
    }
}

pub struct FileOutput {
    files: Files,
    file: File,
    /// Bytes in the current file.
    len: u64,
    limit: u64,
    encoder: Encoder,
    /// The lines written at once: a batch, or what of it fits before a rotation.
    buf: Vec<u8>,
    line: Vec<u8>,
    telemetry: Arc<Telemetry>,
}

impl FileOutput {
    /// Creates the directory when missing and opens the current file, rotating it first with
    /// `rotate_on_startup`.
    pub fn new(
        config: &config::FileOutput,
        encoder: Encoder,
        telemetry: Arc<Telemetry>,
    ) -> Result<FileOutput, FileOutputError> {
        if config.path.as_os_str().is_empty() {
            return Err(FileOutputError::NoPath);
        }
        fs::create_dir_all(&config.path).map_err(io_error("create", &config.path))?;
        let files = Files {
            dir: config.path.clone(),
            filename: config.filename.clone(),
            keep: config.number_of_files,
            mode: config.permissions,
        };
        let current = files.path(0);
        let started = fs::metadata(&current).is_ok_and(|m| m.len() > 0);
        if config.rotate_on_startup && started {
            files.rotate()?;
        }
        let (file, len) = files.open()?;
        Ok(FileOutput {
            files,
            file,
            len,
            limit: config.rotate_every_kb.saturating_mul(1024),
            encoder,
            buf: Vec::with_capacity(1024 * 1024),
            line: Vec::with_capacity(4096),
            telemetry,
        })
    }

    /// Writes the lines of `batch`, rotating before a line that would take the file past the limit (a
    /// line longer than the limit gets a file of its own).
    fn write(&mut self, batch: &Batch) -> Result<(), OutputError> {
        self.buf.clear();
        for event in &batch.events {
            self.line.clear();
            self.encoder.encode(event, &mut self.line);
            self.line.push(b'\n');
            let size = (self.buf.len() + self.line.len()) as u64;
            if self.len + size > self.limit && self.len + self.buf.len() as u64 > 0 {
                self.write_buf()?;
                self.rotate()?;
            }
            self.buf.extend_from_slice(&self.line);
        }
        self.write_buf()
    }

    fn write_buf(&mut self) -> Result<(), OutputError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let path = self.files.path(0);
        self.file
            .write_all(&self.buf)
            .and_then(|()| self.file.flush())
            .map_err(|e| OutputError::File(io_error("write", &path)(e)))?;
        self.len += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    fn rotate(&mut self) -> Result<(), OutputError> {
        self.files.rotate()?;
        (self.file, self.len) = self.files.open()?;
        Ok(())
    }
}

impl Output for FileOutput {
    async fn send(&mut self, mut batch: Batch) -> Result<(), OutputError> {
        self.write(&batch)?;
        self.telemetry.events_shipped(batch.events.len() as u64);
        batch.acknowledge();
        Ok(())
    }

    async fn close(mut self) -> Result<(), OutputError> {
        let path = self.files.path(0);
        self.file
            .flush()
            .map_err(|e| OutputError::File(io_error("write", &path)(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Origin, StaticFields, Text, Timestamp};

    fn encoder() -> Encoder {
        Encoder::new(&StaticFields {
            host: None,
            agent: serde_json::json!({}),
        })
    }

    fn batch(from: usize, n: usize) -> Batch {
        let origin = Origin::new("a.log".into(), Default::default());
        let events = (from..from + n)
            .map(|i| {
                let message = format!("line {i:04} {}", "x".repeat(100));
                Event::new(
                    origin.clone(),
                    Timestamp::from_nanos(0),
                    Text::from(message),
                    0,
                )
            })
            .collect();
        Batch::new(events, None)
    }

    fn config(dir: &Path) -> config::FileOutput {
        config::FileOutput {
            path: dir.to_owned(),
            rotate_every_kb: 1,
            number_of_files: 3,
            ..config::FileOutput::default()
        }
    }

    fn messages(path: &Path) -> Vec<String> {
        fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let doc: serde_json::Value = serde_json::from_str(l).unwrap();
                doc["message"].as_str().unwrap()[..9].to_owned()
            })
            .collect()
    }

    fn send(out: &mut FileOutput, batch: Batch) {
        out.write(&batch).unwrap();
    }

    #[test]
    fn files_rotate_at_the_size_and_only_number_of_files_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = FileOutput::new(&config(dir.path()), encoder(), Arc::default()).unwrap();
        for i in 0..10 {
            send(&mut out, batch(i * 5, 5));
        }
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["loglynk.1.ndjson", "loglynk.2.ndjson", "loglynk.ndjson"]
        );
        let mut kept = Vec::new();
        for n in [2, 1, 0] {
            let path = out.files.path(n);
            assert!(
                fs::metadata(&path).unwrap().len() <= 1024,
                "{path:?} over 1 KiB"
            );
            kept.extend(messages(&path));
        }
        // The newest lines, in order, none twice: the oldest went with the deleted files.
        let expected: Vec<String> = (50 - kept.len()..50)
            .map(|i| format!("line {i:04}"))
            .collect();
        assert_eq!(kept, expected);
        // A document is ~300 bytes: each 1 KiB file holds at least two.
        assert!(kept.len() >= 6, "three files filled: {}", kept.len());
    }

    #[test]
    fn files_are_created_with_the_configured_mode() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = FileOutput::new(&config(dir.path()), encoder(), Arc::default()).unwrap();
        send(&mut out, batch(0, 20));
        for n in [0, 1] {
            let mode = fs::metadata(out.files.path(n))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "file {n}");
        }
        let open = config::FileOutput {
            permissions: 0o640,
            ..config(dir.path())
        };
        FileOutput::new(&open, encoder(), Arc::default()).unwrap();
        let mode = fs::metadata(out.files.path(0))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn a_restart_rotates_the_current_file_unless_told_not_to() {
        let dir = tempfile::tempdir().unwrap();
        let keep_on = config::FileOutput {
            rotate_every_kb: 100,
            rotate_on_startup: false,
            ..config(dir.path())
        };
        let mut out = FileOutput::new(&keep_on, encoder(), Arc::default()).unwrap();
        send(&mut out, batch(0, 2));
        let mut out = FileOutput::new(&keep_on, encoder(), Arc::default()).unwrap();
        send(&mut out, batch(2, 2));
        assert_eq!(messages(&out.files.path(0)).len(), 4);
        let rotate = config::FileOutput {
            rotate_on_startup: true,
            ..keep_on
        };
        let mut out = FileOutput::new(&rotate, encoder(), Arc::default()).unwrap();
        send(&mut out, batch(4, 1));
        assert_eq!(messages(&out.files.path(0)), ["line 0004"]);
        assert_eq!(messages(&out.files.path(1)).len(), 4);
    }

    #[test]
    fn a_missing_path_is_an_error_naming_the_key() {
        let error = FileOutput::new(&config::FileOutput::default(), encoder(), Arc::default())
            .err()
            .unwrap();
        assert!(error.to_string().contains("output.file.path"), "{error}");
    }
}
