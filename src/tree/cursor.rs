//! A resumable pre-order walk of the tree, for snapshots taken a few nodes at a time while
//! the tree keeps changing (ZooKeeper's "fuzzy" snapshots).
//!
//! The walk visits parents before children and children in name order, as Java's snapshot
//! loader needs. Between two calls the tree may change arbitrarily; the cursor holds only
//! paths and zxids, never references into the tree.
//!
//! Which nodes a fuzzy snapshot may hold is set by the rules Java uses to replay the log over
//! it (`DataTree.processTxn`): a create that finds its node present is ignored, except that a
//! plain create (type 1) raises the parent's cversion and pzxid; a delete that finds its node
//! gone still raises the parent's pzxid. A create2, container or TTL create that finds its
//! node present does *not* touch the parent. So the snapshot must never hold a child whose
//! creation its parent's written Stat does not already reflect. Java gets that by copying a
//! node's child list when it writes the node; the cursor gets it by writing a child only if
//! it was created no later than its parent was written (`czxid <= written_at`). A child
//! created afterwards is left to the log, together with its whole subtree.

use std::ops::Bound;

use super::{path, DataTree, Node};

/// Where a pre-order walk stands: the chain of written ancestors of the next node.
#[derive(Debug, Default)]
pub struct PreOrder {
    /// Written ancestors, outermost first: (path, `last_zxid` of the tree when written).
    frames: Vec<(String, i64)>,
    /// Name of the last child written under the innermost frame.
    after: Option<Box<str>>,
    started: bool,
}

impl PreOrder {
    pub fn new() -> PreOrder {
        PreOrder::default()
    }

    /// The next node to write, named as Java writes it (the root is ""), or `None` when the
    /// walk is over. `now` is the tree's zxid at this call: the bound its children's czxid
    /// will be held to. A walk over an unchanging tree passes `i64::MAX`.
    pub fn next<'t>(&mut self, tree: &'t DataTree, now: i64) -> Option<(String, &'t Node)> {
        if !self.started {
            self.started = true;
            let root = tree.nodes.get("/")?;
            self.frames.push(("/".to_owned(), now));
            return Some((String::new(), root));
        }
        loop {
            let (parent, written_at) = self.frames.last()?;
            let next = tree.nodes.get(parent.as_str()).and_then(|p| {
                let from = match &self.after {
                    Some(a) => Bound::Excluded(&**a),
                    None => Bound::Unbounded,
                };
                p.children
                    .range::<str, _>((from, Bound::Unbounded))
                    .map(|name| path::join(parent, name))
                    .find_map(|child| {
                        let node = tree.nodes.get(child.as_str())?;
                        (node.stat.czxid <= *written_at).then_some((child, node))
                    })
            });
            match next {
                Some((child, node)) => {
                    self.frames.push((child.clone(), now));
                    self.after = None;
                    return Some((child, node));
                }
                None => {
                    // This subtree is done (or its root was deleted): back up one level.
                    let (done, _) = self.frames.pop()?;
                    self.frames.last()?;
                    self.after = Some(path::name(&done).into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use jute::data::Acl;

    fn create(t: &mut DataTree, p: &str, zxid: i64) {
        t.create(
            p,
            Some(Bytes::new()),
            &Acl::open_unsafe(),
            0,
            -1,
            zxid,
            0,
            &mut Vec::new(),
        )
        .unwrap();
        t.last_zxid = zxid;
    }

    fn walk(t: &DataTree) -> Vec<String> {
        let mut c = PreOrder::new();
        std::iter::from_fn(|| c.next(t, i64::MAX).map(|(p, _)| p)).collect()
    }

    #[test]
    fn parents_first_children_by_name() {
        let mut t = DataTree::new(false);
        for (z, p) in ["/b", "/a", "/a/y", "/a/x", "/b/c"].iter().enumerate() {
            create(&mut t, p, z as i64 + 1);
        }
        assert_eq!(
            walk(&t),
            [
                "",
                "/a",
                "/a/x",
                "/a/y",
                "/b",
                "/b/c",
                "/zookeeper",
                "/zookeeper/config",
                "/zookeeper/quota"
            ]
        );
    }

    #[test]
    fn skips_children_born_after_their_parent_was_written_and_survives_deletes() {
        let mut t = DataTree::new(false);
        create(&mut t, "/a", 1);
        create(&mut t, "/a/old", 2);
        create(&mut t, "/b", 3);
        let mut c = PreOrder::new();
        let mut seen = Vec::new();
        for _ in 0..2 {
            seen.push(c.next(&t, t.last_zxid).unwrap().0);
        }
        assert_eq!(seen, ["", "/a"]);
        // After /a was written: a new child of /a (left to the log), /a/old and /b deleted
        // and /b recreated (a new top-level node, also newer than the root's write).
        create(&mut t, "/a/new", 4);
        t.delete("/a/old", 5, &mut Vec::new()).unwrap();
        t.delete("/b", 6, &mut Vec::new()).unwrap();
        create(&mut t, "/b", 7);
        while let Some((p, _)) = c.next(&t, t.last_zxid) {
            seen.push(p);
        }
        assert_eq!(
            seen,
            [
                "",
                "/a",
                "/zookeeper",
                "/zookeeper/config",
                "/zookeeper/quota"
            ]
        );
    }
}
