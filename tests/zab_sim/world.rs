//! A deterministic world of zab cores: one seeded event queue drives ticks, message
//! deliveries, fsyncs, client writes and faults, and the checker runs on every output.
//!
//! Network model. Notifications travel on the election port like datagrams: each may be
//! lost, duplicated or delayed (and so reordered). Everything else travels on the quorum
//! connection between two servers, which is TCP: in order, never duplicated; "loss" there
//! breaks the connection, either with a reset both sides see or silently (a dead path that
//! only the cores' own timeouts detect). Data of a broken connection never arrives, and a
//! new connection's data arrives only after the other side learned the old one broke.
//! Partitions block directions (so they can be asymmetric); a blocked quorum connection
//! goes silent. Clock skew: every server ticks at its own period.

use crate::checker::{Checker, Violation};
use crate::disk::Disk;
use crate::rng::Rng;
use bytes::Bytes;
use paddock::zab::{
    Config, EpochFile, InjectedBugs, Input, Message, Output, Recovered, Role, ServerId, Timing,
    Txn, Zab, Zxid,
};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::rc::Rc;

/// One server's tick period is this many time units, ± skew.
const TICK: u64 = 10;
/// How many txns a server remembers for DIFF (small, so SNAP and TRUNC happen often).
const COMMIT_LOG: usize = 12;
const TRACE_LINES: usize = 20000;

pub fn timing() -> Timing {
    Timing {
        init_limit: 10,
        sync_limit: 5,
        ping_interval: 1,
        finalize_wait: 1,
        notification_min: 2,
        notification_max: 16,
        connect_retry: 1,
    }
}

/// Fault rates of the chaos phase.
#[derive(Clone, Debug)]
pub struct Faults {
    /// Per mille, per notification.
    pub loss: u64,
    pub duplicate: u64,
    /// Per mille, per quorum message: the connection breaks.
    pub conn_break: u64,
    /// Per mille, per message: a long delay.
    pub long_delay: u64,
    /// Mean time units between chaos actions (crash, restart, partition, heal).
    pub chaos_every: u64,
}

impl Faults {
    pub fn none() -> Faults {
        Faults {
            loss: 0,
            duplicate: 0,
            conn_break: 0,
            long_delay: 0,
            chaos_every: 0,
        }
    }
}

pub struct WorldConfig {
    pub seed: u64,
    pub voters: u64,
    pub observers: u64,
    pub faults: Faults,
    pub bugs: InjectedBugs,
    /// ZOOKEEPER-3642 reproduction: snapshots stay in memory until NEWLEADER.
    pub volatile_snapshots: bool,
    pub fsync_delay: (u64, u64),
    /// On a crash, a random part of the unsynced tail survives (else none of it).
    pub crash_keeps_some_tail: bool,
    pub skew: bool,
}

/// More events than this in one run is a storm (something answers itself for ever).
const EVENT_BUDGET: u64 = 2_000_000;

/// An event in the queue, ordered by time, then by when it was scheduled.
struct Queued {
    at: u64,
    seq: u64,
    ev: Event,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Clone, Debug)]
enum Event {
    /// A tick of one incarnation of a server (a restarted server starts a new chain).
    Tick(ServerId, u64),
    Deliver {
        from: ServerId,
        to: ServerId,
        msg: Message,
        snapshot: Option<Rc<Vec<Txn>>>,
        /// The quorum connection it belongs to; `None` on the election port.
        conn: Option<u64>,
    },
    /// `to` learns its quorum connection to `peer` broke (only if `to` is still the
    /// incarnation that had it).
    Broken {
        to: ServerId,
        peer: ServerId,
        incarnation: u64,
    },
    Fsync(ServerId, u64),
    ClientWrite,
    Chaos,
}

struct Link {
    conn: u64,
    /// Silently dead: everything sent on it is lost until someone closes it.
    dead: bool,
    /// Earliest delivery time per direction (index 0: low id → high id), keeping FIFO.
    next_at: [u64; 2],
}

/// What the test scripts can react to.
#[derive(Clone, Debug)]
pub enum Observed {
    Output(Output),
    Delivered(Message),
}

type Hook = Box<dyn FnMut(&mut World, ServerId, &Observed)>;

