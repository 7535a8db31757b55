//! Typed payloads of every quorum packet, split by sender.
//!
//! Java builds most payloads with a plain `DataOutputStream` (big-endian, no jute framing);
//! only LearnerInfo and the txn bytes are jute records. Where Java writes a null `data` buffer
//! the typed message has no payload and decoding ignores whatever `data` holds, because Java
//! never reads it. Where Java reads a payload, a null or short buffer is an error here: it
//! makes Java's reader throw and drop the connection.
//!
//! Every field Java fills with a fixed value (zxid -1 on REQUEST, UPTODATE and REVALIDATE, 0
//! on SYNC; null authinfo on everything but REQUEST) is written as Java writes it and not kept
//! in the typed value.

use bytes::{BufMut, Bytes, BytesMut};

use super::packet::{PacketType, QuorumPacket};
use crate::codec::{record, Jute, Reader};
use crate::consts::op;
use crate::data::Id;
use crate::error::{Error, Result};
use crate::proto::Request;
use crate::txn::{CreateSessionTxn, TxnEntry};

/// The Zab protocol version a 1.0+ learner and leader announce (LearnerInfo, LEADERINFO).
/// Learners announcing less get the pre-1.0 handshake, which Paddock does not speak.
pub const PROTOCOL_VERSION: i32 = 0x10000;

/// The ACKEPOCH epoch value meaning "I had already accepted this epoch": the reply still tells
/// the leader the learner's last zxid, but does not count towards the epoch quorum.
pub const EPOCH_ALREADY_ACCEPTED: i32 = -1;

record! {
    /// FOLLOWERINFO / OBSERVERINFO payload (`zookeeper.jute`, 20 bytes).
    pub struct LearnerInfo { pub server_id: i64, pub protocol_version: i32, pub config_version: i64 }
}

record! {
    /// One entry of a learner's PING reply: a session it saw activity on, and its timeout.
    pub struct SessionTouch { pub session_id: i64, pub timeout: i32 }
}

/// REQUEST: a write, global session change or sync a learner forwards to the leader.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ForwardedRequest {
    pub session_id: i64,
    pub cxid: i32,
    /// The client opcode (`op::*`).
    pub op: i32,
    /// The request body as the client sent it, after its RequestHeader: the leader runs its
    /// own prep on these bytes. Empty for body-less requests (closeSession).
    pub body: Bytes,
    /// The client connection's auth identities, which the leader's ACL checks use.
    pub authinfo: Option<Vec<Id>>,
}

/// A forwarded request's body, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardedBody {
    /// A client request body (writes, sync, closeSession).
    Client(Request),
    /// createSession carries the negotiated timeout as a CreateSessionTxn.
    CreateSession(CreateSessionTxn),
}

impl ForwardedRequest {
    /// Decodes `body` by `op`.
    pub fn decode_body(&self) -> Result<ForwardedBody> {
        let mut r = Reader::with_limit(&self.body, self.body.len());
        if self.op == op::CREATE_SESSION {
            return Ok(ForwardedBody::CreateSession(CreateSessionTxn::decode(
                &mut r,
            )?));
        }
        Ok(ForwardedBody::Client(Request::decode(self.op, &mut r)?))
    }
}

