//! A follower or observer: discovery with its leader, synchronization, then broadcast
//! (Java's `Learner.registerWithLeader` / `syncWithLeader`, `Follower`, `Observer`).

use super::interface::{EpochFile, Output, ProposeError};
use super::message::Message;
use super::node::Node;
use super::zxid::{Epoch, Txn, Zxid};
use super::ServerId;
use bytes::Bytes;
use std::collections::VecDeque;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Stage {
    /// FOLLOWERINFO / OBSERVERINFO sent.
    AwaitLeaderInfo,
    /// ACKEPOCH sent; DIFF, TRUNC or SNAP comes next.
    AwaitSyncMode,
    /// Receiving the sync stream up to NEWLEADER.
    Syncing,
    /// NEWLEADER received; acknowledging it once the synced txns (and any snapshot) are
    /// durable.
    AwaitDurable,
    /// NEWLEADER acknowledged.
    AwaitUpToDate,
    Serving,
}

/// A txn received from the leader and not yet applied.
struct Entry {
    txn: Txn,
    logged: bool,
    committed: bool,
}

pub(crate) enum Next {
    Stay,
    Leave(&'static str),
}

pub(crate) struct Learner {
    leader: ServerId,
    observer: bool,
    stage: Stage,
    new_epoch: Epoch,
    deadline: u64,
    /// When to send FOLLOWERINFO / OBSERVERINFO again after a refused connection.
    retry_at: Option<u64>,
    snapshot_pending: Option<Zxid>,
    queue: VecDeque<Entry>,
    /// Logged proposals to acknowledge once durable (participants only).
    to_ack: VecDeque<Zxid>,
}

impl Learner {
    pub fn start(node: &mut Node, leader: ServerId, observer: bool) -> Learner {
        let l = Learner {
            leader,
            observer,
            stage: Stage::AwaitLeaderInfo,
            new_epoch: 0,
            deadline: node.now + node.cfg.timing.init_limit,
            retry_at: None,
            snapshot_pending: None,
            queue: VecDeque::new(),
            to_ack: VecDeque::new(),
        };
        l.introduce(node);
        l
    }

    fn introduce(&self, node: &mut Node) {
        let accepted_epoch = node.accepted_epoch;
        node.send(
            self.leader,
            if self.observer {
                Message::ObserverInfo { accepted_epoch }
            } else {
                Message::FollowerInfo { accepted_epoch }
            },
        );
    }

    /// The connection to the leader broke. Before LEADERINFO that is a refused connect
    /// (the leader may not have finished its own election yet): Java keeps trying until
    /// initLimit. Later it ends this learner.
    pub fn on_disconnected(&mut self, node: &mut Node) -> Next {
        if self.stage == Stage::AwaitLeaderInfo {
            self.retry_at = Some(node.now + node.cfg.timing.connect_retry);
            return Next::Stay;
        }
        Next::Leave("connection to leader lost")
    }

    pub fn leader(&self) -> ServerId {
        self.leader
    }

    pub fn is_serving(&self) -> bool {
        self.stage == Stage::Serving
    }

    /// The zxid the next txn from the leader must exceed.
    fn last_received(&self, node: &Node) -> Zxid {
        self.queue.back().map_or(node.last_logged, |e| e.txn.zxid)
    }

    fn enqueue(&mut self, node: &mut Node, txn: Txn, committed: bool) -> Next {
        if txn.zxid <= self.last_received(node) {
            return Next::Leave("txn from leader out of zxid order");
        }
        if self.queue.len() >= node.cfg.max_pending || self.to_ack.len() >= node.cfg.max_pending {
            // The leader outruns us (or our disk stopped reporting durability).
            return Next::Leave("too many txns pending from leader");
        }
        let logged = self.stage >= Stage::AwaitDurable;
        if logged {
            node.log(vec![txn.clone()]);
            if !self.observer && !committed {
                self.to_ack.push_back(txn.zxid);
            }
        }
        self.queue.push_back(Entry {
            txn,
            logged,
            committed,
        });
        self.flush_acks(node);
        Next::Stay
    }

