//! Decodes quorum and election traffic captured from a Java ZooKeeper 3.8.0 ensemble
//! (`tests/fixtures/capture.py`; what each file holds is in its docstring) and checks the
//! decoded values and that re-encoding the typed messages gives back the captured bytes.

use bytes::{Bytes, BytesMut};
use jute::consts::op;
use jute::data::Id;
use jute::proto::Request;
use jute::quorum::election::{decode_message, encode_message, Notification};
use jute::quorum::*;
use jute::txn::{CreateSessionTxn, Txn};
use jute::Jute;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/java-3.8.0");
const EPOCH1: i64 = 1 << 32;
/// The leader's and the learners' static config, as the leader sends it in NEWLEADER.
const LEADER_CONFIG: &str = "server.1=127.0.0.1:24611:24621:participant\n\
                             server.2=127.0.0.1:24612:24622:participant\n\
                             server.3=127.0.0.1:24613:24623:participant\nversion=0";

/// The leader (server 2, epoch 1) opens every sync with this.
const LEADER_INFO: LeaderMessage = LeaderMessage::LeaderInfo {
    zxid: EPOCH1,
    protocol_version: 0x10000,
};

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// What a learner's leader stream holds: typed messages, and after a SNAP the raw snapshot
/// stream (kept as bytes: it is the storage crate's format, not a packet).
#[derive(Debug)]
enum FromLeader {
    Msg(LeaderMessage),
    Snapshot(Bytes),
}

/// The snapshot stream ends with the ustring "BenWasHere". Finding it by search is a test
/// shortcut; a learner parses the stream with the snapshot decoder.
fn split_snapshot(buf: &mut BytesMut) -> Bytes {
    let sig = b"\0\0\0\x0aBenWasHere";
    let at = buf
        .windows(sig.len())
        .position(|w| w == sig)
        .expect("snapshot signature");
    buf.split_to(at + sig.len()).freeze()
}

/// Decodes a captured quorum stream packet by packet with `typed`, checks that re-encoding each
/// typed value with `back` gives the captured bytes, and returns the values. `raw_after` may
/// take raw bytes that follow a packet (the snapshot stream after SNAP).
fn replay<T>(
    name: &str,
    typed: impl Fn(&QuorumPacket) -> T,
    back: impl Fn(&T) -> QuorumPacket,
    raw_after: impl Fn(&T, &mut BytesMut) -> Option<Bytes>,
) -> Vec<(T, Option<Bytes>)> {
    let raw = read(name);
    let mut buf = BytesMut::from(&raw[..]);
    let dec = PacketDecoder::default();
    let mut out = Vec::new();
    let mut wire = BytesMut::new();
    while let Some(p) = dec.decode(&mut buf).unwrap() {
        let m = typed(&p);
        back(&m).encode(&mut wire);
        let extra = raw_after(&m, &mut buf);
        if let Some(x) = &extra {
            wire.extend_from_slice(x);
        }
        out.push((m, extra));
    }
    assert!(buf.is_empty(), "{name}: {} bytes left", buf.len());
    assert_eq!(
        &wire[..],
        &raw[..],
        "{name}: typed messages re-encode to Java's bytes"
    );
    out
}

fn leader_stream(name: &str) -> Vec<FromLeader> {
    let items = replay(
        name,
        |p| LeaderMessage::from_packet(p).unwrap(),
        LeaderMessage::to_packet,
        |m, buf| matches!(m, LeaderMessage::Snap { .. }).then(|| split_snapshot(buf)),
    );
    let mut out = Vec::new();
    for (m, snapshot) in items {
        out.push(FromLeader::Msg(m));
        out.extend(snapshot.map(FromLeader::Snapshot));
    }
    out
}

fn learner_stream(name: &str) -> Vec<LearnerMessage> {
    replay(
        name,
        |p| LearnerMessage::from_packet(p).unwrap(),
        LearnerMessage::to_packet,
        |_, _| None,
    )
    .into_iter()
    .map(|(m, _)| m)
    .collect()
}

fn msgs(stream: &[FromLeader]) -> Vec<&LeaderMessage> {
    stream
        .iter()
        .filter_map(|f| match f {
            FromLeader::Msg(m) => Some(m),
            FromLeader::Snapshot(_) => None,
        })
        .collect()
}

/// Server 3's first packet: its sid, Zab 1.0, static config (version 0), accepted epoch.
fn server3_follower_info(zxid: i64) -> LearnerMessage {
    LearnerMessage::FollowerInfo {
        zxid,
        info: LearnerInfo {
            server_id: 3,
            protocol_version: 0x10000,
            config_version: 0,
        },
    }
}

