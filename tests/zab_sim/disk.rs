//! One server's disk: a txn log whose unsynced tail a crash loses, and the epoch files.

use paddock::zab::{Epoch, Txn, Zxid};

#[derive(Default)]
pub struct Disk {
    /// What survives a crash.
    pub durable: Vec<Txn>,
    /// Appended since the last fsync.
    pub unsynced: Vec<Txn>,
    /// The log as the running server sees it (durable + unsynced, unless a volatile
    /// snapshot is in play).
    pub view: Vec<Txn>,
    pub accepted_epoch: Epoch,
    pub current_epoch: Epoch,
    /// ZOOKEEPER-3642 reproduction only: a snapshot loaded in memory but not yet written,
    /// and whether this sync's NEWLEADER will write it.
    pub volatile_snapshot: Option<Vec<Txn>>,
    pub write_snapshot_at_newleader: bool,
}

impl Disk {
    pub fn last(&self) -> Zxid {
        self.view.last().map_or(Zxid::ZERO, |t| t.zxid)
    }

    pub fn append(&mut self, txns: &[Txn]) {
        self.view.extend_from_slice(txns);
        self.unsynced.extend_from_slice(txns);
    }

    pub fn fsync(&mut self) {
        self.durable.append(&mut self.unsynced);
    }

    pub fn truncate(&mut self, to: Zxid) {
        for log in [&mut self.view, &mut self.unsynced, &mut self.durable] {
            log.retain(|t| t.zxid <= to);
        }
        if let Some(s) = &mut self.volatile_snapshot {
            s.retain(|t| t.zxid <= to);
        }
    }

    /// Replaces the log with a snapshot, durably (the fixed behaviour), or only in memory
    /// until NEWLEADER (before ZOOKEEPER-3642's fix).
    pub fn install_snapshot(&mut self, snapshot: Vec<Txn>, volatile: bool) {
        self.view = snapshot.clone();
        self.unsynced.clear();
        if volatile {
            self.volatile_snapshot = Some(snapshot);
            self.write_snapshot_at_newleader = true;
        } else {
            self.durable = snapshot;
            self.volatile_snapshot = None;
        }
    }

    /// The learner reached NEWLEADER: Java takes the snapshot of a SNAP sync here.
    pub fn write_volatile_snapshot(&mut self) {
        if !self.write_snapshot_at_newleader {
            return;
        }
        self.write_snapshot_at_newleader = false;
        if let Some(snap) = self.volatile_snapshot.take() {
            let base = snap.last().map_or(Zxid::ZERO, |t| t.zxid);
            let newer: Vec<Txn> = self
                .durable
                .iter()
                .filter(|t| t.zxid > base)
                .cloned()
                .collect();
            self.durable = snap;
            self.durable.extend(newer);
        }
    }

    /// Power loss: the first `keep` unsynced entries happened to reach the disk.
    pub fn crash(&mut self, keep: usize) {
        let keep = keep.min(self.unsynced.len());
        let kept: Vec<Txn> = self.unsynced.drain(..keep).collect();
        self.durable.extend(kept);
        self.unsynced.clear();
        self.volatile_snapshot = None;
        self.write_snapshot_at_newleader = false;
        self.view = self.durable.clone();
    }
}
