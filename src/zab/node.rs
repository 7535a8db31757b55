//! State every role shares: epochs, log position, history, the vote we answer with, and
//! the output buffer.

use super::config::Config;
use super::election::Vote;
use super::history::History;
use super::interface::{EpochFile, Output};
use super::message::{Message, Notification, PeerState};
use super::zxid::{Epoch, Txn, Zxid};
use super::ServerId;

pub(crate) struct Node {
    pub cfg: Config,
    /// Ticks since the core started.
    pub now: u64,
    pub accepted_epoch: Epoch,
    pub current_epoch: Epoch,
    /// The last zxid handed to the log (durable or not).
    pub last_logged: Zxid,
    /// The log is durable up to here.
    pub durable: Zxid,
    pub history: History,
    /// The vote a non-LOOKING server answers LOOKING peers with, and its round.
    pub vote: Vote,
    pub vote_round: u64,
    pub out: Vec<Output>,
}

impl Node {
    pub fn send(&mut self, to: ServerId, msg: Message) {
        self.out.push(Output::Send { to, msg });
    }

    pub fn persist_epoch(&mut self, file: EpochFile, epoch: Epoch) {
        match file {
            EpochFile::Accepted => self.accepted_epoch = epoch,
            EpochFile::Current => self.current_epoch = epoch,
        }
        self.out.push(Output::PersistEpoch { file, epoch });
    }

    /// Hands txns to the log.
    pub fn log(&mut self, txns: Vec<Txn>) {
        if let Some(last) = txns.last() {
            self.last_logged = last.zxid;
            self.out.push(Output::Persist(txns));
        }
    }

    pub fn persisted(&mut self, up_to: Zxid) {
        self.durable = self.durable.max(up_to.min(self.last_logged));
    }

    pub fn log_is_durable(&self) -> bool {
        self.durable >= self.last_logged
    }

    /// Applies committed txns (in order) and remembers them for DIFF syncs.
    pub fn commit(&mut self, txns: Vec<Txn>) {
        self.apply(txns, Output::Commit);
    }

    /// Leaving a role: the logged but uncommitted txns become part of the loaded state, as
    /// Java's `fastForwardDataBase` does.
    pub fn fast_forward(&mut self, txns: Vec<Txn>) {
        self.apply(txns, Output::FastForward);
    }

    fn apply(&mut self, txns: Vec<Txn>, output: fn(Vec<Txn>) -> Output) {
        if txns.is_empty() {
            return;
        }
        for t in &txns {
            self.history.push(t.clone());
        }
        self.out.push(output(txns));
    }

    /// Answers a LOOKING peer with the vote we follow.
    pub fn answer_looking(&mut self, to: ServerId, state: PeerState) {
        let n = Notification {
            state,
            leader: self.vote.leader,
            zxid: self.vote.zxid,
            election_epoch: self.vote_round,
            peer_epoch: self.vote.peer_epoch,
            config_version: self.cfg.config_version,
        };
        self.send(to, Message::Notification(n));
    }
}
