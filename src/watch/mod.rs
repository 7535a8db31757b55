//! Watches, as ZooKeeper 3.9 keeps them: a data table and a child table of
//! `path → connection → modes`. A connection may hold a standard (one-shot), a persistent and a
//! persistent-recursive watch on one path at once; firing removes only the standard one.
//! Watches belong to connections, not sessions: a closed connection drops all of its own.

use std::collections::{BTreeMap, HashMap, HashSet};

use jute::consts::{event, watcher_type};

use crate::tree::path;

pub type ConnId = u64;

const STANDARD: u8 = 1;
const PERSISTENT: u8 = 2;
const RECURSIVE: u8 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Data,
    Child,
}

/// Which watches to remove or check (`WatcherType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    Children,
    Data,
    Any,
    Persistent,
    PersistentRecursive,
}

impl Selector {
    pub fn from_type(t: i32) -> Option<Selector> {
        Some(match t {
            watcher_type::CHILDREN => Selector::Children,
            watcher_type::DATA => Selector::Data,
            watcher_type::ANY => Selector::Any,
            watcher_type::PERSISTENT => Selector::Persistent,
            watcher_type::PERSISTENT_RECURSIVE => Selector::PersistentRecursive,
            _ => return None,
        })
    }

    /// (data-table modes, child-table modes) this selector matches.
    fn masks(self) -> (u8, u8) {
        match self {
            Selector::Children => (0, STANDARD),
            Selector::Data => (STANDARD, 0),
            Selector::Any => (STANDARD | PERSISTENT | RECURSIVE, STANDARD | PERSISTENT),
            Selector::Persistent => (PERSISTENT, PERSISTENT),
            Selector::PersistentRecursive => (RECURSIVE, 0),
        }
    }
}

#[derive(Default)]
pub struct WatchManager {
    data: HashMap<String, BTreeMap<ConnId, u8>>,
    child: HashMap<String, BTreeMap<ConnId, u8>>,
    by_conn: HashMap<ConnId, HashSet<String>>,
    /// Number of recursive registrations; when zero, events skip the ancestor walk.
    recursive: usize,
}

impl WatchManager {
    fn table(&mut self, t: Table) -> &mut HashMap<String, BTreeMap<ConnId, u8>> {
        match t {
            Table::Data => &mut self.data,
            Table::Child => &mut self.child,
        }
    }

    fn add(&mut self, t: Table, p: &str, conn: ConnId, mode: u8) {
        let modes = self
            .table(t)
            .entry(p.to_owned())
            .or_default()
            .entry(conn)
            .or_insert(0);
        let had_recursive = *modes & RECURSIVE != 0;
        *modes |= mode;
        if mode & RECURSIVE != 0 && !had_recursive {
            self.recursive += 1;
        }
        self.by_conn.entry(conn).or_default().insert(p.to_owned());
    }

    /// A one-shot watch from exists/getData (data table) or getChildren (child table).
    pub fn add_standard(&mut self, t: Table, p: &str, conn: ConnId) {
        self.add(t, p, conn, STANDARD);
    }

    /// addWatch: PERSISTENT sits in both tables, PERSISTENT_RECURSIVE in the data table only.
    pub fn add_persistent(&mut self, p: &str, conn: ConnId, recursive: bool) {
        if recursive {
            self.add(Table::Data, p, conn, RECURSIVE);
        } else {
            self.add(Table::Data, p, conn, PERSISTENT);
            self.add(Table::Child, p, conn, PERSISTENT);
        }
    }

