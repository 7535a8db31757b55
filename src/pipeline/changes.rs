//! The pending-change overlay (Java's `outstandingChanges`): what prep sees is the tree plus
//! every txn prepared but not yet applied, so pipelined writes validate against each other.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use jute::data::{Acl, StatPersisted};

use crate::tree::DataTree;

/// The state of one path as prep sees it.
#[derive(Debug, Clone)]
pub struct Change {
    pub zxid: i64,
    /// `None`: deleted by a pending txn.
    pub stat: Option<StatPersisted>,
    pub child_count: i32,
    pub acl: Arc<[Acl]>,
}

#[derive(Default)]
pub struct Changes {
    by_path: HashMap<String, Change>,
    order: VecDeque<(i64, String)>,
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
        })
    }

    pub fn add(&mut self, path: String, change: Change) {
        self.order.push_back((change.zxid, path.clone()));
        self.by_path.insert(path, change);
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
    }

    /// Undoes the records of a failed multi at `zxid` and restores the ones it overwrote.
    pub fn rollback(&mut self, zxid: i64, saved: HashMap<String, Change>) {
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
