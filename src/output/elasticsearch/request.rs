//! A finished bulk request, and new requests made from some of its items.
//!
//! The uncompressed body is kept next to the (possibly gzipped) one sent, with the byte span of every
//! item, so that after a partial failure only the items that need it are sent again, and a rejected
//! item is dead-lettered with exactly the document Elasticsearch saw.

use std::io::Read;
use std::ops::Range;
use std::sync::OnceLock;

use bytes::Bytes;
use flate2::read::MultiGzDecoder;

use super::gzip::gzip_into;
use super::recycle::BodyPool;

/// Where one item's two lines lie in the uncompressed body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemSpan {
    /// First byte of the action line.
    pub start: usize,
    /// First byte of the document line.
    pub document: usize,
    /// One past the document line's newline.
    pub end: usize,
}

impl ItemSpan {
    /// Both lines, newlines included.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The document, without its newline.
    pub fn document_range(&self) -> Range<usize> {
        self.document..self.end.saturating_sub(1).max(self.document)
    }

    /// Saturating because `items` is public: a hand-made span out of order gives wrong offsets, never a
    /// panic. Spans from the builder are in order.
    fn shifted(&self, from: usize, to: usize) -> ItemSpan {
        ItemSpan {
            start: self.start.saturating_sub(from) + to,
            document: self.document.saturating_sub(from) + to,
            end: self.end.saturating_sub(from) + to,
        }
    }
}

/// One `POST /_bulk` body, ready to send.
#[derive(Debug, Clone)]
pub struct BulkRequest {
    /// What goes on the wire: gzip-compressed when `gzip`, else the same bytes as `uncompressed`.
    pub body: Bytes,
    /// Send with `Content-Encoding: gzip`.
    pub gzip: bool,
    /// One per item, in the order Elasticsearch answers them.
    pub items: Vec<ItemSpan>,
    /// The NDJSON body, final newline included. For a compressed request it is dropped once compressed
    /// and decompressed again only when needed (retrying some items, dead-lettering one): a request in
    /// flight then holds about a seventh of its size, which is what keeps memory flat while
    /// Elasticsearch is slow.
    plain: OnceLock<Bytes>,
    /// Where the body goes once the request is dropped, for a later request to be written into.
    pool: Option<BodyPool>,
    /// Bytes of the body's buffer in memory when more than the body: it was written into for a
    /// larger request before (recycle.rs).
    touched: usize,
}

impl BulkRequest {
    /// Compresses at `level` (0: not at all; above 9 counts as 9).
    pub(super) fn new(uncompressed: Bytes, items: Vec<ItemSpan>, level: u32) -> BulkRequest {
        let compressed = if level == 0 || uncompressed.is_empty() {
            None
        } else {
            gzip(&uncompressed, level.min(9))
        };
        match compressed {
            Some(body) => BulkRequest {
                body,
                gzip: true,
                items,
                plain: OnceLock::new(),
                pool: None,
                touched: 0,
            },
            None => BulkRequest {
                body: uncompressed.clone(),
                gzip: false,
                items,
                plain: OnceLock::from(uncompressed),
                pool: None,
                touched: 0,
            },
        }
    }

    /// Like `new`, from a borrowed body: compressed straight from it, so a builder's buffer is not
    /// copied first (a copy of a full request is the largest allocation on the shipping path).
    /// The compressed body is written into a buffer from `pool` when it has one, and goes back to it
    /// when the request is dropped.
    pub(super) fn from_slice(
        plain: &[u8],
        items: Vec<ItemSpan>,
        level: u32,
        pool: &BodyPool,
    ) -> BulkRequest {
        if level > 0 && !plain.is_empty() {
            let into = pool.take().unwrap_or_default().buffer;
            if let Ok(body) = gzip_into(into, plain, level.min(9)) {
                return BulkRequest::gzipped(body, items, pool);
            }
        }
        BulkRequest::new(Bytes::copy_from_slice(plain), items, 0)
    }

    /// A request of a complete gzip body, shrunk to fit (which lets go of the rest of its buffer),
    /// that goes back to `pool` when the request is dropped.
    pub(super) fn gzipped(body: Vec<u8>, items: Vec<ItemSpan>, pool: &BodyPool) -> BulkRequest {
        BulkRequest {
            body: shrunk(body),
            gzip: true,
            items,
            plain: OnceLock::new(),
            pool: Some(pool.clone()),
            touched: 0,
        }
    }

