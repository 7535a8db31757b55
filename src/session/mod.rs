//! The session table: ids and passwords as Java ZooKeeper issues them, negotiated timeouts,
//! and expiry in tickTime-sized buckets (`ExpiryQueue`): a session touched at `now` expires at
//! `now + timeout` rounded up to the next multiple of tickTime.

mod password;

use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use password::session_password;

use crate::watch::ConnId;

#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub timeout_ms: i32,
    pub passwd: [u8; 16],
    /// The connection currently bound to the session, if any.
    pub conn: Option<ConnId>,
    /// Set once a closeSession txn is on its way: new requests get SESSIONEXPIRED.
    pub closing: bool,
    expires_at: u64,
}

pub struct SessionTable {
    sessions: HashMap<i64, Session>,
    buckets: BTreeMap<u64, BTreeSet<i64>>,
    tick_ms: u64,
    next_id: i64,
}

impl SessionTable {
    /// `server_id` goes in the high byte; `now_wall_ms` seeds the rest, as in Java.
    pub fn new(server_id: u64, tick_ms: u64, now_wall_ms: i64) -> Self {
        let mut next_id = (((now_wall_ms as u64) << 24) >> 8) as i64 | ((server_id as i64) << 56);
        if next_id == i64::MIN {
            next_id += 1;
        }
        SessionTable {
            sessions: HashMap::new(),
            buckets: BTreeMap::new(),
            tick_ms: tick_ms.max(1),
            next_id,
        }
    }

    fn bucket(&self, t: u64) -> u64 {
        (t / self.tick_ms + 1) * self.tick_ms
    }

    /// Allocates the next session id (not yet registered: that happens when its createSession
    /// txn is applied).
    pub fn next_session_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Registers (or re-registers, on txn replay) a session.
    pub fn add(&mut self, id: i64, timeout_ms: i32, now_ms: u64) -> &mut Session {
        self.sessions.entry(id).or_insert_with(|| Session {
            id,
            timeout_ms,
            passwd: session_password(id),
            conn: None,
            closing: false,
            expires_at: 0,
        });
        self.touch_at(id, timeout_ms, now_ms);
        self.sessions.get_mut(&id).expect("just inserted")
    }

    fn touch_at(&mut self, id: i64, timeout_ms: i32, now_ms: u64) {
        let at = self.bucket(now_ms + timeout_ms.max(0) as u64);
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        s.timeout_ms = timeout_ms;
        if s.expires_at == at {
            return;
        }
        let old = std::mem::replace(&mut s.expires_at, at);
        if let Some(b) = self.buckets.get_mut(&old) {
            b.remove(&id);
            if b.is_empty() {
                self.buckets.remove(&old);
            }
        }
        self.buckets.entry(at).or_default().insert(id);
    }

    /// Any packet from the session's connection keeps it alive. False if it is gone or closing.
    pub fn touch(&mut self, id: i64, now_ms: u64) -> bool {
        match self.sessions.get(&id) {
            Some(s) if !s.closing => {
                let t = s.timeout_ms;
                self.touch_at(id, t, now_ms);
                true
            }
            _ => false,
        }
    }

    /// Re-negotiated timeout on reconnect.
    pub fn set_timeout(&mut self, id: i64, timeout_ms: i32, now_ms: u64) {
        self.touch_at(id, timeout_ms, now_ms);
    }

    pub fn get(&self, id: i64) -> Option<&Session> {
        self.sessions.get(&id)
    }

    pub fn get_mut(&mut self, id: i64) -> Option<&mut Session> {
        self.sessions.get_mut(&id)
    }

    pub fn remove(&mut self, id: i64) -> Option<Session> {
        let s = self.sessions.remove(&id)?;
        if let Some(b) = self.buckets.get_mut(&s.expires_at) {
            b.remove(&id);
            if b.is_empty() {
                self.buckets.remove(&s.expires_at);
            }
        }
        Some(s)
    }

    /// Sessions whose bucket has passed and that are not already closing.
    pub fn expired(&mut self, now_ms: u64) -> Vec<i64> {
        let mut out = Vec::new();
        while let Some((&at, _)) = self.buckets.first_key_value() {
            if at > now_ms {
                break;
            }
            let ids = self.buckets.remove(&at).expect("present");
            out.extend(
                ids.into_iter()
                    .filter(|id| self.sessions.get(id).is_some_and(|s| !s.closing)),
            );
        }
        out
    }

    /// Expiry buckets in time order: (monotonic ms, session ids), for `dump`.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, &BTreeSet<i64>)> {
        self.buckets.iter().map(|(t, ids)| (*t, ids))
    }

    /// The next time a bucket falls due.
    pub fn next_expiry(&self) -> Option<u64> {
        self.buckets.keys().next().copied()
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_server_id_in_high_byte() {
        let mut t = SessionTable::new(1, 2000, 1_700_000_000_000);
        let id = t.next_session_id();
        assert_eq!((id as u64) >> 56, 1);
        assert_eq!(t.next_session_id(), id + 1);
    }

    #[test]
    fn expiry_is_bucketed_and_touch_defers_it() {
        let mut t = SessionTable::new(1, 2000, 0);
        t.add(5, 4000, 1000);
        // 1000 + 4000 = 5000 → bucket 6000.
        assert_eq!(t.next_expiry(), Some(6000));
        assert!(t.expired(5999).is_empty());
        assert!(t.touch(5, 3000));
        assert!(t.expired(6000).is_empty());
        assert_eq!(t.expired(8000), vec![5]);
    }
}
