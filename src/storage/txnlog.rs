//! ZooKeeper's txn-log file format (`version-2/log.<hex zxid>`), byte for byte:
//!
//! ```text
//! FileHeader { int32 magic "ZKLG"; int32 version 2; int64 dbid 0 }
//! repeat { int64 adler32(entry); int32 len; entry[len]; byte 0x42 }
//! zero padding (preallocation)
//! ```
//!
//! `entry` is TxnHeader + txn record + an optional TxnDigest. Reading stops at the first
//! record that is incomplete, zero (preallocated space) or lacks its end marker: that is the
//! end of the log as written. A checksum mismatch is corruption.

use bytes::BytesMut;
use jute::txn::{Txn, TxnDigest, TxnHeader};
use jute::Jute;
use thiserror::Error;

pub const LOG_MAGIC: i32 = 0x5A4B_4C47;
pub const LOG_VERSION: i32 = 2;
pub const HEADER_LEN: usize = 16;
const END_OF_RECORD: u8 = 0x42;

/// `java.util.zip.Adler32`.
pub fn adler32(data: &[u8]) -> u32 {
    let mut sum = Adler32::new();
    sum.update(data);
    sum.value()
}

/// A running Adler-32, for checksums over data that arrives in pieces (a snapshot is
/// written chunk by chunk and sealed with the sum of everything before each seal).
#[derive(Debug, Clone, Copy)]
pub struct Adler32 {
    a: u32,
    b: u32,
}

impl Default for Adler32 {
    fn default() -> Self {
        Adler32::new()
    }
}

impl Adler32 {
    const MOD: u32 = 65_521;

    pub fn new() -> Adler32 {
        Adler32 { a: 1, b: 0 }
    }

    pub fn update(&mut self, data: &[u8]) {
        // 5552 is the largest n with 255·n·(n+1)/2 + (n+1)·(MOD−1) < 2^32: reduce once per
        // chunk.
        for chunk in data.chunks(5552) {
            for &x in chunk {
                self.a += x as u32;
                self.b += self.a;
            }
            self.a %= Self::MOD;
            self.b %= Self::MOD;
        }
    }

    pub fn value(&self) -> u32 {
        (self.b << 16) | self.a
    }
}

/// The 16-byte header of a txn log.
pub fn file_header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(&LOG_MAGIC.to_be_bytes());
    h[4..8].copy_from_slice(&LOG_VERSION.to_be_bytes());
    h
}

/// `log.<hex>` as Java names it: lower-case hex, no leading zeros.
pub fn file_name(first_zxid: i64) -> String {
    format!("log.{first_zxid:x}")
}

/// The zxid in a `log.<hex>` or `snapshot.<hex>[.suffix]` file name.
pub fn zxid_of(name: &str, prefix: &str) -> Option<i64> {
    // Temp files (a snapshot being written, its node spool) are never a log or snapshot.
    if name.ends_with(".tmp") {
        return None;
    }
    let rest = name.strip_prefix(prefix)?.strip_prefix('.')?;
    let hex = rest.split('.').next()?;
    u64::from_str_radix(hex, 16).ok().map(|z| z as i64)
}

/// Appends one record: checksum, length, entry, end marker.
pub fn encode_record(hdr: &TxnHeader, txn: &[u8], digest: Option<TxnDigest>, out: &mut Vec<u8>) {
    let mut entry = BytesMut::with_capacity(32 + txn.len() + 12);
    hdr.encode(&mut entry);
    entry.extend_from_slice(txn);
    if let Some(d) = digest {
        d.encode(&mut entry);
    }
    out.extend_from_slice(&(adler32(&entry) as i64).to_be_bytes());
    out.extend_from_slice(&(entry.len() as i32).to_be_bytes());
    out.extend_from_slice(&entry);
    out.push(END_OF_RECORD);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub hdr: TxnHeader,
    pub txn: Txn,
    pub digest: Option<TxnDigest>,
    /// Byte offset just past this record: where a truncation keeping it would cut.
    pub end: u64,
}

/// How the readable part of a log ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// End of file or preallocated zeros exactly after the last record.
    Clean,
    /// A record started at `at` but is incomplete or lacks its end marker: a torn write.
    Torn { at: u64 },
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LogError {
    #[error("not a txn log: magic {0:#x}")]
    BadMagic(i32),
    #[error("file shorter than the 16-byte header")]
    ShortHeader,
    #[error("checksum mismatch in the record at offset {at}")]
    Checksum { at: u64 },
    #[error("record at offset {at} does not decode: {why}")]
    Decode { at: u64, why: String },
}

