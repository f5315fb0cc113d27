//! Request bodies given back once delivered, for the builder to write a later request into.
//!
//! A request body is megabytes. With malloc's fixed mmap threshold (main.rs) a fresh one is mapped
//! for each request, page-faulted in 4 KiB at a time as it is written, and unmapped when the request
//! is dropped: a fifth of `run`'s CPU uncompressed (perf, run_throughput). A body passed round keeps
//! its pages. With gzip the spares are compressed bodies, about a seventh as large, and the next
//! request's gzip stream is written into one.
//!
//! Two are kept: with two workers, two deliveries often end between one request and the next, and
//! with one spare kept a third of the requests still started in a fresh buffer. Given a budget, the
//! spares count against it as memory held like any other, at every byte ever written into them, as
//! their pages stay (uncompressed, two spares were 13 MiB the budget did not see). They are kept only
//! while they leave a request's worth of the budget (`bulk_max_bytes`) to the rest, so a request can
//! always be read and built while they wait: reading never waits on spares alone. Kept only within
//! half the budget instead, at the defaults (20 MiB, 5 MiB requests) one uncompressed spare fit and
//! 41 % of the requests started in a fresh buffer: ~110,000 page faults for 256 MiB of logs, against
//! 32,000 to 65,000 with two, and 9 % more lines per CPU-second at the same peak RSS (run_throughput,
//! three interleaved rounds).

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

use crate::budget::{Budget, Charge};

const SPARES: usize = 2;

#[derive(Debug, Clone, Default)]
pub struct BodyPool {
    shared: Arc<Mutex<Spares>>,
}

#[derive(Debug, Default)]
struct Spares {
    /// Each with its charge when there is a budget.
    bodies: Vec<(Spare, Option<Charge>)>,
    budget: Option<Budget>,
    /// Bytes of the budget spares leave to the rest.
    reserve: u64,
}

/// An empty buffer given back, and how many of its bytes were written before: cleared, it keeps
/// those pages in memory, so whoever writes into it counts at least that much.
#[derive(Debug, Default)]
pub struct Spare {
    pub buffer: Vec<u8>,
    pub touched: usize,
}

impl BodyPool {
    /// Spares from now on count against `budget`, leaving at least `reserve` bytes of it to the rest.
    pub fn count_against(&self, budget: Budget, reserve: u64) {
        let mut spares = self.lock();
        spares.budget = Some(budget);
        spares.reserve = reserve;
    }

    /// An empty buffer with pages already touched, if a delivered body was given back. It no longer
    /// counts as a spare: the request written into it counts its touched bytes, then its own as it
    /// grows past them.
    pub fn take(&self) -> Option<Spare> {
        self.lock().bodies.pop().map(|(spare, _charge)| spare)
    }

    /// Keeps `body`'s buffer if nothing else still refers to it (the HTTP client has let go of it once
    /// the response came), fewer than two are kept already, and with a budget, the spares leave its
    /// reserve to the rest. `touched`: bytes of the buffer written at some time, which it keeps in
    /// memory; at least the body's.
    pub fn give(&self, body: Bytes, touched: usize) {
        let Ok(body) = body.try_into_mut() else {
            return;
        };
        let mut spares = self.lock();
        if spares.bodies.len() >= SPARES {
            return;
        }
        let touched = touched.max(body.len());
        let bytes = touched as u64;
        let charge = match &spares.budget {
            Some(budget) => {
                let kept: u64 = spares.bodies.iter().map(|(s, _)| s.touched as u64).sum();
                if kept + bytes > budget.limit().saturating_sub(spares.reserve) {
                    return;
                }
                Some(budget.charge_kept(bytes))
            }
            None => None,
        };
        let mut buffer = Vec::from(body);
        buffer.clear();
        spares.bodies.push((Spare { buffer, touched }, charge));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Spares> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
impl BodyPool {
    pub fn spares(&self) -> usize {
        self.lock().bodies.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_nothing_else_holds_comes_back_with_its_buffer() {
        let pool = BodyPool::default();
        assert!(pool.take().is_none());
        let mut body = Vec::with_capacity(4096);
        let address = body.as_ptr();
        body.extend_from_slice(b"{\"index\":{}}\n{}\n");
        pool.give(Bytes::from(body), 0);
        let Spare {
            buffer: back,
            touched,
        } = pool.take().expect("given back");
        assert_eq!((back.as_ptr(), back.len()), (address, 0));
        assert_eq!(
            back.capacity(),
            4096,
            "all of it, not just what was written"
        );
        assert_eq!(touched, 16, "the body's bytes were written");
        assert!(pool.take().is_none(), "one taker gets it");
    }

    #[test]
    fn a_body_still_shared_is_not_kept() {
        let pool = BodyPool::default();
        let body = Bytes::from(vec![1u8; 100]);
        let held = body.clone();
        pool.give(body, 0);
        assert!(pool.take().is_none());
        assert_eq!(held.len(), 100, "the other holder still reads it");
    }

    #[test]
    fn no_more_than_two_are_kept() {
        let pool = BodyPool::default();
        for _ in 0..3 {
            pool.give(Bytes::from(vec![0u8; 100]), 0);
        }
        assert!(pool.take().is_some() && pool.take().is_some());
        assert!(pool.take().is_none());
    }

    #[test]
    fn with_a_budget_spares_count_and_leave_its_reserve_to_the_rest() {
        use prometheus_client::metrics::gauge::Gauge;
        let gauge = Gauge::default();
        let budget = Budget::new(1000, gauge.clone());
        let pool = BodyPool::default();
        pool.count_against(budget.clone(), 500);
        pool.give(Bytes::from(vec![0u8; 100]), 300);
        assert_eq!(
            (pool.spares(), budget.used()),
            (1, 300),
            "kept and counted at what was ever written into it"
        );
        assert_eq!(gauge.get(), 0, "not shown as queued: it holds no line");
        pool.give(Bytes::from(vec![0u8; 300]), 0);
        assert_eq!(pool.spares(), 1, "600 would leave less than 500 of 1000");
        assert_eq!(budget.used(), 300);
        pool.give(Bytes::from(vec![0u8; 200]), 0);
        assert_eq!((pool.spares(), budget.used()), (2, 500));
        let taken = pool.take().expect("a spare");
        assert_eq!(taken.touched, 200);
        assert_eq!(budget.used(), 300, "a body taken is no longer a spare");
        drop(taken);
        drop(pool);
        assert_eq!(budget.used(), 0, "nothing counted once the pool is gone");
    }
}
