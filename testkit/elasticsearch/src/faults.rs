//! Fault injection, adjustable while the server runs, drawn from a seeded RNG so a failing run can be
//! repeated (with one client connection, the draws happen in the same order every run).

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;

/// What goes wrong, and how often. Fractions are probabilities in 0.0..=1.0 drawn per request (or per
/// bulk item for the `item_` ones).
#[derive(Clone, Debug, Default)]
pub struct FaultConfig {
    /// The whole bulk request gets a 429 `es_rejected_execution_exception`.
    pub reject_bulk_fraction_429: f64,
    /// The whole bulk request gets a 500.
    pub reject_bulk_fraction_500: f64,
    /// An item fails with a 400 mapping error although its document is fine.
    pub item_fraction_400: f64,
    /// An item fails with a 429 `es_rejected_execution_exception`.
    pub item_fraction_429: f64,
    /// Added before every answer.
    pub latency: Duration,
    /// Requests are read but not answered until this is cleared.
    pub stall: bool,
    /// The connection is closed after the request was read, without an answer.
    pub drop_connection_fraction: f64,
    /// The listening socket is closed (connections are refused) and open connections are cut.
    pub down: bool,
    /// Every request is held this long and then its connection closed without an answer, the way a
    /// load balancer's idle timeout ends a request the cluster is too slow to answer.
    pub request_timeout: Option<Duration>,
    /// `GET /_cluster/health` reports this status (`red`, say) instead of the one computed.
    pub health: Option<String>,
    /// The cluster takes request bodies (decompressed, as it indexes them) at this many bytes per
    /// second, all connections together: a request is answered once its share of that rate has passed,
    /// as a cluster whose indexing is the bottleneck does.
    pub bytes_per_second: Option<u64>,
}

/// The live fault settings of one server.
pub struct Faults {
    config: Mutex<FaultConfig>,
    rng: Mutex<u64>,
    changed: watch::Sender<u64>,
    /// When the throttled cluster is free to take the next body.
    free_at: Mutex<Option<tokio::time::Instant>>,
}

impl Faults {
    pub(super) fn new(seed: u64) -> Faults {
        Faults {
            config: Mutex::new(FaultConfig::default()),
            rng: Mutex::new(seed),
            changed: watch::channel(0).0,
            free_at: Mutex::new(None),
        }
    }

    /// A copy of the current settings.
    pub fn get(&self) -> FaultConfig {
        lock(&self.config).clone()
    }

    /// Changes the settings; waiting requests and the listener see the change at once.
    pub fn set(&self, change: impl FnOnce(&mut FaultConfig)) {
        change(&mut lock(&self.config));
        self.changed.send_modify(|generation| *generation += 1);
    }

    /// Back to no faults at all.
    pub fn clear(&self) {
        self.set(|c| *c = FaultConfig::default());
    }

    pub fn reseed(&self, seed: u64) {
        *lock(&self.rng) = seed;
    }

    pub fn set_reject_bulk_fraction_429(&self, fraction: f64) {
        self.set(|c| c.reject_bulk_fraction_429 = fraction);
    }
    pub fn set_reject_bulk_fraction_500(&self, fraction: f64) {
        self.set(|c| c.reject_bulk_fraction_500 = fraction);
    }
    pub fn set_item_fraction_400(&self, fraction: f64) {
        self.set(|c| c.item_fraction_400 = fraction);
    }
    pub fn set_item_fraction_429(&self, fraction: f64) {
        self.set(|c| c.item_fraction_429 = fraction);
    }
    pub fn set_latency(&self, latency: Duration) {
        self.set(|c| c.latency = latency);
    }
    pub fn set_stall(&self, stall: bool) {
        self.set(|c| c.stall = stall);
    }
    pub fn set_drop_connection_fraction(&self, fraction: f64) {
        self.set(|c| c.drop_connection_fraction = fraction);
    }
    pub fn set_down(&self, down: bool) {
        self.set(|c| c.down = down);
    }
    pub fn set_bytes_per_second(&self, rate: Option<u64>) {
        self.set(|c| c.bytes_per_second = rate);
    }

    /// When a body of `len` bytes arriving now is taken, under `bytes_per_second`: bodies queue behind
    /// each other, whatever connection they came on.
    pub(super) fn taken_at(&self, len: usize) -> Option<tokio::time::Instant> {
        let rate = lock(&self.config).bytes_per_second?.max(1);
        let now = tokio::time::Instant::now();
        let mut free_at = lock(&self.free_at);
        let start = free_at.filter(|at| *at > now).unwrap_or(now);
        let done = start + Duration::from_secs_f64(len as f64 / rate as f64);
        *free_at = Some(done);
        Some(done)
    }

    pub fn set_request_timeout(&self, timeout: Option<Duration>) {
        self.set(|c| c.request_timeout = timeout);
    }

    /// True with probability `fraction`. Draws nothing when the fault is off, so turning one fault on
    /// does not shift the draws of another.
    pub(super) fn roll(&self, fraction: f64) -> bool {
        if fraction <= 0.0 {
            return false;
        }
        if fraction >= 1.0 {
            return true;
        }
        let mut state = lock(&self.rng);
        // splitmix64: tiny, and good enough to spread test faults.
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 / (1u64 << 53) as f64) < fraction
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Waits until `condition` no longer holds for the settings.
    pub(super) async fn wait_while(&self, condition: impl Fn(&FaultConfig) -> bool) {
        let mut changes = self.subscribe();
        while condition(&self.get()) {
            if changes.changed().await.is_err() {
                return;
            }
        }
    }
}

/// A test that panicked while holding the lock must not take the server down with it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
