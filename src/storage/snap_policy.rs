//! When to snapshot: after `snapCount/2 + rand(snapCount/2)` txns, as ZooKeeper's
//! SyncRequestProcessor randomises it (so an ensemble's servers do not all snapshot at once),
//! and never while the previous snapshot is still being written.
//!
//! The snapshot itself is walked a few nodes per turn of the core loop (`SnapshotWriter`) and
//! written and fsynced off the core task.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::compress::Method;
use crate::clock::Rng;

pub struct SnapPolicy {
    pub dir: PathBuf,
    /// `snapshot.compression.method`.
    pub compression: Method,
    pub snap_count: u64,
    rng: Box<dyn Rng>,
    next_after: u64,
    since: u64,
    writing: Arc<AtomicBool>,
}

impl SnapPolicy {
    pub fn new(dir: PathBuf, snap_count: u64, mut rng: Box<dyn Rng>) -> SnapPolicy {
        let snap_count = snap_count.max(2);
        let next_after = Self::draw(snap_count, rng.as_mut());
        SnapPolicy {
            dir,
            compression: Method::None,
            snap_count,
            rng,
            next_after,
            since: 0,
            writing: Arc::default(),
        }
    }

    fn draw(snap_count: u64, rng: &mut dyn Rng) -> u64 {
        snap_count / 2 + rng.next_u64() % (snap_count / 2).max(1)
    }

    /// `n` more txns were logged; true if a snapshot is due now.
    pub fn logged(&mut self, n: u64) -> bool {
        self.since += n;
        if self.since < self.next_after || self.writing.load(Ordering::Acquire) {
            return false;
        }
        self.since = 0;
        self.next_after = Self::draw(self.snap_count, self.rng.as_mut());
        true
    }

    /// Marks a snapshot write as under way; the returned guard clears it when dropped.
    pub fn start(&self) -> WritingGuard {
        self.writing.store(true, Ordering::Release);
        WritingGuard(self.writing.clone())
    }
}

pub struct WritingGuard(Arc<AtomicBool>);

impl Drop for WritingGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SeededRng;

    #[test]
    fn due_between_half_and_whole_snap_count() {
        let mut p = SnapPolicy::new(PathBuf::new(), 1000, Box::new(SeededRng::new(7)));
        for _ in 0..20 {
            let mut n = 0;
            while !p.logged(1) {
                n += 1;
            }
            assert!((499..1000).contains(&n), "{n}");
        }
        let _g = p.start();
        for _ in 0..2000 {
            assert!(!p.logged(1), "no snapshot while one is being written");
        }
    }
}