/// Parses a whole log file held in memory (e.g. a memory map).
pub fn read_log(buf: &[u8]) -> Result<(Vec<LogEntry>, Tail), LogError> {
    if buf.len() < HEADER_LEN {
        return Err(LogError::ShortHeader);
    }
    let magic = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if magic != LOG_MAGIC {
        return Err(LogError::BadMagic(magic));
    }
    let mut entries = Vec::new();
    let mut pos = HEADER_LEN;
    loop {
        let at = pos as u64;
        let rest = &buf[pos..];
        if rest.is_empty() {
            return Ok((entries, Tail::Clean));
        }
        if rest.len() < 12 {
            let zeros = rest.iter().all(|b| *b == 0);
            return Ok((
                entries,
                if zeros {
                    Tail::Clean
                } else {
                    Tail::Torn { at }
                },
            ));
        }
        let crc = i64::from_be_bytes(rest[..8].try_into().expect("8 bytes"));
        let len = i32::from_be_bytes(rest[8..12].try_into().expect("4 bytes"));
        if len == 0 && crc == 0 {
            // Preallocated space: the log ends here, as Java reads it. (Not scanning the rest
            // of a 64 MiB preallocation keeps recovery fast.)
            return Ok((entries, Tail::Clean));
        }
        if len <= 0 || rest.len() < 12 + len as usize + 1 {
            return Ok((entries, Tail::Torn { at }));
        }
        let entry = &rest[12..12 + len as usize];
        if rest[12 + len as usize] != END_OF_RECORD {
            return Ok((entries, Tail::Torn { at }));
        }
        if adler32(entry) as i64 != crc {
            return Err(LogError::Checksum { at });
        }
        // The same decoder reads PROPOSAL payloads; it resolves a closeSession whose body is
        // absent (closeSessionTxn.enabled=false) but followed by a digest, as Java does.
        let jute::txn::TxnEntry {
            header: hdr,
            txn,
            digest,
        } = jute::txn::TxnEntry::decode(entry).map_err(|why| LogError::Decode {
            at,
            why: why.to_string(),
        })?;
        pos += 12 + len as usize + 1;
        entries.push(LogEntry {
            hdr,
            txn,
            digest,
            end: pos as u64,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jute::txn::CreateSessionTxn;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// The worked example in the storage reference, checked there against the JVM.
    #[test]
    fn matches_javas_bytes() {
        let hdr = TxnHeader {
            client_id: 0x0100000000000000,
            cxid: 0,
            zxid: 0x100000001,
            time: 1_700_000_000_000,
            type_: -10,
        };
        let txn = Txn::CreateSession(CreateSessionTxn { timeout: 30000 }).to_bytes();
        let mut out = Vec::new();
        encode_record(&hdr, &txn, None, &mut out);
        assert_eq!(
            hex(&out),
            "0000000039f9074400000024\
             0100000000000000000000000000000100000001 0000018bcfe56800fffffff600007530 42"
                .replace(' ', "")
        );
        assert_eq!(file_name(0x100000001), "log.100000001");
        assert_eq!(zxid_of("log.100000001", "log"), Some(0x100000001));
        assert_eq!(zxid_of("snapshot.0.snappy", "snapshot"), Some(0));
    }

    #[test]
    fn adler_matches_zlib_on_long_input() {
        // zlib: adler32 of 100000 bytes of 0xff.
        let v = vec![0xffu8; 100_000];
        let (mut a, mut b) = (1u64, 0u64);
        for x in &v {
            a = (a + *x as u64) % 65521;
            b = (b + a) % 65521;
        }
        assert_eq!(adler32(&v), ((b << 16) | a) as u32);
    }

    #[test]
    fn torn_and_zero_tails() {
        let mut file = file_header().to_vec();
        for z in 1..=3 {
            let hdr = TxnHeader {
                client_id: 1,
                cxid: z as i32,
                zxid: z,
                time: 0,
                type_: -10,
            };
            encode_record(
                &hdr,
                &Txn::CreateSession(CreateSessionTxn { timeout: 1 }).to_bytes(),
                Some(TxnDigest {
                    version: 2,
                    tree_digest: z,
                }),
                &mut file,
            );
        }
        let whole = file.len();
        let (e, tail) = read_log(&file).unwrap();
        assert_eq!((e.len(), tail), (3, Tail::Clean));
        assert_eq!(e[2].end as usize, whole);
        assert_eq!(
            e[0].digest,
            Some(TxnDigest {
                version: 2,
                tree_digest: 1
            })
        );
        // Preallocated zeros after the records.
        let mut padded = file.clone();
        padded.resize(whole + 4096, 0);
        assert_eq!(read_log(&padded).unwrap().1, Tail::Clean);
        // Every cut inside the last record is a torn tail with the first two records intact.
        let second_end = e[1].end as usize;
        for cut in second_end + 1..whole {
            let (e2, tail) = read_log(&file[..cut]).unwrap();
            assert_eq!(e2.len(), 2, "cut at {cut}");
            // A cut inside the checksum's zero high bytes looks like preallocated space;
            // either way the log ends right after the second record.
            assert!(
                tail == Tail::Clean
                    || tail
                        == Tail::Torn {
                            at: second_end as u64
                        },
                "cut at {cut}: {tail:?}"
            );
        }
        // A flipped bit inside an entry is corruption.
        let mut bad = file.clone();
        bad[HEADER_LEN + 20] ^= 1;
        assert!(matches!(read_log(&bad), Err(LogError::Checksum { .. })));
    }

    #[test]
    fn close_session_without_body_but_with_digest() {
        // closeSessionTxn.enabled=false writes no body; the digest still follows.
        let hdr = TxnHeader {
            client_id: 7,
            cxid: 0,
            zxid: 9,
            time: 0,
            type_: -11,
        };
        let digest = TxnDigest {
            version: 2,
            tree_digest: 0x1234,
        };
        let mut file = file_header().to_vec();
        encode_record(&hdr, &[], Some(digest.clone()), &mut file);
        let (e, _) = read_log(&file).unwrap();
        assert_eq!(e[0].txn, Txn::CloseSession(None));
        assert_eq!(e[0].digest, Some(digest));
    }
}
