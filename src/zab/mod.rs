//! The ZAB core: fast leader election, discovery, synchronization and broadcast as a pure
//! state machine, deciding what Java ZooKeeper's quorum code decides.
//!
//! [`Zab`] takes [`Input`]s (a message from a peer, a tick, "the log is durable up to
//! zxid", "the snapshot is installed") and client writes ([`Zab::propose`]), and leaves
//! [`Output`]s for the caller to drain with [`Zab::take_ready`]: messages to send, txns to
//! log, txns to apply, epochs to write, snapshots to send or install, role changes. It does
//! no I/O, reads no clock, spawns nothing and draws no randomness: the same inputs give the
//! same outputs, which is what lets `tests/zab_sim` replay any failing schedule from a seed.
//! The states and transitions are described in `docs/ARCHITECTURE.md` ("The ZAB core").

mod config;
mod election;
mod history;
mod interface;
mod leader;
mod learner;
mod message;
mod node;
mod sync_plan;
mod zxid;

pub use config::{Config, ConfigError, InjectedBugs, Recovered, Timing};
pub use interface::{EpochFile, Input, Output, ProposeError, Role};
pub use message::{Message, Notification, PeerState, NO_CANDIDATE};
pub use sync_plan::SyncStart;
pub use zxid::{Epoch, Txn, Zxid};

use bytes::Bytes;
use election::{Decision, Election, Vote};
use history::History;
use leader::Leader;
use learner::Learner;
use node::Node;

/// A server id (`myid`).
pub type ServerId = u64;

enum State {
    Looking(Election),
    Leading(Leader),
    Learning(Learner),
}

/// One server's ZAB state machine.
pub struct Zab {
    node: Node,
    state: State,
    left_because: Option<&'static str>,
}

impl Zab {
    /// Builds the core from the ensemble config and what the caller recovered from disk,
    /// and starts looking for a leader.
    pub fn new(cfg: Config, recovered: Recovered) -> Result<Zab, ConfigError> {
        cfg.validate()?;
        let Recovered {
            accepted_epoch,
            mut current_epoch,
            last_zxid,
            history_tail,
        } = recovered;
        if accepted_epoch < current_epoch {
            return Err(ConfigError::EpochsInverted {
                accepted: accepted_epoch,
                current: current_epoch,
            });
        }
        if last_zxid.epoch() > accepted_epoch {
            return Err(ConfigError::LogAheadOfEpoch {
                log: last_zxid.epoch(),
                accepted: accepted_epoch,
            });
        }
        // A crash between logging a new epoch's synced txns and writing currentEpoch leaves
        // the log ahead; Java adopts the epoch then (currentEpoch.tmp), and so do we.
        current_epoch = current_epoch.max(last_zxid.epoch());
        let ordered = history_tail.windows(2).all(|w| w[0].zxid < w[1].zxid);
        let ends_right = history_tail.last().is_none_or(|t| t.zxid == last_zxid);
        if !ordered || !ends_right {
            return Err(ConfigError::BadHistory);
        }
        let history = History::new(cfg.commit_log_count, last_zxid, history_tail);
        let mut node = Node {
            now: 0,
            accepted_epoch,
            current_epoch,
            last_logged: last_zxid,
            durable: last_zxid,
            history,
            vote: Vote {
                leader: cfg.my_id,
                zxid: last_zxid,
                peer_epoch: current_epoch,
            },
            vote_round: 0,
            out: Vec::new(),
            cfg,
        };
        let election = Self::new_election(&mut node, 0);
        Ok(Zab {
            node,
            state: State::Looking(election),
            left_because: None,
        })
    }

    fn new_election(node: &mut Node, previous_round: u64) -> Election {
        let initial = if node.cfg.is_voter(node.cfg.my_id) {
            Vote {
                leader: node.cfg.my_id,
                zxid: node.last_logged,
                peer_epoch: node.current_epoch,
            }
        } else {
            Vote {
                leader: NO_CANDIDATE,
                zxid: Zxid::ZERO,
                peer_epoch: 0,
            }
        };
        Election::start(&node.cfg, previous_round, initial, node.now, &mut node.out)
    }

