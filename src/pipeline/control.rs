//! What asks the running pipeline to stop or to make way for another: SIGTERM (through [`Control`]) and
//! the shutdown timeout, and the reload requests of SIGHUP and of the configuration file's watch.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use std::future::Future;

use tokio::sync::{mpsc, Notify};

use crate::discover::Changes;
use crate::telemetry::{self, ReloadRequest, Telemetry};

/// How the running pipeline is stopped: for good (SIGTERM) or to start the next one (a reload). The
/// reading side of each pipeline listens on its own [`Changes`]; this knows the current one.
#[derive(Debug)]
pub(super) struct Control {
    current: Mutex<Arc<Changes>>,
    /// The current pipeline's way to give up on what its output holds.
    abandon: Mutex<Arc<Notify>>,
    stopping: AtomicBool,
    shutdown_timeout: Mutex<Duration>,
}

impl Control {
    pub fn new(shutdown_timeout: Duration) -> Control {
        Control {
            current: Mutex::new(Arc::default()),
            abandon: Mutex::new(Arc::default()),
            stopping: AtomicBool::new(false),
            shutdown_timeout: Mutex::new(shutdown_timeout),
        }
    }

    /// The next pipeline reads with `changes` and gives up on its output at `abandon`; already stopped
    /// when the agent is stopping.
    pub fn begin(&self, changes: &Arc<Changes>, abandon: &Arc<Notify>) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        *current = Arc::clone(changes);
        *self.abandon.lock().unwrap_or_else(PoisonError::into_inner) = Arc::clone(abandon);
        if self.stopping.load(Ordering::SeqCst) {
            changes.shutdown();
        }
    }

    /// SIGTERM: the current pipeline finishes, and no other starts.
    pub fn stop(&self) {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        self.stopping.store(true, Ordering::SeqCst);
        current.shutdown();
    }

    /// `shutdown_timeout` passed after SIGTERM: the current pipeline gives up on what its output holds,
    /// writes the registry with what was acknowledged, and ends. Kept until the pipeline waits for it.
    pub fn abandon(&self) {
        self.abandon
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .notify_one();
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    pub fn shutdown_timeout(&self) -> Duration {
        *self
            .shutdown_timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set_shutdown_timeout(&self, timeout: Duration) {
        *self
            .shutdown_timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = timeout;
    }
}

/// Once `shutdown_timeout` passed after a signal, the pipeline has this long to give up on its output
/// and write the registry before the process exits without it: the write and the reading thread's end
/// take milliseconds, unless something blocks them for good (a stdout nobody reads).
const ABANDON_WITHIN: Duration = Duration::from_secs(5);

/// Runs `pipeline` to its end. After SIGTERM/SIGINT it has `shutdown_timeout` to deliver what is in
/// flight; past that, it abandons what its output holds (left unacknowledged, so read again at the
/// next start) and writes the registry with what was acknowledged, within [`ABANDON_WITHIN`]. Past
/// that too, `None`, and whatever is still blocked (a stalled stdout) is left behind so the process can
/// exit; the registry holds what was delivered up to its last flush, so exiting then loses nothing (it
/// may duplicate).
pub(super) fn drive<T: Send + 'static>(
    runtime: tokio::runtime::Runtime,
    control: Arc<Control>,
    telemetry: &Telemetry,
    hangups: Option<mpsc::Sender<ReloadRequest>>,
    pipeline: impl Future<Output = T> + Send + 'static,
) -> Option<T> {
    let mut shutdown_timeout = control.shutdown_timeout();
    let result = runtime.block_on(async {
        // Handlers are installed before the pipeline starts, so no early signal takes the default
        // action (exit without flushing, or, for SIGHUP, exit 129).
        let signalled = tokio::spawn(shutdown_on_signal(Arc::clone(&control)));
        if let Some(hangups) = hangups {
            tokio::spawn(reload_on_hangup(hangups));
        }
        let pipeline = tokio::spawn(pipeline);
        tokio::pin!(pipeline);
        tokio::select! {
            done = &mut pipeline => return done.ok(),
            _ = signalled => {}
        }
        // A reload may have changed it.
        shutdown_timeout = control.shutdown_timeout();
        if let Ok(done) = tokio::time::timeout(shutdown_timeout, &mut pipeline).await {
            return done.ok();
        }
        telemetry.shutdown_timed_out(shutdown_timeout);
        control.abandon();
        tokio::time::timeout(ABANDON_WITHIN, pipeline)
            .await
            .ok()
            .and_then(Result::ok)
    });
    if result.is_none() {
        telemetry::shutdown_abandon_timed_out(ABANDON_WITHIN);
        runtime.shutdown_background();
    }
    result
}

