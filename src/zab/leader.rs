//! The leader: discovery (a new epoch from a quorum), synchronization of each learner,
//! then broadcast (Java's `Leader` and `LearnerHandler`).

use super::interface::{EpochFile, Output, ProposeError};
use super::message::Message;
use super::node::Node;
use super::sync_plan::{self, SyncStart};
use super::zxid::{Epoch, Txn, Zxid};
use super::ServerId;
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet};

/// Where one learner is in its handshake. Learners at `Synced` or later receive the
/// broadcast stream (Java adds them to the forwarding set when their sync is queued).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Stage {
    /// FOLLOWERINFO received; the epoch is not chosen yet.
    AwaitEpoch,
    /// LEADERINFO sent.
    AwaitAckEpoch,
    /// ACKEPOCH received; waiting for a quorum of them before syncing.
    AwaitSync,
    /// Sync packets and NEWLEADER sent.
    Synced,
    /// NEWLEADER acknowledged; waiting for the epoch to be established.
    AwaitEstablished,
    /// UPTODATE sent.
    Broadcast,
}

struct Handler {
    observer: bool,
    stage: Stage,
    /// Ticks after which a silent learner is dropped.
    deadline: u64,
    peer_last: Zxid,
}

struct Proposal {
    txn: Txn,
    acks: BTreeSet<ServerId>,
}

/// Why a leader gives up.
pub(crate) enum Next {
    Stay,
    StepDown(&'static str),
}

pub(crate) struct Leader {
    /// The epoch being established, once a quorum sent FOLLOWERINFO.
    new_epoch: Option<Epoch>,
    proposed_epoch: Epoch,
    connecting: BTreeSet<ServerId>,
    electing: BTreeSet<ServerId>,
    epoch_acked: bool,
    newleader_acks: BTreeSet<ServerId>,
    established: bool,
    /// (currentEpoch, last zxid) at election: a learner more recent than this is refused.
    summary: (Epoch, Zxid),
    /// End of the current wait (epoch, ACKEPOCH quorum, NEWLEADER quorum).
    deadline: u64,
    learners: BTreeMap<ServerId, Handler>,
    outstanding: BTreeMap<Zxid, Proposal>,
    last_proposed: Zxid,
    next_ping: u64,
    tick_skip: bool,
    exhausted: bool,
}

impl Leader {
    pub fn start(node: &mut Node) -> Leader {
        let me = node.cfg.my_id;
        let mut l = Leader {
            new_epoch: None,
            proposed_epoch: node.accepted_epoch + 1,
            connecting: BTreeSet::from([me]),
            electing: BTreeSet::from([me]),
            epoch_acked: false,
            newleader_acks: BTreeSet::new(),
            established: false,
            summary: (node.current_epoch, node.last_logged),
            deadline: node.now + node.cfg.timing.init_limit,
            learners: BTreeMap::new(),
            outstanding: BTreeMap::new(),
            last_proposed: node.last_logged,
            next_ping: 0,
            tick_skip: false,
            exhausted: false,
        };
        l.advance(node);
        l
    }

    pub fn is_established(&self) -> bool {
        self.established
    }

    /// Moves through the phases whose quorum is complete.
    fn advance(&mut self, node: &mut Node) {
        let init = node.cfg.timing.init_limit;
        if self.new_epoch.is_none() && node.cfg.is_quorum(&self.connecting) {
            let e = self.proposed_epoch;
            self.new_epoch = Some(e);
            node.persist_epoch(EpochFile::Accepted, e);
            self.deadline = node.now + init;
            let waiting: Vec<ServerId> = self.in_stage(Stage::AwaitEpoch);
            for sid in waiting {
                self.send_leader_info(node, sid, e);
            }
        }
        let Some(e) = self.new_epoch else { return };
        if !self.epoch_acked && node.cfg.is_quorum(&self.electing) {
            self.epoch_acked = true;
            node.persist_epoch(EpochFile::Current, e);
            self.last_proposed = Zxid::new(e, 0);
            self.deadline = node.now + init;
            for sid in self.in_stage(Stage::AwaitSync) {
                self.sync_learner(node, sid);
            }
        }
        if self.epoch_acked && !self.established {
            let mut acked = self.newleader_acks.clone();
            // The leader counts once its own log is durable: it is part of the quorum
            // that holds the new epoch's initial history.
            if node.log_is_durable() {
                acked.insert(node.cfg.my_id);
            }
            if node.cfg.is_quorum(&acked) {
                self.established = true;
                node.vote.peer_epoch = e;
                node.out.push(Output::Established { epoch: e });
                for sid in self.in_stage(Stage::AwaitEstablished) {
                    self.up_to_date(node, sid);
                }
                self.next_ping = node.now;
            }
        }
    }

    fn in_stage(&self, stage: Stage) -> Vec<ServerId> {
        self.learners
            .iter()
            .filter(|(_, h)| h.stage == stage)
            .map(|(&sid, _)| sid)
            .collect()
    }

