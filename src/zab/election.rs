//! Fast leader election (Java's `FastLeaderElection.lookForLeader`), one round at a time.
//!
//! The round is driven by notifications and ticks; it ends with a [`Decision`]. Java's
//! blocking poll becomes two deadlines: the re-send timer and the finalize wait (once a
//! quorum agrees, wait for a better vote before deciding).
//!
//! One timing difference: Java re-sends its vote only after a poll interval in which
//! nothing arrived, and counts on its election connections to re-send the last message
//! whenever they reconnect. The core cannot see connections, so it re-sends on every
//! interval (still doubling up to the maximum) whether or not something arrived; otherwise
//! a peer that keeps hearing a worse vote would never repeat a better one that was lost.

use super::config::Config;
use super::interface::{Output, Role};
use super::message::{Message, Notification, PeerState, NO_CANDIDATE};
use super::zxid::{Epoch, Zxid};
use super::ServerId;
use std::collections::{BTreeMap, BTreeSet};

/// A vote: who should lead, and the history that candidate has.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Vote {
    pub leader: ServerId,
    pub zxid: Zxid,
    pub peer_epoch: Epoch,
}

impl Vote {
    /// Java's `totalOrderPredicate`: does `self` beat `current`? Only voters can win;
    /// a non-voter's placeholder proposal loses to any voter.
    fn beats(&self, current: &Vote, cfg: &Config) -> bool {
        if !cfg.is_voter(self.leader) {
            return false;
        }
        if current.leader == NO_CANDIDATE {
            return true;
        }
        (self.peer_epoch, self.zxid, self.leader)
            > (current.peer_epoch, current.zxid, current.leader)
    }
}

/// A vote as received, with the round and state it was sent in.
#[derive(Clone, Copy, Debug)]
struct Received {
    vote: Vote,
    election_epoch: u64,
    state: PeerState,
}

impl Received {
    /// Java's `Vote.equals`: full comparison if either side is LOOKING, else only the
    /// leader and its epoch (votes of servers out of election may differ in the rest).
    fn same(&self, other: &Received) -> bool {
        if self.state == PeerState::Looking || other.state == PeerState::Looking {
            self.vote == other.vote && self.election_epoch == other.election_epoch
        } else {
            self.vote.leader == other.vote.leader && self.vote.peer_epoch == other.vote.peer_epoch
        }
    }
}

/// How a round ended.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decision {
    pub vote: Vote,
    pub election_epoch: u64,
    pub role: Role,
}

pub(crate) struct Election {
    pub logical_clock: u64,
    proposal: Vote,
    initial: Vote,
    recv: BTreeMap<ServerId, Received>,
    out_of_election: BTreeMap<ServerId, Received>,
    finalize_at: Option<u64>,
    resend_at: u64,
    interval: u64,
}

impl Election {
    /// Starts round `previous + 1`, proposing `initial` to every voter.
    pub fn start(
        cfg: &Config,
        previous: u64,
        initial: Vote,
        now: u64,
        out: &mut Vec<Output>,
    ) -> Election {
        let mut e = Election {
            logical_clock: previous + 1,
            proposal: initial,
            initial,
            recv: BTreeMap::new(),
            out_of_election: BTreeMap::new(),
            finalize_at: None,
            resend_at: now + cfg.timing.notification_min,
            interval: cfg.timing.notification_min,
        };
        e.broadcast(cfg, out);
        // An ensemble of one agrees with itself at once.
        if cfg.is_quorum(&e.recv.keys().copied().collect()) {
            e.finalize_at = Some(now + cfg.timing.finalize_wait);
        }
        e
    }

    /// A round that holds nothing, for the instant between leaving a role and starting
    /// the next round.
    pub fn placeholder() -> Election {
        let none = Vote {
            leader: NO_CANDIDATE,
            zxid: Zxid::ZERO,
            peer_epoch: 0,
        };
        Election {
            logical_clock: 0,
            proposal: none,
            initial: none,
            recv: BTreeMap::new(),
            out_of_election: BTreeMap::new(),
            finalize_at: None,
            resend_at: u64::MAX,
            interval: 1,
        }
    }

    fn notification(&self, cfg: &Config) -> Notification {
        Notification {
            state: PeerState::Looking,
            leader: self.proposal.leader,
            zxid: self.proposal.zxid,
            election_epoch: self.logical_clock,
            peer_epoch: self.proposal.peer_epoch,
            config_version: cfg.config_version,
        }
    }

    /// Sends the proposal to every voter; our own copy is recorded directly (Java loops it
    /// back through its own queue).
    fn broadcast(&mut self, cfg: &Config, out: &mut Vec<Output>) {
        let n = self.notification(cfg);
        for &to in &cfg.voters {
            if to == cfg.my_id {
                self.recv.insert(
                    to,
                    Received {
                        vote: self.proposal,
                        election_epoch: self.logical_clock,
                        state: PeerState::Looking,
                    },
                );
            } else {
                out.push(Output::Send {
                    to,
                    msg: Message::Notification(n),
                });
            }
        }
    }

