//! The quorum ports' wire format, byte-compatible with Java ZooKeeper 3.8 / 3.9.
//!
//! - [`packet`]: the learner ↔ leader stream of [`QuorumPacket`]s and its packet types.
//! - [`message`]: each packet type's payload, typed, split by who sends it
//!   ([`LeaderMessage`], [`LearnerMessage`]), because some types (PING, REVALIDATE) carry
//!   different payloads in each direction.
//! - [`election`]: the election port: the connection header and the fast-leader-election
//!   notification, including the older layouts Java still accepts.
//!
//! Everything here only converts between bytes and values: no I/O, no state. Decoding follows
//! what Java accepts (and rejects what makes Java drop the connection); encoding writes
//! exactly what Java writes, so a packet captured from Java decodes and re-encodes to the same
//! bytes.

pub mod election;
pub mod message;
pub mod packet;

pub use election::{
    ConnectionHeader, ElectionAddress, ElectionProtocol, Notification, ServerState,
};
pub use message::{
    ForwardedBody, ForwardedRequest, LeaderMessage, LearnerInfo, LearnerMessage, SessionTouch,
};
pub use packet::{PacketDecoder, PacketType, QuorumPacket};

use crate::codec::Reader;
use crate::error::{Error, Result};

/// `zxid = epoch << 32 | counter`.
pub fn make_zxid(epoch: u32, counter: u32) -> i64 {
    ((epoch as i64) << 32) | counter as i64
}

/// The epoch half of a zxid (Java's `ZxidUtils.getEpochFromZxid`).
pub fn epoch_of(zxid: i64) -> i64 {
    zxid >> 32
}

/// The counter half of a zxid.
pub fn counter_of(zxid: i64) -> i64 {
    zxid & 0xffff_ffff
}

/// Decodes one value from the front of a stream buffer: `Ok(None)` while the buffer holds
/// only part of it, `Ok(Some((value, consumed)))` once it is whole. The caller bounds how
/// much it buffers; every length inside is checked against `limit` before it is waited for.
pub(crate) fn decode_prefix<T>(
    buf: &[u8],
    limit: usize,
    f: impl FnOnce(&mut Reader<'_>) -> Result<T>,
) -> Result<Option<(T, usize)>> {
    let mut r = Reader::with_limit(buf, limit);
    match f(&mut r) {
        Ok(v) => Ok(Some((v, r.position()))),
        Err(Error::Truncated { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
