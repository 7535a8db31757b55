//! ZooKeeper's snapshot format (`version-2/snapshot.<hex zxid>`), uncompressed:
//!
//! ```text
//! FileHeader { "ZKSN", 2, dbid -1 }
//! sessions   int32 n; { int64 id; int32 timeoutMs } × n
//! ACL map    int32 n; { int64 aclId; vector<ACL> } × n
//! nodes      { ustring path; buffer data; int64 aclId; StatPersisted } …, then ustring "/"
//! seal       int64 adler32(everything so far); ustring "/"
//! digest     int64 zxid; int32 version; int64 treeDigest; seal            (3.6+)
//! last zxid  int64 lastProcessedZxid; seal                                (3.9, read only)
//! ```
//!
//! Nodes are written parents first with the root named "". Paddock writes what 3.8 writes
//! (through the digest section), which 3.8 and 3.9 both read.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use jute::data::{Acl, StatPersisted};
use jute::{Jute, Reader};
use thiserror::Error;

use super::compress::{self, Method};
use super::spool::{Spool, Spooled};
use super::txnlog::Adler32;
use crate::tree::digest::DIGEST_VERSION;
use crate::tree::{DataTree, PreOrder, OPEN_UNSAFE_ACL_ID};

pub const SNAP_MAGIC: i32 = 0x5A4B_534E;

#[derive(Debug, Error)]
pub enum SnapError {
    #[error("not a snapshot: magic {0:#x}")]
    BadMagic(i32),
    #[error("snapshot is truncated or malformed: {0}")]
    Decode(#[from] jute::Error),
    #[error("snapshot seal mismatch at offset {at}: stored {stored:#x}, computed {computed:#x}")]
    Seal {
        at: usize,
        stored: i64,
        computed: i64,
    },
    #[error("snapshot is inconsistent: {0}")]
    Tree(String),
}

/// What a snapshot holds.
pub struct Snapshot {
    pub sessions: Vec<(i64, i32)>,
    pub tree: DataTree,
    /// (zxid, tree digest) of the digest section, when present.
    pub digest: Option<(i64, i64)>,
}

/// A snapshot taken a few nodes at a time while the core goes on applying txns: `start`,
/// `step` until it reports done, `finish`; the parts are then written off the core task.
///
/// Like Java's, such a snapshot is fuzzy: it is named after the zxid the tree had at the
/// start, holds each node as it was when the walk reached it, and is made exact by replaying
/// the log after that zxid (see `tree::PreOrder` for the rule that keeps the replay right).
/// Its digest section is the tree's digest at the end, as Java writes it.
pub struct SnapshotWriter {
    zxid: i64,
    sessions: Vec<(i64, i32)>,
    walk: PreOrder,
    /// Only a tree that does not change during the walk may take every node it meets.
    exact: bool,
    /// ACL lists the written nodes refer to, resolved when each node was written (a list
    /// dropped from the cache later is still needed by the snapshot).
    acls: BTreeMap<i64, Arc<[Acl]>>,
    records: Records,
    walk_done: bool,
    nodes: u64,
}

/// Where node records go during the walk.
enum Records {
    Memory(Vec<Bytes>),
    Spool(Spool),
}

/// Where they are once the walk is over.
enum Written {
    Memory(Vec<Bytes>),
    Spooled(Spooled),
}

impl SnapshotWriter {
    /// Starts a snapshot of `tree` with its live `sessions` (id, negotiated timeout), its
    /// node records kept in memory.
    pub fn start(tree: &DataTree, sessions: Vec<(i64, i32)>) -> SnapshotWriter {
        SnapshotWriter {
            zxid: tree.last_zxid,
            sessions,
            walk: PreOrder::new(),
            exact: false,
            acls: BTreeMap::new(),
            records: Records::Memory(Vec::new()),
            walk_done: false,
            nodes: 0,
        }
    }

