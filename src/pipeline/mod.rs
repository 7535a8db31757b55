//! The request pipeline as a deterministic state machine:
//!
//! ```text
//! request ─▶ prep (request → txn) ─▶ propose ─▶ [log + order, outside] ─▶ commit ─▶ apply ─▶ events, reply
//! ```
//!
//! `Core` owns the tree, the sessions and the watches, and is driven by its caller with
//! inputs (a connection's handshake or request, a disconnect, a tick, a commit), each carrying
//! the time. It does no I/O and reads no clock: replies and events go to each connection's
//! [`Sink`], and prepared txns wait in [`Core::take_proposals`] until the caller has made them
//! durable (and, in an ensemble, ordered) and calls [`Core::commit`]. Standalone mode is the
//! same pipeline with an ensemble of one.
//!
//! Ordering: each session has a FIFO of requests awaiting their replies. Writes are prepared
//! at once (so pipelined writes validate against each other); a read waits behind the
//! session's earlier writes; sync waits until every txn prepared before it is applied.

mod apply;
mod changes;
mod prep;
mod read;
pub mod stats;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;

use bytes::Bytes;
use jute::consts::{event, op, state, xid, ErrorCode};
use jute::data::Id;
use jute::proto::{
    ConnectRequest, ConnectResponse, Create2Response, CreateResponse, MultiResult, Request,
    Response, WatcherEvent,
};
use jute::txn::{ErrorTxn, Txn, TxnDigest, TxnHeader};

use crate::tree::digest::DIGEST_VERSION;

pub use apply::{apply, Applied};
use changes::Changes;
use prep::{CreateArgs, Prep};
use stats::{ConnStats, ServerStats};

use crate::session::SessionTable;
use crate::tree::{DataTree, NodeKind, TreeEvent};
use crate::watch::{ConnId, Table, WatchManager};

/// The time, as the caller's clock saw it when the input arrived.
#[derive(Debug, Clone, Copy, Default)]
pub struct Now {
    /// Wall clock, ms since the epoch: stamps txns (ctime/mtime) and seeds session ids.
    pub wall_ms: i64,
    /// Monotonic ms: session expiry and latencies.
    pub mono_ms: u64,
}

/// What the core sends a connection.
#[derive(Debug, Clone, PartialEq)]
pub enum OutMsg {
    Connected(ConnectResponse),
    Reply {
        xid: i32,
        zxid: i64,
        err: i32,
        body: Response,
    },
    Event {
        zxid: i64,
        event: WatcherEvent,
    },
    /// Flush what is queued, then close.
    Close,
}

impl OutMsg {
    pub fn size_hint(&self) -> usize {
        match self {
            OutMsg::Connected(_) => 41,
            OutMsg::Reply { body, .. } => 20 + body.size_hint(),
            OutMsg::Event { event, .. } => 32 + event.path.len(),
            OutMsg::Close => 0,
        }
    }
}

/// A connection's outbound queue.
pub trait Sink: Send {
    /// Queues `msg`; false if the connection's outbound buffer is past its bound, in which case
    /// the core closes the connection rather than buffer without limit.
    fn send(&mut self, msg: OutMsg) -> bool;
}

/// A request as the connection decoded it.
#[derive(Debug, Clone)]
pub enum Incoming {
    Request(Request),
    /// Unknown opcode, or one a client may not send: UNIMPLEMENTED, then close.
    Unimplemented(i32),
    /// Known opcode whose body did not parse: MARSHALLINGERROR.
    Malformed(i32),
}

/// A prepared txn handed to the log (and, in an ensemble, to the ordering core).
#[derive(Debug, Clone)]
pub struct Proposal {
    pub hdr: TxnHeader,
    pub txn: Bytes,
    /// The tree digest once this txn is applied (none for error txns, as Java logs them).
    pub digest: Option<TxnDigest>,
}

#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub server_id: u64,
    pub tick_ms: u64,
    pub min_session_timeout: i32,
    pub max_session_timeout: i32,
    pub extended_types: bool,
    /// `user:base64` digest that grants `super`.
    pub super_digest: Option<String>,
    pub skip_acl: bool,
    pub container_check_ms: u64,
    pub container_max_per_minute: u32,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            server_id: 1,
            tick_ms: 3000,
            min_session_timeout: 6000,
            max_session_timeout: 60000,
            extended_types: false,
            super_digest: None,
            skip_acl: false,
            container_check_ms: 60_000,
            container_max_per_minute: 10_000,
        }
    }
}

