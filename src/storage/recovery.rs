//! Start-up: the newest snapshot that reads whole, then every logged txn after it, as
//! ZooKeeper's FileTxnSnapLog.restore does. A torn or zero-filled tail of the newest log is
//! cut off (a crash mid-append), with a log line; a corrupt newest snapshot falls back to an
//! older one. A data dir with neither gets `snapshot.0`, as Java writes on first start.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::compress::{Compressor, Method};
use super::snapshot;
use super::txnlog::{read_log, zxid_of, Tail};
use super::writer::{self, at};
use crate::pipeline::apply;
use crate::session::SessionTable;
use crate::tree::DataTree;

pub struct Recovered {
    pub tree: DataTree,
    /// Live sessions and their timeouts; they get fresh expiry timers.
    pub sessions: Vec<(i64, i32)>,
}

fn list(dir: &Path, prefix: &str) -> io::Result<Vec<(i64, PathBuf)>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if let Some(name) = e.file_name().to_str() {
            if let Some(z) = zxid_of(name, prefix) {
                v.push((z, e.path()));
            }
        }
    }
    v.sort();
    Ok(v)
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Writes a snapshot of an unchanging tree, atomically.
pub fn write_snapshot(
    snap_dir: &Path,
    tree: &DataTree,
    sessions: &[(i64, i32)],
) -> io::Result<PathBuf> {
    write_snapshot_parts(snap_dir, snapshot::exact(tree, sessions), Method::None)
        .map(|(path, _)| path)
}

/// Snapshot bytes not yet fdatasynced, at most. On ext4 (data=ordered) the txn log's
/// fdatasync commits the journal, and a journal commit first writes out every dirty block
/// newly allocated to any file: a snapshot of hundreds of MB left dirty until its final fsync
/// would stall the log's next sync for seconds. Syncing as it goes bounds that to this much.
const SNAPSHOT_SYNC_EVERY: u64 = 8 << 20;

struct PacedSync {
    file: File,
    unsynced: u64,
}