    /// Like `start`, with the node records spooled to a temp file in `dir` (see `spool`):
    /// what the server does, so a large tree is not held twice in memory.
    pub fn spooled(
        tree: &DataTree,
        sessions: Vec<(i64, i32)>,
        dir: &Path,
    ) -> io::Result<SnapshotWriter> {
        let mut w = SnapshotWriter::start(tree, sessions);
        let spool = dir.join(format!("snapshot.{:x}.nodes.tmp", w.zxid));
        w.records = Records::Spool(Spool::create(&spool)?);
        Ok(w)
    }

    /// Hands a finished chunk on; false if the spool had no room (the walk pauses).
    fn emit(&mut self, chunk: Bytes) -> bool {
        match &mut self.records {
            Records::Memory(v) => {
                v.push(chunk);
                true
            }
            Records::Spool(s) => s.offer(chunk),
        }
    }

    /// The zxid the snapshot is named after: the tree's when it started.
    pub fn zxid(&self) -> i64 {
        self.zxid
    }

    /// Nodes written so far.
    pub fn nodes(&self) -> u64 {
        self.nodes
    }

    /// Writes up to `budget` more nodes; true once every node has been written (and handed
    /// to the spool).
    pub fn step(&mut self, tree: &DataTree, budget: usize) -> bool {
        if let Records::Spool(s) = &mut self.records {
            if !s.ready() {
                return false;
            }
        }
        let now = if self.exact { i64::MAX } else { tree.last_zxid };
        let mut out = BytesMut::new();
        for _ in 0..budget {
            if self.walk_done {
                break;
            }
            let Some((path, node)) = self.walk.next(tree, now) else {
                self.walk_done = true;
                break;
            };
            path.encode(&mut out);
            node.data.encode(&mut out);
            out.put_i64(node.acl);
            node.stat.encode(&mut out);
            if node.acl != OPEN_UNSAFE_ACL_ID {
                self.acls
                    .entry(node.acl)
                    .or_insert_with(|| tree.acl_cache().get(node.acl));
            }
            self.nodes += 1;
            if out.len() >= CHUNK_BYTES && !self.emit(out.split().freeze()) {
                break;
            }
        }
        let emitted = out.is_empty() || self.emit(out.freeze());
        let spool_idle = match &self.records {
            Records::Spool(s) => s.idle(),
            Records::Memory(_) => true,
        };
        self.walk_done && emitted && spool_idle
    }

    /// Ends the walk; `tree` gives the digest section (its zxid and digest now).
    pub fn finish(self, tree: &DataTree) -> SnapshotParts {
        let mut head = BytesMut::new();
        head.put_i32(SNAP_MAGIC);
        head.put_i32(2);
        head.put_i64(-1);
        head.put_i32(self.sessions.len() as i32);
        for (id, to) in &self.sessions {
            head.put_i64(*id);
            head.put_i32(*to);
        }
        head.put_i32(self.acls.len() as i32);
        for (id, list) in &self.acls {
            head.put_i64(*id);
            list.to_vec().encode(&mut head);
        }
        SnapshotParts {
            zxid: self.zxid,
            head: head.freeze(),
            nodes: match self.records {
                Records::Memory(v) => Written::Memory(v),
                Records::Spool(s) => Written::Spooled(s.close()),
            },
            digest: (tree.last_zxid, tree.digest()),
        }
    }
}

/// Node records are cut into chunks of about this size, so no single buffer grows with the
/// tree.
const CHUNK_BYTES: usize = 1 << 20;

/// A finished snapshot, not yet sealed: the seals are computed as it is written out.
pub struct SnapshotParts {
    /// The zxid the file is named after.
    pub zxid: i64,
    head: Bytes,
    nodes: Written,
    digest: (i64, i64),
}

/// Writes through a running Adler-32, for the seals.
struct Sealing<W> {
    out: W,
    sum: Adler32,
    len: u64,
}

impl<W: Write> Sealing<W> {
    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.sum.update(b);
        self.len += b.len() as u64;
        self.out.write_all(b)
    }

    /// `int64 adler32-so-far; ustring "/"`.
    fn seal(&mut self) -> io::Result<()> {
        self.put(&(self.sum.value() as i64).to_be_bytes())?;
        self.put(END)
    }
}

