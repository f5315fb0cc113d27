//! The zlib-rs backend: flate2's `GzEncoder`. At level 1 this is zlib-ng's `deflate_quick`.

use std::io::{self, Write};

use flate2::write::GzEncoder;
use flate2::Compression;

pub const NAME: &str = "zlib-rs";

#[derive(Debug)]
pub struct Stream(GzEncoder<Vec<u8>>);

impl Stream {
    pub fn new(into: Vec<u8>, level: u32) -> Stream {
        Stream(GzEncoder::new(into, Compression::new(level)))
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.write_all(data)
    }

    pub fn compressed_len(&self) -> usize {
        self.0.get_ref().len()
    }

    pub fn finish(self) -> io::Result<Vec<u8>> {
        self.0.finish()
    }
}
