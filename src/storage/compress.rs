//! Compressed snapshots, as Java writes them when `snapshot.compression.method` is `gz` or
//! `snappy` (`snapshot.<zxid>.gz`, `snapshot.<zxid>.snappy`). The reader goes by the file
//! name's suffix, as Java's does, so a data dir may mix kinds; the seals inside cover the
//! uncompressed bytes.
//!
//! `.snappy` is snappy-java's stream format (what Java's `SnappyOutputStream` writes), not
//! the official Snappy framing format: a 16-byte header (`\x82SNAPPY\0`, version 1, minimum
//! compatible version 1), then blocks of `int32 length` + one raw Snappy block of at most
//! 32 KiB of input.

use std::io::{self, Read, Write};

const SNAPPY_MAGIC: &[u8; 8] = b"\x82SNAPPY\0";
/// snappy-java's default block size.
const SNAPPY_BLOCK: usize = 32 * 1024;
/// No block of a sane snapshot comes near this; a larger length is corruption.
const SNAPPY_MAX_BLOCK: usize = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    None,
    Gzip,
    Snappy,
}

impl Method {
    /// `snapshot.compression.method`: empty (the default), `gz` or `snappy`.
    pub fn from_config(value: &str) -> Result<Method, String> {
        match value.trim() {
            "" => Ok(Method::None),
            "gz" => Ok(Method::Gzip),
            "snappy" => Ok(Method::Snappy),
            other => Err(format!(
                "snapshot.compression.method must be empty, gz or snappy, not {other:?}"
            )),
        }
    }

    /// The method a snapshot file's name says it was written with.
    pub fn of_file(name: &str) -> Method {
        if name.ends_with(".gz") {
            Method::Gzip
        } else if name.ends_with(".snappy") {
            Method::Snappy
        } else {
            Method::None
        }
    }

    pub fn suffix(self) -> &'static str {
        match self {
            Method::None => "",
            Method::Gzip => ".gz",
            Method::Snappy => ".snappy",
        }
    }
}

fn corrupt(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// The uncompressed bytes of a snapshot file read whole.
pub fn decompress(method: Method, bytes: Vec<u8>) -> io::Result<Vec<u8>> {
    match method {
        Method::None => Ok(bytes),
        Method::Gzip => {
            let mut out = Vec::with_capacity(bytes.len() * 4);
            flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out)?;
            Ok(out)
        }
        Method::Snappy => unsnappy(&bytes),
    }
}

fn unsnappy(bytes: &[u8]) -> io::Result<Vec<u8>> {
    if bytes.len() < 16 || &bytes[..8] != SNAPPY_MAGIC {
        return Err(corrupt("not a snappy-java stream (bad magic)"));
    }
    let mut rest = &bytes[16..];
    let mut out = Vec::with_capacity(bytes.len() * 3);
    let mut dec = snap::raw::Decoder::new();
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(corrupt("snappy stream ends inside a block length"));
        }
        let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        if len > SNAPPY_MAX_BLOCK || rest.len() < 4 + len {
            return Err(corrupt(format!(
                "snappy block of {len} bytes is cut short or too long"
            )));
        }
        let block = &rest[4..4 + len];
        let n = snap::raw::decompress_len(block).map_err(|e| corrupt(e.to_string()))?;
        if n > SNAPPY_MAX_BLOCK {
            return Err(corrupt(format!("snappy block inflates to {n} bytes")));
        }
        let at = out.len();
        out.resize(at + n, 0);
        dec.decompress(block, &mut out[at..])
            .map_err(|e| corrupt(e.to_string()))?;
        rest = &rest[4 + len..];
    }
    Ok(out)
}

/// Compresses what is written to it into `inner`; `finish` must be called at the end.
pub enum Compressor<W: Write> {
    None(W),
    Gzip(flate2::write::GzEncoder<W>),
    // Boxed: snap's encoder keeps its hash table inline, kilobytes of it.
    Snappy(Box<SnappyWriter<W>>),
}

