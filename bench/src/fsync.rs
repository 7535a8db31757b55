//! The disk's own floor under every durable write: append 4 KiB, fdatasync, repeat, on a
//! scratch file in the directory the servers keep their data in. No server acknowledges a
//! write faster than this unless it skips the sync.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::control::{Control, Tally};

const BLOCK: usize = 4096;

/// The scratch file, removed when dropped, also on error.
struct Scratch {
    path: PathBuf,
    file: File,
}

impl Scratch {
    fn create(dir: &Path) -> io::Result<Scratch> {
        let path = dir.join(format!("paddock-bench-fsync.{}", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Scratch { path, file })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Appends and syncs until the run stops. Blocking: call it off the async runtime.
pub fn run(dir: &Path, ctl: &Control, max_bytes: u64) -> Tally {
    let mut t = Tally::default();
    let block = [0x5au8; BLOCK];
    let res = (|| {
        let mut scratch = Scratch::create(dir)?;
        let mut written = 0u64;
        while ctl.take() {
            // Start over rather than grow without bound on a long run.
            if written + BLOCK as u64 > max_bytes {
                scratch.file.set_len(0)?;
                written = 0;
            }
            let sent = Instant::now();
            scratch.file.write_all(&block)?;
            scratch.file.sync_data()?;
            t.record(ctl, sent, 0);
            written += BLOCK as u64;
        }
        Ok::<(), io::Error>(())
    })();
    if let Err(e) = res {
        t.fail(ctl, e);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn syncs_the_asked_count_and_cleans_up() {
        let dir = std::env::temp_dir().join(format!("pb-fsync-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ctl = Control::new(Some(5), Duration::ZERO);
        let t = run(&dir, &ctl, 3 * BLOCK as u64);
        assert!(t.failure.is_none(), "{:?}", t.failure);
        assert_eq!((t.ops, t.errors, t.hist.len()), (5, 0, 5));
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "scratch file left behind"
        );
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_an_error_not_a_panic() {
        let ctl = Control::new(Some(1), Duration::ZERO);
        let t = run(Path::new("/nonexistent/paddock-bench"), &ctl, 1 << 20);
        assert!(t.failure.is_some());
    }
}