    /// Connections to notify of `kind` on `p` in table `t`, skipping `skip`. Standard watches
    /// are consumed. Recursive watches on `p` and its ancestors fire for data-table events.
    pub fn trigger(
        &mut self,
        t: Table,
        p: &str,
        kind: i32,
        skip: &HashSet<ConnId>,
    ) -> HashSet<ConnId> {
        let mut fired = HashSet::new();
        let mut emptied = Vec::new();
        let check_recursive =
            t == Table::Data && self.recursive > 0 && kind != event::NODE_CHILDREN_CHANGED;
        let table = match t {
            Table::Data => &mut self.data,
            Table::Child => &mut self.child,
        };
        if let Some(watchers) = table.get_mut(p) {
            watchers.retain(|conn, modes| {
                let fires = *modes & (STANDARD | PERSISTENT) != 0
                    || (check_recursive && *modes & RECURSIVE != 0);
                if fires {
                    // A connection already told of this event through the other table is not
                    // told twice, but its one-shot watch is used up all the same, as in Java.
                    if !skip.contains(conn) {
                        fired.insert(*conn);
                    }
                    *modes &= !STANDARD;
                }
                *modes != 0
            });
            if watchers.is_empty() {
                emptied.push(p.to_owned());
            }
        }
        if check_recursive && p != "/" {
            let mut cur = p;
            loop {
                cur = path::parent(cur);
                if let Some(watchers) = table.get(cur) {
                    for (conn, modes) in watchers {
                        if *modes & RECURSIVE != 0 && !skip.contains(conn) {
                            fired.insert(*conn);
                        }
                    }
                }
                if cur == "/" {
                    break;
                }
            }
        }
        for e in emptied {
            table.remove(&e);
        }
        // Keep the per-connection index honest for consumed one-shot watches.
        for conn in fired.iter().chain(skip.iter()) {
            if !self.has_any(*conn, p) {
                if let Some(set) = self.by_conn.get_mut(conn) {
                    set.remove(p);
                }
            }
        }
        fired
    }

    fn has_any(&self, conn: ConnId, p: &str) -> bool {
        self.data.get(p).is_some_and(|w| w.contains_key(&conn))
            || self.child.get(p).is_some_and(|w| w.contains_key(&conn))
    }

    /// checkWatches (`remove == false`) or removeWatches: whether anything matched.
    pub fn remove(&mut self, p: &str, conn: ConnId, sel: Selector, remove: bool) -> bool {
        let (dmask, cmask) = sel.masks();
        let mut found = false;
        for (t, mask) in [(Table::Data, dmask), (Table::Child, cmask)] {
            if mask == 0 {
                continue;
            }
            let mut removed_recursive = false;
            let table = self.table(t);
            if let Some(watchers) = table.get_mut(p) {
                if let Some(modes) = watchers.get_mut(&conn) {
                    if *modes & mask != 0 {
                        found = true;
                        if remove {
                            removed_recursive = *modes & mask & RECURSIVE != 0;
                            *modes &= !mask;
                            if *modes == 0 {
                                watchers.remove(&conn);
                            }
                        }
                    }
                }
                if watchers.is_empty() {
                    table.remove(p);
                }
            }
            if removed_recursive {
                self.recursive -= 1;
            }
        }
        if remove && !self.has_any(conn, p) {
            if let Some(set) = self.by_conn.get_mut(&conn) {
                set.remove(p);
            }
        }
        found
    }

    /// Drops every watch of a closed connection.
    pub fn remove_conn(&mut self, conn: ConnId) {
        let Some(paths) = self.by_conn.remove(&conn) else {
            return;
        };
        for p in paths {
            for t in [Table::Data, Table::Child] {
                let table = self.table(t);
                let mut dropped_recursive = false;
                if let Some(w) = table.get_mut(&p) {
                    if let Some(m) = w.remove(&conn) {
                        dropped_recursive = m & RECURSIVE != 0;
                    }
                    if w.is_empty() {
                        table.remove(&p);
                    }
                }
                if dropped_recursive {
                    self.recursive -= 1;
                }
            }
        }
    }

    /// Total watch registrations (each (path, connection) per table counts once).
    pub fn count(&self) -> usize {
        self.data.values().map(|w| w.len()).sum::<usize>()
            + self.child.values().map(|w| w.len()).sum::<usize>()
    }

    pub fn path_count(&self) -> usize {
        self.data
            .keys()
            .chain(self.child.keys())
            .collect::<HashSet<_>>()
            .len()
    }

    pub fn conn_count(&self) -> usize {
        self.by_conn.values().filter(|s| !s.is_empty()).count()
    }

