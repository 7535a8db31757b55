//! The core's inputs and outputs.

use super::message::Message;
use super::zxid::{Epoch, Txn, Zxid};
use super::ServerId;

/// Something that happened, handed to [`super::Zab::step`].
#[derive(Clone, Debug)]
pub enum Input {
    /// A message from peer `from`.
    Message { from: ServerId, msg: Message },
    /// One tick of logical time passed.
    Tick,
    /// The log is durable up to `up_to` (as the log is now: after a truncation the caller
    /// never reports a zxid that is no longer in it).
    Persisted { up_to: Zxid },
    /// The snapshot asked for by [`Output::InstallSnapshot`] is loaded and durable.
    SnapshotApplied { zxid: Zxid },
    /// The quorum connection to `peer` broke.
    Disconnected { peer: ServerId },
}

/// What this server plays now.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    Looking,
    Following { leader: ServerId },
    Leading,
    Observing { leader: ServerId },
}

/// Which epoch file to write.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EpochFile {
    Accepted,
    Current,
}

/// Something the caller must do, in the order given. `PersistEpoch`, `Truncate` and
/// `InstallSnapshot` are synchronous: they are done before any later output is acted on.
#[derive(Clone, Debug)]
pub enum Output {
    /// Send `msg` to `to` (on the election port for notifications, else on the quorum
    /// connection, opening it if needed).
    Send { to: ServerId, msg: Message },
    /// Close the quorum connection to `peer` (the other side sees it break).
    Disconnect { peer: ServerId },
    /// Append these txns to the log; report [`Input::Persisted`] once they are durable.
    Persist(Vec<Txn>),
    /// Cut the log (and the applied state, by reloading) back to `to`.
    Truncate { to: Zxid },
    /// Write `acceptedEpoch` or `currentEpoch` atomically.
    PersistEpoch { file: EpochFile, epoch: Epoch },
    /// Apply these committed txns, in this order.
    Commit(Vec<Txn>),
    /// Apply these logged but uncommitted txns: a server that leaves a role loads its whole
    /// log, as Java's `fastForwardDataBase` does. A later TRUNC or SNAP may take them back.
    FastForward(Vec<Txn>),
    /// Leader: stream a snapshot of the applied state (which is exactly at `zxid`) to `to`
    /// right after the SNAP message just sent.
    SendSnapshot { to: ServerId, zxid: Zxid },
    /// Learner: replace state and log with the snapshot at `zxid` that came after SNAP,
    /// durably, then report [`Input::SnapshotApplied`].
    InstallSnapshot { leader: ServerId, zxid: Zxid },
    /// The role changed.
    RoleChanged(Role),
    /// Leader: a quorum acknowledged NEWLEADER; epoch `epoch` is established and the leader
    /// serves (its whole log is now committed).
    Established { epoch: Epoch },
    /// Learner: UPTODATE arrived; it serves clients from now on.
    UpToDate { epoch: Epoch, leader: ServerId },
}

/// Why a client write was not taken.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProposeError {
    #[error("no established leader is known to this server")]
    NotReady,
    #[error("too many proposals in flight")]
    Backpressure,
    #[error("the epoch's zxid counter is exhausted; a new election is under way")]
    EpochExhausted,
}
