//! Bulk request bodies: for each event an action line naming its index, then its document.
//!
//! The builder is kept for the life of the output. Uncompressed, each request is written into a
//! buffer a delivered one left behind (recycle.rs). With gzip it is compressed as it is written, a
//! piece at a time: a whole request's plain text (5 MiB and more) is never held, only the piece being
//! written and what the pieces before it compressed to.

use crate::budget::Budget;
use crate::config::Condition;
use crate::event::{DataStreams, Encoder, Event};

pub use super::action_line::BulkAction;
use super::gzip::GzipWriter;
use super::index::{IndexPattern, MissingField};
use super::recycle::{BodyPool, Spare};
pub use super::request::{BulkRequest, ItemSpan};
use super::route::Routes;

/// The position of an item in the request being built, which is also its position in the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRef {
    pub position: usize,
}

/// With gzip, the plain text is compressed each time this much of it is written. run_throughput's
/// defaults, interleaved with the build that compressed whole requests: as fast with 1 MiB (169.6K
/// against 166.6K lines per CPU-second over five pairs) and 2.5 MiB less at the peak; 256 KiB saved
/// 3.3 MiB but cost 2.5 % of the CPU.
const PIECE: usize = 1024 * 1024;

#[derive(Debug)]
pub struct BulkBuilder {
    actions: Routes,
    encoder: Encoder,
    /// The request's plain text not compressed yet: all of it uncompressed, the last piece with gzip.
    body: Vec<u8>,
    /// Bytes of `body`'s buffer written before, kept in memory while it is refilled: a delivered
    /// request's (recycle.rs), or the pieces before with gzip. The budget counts at least these.
    touched: usize,
    /// With gzip, the pieces compressed so far, once the first was.
    stream: Option<GzipWriter>,
    /// Bytes of the stream's buffer written before it was given back.
    stream_touched: usize,
    /// Plain bytes of this request already in `stream`.
    streamed: usize,
    compression_level: u32,
    items: Vec<ItemSpan>,
    /// Bodies of delivered requests, written into again.
    pool: BodyPool,
}

impl BulkBuilder {
    pub fn new(index: IndexPattern, action: BulkAction, encoder: Encoder) -> BulkBuilder {
        BulkBuilder {
            actions: Routes::new(index, action),
            encoder,
            body: Vec::new(),
            touched: 0,
            stream: None,
            stream_touched: 0,
            streamed: 0,
            compression_level: 0,
            items: Vec::new(),
            pool: BodyPool::default(),
        }
    }

    /// Each event to its file's data stream, `logs-<dataset>-<namespace>`, with `create`: the
    /// encoder writes the same dataset and namespace into the document.
    pub fn data_streams(streams: DataStreams, encoder: Encoder) -> BulkBuilder {
        BulkBuilder {
            actions: Routes::data_streams(streams),
            encoder,
            body: Vec::new(),
            touched: 0,
            stream: None,
            stream_touched: 0,
            streamed: 0,
            compression_level: 0,
            items: Vec::new(),
            pool: BodyPool::default(),
        }
    }

    /// Events matching a rule's condition go to its index pattern (`output.elasticsearch.indices`), the
    /// first match winning; the others to the pattern given to [`BulkBuilder::new`].
    pub fn routed(self, rules: Vec<(Option<Condition>, IndexPattern)>, action: BulkAction) -> Self {
        BulkBuilder {
            actions: self.actions.routed(rules, action),
            ..self
        }
    }

    /// Sends every document with `create` and its line's `_id`, so a line sent twice is indexed once
    /// (`output.elasticsearch.deduplicate`).
    pub fn deduplicated(self) -> BulkBuilder {
        BulkBuilder {
            actions: self.actions.deduplicated(),
            ..self
        }
    }

    /// Requests are gzip-compressed at `level` (0: not compressed; above 9 counts as 9): the request
    /// being built too, unless its first piece went into a gzip stream already, which keeps its level.
    pub fn set_compression(&mut self, level: u32) {
        self.compression_level = level.min(9);
    }

    /// The delivered bodies kept to be written into again count against `budget`, leaving
    /// `reserve` bytes of it (a request's worth) to the rest (recycle.rs).
    pub fn count_spares_against(&self, budget: Budget, reserve: u64) {
        self.pool.count_against(budget, reserve);
    }

