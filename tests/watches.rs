//! Acceptance item 6: watches.

mod common;

use std::time::Duration;

use common::*;
use jute::consts::{add_watch_mode, event, op, state, watcher_type};
use jute::proto as p;
use zk::{Acls, AddWatchMode, CreateMode, EventType};
use zookeeper_client as zk;

fn persistent() -> zk::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

fn get(path: &str, watch: bool) -> p::GetDataRequest {
    p::GetDataRequest {
        path: path.into(),
        watch,
    }
}

/// (type, path) of each notification, checking the state is SyncConnected.
fn events(frames: &[Reply]) -> Vec<(i32, String)> {
    frames
        .iter()
        .map(|r| {
            assert!(
                r.is_notification(),
                "expected a notification, got {:?}",
                r.header
            );
            assert_eq!(r.header.err, 0);
            let e = r.event();
            assert_eq!(e.state, state::SYNC_CONNECTED);
            (e.type_, e.path)
        })
        .collect()
}

fn ev(t: i32, path: &str) -> (i32, String) {
    (t, path.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_watches_fire_exactly_once() {
    let mut server = Server::start().await;
    let c = server.client().await;
    t(c.create("/w", b"", &persistent())).await.unwrap();
    t(c.create("/gone", b"", &persistent())).await.unwrap();
    let mut r = Raw::connect(&server.addr()).await;
    assert_eq!(r.call(op::GET_DATA, &get("/w", true)).await.header.err, 0);
    let ex = r
        .call(
            op::EXISTS,
            &p::ExistsRequest {
                path: "/w2".into(),
                watch: true,
            },
        )
        .await;
    assert_eq!(
        ex.header.err, -101,
        "exists on a missing node: NONODE, watch still set"
    );
    assert_eq!(
        r.call(
            op::GET_CHILDREN,
            &p::GetChildrenRequest {
                path: "/w".into(),
                watch: true
            }
        )
        .await
        .header
        .err,
        0
    );
    assert_eq!(
        r.call(
            op::GET_CHILDREN2,
            &p::GetChildren2Request {
                path: "/gone".into(),
                watch: true
            }
        )
        .await
        .header
        .err,
        0
    );
    // getData on a missing node sets no watch.
    assert_eq!(
        r.call(op::GET_DATA, &get("/w3", true)).await.header.err,
        -101
    );

    t(c.set_data("/w", b"1", None)).await.unwrap();
    t(c.set_data("/w", b"2", None)).await.unwrap();
    t(c.create("/w2", b"", &persistent())).await.unwrap();
    t(c.set_data("/w2", b"x", None)).await.unwrap();
    t(c.create("/w/c1", b"", &persistent())).await.unwrap();
    t(c.create("/w/c2", b"", &persistent())).await.unwrap();
    t(c.delete("/gone", None)).await.unwrap();
    t(c.create("/w3", b"", &persistent())).await.unwrap();
    let got = events(&r.ping().await);
    assert_eq!(
        got,
        vec![
            ev(event::NODE_DATA_CHANGED, "/w"),
            ev(event::NODE_CREATED, "/w2"),
            ev(event::NODE_CHILDREN_CHANGED, "/w"),
            ev(event::NODE_DELETED, "/gone"),
        ],
        "each one-shot watch fires once, in zxid order"
    );
    // Nothing more later either.
    t(c.set_data("/w", b"3", None)).await.unwrap();
    t(c.delete("/w/c1", None)).await.unwrap();
    assert!(r.ping().await.is_empty(), "fired watches are gone");
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_watches_through_the_client() {
    let mut server = Server::start().await;
    let a = server.client().await;
    let b = server.client().await;
    t(a.create("/d", b"", &persistent())).await.unwrap();

    let (_, _, w) = t(a.get_and_watch_data("/d")).await.unwrap();
    t(b.set_data("/d", b"x", None)).await.unwrap();
    let e = t(w.changed()).await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeDataChanged, "/d")
    );

    let (stat, w) = t(a.check_and_watch_stat("/d/new")).await.unwrap();
    assert!(stat.is_none());
    t(b.create("/d/new", b"", &persistent())).await.unwrap();
    let e = t(w.changed()).await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeCreated, "/d/new")
    );

    let (_, w) = t(a.list_and_watch_children("/d")).await.unwrap();
    t(b.create("/d/second", b"", &persistent())).await.unwrap();
    let e = t(w.changed()).await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeChildrenChanged, "/d")
    );

    let (_, _, dw) = t(a.get_and_watch_data("/d/new")).await.unwrap();
    let (_, _, cw) = t(a.get_and_watch_children("/d/new")).await.unwrap();
    t(b.delete("/d/new", None)).await.unwrap();
    let e = t(dw.changed()).await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeDeleted, "/d/new")
    );
    let e = t(cw.changed()).await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeDeleted, "/d/new")
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_and_recursive_watches_coexist_with_a_one_shot_watch() {
    let mut server = Server::start().await;
    let a = server.client().await;
    let b = server.client().await;
    t(a.create("/pw", b"", &persistent())).await.unwrap();

    let mut pw = t(a.watch("/pw", AddWatchMode::Persistent)).await.unwrap();
    let mut rw = t(a.watch("/pw", AddWatchMode::PersistentRecursive))
        .await
        .unwrap();
    let (_, _, ow) = t(a.get_and_watch_data("/pw")).await.unwrap();

    t(b.set_data("/pw", b"1", None)).await.unwrap();
    let e = t(ow.changed()).await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeDataChanged, "/pw")
    );
    let e = t(pw.changed()).await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeDataChanged, "/pw")
    );
    let e = t(rw.changed()).await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeDataChanged, "/pw")
    );

    // The one-shot watch is gone; the persistent ones must still be there (3.9: the getData
    // watch did not replace the persistent registrations).
    t(b.set_data("/pw", b"2", None)).await.unwrap();
    let e = within(
        "persistent watch still fires after the one-shot fired",
        Duration::from_secs(5),
        pw.changed(),
    )
    .await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeDataChanged, "/pw")
    );
    let e = within(
        "recursive watch still fires",
        Duration::from_secs(5),
        rw.changed(),
    )
    .await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeDataChanged, "/pw")
    );

    t(b.create("/pw/c", b"", &persistent())).await.unwrap();
    t(b.set_data("/pw/c", b"x", None)).await.unwrap();
    t(b.create("/pw/c/deep", b"", &persistent())).await.unwrap();
    t(b.delete("/pw/c/deep", None)).await.unwrap();
    t(b.delete("/pw/c", None)).await.unwrap();

    // Persistent (non-recursive): only /pw's own events, children changes included.
    let e = t(pw.changed()).await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeChildrenChanged, "/pw")
    );
    let e = t(pw.changed()).await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeChildrenChanged, "/pw")
    );
    // Recursive: every node below, never NodeChildrenChanged.
    let mut got = Vec::new();
    for _ in 0..5 {
        let e = t(rw.changed()).await;
        got.push((e.event_type, e.path));
    }
    assert_eq!(
        got,
        vec![
            (EventType::NodeCreated, "/pw/c".to_string()),
            (EventType::NodeDataChanged, "/pw/c".to_string()),
            (EventType::NodeCreated, "/pw/c/deep".to_string()),
            (EventType::NodeDeleted, "/pw/c/deep".to_string()),
            (EventType::NodeDeleted, "/pw/c".to_string()),
        ]
    );
    // And a persistent watch on a node that does not exist yet survives create/delete cycles.
    let mut later = t(a.watch("/later", AddWatchMode::Persistent))
        .await
        .unwrap();
    t(b.create("/later", b"", &persistent())).await.unwrap();
    t(b.delete("/later", None)).await.unwrap();
    t(b.create("/later", b"", &persistent())).await.unwrap();
    for expected in [
        EventType::NodeCreated,
        EventType::NodeDeleted,
        EventType::NodeCreated,
    ] {
        assert_eq!(t(later.changed()).await.event_type, expected);
    }
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_modes_coexist_on_the_wire() {
    let mut server = Server::start().await;
    let c = server.client().await;
    t(c.create("/cw", b"", &persistent())).await.unwrap();
    let mut r = Raw::connect(&server.addr()).await;
    let add = |mode| p::AddWatchRequest {
        path: "/cw".into(),
        mode,
    };
    let reply = r
        .call(op::ADD_WATCH, &add(add_watch_mode::PERSISTENT))
        .await;
    assert_eq!(reply.header.err, 0);
    assert_eq!(
        reply.decode::<p::ErrorResponse>().err,
        0,
        "addWatch answers an ErrorResponse{{0}} body"
    );
    assert_eq!(r.call(op::GET_DATA, &get("/cw", true)).await.header.err, 0);
    t(c.set_data("/cw", b"1", None)).await.unwrap();
    t(c.set_data("/cw", b"2", None)).await.unwrap();
    // One notification per setData: the connection is told once per event, and the
    // persistent watch outlives the one-shot one.
    let got = events(&r.ping().await);
    assert_eq!(
        got,
        vec![
            ev(event::NODE_DATA_CHANGED, "/cw"),
            ev(event::NODE_DATA_CHANGED, "/cw")
        ]
    );

    // Recursive watch on / sees a whole subtree's data events and no child events.
    let reply = r
        .call(
            op::ADD_WATCH,
            &p::AddWatchRequest {
                path: "/".into(),
                mode: add_watch_mode::PERSISTENT_RECURSIVE,
            },
        )
        .await;
    assert_eq!(reply.header.err, 0);
    t(c.create("/cw/k", b"", &persistent())).await.unwrap();
    t(c.create("/other", b"", &persistent())).await.unwrap();
    let got = events(&r.ping().await);
    assert_eq!(
        got,
        vec![
            ev(event::NODE_CREATED, "/cw/k"),
            // The persistent watch on /cw fires NodeChildrenChanged for its child.
            ev(event::NODE_CHILDREN_CHANGED, "/cw"),
            ev(event::NODE_CREATED, "/other"),
        ]
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_precedes_the_reply_to_the_write_that_caused_it() {
    let mut server = Server::start().await;
    let c = server.client().await;
    t(c.create("/o", b"", &persistent())).await.unwrap();

    // Strong form on the wire: the watcher itself writes.
    let mut r = Raw::connect(&server.addr()).await;
    for i in 0..20 {
        assert_eq!(r.call(op::GET_DATA, &get("/o", true)).await.header.err, 0);
        let set = r
            .send(
                op::SET_DATA,
                &p::SetDataRequest {
                    path: "/o".into(),
                    data: Some(vec![i as u8].into()),
                    version: -1,
                },
            )
            .await;
        let read = r.send(op::GET_DATA, &get("/o", false)).await;
        let first = r.read().await;
        assert!(
            first.is_notification(),
            "round {i}: the event must come before the setData reply, got {:?}",
            first.header
        );
        assert_eq!(first.event().type_, event::NODE_DATA_CHANGED);
        let second = r.read().await;
        assert_eq!(
            (second.header.xid, second.header.err),
            (set, 0),
            "then the setData reply"
        );
        let third = r.read().await;
        assert_eq!(third.header.xid, read);
        assert_eq!(
            third.decode::<p::GetDataResponse>().data.as_deref(),
            Some(&[i as u8][..])
        );
    }

    // Cross-client: B writes; A's next read reply comes after A's notification.
    let b = server.client().await;
    assert_eq!(r.call(op::GET_DATA, &get("/o", true)).await.header.err, 0);
    t(b.set_data("/o", b"from-b", None)).await.unwrap();
    let xid = r.send(op::GET_DATA, &get("/o", false)).await;
    let first = r.read().await;
    assert!(
        first.is_notification(),
        "event before the read that shows the change"
    );
    let second = r.read().await;
    assert_eq!(second.header.xid, xid);
    assert_eq!(
        second.decode::<p::GetDataResponse>().data.as_deref(),
        Some(&b"from-b"[..])
    );

    // Through the real client: once set_data returns, the event is already there.
    for i in 0..10 {
        let (_, _, w) = t(c.get_and_watch_data("/o")).await.unwrap();
        t(c.set_data("/o", &[i], None)).await.unwrap();
        let e = tokio::time::timeout(Duration::ZERO, w.changed())
            .await
            .unwrap_or_else(|_| {
                panic!("round {i}: watch event not delivered before the setData result")
            });
        assert_eq!(e.event_type, EventType::NodeDataChanged);
    }
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_zxids_are_the_txn_zxids() {
    // 3.9 sends the triggering txn's zxid in the notification header (3.8 sends -1).
    let mut server = Server::start().await;
    let a = server.client().await;
    let b = server.client().await;
    t(a.create("/z", b"", &persistent())).await.unwrap();
    let (_, _, w) = t(a.get_and_watch_data("/z")).await.unwrap();
    let stat = t(b.set_data("/z", b"1", None)).await.unwrap();
    let e = t(w.changed()).await;
    assert_eq!(e.zxid, stat.mzxid, "event zxid = the setData's zxid");

    let mut r = Raw::connect(&server.addr()).await;
    assert_eq!(
        r.call(
            op::GET_CHILDREN,
            &p::GetChildrenRequest {
                path: "/z".into(),
                watch: true
            }
        )
        .await
        .header
        .err,
        0
    );
    let (s, _) = t(b.create("/z/k", b"", &persistent())).await.unwrap();
    let got = r.ping().await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header.zxid, s.czxid,
        "notification header zxid = the create's zxid"
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_watches_catches_up_before_its_reply() {
    let mut server = Server::start().await;
    let c = server.client().await;
    for path in ["/sw", "/swc", "/gone", "/same"] {
        t(c.create(path, b"", &persistent())).await.unwrap();
    }
    let (s, _) = t(c.create("/marker", b"", &persistent())).await.unwrap();
    let seen = s.czxid;
    t(c.set_data("/sw", b"changed", None)).await.unwrap();
    t(c.create("/swc/kid", b"", &persistent())).await.unwrap();
    t(c.create("/new", b"", &persistent())).await.unwrap();
    t(c.delete("/gone", None)).await.unwrap();

    let mut r = Raw::connect(&server.addr()).await;
    let sw = p::SetWatches {
        relative_zxid: seen,
        data_watches: vec!["/sw".into(), "/same".into(), "/gone".into()],
        exist_watches: vec!["/new".into(), "/absent".into()],
        child_watches: vec!["/swc".into(), "/same".into()],
    };
    let xid = r.send(op::SET_WATCHES, &sw).await;
    let (before, reply) = r.read_until_xid(xid).await;
    assert_eq!(reply.header.err, 0);
    let mut got = events(&before);
    got.sort();
    let mut expected = vec![
        ev(event::NODE_DATA_CHANGED, "/sw"),
        ev(event::NODE_DELETED, "/gone"),
        ev(event::NODE_CREATED, "/new"),
        ev(event::NODE_CHILDREN_CHANGED, "/swc"),
    ];
    expected.sort();
    assert_eq!(
        got, expected,
        "catch-up events come before the setWatches reply"
    );
    // The unchanged ones were registered.
    t(c.set_data("/same", b"now", None)).await.unwrap();
    t(c.create("/absent", b"", &persistent())).await.unwrap();
    t(c.create("/same/k", b"", &persistent())).await.unwrap();
    let got = events(&r.ping().await);
    assert_eq!(
        got,
        vec![
            ev(event::NODE_DATA_CHANGED, "/same"),
            ev(event::NODE_CREATED, "/absent"),
            ev(event::NODE_CHILDREN_CHANGED, "/same"),
        ]
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_remove_watches() {
    let mut server = Server::start().await;
    let c = server.client().await;
    t(c.create("/rw", b"", &persistent())).await.unwrap();
    let mut r = Raw::connect(&server.addr()).await;
    let req = |type_| p::CheckWatchesRequest {
        path: "/rw".into(),
        type_,
    };
    let rm = |type_| p::RemoveWatchesRequest {
        path: "/rw".into(),
        type_,
    };

    assert_eq!(
        r.call(op::CHECK_WATCHES, &req(watcher_type::DATA))
            .await
            .header
            .err,
        -121,
        "no watch yet: NOWATCHER"
    );
    assert_eq!(r.call(op::GET_DATA, &get("/rw", true)).await.header.err, 0);
    assert_eq!(
        r.call(op::CHECK_WATCHES, &req(watcher_type::DATA))
            .await
            .header
            .err,
        0
    );
    assert_eq!(
        r.call(op::CHECK_WATCHES, &req(watcher_type::CHILDREN))
            .await
            .header
            .err,
        -121
    );
    assert_eq!(
        r.call(op::CHECK_WATCHES, &req(watcher_type::ANY))
            .await
            .header
            .err,
        0
    );
    assert_eq!(
        r.call(op::REMOVE_WATCHES, &rm(watcher_type::CHILDREN))
            .await
            .header
            .err,
        -121
    );
    assert_eq!(
        r.call(op::REMOVE_WATCHES, &rm(watcher_type::DATA))
            .await
            .header
            .err,
        0
    );
    assert_eq!(
        r.call(op::REMOVE_WATCHES, &rm(watcher_type::DATA))
            .await
            .header
            .err,
        -121,
        "already removed"
    );
    t(c.set_data("/rw", b"x", None)).await.unwrap();
    assert!(
        r.ping().await.is_empty(),
        "a removed watch does not fire, and removal sends no event"
    );

    assert_eq!(
        r.call(
            op::GET_CHILDREN,
            &p::GetChildrenRequest {
                path: "/rw".into(),
                watch: true
            }
        )
        .await
        .header
        .err,
        0
    );
    assert_eq!(r.call(op::GET_DATA, &get("/rw", true)).await.header.err, 0);
    assert_eq!(
        r.call(op::REMOVE_WATCHES, &rm(watcher_type::ANY))
            .await
            .header
            .err,
        0
    );
    assert_eq!(
        r.call(op::CHECK_WATCHES, &req(watcher_type::ANY))
            .await
            .header
            .err,
        -121
    );
    t(c.create("/rw/k", b"", &persistent())).await.unwrap();
    t(c.set_data("/rw", b"y", None)).await.unwrap();
    assert!(r.ping().await.is_empty());

    // A watch belongs to its connection: another connection's removal finds nothing.
    assert_eq!(r.call(op::GET_DATA, &get("/rw", true)).await.header.err, 0);
    let mut other = Raw::connect(&server.addr()).await;
    assert_eq!(
        other
            .call(op::REMOVE_WATCHES, &rm(watcher_type::DATA))
            .await
            .header
            .err,
        -121
    );
    t(c.set_data("/rw", b"z", None)).await.unwrap();
    assert_eq!(
        events(&r.ping().await),
        vec![ev(event::NODE_DATA_CHANGED, "/rw")]
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_persistent_watches_by_mode() {
    // WatcherType 4 (Persistent) and 5 (PersistentRecursive) exist in 3.9 only.
    let mut server = Server::start().await;
    let c = server.client().await;
    t(c.create("/pm", b"", &persistent())).await.unwrap();
    let mut r = Raw::connect(&server.addr()).await;
    let req = |type_| p::CheckWatchesRequest {
        path: "/pm".into(),
        type_,
    };
    let rm = |type_| p::RemoveWatchesRequest {
        path: "/pm".into(),
        type_,
    };
    let add = |mode| p::AddWatchRequest {
        path: "/pm".into(),
        mode,
    };
    assert_eq!(
        r.call(op::ADD_WATCH, &add(add_watch_mode::PERSISTENT))
            .await
            .header
            .err,
        0
    );
    assert_eq!(
        r.call(op::ADD_WATCH, &add(add_watch_mode::PERSISTENT_RECURSIVE))
            .await
            .header
            .err,
        0
    );
    assert_eq!(r.call(op::GET_DATA, &get("/pm", true)).await.header.err, 0);
    assert_eq!(
        r.call(op::CHECK_WATCHES, &req(watcher_type::PERSISTENT))
            .await
            .header
            .err,
        0
    );
    assert_eq!(
        r.call(op::CHECK_WATCHES, &req(watcher_type::PERSISTENT_RECURSIVE))
            .await
            .header
            .err,
        0
    );
    // Removing the standard data watch leaves the persistent ones.
    assert_eq!(
        r.call(op::REMOVE_WATCHES, &rm(watcher_type::DATA))
            .await
            .header
            .err,
        0
    );
    assert_eq!(
        r.call(op::CHECK_WATCHES, &req(watcher_type::PERSISTENT))
            .await
            .header
            .err,
        0
    );
    assert_eq!(
        r.call(op::REMOVE_WATCHES, &rm(watcher_type::PERSISTENT))
            .await
            .header
            .err,
        0
    );
    assert_eq!(
        r.call(op::CHECK_WATCHES, &req(watcher_type::PERSISTENT))
            .await
            .header
            .err,
        -121
    );
    assert_eq!(
        r.call(op::CHECK_WATCHES, &req(watcher_type::PERSISTENT_RECURSIVE))
            .await
            .header
            .err,
        0
    );
    // Only the recursive watch is left: a child create gives NodeCreated of the child only.
    t(c.create("/pm/k", b"", &persistent())).await.unwrap();
    assert_eq!(
        events(&r.ping().await),
        vec![ev(event::NODE_CREATED, "/pm/k")]
    );
    assert_eq!(
        r.call(op::REMOVE_WATCHES, &rm(watcher_type::PERSISTENT_RECURSIVE))
            .await
            .header
            .err,
        0
    );
    t(c.set_data("/pm", b"x", None)).await.unwrap();
    assert!(r.ping().await.is_empty());
    server.assert_healthy();
}