pub struct SimNode {
    pub id: ServerId,
    pub alive: bool,
    pub incarnation: u64,
    pub core: Option<Zab>,
    pub disk: Disk,
    pub applied: Vec<Txn>,
    pub serving: bool,
    period: u64,
    fsync_pending: bool,
    snapshot_in: Option<Rc<Vec<Txn>>>,
}

pub struct World {
    pub cfg: WorldConfig,
    pub rng: Rng,
    pub now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    pub nodes: BTreeMap<ServerId, SimNode>,
    links: BTreeMap<(ServerId, ServerId), Link>,
    blocked: BTreeSet<(ServerId, ServerId)>,
    pub checker: Checker,
    pub chaos: bool,
    next_write: u64,
    pub writes_every: u64,
    trace: VecDeque<String>,
    hooks: Vec<Hook>,
    pub violation: Option<Violation>,
    /// Trace every delivery too (replay with ZAB_TRACE=1).
    pub verbose: bool,
}

impl World {
    pub fn new(cfg: WorldConfig) -> World {
        let mut rng = Rng::new(cfg.seed);
        let voters: BTreeSet<ServerId> = (1..=cfg.voters).collect();
        let observers: BTreeSet<ServerId> = (cfg.voters + 1..=cfg.voters + cfg.observers).collect();
        let mut nodes = BTreeMap::new();
        for id in voters.iter().chain(observers.iter()) {
            let period = if cfg.skew {
                TICK - 3 + rng.range(0, 6)
            } else {
                TICK
            };
            nodes.insert(
                *id,
                SimNode {
                    id: *id,
                    alive: false,
                    incarnation: 0,
                    core: None,
                    disk: Disk::default(),
                    applied: Vec::new(),
                    serving: false,
                    period,
                    fsync_pending: false,
                    snapshot_in: None,
                },
            );
        }
        let mut w = World {
            cfg,
            rng,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            links: BTreeMap::new(),
            blocked: BTreeSet::new(),
            checker: Checker::default(),
            chaos: false,
            next_write: 1,
            writes_every: 25,
            trace: VecDeque::new(),
            hooks: Vec::new(),
            violation: None,
            verbose: std::env::var_os("ZAB_TRACE").is_some(),
        };
        let ids: Vec<ServerId> = w.nodes.keys().copied().collect();
        for id in ids {
            w.start(id);
        }
        w
    }

    fn config_for(&self, id: ServerId) -> Config {
        let mut c = Config::new(id, (1..=self.cfg.voters).collect(), timing());
        c.observers = (self.cfg.voters + 1..=self.cfg.voters + self.cfg.observers).collect();
        c.commit_log_count = COMMIT_LOG;
        c.max_outstanding = 64;
        c.max_pending = 256;
        c.bugs = self.cfg.bugs.clone();
        c
    }

    pub fn trace(&mut self, line: String) {
        if self.trace.len() == TRACE_LINES {
            self.trace.pop_front();
        }
        self.trace.push_back(format!("t={} {line}", self.now));
    }