    /// Appends the event's action line and document line. When its index cannot be rendered nothing is
    /// appended and the error is returned, for the caller to dead-letter the event.
    pub fn push(&mut self, event: &Event) -> Result<ItemRef, MissingField> {
        let start = self.body.len();
        self.actions.write(event, &mut self.body)?;
        let document = self.body.len();
        self.encoder.encode(event, &mut self.body);
        self.body.push(b'\n');
        let position = self.items.len();
        self.items.push(ItemSpan {
            start: self.streamed + start,
            document: self.streamed + document,
            end: self.streamed + self.body.len(),
        });
        if self.body.len() >= PIECE && (self.compression_level > 0 || self.stream.is_some()) {
            self.compress_piece();
        }
        Ok(ItemRef { position })
    }

    /// Moves the plain text written so far into the request's gzip stream.
    fn compress_piece(&mut self) {
        let stream = self.stream.get_or_insert_with(|| {
            // The pool hands out empty buffers.
            let spare = self.pool.take().unwrap_or_default();
            self.stream_touched = spare.touched;
            GzipWriter::new(spare.buffer, self.compression_level)
        });
        stream.write(&self.body).expect(DEFLATE_INTO_MEMORY);
        self.streamed += self.body.len();
        self.clear_body();
    }

    /// Empties the plain-text buffer, which keeps the pages written so far.
    fn clear_body(&mut self) {
        self.touched = self.touched.max(self.body.len());
        self.body.clear();
    }

    /// Bytes of the uncompressed body so far.
    pub fn len_bytes(&self) -> usize {
        self.streamed + self.body.len()
    }

    /// Bytes of memory the request being built holds: its plain text not yet compressed, what the rest
    /// compressed to, and its items; for a buffer written into before, at least what was written.
    pub fn held_bytes(&self) -> usize {
        let compressed = self
            .stream
            .as_ref()
            .map_or(0, |stream| stream.compressed_len().max(self.stream_touched));
        self.body.len().max(self.touched)
            + compressed
            + self.items.capacity() * std::mem::size_of::<ItemSpan>()
    }

    pub fn items(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The request for everything pushed since the last `finish`, gzip-compressed at the level
    /// [`BulkBuilder::set_compression`] set (none by default). The builder is empty afterwards.
    pub fn finish(&mut self) -> BulkRequest {
        let items = std::mem::take(&mut self.items);
        if let Some(mut stream) = self.stream.take() {
            self.streamed = 0;
            self.stream_touched = 0;
            stream.write(&self.body).expect(DEFLATE_INTO_MEMORY);
            self.clear_body();
            let body = stream.finish().expect(DEFLATE_INTO_MEMORY);
            return BulkRequest::gzipped(body, items, &self.pool);
        }
        if self.compression_level == 0 {
            // Uncompressed, the buffer is the body: handed over rather than copied. The next request
            // is written into a delivered one's buffer, its pages already touched (recycle.rs), or
            // into a fresh one as large. Not shrunk first: requests are about as large as each
            // other, and a shrunk buffer faults its tail in again when the next one grows it.
            let capacity = self.body.capacity();
            let next = self.pool.take().unwrap_or_else(|| Spare {
                buffer: Vec::with_capacity(capacity),
                touched: 0,
            });
            let body = std::mem::replace(&mut self.body, next.buffer);
            let touched = std::mem::replace(&mut self.touched, next.touched);
            return BulkRequest::recycled(body, touched, items, &self.pool);
        }
        // No piece compressed yet (smaller than a piece, or the level set since): compressed out of
        // the buffer, which is kept for the next request.
        let request =
            BulkRequest::from_slice(&self.body, items, self.compression_level, &self.pool);
        self.clear_body();
        request
    }
}

/// Writing into a `Vec` cannot fail, and deflate fails only on a stream used wrongly, which flate2
/// rules out (and ISA-L's checks, gzip_isal.rs). Were it to happen, the pipeline's thread ends and the agent with it, its lines read again
/// from the registry when it restarts: nothing is lost, where going on would have sent a request
/// missing the pieces compressed so far.
const DEFLATE_INTO_MEMORY: &str = "deflate into memory does not fail";

#[cfg(test)]
#[path = "bulk_tests.rs"]
mod tests;