struct Conn {
    session: i64,
    auth: Vec<Id>,
    peer: Option<SocketAddr>,
    sink: Box<dyn Sink>,
    stats: ConnStats,
}

/// A request awaiting its reply, in its session's FIFO.
enum Queued {
    Write {
        zxid: i64,
        conn: ConnId,
        xid: i32,
        op: i32,
        recv_ms: u64,
    },
    CreateSession {
        zxid: i64,
        conn: ConnId,
        timeout: i32,
        has_read_only: bool,
    },
    Read {
        conn: ConnId,
        xid: i32,
        req: Request,
        recv_ms: u64,
    },
    Sync {
        after: i64,
        conn: ConnId,
        xid: i32,
        path: String,
        recv_ms: u64,
    },
    Fail {
        conn: ConnId,
        xid: i32,
        op: i32,
        err: ErrorCode,
        close: bool,
        recv_ms: u64,
    },
    /// An auth packet that arrived while its session was being created.
    Auth {
        conn: ConnId,
        xid: i32,
        packet: jute::proto::AuthPacket,
    },
}

pub struct Core {
    cfg: CoreConfig,
    pub(crate) tree: DataTree,
    pub(crate) sessions: SessionTable,
    pub(crate) watches: WatchManager,
    changes: Changes,
    conns: HashMap<ConnId, Conn>,
    queues: HashMap<i64, VecDeque<Queued>>,
    /// Sessions whose queue head is a sync waiting for `after` to be applied.
    syncs: BTreeSet<(i64, i64)>,
    proposals: Vec<Proposal>,
    /// Proposed txns awaiting commit, with the digest the tree must have once each is applied.
    in_flight: VecDeque<(TxnHeader, Txn, Option<i64>)>,
    last_prepped: i64,
    next_container_check: u64,
    pub(crate) stats: ServerStats,
    last_wall_ms: i64,
    /// The txn log failed: no txn is committed any more.
    storage_failed: bool,
}

impl Core {
    pub fn new(cfg: CoreConfig, now: Now) -> Core {
        Core::with_tree(cfg, DataTree::new(false), now)
    }

    /// A core over a recovered tree (its `last_zxid` continues the zxid sequence).
    pub fn with_tree(cfg: CoreConfig, mut tree: DataTree, now: Now) -> Core {
        if tree.extended_types() != cfg.extended_types && tree.node_count() <= 4 {
            tree = DataTree::new(cfg.extended_types);
        }
        let last = tree.last_zxid;
        Core {
            sessions: SessionTable::new(cfg.server_id, cfg.tick_ms, now.wall_ms),
            tree,
            watches: WatchManager::default(),
            changes: Changes::default(),
            conns: HashMap::new(),
            queues: HashMap::new(),
            syncs: BTreeSet::new(),
            proposals: Vec::new(),
            in_flight: VecDeque::new(),
            last_prepped: last,
            next_container_check: now.mono_ms + cfg.container_check_ms,
            stats: ServerStats::new(now.wall_ms),
            last_wall_ms: now.wall_ms,
            storage_failed: false,
            cfg,
        }
    }

    /// A session recovered from disk: alive again, with a fresh expiry timer, until its
    /// client returns or its timeout passes.
    pub fn restore_session(&mut self, now: Now, id: i64, timeout_ms: i32) {
        self.sessions.add(id, timeout_ms, now.mono_ms);
    }

    /// The txn log could not make txns durable: from now on nothing is committed.
    pub fn set_storage_failed(&mut self) {
        self.storage_failed = true;
    }

    pub fn storage_failed(&self) -> bool {
        self.storage_failed
    }

    /// Live sessions and their negotiated timeouts, as a snapshot records them.
    pub fn session_list(&self) -> Vec<(i64, i32)> {
        let mut v: Vec<(i64, i32)> = self.sessions.iter().map(|s| (s.id, s.timeout_ms)).collect();
        v.sort_unstable();
        v
    }

