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

use bytes::{BufMut, Bytes, BytesMut};
use jute::data::{Acl, StatPersisted};
use jute::{Jute, Reader};
use thiserror::Error;

use super::txnlog::adler32;
use crate::tree::digest::DIGEST_VERSION;
use crate::tree::DataTree;

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

/// `int64 adler32-so-far; ustring "/"`.
fn seal(out: &mut BytesMut) {
    let sum = adler32(out) as i64;
    out.put_i64(sum);
    "/".to_owned().encode(out);
}

/// Serializes `tree` and the live `sessions` (id, negotiated timeout).
pub fn write(tree: &DataTree, sessions: &[(i64, i32)]) -> Bytes {
    let mut out = BytesMut::with_capacity(64 + tree.node_count() * 128);
    out.put_i32(SNAP_MAGIC);
    out.put_i32(2);
    out.put_i64(-1);
    out.put_i32(sessions.len() as i32);
    for (id, to) in sessions {
        out.put_i64(*id);
        out.put_i32(*to);
    }
    let acls = tree.acl_cache().entries();
    out.put_i32(acls.len() as i32);
    for (id, list) in acls {
        out.put_i64(id);
        list.to_vec().encode(&mut out);
    }
    for (path, node) in tree.snapshot_order() {
        path.encode(&mut out);
        node.data.encode(&mut out);
        out.put_i64(node.acl);
        node.stat.encode(&mut out);
    }
    "/".to_owned().encode(&mut out);
    seal(&mut out);
    out.put_i64(tree.last_zxid);
    out.put_i32(DIGEST_VERSION);
    out.put_i64(tree.digest());
    seal(&mut out);
    out.freeze()
}

fn check_seal(buf: &[u8], r: &mut Reader<'_>) -> Result<(), SnapError> {
    let at = r.position();
    let computed = adler32(&buf[..at]) as i64;
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
    Ok(())
}

/// Parses an uncompressed snapshot and rebuilds its tree.
pub fn read(buf: &[u8], extended_types: bool) -> Result<Snapshot, SnapError> {
    let mut r = Reader::with_limit(buf, usize::MAX >> 1);
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
    let mut nodes = Vec::new();
    loop {
        let path = String::decode(&mut r)?;
        if path == "/" {
            break;
        }
        let data = Option::<Bytes>::decode(&mut r)?;
        let acl = r.read_i64()?;
        let stat = StatPersisted::decode(&mut r)?;
        nodes.push((path, data, acl, stat));
    }
    check_seal(buf, &mut r)?;
    let digest = if r.remaining() >= 20 {
        let zxid = r.read_i64()?;
        let _version = r.read_i32()?;
        let d = r.read_i64()?;
        check_seal(buf, &mut r)?;
        Some((zxid, d))
    } else {
        None
    };
    // 3.9 appends lastProcessedZxid and a seal; 3.8 stops before it.
    if r.remaining() >= 8 {
        r.read_i64()?;
        check_seal(buf, &mut r)?;
    }
    let tree = DataTree::from_snapshot(extended_types, acls, nodes).map_err(SnapError::Tree)?;
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