    fn quorum_for(
        &self,
        cfg: &Config,
        votes: &BTreeMap<ServerId, Received>,
        target: &Received,
    ) -> bool {
        let agreeing: BTreeSet<ServerId> = votes
            .iter()
            .filter(|(_, r)| r.same(target))
            .map(|(&sid, _)| sid)
            .collect();
        cfg.is_quorum(&agreeing)
    }

    /// Java's `checkLeader`: a vote for another server only counts once that server says
    /// it leads; a vote for us only if it is from our round.
    fn check_leader(
        &self,
        cfg: &Config,
        votes: &BTreeMap<ServerId, Received>,
        leader: ServerId,
        ee: u64,
    ) -> bool {
        if leader != cfg.my_id {
            votes
                .get(&leader)
                .is_some_and(|r| r.state == PeerState::Leading)
        } else {
            self.logical_clock == ee
        }
    }

    fn decide(&self, cfg: &Config, vote: Vote, election_epoch: u64) -> Decision {
        let role = if vote.leader == cfg.my_id {
            Role::Leading
        } else if cfg.is_observer() {
            Role::Observing {
                leader: vote.leader,
            }
        } else {
            Role::Following {
                leader: vote.leader,
            }
        };
        Decision {
            vote,
            election_epoch,
            role,
        }
    }

    pub fn on_notification(
        &mut self,
        cfg: &Config,
        from: ServerId,
        n: &Notification,
        now: u64,
        out: &mut Vec<Output>,
    ) -> Option<Decision> {
        // Java's receiver thread answers before the election loop sees anything: a
        // non-voter, and a voter still in an older round. Two cuts against answer loops
        // (which message duplication turns into storms): only a LOOKING non-voter is
        // answered (an OBSERVING one is itself answering us), and a non-voter never answers
        // an older round (voters ignore its votes anyway).
        let lagging = n.state == PeerState::Looking && n.election_epoch < self.logical_clock;
        let asking_observer = !cfg.is_voter(from) && n.state == PeerState::Looking;
        if asking_observer || (lagging && cfg.is_voter(from) && cfg.is_voter(cfg.my_id)) {
            out.push(Output::Send {
                to: from,
                msg: Message::Notification(self.notification(cfg)),
            });
        }
        if !cfg.is_voter(from) || !cfg.is_voter(n.leader) {
            return None;
        }
        let vote = Vote {
            leader: n.leader,
            zxid: n.zxid,
            peer_epoch: n.peer_epoch,
        };
        if self.finalize_at.is_some() {
            // Inside the finalize wait only a better vote matters; the rest is dropped.
            if !vote.beats(&self.proposal, cfg) {
                return None;
            }
            self.finalize_at = None;
        }
        let received = Received {
            vote,
            election_epoch: n.election_epoch,
            state: n.state,
        };
        match n.state {
            PeerState::Looking => {
                if n.election_epoch > self.logical_clock {
                    self.logical_clock = n.election_epoch;
                    self.recv.clear();
                    self.proposal = if vote.beats(&self.initial, cfg) {
                        vote
                    } else {
                        self.initial
                    };
                    self.broadcast(cfg, out);
                } else if n.election_epoch < self.logical_clock {
                    return None;
                } else if vote.beats(&self.proposal, cfg) {
                    self.proposal = vote;
                    self.broadcast(cfg, out);
                }
                self.recv.insert(from, received);
                let mine = Received {
                    vote: self.proposal,
                    election_epoch: self.logical_clock,
                    state: PeerState::Looking,
                };
                if self.quorum_for(cfg, &self.recv, &mine) {
                    self.finalize_at = Some(now + cfg.timing.finalize_wait);
                }
                None
            }
            PeerState::Observing => None,
            PeerState::Following | PeerState::Leading => {
                if n.election_epoch == self.logical_clock {
                    self.recv.insert(from, received);
                    if self.quorum_for(cfg, &self.recv, &received)
                        && self.check_leader(cfg, &self.recv, n.leader, n.election_epoch)
                    {
                        return Some(self.decide(cfg, vote, n.election_epoch));
                    }
                }
                self.out_of_election.insert(from, received);
                if self.quorum_for(cfg, &self.out_of_election, &received)
                    && self.check_leader(cfg, &self.out_of_election, n.leader, n.election_epoch)
                {
                    self.logical_clock = n.election_epoch;
                    return Some(self.decide(cfg, vote, n.election_epoch));
                }
                None
            }
        }
    }

    pub fn tick(&mut self, cfg: &Config, now: u64, out: &mut Vec<Output>) -> Option<Decision> {
        if let Some(at) = self.finalize_at {
            if now >= at {
                return Some(self.decide(cfg, self.proposal, self.logical_clock));
            }
        }
        if now >= self.resend_at {
            self.interval = (self.interval * 2).min(cfg.timing.notification_max);
            self.resend_at = now + self.interval;
            self.broadcast(cfg, out);
        }
        None
    }
}