/// Everything a leader sends a learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaderMessage {
    /// The proposed epoch (`zxid = newEpoch << 32`) and the leader's protocol version.
    LeaderInfo {
        zxid: i64,
        protocol_version: i32,
    },
    /// Sync by txns; `zxid` is the leader's last committed zxid.
    Diff {
        zxid: i64,
    },
    /// Truncate the learner's log to `zxid`.
    Trunc {
        zxid: i64,
    },
    /// A snapshot stream follows this packet; `zxid` is the leader's last processed zxid.
    Snap {
        zxid: i64,
    },
    Proposal {
        zxid: i64,
        entry: TxnEntry,
    },
    Commit {
        zxid: i64,
    },
    CommitAndActivate {
        zxid: i64,
        designated_leader: i64,
    },
    /// End of sync. `config` is the leader's QuorumVerifier string (`None` only for pre-1.0
    /// learners).
    NewLeader {
        zxid: i64,
        config: Option<String>,
    },
    UpToDate,
    /// `zxid` is the leader's last proposed zxid; the learner echoes it.
    Ping {
        zxid: i64,
    },
    /// The verdict on a REVALIDATE.
    Revalidate {
        session_id: i64,
        valid: bool,
    },
    /// A forwarded sync may complete.
    Sync,
    /// To observers: a committed txn.
    Inform {
        zxid: i64,
        entry: TxnEntry,
    },
    /// To observers: a committed reconfig txn.
    InformAndActivate {
        zxid: i64,
        designated_leader: i64,
        entry: TxnEntry,
    },
}

/// Everything a follower or observer sends its leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LearnerMessage {
    /// First packet of a follower; `zxid = acceptedEpoch << 32`.
    FollowerInfo {
        zxid: i64,
        info: LearnerInfo,
    },
    /// First packet of an observer; `zxid = acceptedEpoch << 32`.
    ObserverInfo {
        zxid: i64,
        info: LearnerInfo,
    },
    /// `zxid` is the learner's last logged zxid; `current_epoch` is its currentEpoch, or
    /// [`EPOCH_ALREADY_ACCEPTED`].
    AckEpoch {
        zxid: i64,
        current_epoch: i32,
    },
    Ack {
        zxid: i64,
    },
    /// Reply to the leader's PING: the same zxid and the sessions touched since the last one.
    Ping {
        zxid: i64,
        touches: Vec<SessionTouch>,
    },
    /// Asks whether a session a client re-attached here is still live.
    Revalidate {
        session_id: i64,
        timeout: i32,
    },
    Request(ForwardedRequest),
}

/// The payload of a packet whose type requires one; null is an error.
fn payload<'a>(p: &'a QuorumPacket, what: &'static str) -> Result<&'a Bytes> {
    p.data.as_ref().ok_or(Error::Invalid(what))
}

fn entry_bytes(entry: &TxnEntry) -> Option<Bytes> {
    Some(entry.to_bytes())
}

fn with_leader(designated_leader: i64, entry: Option<&TxnEntry>) -> Option<Bytes> {
    let mut b = BytesMut::new();
    b.put_i64(designated_leader);
    if let Some(e) = entry {
        e.encode(&mut b);
    }
    Some(b.freeze())
}

impl LeaderMessage {
    pub fn packet_type(&self) -> PacketType {
        use LeaderMessage::*;
        match self {
            LeaderInfo { .. } => PacketType::LeaderInfo,
            Diff { .. } => PacketType::Diff,
            Trunc { .. } => PacketType::Trunc,
            Snap { .. } => PacketType::Snap,
            Proposal { .. } => PacketType::Proposal,
            Commit { .. } => PacketType::Commit,
            CommitAndActivate { .. } => PacketType::CommitAndActivate,
            NewLeader { .. } => PacketType::NewLeader,
            UpToDate => PacketType::UpToDate,
            Ping { .. } => PacketType::Ping,
            Revalidate { .. } => PacketType::Revalidate,
            Sync => PacketType::Sync,
            Inform { .. } => PacketType::Inform,
            InformAndActivate { .. } => PacketType::InformAndActivate,
        }
    }

