//! Newline framing over a growing read buffer, with a cap on line length.

use std::fs::File;
use std::io::{self, Read};

use bytes::{Bytes, BytesMut};

use super::Line;

/// Cuts a byte stream into lines. Bytes are read straight into the framer's buffer and each line is split
/// off it as `Bytes`, so framing copies nothing. A line longer than `max_line_bytes` keeps its first
/// `max_line_bytes` bytes and the rest is skipped as it arrives, so memory per file stays bounded by
/// `max_line_bytes` plus one read chunk however long a line is.
#[derive(Debug)]
pub struct Framer {
    buf: BytesMut,
    /// File offset of `buf[0]`.
    buf_offset: u64,
    /// How far into `buf` newlines have already been searched for, so a long line is scanned once.
    scanned: usize,
    max_line_bytes: usize,
    /// The head of an over-long line whose newline has not come yet.
    skipping: Option<(Bytes, u64)>,
}

impl Framer {
    /// A framer for a file read from `offset` on.
    pub fn new(offset: u64, max_line_bytes: usize) -> Framer {
        Framer {
            buf: BytesMut::new(),
            buf_offset: offset,
            scanned: 0,
            max_line_bytes: max_line_bytes.max(1),
            skipping: None,
        }
    }

    /// Appends bytes as if they had been read.
    pub fn extend(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Reads up to `chunk` bytes from `reader` into the buffer; returns how many (0 at end of file).
    pub fn read_from(&mut self, reader: &mut impl Read, chunk: usize) -> io::Result<usize> {
        let len = self.buf.len();
        self.buf.resize(len + chunk, 0);
        let result = loop {
            match reader.read(&mut self.buf[len..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = *result.as_ref().unwrap_or(&0);
        self.buf.truncate(len + n);
        result
    }

    /// [`read_from`](Self::read_from) for a plain file: the kernel writes straight into the buffer's
    /// spare room, not zeroed first. Zeroing each chunk before the read overwrote it was 1 % of the
    /// agent's CPU with `compression_level: 0`.
    pub fn read_file(&mut self, file: &File, chunk: usize) -> io::Result<usize> {
        self.buf.reserve(chunk);
        let room = &mut self.buf.spare_capacity_mut()[..chunk];
        let n = loop {
            match rustix::io::read(file, &mut *room) {
                Err(rustix::io::Errno::INTR) => continue,
                Err(errno) => return Err(errno.into()),
                Ok((filled, _)) => break filled.len(),
            }
        };
        // SAFETY: read(2) initialized the first `n` bytes of the spare room, which follows `len`.
        unsafe { self.buf.set_len(self.buf.len() + n) };
        Ok(n)
    }

    /// The next complete line, if the buffer holds one.
    pub fn next_line(&mut self) -> Option<Line> {
        let Some(i) = memchr::memchr(b'\n', &self.buf[self.scanned..]) else {
            self.skip_overlong();
            return None;
        };
        let newline = self.scanned + i;
        let offset = self.buf_offset;
        let mut bytes = self.buf.split_to(newline + 1).freeze();
        self.buf_offset += bytes.len() as u64;
        self.scanned = 0;
        let end = self.buf_offset;
        if let Some((head, head_offset)) = self.skipping.take() {
            return Some(Line {
                bytes: head,
                offset: head_offset,
                end,
                truncated: true,
            });
        }
        bytes.truncate(newline);
        if bytes.last() == Some(&b'\r') {
            bytes.truncate(newline - 1);
        }
        let truncated = bytes.len() > self.max_line_bytes;
        bytes.truncate(self.max_line_bytes);
        Some(Line {
            bytes,
            offset,
            end,
            truncated,
        })
    }

    /// With no newline in the buffer: once the line is over the cap, keep its head and drop the rest.
    fn skip_overlong(&mut self) {
        if self.skipping.is_some() {
            self.buf_offset += self.buf.len() as u64;
            self.buf.clear();
            self.scanned = 0;
        } else if self.buf.len() > self.max_line_bytes + 1 {
            // One byte of slack: a line exactly at the cap may still end in `\r\n`, whose `\r` is not
            // part of the line.
            let offset = self.buf_offset;
            let head = self.buf.split_to(self.max_line_bytes).freeze();
            self.buf_offset += self.max_line_bytes as u64 + self.buf.len() as u64;
            self.buf.clear();
            self.scanned = 0;
            self.skipping = Some((head, offset));
        } else {
            self.scanned = self.buf.len();
        }
    }

    /// At a final end of file: the unterminated rest as a last line, if there is one.
    pub fn finish(&mut self) -> Option<Line> {
        let end = self.position();
        self.scanned = 0;
        if let Some((bytes, offset)) = self.skipping.take() {
            self.buf.clear();
            self.buf_offset = end;
            return Some(Line {
                bytes,
                offset,
                end,
                truncated: true,
            });
        }
        if self.buf.is_empty() {
            return None;
        }
        let offset = self.buf_offset;
        let bytes = self.buf.split().freeze();
        self.buf_offset = end;
        Some(Line {
            bytes,
            offset,
            end,
            truncated: false,
        })
    }

    /// File offset just past the last byte read.
    pub fn position(&self) -> u64 {
        self.buf_offset + self.buf.len() as u64
    }

    /// Gives back the read buffer when it holds nothing, so an idle file costs no buffer memory (2,000
    /// tailed files would otherwise keep a read chunk each). Lines already handed out keep their bytes.
    pub fn release_if_empty(&mut self) {
        if self.buf.is_empty() && self.skipping.is_none() {
            self.buf = BytesMut::new();
            self.scanned = 0;
        }
    }

    /// Moves a small incomplete line out of the read buffer, so the buffer is freed once the lines cut
    /// from it are delivered: a file read in 64 KiB chunks would otherwise keep one such buffer alive
    /// between turns, for each of hundreds of files (200 files reading a backlog pinned 12.5 MiB so).
    /// Always, not only when `capacity()` looks large: after lines are split off the front, it counts
    /// only the bytes from the incomplete line to the end of the allocation, which is small exactly
    /// when the read filled the chunk, the common case with a backlog.
    pub fn compact(&mut self) {
        const SMALL: usize = 4 * 1024;
        if self.buf.len() < SMALL {
            self.buf = BytesMut::from(&self.buf[..]);
        }
    }

    /// Bytes read but not yet handed out as lines (an incomplete last line).
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.skipping.as_ref().map_or(0, |(head, _)| head.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(framer: &mut Framer) -> Vec<Line> {
        std::iter::from_fn(|| framer.next_line()).collect()
    }

    fn line(bytes: &'static [u8], offset: u64, end: u64, truncated: bool) -> Line {
        Line {
            bytes: Bytes::from_static(bytes),
            offset,
            end,
            truncated,
        }
    }

    #[test]
    fn frames_lines_with_offsets() {
        let mut f = Framer::new(100, 1024);
        f.extend(b"one\ntwo\r\nthr");
        assert_eq!(
            lines(&mut f),
            [line(b"one", 100, 104, false), line(b"two", 104, 109, false)]
        );
        f.extend(b"ee\n\n");
        assert_eq!(
            lines(&mut f),
            [line(b"three", 109, 115, false), line(b"", 115, 116, false)]
        );
        assert_eq!(f.position(), 116);
        assert_eq!(f.finish(), None);
    }

    #[test]
    fn an_overlong_line_is_cut_and_the_rest_skipped() {
        let mut f = Framer::new(0, 4);
        f.extend(b"abcdefgh");
        assert_eq!(lines(&mut f), []);
        assert!(f.buffered() <= 4, "the tail of the line is not kept");
        f.extend(b"ijk\nok\nlonger\n");
        assert_eq!(
            lines(&mut f),
            [
                line(b"abcd", 0, 12, true),
                line(b"ok", 12, 15, false),
                line(b"long", 15, 22, true),
            ]
        );
    }

    #[test]
    fn finish_returns_the_unterminated_rest() {
        let mut f = Framer::new(0, 1024);
        f.extend(b"a\nno newline");
        assert_eq!(lines(&mut f), [line(b"a", 0, 2, false)]);
        assert_eq!(f.finish(), Some(line(b"no newline", 2, 12, false)));
        assert_eq!(f.finish(), None);
    }

    #[test]
    fn reads_from_a_reader() {
        let mut f = Framer::new(0, 1024);
        let mut src: &[u8] = b"x\ny\n";
        assert_eq!(f.read_from(&mut src, 3).unwrap(), 3);
        assert_eq!(f.read_from(&mut src, 3).unwrap(), 1);
        assert_eq!(f.read_from(&mut src, 3).unwrap(), 0);
        assert_eq!(lines(&mut f).len(), 2);
    }

    #[test]
    fn reads_a_file_into_unzeroed_room_as_a_reader_would() {
        use std::io::{Seek, Write};
        let data: Vec<u8> = (0..5000u32)
            .flat_map(|i| format!("line {i} {}\n", "x".repeat(i as usize % 97)).into_bytes())
            .collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&data).unwrap();
        for chunk in [1, 7, 4096, 65536] {
            file.rewind().unwrap();
            let (mut by_file, mut by_reader) = (Framer::new(0, 1024), Framer::new(0, 1024));
            let mut src = &data[..];
            let (mut from_file, mut from_reader) = (Vec::new(), Vec::new());
            loop {
                let n = by_file.read_file(&file, chunk).unwrap();
                assert_eq!(n, by_reader.read_from(&mut src, chunk).unwrap());
                from_file.extend(lines(&mut by_file));
                from_reader.extend(lines(&mut by_reader));
                if n == 0 {
                    break;
                }
            }
            assert_eq!(from_file.len(), 5000, "chunk {chunk}");
            assert_eq!(from_file, from_reader, "chunk {chunk}");
        }
    }

    #[test]
    fn compact_lets_go_of_a_full_read_chunk() {
        const CHUNK: usize = 64 * 1024;
        let mut data = b"0123456789abcde\n".repeat(CHUNK / 16 - 1);
        data.extend_from_slice(b"an unended line.");
        data.extend_from_slice(b"..ended\n");
        let mut f = Framer::new(0, 1024);
        let mut src = &data[..];
        assert_eq!(f.read_from(&mut src, CHUNK).unwrap(), CHUNK);
        let first = lines(&mut f).remove(0);
        let chunk = first.bytes.as_ptr() as usize..first.bytes.as_ptr() as usize + CHUNK;
        assert!(
            chunk.contains(&(f.buf.as_ptr() as usize)),
            "the rest is in the chunk"
        );
        f.compact();
        assert!(
            !chunk.contains(&(f.buf.as_ptr() as usize)),
            "the rest was moved out"
        );
        assert_eq!(f.read_from(&mut src, CHUNK).unwrap(), 8);
        assert_eq!(lines(&mut f)[0].bytes, &b"an unended line...ended"[..]);
    }

    proptest! {
        #[test]
        fn chunk_boundaries_do_not_change_the_lines(
            data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'a'), Just(b'\r'), any::<u8>()], 0..400),
            cuts in proptest::collection::vec(1usize..50, 1..20),
            max in 1usize..40,
        ) {
            let mut whole = Framer::new(0, max);
            whole.extend(&data);
            let mut expected = lines(&mut whole);
            expected.extend(whole.finish());

            let mut chunked = Framer::new(0, max);
            let mut got = Vec::new();
            let mut rest = &data[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() { break; }
                let (head, tail) = rest.split_at((*cut).min(rest.len()));
                chunked.extend(head);
                got.extend(lines(&mut chunked));
                prop_assert!(chunked.buffered() <= max + 50);
                rest = tail;
            }
            got.extend(chunked.finish());
            prop_assert_eq!(got, expected);
        }
    }
}
