//! Interned ACL lists, as ZooKeeper's ReferenceCountedACLCache: each distinct list is stored
//! once and nodes hold an 8-byte id. Snapshots persist exactly this map.

use std::collections::HashMap;
use std::sync::Arc;

use jute::data::Acl;

/// ZooKeeper reserves -1 for the open ACL of the built-in nodes.
pub const OPEN_UNSAFE_ACL_ID: i64 = -1;

#[derive(Debug, Default)]
pub struct AclCache {
    by_list: HashMap<Arc<[Acl]>, i64>,
    by_id: HashMap<i64, (Arc<[Acl]>, u64)>,
    next_id: i64,
}

impl AclCache {
    pub fn new() -> Self {
        let mut c = AclCache {
            next_id: 1,
            ..Default::default()
        };
        let open: Arc<[Acl]> = Acl::open_unsafe().into();
        c.by_list.insert(open.clone(), OPEN_UNSAFE_ACL_ID);
        // Pinned: the built-in nodes never release it.
        c.by_id.insert(OPEN_UNSAFE_ACL_ID, (open, u64::MAX / 2));
        c
    }

    /// Takes a reference on `acl`'s id, interning it if new.
    pub fn acquire(&mut self, acl: &[Acl]) -> i64 {
        if let Some(&id) = self.by_list.get(acl) {
            self.by_id.get_mut(&id).expect("cache maps agree").1 += 1;
            return id;
        }
        let id = self.next_id;
        self.next_id += 1;
        let list: Arc<[Acl]> = acl.into();
        self.by_list.insert(list.clone(), id);
        self.by_id.insert(id, (list, 1));
        id
    }

    /// Drops a reference; the list is forgotten when the last node using it goes.
    pub fn release(&mut self, id: i64) {
        if let Some(entry) = self.by_id.get_mut(&id) {
            entry.1 -= 1;
            if entry.1 == 0 {
                let (list, _) = self.by_id.remove(&id).expect("present");
                self.by_list.remove(&list);
            }
        }
    }

    /// The cache as a snapshot holds it: every interned list but the built-in -1, by id.
    pub fn entries(&self) -> Vec<(i64, Arc<[Acl]>)> {
        let mut v: Vec<(i64, Arc<[Acl]>)> = self
            .by_id
            .iter()
            .filter(|(id, _)| **id != OPEN_UNSAFE_ACL_ID)
            .map(|(id, (l, _))| (*id, l.clone()))
            .collect();
        v.sort_by_key(|(id, _)| *id);
        v
    }

    /// Restores a snapshot's ACL map with no references yet; nodes then `add_usage`.
    pub fn load(entries: Vec<(i64, Vec<Acl>)>) -> AclCache {
        let mut c = AclCache::new();
        for (id, acl) in entries {
            let list: Arc<[Acl]> = acl.into();
            c.by_list.entry(list.clone()).or_insert(id);
            c.by_id.insert(id, (list, 0));
            c.next_id = c.next_id.max(id + 1);
        }
        c
    }

    /// A loaded node refers to `id`; false if the snapshot never defined it.
    pub fn add_usage(&mut self, id: i64) -> bool {
        match self.by_id.get_mut(&id) {
            Some(e) => {
                e.1 += 1;
                true
            }
            None => false,
        }
    }

    /// Forgets lists no node refers to (as Java purges them after loading).
    pub fn purge_unused(&mut self) {
        let unused: Vec<i64> = self
            .by_id
            .iter()
            .filter(|(_, (_, n))| *n == 0)
            .map(|(id, _)| *id)
            .collect();
        for id in unused {
            if let Some((list, _)) = self.by_id.remove(&id) {
                if self.by_list.get(&list) == Some(&id) {
                    self.by_list.remove(&list);
                }
            }
        }
    }

    pub fn get(&self, id: i64) -> Arc<[Acl]> {
        match self.by_id.get(&id) {
            Some((l, _)) => l.clone(),
            None => Acl::open_unsafe().into(),
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}