/// SIGTERM is how Kubernetes asks a pod to stop: finish what is in flight, then exit 0 (1 when the
/// registry cannot be written). SIGINT is the same from a terminal.
///
/// The handlers are installed when this is called (it needs the runtime's context); the returned future
/// waits for a signal.
fn shutdown_on_signal(control: Arc<Control>) -> impl Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let streams = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (Ok(mut term), Ok(mut int)) = streams else {
            telemetry::signals_unavailable();
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        telemetry::signal_received();
        control.stop();
    }
}

/// SIGHUP asks for a reload, as in Filebeat's peers and most daemons. The handler is installed when
/// this is called (so SIGHUP never takes its default action, ending the agent); the returned future
/// forwards the signals.
pub(super) fn reload_on_hangup(
    reloads: mpsc::Sender<ReloadRequest>,
) -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let hangup = signal(SignalKind::hangup());
    async move {
        let Ok(mut hangup) = hangup else {
            telemetry::hangup_unavailable();
            return;
        };
        while hangup.recv().await.is_some() {
            let request = ReloadRequest {
                cause: "SIGHUP",
                reply: None,
            };
            if reloads.send(request).await.is_err() {
                return;
            }
        }
    }
}

/// How long the file must be quiet before it is read: an editor writes in several steps, and kubelet
/// swaps a ConfigMap's files in three.
const SETTLE: Duration = Duration::from_millis(300);
/// Checked this often even without an event: a watch can miss a change (a directory replaced whole).
const POLL: Duration = Duration::from_secs(10);

/// Asks for a reload whenever the content of `file` changes. The file's directory is watched rather
/// than the file: a ConfigMap mount replaces the file by swapping the `..data` symlink beside it, which
/// a watch on the file itself would not see.
pub(super) fn watch_file(
    file: PathBuf,
    reloads: mpsc::Sender<ReloadRequest>,
) -> impl std::future::Future<Output = ()> {
    use notify::{RecursiveMode, Watcher as _};
    let (events, mut events_rx) = mpsc::channel::<()>(1);
    let watcher = notify::recommended_watcher(move |_: notify::Result<notify::Event>| {
        let _ = events.try_send(());
    });
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let watcher = watcher.and_then(|mut w| w.watch(&dir, RecursiveMode::NonRecursive).map(|()| w));
    let mut last = std::fs::read(&file).ok();
    async move {
        let _watcher = match watcher {
            Ok(w) => Some(w),
            Err(error) => {
                telemetry::config_watch_failed(&dir, &error);
                None
            }
        };
        loop {
            tokio::select! {
                _ = events_rx.recv() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
            tokio::time::sleep(SETTLE).await;
            while events_rx.try_recv().is_ok() {}
            let now = std::fs::read(&file).ok();
            if now == last {
                continue;
            }
            last = now;
            telemetry::config_file_changed(&file);
            let request = ReloadRequest {
                cause: "file",
                reply: None,
            };
            if reloads.send(request).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_reaches_the_pipeline_that_starts_after_it() {
        let control = Control::new(Duration::from_secs(1));
        let first = Arc::new(Changes::default());
        control.begin(&first, &Arc::default());
        control.stop();
        assert!(first.wait(Duration::ZERO).shutdown);
        let next = Arc::new(Changes::default());
        control.begin(&next, &Arc::default());
        assert!(next.wait(Duration::ZERO).shutdown);
    }

    #[tokio::test]
    async fn an_abandon_reaches_the_current_pipeline_even_before_it_waits_for_it() {
        let control = Control::new(Duration::from_secs(1));
        let (old, current) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        control.begin(&Arc::default(), &old);
        control.begin(&Arc::default(), &current);
        control.abandon();
        let within = |n: Arc<Notify>| async move {
            tokio::time::timeout(Duration::from_millis(50), n.notified())
                .await
                .is_ok()
        };
        assert!(within(current).await, "the current pipeline is told");
        assert!(!within(old).await, "an earlier one is not");
    }
}
