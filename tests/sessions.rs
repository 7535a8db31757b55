//! Acceptance item 4: sessions exactly as ZooKeeper.

mod common;

use std::time::Duration;

use common::*;
use jute::consts::op;
use zk::{Acls, CreateMode, EventType};
use zookeeper_client as zk;

fn persistent() -> zk::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

fn ephemeral() -> zk::CreateOptions<'static> {
    CreateMode::Ephemeral.with_acls(Acls::anyone_all())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_is_clamped_to_default_bounds_of_2_and_20_ticks() {
    // tickTime=500: minSessionTimeout=1000, maxSessionTimeout=10000.
    let mut server = Server::start().await;
    let addr = server.addr();
    for (asked, expected) in [
        (1, 1000),
        (999, 1000),
        (1000, 1000),
        (4321, 4321),
        (10_000, 10_000),
        (10_001, 10_000),
        (600_000, 10_000),
    ] {
        let (resp, _s) = handshake(&addr, asked, 0, &[0; 16]).await;
        let resp = resp.expect("handshake answered");
        assert_eq!(resp.timeout, expected, "asked for {asked} ms");
        assert_eq!(resp.passwd.len(), 16);
        assert!(
            resp.has_read_only,
            "a 45-byte connect body gets the readOnly byte back"
        );
        assert!(!resp.read_only);
    }
    // And through the real client: asking 60 s gets 10 s.
    let c = server
        .connect(zk::Client::connector().with_session_timeout(Duration::from_secs(60)))
        .await;
    assert_eq!(c.session_timeout(), Duration::from_millis(10_000));
    let c = server
        .connect(zk::Client::connector().with_session_timeout(Duration::from_millis(3000)))
        .await;
    assert_eq!(c.session_timeout(), Duration::from_millis(3000));
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_is_clamped_to_configured_bounds() {
    let mut server =
        Server::start_with(&[("minSessionTimeout", "1500"), ("maxSessionTimeout", "2500")]).await;
    let addr = server.addr();
    for (asked, expected) in [(100, 1500), (2000, 2000), (2500, 2500), (30_000, 2500)] {
        let (resp, _s) = handshake(&addr, asked, 0, &[0; 16]).await;
        assert_eq!(
            resp.expect("answered").timeout,
            expected,
            "asked for {asked} ms"
        );
    }
    let c = server
        .connect(zk::Client::connector().with_session_timeout(Duration::from_secs(20)))
        .await;
    assert_eq!(c.session_timeout(), Duration::from_millis(2500));
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_ids_carry_server_id_1_in_high_byte() {
    let mut server = Server::start().await;
    let a = server.client().await;
    let b = server.client().await;
    let raw = Raw::connect(&server.addr()).await;
    for id in [a.session_id().0, b.session_id().0, raw.session_id] {
        assert_eq!(
            (id as u64) >> 56,
            1,
            "session id {id:#x} must have server id 1 in its high byte"
        );
    }
    let ids = [a.session_id().0, b.session_id().0, raw.session_id];
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "distinct ids: {ids:x?}"
    );
    // Java allocates ids by incrementing one counter.
    assert!(ids[0] < ids[1] && ids[1] < ids[2], "ids increase: {ids:x?}");
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_checks_the_password() {
    let mut server = Server::start().await;
    let addr = server.addr();
    let first = Raw::connect(&addr).await;
    let id = first.session_id;
    let good = first.passwd.clone();
    assert_eq!(good.len(), 16);
    drop(first); // TCP gone; the session lives on for its 10 s timeout.

    // Wrong password: ConnectResponse with timeout 0, session 0, zeroed password; then close.
    let mut bad = good.to_vec();
    bad[0] ^= 0xff;
    let (resp, mut s) = handshake(&addr, 10_000, id, &bad).await;
    let resp = resp.expect("a wrong password is answered, not just dropped");
    assert_eq!(resp.timeout, 0, "expired answer has timeout 0");
    assert_eq!(resp.session_id, 0, "expired answer has session id 0");
    assert!(
        resp.passwd.iter().all(|b| *b == 0),
        "expired answer has a zeroed password"
    );
    let after = read_until_closed(s.as_mut().expect("connected"), WAIT).await;
    assert!(
        after.is_empty(),
        "nothing follows the expired answer but the close"
    );

    // The real client sees that as SessionExpired... but it can't send a wrong password, so
    // check the right password still works: the failed attempt did not kill the session.
    let (resp, _s) = handshake(&addr, 10_000, id, &good).await;
    let resp = resp.expect("answered");
    assert_eq!(resp.session_id, id, "right password resumes the session");
    assert_eq!(resp.timeout, 10_000);
    assert_eq!(resp.passwd, good, "same password for the resumed session");

    // An unknown session id is expired too.
    let (resp, _s) = handshake(&addr, 10_000, id + 1000, &good).await;
    let resp = resp.expect("answered");
    assert_eq!((resp.timeout, resp.session_id), (0, 0));
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_outlives_its_connection_and_resumes_on_a_new_one() {
    let mut server = Server::start().await;
    let a = server
        .connect(
            zk::Client::connector()
                .with_detached()
                .with_session_timeout(Duration::from_millis(4000)),
        )
        .await;
    assert_eq!(a.session_timeout(), Duration::from_millis(4000));
    let sid = a.session_id();
    t(a.create("/eph", b"x", &ephemeral())).await.unwrap();
    let info = a.session().clone();
    drop(a); // detached: the connection closes without closeSession.

    let observer = server.client().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stat = t(observer.check_stat("/eph"))
        .await
        .unwrap()
        .expect("ephemeral survives the disconnect");
    assert_eq!(stat.ephemeral_owner, sid.0);

    let b = server
        .connect(zk::Client::connector().with_session(info))
        .await;
    assert_eq!(b.session_id(), sid, "same session resumed");
    // The timeout is renegotiated on every reconnect: the client asked its default 6 s.
    assert_eq!(b.session_timeout(), Duration::from_millis(6000));
    // Keep it well past the original timeout: the new connection keeps it alive.
    tokio::time::sleep(Duration::from_millis(5000)).await;
    let stat = t(observer.check_stat("/eph"))
        .await
        .unwrap()
        .expect("still alive on the new connection");
    assert_eq!(stat.ephemeral_owner, sid.0);
    let (stat, _) = t(b.create("/eph2", b"", &ephemeral())).await.unwrap();
    assert_eq!(stat.ephemeral_owner, sid.0);
    let mut owned = t(b.list_ephemerals("/")).await.unwrap();
    owned.sort();
    assert_eq!(owned, vec!["/eph".to_string(), "/eph2".to_string()]);
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_deletes_ephemerals_fires_watches_and_expires_the_returning_client() {
    let mut server = Server::start().await;
    let observer = server.client().await;
    t(observer.create("/p", b"", &persistent())).await.unwrap();

    let a = server
        .connect(
            zk::Client::connector()
                .with_detached()
                .with_session_timeout(Duration::from_millis(1000)),
        )
        .await;
    assert_eq!(a.session_timeout(), Duration::from_millis(1000));
    t(a.create("/p/e1", b"", &ephemeral())).await.unwrap();
    t(a.create("/p/e2", b"", &ephemeral())).await.unwrap();
    let info = a.session().clone();

    let (_, exists_watch) = t(observer.check_and_watch_stat("/p/e1")).await.unwrap();
    let (_, _, data_watch) = t(observer.get_and_watch_data("/p/e2")).await.unwrap();
    let (children, _, child_watch) = t(observer.get_and_watch_children("/p")).await.unwrap();
    assert_eq!(children.len(), 2);

    let before = std::time::Instant::now();
    drop(a);

    let e = within(
        "NodeDeleted of /p/e1 on expiry",
        Duration::from_secs(8),
        exists_watch.changed(),
    )
    .await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeDeleted, "/p/e1")
    );
    let e = within(
        "NodeDeleted of /p/e2 on expiry",
        Duration::from_secs(8),
        data_watch.changed(),
    )
    .await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeDeleted, "/p/e2")
    );
    let e = within(
        "NodeChildrenChanged of /p on expiry",
        Duration::from_secs(8),
        child_watch.changed(),
    )
    .await;
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeChildrenChanged, "/p")
    );
    let waited = before.elapsed();
    assert!(
        waited >= Duration::from_millis(700),
        "expired after {waited:?}, well before the 1000 ms timeout"
    );

    assert_eq!(
        t(observer.list_children("/p")).await.unwrap(),
        Vec::<String>::new()
    );
    // Two creates and two deletes of children.
    let (_, pstat) = t(observer.get_children("/p")).await.unwrap();
    assert_eq!(pstat.cversion, 4, "2 creates + 2 deletes");

    // The returning client is told its session expired.
    let r = within(
        "reconnect with expired session",
        WAIT,
        zk::Client::connector()
            .with_session(info)
            .connect(&server.addr()),
    )
    .await;
    assert_eq!(r.err(), Some(zk::Error::SessionExpired));
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_idle_session_does_not_expire() {
    let mut server = Server::start().await;
    let a = server
        .connect(zk::Client::connector().with_session_timeout(Duration::from_millis(1000)))
        .await;
    t(a.create("/idle", b"", &ephemeral())).await.unwrap();
    // The client pings; the session must survive many timeouts' worth of idleness.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let stat = t(a.check_stat("/idle"))
        .await
        .unwrap()
        .expect("ephemeral of an idle, pinging session");
    assert_eq!(stat.ephemeral_owner, a.session_id().0);
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_session_without_pings_expires_and_the_server_closes_it() {
    let mut server = Server::start().await;
    let observer = server.client().await;
    let mut raw = Raw::connect_with_timeout(&server.addr(), 1000).await;
    assert_eq!(raw.timeout, 1000);
    let r = raw
        .call(
            op::CREATE,
            &jute::proto::CreateRequest {
                path: "/rawe".into(),
                data: None,
                acl: jute::data::Acl::open_unsafe(),
                flags: jute::consts::create_mode::EPHEMERAL,
            },
        )
        .await;
    assert_eq!(r.header.err, 0);
    // Stay connected but silent: the server expires the session and closes the socket.
    let frames = read_until_closed(&mut raw.stream, Duration::from_secs(6)).await;
    assert!(
        frames.is_empty(),
        "nothing is sent to an expiring session: {frames:?}"
    );
    assert!(t(observer.check_stat("/rawe")).await.unwrap().is_none());
    // Resuming it is refused.
    let (resp, _s) = handshake(&server.addr(), 1000, raw.session_id, &raw.passwd).await;
    assert_eq!(resp.expect("answered").session_id, 0);
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_session_deletes_ephemerals_at_once() {
    let mut server = Server::start().await;
    let observer = server.client().await;
    let a = server
        .connect(zk::Client::connector().with_session_timeout(Duration::from_millis(10_000)))
        .await;
    t(a.create("/c1", b"", &ephemeral())).await.unwrap();
    let info = a.session().clone();
    let (_, w) = t(observer.check_and_watch_stat("/c1")).await.unwrap();
    let before = std::time::Instant::now();
    drop(a); // not detached: sends closeSession
    let e = within(
        "NodeDeleted after closeSession",
        Duration::from_secs(5),
        w.changed(),
    )
    .await;
    assert_eq!(e.event_type, EventType::NodeDeleted);
    assert!(
        before.elapsed() < Duration::from_secs(5),
        "closeSession is immediate, not a 10 s expiry"
    );
    let r = within(
        "reconnect closed session",
        WAIT,
        zk::Client::connector()
            .with_session(info)
            .connect(&server.addr()),
    )
    .await;
    assert_eq!(r.err(), Some(zk::Error::SessionExpired));

    // Raw: closeSession is answered (same xid, err 0), then the server closes the socket.
    let mut raw = Raw::connect(&server.addr()).await;
    let xid = raw.send_empty(op::CLOSE_SESSION).await;
    let reply = raw.read().await;
    assert_eq!((reply.header.xid, reply.header.err), (xid, 0));
    assert!(reply.header.zxid > 0);
    let rest = read_until_closed(&mut raw.stream, WAIT).await;
    assert!(rest.is_empty());
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_client_cnxns_limits_connections_per_address() {
    let mut server = Server::start_with(&[("maxClientCnxns", "2")]).await;
    let addr = server.addr();
    // Two live connections from 127.0.0.1.
    let a = server.client().await;
    let b = Raw::connect(&addr).await;
    // The third is closed without a ConnectResponse.
    let (resp, _s) = handshake(&addr, 10_000, 0, &[0; 16]).await;
    assert!(
        resp.is_none(),
        "third connection from one address must be closed, got {resp:?}"
    );
    // The two existing ones keep working.
    t(a.create("/ok", b"", &persistent())).await.unwrap();
    let mut b = b;
    assert!(b.ping().await.is_empty());
    // Freeing a slot lets a new connection in.
    drop(b);
    let ok = eventually(Duration::from_secs(5), || {
        let addr = addr.clone();
        async move { handshake(&addr, 10_000, 0, &[0; 16]).await.0.is_some() }
    })
    .await;
    assert!(ok, "after one connection closed, a new one is accepted");
    server.assert_healthy();
}
