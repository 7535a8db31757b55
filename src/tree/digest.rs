//! ZooKeeper's tree digest (3.6+, `zookeeper.digest.enabled`): each node's digest is a CRC-32
//! over its path, data and stat; the tree's is their wrapping sum, kept up to date on every
//! change. Txn-log entries, proposals and snapshots carry it so replicas can tell when they
//! have diverged. Nodes under `/zookeeper/` count 0 (quota stats change without txns).

use jute::data::StatPersisted;

/// The digest version Java 3.6+ writes (`TxnDigest.version`).
pub const DIGEST_VERSION: i32 = 2;

pub fn node_digest(path: &str, data: Option<&[u8]>, s: &StatPersisted) -> i64 {
    if path.starts_with("/zookeeper/") {
        return 0;
    }
    // The root is "" to Java, whichever name it is reached by.
    let path = if path == "/" { "" } else { path };
    let mut h = crc32fast::Hasher::new();
    h.update(path.as_bytes());
    if let Some(d) = data {
        h.update(d);
    }
    for v in [s.czxid, s.mzxid, s.pzxid, s.ctime, s.mtime] {
        h.update(&v.to_be_bytes());
    }
    for v in [s.version, s.cversion, s.aversion] {
        h.update(&v.to_be_bytes());
    }
    h.update(&s.ephemeral_owner.to_be_bytes());
    h.finalize() as i64
}
