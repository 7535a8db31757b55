//! What the core is built from: the ensemble, its timing in ticks, and the durable state
//! the caller recovered.

use super::zxid::{Epoch, Txn, Zxid};
use super::ServerId;
use std::collections::BTreeSet;

/// Timeouts and intervals, all in the caller's ticks (the core never reads a clock).
#[derive(Clone, Debug)]
pub struct Timing {
    /// Java's initLimit × tickTime: connect + discovery + sync, and each leader wait.
    pub init_limit: u64,
    /// Java's syncLimit × tickTime: how long a learner or leader hears nothing before it
    /// gives up on the other side once synced.
    pub sync_limit: u64,
    /// Java's tickTime / 2: how often the leader pings and checks its quorum.
    pub ping_interval: u64,
    /// Java's finalizeWait (200 ms): how long a LOOKING peer waits for a better vote once
    /// its proposal has a quorum.
    pub finalize_wait: u64,
    /// First and largest re-send interval of LOOKING notifications (200 ms .. 60 s in Java,
    /// doubling on each silent round).
    pub notification_min: u64,
    pub notification_max: u64,
    /// How soon a learner whose connection to the leader was refused or broke before
    /// LEADERINFO tries again (Java's leaderConnectDelayDuringRetryMs, 100 ms); it keeps
    /// trying until `init_limit`.
    pub connect_retry: u64,
}

impl Timing {
    /// Java's settings converted to ticks of `tick_ms` milliseconds.
    pub fn from_java(tick_time_ms: u64, init_limit: u64, sync_limit: u64, tick_ms: u64) -> Timing {
        let t = |ms: u64| ms.div_ceil(tick_ms.max(1)).max(1);
        Timing {
            init_limit: t(tick_time_ms * init_limit),
            sync_limit: t(tick_time_ms * sync_limit),
            ping_interval: t(tick_time_ms / 2),
            finalize_wait: t(200),
            notification_min: t(200),
            notification_max: t(60_000),
            connect_retry: t(100),
        }
    }
}

/// Test-only switches that bring back sync bugs Java ZooKeeper once had, so the simulator
/// can show it catches them. All off in any real configuration.
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct InjectedBugs {
    /// ZOOKEEPER-3911: a learner acknowledges NEWLEADER before logging the txns the DIFF
    /// sync sent it; it logs them only after UPTODATE.
    pub ack_newleader_before_logging_diff: bool,
    /// ZOOKEEPER-4785: a learner logs the synced txns at NEWLEADER but acknowledges it
    /// before they are durable.
    pub ack_newleader_before_fsync: bool,
}

/// The ensemble as this server sees it.
#[derive(Clone, Debug)]
pub struct Config {
    pub my_id: ServerId,
    /// Participants: they vote, can lead, and count in every quorum.
    pub voters: BTreeSet<ServerId>,
    /// Observers: they learn the leader from the voters' answers and never count.
    pub observers: BTreeSet<ServerId>,
    /// Version of the quorum config (sent in notifications).
    pub config_version: u64,
    pub timing: Timing,
    /// How many committed txns the core keeps to sync learners by DIFF (Java's
    /// `zookeeper.commitLogCount`, 500).
    pub commit_log_count: usize,
    /// The leader's bound on proposals in flight; a proposal beyond it is refused.
    pub max_outstanding: usize,
    /// A learner's bound on txns received but not yet applied; a leader that exceeds it is
    /// treated as faulty and the learner goes back to election.
    pub max_pending: usize,
    #[doc(hidden)]
    pub bugs: InjectedBugs,
}

impl Config {
    /// A config with Java's defaults for the sizes.
    pub fn new(my_id: ServerId, voters: BTreeSet<ServerId>, timing: Timing) -> Config {
        Config {
            my_id,
            voters,
            observers: BTreeSet::new(),
            config_version: 0,
            timing,
            commit_log_count: 500,
            max_outstanding: 1000,
            max_pending: 10_000,
            bugs: InjectedBugs::default(),
        }
    }

    pub fn is_voter(&self, sid: ServerId) -> bool {
        self.voters.contains(&sid)
    }

    pub fn is_observer(&self) -> bool {
        self.observers.contains(&self.my_id)
    }

    /// A strict majority of the voters.
    pub fn is_quorum(&self, set: &BTreeSet<ServerId>) -> bool {
        set.iter().filter(|s| self.voters.contains(s)).count() * 2 > self.voters.len()
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.voters.is_empty() {
            return Err(ConfigError::NoVoters);
        }
        if let Some(s) = self.voters.intersection(&self.observers).next() {
            return Err(ConfigError::VoterAndObserver(*s));
        }
        if !self.voters.contains(&self.my_id) && !self.observers.contains(&self.my_id) {
            return Err(ConfigError::NotAMember(self.my_id));
        }
        if self.voters.contains(&super::message::NO_CANDIDATE) {
            return Err(ConfigError::ReservedId);
        }
        let t = &self.timing;
        if [
            t.init_limit,
            t.sync_limit,
            t.ping_interval,
            t.notification_min,
            t.connect_retry,
        ]
        .contains(&0)
            || t.notification_max < t.notification_min
        {
            return Err(ConfigError::Timing);
        }
        if self.commit_log_count == 0 || self.max_outstanding == 0 || self.max_pending == 0 {
            return Err(ConfigError::ZeroBound);
        }
        Ok(())
    }
}

/// What the caller recovered from disk before starting the core.
#[derive(Clone, Debug, Default)]
pub struct Recovered {
    /// Contents of `acceptedEpoch`.
    pub accepted_epoch: Epoch,
    /// Contents of `currentEpoch`.
    pub current_epoch: Epoch,
    /// The last zxid of snapshot + log (everything here is durable).
    pub last_zxid: Zxid,
    /// The newest txns of the log, oldest first, ending at `last_zxid` (at most
    /// `commit_log_count` are kept); the core syncs learners by DIFF from them.
    pub history_tail: Vec<Txn>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("the ensemble has no voters")]
    NoVoters,
    #[error("server {0} is both a voter and an observer")]
    VoterAndObserver(ServerId),
    #[error("server {0} is not a member of the ensemble")]
    NotAMember(ServerId),
    #[error("server id u64::MAX is reserved")]
    ReservedId,
    #[error("timing values must be positive and notification_min <= notification_max")]
    Timing,
    #[error("commit_log_count, max_outstanding and max_pending must be positive")]
    ZeroBound,
    #[error("acceptedEpoch {accepted} is less than currentEpoch {current}")]
    EpochsInverted { accepted: Epoch, current: Epoch },
    #[error("the log reaches epoch {log} but acceptedEpoch is only {accepted}")]
    LogAheadOfEpoch { log: Epoch, accepted: Epoch },
    #[error("the recovered history tail is not in zxid order or does not end at last_zxid")]
    BadHistory,
}
