//! The in-memory znode tree: nodes, Stat bookkeeping, ACL interning and the ephemeral,
//! container and TTL indexes. Applying a txn here is deterministic and does no I/O; the
//! pipeline decides *whether* a change is valid, the tree only carries it out.

mod acl_cache;
mod cursor;
pub mod digest;
pub mod path;
pub mod quota;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use jute::consts::event;
use jute::data::{Acl, Stat, StatPersisted};

pub use acl_cache::{AclCache, OPEN_UNSAFE_ACL_ID};
pub use cursor::PreOrder;

/// Stored `ephemeralOwner` of a container node.
pub const CONTAINER_OWNER: i64 = i64::MIN;
/// High byte of the stored `ephemeralOwner` of a TTL node; the low 40 bits hold the TTL.
pub const TTL_MASK: i64 = 0xFF00_0000_0000_0000u64 as i64;
/// Largest TTL a node can carry (40 bits of milliseconds).
pub const MAX_TTL: i64 = (1 << 40) - 1;

/// What a node is, decoded from its stored `ephemeralOwner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Persistent,
    Ephemeral(i64),
    Container,
    Ttl(i64),
}

impl NodeKind {
    pub fn from_owner(owner: i64, extended_types: bool) -> NodeKind {
        if owner == 0 {
            NodeKind::Persistent
        } else if owner == CONTAINER_OWNER {
            NodeKind::Container
        } else if extended_types && owner & TTL_MASK == TTL_MASK {
            NodeKind::Ttl(owner & MAX_TTL)
        } else {
            NodeKind::Ephemeral(owner)
        }
    }

    pub fn ttl_owner(ttl: i64) -> i64 {
        TTL_MASK | (ttl & MAX_TTL)
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub data: Option<Bytes>,
    pub acl: i64,
    pub stat: StatPersisted,
    pub children: BTreeSet<Box<str>>,
}

impl Node {
    fn new(data: Option<Bytes>, acl: i64, stat: StatPersisted) -> Node {
        Node {
            data,
            acl,
            stat,
            children: BTreeSet::new(),
        }
    }

    pub fn data_len(&self) -> i32 {
        self.data.as_ref().map_or(0, |d| d.len() as i32)
    }
}

/// A watch event produced by applying a txn: which table fires, on which path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEvent {
    pub kind: i32,
    pub path: String,
    /// ACL of the node the event is about, for the READ check on delivery.
    pub acl: Arc<[Acl]>,
}

/// Why a change could not be applied. Prep rules these out for locally prepared txns; a txn
/// from a log or a leader that fails here is reported, exactly as Java's DataTree does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeError {
    NoNode,
    NodeExists,
    NotEmpty,
}

pub struct DataTree {
    nodes: HashMap<Box<str>, Node>,
    acls: AclCache,
    ephemerals: HashMap<i64, BTreeSet<String>>,
    containers: BTreeSet<String>,
    ttls: BTreeSet<String>,
    extended_types: bool,
    /// Paths with a `zookeeper_limits` node under /zookeeper/quota.
    quota_roots: BTreeSet<String>,
    /// Wrapping sum of every node's digest (see `digest`).
    digest: i64,
    pub last_zxid: i64,
}

/// A tree being rebuilt from a snapshot (see `DataTree::load`).
pub struct SnapshotLoad {
    t: DataTree,
}

impl SnapshotLoad {
    pub fn add(
        &mut self,
        java_path: String,
        data: Option<Bytes>,
        acl: i64,
        stat: StatPersisted,
    ) -> Result<(), String> {
        let t = &mut self.t;
        let p = if java_path.is_empty() {
            "/".to_owned()
        } else {
            java_path
        };
        if acl != OPEN_UNSAFE_ACL_ID && !t.acls.add_usage(acl) {
            return Err(format!(
                "node {p} refers to ACL id {acl}, which the snapshot does not define"
            ));
        }
        if p != "/" {
            let parent = path::parent(&p);
            match t.nodes.get_mut(parent) {
                Some(n) => {
                    n.children.insert(path::name(&p).into());
                }
                None => return Err(format!("node {p} comes before its parent {parent}")),
            }
        }
        t.index(&p, stat.ephemeral_owner);
        if p.starts_with(quota::QUOTA_ROOT) && path::name(&p) == quota::LIMITS_NODE {
            t.quota_roots
                .insert(quota::trim(path::parent(&p)).to_owned());
        }
        let node = Node::new(data, acl, stat);
        t.digest = t.digest.wrapping_add(t.digest_at_node(&p, &node));
        t.nodes.insert(p.into(), node);
        Ok(())
    }

