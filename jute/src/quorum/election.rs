//! The election port (Java's `QuorumCnxManager` and `FastLeaderElection`).
//!
//! A connection starts with a header from the connecting side, naming its server id and
//! election address; no reply is sent. After it, both directions carry length-prefixed
//! messages (`int32 len`, 1..=512 KiB), each one FLE notification.

use std::borrow::Cow;
use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::Reader;
use crate::error::{Error, Result};
use crate::frame::{decode_frame, encode_frame, FrameError};

/// Header protocol version 1: one election address.
pub const PROTOCOL_VERSION_V1: i64 = -65536;
/// Header protocol version 2 (`multiAddress.enabled`): `|`-separated addresses.
pub const PROTOCOL_VERSION_V2: i64 = -65535;
/// Longest address string a header may carry (Java's `QuorumCnxManager.maxBuffer`).
pub const MAX_ADDRESS_LEN: usize = 2048;
/// Longest election message (Java's `PACKETMAXSIZE`).
pub const MAX_MESSAGE_LEN: usize = 512 * 1024;

/// Which header form a peer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElectionProtocol {
    /// Before 3.5: just the sid, no address.
    Legacy,
    V1,
    V2,
}

/// One election address as the header writes it: `host:port`, IPv6 hosts in brackets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ElectionAddress {
    pub host: String,
    pub port: u16,
}

impl ElectionAddress {
    /// Parses `host:port` or `[v6]:port` as Java's `ConfigUtils.getHostAndPort` splits it, and
    /// requires a port Java's `InetSocketAddress` would take.
    pub fn parse(s: &str) -> Result<ElectionAddress> {
        let bad = Error::Invalid("election address is not host:port");
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or(bad.clone())?;
            (host, after.strip_prefix(':').ok_or(bad.clone())?)
        } else {
            s.split_once(':').ok_or(bad.clone())?
        };
        if port.contains(':') || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad);
        }
        let port = port
            .parse::<u16>()
            .map_err(|_| Error::Invalid("election port out of range"))?;
        Ok(ElectionAddress {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for ElectionAddress {
    /// As Java's `NetUtils.formatInetAddr`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// What the connecting side of an election connection writes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionHeader {
    pub protocol: ElectionProtocol,
    /// The sender's server id. Only the connection from the larger sid survives.
    pub sid: i64,
    /// The sender's election address(es); empty for [`ElectionProtocol::Legacy`].
    pub addresses: Vec<ElectionAddress>,
}

impl ConnectionHeader {
    /// The header a 3.8 server writes (V1) with one address.
    pub fn v1(sid: i64, address: ElectionAddress) -> ConnectionHeader {
        ConnectionHeader {
            protocol: ElectionProtocol::V1,
            sid,
            addresses: vec![address],
        }
    }

    pub fn encode(&self, out: &mut BytesMut) {
        let version = match self.protocol {
            ElectionProtocol::Legacy => {
                out.put_i64(self.sid);
                return;
            }
            ElectionProtocol::V1 => PROTOCOL_VERSION_V1,
            ElectionProtocol::V2 => PROTOCOL_VERSION_V2,
        };
        let addr = self
            .addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("|");
        out.put_i64(version);
        out.put_i64(self.sid);
        out.put_i32(addr.len() as i32);
        out.put_slice(addr.as_bytes());
    }

    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::new();
        self.encode(&mut b);
        b.freeze()
    }

    /// Decodes the header from the front of a connection's first bytes: `Ok(None)` until it
    /// is all there, then the header and how many bytes it took. The address length is
    /// checked (1..=2048) before its bytes are waited for, so at most 2068 bytes are ever
    /// buffered for a header.
    pub fn decode_stream(buf: &[u8]) -> Result<Option<(ConnectionHeader, usize)>> {
        super::decode_prefix(buf, MAX_ADDRESS_LEN, Self::decode)
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<ConnectionHeader> {
        let first = r.read_i64()?;
        let protocol = match first {
            sid if sid >= 0 => {
                return Ok(ConnectionHeader {
                    protocol: ElectionProtocol::Legacy,
                    sid,
                    addresses: Vec::new(),
                })
            }
            PROTOCOL_VERSION_V1 => ElectionProtocol::V1,
            PROTOCOL_VERSION_V2 => ElectionProtocol::V2,
            _ => return Err(Error::Invalid("unknown election protocol version")),
        };
        let sid = r.read_i64()?;
        let len = r.read_i32()?;
        if len <= 0 || len as usize > MAX_ADDRESS_LEN {
            return Err(Error::Invalid("election address length outside 1..=2048"));
        }
        let raw = r.take(len as usize)?;
        let s = std::str::from_utf8(raw).map_err(|_| Error::InvalidUtf8)?;
        // Both versions split on '|'; V1 senders just never write more than one.
        let addresses = s
            .split('|')
            .map(ElectionAddress::parse)
            .collect::<Result<Vec<_>>>()?;
        Ok(ConnectionHeader {
            protocol,
            sid,
            addresses,
        })
    }
}

/// Takes one election message off the front of `buf` (`Ok(None)` if incomplete). A length of
/// zero, below zero or over 512 KiB is an error: Java drops the connection on it.
pub fn decode_message(buf: &mut BytesMut) -> Result<Option<BytesMut>> {
    if buf.len() >= 4 && buf[..4] == [0, 0, 0, 0] {
        return Err(Error::Invalid("empty election message"));
    }
    decode_frame(buf, MAX_MESSAGE_LEN).map_err(|e| match e {
        FrameError::Negative(n) => Error::NegativeLength(n),
        FrameError::TooLarge { len, max } => Error::TooLong { len, limit: max },
    })
}

/// Appends one election message with its length prefix.
pub fn encode_message(payload: &[u8], out: &mut BytesMut) {
    encode_frame(payload, out)
}

/// `QuorumPeer.ServerState`, whose ordinal is on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerState {
    Looking = 0,
    Following = 1,
    Leading = 2,
    Observing = 3,
}

impl ServerState {
    pub fn from_code(code: i32) -> Result<ServerState> {
        Ok(match code {
            0 => ServerState::Looking,
            1 => ServerState::Following,
            2 => ServerState::Leading,
            3 => ServerState::Observing,
            v => {
                return Err(Error::Unknown {
                    what: "server state",
                    value: v,
                })
            }
        })
    }
}

/// The notification layouts Java's receiver tells apart by message length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationLayout {
    /// 28 bytes (before ZOOKEEPER-107): no peerEpoch; the receiver takes epoch(zxid).
    Legacy28,
    /// 40 bytes: peerEpoch, then an int the receiver does not read (3.4 wrote its version,
    /// 1, there).
    Legacy40 { version: i32 },
    /// 3.5 and later: version (2), then the sender's config string.
    WithConfig { version: i32, config: Bytes },
}

