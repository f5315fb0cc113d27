//! The ISA-L backend: igzip's stateful deflate, called directly. It writes straight into the spare
//! capacity of the body's buffer, so compressed bytes are not copied through a second buffer.

use std::alloc::{alloc_zeroed, handle_alloc_error, Layout};
use std::io;

use isal_sys::igzip_lib as isal;

pub const NAME: &str = "isa-l";

/// Output room asked for before each call when the input gives no better guess.
const MIN_ROOM: usize = 64 * 1024;

pub struct Stream {
    /// 82 KB, and ISA-L's state is not to be moved between calls: boxed once.
    z: Box<isal::isal_zstream>,
    /// The hash tables of levels 1 to 3, which `z.level_buf` points into.
    _level_buf: Box<[u8]>,
    out: Vec<u8>,
}

// SAFETY: the stream's raw pointers point into memory it owns (`_level_buf`, its own state), into
// ISA-L's static tables, or at the caller's slices, which are set before each call and not used
// after it returns. Nothing is shared with another stream or thread.
unsafe impl Send for Stream {}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("level", &self.z.level)
            .field("compressed", &self.out.len())
            .finish()
    }
}

impl Stream {
    /// `level` 1 to 9 as zlib counts, onto ISA-L's 1 to 3: 1 is level 1 (what Filebeat and the
    /// defaults use), 2-5 level 2, 6-9 level 3.
    pub fn new(out: Vec<u8>, level: u32) -> Stream {
        let (isal_level, buf_size) = match level {
            0 | 1 => (1, isal::ISAL_DEF_LVL1_DEFAULT),
            2..=5 => (2, isal::ISAL_DEF_LVL2_DEFAULT),
            _ => (3, isal::ISAL_DEF_LVL3_DEFAULT),
        };
        let layout = Layout::new::<isal::isal_zstream>();
        // SAFETY: the layout is not zero-sized; all zeroes is a valid value of the C struct (null
        // pointers, zero counts), which isal_deflate_init then sets up; the Box frees it with the
        // same layout.
        let mut z: Box<isal::isal_zstream> = unsafe {
            let raw = alloc_zeroed(layout).cast::<isal::isal_zstream>();
            if raw.is_null() {
                handle_alloc_error(layout);
            }
            Box::from_raw(raw)
        };
        // SAFETY: `z` is a valid, exclusively owned stream.
        unsafe { isal::isal_deflate_init(&mut *z) };
        let mut level_buf = vec![0u8; buf_size as usize].into_boxed_slice();
        z.level = isal_level;
        z.level_buf = level_buf.as_mut_ptr();
        z.level_buf_size = buf_size;
        z.gzip_flag = isal::IGZIP_GZIP as u16;
        z.flush = isal::NO_FLUSH as u16;
        Stream {
            z,
            _level_buf: level_buf,
            out,
        }
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        // avail_in is 32 bits.
        for chunk in data.chunks(u32::MAX as usize) {
            self.z.next_in = chunk.as_ptr().cast_mut();
            self.z.avail_in = chunk.len() as u32;
            while self.z.avail_in > 0 {
                self.deflate()?;
            }
        }
        Ok(())
    }

    pub fn compressed_len(&self) -> usize {
        self.out.len()
    }

    pub fn finish(mut self) -> io::Result<Vec<u8>> {
        self.z.next_in = std::ptr::NonNull::dangling().as_ptr();
        self.z.avail_in = 0;
        self.z.end_of_stream = 1;
        while self.z.internal_state.state != isal::isal_zstate_state_ZSTATE_END {
            self.deflate()?;
        }
        Ok(self.out)
    }

    /// One call of isal_deflate with room in `out`; an error if it made no progress, so a wrong
    /// state cannot loop for ever.
    fn deflate(&mut self) -> io::Result<()> {
        let want = (self.z.avail_in as usize / 4).max(MIN_ROOM);
        self.out.reserve(want);
        let room = self.out.spare_capacity_mut();
        let room_len = room.len().min(u32::MAX as usize) as u32;
        self.z.next_out = room.as_mut_ptr().cast();
        self.z.avail_out = room_len;
        let in_before = self.z.avail_in;
        let state_before = self.z.internal_state.state;
        // SAFETY: next_in/avail_in describe the caller's live slice (or nothing), next_out/avail_out
        // the spare capacity of `out`, which nothing else touches during the call.
        let code = unsafe { isal::isal_deflate(&mut *self.z) };
        let written = (room_len - self.z.avail_out) as usize;
        // SAFETY: ISA-L wrote exactly `written` bytes at the start of the spare capacity.
        unsafe { self.out.set_len(self.out.len() + written) };
        if code != isal::COMP_OK as i32 {
            return Err(io::Error::other(format!("isal_deflate failed ({code})")));
        }
        let progressed = written > 0
            || self.z.avail_in < in_before
            || self.z.internal_state.state != state_before;
        if !progressed {
            return Err(io::Error::other("isal_deflate made no progress"));
        }
        Ok(())
    }
}