    /// Logs every received txn not yet logged.
    fn log_queue(&mut self, node: &mut Node) {
        let mut batch = Vec::new();
        for e in self.queue.iter_mut().filter(|e| !e.logged) {
            e.logged = true;
            batch.push(e.txn.clone());
            if !self.observer && !e.committed {
                self.to_ack.push_back(e.txn.zxid);
            }
        }
        node.log(batch);
    }

    /// Applies the committed, logged head of the queue (only while serving).
    fn apply_ready(&mut self, node: &mut Node) {
        if self.stage != Stage::Serving {
            return;
        }
        let mut batch = Vec::new();
        while self.queue.front().is_some_and(|e| e.committed && e.logged) {
            if let Some(e) = self.queue.pop_front() {
                batch.push(e.txn);
            }
        }
        node.commit(batch);
    }

    /// Acknowledges durable proposals, once NEWLEADER has been acknowledged (Java's ACK
    /// for NEWLEADER precedes any proposal ACK).
    fn flush_acks(&mut self, node: &mut Node) {
        if self.stage < Stage::AwaitUpToDate {
            return;
        }
        while let Some(&zxid) = self.to_ack.front() {
            if zxid > node.durable {
                break;
            }
            self.to_ack.pop_front();
            node.send(self.leader, Message::Ack { zxid });
        }
    }

    /// NEWLEADER is acknowledged only once everything synced is durable (ZOOKEEPER-3911,
    /// -4785) and currentEpoch is written after the txns, not before (ZOOKEEPER-4643).
    fn try_ack_newleader(&mut self, node: &mut Node) {
        if self.stage != Stage::AwaitDurable || self.snapshot_pending.is_some() {
            return;
        }
        let bugs = &node.cfg.bugs;
        let skip_durability =
            bugs.ack_newleader_before_fsync || bugs.ack_newleader_before_logging_diff;
        if !skip_durability && !node.log_is_durable() {
            return;
        }
        node.persist_epoch(EpochFile::Current, self.new_epoch);
        node.send(
            self.leader,
            Message::Ack {
                zxid: Zxid::new(self.new_epoch, 0),
            },
        );
        self.stage = Stage::AwaitUpToDate;
        self.flush_acks(node);
    }