    /// The packet Java's leader would write for this message.
    pub fn to_packet(&self) -> QuorumPacket {
        use LeaderMessage::*;
        let (zxid, data) = match self {
            LeaderInfo {
                zxid,
                protocol_version,
            } => (
                *zxid,
                Some(Bytes::copy_from_slice(&protocol_version.to_be_bytes())),
            ),
            Diff { zxid } | Trunc { zxid } | Snap { zxid } | Commit { zxid } | Ping { zxid } => {
                (*zxid, None)
            }
            Proposal { zxid, entry } | Inform { zxid, entry } => (*zxid, entry_bytes(entry)),
            CommitAndActivate {
                zxid,
                designated_leader,
            } => (*zxid, with_leader(*designated_leader, None)),
            InformAndActivate {
                zxid,
                designated_leader,
                entry,
            } => (*zxid, with_leader(*designated_leader, Some(entry))),
            NewLeader { zxid, config } => (*zxid, config.clone().map(Bytes::from)),
            UpToDate => (-1, None),
            Revalidate { session_id, valid } => {
                let mut b = BytesMut::with_capacity(9);
                b.put_i64(*session_id);
                b.put_u8(*valid as u8);
                (-1, Some(b.freeze()))
            }
            Sync => (0, None),
        };
        QuorumPacket::new(self.packet_type(), zxid, data)
    }

    /// Reads a packet received from a leader. A type a leader never sends is
    /// `Error::Unknown`; Java's learners treat it as fatal for the connection too.
    pub fn from_packet(p: &QuorumPacket) -> Result<LeaderMessage> {
        let zxid = p.zxid;
        Ok(match p.packet_type()? {
            PacketType::LeaderInfo => {
                let mut r = Reader::new(payload(p, "LEADERINFO without a version")?);
                LeaderMessage::LeaderInfo {
                    zxid,
                    protocol_version: r.read_i32()?,
                }
            }
            PacketType::Diff => LeaderMessage::Diff { zxid },
            PacketType::Trunc => LeaderMessage::Trunc { zxid },
            PacketType::Snap => LeaderMessage::Snap { zxid },
            PacketType::Proposal => LeaderMessage::Proposal {
                zxid,
                entry: TxnEntry::decode(payload(p, "PROPOSAL without a txn")?)?,
            },
            PacketType::Commit => LeaderMessage::Commit { zxid },
            PacketType::CommitAndActivate => {
                let mut r = Reader::new(payload(p, "COMMITANDACTIVATE without a leader")?);
                LeaderMessage::CommitAndActivate {
                    zxid,
                    designated_leader: r.read_i64()?,
                }
            }
            PacketType::NewLeader => LeaderMessage::NewLeader {
                zxid,
                config: match &p.data {
                    None => None,
                    Some(b) => Some(String::from_utf8(b.to_vec()).map_err(|_| Error::InvalidUtf8)?),
                },
            },
            PacketType::UpToDate => LeaderMessage::UpToDate,
            PacketType::Ping => LeaderMessage::Ping { zxid },
            PacketType::Revalidate => {
                let mut r = Reader::new(payload(p, "REVALIDATE reply without a body")?);
                LeaderMessage::Revalidate {
                    session_id: r.read_i64()?,
                    valid: bool::decode(&mut r)?,
                }
            }
            PacketType::Sync => LeaderMessage::Sync,
            PacketType::Inform => LeaderMessage::Inform {
                zxid,
                entry: TxnEntry::decode(payload(p, "INFORM without a txn")?)?,
            },
            PacketType::InformAndActivate => {
                let mut r = Reader::new(payload(p, "INFORMANDACTIVATE without a body")?);
                let designated_leader = r.read_i64()?;
                LeaderMessage::InformAndActivate {
                    zxid,
                    designated_leader,
                    entry: TxnEntry::decode(r.rest())?,
                }
            }
            other @ (PacketType::Request
            | PacketType::Ack
            | PacketType::FollowerInfo
            | PacketType::ObserverInfo
            | PacketType::AckEpoch) => {
                return Err(Error::Unknown {
                    what: "packet type from a leader",
                    value: other.code(),
                })
            }
        })
    }
}

