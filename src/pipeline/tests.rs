//! The core without a network: commits are held back to show what happens while txns are
//! pending, the situation group commit creates under load.

use std::sync::{Arc, Mutex};

use jute::consts::{create_mode, ErrorCode};
use jute::data::Acl;
use jute::proto::*;

use super::*;

#[derive(Clone, Default)]
struct VecSink(Arc<Mutex<Vec<OutMsg>>>);

impl Sink for VecSink {
    fn send(&mut self, msg: OutMsg) -> bool {
        self.0.lock().unwrap().push(msg);
        true
    }
}

impl VecSink {
    fn take(&self) -> Vec<OutMsg> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn now(ms: u64) -> Now {
    Now {
        wall_ms: 1_700_000_000_000 + ms as i64,
        mono_ms: ms,
    }
}

/// A core with one connected session (conn 1), its sink, and its session id.
fn setup() -> (Core, VecSink, i64) {
    let mut core = Core::new(
        CoreConfig {
            tick_ms: 100,
            min_session_timeout: 200,
            max_session_timeout: 2000,
            ..Default::default()
        },
        now(0),
    );
    let sink = VecSink::default();
    let req = ConnectRequest {
        timeout: 1000,
        passwd: vec![0; 16].into(),
        has_read_only: true,
        ..Default::default()
    };
    core.connect(now(0), 1, None, req, Box::new(sink.clone()));
    commit_all(&mut core, 0);
    let sid = match &sink.take()[..] {
        [OutMsg::Connected(r)] => r.session_id,
        other => panic!("{other:?}"),
    };
    (core, sink, sid)
}

/// Commits everything proposed. Every test goes through here, so every txn any test makes
/// also checks the precalculated TxnDigest against the tree once applied.
fn commit_all(core: &mut Core, ms: u64) {
    let proposals = core.take_proposals();
    for p in &proposals {
        let is_error = p.hdr.type_ == jute::consts::op::ERROR;
        assert_eq!(
            p.digest.is_none(),
            is_error,
            "digest presence for {:?}",
            p.hdr
        );
    }
    if let Some(z) = proposals.last().map(|p| p.hdr.zxid) {
        core.commit(now(ms), z);
    }
    assert_eq!(
        core.stats.digest_mismatches, 0,
        "a logged TxnDigest was wrong"
    );
}

fn create(path: &str, flags: i32) -> Incoming {
    Incoming::Request(Request::Create(CreateRequest {
        path: path.into(),
        data: None,
        acl: Acl::open_unsafe(),
        flags,
    }))
}

fn errs(msgs: &[OutMsg]) -> Vec<(i32, i32)> {
    msgs.iter()
        .filter_map(|m| {
            if let OutMsg::Reply { xid, err, .. } = m {
                Some((*xid, *err))
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn pipelined_writes_validate_against_pending_ones() {
    let (mut core, sink, _) = setup();
    core.request(now(1), 1, 1, create("/a", 0));
    core.request(now(1), 1, 2, create("/a/b", 0));
    core.request(now(1), 1, 3, create("/a", 0));
    core.request(
        now(1),
        1,
        4,
        Incoming::Request(Request::Delete(DeleteRequest {
            path: "/a".into(),
            version: -1,
        })),
    );
    assert!(
        sink.take().is_empty(),
        "nothing is answered before the log says durable"
    );
    commit_all(&mut core, 2);
    let e = errs(&sink.take());
    assert_eq!(
        e,
        vec![
            (1, 0),
            (2, 0),
            (3, ErrorCode::NodeExists.code()),
            (4, ErrorCode::NotEmpty.code())
        ]
    );
}

#[test]
fn a_read_waits_for_the_sessions_earlier_write() {
    let (mut core, sink, _) = setup();
    core.request(now(1), 1, 1, create("/r", 0));
    core.request(
        now(1),
        1,
        2,
        Incoming::Request(Request::Exists(ExistsRequest {
            path: "/r".into(),
            watch: false,
        })),
    );
    assert!(
        sink.take().is_empty(),
        "the read must not overtake the pending write"
    );
    commit_all(&mut core, 2);
    assert_eq!(errs(&sink.take()), vec![(1, 0), (2, 0)]);
}

#[test]
fn failed_multi_rolls_back_its_pending_changes() {
    let (mut core, sink, _) = setup();
    core.request(now(1), 1, 1, create("/m", 0));
    let ops = vec![
        MultiOp::Create(CreateRequest {
            path: "/m/x".into(),
            data: None,
            acl: Acl::open_unsafe(),
            flags: 0,
        }),
        MultiOp::Check(CheckVersionRequest {
            path: "/m".into(),
            version: 7,
        }),
    ];
    core.request(now(1), 1, 2, Incoming::Request(Request::Multi(ops)));
    // /m/x must not look pending to the next request.
    core.request(now(1), 1, 3, create("/m/x", 0));
    commit_all(&mut core, 2);
    let msgs = sink.take();
    let multi = msgs.iter().find_map(|m| match m {
        OutMsg::Reply {
            xid: 2,
            body: Response::Multi(r),
            ..
        } => Some(r.clone()),
        _ => None,
    });
    assert_eq!(
        multi,
        Some(vec![
            MultiResult::Error { err: 0 },
            MultiResult::Error {
                err: ErrorCode::BadVersion.code()
            }
        ])
    );
    assert_eq!(errs(&msgs), vec![(1, 0), (2, 0), (3, 0)]);
}

#[test]
fn close_session_deletes_ephemerals_still_pending() {
    let (mut core, sink, sid) = setup();
    core.request(now(1), 1, 1, create("/e", create_mode::EPHEMERAL));
    core.request(now(1), 1, 2, Incoming::Request(Request::CloseSession));
    commit_all(&mut core, 2);
    assert!(core.tree().get("/e").is_none());
    assert!(core.sessions.get(sid).is_none());
    assert!(matches!(sink.take().last(), Some(OutMsg::Close)));
}

#[test]
fn sequential_suffix_sees_pending_creates() {
    let (mut core, sink, _) = setup();
    core.request(now(1), 1, 1, create("/s", 0));
    for x in 2..5 {
        core.request(
            now(1),
            1,
            x,
            create("/s/n-", create_mode::PERSISTENT_SEQUENTIAL),
        );
    }
    commit_all(&mut core, 2);
    let paths: Vec<String> = sink
        .take()
        .into_iter()
        .filter_map(|m| match m {
            OutMsg::Reply {
                body: Response::Create(c),
                ..
            } => Some(c.path),
            _ => None,
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            "/s",
            "/s/n-0000000000",
            "/s/n-0000000001",
            "/s/n-0000000002"
        ]
    );
}

#[test]
fn expiry_fires_in_tick_buckets() {
    let (mut core, sink, sid) = setup();
    core.request(now(10), 1, 1, create("/gone", create_mode::EPHEMERAL));
    commit_all(&mut core, 10);
    sink.take();
    core.tick(now(1000));
    commit_all(&mut core, 1000);
    assert!(
        core.tree().get("/gone").is_some(),
        "1000 ms timeout touched at 10 expires at bucket 1100"
    );
    core.tick(now(1100));
    commit_all(&mut core, 1100);
    assert!(core.tree().get("/gone").is_none());
    assert!(core.sessions.get(sid).is_none());
    assert!(matches!(sink.take().last(), Some(OutMsg::Close)));
}

/// Random writes from two sessions, committed in random-sized groups (so prep often works
/// against pending changes), with failing multis and a session close: every precalculated
/// TxnDigest must equal the tree's digest once its txn is applied (checked in `commit_all`).
#[test]
fn precalculated_digests_match_the_tree_under_pipelining() {
    use crate::clock::{Rng as _, SeededRng};
    for seed in 1..=40u64 {
        let (mut core, _sink, _) = setup();
        let sink2 = VecSink::default();
        let req = ConnectRequest {
            timeout: 1000,
            passwd: vec![0; 16].into(),
            has_read_only: true,
            ..Default::default()
        };
        core.connect(now(0), 2, None, req, Box::new(sink2.clone()));
        commit_all(&mut core, 0);
        let mut rng = SeededRng::new(seed);
        let mut pick = |n: u64| rng.next_u64() % n;
        let names = ["/a", "/b", "/a/x", "/b/y", "/a/x/z"];
        for xid in 1..300 {
            let conn = 1 + pick(2);
            let p = names[pick(names.len() as u64) as usize].to_owned();
            let data = Some(bytes::Bytes::from(format!("d{}", pick(9))));
            let req = match pick(7) {
                0 | 1 => Request::Create(CreateRequest {
                    path: p,
                    data,
                    acl: Acl::open_unsafe(),
                    flags: [0, 1, 2, 4][pick(4) as usize],
                }),
                2 => Request::Delete(DeleteRequest {
                    path: p,
                    version: -1,
                }),
                3 | 4 => Request::SetData(SetDataRequest {
                    path: p,
                    data,
                    version: -1,
                }),
                5 => Request::SetAcl(SetAclRequest {
                    path: p,
                    acl: Acl::open_unsafe(),
                    version: -1,
                }),
                _ => Request::Multi(vec![
                    MultiOp::SetData(SetDataRequest {
                        path: p.clone(),
                        data,
                        version: -1,
                    }),
                    MultiOp::Create(CreateRequest {
                        path: format!("{p}/m"),
                        data: None,
                        acl: Acl::open_unsafe(),
                        flags: 0,
                    }),
                    MultiOp::Check(CheckVersionRequest {
                        path: p,
                        version: if pick(2) == 0 { -1 } else { 99 },
                    }),
                ]),
            };
            core.request(now(1), conn, xid, Incoming::Request(req));
            if pick(5) == 0 {
                commit_all(&mut core, 2);
            }
        }
        core.request(now(3), 2, 1000, Incoming::Request(Request::CloseSession));
        commit_all(&mut core, 4);
        let nonzero = core.tree().digest() != 0;
        assert!(nonzero, "seed {seed}: a tree with nodes has a digest");
    }
}
