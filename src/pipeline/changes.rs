//! The pending-change overlay (Java's `outstandingChanges`): what prep sees is the tree plus
//! every txn prepared but not yet applied, so pipelined writes validate against each other.
//!
//! It also carries the tree digest as it will be once every pending txn is applied, so each
//! txn is logged with its TxnDigest before it is applied, as Java's PrepRequestProcessor
//! precalculates it: a change's digest delta is its node digest after minus before.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use jute::data::{Acl, StatPersisted};

use crate::tree::digest::node_digest;
use crate::tree::DataTree;

/// The state of one path as prep sees it.
#[derive(Debug, Clone)]
pub struct Change {
    pub zxid: i64,
    /// `None`: deleted by a pending txn.
    pub stat: Option<StatPersisted>,
    pub child_count: i32,
    pub acl: Arc<[Acl]>,
    pub data: Option<Bytes>,
}

impl Change {
    /// The node digest this record stands for (0 for a deleted node).
    fn digest(&self, path: &str) -> i64 {
        self.stat
            .as_ref()
            .map_or(0, |s| node_digest(path, self.data.as_deref(), s))
    }
}

#[derive(Default)]
pub struct Changes {
    by_path: HashMap<String, Change>,
    order: VecDeque<(i64, String)>,
    /// The tree digest once every pending change is applied; `None` when nothing is pending
    /// (then it is the tree's own).
    digest: Option<i64>,
}

impl Changes {
    /// The pending record for `path`, else the tree's; `None` if the node does not exist.
    pub fn record(&self, tree: &DataTree, path: &str) -> Option<Change> {
        let path = if path.is_empty() { "/" } else { path };
        if let Some(c) = self.by_path.get(path) {
            return c.stat.is_some().then(|| c.clone());
        }
        tree.get(path).map(|n| Change {
            zxid: -1,
            stat: Some(n.stat),
            child_count: n.children.len() as i32,
            acl: tree.acl_of(n),
            data: n.data.clone(),
        })
    }

    pub fn add(&mut self, tree: &DataTree, path: String, change: Change) {
        let before = match self.by_path.get(&path) {
            Some(c) => c.digest(&path),
            None => tree
                .get(&path)
                .map_or(0, |n| node_digest(&path, n.data.as_deref(), &n.stat)),
        };
        let after = change.digest(&path);
        self.digest = Some(self.digest(tree).wrapping_sub(before).wrapping_add(after));
        self.order.push_back((change.zxid, path.clone()));
        self.by_path.insert(path, change);
    }

    /// The tree digest as it will be once every pending txn is applied.
    pub fn digest(&self, tree: &DataTree) -> i64 {
        self.digest.unwrap_or_else(|| tree.digest())
    }

    pub fn get_pending(&self, path: &str) -> Option<&Change> {
        self.by_path.get(path)
    }

    pub fn pending(&self) -> impl Iterator<Item = (&String, &Change)> {
        self.by_path.iter()
    }

    /// The txn `zxid` was applied: its records (and any older) are now in the tree.
    pub fn applied(&mut self, zxid: i64) {
        while let Some((z, _)) = self.order.front() {
            if *z > zxid {
                break;
            }
            let (z, path) = self.order.pop_front().expect("front exists");
            if self.by_path.get(&path).is_some_and(|c| c.zxid == z) {
                self.by_path.remove(&path);
            }
        }
        if self.order.is_empty() {
            self.digest = None;
        }
    }

    /// Undoes the records of a failed multi at `zxid` and restores the ones it overwrote and
    /// the pending digest (`saved_digest`, from `saved_digest()` before the multi).
    pub fn rollback(
        &mut self,
        zxid: i64,
        saved: HashMap<String, Change>,
        saved_digest: Option<i64>,
    ) {
        self.digest = saved_digest;
        while let Some((z, _)) = self.order.back() {
            if *z != zxid {
                break;
            }
            let (_, path) = self.order.pop_back().expect("back exists");
            self.by_path.remove(&path);
        }
        let Some(&(first, _)) = self.order.front() else {
            return;
        };
        for (path, c) in saved {
            // Records older than every outstanding one have been applied meanwhile.
            if c.zxid >= first {
                self.by_path.insert(path, c);
            }
        }
    }

    pub fn saved_digest(&self) -> Option<i64> {
        self.digest
    }

    pub fn snapshot_paths<'a>(
        &self,
        paths: impl Iterator<Item = &'a str>,
    ) -> HashMap<String, Change> {
        let mut saved = HashMap::new();
        for p in paths {
            if let Some(c) = self.by_path.get(p) {
                saved.insert(p.to_owned(), c.clone());
            }
        }
        saved
    }
}