    /// (connections, paths, watches) of the data table: what Java's `wchs` reports.
    pub fn data_summary(&self) -> (usize, usize, usize) {
        let conns: HashSet<ConnId> = self.data.values().flat_map(|w| w.keys().copied()).collect();
        (
            conns.len(),
            self.data.len(),
            self.data.values().map(|w| w.len()).sum(),
        )
    }

    /// `path → connections` of the data table, sorted, for `wchp`.
    pub fn data_by_path(&self) -> BTreeMap<String, Vec<ConnId>> {
        self.data
            .iter()
            .map(|(p, w)| (p.clone(), w.keys().copied().collect()))
            .collect()
    }

    /// `connection → paths` of the data table, sorted, for `wchc`.
    pub fn data_by_conn(&self) -> BTreeMap<ConnId, Vec<String>> {
        let mut out: BTreeMap<ConnId, Vec<String>> = BTreeMap::new();
        for (p, w) in &self.data {
            for c in w.keys() {
                out.entry(*c).or_default().push(p.clone());
            }
        }
        for v in out.values_mut() {
            v.sort();
        }
        out
    }

    /// `path → connections` for `wchp`, sorted.
    pub fn by_path(&self) -> BTreeMap<String, Vec<ConnId>> {
        let mut out: BTreeMap<String, Vec<ConnId>> = BTreeMap::new();
        for (p, w) in self.data.iter().chain(self.child.iter()) {
            let e = out.entry(p.clone()).or_default();
            e.extend(w.keys().copied());
            e.sort_unstable();
            e.dedup();
        }
        out
    }

    /// `connection → paths` for `wchc`, sorted.
    pub fn by_conn(&self) -> BTreeMap<ConnId, Vec<String>> {
        self.by_conn
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(c, s)| {
                let mut v: Vec<String> = s.iter().cloned().collect();
                v.sort();
                (*c, v)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> HashSet<ConnId> {
        HashSet::new()
    }

    #[test]
    fn standard_fires_once_persistent_stays() {
        let mut w = WatchManager::default();
        w.add_standard(Table::Data, "/a", 1);
        w.add_persistent("/a", 1, false);
        assert_eq!(
            w.trigger(Table::Data, "/a", event::NODE_DATA_CHANGED, &none())
                .len(),
            1
        );
        assert!(w.remove("/a", 1, Selector::Persistent, false));
        assert!(!w.remove("/a", 1, Selector::Data, false));
        assert_eq!(
            w.trigger(Table::Data, "/a", event::NODE_DATA_CHANGED, &none())
                .len(),
            1
        );
    }

    #[test]
    fn recursive_fires_for_descendants_not_children_changed() {
        let mut w = WatchManager::default();
        w.add_persistent("/a", 7, true);
        assert!(w
            .trigger(Table::Data, "/a/b/c", event::NODE_CREATED, &none())
            .contains(&7));
        assert!(w
            .trigger(Table::Child, "/a", event::NODE_CHILDREN_CHANGED, &none())
            .is_empty());
        w.remove_conn(7);
        assert!(w
            .trigger(Table::Data, "/a/b", event::NODE_CREATED, &none())
            .is_empty());
        assert_eq!(w.recursive, 0);
    }

    #[test]
    fn suppressed_one_shot_watch_is_still_consumed() {
        let mut w = WatchManager::default();
        w.add_standard(Table::Data, "/d", 1);
        w.add_standard(Table::Child, "/d", 1);
        let data = w.trigger(Table::Data, "/d", event::NODE_DELETED, &none());
        assert!(w
            .trigger(Table::Child, "/d", event::NODE_DELETED, &data)
            .is_empty());
        assert_eq!(w.count(), 0, "the child watch fired (silently) and is gone");
    }

    #[test]
    fn remove_reports_nowatcher() {
        let mut w = WatchManager::default();
        assert!(!w.remove("/x", 1, Selector::Any, true));
        w.add_standard(Table::Child, "/x", 1);
        assert!(w.remove("/x", 1, Selector::Children, true));
        assert_eq!(w.count(), 0);
        assert_eq!(w.conn_count(), 0);
    }
}