/// `ustring "/"`: the end of the node list and the tail of every seal.
const END: &[u8] = &[0, 0, 0, 1, b'/'];

impl SnapshotParts {
    /// Streams the snapshot to `out`; returns the bytes written.
    pub fn write_to(self, out: impl Write) -> io::Result<u64> {
        let mut w = Sealing {
            out,
            sum: Adler32::new(),
            len: 0,
        };
        w.put(&self.head)?;
        match self.nodes {
            Written::Memory(chunks) => {
                for chunk in &chunks {
                    w.put(chunk)?;
                }
            }
            Written::Spooled(s) => s.copy_into(|b| w.put(b))?,
        }
        w.put(END)?;
        w.seal()?;
        let (zxid, digest) = self.digest;
        w.put(&zxid.to_be_bytes())?;
        w.put(&DIGEST_VERSION.to_be_bytes())?;
        w.put(&digest.to_be_bytes())?;
        w.seal()?;
        w.out.flush()?;
        Ok(w.len)
    }

    pub fn to_bytes(self) -> Bytes {
        let mut v = Vec::new();
        self.write_to(&mut v).expect("writing to memory");
        v.into()
    }
}

/// A snapshot of an unchanging `tree` and its live `sessions` (id, negotiated timeout), taken
/// in one go.
pub fn exact(tree: &DataTree, sessions: &[(i64, i32)]) -> SnapshotParts {
    let mut w = SnapshotWriter::start(tree, sessions.to_vec());
    w.exact = true;
    while !w.step(tree, usize::MAX) {}
    w.finish(tree)
}

/// `exact`, serialized.
pub fn write(tree: &DataTree, sessions: &[(i64, i32)]) -> Bytes {
    exact(tree, sessions).to_bytes()
}

/// A large snapshot reports its progress every this many nodes.
const PROGRESS_EVERY: usize = 500_000;

/// The running checksum a reader compares at each seal: one pass over the file in all,
/// however many seals it has.
struct SealCheck {
    sum: Adler32,
    upto: usize,
}

impl SealCheck {
    fn check(&mut self, buf: &[u8], r: &mut Reader<'_>) -> Result<(), SnapError> {
        let at = r.position();
        self.sum.update(&buf[self.upto..at]);
        let computed = self.sum.value() as i64;
        let stored = r.read_i64()?;
        if stored != computed {
            return Err(SnapError::Seal {
                at,
                stored,
                computed,
            });
        }
        if String::decode(r)? != "/" {
            return Err(SnapError::Tree(format!(
                "seal at offset {at} lacks its \"/\""
            )));
        }
        // The seal's own bytes are part of what the next seal covers.
        self.sum.update(&buf[at..r.position()]);
        self.upto = r.position();
        Ok(())
    }
}

/// Reads `snapshot.<zxid>[.gz|.snappy]`, decompressing by the name's suffix as Java does.
/// Errors name the file.
pub fn read_file(path: &Path, extended_types: bool) -> Result<Snapshot, String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    match Method::of_file(name) {
        Method::None => {
            // Mapped, not read: no buffer the size of the file to allocate, zero and fill
            // before the tree is built (a restart on a large data dir spent a third of its
            // time zeroing fresh pages).
            let file = std::fs::File::open(path).map_err(|e| at(&e))?;
            // SAFETY: a read-only map of a snapshot file; snapshots are written once under
            // a temp name and renamed, never modified in place.
            let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| at(&e))?;
            read(&map, extended_types).map_err(|e| at(&e))
        }
        method => {
            let bytes = std::fs::read(path)
                .and_then(|b| compress::decompress(method, b))
                .map_err(|e| at(&e))?;
            read(&bytes, extended_types).map_err(|e| at(&e))
        }
    }
}