    pub fn config(&self) -> &CoreConfig {
        &self.cfg
    }

    pub fn tree(&self) -> &DataTree {
        &self.tree
    }

    pub fn last_zxid(&self) -> i64 {
        self.tree.last_zxid
    }

    // ---- inputs -------------------------------------------------------------------------

    /// A connection's first frame. Registers the connection and opens or resumes its session.
    pub fn connect(
        &mut self,
        now: Now,
        conn: ConnId,
        peer: Option<SocketAddr>,
        req: ConnectRequest,
        sink: Box<dyn Sink>,
    ) {
        let mut auth = Vec::new();
        if let Some(p) = peer {
            auth.push(Id {
                scheme: "ip".into(),
                id: p.ip().to_string(),
            });
        }
        self.conns.insert(
            conn,
            Conn {
                session: 0,
                auth,
                peer,
                sink,
                stats: ConnStats {
                    received: 1,
                    ..ConnStats::new(now)
                },
            },
        );
        self.stats.packets_received += 1;
        // A client that has seen a newer state than ours must find another server.
        if req.last_zxid_seen > self.tree.last_zxid {
            self.close_conn(conn);
            return;
        }
        let timeout = req
            .timeout
            .clamp(self.cfg.min_session_timeout, self.cfg.max_session_timeout);
        if req.session_id == 0 {
            let sid = self.sessions.next_session_id();
            // Tracked from prep on, as Java's PrepRequestProcessor does, so requests pipelined
            // behind the handshake pass the session check.
            self.sessions.add(sid, timeout, now.mono_ms);
            self.bind(conn, sid);
            let zxid = self.propose(
                now,
                sid,
                0,
                op::CREATE_SESSION,
                Txn::CreateSession(jute::txn::CreateSessionTxn { timeout }),
            );
            self.queue(sid).push_back(Queued::CreateSession {
                zxid,
                conn,
                timeout,
                has_read_only: req.has_read_only,
            });
            return;
        }
        let sid = req.session_id;
        let valid = req.passwd[..] == crate::session::session_password(sid)[..]
            && self.sessions.get(sid).is_some_and(|s| !s.closing);
        if !valid {
            let resp = ConnectResponse {
                passwd: Bytes::from_static(&[0; 16]),
                has_read_only: req.has_read_only,
                ..Default::default()
            };
            self.send(conn, OutMsg::Connected(resp));
            self.close_conn(conn);
            return;
        }
        if let Some(old) = self.sessions.get(sid).and_then(|s| s.conn) {
            if old != conn {
                self.close_conn(old);
            }
        }
        self.bind(conn, sid);
        self.sessions.set_timeout(sid, timeout, now.mono_ms);
        let passwd = Bytes::copy_from_slice(&crate::session::session_password(sid));
        let resp = ConnectResponse {
            protocol_version: 0,
            timeout,
            session_id: sid,
            passwd,
            read_only: false,
            has_read_only: req.has_read_only,
        };
        self.send(conn, OutMsg::Connected(resp));
    }

