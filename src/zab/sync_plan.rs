//! How the leader brings one learner up to date: Java's `LearnerHandler.syncFollower`.
//!
//! The decision depends only on the learner's last zxid (from ACKEPOCH) and the leader's
//! in-memory history window, so it is a pure function. Java's fourth case (reading older
//! txns from the on-disk log when the learner is behind the window) is not taken: the core
//! does no I/O, so such a learner gets a SNAP, which Java also falls back to.

use super::history::History;
use super::zxid::{Txn, Zxid};

/// The packet that opens the sync.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SyncStart {
    Diff(Zxid),
    Trunc(Zxid),
    Snap(Zxid),
}

#[derive(Debug)]
pub struct SyncPlan {
    pub start: SyncStart,
    /// Committed txns to send as PROPOSAL + COMMIT after the opening packet.
    pub committed: Vec<Txn>,
    /// The zxid the learner will have after the above; outstanding proposals above it
    /// follow (Java's `startForwarding(handler, currentZxid)`).
    pub seen: Zxid,
}

pub(crate) fn plan(peer: Zxid, history: &History) -> SyncPlan {
    let last = history.last();
    let (min, max) = history.bounds();
    let peer_new_epoch = peer.is_epoch_start();
    let snap = || SyncPlan {
        start: SyncStart::Snap(last),
        committed: Vec::new(),
        seen: last,
    };
    if peer == last {
        return SyncPlan {
            start: SyncStart::Diff(peer),
            committed: Vec::new(),
            seen: peer,
        };
    }
    if peer > max && !peer_new_epoch {
        return SyncPlan {
            start: SyncStart::Trunc(max),
            committed: Vec::new(),
            seen: max,
        };
    }
    if min <= peer && peer <= max {
        return from_window(peer, history, max).unwrap_or_else(snap);
    }
    snap()
}

/// Walks the window (Java's `queueCommittedProposals`): DIFF if the learner's zxid is in it
/// (or starts an epoch), TRUNC to the entry before it if the learner has txns the leader
/// never had, `None` (snapshot) where a TRUNC would cross an epoch.
fn from_window(peer: Zxid, history: &History, max: Zxid) -> Option<SyncPlan> {
    let peer_new_epoch = peer.is_epoch_start();
    let mut start = None;
    let mut prev = Zxid::ZERO;
    let mut committed = Vec::new();
    let mut queued = peer;
    for txn in history.iter() {
        if txn.zxid < peer {
            prev = txn.zxid;
            continue;
        }
        if start.is_none() {
            if txn.zxid == peer {
                start = Some(SyncStart::Diff(max));
                continue;
            }
            if peer_new_epoch {
                start = Some(SyncStart::Diff(max));
            } else {
                // txn.zxid > peer: the learner has txns this leader never had.
                if txn.zxid.epoch() != peer.epoch() {
                    return None;
                }
                start = Some(SyncStart::Trunc(prev));
            }
        }
        if txn.zxid <= queued {
            continue;
        }
        committed.push(txn.clone());
        queued = txn.zxid;
    }
    if start.is_none() && peer_new_epoch {
        start = Some(SyncStart::Diff(max));
    }
    start.map(|start| SyncPlan {
        start,
        committed,
        seen: queued,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn z(e: u32, c: u32) -> Zxid {
        Zxid::new(e, c)
    }

    fn history(zxids: &[Zxid]) -> History {
        let tail = zxids
            .iter()
            .map(|&zxid| Txn {
                zxid,
                data: Bytes::new(),
            })
            .collect();
        History::new(100, *zxids.last().unwrap(), tail)
    }

    fn zxids(p: &SyncPlan) -> Vec<Zxid> {
        p.committed.iter().map(|t| t.zxid).collect()
    }

    #[test]
    fn in_sync_gets_empty_diff() {
        let h = history(&[z(1, 1), z(1, 2)]);
        let p = plan(z(1, 2), &h);
        assert_eq!(p.start, SyncStart::Diff(z(1, 2)));
        assert!(p.committed.is_empty());
    }

    #[test]
    fn behind_inside_window_gets_diff_and_the_rest() {
        let h = history(&[z(1, 1), z(1, 2), z(1, 3), z(2, 1)]);
        let p = plan(z(1, 2), &h);
        assert_eq!(p.start, SyncStart::Diff(z(2, 1)));
        assert_eq!(zxids(&p), vec![z(1, 3), z(2, 1)]);
        assert_eq!(p.seen, z(2, 1));
    }

    #[test]
    fn ahead_of_leader_gets_trunc() {
        let h = history(&[z(1, 1), z(1, 2)]);
        let p = plan(z(1, 5), &h);
        assert_eq!(p.start, SyncStart::Trunc(z(1, 2)));
        assert!(p.committed.is_empty());
    }

    #[test]
    fn divergent_txn_in_same_epoch_gets_trunc_then_diff() {
        // The learner logged 1:3 that the leader never had; the leader went on to 1:4.
        let h = history(&[z(1, 1), z(1, 2), z(1, 4), z(1, 5)]);
        let p = plan(z(1, 3), &h);
        assert_eq!(p.start, SyncStart::Trunc(z(1, 2)));
        assert_eq!(zxids(&p), vec![z(1, 4), z(1, 5)]);
    }

    #[test]
    fn divergence_across_epochs_falls_back_to_snap() {
        let h = history(&[z(1, 1), z(1, 2), z(2, 1), z(2, 2)]);
        let p = plan(z(1, 3), &h);
        assert_eq!(p.start, SyncStart::Snap(z(2, 2)));
    }

    #[test]
    fn epoch_start_zxid_gets_diff_not_trunc() {
        let h = history(&[z(1, 1), z(2, 1), z(2, 2)]);
        let p = plan(z(2, 0), &h);
        assert_eq!(p.start, SyncStart::Diff(z(2, 2)));
        assert_eq!(zxids(&p), vec![z(2, 1), z(2, 2)]);
        // Past the window: an epoch-start zxid is never truncated to.
        let p = plan(z(3, 0), &h);
        assert_eq!(p.start, SyncStart::Snap(z(2, 2)));
    }

    #[test]
    fn behind_the_window_gets_snap() {
        let mut h = History::new(2, Zxid::ZERO, Vec::new());
        for c in 1..=5 {
            h.push(Txn {
                zxid: z(1, c),
                data: Bytes::new(),
            });
        }
        let p = plan(z(1, 1), &h);
        assert_eq!(p.start, SyncStart::Snap(z(1, 5)));
        assert_eq!(p.seen, z(1, 5));
    }

    #[test]
    fn empty_window_uses_last_applied() {
        let h = History::new(10, z(1, 7), Vec::new());
        assert_eq!(plan(z(1, 7), &h).start, SyncStart::Diff(z(1, 7)));
        assert_eq!(plan(z(1, 9), &h).start, SyncStart::Trunc(z(1, 7)));
        assert_eq!(plan(z(1, 3), &h).start, SyncStart::Snap(z(1, 7)));
    }
}
