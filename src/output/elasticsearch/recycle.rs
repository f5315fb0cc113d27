//! Request bodies given back once delivered, for the builder to write a later request into.
//!
//! A request body is megabytes. With malloc's fixed mmap threshold (main.rs) a fresh one is mapped
//! for each request, page-faulted in 4 KiB at a time as it is written, and unmapped when the request
//! is dropped: a fifth of `run`'s CPU uncompressed (perf, run_throughput). A body passed round keeps
//! its pages. With gzip the spares are compressed bodies, about a seventh as large, and the next
//! request's gzip stream is written into one.
//!
//! Two are kept: with two workers, two deliveries often end between one request and the next, and
//! with one spare kept a third of the requests still started in a fresh buffer. Spares are memory the
//! budget does not count, which README's formula adds.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

const SPARES: usize = 2;

#[derive(Debug, Clone, Default)]
pub struct BodyPool {
    spares: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl BodyPool {
    /// An empty buffer with pages already touched, if a delivered body was given back.
    pub fn take(&self) -> Option<Vec<u8>> {
        self.spares
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// Keeps `body`'s buffer if nothing else still refers to it (the HTTP client has let go of it once
    /// the response came) and fewer than two are kept already.
    pub fn give(&self, body: Bytes) {
        let Ok(body) = body.try_into_mut() else {
            return;
        };
        let mut spares = self.spares.lock().unwrap_or_else(PoisonError::into_inner);
        if spares.len() < SPARES {
            let mut body = Vec::from(body);
            body.clear();
            spares.push(body);
        }
    }
}

#[cfg(test)]
impl BodyPool {
    pub fn spares(&self) -> usize {
        self.spares
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
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
        pool.give(Bytes::from(body));
        let back = pool.take().expect("given back");
        assert_eq!((back.as_ptr(), back.len()), (address, 0));
        assert_eq!(
            back.capacity(),
            4096,
            "all of it, not just what was written"
        );
        assert!(pool.take().is_none(), "one taker gets it");
    }

    #[test]
    fn a_body_still_shared_is_not_kept() {
        let pool = BodyPool::default();
        let body = Bytes::from(vec![1u8; 100]);
        let held = body.clone();
        pool.give(body);
        assert!(pool.take().is_none());
        assert_eq!(held.len(), 100, "the other holder still reads it");
    }

    #[test]
    fn no_more_than_two_are_kept() {
        let pool = BodyPool::default();
        for _ in 0..3 {
            pool.give(Bytes::from(vec![0u8; 100]));
        }
        assert!(pool.take().is_some() && pool.take().is_some());
        assert!(pool.take().is_none());
    }
}
