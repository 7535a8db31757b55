//! `QuorumPacket` and the learner ↔ leader stream.
//!
//! The quorum port carries no frame lengths: each side writes jute-serialized
//! `QuorumPacket{int type; long zxid; buffer data; vector<Id> authinfo}` records back to back
//! (Java's `BinaryOutputArchive.writeRecord(qp, "packet")`). The one exception is the raw
//! snapshot stream a leader writes right after a SNAP packet, which the caller must read with
//! the snapshot decoder before decoding packets again.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::codec::{Jute, Reader, DEFAULT_MAX_BUFFER};
use crate::data::Id;
use crate::error::{Error, Result};

/// The largest `data` buffer Java accepts on the quorum port by default: its
/// `BinaryInputArchive` allows `jute.maxbuffer` plus `zookeeper.jute.maxbuffer.extrasize`,
/// which defaults to `jute.maxbuffer` again.
pub const QUORUM_MAX_BUFFER: usize = 2 * DEFAULT_MAX_BUFFER;

/// Most `authinfo` Ids one packet may carry. Java sets no limit, but the list is a client
/// connection's auth identities (one per successful addAuth), so a few is normal; the cap keeps
/// a peer from making us buffer without end.
pub const MAX_AUTHINFO_IDS: usize = 64;

/// Packet types (`Leader.java`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum PacketType {
    /// Learner → leader: a forwarded client write, session change or sync.
    Request = 1,
    /// Leader → follower: a txn to log and ACK.
    Proposal = 2,
    /// Follower → leader: the txn with this zxid is durable (also the NEWLEADER ACK).
    Ack = 3,
    /// Leader → follower: commit everything up to this zxid.
    Commit = 4,
    /// Both ways: liveness, and the learner's session touches.
    Ping = 5,
    /// Both ways: re-attach a session to a learner, and the leader's verdict.
    Revalidate = 6,
    /// Leader → learner: a forwarded sync may now complete.
    Sync = 7,
    /// Leader → observer: a committed txn.
    Inform = 8,
    /// Leader → follower: commit of a reconfig, with the designated leader.
    CommitAndActivate = 9,
    /// Leader → learner: end of synchronization; carries the leader's config.
    NewLeader = 10,
    /// Follower → leader: first packet, with the learner's accepted epoch and LearnerInfo.
    FollowerInfo = 11,
    /// Leader → learner: the leader is serving; start serving clients.
    UpToDate = 12,
    /// Leader → learner: sync by sending the missing txns.
    Diff = 13,
    /// Leader → learner: truncate the log to this zxid (then txns may follow).
    Trunc = 14,
    /// Leader → learner: a snapshot stream follows.
    Snap = 15,
    /// Observer → leader: as FOLLOWERINFO.
    ObserverInfo = 16,
    /// Leader → learner: the new epoch.
    LeaderInfo = 17,
    /// Learner → leader: epoch acknowledgement with the learner's last zxid.
    AckEpoch = 18,
    /// Leader → observer: committed reconfig txn with the designated leader.
    InformAndActivate = 19,
}

impl PacketType {
    pub const ALL: [PacketType; 19] = [
        PacketType::Request,
        PacketType::Proposal,
        PacketType::Ack,
        PacketType::Commit,
        PacketType::Ping,
        PacketType::Revalidate,
        PacketType::Sync,
        PacketType::Inform,
        PacketType::CommitAndActivate,
        PacketType::NewLeader,
        PacketType::FollowerInfo,
        PacketType::UpToDate,
        PacketType::Diff,
        PacketType::Trunc,
        PacketType::Snap,
        PacketType::ObserverInfo,
        PacketType::LeaderInfo,
        PacketType::AckEpoch,
        PacketType::InformAndActivate,
    ];

    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn from_code(code: i32) -> Result<PacketType> {
        code.checked_sub(1)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| PacketType::ALL.get(i).copied())
            .ok_or(Error::Unknown {
                what: "quorum packet type",
                value: code,
            })
    }

    /// The name Java logs (`Leader.getPacketType`).
    pub fn name(self) -> &'static str {
        match self {
            PacketType::Request => "REQUEST",
            PacketType::Proposal => "PROPOSAL",
            PacketType::Ack => "ACK",
            PacketType::Commit => "COMMIT",
            PacketType::Ping => "PING",
            PacketType::Revalidate => "REVALIDATE",
            PacketType::Sync => "SYNC",
            PacketType::Inform => "INFORM",
            PacketType::CommitAndActivate => "COMMITANDACTIVATE",
            PacketType::NewLeader => "NEWLEADER",
            PacketType::FollowerInfo => "FOLLOWERINFO",
            PacketType::UpToDate => "UPTODATE",
            PacketType::Diff => "DIFF",
            PacketType::Trunc => "TRUNC",
            PacketType::Snap => "SNAP",
            PacketType::ObserverInfo => "OBSERVERINFO",
            PacketType::LeaderInfo => "LEADERINFO",
            PacketType::AckEpoch => "ACKEPOCH",
            PacketType::InformAndActivate => "INFORMANDACTIVATE",
        }
    }
}

