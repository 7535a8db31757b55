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