impl Write for PacedSync {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.unsynced += n as u64;
        if self.unsynced >= SNAPSHOT_SYNC_EVERY {
            self.file.sync_data()?;
            self.unsynced = 0;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Writes `snapshot.<zxid>[.gz|.snappy]` atomically: a temp file, fsync, rename, fsync of the
/// directory, so a crash leaves either the whole snapshot or none. Returns its path and its
/// uncompressed size.
pub fn write_snapshot_parts(
    snap_dir: &Path,
    parts: snapshot::SnapshotParts,
    method: Method,
) -> io::Result<(PathBuf, u64)> {
    let name = format!("snapshot.{:x}{}", parts.zxid, method.suffix());
    let path = snap_dir.join(&name);
    let tmp = snap_dir.join(format!("{name}.tmp"));
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(at(&tmp))?;
    let paced = PacedSync {
        file: f,
        unsynced: 0,
    };
    let mut w = Compressor::new(method, io::BufWriter::with_capacity(1 << 20, paced))?;
    let len = parts.write_to(&mut w).map_err(at(&tmp))?;
    w.finish()
        .and_then(|b| b.into_inner().map_err(|e| e.into_error()))
        .and_then(|p| p.file.sync_all())
        .map_err(at(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(at(&path))?;
    File::open(snap_dir)?.sync_all()?;
    Ok((path, len))
}

/// Java's replay check (`DataTree.compareDigest`): after each replayed txn the tree's digest
/// must equal the one logged with it. While the tree is still fuzzy (before the txn the
/// snapshot's own digest names) only that one is compared.
struct DigestCheck {
    fuzzy_until: Option<(i64, i64)>,
    mismatches: u64,
}

impl DigestCheck {
    fn new(snapshot: Option<(i64, i64)>) -> DigestCheck {
        DigestCheck {
            fuzzy_until: snapshot.filter(|(zxid, _)| *zxid != 0),
            mismatches: 0,
        }
    }

    fn after(&mut self, tree: &DataTree, zxid: i64, logged: Option<i64>) {
        let expected = match self.fuzzy_until {
            Some((z, d)) if z == zxid => {
                self.fuzzy_until = None;
                Some(d)
            }
            Some((z, _)) if z > zxid => None,
            _ => logged,
        };
        if let Some(d) = expected.filter(|d| *d != tree.digest()) {
            if self.mismatches == 0 {
                tracing::error!(
                    zxid = format_args!("0x{zxid:x}"),
                    logged = d,
                    tree = tree.digest(),
                    "first digest mismatch while replaying the txn log"
                );
            }
            self.mismatches += 1;
        }
    }
}

/// A crash while a snapshot was being written leaves its temp file and node spool behind;
/// neither is ever read, so they go.
fn remove_stale_temp_files(snap_dir: &Path) -> io::Result<()> {
    for e in std::fs::read_dir(snap_dir).map_err(at(snap_dir))? {
        let path = e?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("snapshot.") && name.ends_with(".tmp") {
            tracing::info!(path = %path.display(), "removing an unfinished snapshot");
            std::fs::remove_file(&path).map_err(at(&path))?;
        }
    }
    Ok(())
}

/// Creates `dir` if missing and proves it writable, as Java refuses a data dir it cannot
/// write to ("Cannot write to data directory"): finding out at the first client write
/// would be worse.
fn check_writable(dir: &Path) -> io::Result<()> {
    let cannot = |e: io::Error| {
        io::Error::new(
            e.kind(),
            format!("cannot write to data directory {}: {e}", dir.display()),
        )
    };
    std::fs::create_dir_all(dir).map_err(cannot)?;
    let probe = dir.join(".paddock-write-check");
    File::create(&probe).map_err(cannot)?;
    std::fs::remove_file(&probe).map_err(cannot)
}

pub fn recover(snap_dir: &Path, log_dir: &Path, extended_types: bool) -> io::Result<Recovered> {
    let started = Instant::now();
    for dir in [snap_dir, log_dir] {
        check_writable(dir)?;
    }
    remove_stale_temp_files(snap_dir)?;
    let snaps = list(snap_dir, "snapshot")?;
    let logs = list(log_dir, "log")?;
    let mut loaded = None;
    for (zxid, path) in snaps.iter().rev() {
        match snapshot::read_file(path, extended_types) {
            Ok(s) => {
                tracing::info!(
                    path = %path.display(),
                    nodes = s.tree.node_count(),
                    secs = started.elapsed().as_secs_f64(),
                    "loaded snapshot"
                );
                loaded = Some((*zxid, s));
                break;
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "snapshot unreadable; trying an older one")
            }
        }
    }
    // Snapshots that all fail to read mean a damaged or foreign data dir: starting from the
    // logs alone could silently serve a partial tree, so refuse, as Java does.
    if loaded.is_none() && !snaps.is_empty() {
        return Err(bad(format!("no snapshot in {} could be read (see the warnings above); refusing to start from the logs alone", snap_dir.display())));
    }
    let fresh = loaded.is_none() && logs.is_empty();
    let (snap_zxid, mut tree, snap_sessions, snap_digest) = match loaded {
        Some((z, s)) => (z, s.tree, s.sessions, s.digest),
        None => (0, DataTree::new(extended_types), Vec::new(), None),
    };
    let mut digests = DigestCheck::new(snap_digest);
    tree.last_zxid = snap_zxid;
    let mut sessions = SessionTable::new(1, 1, 0);
    for (id, to) in &snap_sessions {
        sessions.add(*id, *to, 0);
    }
    // The newest log starting at or before the snapshot may hold its first successors.
    let first = logs.iter().rposition(|(z, _)| *z <= snap_zxid).unwrap_or(0);
    let mut replayed = 0u64;
    let newest = logs.len().saturating_sub(1);
    for (i, (_, path)) in logs.iter().enumerate().skip(first) {
        let file = File::open(path).map_err(at(path))?;
        // SAFETY: read-only map of a file nothing else writes while we recover.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(at(path))?;
        let (entries, tail) =
            read_log(&map).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        for e in &entries {
            if e.hdr.zxid <= tree.last_zxid {
                continue;
            }
            apply(&mut tree, &mut sessions, &e.hdr, &e.txn, 0, &mut Vec::new());
            digests.after(&tree, e.hdr.zxid, e.digest.as_ref().map(|d| d.tree_digest));
            replayed += 1;
            if replayed % 100_000 == 0 {
                tracing::info!(
                    replayed,
                    secs = started.elapsed().as_secs_f64(),
                    "replaying txn logs"
                );
            }
        }
        if let Tail::Torn { at } = tail {
            if i == newest {
                drop(map);
                tracing::warn!(path = %path.display(), offset = at, "txn log ends in a torn record (a crash mid-write); truncating it there");
                OpenOptions::new()
                    .write(true)
                    .open(path)
                    .and_then(|f| f.set_len(at))
                    .map_err(writer::at(path))?;
            } else {
                return Err(bad(format!(
                    "{}: torn record at offset {at} in a log that is not the newest",
                    path.display()
                )));
            }
        }
    }
    if digests.mismatches > 0 {
        tracing::error!(
            mismatches = digests.mismatches,
            "replayed txns whose logged digest differs from the tree's: the data dir may have diverged"
        );
    }
    let sessions: Vec<(i64, i32)> = sessions.iter().map(|s| (s.id, s.timeout_ms)).collect();
    if fresh {
        write_snapshot(snap_dir, &tree, &sessions)?;
    }
    tracing::info!(
        nodes = tree.node_count(),
        txns = replayed,
        sessions = sessions.len(),
        zxid = format_args!("0x{:x}", tree.last_zxid),
        secs = started.elapsed().as_secs_f64(),
        "recovered"
    );
    Ok(Recovered { tree, sessions })
}