impl<W: Write> Compressor<W> {
    pub fn new(method: Method, inner: W) -> io::Result<Compressor<W>> {
        Ok(match method {
            Method::None => Compressor::None(inner),
            Method::Gzip => Compressor::Gzip(flate2::write::GzEncoder::new(
                inner,
                flate2::Compression::default(),
            )),
            Method::Snappy => Compressor::Snappy(Box::new(SnappyWriter::new(inner)?)),
        })
    }

    /// Writes what is buffered and the format's trailer; returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Compressor::None(w) => Ok(w),
            Compressor::Gzip(g) => g.finish(),
            Compressor::Snappy(s) => s.finish(),
        }
    }
}

impl<W: Write> Write for Compressor<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Compressor::None(w) => w.write(buf),
            Compressor::Gzip(g) => g.write(buf),
            Compressor::Snappy(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Compressor::None(w) => w.flush(),
            Compressor::Gzip(g) => g.flush(),
            Compressor::Snappy(s) => s.flush(),
        }
    }
}

/// snappy-java's stream format, block by block.
pub struct SnappyWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
    enc: snap::raw::Encoder,
    block: Vec<u8>,
}

impl<W: Write> SnappyWriter<W> {
    fn new(mut inner: W) -> io::Result<SnappyWriter<W>> {
        inner.write_all(SNAPPY_MAGIC)?;
        inner.write_all(&1i32.to_be_bytes())?;
        inner.write_all(&1i32.to_be_bytes())?;
        Ok(SnappyWriter {
            inner,
            buf: Vec::with_capacity(SNAPPY_BLOCK),
            enc: snap::raw::Encoder::new(),
            block: vec![0; snap::raw::max_compress_len(SNAPPY_BLOCK)],
        })
    }

    fn emit(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let n = self
            .enc
            .compress(&self.buf, &mut self.block)
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.inner.write_all(&(n as i32).to_be_bytes())?;
        self.inner.write_all(&self.block[..n])?;
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self) -> io::Result<W> {
        self.emit()?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for SnappyWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(SNAPPY_BLOCK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == SNAPPY_BLOCK {
            self.emit()?;
        }
        Ok(n)
    }

    /// Blocks are cut at 32 KiB, not at flushes, so the output does not depend on how the
    /// caller chunked its writes.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(method: Method, data: &[u8]) -> Vec<u8> {
        let mut c = Compressor::new(method, Vec::new()).unwrap();
        for piece in data.chunks(7_001) {
            c.write_all(piece).unwrap();
        }
        let out = c.finish().unwrap();
        decompress(method, out).unwrap()
    }

    #[test]
    fn every_method_round_trips() {
        let data: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_be_bytes())
            .collect();
        for m in [Method::None, Method::Gzip, Method::Snappy] {
            assert_eq!(round_trip(m, &data), data, "{m:?}");
            assert_eq!(round_trip(m, &[]), Vec::<u8>::new(), "{m:?}");
        }
    }

    #[test]
    fn snappy_layout_is_snappy_javas() {
        let mut c = Compressor::new(Method::Snappy, Vec::new()).unwrap();
        c.write_all(&vec![b'a'; SNAPPY_BLOCK + 10]).unwrap();
        let out = c.finish().unwrap();
        assert_eq!(&out[..16], b"\x82SNAPPY\0\0\0\0\x01\0\0\0\x01");
        // Two blocks: 32 KiB, then 10 bytes.
        let first = u32::from_be_bytes(out[16..20].try_into().unwrap()) as usize;
        let second_at = 20 + first;
        let second = u32::from_be_bytes(out[second_at..second_at + 4].try_into().unwrap());
        assert_eq!(out.len(), second_at + 4 + second as usize);
    }

    #[test]
    fn damaged_streams_are_errors() {
        let data = vec![7u8; 100_000];
        for m in [Method::Gzip, Method::Snappy] {
            let mut c = Compressor::new(m, Vec::new()).unwrap();
            c.write_all(&data).unwrap();
            let out = c.finish().unwrap();
            assert!(
                decompress(m, out[..out.len() / 2].to_vec()).is_err(),
                "{m:?} cut"
            );
            let mut bad = out.clone();
            bad[0] ^= 0xff;
            assert!(decompress(m, bad).is_err(), "{m:?} magic");
        }
        assert!(Method::from_config("zstd").is_err());
    }
}