/// One packet as it is on the wire. `data` and `authinfo` keep Java's null (`None`) apart
/// from empty, because Java tells them apart: a PING reply with a null buffer makes the
/// leader drop the learner, while an empty one is fine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumPacket {
    /// A [`PacketType`] code; kept raw so an unknown type can be logged and skipped, as Java
    /// does ("unexpected quorum packet").
    pub type_: i32,
    pub zxid: i64,
    pub data: Option<Bytes>,
    pub authinfo: Option<Vec<Id>>,
}

impl QuorumPacket {
    /// A packet with no authinfo, which is every packet but a forwarded REQUEST.
    pub fn new(t: PacketType, zxid: i64, data: Option<Bytes>) -> QuorumPacket {
        QuorumPacket {
            type_: t.code(),
            zxid,
            data,
            authinfo: None,
        }
    }

    pub fn packet_type(&self) -> Result<PacketType> {
        PacketType::from_code(self.type_)
    }

    /// The encoded size.
    pub fn encoded_len(&self) -> usize {
        let auth: usize = self
            .authinfo
            .iter()
            .flatten()
            .map(|id| 8 + id.scheme.len() + id.id.len())
            .sum();
        4 + 8 + 4 + self.data.as_ref().map_or(0, |d| d.len()) + 4 + auth
    }
}

impl Jute for QuorumPacket {
    fn encode(&self, out: &mut BytesMut) {
        out.put_i32(self.type_);
        out.put_i64(self.zxid);
        self.data.encode(out);
        match &self.authinfo {
            None => out.put_i32(-1),
            Some(ids) => ids.encode(out),
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let type_ = r.read_i32()?;
        let zxid = r.read_i64()?;
        let data = Option::<Bytes>::decode(r)?;
        let authinfo = match r.read_i32()? {
            -1 => None,
            n if n < 0 => return Err(Error::NegativeLength(n)),
            n if n as usize > MAX_AUTHINFO_IDS => {
                return Err(Error::TooLong {
                    len: n as usize,
                    limit: MAX_AUTHINFO_IDS,
                })
            }
            n => {
                let mut ids = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    ids.push(Id::decode(r)?);
                }
                Some(ids)
            }
        };
        Ok(QuorumPacket {
            type_,
            zxid,
            data,
            authinfo,
        })
    }
}

/// Most bytes the `authinfo` list of one packet may take on the wire.
pub const MAX_AUTHINFO_BYTES: usize = 64 * 1024;

/// Splits a quorum-port byte stream into packets. The data length is checked against
/// `max_buffer` before its bytes are waited for, and a packet whose encoding would pass
/// [`PacketDecoder::max_packet_len`] (data plus at most [`MAX_AUTHINFO_BYTES`] of authinfo) is
/// an error, so that is the most a peer can make the caller buffer.
#[derive(Debug, Clone, Copy)]
pub struct PacketDecoder {
    pub max_buffer: usize,
}

impl Default for PacketDecoder {
    fn default() -> Self {
        PacketDecoder {
            max_buffer: QUORUM_MAX_BUFFER,
        }
    }
}