/// Server 3 joins an established leader (server 2, epoch 1) with an empty log: the leader
/// sends SNAP. Then a session and `create /x y` go through server 3.
#[test]
fn late_joiner_snap_sync_and_broadcast() {
    let up = learner_stream("quorum-to2-1.out");
    use LearnerMessage as L;
    assert_eq!(up[0], server3_follower_info(0));
    assert_eq!(
        up[1],
        L::AckEpoch {
            zxid: 0,
            current_epoch: 0
        }
    );
    // The NEWLEADER ACK and the UPTODATE ACK.
    assert_eq!(up[2], L::Ack { zxid: EPOCH1 });
    assert_eq!(up[3], L::Ack { zxid: EPOCH1 });

    // The session: createSession forwarded with its timeout, id allocated as sid << 56.
    let requests: Vec<&ForwardedRequest> = up
        .iter()
        .filter_map(|m| match m {
            L::Request(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(requests.len(), 2);
    let session = requests[0].session_id;
    assert_eq!(session >> 56, 3, "learner-allocated session id");
    assert_eq!(requests[0].op, op::CREATE_SESSION);
    assert_eq!(
        requests[0].decode_body(),
        Ok(ForwardedBody::CreateSession(CreateSessionTxn {
            timeout: 30000
        }))
    );
    let create = requests[1];
    assert_eq!(
        (create.session_id, create.cxid, create.op),
        (session, 1, op::CREATE)
    );
    assert_eq!(
        create.authinfo,
        Some(vec![Id {
            scheme: "ip".into(),
            id: "127.0.0.1".into()
        }])
    );
    match create.decode_body().unwrap() {
        ForwardedBody::Client(Request::Create(c)) => {
            assert_eq!(c.path, "/x");
            assert_eq!(c.data.as_deref(), Some(&b"y"[..]));
        }
        other => panic!("{other:?}"),
    }
    // Each proposal ACKed; a PING reply reports the session as touched.
    assert!(up.contains(&L::Ack { zxid: EPOCH1 + 1 }));
    assert!(up.contains(&L::Ack { zxid: EPOCH1 + 2 }));
    assert!(up.iter().any(|m| matches!(m, L::Ping { touches, .. }
        if touches == &[SessionTouch { session_id: session, timeout: 30000 }])));

    let down = leader_stream("quorum-to2-1.in");
    let m = msgs(&down);
    use LeaderMessage as D;
    assert_eq!(*m[0], LEADER_INFO);
    assert_eq!(*m[1], D::Snap { zxid: EPOCH1 });
    assert!(matches!(&down[2], FromLeader::Snapshot(s) if s.len() > 100));
    assert_eq!(
        *m[2],
        D::NewLeader {
            zxid: EPOCH1,
            config: Some(LEADER_CONFIG.into())
        }
    );
    assert_eq!(*m[3], D::UpToDate);
    let proposals: Vec<_> = m
        .iter()
        .filter_map(|x| match x {
            D::Proposal { zxid, entry } => Some((*zxid, entry)),
            _ => None,
        })
        .collect();
    assert_eq!(proposals.len(), 2);
    let (z, e) = proposals[0];
    assert_eq!(
        (z, e.header.zxid, e.header.client_id),
        (EPOCH1 + 1, EPOCH1 + 1, session)
    );
    assert_eq!(
        e.txn,
        Txn::CreateSession(CreateSessionTxn { timeout: 30000 })
    );
    let (z, e) = proposals[1];
    assert_eq!(
        (z, e.header.zxid, e.header.cxid),
        (EPOCH1 + 2, EPOCH1 + 2, 1)
    );
    match &e.txn {
        Txn::Create(c) => {
            assert_eq!(c.path, "/x");
            assert_eq!(c.data.as_deref(), Some(&b"y"[..]));
            assert!(!c.ephemeral);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.digest.as_ref().map(|d| d.version),
        Some(2),
        "Java appends a TxnDigest"
    );
    // Each PROPOSAL is followed by its COMMIT, in order.
    let order: Vec<_> = m
        .iter()
        .filter_map(|x| match x {
            D::Proposal { zxid, .. } => Some(("P", *zxid)),
            D::Commit { zxid } => Some(("C", *zxid)),
            _ => None,
        })
        .collect();
    assert_eq!(
        order,
        [
            ("P", EPOCH1 + 1),
            ("C", EPOCH1 + 1),
            ("P", EPOCH1 + 2),
            ("C", EPOCH1 + 2)
        ]
    );
    assert!(m.contains(&&D::Ping { zxid: EPOCH1 + 2 }));
}

/// Server 3 restarts after missing `set /x z`: it already accepted epoch 1 (ACKEPOCH -1) and
/// its last zxid is in the leader's committed log, so the leader sends DIFF and the missed
/// txns before NEWLEADER.
#[test]
fn restart_diff_sync() {
    let up = learner_stream("quorum-to2-2.out");
    assert_eq!(up[0], server3_follower_info(EPOCH1));
    assert_eq!(
        up[1],
        LearnerMessage::AckEpoch {
            zxid: EPOCH1 + 2,
            current_epoch: message::EPOCH_ALREADY_ACCEPTED
        }
    );

    let down = leader_stream("quorum-to2-2.in");
    let m = msgs(&down);
    assert_eq!(*m[0], LEADER_INFO);
    // The set went through server 1 in its own session: createSession then setData.
    assert_eq!(*m[1], LeaderMessage::Diff { zxid: EPOCH1 + 4 });
    let LeaderMessage::Proposal { zxid, entry } = m[2] else {
        panic!("{:?}", m[2])
    };
    assert_eq!(*zxid, EPOCH1 + 3);
    assert_eq!(entry.header.client_id >> 56, 1, "a session of server 1");
    assert_eq!(*m[3], LeaderMessage::Commit { zxid: EPOCH1 + 3 });
    let LeaderMessage::Proposal { zxid, entry } = m[4] else {
        panic!("{:?}", m[4])
    };
    assert_eq!(*zxid, EPOCH1 + 4);
    match &entry.txn {
        Txn::SetData(s) => {
            assert_eq!((s.path.as_str(), s.version), ("/x", 1));
            assert_eq!(s.data.as_deref(), Some(&b"z"[..]));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(*m[5], LeaderMessage::Commit { zxid: EPOCH1 + 4 });
    assert!(matches!(m[6], LeaderMessage::NewLeader { zxid, .. } if *zxid == EPOCH1));
    assert_eq!(*m[7], LeaderMessage::UpToDate);
}

/// Server 3's election connections to servers 1 and 2: the V1 header, its LOOKING vote and
/// the answers. Returns (header, notifications sent, notifications received).
fn election(conn: &str) -> (ConnectionHeader, Vec<Notification>, Vec<Notification>) {
    let out = read(&format!("{conn}.out"));
    let (header, n) = ConnectionHeader::decode_stream(&out).unwrap().unwrap();
    assert_eq!(&header.to_bytes()[..], &out[..n]);
    let parse = |raw: &[u8]| {
        let mut buf = BytesMut::from(raw);
        let mut wire = BytesMut::new();
        let mut v = Vec::new();
        while let Some(msg) = decode_message(&mut buf).unwrap() {
            let note = Notification::decode(&msg).unwrap();
            encode_message(&note.to_bytes(), &mut wire);
            v.push(note);
        }
        assert!(buf.is_empty());
        assert_eq!(&wire[..], raw, "notifications re-encode to Java's bytes");
        v
    };
    (
        header,
        parse(&out[n..]),
        parse(&read(&format!("{conn}.in"))),
    )
}

#[test]
fn election_header_and_notifications() {
    for (conn, my_zxid, my_epoch) in [
        ("election-to1-from-sid3-1", 0, 0),
        ("election-to2-from-sid3-1", 0, 0),
        ("election-to1-from-sid3-2", EPOCH1 + 2, 1),
        ("election-to2-from-sid3-2", EPOCH1 + 2, 1),
    ] {
        let (header, sent, got) = election(conn);
        assert_eq!(
            header,
            ConnectionHeader::v1(
                3,
                ElectionAddress {
                    host: "127.0.0.1".into(),
                    port: 24623
                }
            ),
            "{conn}"
        );
        // Server 3 starts by voting for itself with its last zxid and current epoch.
        let first = &sent[0];
        assert_eq!(first.state, ServerState::Looking, "{conn}");
        assert_eq!(
            (first.leader, first.zxid, first.peer_epoch),
            (3, my_zxid, my_epoch),
            "{conn}"
        );
        let cfg = first.config().expect("3.8 sends its config");
        assert!(
            cfg.contains("server.3=127.0.0.1:24613:24623:participant"),
            "{cfg}"
        );
        assert!(cfg.ends_with("version=0"), "{cfg}");
        // The established ensemble answers with its vote for leader 2 in epoch 1.
        assert!(
            got.iter().any(
                |n| matches!(n.state, ServerState::Following | ServerState::Leading)
                    && n.leader == 2
                    && n.peer_epoch == 1
            ),
            "{conn}: {got:?}"
        );
        for n in &got {
            assert_eq!(n.config().as_deref(), Some(LEADER_CONFIG), "{conn}");
        }
    }
}
