//! Progress on a terminal while work is long: `tail --no-follow` over a backlog, and `run` catching
//! up: bytes read of bytes known, the rate over the last seconds, the time left. `tail` redraws one
//! line in place every 250 ms; `run`, whose JSON log shares stderr, prints a whole line every 5 s and
//! says when it caught up. Shown only when stderr is a terminal (a pipe or a log gets nothing
//! extra), and cleared when the work is done.
//!
//! Bytes read and known are summed over the files tailed now (offsets and sizes, measured as for
//! `/metrics`), so a file finished and forgotten leaves both sums.

use std::collections::VecDeque;
use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::human::{bytes, duration};
use super::Telemetry;

const EVERY: Duration = Duration::from_millis(250);
/// The rate is taken over this long, so one slow write does not swing the time left.
const WINDOW: Duration = Duration::from_secs(5);
/// `run` prints a whole line this often while catching up.
const LINE_EVERY: Duration = Duration::from_secs(5);
/// `run` shows progress from this far behind: less is the normal lag of a live node.
const CATCHING_UP: u64 = 8 * 1024 * 1024;

/// Which work the line follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// `tail --no-follow`: everything until the end.
    Backlog,
    /// `run`: while it is at least `CATCHING_UP` behind.
    CatchingUp,
}

/// The line's task; dropping it stops the task and clears the line.
pub struct ProgressLine {
    task: tokio::task::JoinHandle<()>,
}

impl ProgressLine {
    /// Starts on the current runtime when stderr is a terminal.
    pub fn start(telemetry: Arc<Telemetry>, work: Work) -> Option<ProgressLine> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let task = tokio::spawn(async move {
            let mut meter = Meter::new(work);
            let mut printed: Option<Instant> = None;
            loop {
                tokio::time::sleep(EVERY).await;
                let (read, known) = telemetry.files().iter().fold((0, 0), |(r, k), f| {
                    (r + f.offset, k + f.size.unwrap_or(f.offset))
                });
                let now = Instant::now();
                let line = meter.line(now, read, known);
                let mut err = std::io::stderr().lock();
                let _ = match (&line, work) {
                    (Some(text), Work::Backlog) => write!(err, "\r\x1b[2K{text}"),
                    // `run` logs to the same stderr: whole lines, every few seconds, so a log line
                    // never lands in the middle of one.
                    (Some(text), Work::CatchingUp) if meter.line_due(now, printed) => {
                        printed = Some(now);
                        writeln!(err, "\r\x1b[2K{text}")
                    }
                    (None, Work::Backlog) if meter.shown => write!(err, "\r\x1b[2K"),
                    (None, Work::CatchingUp) if meter.shown => {
                        printed = None;
                        writeln!(err, "\r\x1b[2Kloglynk: caught up")
                    }
                    _ => Ok(()),
                };
                meter.shown = line.is_some();
                let _ = err.flush();
            }
        });
        Some(ProgressLine { task })
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.task.abort();
        // The backlog's line is redrawn in place: leave no half of it behind.
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
}

/// The rate and what the line says, from readings of bytes read and known.
#[derive(Debug)]
struct Meter {
    work: Work,
    readings: VecDeque<(Instant, u64)>,
    shown: bool,
}

impl Meter {
    fn new(work: Work) -> Meter {
        Meter {
            work,
            readings: VecDeque::new(),
            shown: false,
        }
    }

    /// `run`'s whole lines: the first once a second of readings gives a rate, then every
    /// `LINE_EVERY`.
    fn line_due(&self, now: Instant, printed: Option<Instant>) -> bool {
        match printed {
            Some(at) => now.duration_since(at) >= LINE_EVERY,
            None => self
                .readings
                .front()
                .is_some_and(|(first, _)| now.duration_since(*first) >= Duration::from_secs(1)),
        }
    }

    /// The line to show now, or `None` when there is nothing to show.
    fn line(&mut self, now: Instant, read: u64, known: u64) -> Option<String> {
        self.readings.push_back((now, read));
        while self
            .readings
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > WINDOW)
        {
            self.readings.pop_front();
        }
        let behind = known.saturating_sub(read);
        let show = match self.work {
            Work::Backlog => known > 0 && behind > 0,
            Work::CatchingUp => behind >= CATCHING_UP,
        };
        if !show {
            return None;
        }
        let rate = match (self.readings.front(), self.readings.back()) {
            (Some((t0, r0)), Some((t1, r1))) if t1 > t0 => {
                Some(r1.saturating_sub(*r0) as f64 / t1.duration_since(*t0).as_secs_f64())
            }
            _ => None,
        };
        let percent = read as f64 * 100.0 / known as f64;
        let what = match self.work {
            Work::Backlog => "read",
            Work::CatchingUp => "catching up: read",
        };
        let tail = match rate {
            Some(rate) if rate > 0.0 => format!(
                ", {}/s, {} left",
                bytes(rate as u64),
                duration(behind as f64 / rate)
            ),
            Some(_) => ", stalled".to_owned(),
            None => String::new(),
        };
        Some(format!(
            "loglynk: {what} {} of {} ({percent:.0}%){tail}",
            bytes(read),
            bytes(known)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn a_backlog_shows_read_of_known_the_rate_and_the_time_left() {
        let start = Instant::now();
        let mut meter = Meter::new(Work::Backlog);
        assert_eq!(
            meter.line(start, 0, 40 * MIB).as_deref(),
            Some("loglynk: read 0 B of 40.0 MiB (0%)")
        );
        assert_eq!(
            meter
                .line(start + Duration::from_secs(2), 10 * MIB, 40 * MIB)
                .as_deref(),
            Some("loglynk: read 10.0 MiB of 40.0 MiB (25%), 5.0 MiB/s, 6s left")
        );
        assert_eq!(
            meter
                .line(start + Duration::from_secs(3), 10 * MIB, 40 * MIB)
                .as_deref(),
            Some("loglynk: read 10.0 MiB of 40.0 MiB (25%), 3.3 MiB/s, 9s left")
        );
        assert_eq!(
            meter.line(start + Duration::from_secs(4), 40 * MIB, 40 * MIB),
            None
        );
    }

    #[test]
    fn run_prints_its_first_line_after_a_second_then_every_five() {
        let start = Instant::now();
        let mut meter = Meter::new(Work::CatchingUp);
        meter.line(start, 0, 100 * MIB);
        assert!(!meter.line_due(start, None), "no rate yet");
        let later = start + Duration::from_secs(1);
        meter.line(later, MIB, 100 * MIB);
        assert!(meter.line_due(later, None));
        assert!(!meter.line_due(later + Duration::from_secs(4), Some(later)));
        assert!(meter.line_due(later + Duration::from_secs(5), Some(later)));
    }

    #[test]
    fn run_shows_only_a_real_backlog_and_says_when_stalled() {
        let start = Instant::now();
        let mut meter = Meter::new(Work::CatchingUp);
        assert_eq!(meter.line(start, 100, 100 + MIB), None, "normal lag");
        meter.line(start, 0, 100 * MIB);
        assert_eq!(
            meter
                .line(start + Duration::from_secs(1), 0, 100 * MIB)
                .as_deref(),
            Some("loglynk: catching up: read 0 B of 100.0 MiB (0%), stalled")
        );
        let late = start + Duration::from_secs(30);
        meter.line(late, 0, 100 * MIB);
        assert!(meter
            .line(late + Duration::from_secs(1), 50 * MIB, 100 * MIB)
            .unwrap()
            .ends_with("50.0 MiB/s, 1s left"));
    }
}