impl LearnerMessage {
    pub fn packet_type(&self) -> PacketType {
        use LearnerMessage::*;
        match self {
            FollowerInfo { .. } => PacketType::FollowerInfo,
            ObserverInfo { .. } => PacketType::ObserverInfo,
            AckEpoch { .. } => PacketType::AckEpoch,
            Ack { .. } => PacketType::Ack,
            Ping { .. } => PacketType::Ping,
            Revalidate { .. } => PacketType::Revalidate,
            Request(_) => PacketType::Request,
        }
    }

    /// The packet Java's learner would write for this message.
    pub fn to_packet(&self) -> QuorumPacket {
        use LearnerMessage::*;
        let (zxid, data) = match self {
            FollowerInfo { zxid, info } | ObserverInfo { zxid, info } => {
                (*zxid, Some(info.to_bytes()))
            }
            AckEpoch {
                zxid,
                current_epoch,
            } => (
                *zxid,
                Some(Bytes::copy_from_slice(&current_epoch.to_be_bytes())),
            ),
            Ack { zxid } => (*zxid, None),
            // Never null, even with no touches: a null PING reply makes Java's leader drop
            // the learner.
            Ping { zxid, touches } => {
                let mut b = BytesMut::with_capacity(12 * touches.len());
                for t in touches {
                    t.encode(&mut b);
                }
                (*zxid, Some(b.freeze()))
            }
            Revalidate {
                session_id,
                timeout,
            } => {
                let mut b = BytesMut::with_capacity(12);
                b.put_i64(*session_id);
                b.put_i32(*timeout);
                (-1, Some(b.freeze()))
            }
            Request(req) => {
                let mut b = BytesMut::with_capacity(16 + req.body.len());
                b.put_i64(req.session_id);
                b.put_i32(req.cxid);
                b.put_i32(req.op);
                b.put_slice(&req.body);
                return QuorumPacket {
                    type_: PacketType::Request.code(),
                    zxid: -1,
                    data: Some(b.freeze()),
                    authinfo: req.authinfo.clone(),
                };
            }
        };
        QuorumPacket::new(self.packet_type(), zxid, data)
    }