    pub fn finish(self) -> Result<DataTree, String> {
        let mut t = self.t;
        if !t.nodes.contains_key("/") {
            return Err("the snapshot has no root node".into());
        }
        t.acls.purge_unused();
        Ok(t)
    }
}

/// A child was created: the parent's stored cversion becomes `cversion` (-1: current + 1)
/// and its pzxid `zxid`, unless the cversion is already as high (replaying the log over a
/// fuzzy snapshot may revisit a create; the counter never moves backwards).
fn raise_cversion(stat: &mut StatPersisted, cversion: i32, zxid: i64) {
    let cv = if cversion == -1 {
        stat.cversion.wrapping_add(1)
    } else {
        cversion
    };
    if cv > stat.cversion {
        stat.cversion = cv;
        stat.pzxid = zxid;
    }
}

impl DataTree {
    /// A tree with `/`, `/zookeeper`, `/zookeeper/quota` and `/zookeeper/config`, whose stored
    /// stats are all zero as in Java (so `/` shows cversion -1 and `/zookeeper` -2).
    pub fn new(extended_types: bool) -> DataTree {
        let mut t = DataTree::empty(extended_types, AclCache::new());
        let zero = StatPersisted::default();
        t.nodes.insert(
            "/".into(),
            Node::new(Some(Bytes::new()), OPEN_UNSAFE_ACL_ID, zero),
        );
        for p in ["/zookeeper", "/zookeeper/quota"] {
            t.insert_builtin(p, OPEN_UNSAFE_ACL_ID, zero);
        }
        // /zookeeper/config is world-readable only and its ACL was set with version -1.
        let read_only = t
            .acls
            .acquire(&[Acl::new(jute::consts::perms::READ, "world", "anyone")]);
        t.insert_builtin(
            "/zookeeper/config",
            read_only,
            StatPersisted {
                aversion: -1,
                ..zero
            },
        );
        t.digest = t
            .nodes
            .iter()
            .map(|(p, n)| t.digest_at_node(p, n))
            .fold(0i64, i64::wrapping_add);
        t
    }

    /// Records `p` in the index its stored owner puts it in (session ephemerals, containers,
    /// TTL nodes).
    fn index(&mut self, p: &str, owner: i64) {
        match NodeKind::from_owner(owner, self.extended_types) {
            NodeKind::Ephemeral(sid) => {
                self.ephemerals.entry(sid).or_default().insert(p.to_owned());
            }
            NodeKind::Container => {
                self.containers.insert(p.to_owned());
            }
            NodeKind::Ttl(_) => {
                self.ttls.insert(p.to_owned());
            }
            NodeKind::Persistent => {}
        }
    }

    fn unindex(&mut self, p: &str, owner: i64) {
        match NodeKind::from_owner(owner, self.extended_types) {
            NodeKind::Ephemeral(sid) => {
                if let Some(set) = self.ephemerals.get_mut(&sid) {
                    set.remove(p);
                    if set.is_empty() {
                        self.ephemerals.remove(&sid);
                    }
                }
            }
            NodeKind::Container => {
                self.containers.remove(p);
            }
            NodeKind::Ttl(_) => {
                self.ttls.remove(p);
            }
            NodeKind::Persistent => {}
        }
    }

    fn digest_at_node(&self, p: &str, n: &Node) -> i64 {
        digest::node_digest(p, n.data.as_deref(), &n.stat)
    }

    fn digest_at(&self, p: &str) -> i64 {
        self.nodes.get(p).map_or(0, |n| self.digest_at_node(p, n))
    }

    /// The tree digest: what Java logs in each TxnDigest and checks on replay.
    pub fn digest(&self) -> i64 {
        self.digest
    }