/// The current notification version.
pub const NOTIFICATION_VERSION: i32 = 2;

/// One FLE notification: the sender's state and the vote it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub state: ServerState,
    /// The proposed leader's sid.
    pub leader: i64,
    /// The proposed leader's last zxid.
    pub zxid: i64,
    /// The sender's logical clock (election round).
    pub election_epoch: i64,
    /// The proposed leader's currentEpoch.
    pub peer_epoch: i64,
    pub layout: NotificationLayout,
}

impl Notification {
    /// A notification as a 3.5+ server sends it, with the sender's QuorumVerifier string.
    pub fn new(
        state: ServerState,
        leader: i64,
        zxid: i64,
        election_epoch: i64,
        peer_epoch: i64,
        config: impl Into<Bytes>,
    ) -> Notification {
        Notification {
            state,
            leader,
            zxid,
            election_epoch,
            peer_epoch,
            layout: NotificationLayout::WithConfig {
                version: NOTIFICATION_VERSION,
                config: config.into(),
            },
        }
    }

    /// The sender's config, if the layout carries one. Java decodes it as UTF-8 with
    /// replacement, and so does this.
    pub fn config(&self) -> Option<Cow<'_, str>> {
        match &self.layout {
            NotificationLayout::WithConfig { config, .. } => Some(String::from_utf8_lossy(config)),
            _ => None,
        }
    }

    /// The message payload (without the election length prefix).
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_i32(self.state as i32);
        out.put_i64(self.leader);
        out.put_i64(self.zxid);
        out.put_i64(self.election_epoch);
        match &self.layout {
            NotificationLayout::Legacy28 => {}
            NotificationLayout::Legacy40 { version } => {
                out.put_i64(self.peer_epoch);
                out.put_i32(*version);
            }
            NotificationLayout::WithConfig { version, config } => {
                out.put_i64(self.peer_epoch);
                out.put_i32(*version);
                out.put_i32(config.len() as i32);
                out.put_slice(config);
            }
        }
    }

    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::new();
        self.encode(&mut b);
        b.freeze()
    }

    /// Decodes one whole message payload as Java's `WorkerReceiver` does. Java skips (logs and
    /// ignores) every message this rejects.
    ///
    /// Java reads the version only when the message is not exactly 40 bytes, and the config
    /// only when the version is above 1; bytes after what it reads are ignored. A longer
    /// message with version 0 or 1 (which no Java release sends) decodes as `Legacy40`.
    pub fn decode(msg: &[u8]) -> Result<Notification> {
        if msg.len() < 28 {
            return Err(Error::Truncated {
                needed: 28,
                remaining: msg.len(),
            });
        }
        let mut r = Reader::with_limit(msg, msg.len());
        let state = ServerState::from_code(r.read_i32()?)?;
        let leader = r.read_i64()?;
        let zxid = r.read_i64()?;
        let election_epoch = r.read_i64()?;
        let (peer_epoch, layout) = if msg.len() == 28 {
            (super::epoch_of(zxid), NotificationLayout::Legacy28)
        } else {
            let peer_epoch = r.read_i64()?;
            let version = r.read_i32()?;
            if msg.len() == 40 || version <= 1 {
                (peer_epoch, NotificationLayout::Legacy40 { version })
            } else {
                let len = r.read_i32()?;
                if len < 0 {
                    return Err(Error::NegativeLength(len));
                }
                let config = Bytes::copy_from_slice(r.take(len as usize)?);
                (
                    peer_epoch,
                    NotificationLayout::WithConfig { version, config },
                )
            }
        };
        Ok(Notification {
            state,
            leader,
            zxid,
            election_epoch,
            peer_epoch,
            layout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_state() -> impl Strategy<Value = ServerState> {
        prop_oneof![
            Just(ServerState::Looking),
            Just(ServerState::Following),
            Just(ServerState::Leading),
            Just(ServerState::Observing),
        ]
    }

    fn arb_layout() -> impl Strategy<Value = NotificationLayout> {
        prop_oneof![
            Just(NotificationLayout::Legacy28),
            any::<i32>().prop_map(|version| NotificationLayout::Legacy40 { version }),
            (2i32.., proptest::collection::vec(any::<u8>(), 0..300)).prop_map(|(version, c)| {
                NotificationLayout::WithConfig {
                    version,
                    config: Bytes::from(c),
                }
            }),
        ]
    }

    fn arb_notification() -> impl Strategy<Value = Notification> {
        (
            arb_state(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            arb_layout(),
        )
            .prop_map(
                |(state, leader, zxid, election_epoch, peer_epoch, layout)| {
                    // The 28-byte layout has no peerEpoch: the receiver derives it.
                    let peer_epoch = if layout == NotificationLayout::Legacy28 {
                        super::super::epoch_of(zxid)
                    } else {
                        peer_epoch
                    };
                    Notification {
                        state,
                        leader,
                        zxid,
                        election_epoch,
                        peer_epoch,
                        layout,
                    }
                },
            )
    }

    fn arb_address() -> impl Strategy<Value = ElectionAddress> {
        (
            prop_oneof!["[a-z0-9.-]{0,20}", "[0-9a-f:]{2,39}"],
            any::<u16>(),
        )
            .prop_map(|(host, port)| ElectionAddress { host, port })
    }

    fn arb_header() -> impl Strategy<Value = ConnectionHeader> {
        prop_oneof![
            (0i64..).prop_map(|sid| ConnectionHeader {
                protocol: ElectionProtocol::Legacy,
                sid,
                addresses: vec![],
            }),
            (any::<i64>(), arb_address()).prop_map(|(sid, a)| ConnectionHeader::v1(sid, a)),
            (any::<i64>(), proptest::collection::vec(arb_address(), 1..5)).prop_map(
                |(sid, addresses)| ConnectionHeader {
                    protocol: ElectionProtocol::V2,
                    sid,
                    addresses,
                }
            ),
        ]
    }

    proptest! {
        #[test]
        fn notification_round_trips(n in arb_notification()) {
            let b = n.to_bytes();
            prop_assert_eq!(Notification::decode(&b).unwrap(), n);
        }

        #[test]
        fn header_round_trips_in_any_chunking(h in arb_header(), chunk in 1usize..40) {
            let b = h.to_bytes();
            let mut seen = 0;
            let mut got = None;
            while got.is_none() {
                seen = (seen + chunk).min(b.len());
                got = ConnectionHeader::decode_stream(&b[..seen]).unwrap();
                prop_assert!(got.is_some() || seen < b.len());
            }
            prop_assert_eq!(got, Some((h, b.len())));
        }

        #[test]
        fn decoders_never_panic(data in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = Notification::decode(&data);
            let _ = ConnectionHeader::decode_stream(&data);
            let mut buf = BytesMut::from(&data[..]);
            while let Ok(Some(_)) = decode_message(&mut buf) {}
        }
    }

    #[test]
    fn java_build_msg_layout() {
        // FastLeaderElection.buildMsg: 44 bytes + config.
        let n = Notification::new(
            ServerState::Looking,
            3,
            0x2_0000_0005,
            7,
            2,
            &b"version=0"[..],
        );
        let b = n.to_bytes();
        assert_eq!(b.len(), 44 + 9);
        assert_eq!(&b[36..44], &[0, 0, 0, 2, 0, 0, 0, 9]);
    }

    #[test]
    fn malformed_notifications_are_errors() {
        let full = Notification::new(ServerState::Leading, 1, 2, 3, 4, &b"abc"[..]).to_bytes();
        // Shorter than 28, and lengths between the known layouts that Java underflows on.
        for len in [0, 27, 29, 36, 39, 41, 43, 46] {
            assert!(Notification::decode(&full[..len]).is_err(), "len {len}");
        }
        // A config length past the end, or negative.
        let mut b = full.to_vec();
        b[40..44].copy_from_slice(&100i32.to_be_bytes());
        assert!(Notification::decode(&b).is_err());
        b[40..44].copy_from_slice(&(-1i32).to_be_bytes());
        assert!(Notification::decode(&b).is_err());
        // An unknown state.
        let mut b = full.to_vec();
        b[3] = 4;
        assert!(Notification::decode(&b).is_err());
    }

    #[test]
    fn legacy_layouts() {
        let n = Notification::new(ServerState::Following, 9, 0x5_0000_0001, 1, 5, Bytes::new());
        let mut b = n.to_bytes().to_vec();
        b.truncate(28);
        let old = Notification::decode(&b).unwrap();
        assert_eq!(old.peer_epoch, 5, "taken from the zxid");
        assert_eq!(old.layout, NotificationLayout::Legacy28);
        let mut b = n.to_bytes().to_vec();
        b.truncate(40);
        // Java does not read the version of a 40-byte message, whatever it says.
        assert_eq!(
            Notification::decode(&b).unwrap().layout,
            NotificationLayout::Legacy40 { version: 2 }
        );
        // Bytes after the config are ignored, as Java ignores them.
        let mut b = n.to_bytes().to_vec();
        b.extend_from_slice(&[1, 2, 3]);
        assert_eq!(Notification::decode(&b).unwrap(), n);
    }

    #[test]
    fn header_bounds() {
        let mut b = BytesMut::new();
        b.put_i64(PROTOCOL_VERSION_V1);
        b.put_i64(2);
        // Length 0 and 2049 are refused before any address byte arrives.
        for len in [0, -1, 2049] {
            let mut h = b.clone();
            h.put_i32(len);
            assert!(ConnectionHeader::decode_stream(&h).is_err(), "len {len}");
        }
        let mut h = b.clone();
        h.put_i32(2048);
        assert_eq!(ConnectionHeader::decode_stream(&h), Ok(None));
        // An unknown negative version.
        let mut h = BytesMut::new();
        h.put_i64(-3);
        assert!(ConnectionHeader::decode_stream(&h).is_err());
        // Legacy: the bare sid.
        assert_eq!(
            ConnectionHeader::decode_stream(&7i64.to_be_bytes()),
            Ok(Some((
                ConnectionHeader {
                    protocol: ElectionProtocol::Legacy,
                    sid: 7,
                    addresses: vec![]
                },
                8
            )))
        );
    }

    #[test]
    fn addresses_parse_as_java_splits_them() {
        let a = ElectionAddress::parse("[::1]:3888").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("::1", 3888));
        assert_eq!(a.to_string(), "[::1]:3888");
        for bad in [
            "host", "host:", "host:1:2", "[::1]", "[::1]:", "h:65536", "h:-1", "[::1",
        ] {
            assert!(ElectionAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn message_framing_bounds() {
        let mut b = BytesMut::from(&[0u8, 0, 0, 0][..]);
        assert!(decode_message(&mut b).is_err());
        let mut b = BytesMut::new();
        b.put_i32(MAX_MESSAGE_LEN as i32 + 1);
        assert!(decode_message(&mut b).is_err());
        let mut b = BytesMut::new();
        encode_message(b"xyz", &mut b);
        assert_eq!(decode_message(&mut b).unwrap().unwrap(), &b"xyz"[..]);
    }
}