impl PacketDecoder {
    pub fn max_packet_len(&self) -> usize {
        4 + 8 + 4 + self.max_buffer + 4 + MAX_AUTHINFO_BYTES
    }

    /// Takes one whole packet off the front of `buf`; `Ok(None)` if more bytes are needed.
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<QuorumPacket>> {
        let max = self.max_packet_len();
        match super::decode_prefix(buf, self.max_buffer, QuorumPacket::decode)? {
            Some((_, used)) if used > max => Err(Error::TooLong {
                len: used,
                limit: max,
            }),
            Some((p, used)) => {
                buf.advance(used);
                Ok(Some(p))
            }
            None if buf.len() >= max => Err(Error::TooLong {
                len: buf.len(),
                limit: max,
            }),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::arb::Arb;
    use proptest::prelude::*;

    pub fn arb_packet() -> impl Strategy<Value = QuorumPacket> {
        (
            any::<i32>(),
            any::<i64>(),
            Option::<Bytes>::arb(),
            proptest::option::of(Vec::<Id>::arb()),
        )
            .prop_map(|(type_, zxid, data, authinfo)| QuorumPacket {
                type_,
                zxid,
                data,
                authinfo,
            })
    }

    proptest! {
        #[test]
        fn packet_round_trips(p in arb_packet()) {
            let b = p.to_bytes();
            prop_assert_eq!(b.len(), p.encoded_len());
            prop_assert_eq!(QuorumPacket::from_bytes(&b).unwrap(), p);
        }

        /// The stream decoder yields the same packets whatever the TCP chunking.
        #[test]
        fn stream_decodes_in_any_chunking(ps in proptest::collection::vec(arb_packet(), 0..6), chunk in 1usize..29) {
            let mut wire = BytesMut::new();
            for p in &ps { p.encode(&mut wire); }
            let dec = PacketDecoder::default();
            let mut buf = BytesMut::new();
            let mut out = Vec::new();
            for c in wire.chunks(chunk) {
                buf.extend_from_slice(c);
                while let Some(p) = dec.decode(&mut buf).unwrap() { out.push(p); }
            }
            prop_assert_eq!(out, ps);
            prop_assert!(buf.is_empty());
        }

        #[test]
        fn stream_decoder_never_panics(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            let dec = PacketDecoder { max_buffer: 64 };
            let mut buf = BytesMut::from(&data[..]);
            while let Ok(Some(_)) = dec.decode(&mut buf) {}
        }
    }

    #[test]
    fn every_type_code_maps_back() {
        for t in PacketType::ALL {
            assert_eq!(PacketType::from_code(t.code()), Ok(t));
        }
        assert!(PacketType::from_code(0).is_err());
        assert!(PacketType::from_code(20).is_err());
        assert!(PacketType::from_code(i32::MIN).is_err());
    }

    #[test]
    fn null_fields_are_minus_one() {
        let p = QuorumPacket::new(PacketType::Ack, 0x1_0000_0003, None);
        assert_eq!(
            &p.to_bytes()[..],
            &[0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
    }

    #[test]
    fn oversized_lengths_fail_before_waiting() {
        let dec = PacketDecoder { max_buffer: 100 };
        // A data length of 101 with nothing after it: an error now, not "need more bytes".
        let mut buf = BytesMut::from(&[0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 101][..]);
        assert!(matches!(dec.decode(&mut buf), Err(Error::TooLong { .. })));
        // An authinfo count over the cap, likewise.
        let mut p = BytesMut::new();
        QuorumPacket::new(PacketType::Request, -1, Some(Bytes::new())).encode(&mut p);
        let n = p.len();
        p[n - 4..].copy_from_slice(&((MAX_AUTHINFO_IDS as i32) + 1).to_be_bytes());
        assert!(matches!(dec.decode(&mut p), Err(Error::TooLong { .. })));
        // A partial packet is "need more", and consumes nothing.
        let mut part = BytesMut::from(&[0, 0, 0, 2, 0, 0][..]);
        assert_eq!(dec.decode(&mut part), Ok(None));
        assert_eq!(part.len(), 6);
    }
}