    fn send_leader_info(&mut self, node: &mut Node, sid: ServerId, e: Epoch) {
        if let Some(h) = self.learners.get_mut(&sid) {
            h.stage = Stage::AwaitAckEpoch;
            node.send(sid, Message::LeaderInfo { new_epoch: e });
        }
    }

    fn up_to_date(&mut self, node: &mut Node, sid: ServerId) {
        if let Some(h) = self.learners.get_mut(&sid) {
            h.stage = Stage::Broadcast;
            node.send(sid, Message::UpToDate);
        }
    }

    /// Java's `syncFollower` + `startForwarding`: the opening packet, committed txns,
    /// outstanding proposals (participants only), then NEWLEADER.
    fn sync_learner(&mut self, node: &mut Node, sid: ServerId) {
        let (Some(e), Some(h)) = (self.new_epoch, self.learners.get_mut(&sid)) else {
            return;
        };
        let plan = sync_plan::plan(h.peer_last, &node.history);
        h.stage = Stage::Synced;
        let observer = h.observer;
        match plan.start {
            SyncStart::Diff(zxid) => node.send(sid, Message::Diff { zxid }),
            SyncStart::Trunc(zxid) => node.send(sid, Message::Trunc { zxid }),
            SyncStart::Snap(zxid) => {
                node.send(sid, Message::Snap { zxid });
                node.out.push(Output::SendSnapshot { to: sid, zxid });
            }
        }
        for txn in plan.committed {
            let zxid = txn.zxid;
            node.send(sid, Message::Proposal(txn));
            node.send(sid, Message::Commit { zxid });
        }
        if !observer {
            for p in self.outstanding.range(plan.seen..).map(|(_, p)| p) {
                if p.txn.zxid > plan.seen {
                    node.send(sid, Message::Proposal(p.txn.clone()));
                }
            }
        }
        node.send(
            sid,
            Message::NewLeader {
                zxid: Zxid::new(e, 0),
            },
        );
    }

    fn drop_learner(&mut self, node: &mut Node, sid: ServerId) {
        if self.learners.remove(&sid).is_some() {
            node.out.push(Output::Disconnect { peer: sid });
        }
    }

    pub fn on_disconnected(&mut self, sid: ServerId) {
        self.learners.remove(&sid);
    }

    pub fn on_message(&mut self, node: &mut Node, from: ServerId, msg: Message) -> Next {
        let (init, sync) = (node.cfg.timing.init_limit, node.cfg.timing.sync_limit);
        match msg {
            Message::FollowerInfo { accepted_epoch } | Message::ObserverInfo { accepted_epoch } => {
                let observer = matches!(msg, Message::ObserverInfo { .. });
                let mut h = Handler {
                    observer,
                    stage: Stage::AwaitEpoch,
                    deadline: node.now + init + sync,
                    peer_last: Zxid::ZERO,
                };
                if self.new_epoch.is_none() {
                    if accepted_epoch >= self.proposed_epoch {
                        self.proposed_epoch = accepted_epoch.saturating_add(1);
                    }
                    if !observer && node.cfg.is_voter(from) {
                        self.connecting.insert(from);
                    }
                }
                if let Some(e) = self.new_epoch {
                    h.stage = Stage::AwaitAckEpoch;
                    node.send(from, Message::LeaderInfo { new_epoch: e });
                }
                self.learners.insert(from, h);
                self.advance(node);
                return Next::Stay;
            }
            Message::Notification(_) => return Next::Stay,
            _ => {}
        }
        let Some(h) = self.learners.get_mut(&from) else {
            // Not a learner of ours (a stale connection): close it.
            node.out.push(Output::Disconnect { peer: from });
            return Next::Stay;
        };
        h.deadline = node.now
            + if h.stage >= Stage::AwaitEstablished {
                sync
            } else {
                init + sync
            };
        let participant = !h.observer && node.cfg.is_voter(from);
        match msg {
            Message::AckEpoch {
                last_zxid,
                current_epoch,
            } if h.stage == Stage::AwaitAckEpoch => {
                h.peer_last = last_zxid;
                h.stage = Stage::AwaitSync;
                if let Some(ce) = current_epoch {
                    if !self.epoch_acked {
                        if (ce, last_zxid) > self.summary {
                            // Java: "Follower is ahead of the leader".
                            self.drop_learner(node, from);
                            return Next::Stay;
                        }
                        if participant {
                            self.electing.insert(from);
                        }
                    }
                }
                if self.epoch_acked {
                    self.sync_learner(node, from);
                }
                self.advance(node);
            }
            Message::Ack { zxid } if zxid.is_epoch_start() => {
                if h.stage == Stage::Synced && Some(zxid.epoch()) == self.new_epoch {
                    h.stage = Stage::AwaitEstablished;
                    if participant {
                        self.newleader_acks.insert(from);
                    }
                    if self.established {
                        self.up_to_date(node, from);
                    } else {
                        self.advance(node);
                    }
                }
                // Otherwise it acknowledges UPTODATE: nothing to do.
            }
            Message::Ack { zxid } => {
                if participant && h.stage >= Stage::Synced {
                    if let Some(p) = self.outstanding.get_mut(&zxid) {
                        p.acks.insert(from);
                        self.try_commit(node);
                    }
                }
            }
            Message::Ping { .. } => {}
            Message::Request { data } => {
                if h.stage == Stage::Broadcast {
                    // A refused forwarded write is dropped; the learner's client times out
                    // and retries, as with a Java leader that is shutting down.
                    let _ = self.propose(node, data);
                }
            }
            _ => {
                // Anything else is out of protocol for this learner's stage.
                self.drop_learner(node, from);
            }
        }
        if self.exhausted {
            return Next::StepDown("zxid counter exhausted");
        }
        Next::Stay
    }

