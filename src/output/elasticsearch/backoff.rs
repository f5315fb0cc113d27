//! How long to wait before sending again after a failure.
//!
//! Exponential with full jitter (a uniform delay between zero and the current ceiling, as in AWS's
//! "Exponential Backoff And Jitter"): when a cluster recovers from an outage, the DaemonSet's hundreds
//! of agents come back spread over the whole window instead of all at once. The random numbers come
//! from a seeded splitmix64, so tests see fixed delays.

use std::time::Duration;

pub const DEFAULT_INITIAL: Duration = Duration::from_secs(1);
pub const DEFAULT_CAP: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    cap: Duration,
    /// The largest delay the next `next_delay` may return.
    ceiling: Duration,
    rng: SplitMix64,
}

impl Backoff {
    /// A cap below `initial` caps the first delay too.
    pub fn new(initial: Duration, cap: Duration, seed: u64) -> Backoff {
        Backoff {
            initial,
            cap,
            ceiling: initial.min(cap),
            rng: SplitMix64(seed),
        }
    }

    /// The delay before the next attempt, in `[0, ceiling]`; the ceiling then doubles, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = u64::try_from(self.ceiling.as_nanos()).unwrap_or(u64::MAX);
        let delay = match ceiling.checked_add(1) {
            Some(bound) => self.rng.next() % bound,
            None => self.rng.next(),
        };
        self.ceiling = self.ceiling.saturating_mul(2).min(self.cap);
        Duration::from_nanos(delay)
    }

    /// The largest delay the next call to `next_delay` may return.
    pub fn ceiling(&self) -> Duration {
        self.ceiling
    }

    /// After a success: the next failure waits as little as the first one did.
    pub fn reset(&mut self) {
        self.ceiling = self.initial.min(self.cap);
    }
}

impl Default for Backoff {
    /// Default timing, seeded from the clock so agents started together do not draw the same delays.
    fn default() -> Backoff {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        Backoff::new(DEFAULT_INITIAL, DEFAULT_CAP, seed)
    }
}

/// Sebastiano Vigna's splitmix64: one add and three xor-shift-multiplies per number, and any seed
/// (zero included) gives a full-period sequence.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let mut b = Backoff::new(secs(1), secs(60), 7);
        let mut ceilings = Vec::new();
        for _ in 0..9 {
            ceilings.push(b.ceiling().as_secs());
            b.next_delay();
        }
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn delays_are_jittered_within_the_ceiling() {
        let mut b = Backoff::new(secs(1), secs(60), 42);
        let mut delays = Vec::new();
        for _ in 0..200 {
            let ceiling = b.ceiling();
            let delay = b.next_delay();
            assert!(delay <= ceiling, "{delay:?} > {ceiling:?}");
            delays.push(delay);
        }
        let capped = &delays[10..];
        let spread = capped
            .iter()
            .max()
            .unwrap()
            .saturating_sub(*capped.iter().min().unwrap());
        assert!(
            spread > secs(30),
            "full jitter spreads over the window: {spread:?}"
        );
        let mean = capped.iter().sum::<Duration>() / capped.len() as u32;
        assert!(mean > secs(20) && mean < secs(40), "{mean:?}");
    }

    #[test]
    fn same_seed_same_delays_and_reset_starts_over() {
        let run = |seed| {
            let mut b = Backoff::new(Duration::from_millis(100), secs(5), seed);
            (0..10).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));

        let mut b = Backoff::new(secs(1), secs(60), 3);
        for _ in 0..5 {
            b.next_delay();
        }
        assert_eq!(b.ceiling(), secs(32));
        b.reset();
        assert_eq!(b.ceiling(), secs(1));
        assert!(b.next_delay() <= secs(1));
    }

    #[test]
    fn odd_settings_do_not_panic() {
        let mut zero = Backoff::new(Duration::ZERO, secs(60), 0);
        assert_eq!(zero.next_delay(), Duration::ZERO);
        let mut capped = Backoff::new(secs(10), secs(2), 0);
        assert!(capped.next_delay() <= secs(2));
        let mut huge = Backoff::new(Duration::MAX, Duration::MAX, 0);
        huge.next_delay();
        huge.next_delay();
        assert_eq!(huge.ceiling(), Duration::MAX);
        assert_eq!(Backoff::default().ceiling(), DEFAULT_INITIAL);
    }
}
