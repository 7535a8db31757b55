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

fn commit_all(core: &mut Core, ms: u64) {
    let last = core.take_proposals().last().map(|p| p.hdr.zxid);
    if let Some(z) = last {
        core.commit(now(ms), z);
    }
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
