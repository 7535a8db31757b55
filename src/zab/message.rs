//! What zab peers say to each other: one variant per Java ZooKeeper packet meaning.
//!
//! The network layer maps these 1:1 onto the jute wire types (FLE notifications on the
//! election port, QuorumPackets on the quorum port); the core never sees bytes.

use super::zxid::{Epoch, Txn, Zxid};
use super::ServerId;
use bytes::Bytes;

/// Java's `ServerState`, with its wire numbers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PeerState {
    Looking = 0,
    Following = 1,
    Leading = 2,
    Observing = 3,
}

/// The candidate id a non-voter proposes (Java sends `Long.MIN_VALUE`); never a valid voter.
pub const NO_CANDIDATE: ServerId = u64::MAX;

/// A fast-leader-election notification (the sender's id travels with the message).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Notification {
    pub state: PeerState,
    /// Proposed leader.
    pub leader: ServerId,
    /// Proposed leader's last zxid.
    pub zxid: Zxid,
    /// Sender's election round (Java's logicalclock).
    pub election_epoch: u64,
    /// Proposed leader's currentEpoch.
    pub peer_epoch: Epoch,
    /// Version of the quorum config the sender runs.
    pub config_version: u64,
}

/// A message between two peers. Everything but `Notification` travels on the quorum port
/// between a learner and its leader, over one ordered connection.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Message {
    /// Election port.
    Notification(Notification),
    /// FOLLOWERINFO: a participant connects; zxid = acceptedEpoch << 32.
    FollowerInfo {
        accepted_epoch: Epoch,
    },
    /// OBSERVERINFO: an observer connects.
    ObserverInfo {
        accepted_epoch: Epoch,
    },
    /// LEADERINFO: the epoch the leader proposes.
    LeaderInfo {
        new_epoch: Epoch,
    },
    /// ACKEPOCH: the learner's last logged zxid and its currentEpoch, or `None` (Java's -1)
    /// when it had already accepted this epoch.
    AckEpoch {
        last_zxid: Zxid,
        current_epoch: Option<Epoch>,
    },
    /// DIFF: the learner's log is a prefix of the leader's; zxid = leader's last committed.
    Diff {
        zxid: Zxid,
    },
    /// TRUNC: cut the log back to `zxid`.
    Trunc {
        zxid: Zxid,
    },
    /// SNAP: a snapshot at `zxid` follows on the same connection.
    Snap {
        zxid: Zxid,
    },
    Proposal(Txn),
    Ack {
        zxid: Zxid,
    },
    Commit {
        zxid: Zxid,
    },
    /// NEWLEADER: zxid = newEpoch << 32.
    NewLeader {
        zxid: Zxid,
    },
    UpToDate,
    /// PING: leader → learner carries the leader's last proposed zxid; the reply echoes it.
    Ping {
        zxid: Zxid,
    },
    /// INFORM: a committed txn, to observers only.
    Inform(Txn),
    /// REQUEST: a write a learner forwards to the leader (the payload is opaque here).
    Request {
        data: Bytes,
    },
}

impl Message {
    /// The packet name Java uses, for logs and test output.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Notification(_) => "NOTIFICATION",
            Message::FollowerInfo { .. } => "FOLLOWERINFO",
            Message::ObserverInfo { .. } => "OBSERVERINFO",
            Message::LeaderInfo { .. } => "LEADERINFO",
            Message::AckEpoch { .. } => "ACKEPOCH",
            Message::Diff { .. } => "DIFF",
            Message::Trunc { .. } => "TRUNC",
            Message::Snap { .. } => "SNAP",
            Message::Proposal(_) => "PROPOSAL",
            Message::Ack { .. } => "ACK",
            Message::Commit { .. } => "COMMIT",
            Message::NewLeader { .. } => "NEWLEADER",
            Message::UpToDate => "UPTODATE",
            Message::Ping { .. } => "PING",
            Message::Inform(_) => "INFORM",
            Message::Request { .. } => "REQUEST",
        }
    }

    /// True for messages of the election port (no connection, may be lost or repeated).
    pub fn is_election(&self) -> bool {
        matches!(self, Message::Notification(_))
    }
}
