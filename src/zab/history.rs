//! The newest part of this server's history, kept in memory to sync learners by DIFF.
//!
//! Java's `ZKDatabase.committedLog`: every txn the server applied (committed, or loaded
//! from its log at start-up or on leaving a role), the last `commit_log_count` of them.

use super::zxid::{Txn, Zxid};
use std::collections::VecDeque;

pub(crate) struct History {
    window: VecDeque<Txn>,
    capacity: usize,
    /// The last applied zxid (Java's lastProcessedZxid); may lie past an empty window after
    /// a snapshot.
    last: Zxid,
}

impl History {
    pub fn new(capacity: usize, last: Zxid, tail: Vec<Txn>) -> History {
        let mut window: VecDeque<Txn> = tail.into();
        while window.len() > capacity {
            window.pop_front();
        }
        History {
            window,
            capacity,
            last,
        }
    }

    pub fn last(&self) -> Zxid {
        self.last
    }

    /// `(minCommittedLog, maxCommittedLog)`; both the last applied zxid when empty.
    pub fn bounds(&self) -> (Zxid, Zxid) {
        match (self.window.front(), self.window.back()) {
            (Some(a), Some(b)) => (a.zxid, b.zxid),
            _ => (self.last, self.last),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Txn> {
        self.window.iter()
    }

    /// Appends an applied txn. Callers only append in zxid order.
    pub fn push(&mut self, txn: Txn) {
        debug_assert!(txn.zxid > self.last, "history out of order");
        self.last = txn.zxid;
        if self.window.len() == self.capacity {
            self.window.pop_front();
        }
        self.window.push_back(txn);
    }

    /// TRUNC: forget everything after `to`.
    pub fn truncate(&mut self, to: Zxid) {
        while self.window.back().is_some_and(|t| t.zxid > to) {
            self.window.pop_back();
        }
        self.last = to;
    }

    /// SNAP: the state is now a snapshot at `zxid`; no txns are known individually.
    pub fn reset(&mut self, zxid: Zxid) {
        self.window.clear();
        self.last = zxid;
    }
}