/// Parses an uncompressed snapshot and rebuilds its tree.
pub fn read(buf: &[u8], extended_types: bool) -> Result<Snapshot, SnapError> {
    let mut r = Reader::with_limit(buf, usize::MAX >> 1);
    let mut seals = SealCheck {
        sum: Adler32::new(),
        upto: 0,
    };
    let magic = r.read_i32()?;
    if magic != SNAP_MAGIC {
        return Err(SnapError::BadMagic(magic));
    }
    r.read_i32()?;
    r.read_i64()?;
    let n = r.read_count()?.unwrap_or(0);
    let mut sessions = Vec::with_capacity(n.min(r.remaining() / 12));
    for _ in 0..n {
        sessions.push((r.read_i64()?, r.read_i32()?));
    }
    let n = r.read_count()?.unwrap_or(0);
    let mut acls = Vec::with_capacity(n.min(r.remaining() / 12));
    for _ in 0..n {
        acls.push((r.read_i64()?, Vec::<Acl>::decode(&mut r)?));
    }
    let mut tree = DataTree::load(extended_types, acls);
    let started = std::time::Instant::now();
    let mut count = 0usize;
    loop {
        let path = String::decode(&mut r)?;
        if path == "/" {
            break;
        }
        count += 1;
        if count % PROGRESS_EVERY == 0 {
            tracing::info!(
                nodes = count,
                secs = started.elapsed().as_secs_f64(),
                "reading snapshot"
            );
        }
        let data = Option::<Bytes>::decode(&mut r)?;
        let acl = r.read_i64()?;
        let stat = StatPersisted::decode(&mut r)?;
        tree.add(path, data, acl, stat).map_err(SnapError::Tree)?;
    }
    seals.check(buf, &mut r)?;
    let digest = if r.remaining() >= 20 {
        let zxid = r.read_i64()?;
        let _version = r.read_i32()?;
        let d = r.read_i64()?;
        seals.check(buf, &mut r)?;
        Some((zxid, d))
    } else {
        None
    };
    // 3.9 appends lastProcessedZxid and a seal; 3.8 stops before it.
    if r.remaining() >= 8 {
        r.read_i64()?;
        seals.check(buf, &mut r)?;
    }
    let tree = tree.finish().map_err(SnapError::Tree)?;
    Ok(Snapshot {
        sessions,
        tree,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn round_trips_a_tree() {
        let mut t = DataTree::new(true);
        let mut ev = Vec::new();
        let open = Acl::open_unsafe();
        let digest_acl = vec![Acl::new(31, "digest", "u:abc=")];
        t.create(
            "/a",
            Some(Bytes::from_static(b"x")),
            &open,
            0,
            -1,
            1,
            10,
            &mut ev,
        )
        .unwrap();
        t.create(
            "/a/b",
            None,
            &digest_acl,
            0x0100_0000_0000_0001,
            -1,
            2,
            11,
            &mut ev,
        )
        .unwrap();
        t.create(
            "/c",
            Some(Bytes::new()),
            &open,
            crate::tree::CONTAINER_OWNER,
            -1,
            3,
            12,
            &mut ev,
        )
        .unwrap();
        t.last_zxid = 3;
        let bytes = write(&t, &[(0x0100_0000_0000_0001, 30000)]);
        let s = read(&bytes, true).unwrap();
        assert_eq!(s.sessions, vec![(0x0100_0000_0000_0001, 30000)]);
        assert_eq!(s.digest, Some((3, t.digest())));
        assert_eq!(s.tree.digest(), t.digest());
        assert_eq!(s.tree.node_count(), t.node_count());
        assert_eq!(s.tree.ephemerals_of(0x0100_0000_0000_0001).count(), 1);
        assert_eq!(s.tree.containers().len(), 1);
        assert_eq!(
            &*s.tree.acl_of(s.tree.get("/a/b").unwrap()),
            &digest_acl[..]
        );
        // Written again, byte for byte the same.
        let mut t2 = s.tree;
        t2.last_zxid = 3;
        assert_eq!(write(&t2, &s.sessions), bytes);
        // A flipped byte breaks a seal or the decoding, never silently.
        let mut bad = bytes.to_vec();
        bad[40] ^= 0xff;
        assert!(read(&bad, true).is_err());
    }
}