    /// An uncompressed request whose body goes back to `pool` when it is dropped. `touched`: bytes of
    /// the buffer written at some time, in memory however short the body.
    pub(super) fn recycled(
        body: Vec<u8>,
        touched: usize,
        items: Vec<ItemSpan>,
        pool: &BodyPool,
    ) -> BulkRequest {
        let mut request = BulkRequest::new(Bytes::from(body), items, 0);
        request.pool = Some(pool.clone());
        request.touched = touched;
        request
    }

    /// The NDJSON body as sent, before compression.
    pub fn uncompressed(&self) -> &Bytes {
        self.plain.get_or_init(|| {
            let mut plain = Vec::with_capacity(self.body.len() * 8);
            // The body was compressed here, so it decompresses; an empty body would only mean
            // nothing can be re-sent from it, never a wrong document.
            let _ = MultiGzDecoder::new(&self.body[..]).read_to_end(&mut plain);
            Bytes::from(plain)
        })
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Bytes of memory it holds: the body as sent (its buffer's, if more was written into it
    /// before), and the item spans.
    pub fn held_bytes(&self) -> usize {
        self.body.len().max(self.touched) + self.items.capacity() * std::mem::size_of::<ItemSpan>()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Item `i`'s action and document lines, as sent.
    pub fn item_bytes(&self, i: usize) -> Option<&[u8]> {
        self.uncompressed().get(self.items.get(i)?.range())
    }

    /// Item `i`'s document, as sent, without its newline.
    pub fn document(&self, i: usize) -> Option<&[u8]> {
        self.uncompressed().get(self.items.get(i)?.document_range())
    }

    /// The index item `i` was sent to, read back from its action line. Only for the rare items that are
    /// dead-lettered, so the builder need not keep a name per item.
    pub fn index_name(&self, i: usize) -> Option<String> {
        let span = self.items.get(i)?;
        let line = self.uncompressed().get(span.start..span.document)?;
        let value: serde_json::Value = serde_json::from_slice(line).ok()?;
        let (_, meta) = value.as_object()?.iter().next()?;
        Some(meta.get("_index")?.as_str()?.to_owned())
    }

    /// A request of the items at `which`, in that order, with their bytes unchanged. Positions past the
    /// end are skipped: they cannot name an item of this request.
    pub fn subset(&self, which: &[usize], compression_level: u32) -> BulkRequest {
        let total: usize = which
            .iter()
            .filter_map(|&i| self.items.get(i))
            .map(|s| s.end.saturating_sub(s.start))
            .sum();
        let mut body = Vec::with_capacity(total);
        let mut items = Vec::with_capacity(which.len());
        for span in which.iter().filter_map(|&i| self.items.get(i)) {
            let Some(bytes) = self.uncompressed().get(span.range()) else {
                continue;
            };
            items.push(span.shifted(span.start, body.len()));
            body.extend_from_slice(bytes);
        }
        BulkRequest::new(Bytes::from(body), items, compression_level)
    }

    /// The first and second half of the items, for a request Elasticsearch refused as too large (413).
    /// `None` when there is nothing left to split: a single item (or none).
    pub fn split_in_two(&self, compression_level: u32) -> Option<(BulkRequest, BulkRequest)> {
        if self.items.len() < 2 {
            return None;
        }
        let middle = self.items.len() / 2;
        Some((
            self.contiguous(0..middle, compression_level)?,
            self.contiguous(middle..self.items.len(), compression_level)?,
        ))
    }

    /// Items in a range share one slice of the body: no copy of the uncompressed bytes.
    fn contiguous(&self, range: Range<usize>, compression_level: u32) -> Option<BulkRequest> {
        let spans = self.items.get(range)?;
        let from = spans.first()?.start;
        let to = spans.last()?.end;
        if from > to || to > self.uncompressed().len() {
            return None;
        }
        let items = spans.iter().map(|s| s.shifted(from, 0)).collect();
        Some(BulkRequest::new(
            self.uncompressed().slice(from..to),
            items,
            compression_level,
        ))
    }
}

impl Drop for BulkRequest {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            // Uncompressed, the plain body is the same buffer: the pool keeps it only if unshared.
            drop(self.plain.take());
            pool.give(std::mem::take(&mut self.body), self.touched);
        }
    }
}

/// `None` if compression failed, so the request goes out uncompressed instead of not at all.
fn gzip(data: &[u8], level: u32) -> Option<Bytes> {
    gzip_into(Vec::new(), data, level).ok().map(shrunk)
}

/// A request waiting for delivery holds its body's bytes only, which the budget counts: without this
/// the reserve's unused part stayed allocated with every compressed request queued.
fn shrunk(mut body: Vec<u8>) -> Bytes {
    body.shrink_to_fit();
    Bytes::from(body)
}