    /// Everything the core asked for since the last call, in order.
    pub fn take_ready(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.node.out)
    }

    pub fn role(&self) -> Role {
        match &self.state {
            State::Looking(_) => Role::Looking,
            State::Leading(_) => Role::Leading,
            State::Learning(l) if self.node.cfg.is_observer() => {
                Role::Observing { leader: l.leader() }
            }
            State::Learning(l) => Role::Following { leader: l.leader() },
        }
    }

    /// True when this server serves clients: an established leader or an up-to-date learner.
    pub fn is_serving(&self) -> bool {
        match &self.state {
            State::Looking(_) => false,
            State::Leading(l) => l.is_established(),
            State::Learning(l) => l.is_serving(),
        }
    }

    pub fn accepted_epoch(&self) -> Epoch {
        self.node.accepted_epoch
    }

    pub fn current_epoch(&self) -> Epoch {
        self.node.current_epoch
    }

    /// The last zxid handed to the log.
    pub fn last_logged(&self) -> Zxid {
        self.node.last_logged
    }

    /// The last zxid applied (committed, or loaded from the log).
    pub fn last_applied(&self) -> Zxid {
        self.node.history.last()
    }

    /// Why this server last went back to LOOKING, for logs.
    pub fn left_because(&self) -> Option<&'static str> {
        self.left_because
    }

    /// A client write. The leader assigns it a zxid and proposes it (`Ok(Some(zxid))`); an
    /// up-to-date learner forwards it to the leader as REQUEST (`Ok(None)`).
    pub fn propose(&mut self, data: Bytes) -> Result<Option<Zxid>, ProposeError> {
        match &mut self.state {
            State::Looking(_) => Err(ProposeError::NotReady),
            State::Leading(l) => l.propose(&mut self.node, data).map(Some),
            State::Learning(l) => l.propose(&mut self.node, data).map(|()| None),
        }
    }

    /// Feeds one input. Malformed or out-of-protocol messages never panic: they close the
    /// connection they came on or send this server back to election, as Java does.
    pub fn step(&mut self, input: Input) {
        match input {
            Input::Tick => {
                self.node.now += 1;
                self.on_tick();
            }
            Input::Message { from, msg } => self.on_message(from, msg),
            Input::Persisted { up_to } => {
                self.node.persisted(up_to);
                match &mut self.state {
                    State::Leading(l) => l.on_persisted(&mut self.node),
                    State::Learning(l) => l.on_persisted(&mut self.node),
                    State::Looking(_) => {}
                }
            }
            Input::SnapshotApplied { zxid } => {
                if let State::Learning(l) = &mut self.state {
                    l.on_snapshot_applied(&mut self.node, zxid);
                }
            }
            Input::Disconnected { peer } => match &mut self.state {
                State::Leading(l) => l.on_disconnected(peer),
                State::Learning(l) if l.leader() == peer => {
                    if let learner::Next::Leave(why) = l.on_disconnected(&mut self.node) {
                        self.leave(why);
                    }
                }
                _ => {}
            },
        }
    }

    fn on_tick(&mut self) {
        match &mut self.state {
            State::Looking(e) => {
                if let Some(d) = e.tick(&self.node.cfg, self.node.now, &mut self.node.out) {
                    self.decided(d);
                }
            }
            State::Leading(l) => {
                if let leader::Next::StepDown(why) = l.tick(&mut self.node) {
                    self.leave(why);
                }
            }
            State::Learning(l) => {
                if let learner::Next::Leave(why) = l.tick(&mut self.node) {
                    self.leave(why);
                }
            }
        }
    }

    fn on_message(&mut self, from: ServerId, msg: Message) {
        if from == self.node.cfg.my_id {
            return;
        }
        if let Message::Notification(n) = &msg {
            match &mut self.state {
                State::Looking(e) => {
                    if let Some(d) = e.on_notification(
                        &self.node.cfg,
                        from,
                        n,
                        self.node.now,
                        &mut self.node.out,
                    ) {
                        self.decided(d);
                    }
                }
                // Java's receiver answers a LOOKING peer with the vote we follow.
                _ if n.state == PeerState::Looking => {
                    let state = match self.role() {
                        Role::Leading => PeerState::Leading,
                        Role::Following { .. } => PeerState::Following,
                        _ => PeerState::Observing,
                    };
                    self.node.answer_looking(from, state);
                }
                _ => {}
            }
            return;
        }
        match &mut self.state {
            State::Leading(l) => {
                if let leader::Next::StepDown(why) = l.on_message(&mut self.node, from, msg) {
                    self.leave(why);
                }
            }
            State::Learning(l) if l.leader() == from => {
                if let learner::Next::Leave(why) = l.on_message(&mut self.node, msg) {
                    self.leave(why);
                }
            }
            // Only a leader listens on the quorum port: refuse anyone else.
            _ => self.node.out.push(Output::Disconnect { peer: from }),
        }
    }

    fn decided(&mut self, d: Decision) {
        self.node.vote = d.vote;
        self.node.vote_round = d.election_epoch;
        self.node.out.push(Output::RoleChanged(d.role));
        self.state = match d.role {
            Role::Leading => State::Leading(Leader::start(&mut self.node)),
            Role::Following { leader } => {
                State::Learning(Learner::start(&mut self.node, leader, false))
            }
            Role::Observing { leader } => {
                State::Learning(Learner::start(&mut self.node, leader, true))
            }
            Role::Looking => return,
        };
    }

    /// Back to LOOKING, from any role.
    fn leave(&mut self, why: &'static str) {
        self.left_because = Some(why);
        let round = self.node.vote_round;
        let previous = std::mem::replace(&mut self.state, State::Looking(Election::placeholder()));
        let round = match previous {
            State::Leading(l) => {
                l.step_down(&mut self.node);
                round
            }
            State::Learning(l) => {
                l.leave(&mut self.node);
                round
            }
            State::Looking(e) => e.logical_clock,
        };
        self.node.out.push(Output::RoleChanged(Role::Looking));
        let election = Self::new_election(&mut self.node, round);
        self.state = State::Looking(election);
    }
}

#[cfg(test)]
mod tests;