    fn bind(&mut self, conn: ConnId, sid: i64) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session = sid;
        }
        if let Some(s) = self.sessions.get_mut(sid) {
            s.conn = Some(conn);
        }
    }

    /// A request after the handshake.
    pub fn request(&mut self, now: Now, conn: ConnId, xid: i32, incoming: Incoming) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.stats.received += 1;
        self.stats.packets_received += 1;
        let sid = c.session;
        self.sessions.touch(sid, now.mono_ms);
        let recv_ms = now.mono_ms;
        let req = match incoming {
            Incoming::Request(r) => r,
            Incoming::Unimplemented(opcode) => {
                return self.enqueue(
                    now,
                    sid,
                    Queued::Fail {
                        conn,
                        xid,
                        op: opcode,
                        err: ErrorCode::Unimplemented,
                        close: true,
                        recv_ms,
                    },
                );
            }
            Incoming::Malformed(opcode) => {
                return self.enqueue(
                    now,
                    sid,
                    Queued::Fail {
                        conn,
                        xid,
                        op: opcode,
                        err: ErrorCode::MarshallingError,
                        close: false,
                        recv_ms,
                    },
                );
            }
        };
        match req {
            // Auth is handled at once, outside the session's order, as in Java, except while
            // the session is still being created: Java reads nothing more from a connection
            // until its ConnectResponse is out, so the auth reply must not overtake it.
            Request::Auth(a) => {
                let handshaking = self.queues.get(&sid).is_some_and(|q| {
                    q.iter()
                        .any(|e| matches!(e, Queued::CreateSession { conn: c, .. } if *c == conn))
                });
                if handshaking {
                    self.queue(sid).push_back(Queued::Auth {
                        conn,
                        xid,
                        packet: a,
                    });
                } else {
                    self.authenticate(conn, xid, a);
                }
            }
            Request::Sasl(_) => self.enqueue(
                now,
                sid,
                Queued::Fail {
                    conn,
                    xid,
                    op: op::SASL,
                    err: ErrorCode::AuthFailed,
                    close: true,
                    recv_ms,
                },
            ),
            Request::Sync(s) => {
                let after = self.last_prepped;
                self.enqueue(
                    now,
                    sid,
                    Queued::Sync {
                        after,
                        conn,
                        xid,
                        path: s.path,
                        recv_ms,
                    },
                )
            }
            r if is_write(&r) => {
                let opcode = r.opcode();
                let zxid = self.prep_write(now, conn, sid, xid, r);
                self.queue(sid).push_back(Queued::Write {
                    zxid,
                    conn,
                    xid,
                    op: opcode,
                    recv_ms,
                });
            }
            r => self.enqueue(
                now,
                sid,
                Queued::Read {
                    conn,
                    xid,
                    req: r,
                    recv_ms,
                },
            ),
        }
    }

    /// The connection is gone: its watches go with it; its session lives on until it expires
    /// or a new connection resumes it.
    pub fn disconnect(&mut self, conn: ConnId) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        self.watches.remove_conn(conn);
        if let Some(s) = self.sessions.get_mut(c.session) {
            if s.conn == Some(conn) {
                s.conn = None;
            }
        }
    }

    /// Time passes: expire sessions, reap empty containers and expired TTL nodes.
    pub fn tick(&mut self, now: Now) {
        self.last_wall_ms = now.wall_ms;
        for sid in self.sessions.expired(now.mono_ms) {
            tracing::info!(session = format_args!("0x{sid:x}"), "session expired");
            self.close_session(now, sid, 0);
        }
        if now.mono_ms >= self.next_container_check {
            self.next_container_check = now.mono_ms + self.cfg.container_check_ms;
            self.reap_containers(now);
        }
    }

    /// When the next tick has work to do.
    pub fn next_deadline(&self) -> u64 {
        self.sessions
            .next_expiry()
            .unwrap_or(u64::MAX)
            .min(self.next_container_check)
    }

    /// Prepared txns not yet handed out, in zxid order. The caller logs them (and in an
    /// ensemble, orders them) and then calls [`Core::commit`].
    pub fn take_proposals(&mut self) -> Vec<Proposal> {
        std::mem::take(&mut self.proposals)
    }

    /// Every txn up to `zxid` is durable (and ordered): apply them and reply.
    pub fn commit(&mut self, now: Now, zxid: i64) {
        while self
            .in_flight
            .front()
            .is_some_and(|(h, _, _)| h.zxid <= zxid)
        {
            let (hdr, txn, digest) = self.in_flight.pop_front().expect("front exists");
            self.apply_committed(now, &hdr, &txn);
            // Java's self-check: the digest logged with a txn must be the tree's after it.
            if digest.is_some_and(|d| d != self.tree.digest()) {
                self.stats.digest_mismatches += 1;
                tracing::error!(
                    zxid = format_args!("0x{:x}", hdr.zxid),
                    "tree digest after applying the txn differs from the one logged with it"
                );
            }
        }
        // Syncs queued behind other sessions' txns may be free now.
        let last = self.tree.last_zxid;
        let ready: Vec<(i64, i64)> = self.syncs.range(..=(last, i64::MAX)).copied().collect();
        for key in ready {
            self.syncs.remove(&key);
            self.drain(now, key.1);
        }
    }

    // ---- prep and propose ---------------------------------------------------------------

    fn propose(&mut self, now: Now, session: i64, cxid: i32, type_: i32, txn: Txn) -> i64 {
        self.last_prepped += 1;
        let hdr = TxnHeader {
            client_id: session,
            cxid,
            zxid: self.last_prepped,
            time: now.wall_ms,
            type_,
        };
        // Prep has recorded this txn's changes, so the pending digest is the tree's after it.
        let digest = (type_ != op::ERROR).then(|| TxnDigest {
            version: DIGEST_VERSION,
            tree_digest: self.changes.digest(&self.tree),
        });
        // What is logged (and later sent to followers) is what every Java version replays.
        self.proposals.push(Proposal {
            hdr,
            txn: txn.to_log_bytes(),
            digest: digest.clone(),
        });
        self.in_flight
            .push_back((hdr, txn, digest.map(|d| d.tree_digest)));
        hdr.zxid
    }

    fn prep_write(&mut self, now: Now, conn: ConnId, sid: i64, xid: i32, req: Request) -> i64 {
        let zxid = self.last_prepped + 1;
        let auth = self
            .conns
            .get(&conn)
            .map(|c| c.auth.clone())
            .unwrap_or_default();
        let mut p = Prep {
            tree: &self.tree,
            changes: &mut self.changes,
            sessions: &self.sessions,
            session: sid,
            auth: &auth,
            zxid,
            time: now.wall_ms,
            skip_acl: self.cfg.skip_acl,
        };
        let opcode = req.opcode();
        let result = match &req {
            Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) => {
                p.create(CreateArgs {
                    opcode,
                    path: &r.path,
                    data: &r.data,
                    acl: &r.acl,
                    flags: r.flags,
                    ttl: -1,
                })
            }
            Request::CreateTtl(r) => p.create(CreateArgs {
                opcode,
                path: &r.path,
                data: &r.data,
                acl: &r.acl,
                flags: r.flags,
                ttl: r.ttl,
            }),
            Request::Delete(r) => p.delete(&r.path, r.version),
            Request::SetData(r) => p.set_data(&r.path, &r.data, r.version),
            Request::SetAcl(r) => p.set_acl(&r.path, &r.acl, r.version),
            Request::Multi(ops) => Ok(p.multi(ops).0),
            // Dynamic reconfiguration is off (reconfigEnabled=false), as by default in Java.
            Request::Reconfig(_) => Err(ErrorCode::ReconfigDisabled),
            Request::CloseSession => {
                if let Some(s) = self.sessions.get_mut(sid) {
                    s.closing = true;
                }
                return self.close_session(now, sid, xid);
            }
            _ => unreachable!("is_write covers exactly these"),
        };
        match result {
            Ok(txn) => self.propose(now, sid, xid, opcode, txn),
            Err(code) => self.propose(
                now,
                sid,
                xid,
                op::ERROR,
                Txn::Error(ErrorTxn { err: code.code() }),
            ),
        }
    }

    fn close_session(&mut self, now: Now, sid: i64, cxid: i32) -> i64 {
        if let Some(s) = self.sessions.get_mut(sid) {
            s.closing = true;
        }
        let auth = Vec::new();
        let mut p = Prep {
            tree: &self.tree,
            changes: &mut self.changes,
            sessions: &self.sessions,
            session: sid,
            auth: &auth,
            zxid: self.last_prepped + 1,
            time: now.wall_ms,
            skip_acl: true,
        };
        let txn = p.close_session();
        self.propose(now, sid, cxid, op::CLOSE_SESSION, txn)
    }

    fn reap_containers(&mut self, now: Now) {
        let per_check = (self.cfg.container_max_per_minute as u64 * self.cfg.container_check_ms
            / 60_000)
            .max(1) as usize;
        let mut candidates = Vec::new();
        for p in self.tree.containers() {
            if let Some(n) = self.tree.get(p) {
                if n.children.is_empty() && n.stat.cversion > 0 {
                    candidates.push(p.clone());
                }
            }
        }
        for p in self.tree.ttls() {
            if let Some(n) = self.tree.get(p) {
                if let NodeKind::Ttl(ttl) = self.tree.kind(n) {
                    if n.children.is_empty() && ttl != 0 && now.wall_ms - n.stat.mtime > ttl {
                        candidates.push(p.clone());
                    }
                }
            }
        }
        for path in candidates.into_iter().take(per_check) {
            // Skip nodes a pending txn already deletes.
            if self
                .changes
                .get_pending(&path)
                .is_some_and(|c| c.stat.is_none())
            {
                continue;
            }
            let mut p = Prep {
                tree: &self.tree,
                changes: &mut self.changes,
                sessions: &self.sessions,
                session: 0,
                auth: &[],
                zxid: self.last_prepped + 1,
                time: now.wall_ms,
                skip_acl: true,
            };
            let txn = match p.delete_container(&path) {
                Ok(t) => t,
                Err(code) => Txn::Error(ErrorTxn { err: code.code() }),
            };
            let type_ = if matches!(txn, Txn::Error(_)) {
                op::ERROR
            } else {
                op::DELETE_CONTAINER
            };
            self.propose(now, 0, 0, type_, txn);
        }
    }

    // ---- apply and reply ----------------------------------------------------------------

    fn apply_committed(&mut self, now: Now, hdr: &TxnHeader, txn: &Txn) {
        let mut events = Vec::new();
        let applied = apply(
            &mut self.tree,
            &mut self.sessions,
            hdr,
            txn,
            now.mono_ms,
            &mut events,
        );
        self.changes.applied(hdr.zxid);
        self.fire(hdr.zxid, events);
        let sid = hdr.client_id;
        let head_is_this = matches!(
            self.queues.get(&sid).and_then(|q| q.front()),
            Some(Queued::Write { zxid, .. } | Queued::CreateSession { zxid, .. }) if *zxid == hdr.zxid
        );
        if head_is_this {
            match self.queue(sid).pop_front().expect("checked") {
                Queued::Write {
                    conn,
                    xid,
                    op: opcode,
                    recv_ms,
                    ..
                } => {
                    let (err, body) = write_reply(opcode, &applied);
                    self.reply(now, conn, xid, opcode, hdr.zxid, err, body, recv_ms);
                    if opcode == op::CLOSE_SESSION {
                        self.close_conn(conn);
                    }
                }
                Queued::CreateSession {
                    conn,
                    timeout,
                    has_read_only,
                    ..
                } => {
                    let passwd = Bytes::copy_from_slice(&crate::session::session_password(sid));
                    let resp = ConnectResponse {
                        protocol_version: 0,
                        timeout,
                        session_id: sid,
                        passwd,
                        read_only: false,
                        has_read_only,
                    };
                    self.send(conn, OutMsg::Connected(resp));
                }
                _ => unreachable!("matched above"),
            }
        }
        if matches!(applied, Applied::SessionClosed) {
            // Expired (or closed): whatever connection still holds the session is closed.
            if let Some(conns) = self.session_conns(sid) {
                for c in conns {
                    self.close_conn(c);
                }
            }
            self.queues.remove(&sid);
            return;
        }
        self.drain(now, sid);
    }

    fn session_conns(&self, sid: i64) -> Option<Vec<ConnId>> {
        let v: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.session == sid)
            .map(|(id, _)| *id)
            .collect();
        (!v.is_empty()).then_some(v)
    }

    /// Delivers watch events: each to the connections watching, if they may READ the node.
    fn fire(&mut self, zxid: i64, events: Vec<TreeEvent>) {
        for ev in events {
            let targets = match ev.kind {
                event::NODE_CREATED | event::NODE_DATA_CHANGED => {
                    self.watches
                        .trigger(Table::Data, &ev.path, ev.kind, &HashSet::new())
                }
                event::NODE_DELETED => {
                    let data =
                        self.watches
                            .trigger(Table::Data, &ev.path, ev.kind, &HashSet::new());
                    let child = self.watches.trigger(Table::Child, &ev.path, ev.kind, &data);
                    data.union(&child).copied().collect()
                }
                _ => self
                    .watches
                    .trigger(Table::Child, &ev.path, ev.kind, &HashSet::new()),
            };
            let mut targets: Vec<ConnId> = targets.into_iter().collect();
            targets.sort_unstable();
            for conn in targets {
                let allowed = self.cfg.skip_acl
                    || self.conns.get(&conn).is_some_and(|c| {
                        crate::auth::check(&ev.acl, &c.auth, jute::consts::perms::READ).is_ok()
                    });
                if allowed {
                    let event = WatcherEvent {
                        type_: ev.kind,
                        state: state::SYNC_CONNECTED,
                        path: ev.path.clone(),
                    };
                    self.send(conn, OutMsg::Event { zxid, event });
                }
            }
        }
    }

    /// Runs the session's queued requests that are ready, in order.
    fn drain(&mut self, now: Now, sid: i64) {
        loop {
            let Some(front) = self.queues.get(&sid).and_then(|q| q.front()) else {
                return;
            };
            match front {
                Queued::Write { .. } | Queued::CreateSession { .. } => return,
                Queued::Sync { after, .. } if *after > self.tree.last_zxid => {
                    self.syncs.insert((*after, sid));
                    return;
                }
                _ => {}
            }
            match self.queue(sid).pop_front().expect("front exists") {
                Queued::Read {
                    conn,
                    xid,
                    req,
                    recv_ms,
                } => {
                    let opcode = req.opcode();
                    let (err, body) = self.read(conn, sid, req);
                    let xid = if opcode == op::PING { xid::PING } else { xid };
                    self.reply(
                        now,
                        conn,
                        xid,
                        opcode,
                        self.tree.last_zxid,
                        err.code(),
                        body,
                        recv_ms,
                    );
                }
                Queued::Sync {
                    conn,
                    xid,
                    path,
                    recv_ms,
                    ..
                } => {
                    let (err, body) = match self.check_session(sid) {
                        Ok(()) => (
                            ErrorCode::Ok,
                            Response::Sync(jute::proto::SyncResponse { path }),
                        ),
                        Err(e) => (e, Response::Empty),
                    };
                    self.reply(
                        now,
                        conn,
                        xid,
                        op::SYNC,
                        self.tree.last_zxid,
                        err.code(),
                        body,
                        recv_ms,
                    );
                }
                Queued::Fail {
                    conn,
                    xid,
                    op: opcode,
                    err,
                    close,
                    recv_ms,
                } => {
                    self.reply(
                        now,
                        conn,
                        xid,
                        opcode,
                        self.tree.last_zxid,
                        err.code(),
                        Response::Empty,
                        recv_ms,
                    );
                    if close {
                        self.close_conn(conn);
                    }
                }
                Queued::Auth { conn, xid, packet } => self.authenticate(conn, xid, packet),
                Queued::Write { .. } | Queued::CreateSession { .. } => {
                    unreachable!("returned above")
                }
            }
        }
    }

    fn check_session(&self, sid: i64) -> Result<(), ErrorCode> {
        match self.sessions.get(sid) {
            Some(s) if !s.closing => Ok(()),
            _ => Err(ErrorCode::SessionExpired),
        }
    }

    fn queue(&mut self, sid: i64) -> &mut VecDeque<Queued> {
        self.queues.entry(sid).or_default()
    }

    fn enqueue(&mut self, now: Now, sid: i64, q: Queued) {
        self.queue(sid).push_back(q);
        self.drain(now, sid);
    }

    /// Adds the packet's identities to the connection; the reply echoes the request's xid (-4
    /// from Java clients, an ordinary one from some others), as Java's does.
    fn authenticate(&mut self, conn: ConnId, xid: i32, a: jute::proto::AuthPacket) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let auth = a.auth.as_deref().unwrap_or_default();
        match crate::auth::authenticate(
            &a.scheme,
            auth,
            c.peer.map(|p| p.ip()),
            self.cfg.super_digest.as_deref(),
        ) {
            Ok(ids) => {
                for id in ids {
                    if !c.auth.contains(&id) {
                        c.auth.push(id);
                    }
                }
                self.send(
                    conn,
                    OutMsg::Reply {
                        xid,
                        zxid: 0,
                        err: 0,
                        body: Response::Empty,
                    },
                );
            }
            Err(code) => {
                self.send(
                    conn,
                    OutMsg::Reply {
                        xid,
                        zxid: 0,
                        err: code.code(),
                        body: Response::Empty,
                    },
                );
                self.close_conn(conn);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn reply(
        &mut self,
        now: Now,
        conn: ConnId,
        xid: i32,
        opcode: i32,
        zxid: i64,
        err: i32,
        body: Response,
        recv_ms: u64,
    ) {
        let latency = now.mono_ms.saturating_sub(recv_ms);
        self.stats.record_latency(latency);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stats.record(now, opcode, xid, zxid, latency);
        }
        let body = if err == 0 { body } else { Response::Empty };
        self.send(
            conn,
            OutMsg::Reply {
                xid,
                zxid,
                err,
                body,
            },
        );
    }

    fn send(&mut self, conn: ConnId, msg: OutMsg) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.stats.sent += 1;
        self.stats.packets_sent += 1;
        if !c.sink.send(msg) {
            tracing::warn!(
                conn,
                "outbound buffer over its bound; closing the connection"
            );
            self.close_conn(conn);
        }
    }

    fn close_conn(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.sink.send(OutMsg::Close);
        }
        self.disconnect(conn);
    }

    // ---- introspection for four-letter words and metrics --------------------------------

    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Milliseconds since the core started, by the wall clock of its last input.
    pub fn stats_uptime(&self) -> i64 {
        self.last_wall_ms - self.stats.started_wall_ms
    }

    pub fn outstanding_requests(&self) -> usize {
        self.queues.values().map(|q| q.len()).sum()
    }

    pub(crate) fn conn_infos(&self) -> Vec<stats::ConnInfo> {
        let mut v: Vec<stats::ConnInfo> = self
            .conns
            .iter()
            .map(|(id, c)| stats::ConnInfo {
                id: *id,
                peer: c.peer,
                session: c.session,
                timeout: self.sessions.get(c.session).map_or(0, |s| s.timeout_ms),
                queued: self.queues.get(&c.session).map_or(0, |q| q.len()),
                stats: c.stats.clone(),
            })
            .collect();
        v.sort_by_key(|c| c.id);
        v
    }

    pub(crate) fn reset_conn_stats(&mut self, now: Now) {
        for c in self.conns.values_mut() {
            c.stats = ConnStats::new(now);
        }
    }
}