    pub fn on_message(&mut self, node: &mut Node, msg: Message) -> Next {
        let (init, sync) = (node.cfg.timing.init_limit, node.cfg.timing.sync_limit);
        self.deadline = node.now
            + if self.stage >= Stage::AwaitUpToDate {
                sync
            } else {
                init
            };
        match (self.stage, msg) {
            (Stage::AwaitLeaderInfo, Message::LeaderInfo { new_epoch }) => {
                self.new_epoch = new_epoch;
                let current = if new_epoch > node.accepted_epoch {
                    node.persist_epoch(EpochFile::Accepted, new_epoch);
                    Some(node.current_epoch)
                } else if new_epoch == node.accepted_epoch {
                    None
                } else {
                    return Next::Leave("leader proposed an epoch below our accepted epoch");
                };
                node.send(
                    self.leader,
                    Message::AckEpoch {
                        last_zxid: node.last_logged,
                        current_epoch: current,
                    },
                );
                self.stage = Stage::AwaitSyncMode;
            }
            (Stage::AwaitSyncMode, Message::Diff { .. }) => self.stage = Stage::Syncing,
            (Stage::AwaitSyncMode, Message::Trunc { zxid }) => {
                if zxid > node.last_logged {
                    return Next::Leave("TRUNC past the end of our log");
                }
                node.out.push(Output::Truncate { to: zxid });
                node.last_logged = zxid;
                node.durable = node.durable.min(zxid);
                node.history.truncate(zxid);
                self.stage = Stage::Syncing;
            }
            (Stage::AwaitSyncMode, Message::Snap { zxid }) => {
                node.out.push(Output::InstallSnapshot {
                    leader: self.leader,
                    zxid,
                });
                node.last_logged = zxid;
                node.durable = Zxid::ZERO;
                node.history.reset(zxid);
                self.snapshot_pending = Some(zxid);
                self.stage = Stage::Syncing;
            }
            (
                Stage::Syncing | Stage::AwaitDurable | Stage::AwaitUpToDate | Stage::Serving,
                Message::Proposal(txn),
            ) => {
                if self.observer && self.stage >= Stage::AwaitDurable {
                    return Next::Leave("observer got a PROPOSAL outside sync");
                }
                return self.enqueue(node, txn, false);
            }
            (
                Stage::Syncing | Stage::AwaitDurable | Stage::AwaitUpToDate | Stage::Serving,
                Message::Commit { zxid },
            ) => {
                match self.queue.iter_mut().find(|e| !e.committed) {
                    Some(e) if e.txn.zxid == zxid => e.committed = true,
                    _ => return Next::Leave("COMMIT for a zxid that is not the next pending"),
                }
                self.apply_ready(node);
            }
            (
                Stage::Syncing | Stage::AwaitDurable | Stage::AwaitUpToDate | Stage::Serving,
                Message::Inform(txn),
            ) if self.observer => {
                let next = self.enqueue(node, txn, true);
                self.apply_ready(node);
                return next;
            }
            (Stage::Syncing, Message::NewLeader { zxid }) => {
                if zxid != Zxid::new(self.new_epoch, 0) {
                    return Next::Leave("NEWLEADER for another epoch");
                }
                self.stage = Stage::AwaitDurable;
                if !node.cfg.bugs.ack_newleader_before_logging_diff {
                    self.log_queue(node);
                }
                self.try_ack_newleader(node);
            }
            (Stage::AwaitUpToDate, Message::UpToDate) => {
                self.log_queue(node);
                self.stage = Stage::Serving;
                let zxid = Zxid::new(self.new_epoch, 0);
                node.send(self.leader, Message::Ack { zxid });
                // Java's updateElectionVote: late joiners must see one epoch from all.
                node.vote.peer_epoch = self.new_epoch;
                node.out.push(Output::UpToDate {
                    epoch: self.new_epoch,
                    leader: self.leader,
                });
                self.flush_acks(node);
                self.apply_ready(node);
            }
            (_, Message::Ping { zxid }) => node.send(self.leader, Message::Ping { zxid }),
            (_, other) => {
                let _ = other;
                return Next::Leave("unexpected packet from leader");
            }
        }
        Next::Stay
    }

    pub fn on_persisted(&mut self, node: &mut Node) {
        self.try_ack_newleader(node);
        self.flush_acks(node);
    }

    pub fn on_snapshot_applied(&mut self, node: &mut Node, zxid: Zxid) {
        if self.snapshot_pending == Some(zxid) {
            self.snapshot_pending = None;
            node.durable = node.durable.max(zxid);
            self.try_ack_newleader(node);
        }
    }

    pub fn propose(&mut self, node: &mut Node, data: Bytes) -> Result<(), ProposeError> {
        if self.stage != Stage::Serving {
            return Err(ProposeError::NotReady);
        }
        node.send(self.leader, Message::Request { data });
        Ok(())
    }

    pub fn tick(&mut self, node: &mut Node) -> Next {
        if node.now >= self.deadline {
            return Next::Leave("leader silent past the limit");
        }
        if self.retry_at.is_some_and(|at| node.now >= at) {
            self.retry_at = None;
            self.introduce(node);
        }
        Next::Stay
    }

    /// Leaving: close the connection and load what we logged (Java's fastForwardDataBase);
    /// what was received but never handed to the log is dropped.
    pub fn leave(self, node: &mut Node) {
        node.out.push(Output::Disconnect { peer: self.leader });
        let logged = self
            .queue
            .into_iter()
            .filter(|e| e.logged)
            .map(|e| e.txn)
            .collect();
        node.fast_forward(logged);
    }
}