    pub fn propose(&mut self, node: &mut Node, data: Bytes) -> Result<Zxid, ProposeError> {
        if !self.established {
            return Err(ProposeError::NotReady);
        }
        if self.exhausted || self.last_proposed.counter() == u32::MAX {
            // Java forces a new election when the counter would roll over.
            self.exhausted = true;
            return Err(ProposeError::EpochExhausted);
        }
        if self.outstanding.len() >= node.cfg.max_outstanding {
            return Err(ProposeError::Backpressure);
        }
        let zxid = Zxid(self.last_proposed.0 + 1);
        self.last_proposed = zxid;
        let txn = Txn { zxid, data };
        node.log(vec![txn.clone()]);
        for (&sid, h) in &self.learners {
            if !h.observer && h.stage >= Stage::Synced {
                node.out.push(Output::Send {
                    to: sid,
                    msg: Message::Proposal(txn.clone()),
                });
            }
        }
        self.outstanding.insert(
            zxid,
            Proposal {
                txn,
                acks: BTreeSet::new(),
            },
        );
        Ok(zxid)
    }

    /// Commits, strictly in zxid order, every proposal at the head that a quorum (the
    /// leader counted once its own log has it durable) acknowledged.
    fn try_commit(&mut self, node: &mut Node) {
        let me = node.cfg.my_id;
        let mut committed = Vec::new();
        while let Some(entry) = self.outstanding.first_entry() {
            let p = entry.get();
            let mut acks = p.acks.clone();
            if node.durable >= p.txn.zxid {
                acks.insert(me);
            }
            if !node.cfg.is_quorum(&acks) {
                break;
            }
            let txn = entry.remove().txn;
            for (&sid, h) in &self.learners {
                if h.stage < Stage::Synced {
                    continue;
                }
                let msg = if h.observer {
                    Message::Inform(txn.clone())
                } else {
                    Message::Commit { zxid: txn.zxid }
                };
                node.out.push(Output::Send { to: sid, msg });
            }
            committed.push(txn);
        }
        node.commit(committed);
    }

    pub fn on_persisted(&mut self, node: &mut Node) {
        if self.established {
            self.try_commit(node);
        } else {
            self.advance(node);
        }
    }

    pub fn tick(&mut self, node: &mut Node) -> Next {
        if self.exhausted {
            return Next::StepDown("zxid counter exhausted");
        }
        if !self.established && node.now >= self.deadline {
            return Next::StepDown(if self.new_epoch.is_none() {
                "timeout waiting for epoch from quorum"
            } else if !self.epoch_acked {
                "timeout waiting for epoch ack from quorum"
            } else {
                "timeout waiting for NEWLEADER acks from quorum"
            });
        }
        let expired: Vec<ServerId> = self
            .learners
            .iter()
            .filter(|(_, h)| h.deadline <= node.now)
            .map(|(&sid, _)| sid)
            .collect();
        for sid in expired {
            self.drop_learner(node, sid);
        }
        if self.established && node.now >= self.next_ping {
            self.next_ping = node.now + node.cfg.timing.ping_interval;
            for (&sid, h) in &self.learners {
                if h.stage >= Stage::Synced {
                    node.out.push(Output::Send {
                        to: sid,
                        msg: Message::Ping {
                            zxid: self.last_proposed,
                        },
                    });
                }
            }
            // Java checks the quorum on every other ping (once per tickTime).
            self.tick_skip = !self.tick_skip;
            if !self.tick_skip {
                let mut synced: BTreeSet<ServerId> = self
                    .learners
                    .iter()
                    .filter(|(_, h)| !h.observer)
                    .map(|(&sid, _)| sid)
                    .collect();
                synced.insert(node.cfg.my_id);
                if !node.cfg.is_quorum(&synced) {
                    return Next::StepDown("not sufficient followers synced");
                }
            }
        }
        Next::Stay
    }

    /// Leaving leadership: close every learner and load the uncommitted proposals, which
    /// are in our log.
    pub fn step_down(self, node: &mut Node) {
        for &sid in self.learners.keys() {
            node.out.push(Output::Disconnect { peer: sid });
        }
        let pending = self.outstanding.into_values().map(|p| p.txn).collect();
        node.fast_forward(pending);
    }
}