fn is_write(r: &Request) -> bool {
    matches!(
        r,
        Request::Create(_)
            | Request::Create2(_)
            | Request::CreateContainer(_)
            | Request::CreateTtl(_)
            | Request::Delete(_)
            | Request::SetData(_)
            | Request::SetAcl(_)
            | Request::Multi(_)
            | Request::Reconfig(_)
            | Request::CloseSession
    )
}

/// The reply to a write, from what applying its txn did.
fn write_reply(opcode: i32, applied: &Applied) -> (i32, Response) {
    match applied {
        Applied::Error(e) if *e != 0 => (*e, Response::Empty),
        Applied::Created { path, stat, .. } => {
            if opcode == op::CREATE {
                (0, Response::Create(CreateResponse { path: path.clone() }))
            } else {
                (
                    0,
                    Response::Create2(Create2Response {
                        path: path.clone(),
                        stat: *stat,
                    }),
                )
            }
        }
        Applied::DataSet { stat } | Applied::AclSet { stat } => (0, Response::Stat(*stat)),
        Applied::Multi(results) => (
            0,
            Response::Multi(results.iter().map(multi_result).collect()),
        ),
        _ => (0, Response::Empty),
    }
}

fn multi_result(a: &Applied) -> MultiResult {
    match a {
        Applied::Created { op: o, path, stat } => {
            if *o == op::CREATE {
                MultiResult::Create { path: path.clone() }
            } else {
                MultiResult::Create2 {
                    path: path.clone(),
                    stat: *stat,
                }
            }
        }
        Applied::Deleted => MultiResult::Delete,
        Applied::DataSet { stat } => MultiResult::SetData { stat: *stat },
        Applied::Checked => MultiResult::Check,
        Applied::Error(e) => MultiResult::Error { err: *e },
        _ => MultiResult::Error {
            err: ErrorCode::RuntimeInconsistency.code(),
        },
    }
}

#[cfg(test)]
mod tests;