    /// Runs a change to `paths`, keeping the tree digest exact: their digests come out
    /// before and go back in after.
    fn with_digest<T>(
        &mut self,
        paths: &[&str],
        change: impl FnOnce(&mut Self) -> Result<T, TreeError>,
    ) -> Result<T, TreeError> {
        let before = paths
            .iter()
            .map(|p| self.digest_at(p))
            .fold(0i64, i64::wrapping_add);
        // A change that fails may still have changed something (a delete replayed over a
        // fuzzy snapshot raises the parent's pzxid), so the digest is settled either way.
        let r = change(self);
        let after = paths
            .iter()
            .map(|p| self.digest_at(p))
            .fold(0i64, i64::wrapping_add);
        self.digest = self.digest.wrapping_sub(before).wrapping_add(after);
        r
    }

    /// Creates a node. `parent_cversion` is the parent's new stored cversion (-1: current + 1).
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        &mut self,
        p: &str,
        data: Option<Bytes>,
        acl: &[Acl],
        owner: i64,
        parent_cversion: i32,
        zxid: i64,
        time: i64,
        events: &mut Vec<TreeEvent>,
    ) -> Result<Stat, TreeError> {
        let parent = path::parent(p).to_owned();
        self.with_digest(&[p, &parent], |t| {
            t.create_inner(p, data, acl, owner, parent_cversion, zxid, time, events)
        })
    }

    pub fn delete(
        &mut self,
        p: &str,
        zxid: i64,
        events: &mut Vec<TreeEvent>,
    ) -> Result<(), TreeError> {
        let parent = path::parent(p).to_owned();
        self.with_digest(&[p, &parent], |t| t.delete_inner(p, zxid, events))
    }

    /// Raises a node's stored cversion to `cversion` (-1: current + 1) and its pzxid to
    /// `zxid`, if that is higher: Java's `setCversionPzxid`, which replay uses when a plain
    /// create finds its node already in a fuzzy snapshot.
    pub fn raise_cversion(&mut self, p: &str, cversion: i32, zxid: i64) -> Result<(), TreeError> {
        self.with_digest(&[p], |t| {
            let node = t.nodes.get_mut(p).ok_or(TreeError::NoNode)?;
            raise_cversion(&mut node.stat, cversion, zxid);
            Ok(())
        })
    }

    pub fn set_data(
        &mut self,
        p: &str,
        data: Option<Bytes>,
        version: i32,
        zxid: i64,
        time: i64,
        events: &mut Vec<TreeEvent>,
    ) -> Result<Stat, TreeError> {
        self.with_digest(&[p], |t| {
            t.set_data_inner(p, data, version, zxid, time, events)
        })
    }

    pub fn set_acl(&mut self, p: &str, acl: &[Acl], version: i32) -> Result<Stat, TreeError> {
        self.with_digest(&[p], |t| t.set_acl_inner(p, acl, version))
    }

    /// Starts rebuilding a tree from a snapshot: its ACL map, then (`SnapshotLoad::add`) its
    /// nodes, parents before children, the root named "" as Java writes it. Children, the
    /// ephemeral, container, TTL and quota indexes and the digest are derived, as Java
    /// derives them on load. Nodes go straight into the tree as they are read: no
    /// intermediate list beside it.
    pub fn load(extended_types: bool, acls: Vec<(i64, Vec<Acl>)>) -> SnapshotLoad {
        SnapshotLoad {
            t: DataTree::empty(extended_types, AclCache::load(acls)),
        }
    }

    /// No nodes at all, not even the root.
    fn empty(extended_types: bool, acls: AclCache) -> DataTree {
        DataTree {
            nodes: HashMap::new(),
            acls,
            ephemerals: HashMap::new(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            extended_types,
            quota_roots: BTreeSet::new(),
            digest: 0,
            last_zxid: 0,
        }
    }

    /// Every node in pre-order (parents first), named as Java writes them (the root is "").
    pub fn snapshot_order(&self) -> Vec<(String, &Node)> {
        let mut walk = PreOrder::new();
        std::iter::from_fn(|| walk.next(self, i64::MAX)).collect()
    }

    fn insert_builtin(&mut self, p: &str, acl: i64, stat: StatPersisted) {
        let parent = path::parent(p).to_owned();
        self.nodes
            .get_mut(parent.as_str())
            .expect("parent")
            .children
            .insert(path::name(p).into());
        self.nodes
            .insert(p.into(), Node::new(Some(Bytes::new()), acl, stat));
    }

    pub fn extended_types(&self) -> bool {
        self.extended_types
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn acl_of(&self, node: &Node) -> Arc<[Acl]> {
        self.acls.get(node.acl)
    }

    pub fn acl_cache(&self) -> &AclCache {
        &self.acls
    }

    pub fn kind(&self, node: &Node) -> NodeKind {
        NodeKind::from_owner(node.stat.ephemeral_owner, self.extended_types)
    }

    /// The Stat a client sees: visible cversion, dataLength, numChildren, and an
    /// ephemeralOwner that is 0 for containers and TTL nodes.
    pub fn stat(&self, node: &Node) -> Stat {
        let s = &node.stat;
        let num_children = node.children.len() as i32;
        let owner = match self.kind(node) {
            NodeKind::Ephemeral(sid) => sid,
            _ => 0,
        };
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: s.aversion,
            ephemeral_owner: owner,
            data_length: node.data_len(),
            num_children,
            pzxid: s.pzxid,
        }
    }

    /// `create` without digest upkeep.
    #[allow(clippy::too_many_arguments)]
    fn create_inner(
        &mut self,
        p: &str,
        data: Option<Bytes>,
        acl: &[Acl],
        owner: i64,
        parent_cversion: i32,
        zxid: i64,
        time: i64,
        events: &mut Vec<TreeEvent>,
    ) -> Result<Stat, TreeError> {
        let parent_path = path::parent(p);
        let name = path::name(p);
        let parent = self.nodes.get_mut(parent_path).ok_or(TreeError::NoNode)?;
        if parent.children.contains(name) {
            return Err(TreeError::NodeExists);
        }
        raise_cversion(&mut parent.stat, parent_cversion, zxid);
        parent.children.insert(name.into());
        let parent_acl = parent.acl;
        let acl_id = self.acls.acquire(acl);
        let stat = StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            ctime: time,
            mtime: time,
            pzxid: zxid,
            ephemeral_owner: owner,
            ..Default::default()
        };
        self.nodes.insert(p.into(), Node::new(data, acl_id, stat));
        self.index(p, owner);
        self.quota_on_create(p, parent_path);
        events.push(TreeEvent {
            kind: event::NODE_CREATED,
            path: p.to_owned(),
            acl: self.acls.get(acl_id),
        });
        events.push(TreeEvent {
            kind: event::NODE_CHILDREN_CHANGED,
            path: parent_path.to_owned(),
            acl: self.acls.get(parent_acl),
        });
        Ok(self.stat(&self.nodes[p]))
    }

    fn delete_inner(
        &mut self,
        p: &str,
        zxid: i64,
        events: &mut Vec<TreeEvent>,
    ) -> Result<(), TreeError> {
        if p == "/" {
            return Err(TreeError::NoNode);
        }
        match self.nodes.get(p) {
            None => {
                // Replaying the log over a fuzzy snapshot, the child may already be gone
                // while its parent was written before the delete: the parent's pzxid still
                // moves, as in Java's deleteNode.
                if let Some(parent) = self.nodes.get_mut(path::parent(p)) {
                    parent.stat.pzxid = parent.stat.pzxid.max(zxid);
                }
                return Err(TreeError::NoNode);
            }
            Some(n) if !n.children.is_empty() => return Err(TreeError::NotEmpty),
            Some(_) => {}
        }
        let node = self.nodes.remove(p).expect("checked");
        let parent_path = path::parent(p);
        let parent = self
            .nodes
            .get_mut(parent_path)
            .expect("a node's parent exists");
        parent.children.remove(path::name(p));
        if zxid > parent.stat.pzxid {
            parent.stat.pzxid = zxid;
        }
        let parent_acl = parent.acl;
        self.unindex(p, node.stat.ephemeral_owner);
        if parent_path.starts_with("/zookeeper") && path::name(p) == quota::LIMITS_NODE {
            self.quota_roots.remove(quota::trim(parent_path));
        }
        if let Some(root) = self.quota_root_of(p) {
            self.quota_add(&root, -1, -(node.data_len() as i64));
        }
        events.push(TreeEvent {
            kind: event::NODE_DELETED,
            path: p.to_owned(),
            acl: self.acls.get(node.acl),
        });
        events.push(TreeEvent {
            kind: event::NODE_CHILDREN_CHANGED,
            path: parent_path.to_owned(),
            acl: self.acls.get(parent_acl),
        });
        self.acls.release(node.acl);
        Ok(())
    }

    fn set_data_inner(
        &mut self,
        p: &str,
        data: Option<Bytes>,
        version: i32,
        zxid: i64,
        time: i64,
        events: &mut Vec<TreeEvent>,
    ) -> Result<Stat, TreeError> {
        let node = self.nodes.get_mut(p).ok_or(TreeError::NoNode)?;
        let bytes_diff = data.as_ref().map_or(0, |d| d.len() as i64) - node.data_len() as i64;
        node.data = data;
        node.stat.version = version;
        node.stat.mzxid = zxid;
        node.stat.mtime = time;
        let acl = node.acl;
        if let Some(root) = self.quota_root_of(p) {
            self.quota_add(&root, 0, bytes_diff);
        }
        events.push(TreeEvent {
            kind: event::NODE_DATA_CHANGED,
            path: p.to_owned(),
            acl: self.acls.get(acl),
        });
        Ok(self.stat(&self.nodes[p]))
    }

    fn set_acl_inner(&mut self, p: &str, acl: &[Acl], version: i32) -> Result<Stat, TreeError> {
        let new_id = self.acls.acquire(acl);
        let Some(node) = self.nodes.get_mut(p) else {
            self.acls.release(new_id);
            return Err(TreeError::NoNode);
        };
        let old = std::mem::replace(&mut node.acl, new_id);
        node.stat.aversion = version;
        self.acls.release(old);
        Ok(self.stat(&self.nodes[p]))
    }

    fn quota_on_create(&mut self, p: &str, parent_path: &str) {
        if parent_path.starts_with(quota::QUOTA_ROOT) {
            let root = quota::trim(parent_path).to_owned();
            match path::name(p) {
                quota::LIMITS_NODE => {
                    self.quota_roots.insert(root);
                }
                quota::STATS_NODE => self.recompute_quota(&root),
                _ => {}
            }
        }
        if let Some(root) = self.quota_root_of(p) {
            let bytes = self.nodes.get(p).map_or(0, |n| n.data_len() as i64);
            self.quota_add(&root, 1, bytes);
        }
    }

    /// The deepest quota root at or above `p` (never `/`).
    fn quota_root_of(&self, p: &str) -> Option<String> {
        if self.quota_roots.is_empty() {
            return None;
        }
        let mut cur = p;
        while cur != "/" && !cur.is_empty() {
            if self.quota_roots.contains(cur) {
                return Some(cur.to_owned());
            }
            cur = path::parent(cur);
        }
        None
    }

    fn quota_add(&mut self, root: &str, count: i64, bytes: i64) {
        let Some(stats) = self.nodes.get_mut(quota::stats_path(root).as_str()) else {
            return;
        };
        let text = stats
            .data
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let mut track = quota::StatsTrack::parse(&text);
        track.add(count, bytes);
        stats.data = Some(Bytes::from(track.render()));
    }

    /// Counts `root`'s subtree (itself included) into its stats node.
    fn recompute_quota(&mut self, root: &str) {
        let (mut count, mut bytes) = (0i64, 0i64);
        let mut stack = vec![root.to_owned()];
        while let Some(cur) = stack.pop() {
            if let Some(n) = self.nodes.get(cur.as_str()) {
                count += 1;
                bytes += n.data_len() as i64;
                stack.extend(n.children.iter().map(|c| path::join(&cur, c)));
            }
        }
        if let Some(stats) = self.nodes.get_mut(quota::stats_path(root).as_str()) {
            stats.data = Some(Bytes::from(quota::StatsTrack::new(count, bytes).render()));
        }
    }

    /// Number of descendants of `p` (not counting `p`).
    pub fn descendants(&self, p: &str) -> usize {
        if p == "/" {
            return self.nodes.len() - 1;
        }
        let mut count = 0;
        let mut stack = vec![p.to_owned()];
        while let Some(cur) = stack.pop() {
            if let Some(n) = self.nodes.get(cur.as_str()) {
                for c in &n.children {
                    count += 1;
                    stack.push(path::join(&cur, c));
                }
            }
        }
        count
    }

    pub fn ephemerals_of(&self, session: i64) -> impl Iterator<Item = &String> {
        self.ephemerals.get(&session).into_iter().flatten()
    }

    pub fn ephemeral_sessions(&self) -> impl Iterator<Item = (&i64, &BTreeSet<String>)> {
        self.ephemerals.iter()
    }

    pub fn ephemeral_count(&self) -> usize {
        self.ephemerals.values().map(|s| s.len()).sum()
    }

    pub fn containers(&self) -> &BTreeSet<String> {
        &self.containers
    }

    pub fn ttls(&self) -> &BTreeSet<String> {
        &self.ttls
    }

    /// Approximate bytes of data held, for `mntr`'s approximate_data_size.
    pub fn approximate_data_size(&self) -> u64 {
        self.nodes
            .iter()
            .map(|(k, n)| (k.len() + n.data_len() as usize) as u64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> Vec<Acl> {
        Acl::open_unsafe()
    }

    #[test]
    fn builtin_nodes_show_java_cversions() {
        let t = DataTree::new(false);
        assert_eq!(t.stat(t.get("/").unwrap()).cversion, -1);
        assert_eq!(t.stat(t.get("/zookeeper").unwrap()).cversion, -2);
        assert_eq!(t.stat(t.get("/zookeeper/config").unwrap()).aversion, -1);
    }

    #[test]
    fn visible_cversion_counts_creates_and_deletes() {
        let mut t = DataTree::new(false);
        let mut ev = Vec::new();
        t.create("/a", None, &open(), 0, -1, 1, 10, &mut ev)
            .unwrap();
        t.create("/a/b", None, &open(), 0, -1, 2, 10, &mut ev)
            .unwrap();
        assert_eq!(t.stat(t.get("/a").unwrap()).cversion, 1);
        t.delete("/a/b", 3, &mut ev).unwrap();
        let s = t.stat(t.get("/a").unwrap());
        assert_eq!((s.cversion, s.pzxid, s.num_children), (2, 3, 0));
    }

    #[test]
    fn acl_refcounts_return_to_baseline() {
        let mut t = DataTree::new(false);
        let base = t.acl_cache().len();
        let mut ev = Vec::new();
        let digest = vec![Acl::new(31, "digest", "u:x")];
        t.create("/a", None, &digest, 0, -1, 1, 0, &mut ev).unwrap();
        t.set_acl("/a", &open(), 1).unwrap();
        t.delete("/a", 2, &mut ev).unwrap();
        assert_eq!(t.acl_cache().len(), base);
    }

    #[test]
    fn quota_stats_follow_the_subtree() {
        let mut t = DataTree::new(false);
        let open = Acl::open_unsafe();
        let mut ev = Vec::new();
        let nodes = [
            ("/q", "abcd"),
            ("/q/a", "12345"),
            ("/zookeeper/quota/q", ""),
            ("/zookeeper/quota/q/zookeeper_limits", "count=10,bytes=-1"),
            ("/zookeeper/quota/q/zookeeper_stats", "count=0,bytes=0"),
        ];
        for (z, (p, d)) in nodes.iter().enumerate() {
            t.create(
                p,
                Some(Bytes::from(d.to_string())),
                &open,
                0,
                -1,
                z as i64 + 1,
                0,
                &mut ev,
            )
            .unwrap();
        }
        let stats = |t: &DataTree| {
            String::from_utf8(
                t.get("/zookeeper/quota/q/zookeeper_stats")
                    .unwrap()
                    .data
                    .clone()
                    .unwrap()
                    .to_vec(),
            )
            .unwrap()
        };
        assert_eq!(stats(&t), "count=2,bytes=9");
        t.create(
            "/q/b",
            Some(Bytes::from_static(b"xy")),
            &open,
            0,
            -1,
            8,
            0,
            &mut ev,
        )
        .unwrap();
        assert_eq!(stats(&t), "count=3,bytes=11");
        t.set_data("/q/b", Some(Bytes::from_static(b"x")), 1, 9, 0, &mut ev)
            .unwrap();
        t.delete("/q/a", 10, &mut ev).unwrap();
        assert_eq!(stats(&t), "count=2,bytes=5");
    }

    #[test]
    fn kinds_from_owner() {
        assert_eq!(
            NodeKind::from_owner(CONTAINER_OWNER, true),
            NodeKind::Container
        );
        assert_eq!(
            NodeKind::from_owner(NodeKind::ttl_owner(5000), true),
            NodeKind::Ttl(5000)
        );
        assert_eq!(
            NodeKind::from_owner(0x0100_0000_0000_0001, true),
            NodeKind::Ephemeral(0x0100_0000_0000_0001)
        );
    }
}