    pub fn dump_trace(&self) -> String {
        self.trace.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    fn schedule(&mut self, at: u64, ev: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at,
            seq: self.seq,
            ev,
        }));
    }

    pub fn on(&mut self, hook: impl FnMut(&mut World, ServerId, &Observed) + 'static) {
        self.hooks.push(Box::new(hook));
    }

    fn observe(&mut self, id: ServerId, what: Observed) {
        if self.hooks.is_empty() {
            return;
        }
        let mut hooks = std::mem::take(&mut self.hooks);
        for h in hooks.iter_mut() {
            h(self, id, &what);
        }
        hooks.append(&mut self.hooks);
        self.hooks = hooks;
    }

    fn fail(&mut self, v: Violation) {
        if self.violation.is_none() {
            self.trace(format!("VIOLATION {v}"));
            self.violation = Some(v);
        }
    }

    // ---- servers -------------------------------------------------------------------

    /// Starts (or restarts) a server from its durable state only.
    pub fn start(&mut self, id: ServerId) {
        let cfg = self.config_for(id);
        let n = self.nodes.get_mut(&id).unwrap();
        if n.alive {
            return;
        }
        let tail_from = n.disk.durable.len().saturating_sub(COMMIT_LOG);
        let recovered = Recovered {
            accepted_epoch: n.disk.accepted_epoch,
            current_epoch: n.disk.current_epoch,
            last_zxid: n.disk.durable.last().map_or(Zxid::ZERO, |t| t.zxid),
            history_tail: n.disk.durable[tail_from..].to_vec(),
        };
        n.disk.view = n.disk.durable.clone();
        // Java loads snapshot + whole log at start.
        n.applied = n.disk.durable.clone();
        n.serving = false;
        n.incarnation += 1;
        n.fsync_pending = false;
        n.snapshot_in = None;
        match Zab::new(cfg, recovered) {
            Ok(core) => {
                n.core = Some(core);
                n.alive = true;
            }
            Err(e) => {
                self.fail(format!("server {id} cannot restart from its disk: {e}"));
                return;
            }
        }
        let first = self.now + self.rng.range(1, TICK);
        let incarnation = self.nodes[&id].incarnation;
        self.schedule(first, Event::Tick(id, incarnation));
        self.trace(format!("start {id}"));
        self.drain(id);
    }

    pub fn crash(&mut self, id: ServerId) {
        let keep = if self.cfg.crash_keeps_some_tail {
            self.rng.range(0, 4) as usize
        } else {
            0
        };
        let n = self.nodes.get_mut(&id).unwrap();
        if !n.alive {
            return;
        }
        n.alive = false;
        n.core = None;
        n.serving = false;
        n.disk.crash(keep);
        self.trace(format!("crash {id} (kept {keep} unsynced)"));
        let peers: Vec<ServerId> = self.nodes.keys().copied().filter(|&p| p != id).collect();
        for p in peers {
            // The kernel resets the crashed process's connections, or the path just dies.
            let notify = self.rng.chance(500);
            self.break_link(id, p, notify, false);
        }
    }

    fn step(&mut self, id: ServerId, input: Input) {
        let Some(core) = self.nodes.get_mut(&id).and_then(|n| n.core.as_mut()) else {
            return;
        };
        core.step(input);
        self.drain(id);
    }

    /// Acts on everything the core asked for, in order.
    fn drain(&mut self, id: ServerId) {
        loop {
            let Some(core) = self.nodes.get_mut(&id).and_then(|n| n.core.as_mut()) else {
                return;
            };
            let outs = core.take_ready();
            if outs.is_empty() {
                return;
            }
            let mut follow_ups = Vec::new();
            for o in outs {
                if self.nodes[&id].core.is_none() {
                    return; // a hook crashed it
                }
                self.act(id, o.clone(), &mut follow_ups);
                self.observe(id, Observed::Output(o));
            }
            for input in follow_ups {
                if let Some(core) = self.nodes.get_mut(&id).and_then(|n| n.core.as_mut()) {
                    core.step(input);
                }
            }
        }
    }

    fn act(&mut self, id: ServerId, o: Output, follow_ups: &mut Vec<Input>) {
        match o {
            Output::Send { to, msg } => self.send(id, to, msg),
            Output::Disconnect { peer } => {
                if self.verbose {
                    self.trace(format!("{id} closes its connection to {peer}"));
                }
                self.break_link(id, peer, true, true)
            }
            Output::Persist(txns) => {
                let n = self.nodes.get_mut(&id).unwrap();
                n.disk.append(&txns);
                let check = self.checker.check_log(&self.nodes[&id].disk.view, id);
                if let Err(v) = check {
                    self.fail(v);
                }
                if !self.nodes[&id].fsync_pending {
                    self.nodes.get_mut(&id).unwrap().fsync_pending = true;
                    let (lo, hi) = self.cfg.fsync_delay;
                    let at = self.now + self.rng.range(lo, hi);
                    let inc = self.nodes[&id].incarnation;
                    self.schedule(at, Event::Fsync(id, inc));
                }
            }
            Output::Truncate { to } => {
                let n = self.nodes.get_mut(&id).unwrap();
                n.disk.truncate(to);
                n.applied.retain(|t| t.zxid <= to);
                self.trace(format!("{id} truncates to {to}"));
            }
            Output::PersistEpoch { file, epoch } => {
                let n = self.nodes.get_mut(&id).unwrap();
                match file {
                    EpochFile::Accepted => n.disk.accepted_epoch = epoch,
                    EpochFile::Current => {
                        n.disk.current_epoch = epoch;
                        n.disk.write_volatile_snapshot();
                    }
                }
            }
            Output::Commit(txns) => {
                if !self.nodes[&id].serving {
                    self.fail(format!("server {id} committed while not serving"));
                }
                let r = self.checker.committed(&self.nodes[&id].applied, &txns, id);
                if let Err(v) = r {
                    self.fail(v);
                }
                self.nodes.get_mut(&id).unwrap().applied.extend(txns);
            }
            Output::FastForward(txns) => {
                let n = self.nodes.get_mut(&id).unwrap();
                n.applied.extend(txns);
                if !n.applied.windows(2).all(|w| w[0].zxid < w[1].zxid) {
                    self.fail(format!(
                        "zxid order: server {id} fast-forwarded out of order"
                    ));
                }
            }
            Output::SendSnapshot { zxid, .. } => {
                let last = self.nodes[&id]
                    .applied
                    .last()
                    .map_or(Zxid::ZERO, |t| t.zxid);
                if last != zxid {
                    self.fail(format!(
                        "leader {id} sends a snapshot at {zxid} but its state is at {last}"
                    ));
                }
            }
            Output::InstallSnapshot { zxid, .. } => {
                let volatile = self.cfg.volatile_snapshots;
                let n = self.nodes.get_mut(&id).unwrap();
                let Some(snap) = n.snapshot_in.take() else {
                    self.fail(format!(
                        "server {id} asked to install a snapshot it never received"
                    ));
                    return;
                };
                n.applied = snap.to_vec();
                n.disk.install_snapshot(snap.to_vec(), volatile);
                if snap.last().map_or(Zxid::ZERO, |t| t.zxid) != zxid {
                    self.fail(format!("server {id}: snapshot does not end at {zxid}"));
                }
                self.trace(format!(
                    "{id} installs snapshot at {zxid} ({} txns)",
                    snap.len()
                ));
                follow_ups.push(Input::SnapshotApplied { zxid });
            }
            Output::RoleChanged(role) => {
                let n = self.nodes.get_mut(&id).unwrap();
                let why = n.core.as_ref().and_then(|c| c.left_because());
                if role == Role::Looking {
                    n.serving = false;
                    n.disk.write_snapshot_at_newleader = false;
                    self.trace(format!("{id} is Looking ({})", why.unwrap_or("?")));
                } else {
                    self.trace(format!("{id} is {role:?}"));
                }
            }
            Output::Established { epoch } => {
                let applied = self.nodes[&id].applied.clone();
                self.trace(format!(
                    "{id} established epoch {epoch} with {} txns",
                    applied.len()
                ));
                let mut r = self.checker.established(epoch, id, &applied);
                if r.is_ok() && applied != self.nodes[&id].disk.view {
                    r = Err(format!("leader {id}'s applied state differs from its log"));
                }
                if let Err(v) = r {
                    self.fail(v);
                }
                self.nodes.get_mut(&id).unwrap().serving = true;
            }
            Output::UpToDate { epoch, leader } => {
                self.trace(format!("{id} up to date in epoch {epoch} under {leader}"));
                if let Err(v) = self.checker.up_to_date(id, &self.nodes[&id].applied) {
                    self.fail(v);
                }
                self.nodes.get_mut(&id).unwrap().serving = true;
            }
        }
    }

    // ---- network -------------------------------------------------------------------

    fn link_key(a: ServerId, b: ServerId) -> ((ServerId, ServerId), usize) {
        if a < b {
            ((a, b), 0)
        } else {
            ((b, a), 1)
        }
    }

    fn delay(&mut self) -> u64 {
        if self.chaos && self.rng.chance(self.cfg.faults.long_delay) {
            self.rng.range(20, 80)
        } else {
            self.rng.range(1, 8)
        }
    }

    fn send(&mut self, from: ServerId, to: ServerId, msg: Message) {
        let snapshot = if matches!(msg, Message::Snap { .. }) {
            Some(Rc::new(self.nodes[&from].applied.clone()))
        } else {
            None
        };
        let blocked = self.blocked.contains(&(from, to));
        if msg.is_election() {
            let f = &self.cfg.faults;
            let (loss, dup) = (f.loss, f.duplicate);
            if blocked || (self.chaos && self.rng.chance(loss)) {
                return;
            }
            let copies = if self.chaos && self.rng.chance(dup) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let at = self.now + self.delay();
                self.schedule(
                    at,
                    Event::Deliver {
                        from,
                        to,
                        msg: msg.clone(),
                        snapshot: None,
                        conn: None,
                    },
                );
            }
            return;
        }
        let breaks = self.chaos && self.rng.chance(self.cfg.faults.conn_break);
        if blocked || breaks {
            if breaks && self.rng.chance(500) {
                self.break_link(from, to, true, false);
            } else {
                let (key, _) = Self::link_key(from, to);
                self.link(key).dead = true;
            }
            return;
        }
        let (key, dir) = Self::link_key(from, to);
        let delay = self.delay();
        let now = self.now;
        let link = self.link(key);
        if link.dead {
            return;
        }
        let at = (now + delay).max(link.next_at[dir]);
        link.next_at[dir] = at;
        let conn = Some(link.conn);
        self.schedule(
            at,
            Event::Deliver {
                from,
                to,
                msg,
                snapshot,
                conn,
            },
        );
    }

    fn link(&mut self, key: (ServerId, ServerId)) -> &mut Link {
        self.links.entry(key).or_insert(Link {
            conn: 0,
            dead: false,
            next_at: [0, 0],
        })
    }

    /// Ends the quorum connection between `a` and `b`. With `notify`, the other side(s)
    /// learn it; a new connection's data arrives only after that.
    fn break_link(&mut self, a: ServerId, b: ServerId, notify: bool, initiator_knows: bool) {
        let (key, _) = Self::link_key(a, b);
        let at = self.now + self.rng.range(1, 8);
        let link = self.link(key);
        link.conn += 1;
        link.dead = false;
        if notify {
            link.next_at = [link.next_at[0].max(at + 1), link.next_at[1].max(at + 1)];
            let targets: &[(ServerId, ServerId)] = if initiator_knows {
                &[(b, a)]
            } else {
                &[(a, b), (b, a)]
            };
            for &(to, peer) in targets {
                if let Some(n) = self.nodes.get(&to).filter(|n| n.alive) {
                    let incarnation = n.incarnation;
                    self.schedule(
                        at,
                        Event::Broken {
                            to,
                            peer,
                            incarnation,
                        },
                    );
                }
            }
        }
    }

    pub fn partition(&mut self, from: ServerId, to: ServerId) {
        self.blocked.insert((from, to));
        self.trace(format!("block {from} -> {to}"));
    }

    pub fn isolate(&mut self, id: ServerId) {
        let others: Vec<ServerId> = self.nodes.keys().copied().filter(|&p| p != id).collect();
        for p in others {
            self.partition(id, p);
            self.partition(p, id);
        }
    }

    pub fn heal(&mut self) {
        self.blocked.clear();
        self.trace("heal".into());
    }

    // ---- client --------------------------------------------------------------------

    /// Submits one write through server `id`; true if it took it.
    pub fn write(&mut self, id: ServerId) -> bool {
        let wid = self.next_write;
        let Some(core) = self.nodes.get_mut(&id).and_then(|n| n.core.as_mut()) else {
            return false;
        };
        let data = Bytes::copy_from_slice(&wid.to_be_bytes());
        if core.propose(data).is_err() {
            return false;
        }
        self.next_write += 1;
        self.checker.submitted(wid);
        self.trace(format!("write {wid} via {id}"));
        self.drain(id);
        true
    }

    pub fn last_write_id(&self) -> u64 {
        self.next_write - 1
    }

    // ---- the loop ------------------------------------------------------------------

    pub fn start_load(&mut self) {
        let at = self.now + self.writes_every;
        self.schedule(at, Event::ClientWrite);
        if self.cfg.faults.chaos_every > 0 {
            let at = self.now + self.rng.range(1, 2 * self.cfg.faults.chaos_every);
            self.schedule(at, Event::Chaos);
        }
    }

    /// Runs events until `until` (time) or a violation.
    pub fn run_until(&mut self, until: u64) {
        self.run_while(until, |_| true);
    }

    /// Runs until `until`, or until `keep_going` says stop; returns true if it stopped early.
    pub fn run_while(&mut self, until: u64, mut keep_going: impl FnMut(&World) -> bool) -> bool {
        while self.violation.is_none() {
            if !keep_going(self) {
                return true;
            }
            let Some(Reverse(next)) = self.queue.peek() else {
                return false;
            };
            if next.at > until {
                self.now = until;
                return false;
            }
            if self.seq > EVENT_BUDGET {
                self.fail(format!(
                    "storm: more than {EVENT_BUDGET} events by t={}",
                    self.now
                ));
                return true;
            }
            let Some(Reverse(Queued { at, ev, .. })) = self.queue.pop() else {
                return false;
            };
            self.now = at;
            self.handle(ev);
        }
        true
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Tick(id, incarnation) => {
                let n = &self.nodes[&id];
                if !n.alive || n.incarnation != incarnation {
                    return;
                }
                let at = self.now + n.period;
                self.schedule(at, Event::Tick(id, incarnation));
                self.step(id, Input::Tick);
            }
            Event::Deliver {
                from,
                to,
                msg,
                snapshot,
                conn,
            } => {
                if !self.nodes[&to].alive || self.blocked.contains(&(from, to)) {
                    if conn.is_some() {
                        let (key, _) = Self::link_key(from, to);
                        self.link(key).dead = true;
                    }
                    return;
                }
                if let Some(c) = conn {
                    let (key, _) = Self::link_key(from, to);
                    let link = self.link(key);
                    if link.conn != c || link.dead {
                        return;
                    }
                }
                if snapshot.is_some() {
                    self.nodes.get_mut(&to).unwrap().snapshot_in = snapshot;
                }
                if self.verbose {
                    self.trace(format!("{from} -> {to} {msg:?}"));
                }
                let observed = Observed::Delivered(msg.clone());
                self.step(to, Input::Message { from, msg });
                self.observe(to, observed);
            }
            Event::Broken {
                to,
                peer,
                incarnation,
            } => {
                let n = &self.nodes[&to];
                if n.alive && n.incarnation == incarnation {
                    if self.verbose {
                        self.trace(format!("{to} sees its connection to {peer} break"));
                    }
                    self.step(to, Input::Disconnected { peer });
                }
            }
            Event::Fsync(id, incarnation) => {
                let n = self.nodes.get_mut(&id).unwrap();
                if !n.alive || n.incarnation != incarnation {
                    return;
                }
                n.fsync_pending = false;
                n.disk.fsync();
                let up_to = n.disk.last();
                self.step(id, Input::Persisted { up_to });
            }
            Event::ClientWrite => {
                let at = self.now + self.rng.range(1, 2 * self.writes_every);
                self.schedule(at, Event::ClientWrite);
                let alive: Vec<ServerId> = self
                    .nodes
                    .values()
                    .filter(|n| n.alive)
                    .map(|n| n.id)
                    .collect();
                if !alive.is_empty() {
                    let id = self.rng.pick(&alive);
                    self.write(id);
                }
            }
            Event::Chaos => {
                if !self.chaos {
                    return;
                }
                let at = self.now + self.rng.range(1, 2 * self.cfg.faults.chaos_every);
                self.schedule(at, Event::Chaos);
                self.chaos_action();
            }
        }
    }

    fn chaos_action(&mut self) {
        let ids: Vec<ServerId> = self.nodes.keys().copied().collect();
        let down: Vec<ServerId> = self
            .nodes
            .values()
            .filter(|n| !n.alive)
            .map(|n| n.id)
            .collect();
        match self.rng.range(0, 10) {
            0 | 1 => {
                // Keep a majority of voters up most of the time, but not always.
                let max_down = if self.rng.chance(200) {
                    ids.len()
                } else {
                    (self.cfg.voters as usize - 1) / 2
                };
                if down.len() < max_down {
                    let id = self.rng.pick(&ids);
                    self.crash(id);
                }
            }
            2 | 3 => {
                if !down.is_empty() {
                    let id = self.rng.pick(&down);
                    self.start(id);
                }
            }
            4 => {
                // A symmetric split.
                let mut side = BTreeSet::new();
                for &id in &ids {
                    if self.rng.chance(500) {
                        side.insert(id);
                    }
                }
                for &a in &ids {
                    for &b in &ids {
                        if side.contains(&a) != side.contains(&b) {
                            self.blocked.insert((a, b));
                        }
                    }
                }
                self.trace(format!("partition {side:?} from the rest"));
            }
            5 | 6 => {
                let a = self.rng.pick(&ids);
                let b = self.rng.pick(&ids);
                if a != b {
                    self.partition(a, b);
                }
            }
            7 => {
                let id = self.rng.pick(&ids);
                self.isolate(id);
            }
            8 => {
                // Power loss: a majority of the voters at once, unsynced tails and all.
                let mut voters: Vec<ServerId> = (1..=self.cfg.voters).collect();
                let majority = self.cfg.voters as usize / 2 + 1;
                while voters.len() > majority {
                    let i = self.rng.range(0, voters.len() as u64 - 1) as usize;
                    voters.remove(i);
                }
                self.trace(format!("power loss on {voters:?}"));
                for id in voters {
                    self.crash(id);
                }
            }
            _ => self.heal(),
        }
    }

    /// Stops every fault: heal, restart everything, no more loss or chaos.
    pub fn calm(&mut self) {
        self.chaos = false;
        self.heal();
        let down: Vec<ServerId> = self
            .nodes
            .values()
            .filter(|n| !n.alive)
            .map(|n| n.id)
            .collect();
        for id in down {
            self.start(id);
        }
    }

    // ---- queries -------------------------------------------------------------------

    pub fn established_leader(&self) -> Option<ServerId> {
        self.nodes
            .values()
            .find(|n| n.serving && n.core.as_ref().is_some_and(|c| c.role() == Role::Leading))
            .map(|n| n.id)
    }

    /// Every server serves in the same epoch under one leader, except servers that
    /// promised a later epoch (acceptedEpoch above the leader's) to a leader that never
    /// established it: they must refuse this leader until the next election, as in Java.
    /// A quorum of voters must serve in any case.
    pub fn all_serving(&self) -> bool {
        let Some(l) = self.established_leader() else {
            return false;
        };
        let Some(epoch) = self.nodes[&l].core.as_ref().map(|c| c.current_epoch()) else {
            return false;
        };
        let serving = |n: &SimNode| {
            n.alive
                && n.serving
                && n.core.as_ref().is_some_and(|c| {
                    c.current_epoch() == epoch
                        && match c.role() {
                            Role::Leading => n.id == l,
                            Role::Following { leader } | Role::Observing { leader } => leader == l,
                            Role::Looking => false,
                        }
                })
        };
        let voters_serving = self
            .nodes
            .values()
            .filter(|n| n.id <= self.cfg.voters && serving(n))
            .count() as u64;
        voters_serving * 2 > self.cfg.voters
            && self
                .nodes
                .values()
                .all(|n| serving(n) || self.promised_later(n.id, epoch))
    }

    /// The server is up and refuses the leader's epoch because it accepted a later one.
    pub fn promised_later(&self, id: ServerId, epoch: u32) -> bool {
        let n = &self.nodes[&id];
        n.alive && n.core.as_ref().is_some_and(|c| c.accepted_epoch() > epoch)
    }

    /// The servers that serve.
    pub fn serving_ids(&self) -> Vec<ServerId> {
        self.nodes
            .values()
            .filter(|n| n.serving)
            .map(|n| n.id)
            .collect()
    }

    fn has_applied(n: &SimNode, wid: u64) -> bool {
        n.applied
            .iter()
            .any(|t| crate::checker::write_id(t) == Some(wid))
    }

    pub fn applied_everywhere(&self, wid: u64) -> bool {
        self.nodes.values().all(|n| Self::has_applied(n, wid))
    }

    /// Applied by every server that serves.
    pub fn applied_by_serving(&self, wid: u64) -> bool {
        self.nodes
            .values()
            .filter(|n| n.serving)
            .all(|n| Self::has_applied(n, wid))
    }
}
