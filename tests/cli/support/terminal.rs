//! Running a command on a pseudo-terminal, as a person at a terminal runs it: util-linux `script`
//! (Debian's bsdutils, always installed) gives it a pty of a set size, forwards what the test types,
//! and hands back everything the command drew, escape sequences included.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Terminal {
    child: Child,
    input: Option<ChildStdin>,
    output: Option<JoinHandle<Vec<u8>>>,
}

impl Terminal {
    /// Runs `command_line` (a shell command) on a `cols`×`rows` terminal.
    pub fn spawn(command_line: &str, cols: u16, rows: u16) -> Terminal {
        let mut child = Command::new("script")
            .args([
                "--quiet",
                "--return",
                "--flush",
                "--echo",
                "never",
                "--command",
            ])
            .arg(format!("stty cols {cols} rows {rows}; {command_line}"))
            .arg("/dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("script (util-linux) runs");
        let input = child.stdin.take();
        let mut stdout = child.stdout.take().expect("stdout");
        let output = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stdout.read_to_end(&mut bytes);
            bytes
        });
        Terminal {
            child,
            input,
            output: Some(output),
        }
    }

    /// Types `keys`.
    pub fn send(&mut self, keys: &[u8]) {
        let input = self.input.as_mut().expect("input open");
        if let Err(e) = input.write_all(keys).and_then(|()| input.flush()) {
            let _ = self.child.kill();
            let bytes = self.output.take().map(|o| o.join().unwrap_or_default());
            panic!(
                "typing: {e}; the terminal showed:\n{}",
                String::from_utf8_lossy(&bytes.unwrap_or_default())
            );
        }
    }

    /// Waits for the command to end (failing the test after `timeout`); how it ended and all it drew.
    pub fn wait(mut self, timeout: Duration) -> (ExitStatus, Vec<u8>) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the command on the terminal did not end within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        drop(self.input.take());
        let bytes = self.output.take().expect("once").join().expect("reader");
        (status, bytes)
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `arg` quoted for a POSIX shell.
pub fn shell_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', "'\\''"))
}
