//! Retention, as ZooKeeper's PurgeTxnLog: keep the `count` newest snapshots and every log a
//! recovery from the oldest of them may need (the logs starting after it, and the newest one
//! starting at or before it); delete older snapshots and logs. Runs as `paddock purge` and,
//! with `autopurge.purgeInterval` > 0 hours, in the background.

use std::io;
use std::path::{Path, PathBuf};

use super::txnlog::zxid_of;

/// Java refuses to keep fewer than three snapshots.
pub const MIN_RETAIN: usize = 3;

fn list(dir: &Path, prefix: &str) -> io::Result<Vec<(i64, PathBuf)>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if let Some(z) = e.file_name().to_str().and_then(|n| zxid_of(n, prefix)) {
            v.push((z, e.path()));
        }
    }
    v.sort();
    Ok(v)
}

/// Purges `snap_dir` and `log_dir` (the `version-2` directories); returns what it deleted.
pub fn purge(snap_dir: &Path, log_dir: &Path, count: usize) -> io::Result<Vec<PathBuf>> {
    if count < MIN_RETAIN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("snapshots to keep must be at least {MIN_RETAIN}, not {count}"),
        ));
    }
    let snaps = list(snap_dir, "snapshot")?;
    if snaps.len() <= count {
        return Ok(Vec::new());
    }
    let oldest_kept = snaps[snaps.len() - count].0;
    let logs = list(log_dir, "log")?;
    // The newest log starting at or before the oldest kept snapshot holds its successors.
    let keep_from = logs
        .iter()
        .rposition(|(z, _)| *z <= oldest_kept)
        .map_or(i64::MIN, |i| logs[i].0);
    let mut deleted = Vec::new();
    for (z, p) in snaps
        .iter()
        .filter(|(z, _)| *z < oldest_kept)
        .chain(logs.iter().filter(|(z, _)| *z < keep_from))
    {
        tracing::info!(path = %p.display(), zxid = format_args!("0x{z:x}"), "purging");
        std::fs::remove_file(p)?;
        deleted.push(p.clone());
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_the_oldest_kept_snapshot_needs() {
        let d = tempfile::tempdir().unwrap();
        for n in [
            "snapshot.0",
            "snapshot.10",
            "snapshot.20",
            "snapshot.30",
            "log.1",
            "log.b",
            "log.15",
            "log.25",
            "other.txt",
        ] {
            std::fs::write(d.path().join(n), b"x").unwrap();
        }
        assert!(purge(d.path(), d.path(), 2).is_err());
        let mut gone: Vec<String> = purge(d.path(), d.path(), 3)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        gone.sort();
        // Oldest kept snapshot is 0x10; log.b (0xb) holds its successors, log.1 is not needed.
        assert_eq!(gone, vec!["log.1", "snapshot.0"]);
        assert!(d.path().join("other.txt").exists());
    }
}