    /// Reads a packet received from a learner. A type a learner never sends is
    /// `Error::Unknown`; Java's leader logs and skips those.
    pub fn from_packet(p: &QuorumPacket) -> Result<LearnerMessage> {
        let zxid = p.zxid;
        Ok(match p.packet_type()? {
            t @ (PacketType::FollowerInfo | PacketType::ObserverInfo) => {
                let data = payload(p, "LearnerInfo missing")?;
                // Learners before 3.5 sent a shorter LearnerInfo (or none); they cannot join
                // an ensemble with dynamic config, so only the full record is accepted.
                let info = LearnerInfo::decode(&mut Reader::new(data))?;
                if t == PacketType::FollowerInfo {
                    LearnerMessage::FollowerInfo { zxid, info }
                } else {
                    LearnerMessage::ObserverInfo { zxid, info }
                }
            }
            PacketType::AckEpoch => {
                let mut r = Reader::new(payload(p, "ACKEPOCH without an epoch")?);
                LearnerMessage::AckEpoch {
                    zxid,
                    current_epoch: r.read_i32()?,
                }
            }
            PacketType::Ack => LearnerMessage::Ack { zxid },
            PacketType::Ping => {
                let data = payload(p, "PING reply with a null buffer")?;
                if data.len() % 12 != 0 {
                    return Err(Error::Invalid(
                        "PING reply is not a whole number of touches",
                    ));
                }
                let mut r = Reader::new(data);
                let mut touches = Vec::with_capacity(data.len() / 12);
                while !r.is_empty() {
                    touches.push(SessionTouch::decode(&mut r)?);
                }
                LearnerMessage::Ping { zxid, touches }
            }
            PacketType::Revalidate => {
                let mut r = Reader::new(payload(p, "REVALIDATE without a session")?);
                LearnerMessage::Revalidate {
                    session_id: r.read_i64()?,
                    timeout: r.read_i32()?,
                }
            }
            PacketType::Request => {
                let data = payload(p, "REQUEST without a body")?;
                let mut r = Reader::new(data);
                LearnerMessage::Request(ForwardedRequest {
                    session_id: r.read_i64()?,
                    cxid: r.read_i32()?,
                    op: r.read_i32()?,
                    body: data.slice(r.position()..),
                    authinfo: p.authinfo.clone(),
                })
            }
            other => {
                return Err(Error::Unknown {
                    what: "packet type from a learner",
                    value: other.code(),
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::arb::Arb;
    use crate::txn::tests::arb_entry;
    use proptest::prelude::*;

    fn arb_leader_message() -> impl Strategy<Value = LeaderMessage> {
        use LeaderMessage::*;
        let z = any::<i64>;
        prop_oneof![
            (z(), any::<i32>()).prop_map(|(zxid, protocol_version)| LeaderInfo {
                zxid,
                protocol_version
            }),
            z().prop_map(|zxid| Diff { zxid }),
            z().prop_map(|zxid| Trunc { zxid }),
            z().prop_map(|zxid| Snap { zxid }),
            (z(), arb_entry()).prop_map(|(zxid, entry)| Proposal { zxid, entry }),
            z().prop_map(|zxid| Commit { zxid }),
            (z(), z()).prop_map(|(zxid, designated_leader)| CommitAndActivate {
                zxid,
                designated_leader
            }),
            (z(), proptest::option::of(".{0,40}"))
                .prop_map(|(zxid, config)| NewLeader { zxid, config }),
            Just(UpToDate),
            z().prop_map(|zxid| Ping { zxid }),
            (z(), any::<bool>()).prop_map(|(session_id, valid)| Revalidate { session_id, valid }),
            Just(Sync),
            (z(), arb_entry()).prop_map(|(zxid, entry)| Inform { zxid, entry }),
            (z(), z(), arb_entry()).prop_map(|(zxid, designated_leader, entry)| {
                InformAndActivate {
                    zxid,
                    designated_leader,
                    entry,
                }
            }),
        ]
    }

    fn arb_learner_message() -> impl Strategy<Value = LearnerMessage> {
        use LearnerMessage::*;
        let z = any::<i64>;
        prop_oneof![
            (z(), LearnerInfo::arb()).prop_map(|(zxid, info)| FollowerInfo { zxid, info }),
            (z(), LearnerInfo::arb()).prop_map(|(zxid, info)| ObserverInfo { zxid, info }),
            (z(), any::<i32>()).prop_map(|(zxid, current_epoch)| AckEpoch {
                zxid,
                current_epoch
            }),
            z().prop_map(|zxid| Ack { zxid }),
            (z(), Vec::<SessionTouch>::arb()).prop_map(|(zxid, touches)| Ping { zxid, touches }),
            (z(), any::<i32>()).prop_map(|(session_id, timeout)| Revalidate {
                session_id,
                timeout
            }),
            (
                z(),
                any::<i32>(),
                any::<i32>(),
                proptest::collection::vec(any::<u8>(), 0..40),
                proptest::option::of(Vec::<Id>::arb())
            )
                .prop_map(|(session_id, cxid, op, body, authinfo)| Request(
                    ForwardedRequest {
                        session_id,
                        cxid,
                        op,
                        body: body.into(),
                        authinfo
                    }
                )),
        ]
    }

    proptest! {
        #[test]
        fn leader_messages_round_trip(m in arb_leader_message()) {
            let p = m.to_packet();
            prop_assert_eq!(p.packet_type(), Ok(m.packet_type()));
            let p = QuorumPacket::from_bytes(&p.to_bytes()).unwrap();
            let t = m.packet_type();
            prop_assert_eq!(LeaderMessage::from_packet(&p).unwrap(), m);
            // A learner never sends these, except the types both sides use.
            if !matches!(t, PacketType::Ping | PacketType::Revalidate) {
                prop_assert!(LearnerMessage::from_packet(&p).is_err());
            }
        }

        #[test]
        fn learner_messages_round_trip(m in arb_learner_message()) {
            let p = m.to_packet();
            let p = QuorumPacket::from_bytes(&p.to_bytes()).unwrap();
            prop_assert_eq!(LearnerMessage::from_packet(&p).unwrap(), m);
        }

        #[test]
        fn typed_decoders_never_panic(type_ in 0i32..21, zxid in any::<i64>(), data in Option::<Bytes>::arb()) {
            let p = QuorumPacket { type_, zxid, data, authinfo: None };
            let _ = LeaderMessage::from_packet(&p);
            let _ = LearnerMessage::from_packet(&p);
        }
    }

    #[test]
    fn payloads_java_reads_must_be_there() {
        // Null or short payloads where Java's reader would throw.
        for (t, data) in [
            (PacketType::LeaderInfo, None),
            (PacketType::LeaderInfo, Some(&[0u8, 1][..])),
            (PacketType::Proposal, None),
            (PacketType::CommitAndActivate, Some(&[0u8; 7][..])),
            (PacketType::Revalidate, Some(&[0u8; 8][..])),
            (PacketType::InformAndActivate, Some(&[0u8; 8][..])),
        ] {
            let p = QuorumPacket::new(t, 0, data.map(Bytes::copy_from_slice));
            assert!(LeaderMessage::from_packet(&p).is_err(), "{t:?} {data:?}");
        }
        for (t, data) in [
            (PacketType::FollowerInfo, None),
            (PacketType::FollowerInfo, Some(&[0u8; 12][..])),
            (PacketType::AckEpoch, None),
            (PacketType::Ping, None),
            (PacketType::Ping, Some(&[0u8; 13][..])),
            (PacketType::Revalidate, Some(&[0u8; 11][..])),
            (PacketType::Request, Some(&[0u8; 15][..])),
        ] {
            let p = QuorumPacket::new(t, 0, data.map(Bytes::copy_from_slice));
            assert!(LearnerMessage::from_packet(&p).is_err(), "{t:?} {data:?}");
        }
    }

    #[test]
    fn fixed_fields_are_written_as_java_writes_them() {
        let up = LeaderMessage::UpToDate.to_packet();
        assert_eq!((up.zxid, up.data, up.authinfo), (-1, None, None));
        assert_eq!(LeaderMessage::Sync.to_packet().zxid, 0);
        let ping = LearnerMessage::Ping {
            zxid: 5,
            touches: vec![],
        }
        .to_packet();
        assert_eq!(ping.data, Some(Bytes::new()), "empty, never null");
        let li = LearnerMessage::FollowerInfo {
            zxid: 0,
            info: LearnerInfo::default(),
        }
        .to_packet();
        assert_eq!(li.data.unwrap().len(), 20);
    }

    #[test]
    fn forwarded_bodies_decode_by_opcode() {
        let body = crate::proto::CreateRequest {
            path: "/x".into(),
            data: Some(Bytes::from_static(b"y")),
            acl: crate::data::Acl::open_unsafe(),
            flags: 0,
        }
        .to_bytes();
        let req = ForwardedRequest {
            session_id: 1,
            cxid: 2,
            op: op::CREATE,
            body,
            authinfo: None,
        };
        assert!(matches!(
            req.decode_body(),
            Ok(ForwardedBody::Client(Request::Create(c))) if c.path == "/x"
        ));
        let cs = ForwardedRequest {
            op: op::CREATE_SESSION,
            body: CreateSessionTxn { timeout: 30000 }.to_bytes(),
            ..Default::default()
        };
        assert_eq!(
            cs.decode_body(),
            Ok(ForwardedBody::CreateSession(CreateSessionTxn {
                timeout: 30000
            }))
        );
    }
}
