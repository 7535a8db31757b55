//! `paddock log-dump` and `paddock snapshot-dump`: what a txn log or a snapshot holds, like
//! ZooKeeper's TxnLogToolkit and SnapshotFormatter. They work on Java ZooKeeper's files as
//! well as Paddock's.

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;

use jute::txn::Txn;

use super::txnlog::{read_log, Tail};

fn describe(txn: &Txn) -> String {
    match txn {
        Txn::CreateSession(t) => format!("createSession {}", t.timeout),
        Txn::CloseSession(t) => {
            format!("closeSession {:?}", t.as_ref().map(|t| &t.paths_to_delete))
        }
        Txn::Create(t) => format!(
            "create '{}',{:?},{:?},{},{}",
            t.path, t.data, t.acl, t.ephemeral, t.parent_cversion
        ),
        Txn::Create2(t) => format!(
            "create2 '{}',{:?},{:?},{},{}",
            t.path, t.data, t.acl, t.ephemeral, t.parent_cversion
        ),
        Txn::CreateContainer(t) => format!(
            "createContainer '{}',{:?},{:?},{}",
            t.path, t.data, t.acl, t.parent_cversion
        ),
        Txn::CreateTtl(t) => format!(
            "createTTL '{}',{:?},{:?},{},{}",
            t.path, t.data, t.acl, t.parent_cversion, t.ttl
        ),
        Txn::Delete(t) => format!("delete '{}'", t.path),
        Txn::DeleteContainer(t) => format!("deleteContainer '{}'", t.path),
        Txn::SetData(t) => format!("setData '{}',{:?},{}", t.path, t.data, t.version),
        Txn::Reconfig(t) => format!("reconfig '{}',{:?},{}", t.path, t.data, t.version),
        Txn::SetAcl(t) => format!("setACL '{}',{:?},{}", t.path, t.acl, t.version),
        Txn::Check(t) => format!("check '{}',{}", t.path, t.version),
        Txn::Error(t) => format!("error {}", t.err),
        Txn::Multi(txns) => format!(
            "multi [{}]",
            txns.iter().map(describe).collect::<Vec<_>>().join("; ")
        ),
    }
}

/// Renders the whole log at `path`.
pub fn log_dump(path: &Path) -> Result<String, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // SAFETY: the map is read-only and dropped before returning; a log being appended to by
    // a running server only grows, and `read_log` stops at the first incomplete record.
    let map =
        unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("{}: {e}", path.display()))?;
    let (entries, tail) = read_log(&map).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ZooKeeper Transactional Log File with dbid 0 txnlog format version 2"
    );
    for e in &entries {
        let h = &e.hdr;
        let _ = write!(
            out,
            "time {} session 0x{:x} cxid 0x{:x} zxid 0x{:x} {}",
            h.time,
            h.client_id,
            h.cxid,
            h.zxid,
            describe(&e.txn)
        );
        if let Some(d) = &e.digest {
            let _ = write!(out, " digest {}:{:#x}", d.version, d.tree_digest);
        }
        out.push('\n');
    }
    match tail {
        Tail::Clean => {
            let _ = writeln!(out, "EOF reached after {} txns.", entries.len());
        }
        Tail::Torn { at } => {
            let _ = writeln!(
                out,
                "Torn record at offset {at} after {} txns.",
                entries.len()
            );
        }
    }
    Ok(out)
}

/// Renders the snapshot at `path`: sessions, then every node with its Stat and data size.
pub fn snapshot_dump(path: &Path) -> Result<String, String> {
    // Extended types on: an owner with the TTL marker can only have been written as a TTL.
    let snap = super::snapshot::read_file(path, true)?;
    let mut out = String::new();
    let _ = writeln!(out, "ZNode Details (count={}):", snap.tree.node_count());
    for (p, n) in snap.tree.snapshot_order() {
        let s = &n.stat;
        let _ = writeln!(out, "----\n{}", if p.is_empty() { "/" } else { &p });
        let _ = writeln!(
            out,
            "  cZxid = 0x{:x}\n  ctime = {}\n  mZxid = 0x{:x}\n  mtime = {}\n  pZxid = 0x{:x}",
            s.czxid, s.ctime, s.mzxid, s.mtime, s.pzxid
        );
        let _ = writeln!(
            out,
            "  cversion = {}\n  dataVersion = {}\n  aclVersion = {}\n  ephemeralOwner = 0x{:x}",
            s.cversion, s.version, s.aversion, s.ephemeral_owner
        );
        let _ = writeln!(out, "  dataLength = {}", n.data_len());
    }
    let _ = writeln!(out, "----\nSession Details (sid, timeout, ephemeralCount):");
    for (sid, to) in &snap.sessions {
        let _ = writeln!(
            out,
            "0x{sid:x}, {to}, {}",
            snap.tree.ephemerals_of(*sid).count()
        );
    }
    if let Some((zxid, d)) = snap.digest {
        let _ = writeln!(out, "----\nDigest: zxid 0x{zxid:x}, digest {d:#x}");
    }
    Ok(out)
}
