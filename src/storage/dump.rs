//! `paddock log-dump`: what a txn log holds, one line per txn, like ZooKeeper's
//! TxnLogToolkit. Works on Java ZooKeeper's files as well as Paddock's.

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
