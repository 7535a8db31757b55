//! Acceptance item 5: operations with ZooKeeper's semantics, stats and error codes.

mod common;

use std::time::Duration;

use common::*;
use jute::consts::{create_mode, op};
use jute::data::Acl as RawAcl;
use jute::proto::{self as p, MultiOp, MultiResult};
use zk::{
    Acl, Acls, AuthId, CreateMode, Error, MultiReadResult, MultiWriteError, MultiWriteResult,
    Permission,
};
use zookeeper_client as zk;

fn persistent() -> zk::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

fn opts(mode: CreateMode) -> zk::CreateOptions<'static> {
    mode.with_acls(Acls::anyone_all())
}

/// A server with TTL nodes enabled and a fast container/TTL checker.
async fn server() -> Server {
    Server::start_with(&[
        ("extendedTypesEnabled", "true"),
        ("znode.container.checkIntervalMs", "200"),
    ])
    .await
}

fn create_req(path: &str, flags: i32) -> p::CreateRequest {
    p::CreateRequest {
        path: path.into(),
        data: None,
        acl: RawAcl::open_unsafe(),
        flags,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_server_system_nodes_and_stats() {
    let mut server = server().await;
    let c = server.client().await;

    let (children, root) = t(c.get_children("/")).await.unwrap();
    assert_eq!(children, vec!["zookeeper".to_string()]);
    assert_eq!(root.cversion, -1, "/ has cversion -1 on a fresh server");
    assert_eq!(root.num_children, 1);
    assert_eq!(
        (
            root.czxid,
            root.mzxid,
            root.pzxid,
            root.version,
            root.aversion
        ),
        (0, 0, 0, 0, 0)
    );
    assert_eq!(root.ephemeral_owner, 0);

    let (mut children, zk_stat) = t(c.get_children("/zookeeper")).await.unwrap();
    children.sort();
    assert_eq!(children, vec!["config".to_string(), "quota".to_string()]);
    assert_eq!(
        zk_stat.cversion, -2,
        "/zookeeper has cversion -2 on a fresh server"
    );
    assert_eq!(zk_stat.num_children, 2);

    // getConfig: standalone /zookeeper/config is empty, READ for anyone, aversion -1.
    let (data, stat) = t(c.get_config()).await.unwrap();
    assert!(
        data.is_empty(),
        "standalone config is empty, got {:?}",
        String::from_utf8_lossy(&data)
    );
    assert_eq!(stat.aversion, -1);
    assert_eq!(
        (stat.czxid, stat.mzxid, stat.version, stat.data_length),
        (0, 0, 0, 0)
    );
    let (acl, _) = t(c.get_acl("/zookeeper/config")).await.unwrap();
    assert_eq!(acl, vec![Acl::new(Permission::READ, AuthId::anyone())]);
    let (acl, _) = t(c.get_acl("/")).await.unwrap();
    assert_eq!(acl, vec![Acl::new(Permission::ALL, AuthId::anyone())]);
    // Writing the config needs WRITE on it.
    assert_eq!(
        t(c.set_data("/zookeeper/config", b"x", None))
            .await
            .unwrap_err(),
        Error::NoAuth
    );

    // getAllChildrenNumber of / counts every node but the root: /zookeeper, quota, config.
    assert_eq!(t(c.count_descendants_number("/")).await.unwrap(), 3);
    assert_eq!(
        t(c.count_descendants_number("/zookeeper")).await.unwrap(),
        2
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_in_every_mode_sets_stat_as_java_does() {
    let mut server = server().await;
    let c = server.client().await;
    let sid = c.session_id().0;

    let (s, seq) = t(c.create("/a", b"hello", &persistent())).await.unwrap();
    assert!(!s.is_invalid(), "create2 returns a Stat");
    assert_eq!(seq.into_i64(), -1);
    assert!(s.czxid > 0);
    assert_eq!(
        (s.mzxid, s.pzxid),
        (s.czxid, s.czxid),
        "czxid = mzxid = pzxid on create"
    );
    assert!(s.ctime > 0);
    assert_eq!(s.mtime, s.ctime);
    assert_eq!((s.version, s.cversion, s.aversion), (0, 0, 0));
    assert_eq!(
        (s.ephemeral_owner, s.data_length, s.num_children),
        (0, 5, 0)
    );
    let (data, read) = t(c.get_data("/a")).await.unwrap();
    assert_eq!(data, b"hello");
    assert_eq!(read, s, "create2's Stat is the node's Stat");

    let (s, _) = t(c.create("/a/e", b"", &opts(CreateMode::Ephemeral)))
        .await
        .unwrap();
    assert_eq!(s.ephemeral_owner, sid, "ephemeralOwner = session id");

    let (s, seq) = t(c.create("/a/ps-", b"", &opts(CreateMode::PersistentSequential)))
        .await
        .unwrap();
    assert_eq!(s.ephemeral_owner, 0);
    // /a had one child created before: the suffix is the parent's cversion, 1.
    assert_eq!(seq.into_i64(), 1);
    assert!(
        t(c.check_stat("/a/ps-0000000001")).await.unwrap().is_some(),
        "%010d suffix"
    );

    let (s, seq) = t(c.create("/a/es-", b"", &opts(CreateMode::EphemeralSequential)))
        .await
        .unwrap();
    assert_eq!(s.ephemeral_owner, sid);
    assert_eq!(seq.into_i64(), 2);
    assert!(t(c.check_stat("/a/es-0000000002")).await.unwrap().is_some());

    let (s, _) = t(c.create("/ctr", b"", &opts(CreateMode::Container)))
        .await
        .unwrap();
    assert!(!s.is_invalid(), "createContainer returns a Stat");
    assert_eq!(s.ephemeral_owner, 0, "containers show ephemeralOwner 0");
    assert_eq!(
        t(c.check_stat("/ctr"))
            .await
            .unwrap()
            .unwrap()
            .ephemeral_owner,
        0
    );

    let ttl = opts(CreateMode::Persistent).with_ttl(Duration::from_secs(3600));
    let (s, _) = t(c.create("/ttl", b"t", &ttl)).await.unwrap();
    assert!(!s.is_invalid(), "createTTL returns a Stat");
    assert_eq!(s.ephemeral_owner, 0, "TTL nodes show ephemeralOwner 0");
    assert_eq!(
        t(c.check_stat("/ttl"))
            .await
            .unwrap()
            .unwrap()
            .ephemeral_owner,
        0
    );

    let ttl_seq = opts(CreateMode::PersistentSequential).with_ttl(Duration::from_secs(3600));
    let (s, seq) = t(c.create("/ttl/s-", b"", &ttl_seq)).await.unwrap();
    assert_eq!((s.ephemeral_owner, seq.into_i64()), (0, 0));
    assert!(t(c.check_stat("/ttl/s-0000000000"))
        .await
        .unwrap()
        .is_some());

    // Plain create (opcode 1): the client speaks 3.4 and gets only the path back.
    let old = server
        .connect(zk::Client::connector().with_server_version(3, 4, 0))
        .await;
    let (s, seq) = t(old.create("/a/old-", b"o", &opts(CreateMode::PersistentSequential)))
        .await
        .unwrap();
    assert!(s.is_invalid(), "create (1) has no Stat in its response");
    assert_eq!(seq.into_i64(), 3);
    assert_eq!(t(c.get_data("/a/old-0000000003")).await.unwrap().0, b"o");

    // Raw create (1) and create2 (15) replies.
    let mut raw = Raw::connect(&server.addr()).await;
    let r = raw
        .call(op::CREATE, &create_req("/raw1", create_mode::PERSISTENT))
        .await;
    assert_eq!(r.header.err, 0);
    assert_eq!(r.decode::<p::CreateResponse>().path, "/raw1");
    assert_eq!(r.body.len(), 4 + 5, "CreateResponse is just the path");
    let r = raw
        .call(op::CREATE2, &create_req("/raw2", create_mode::PERSISTENT))
        .await;
    assert_eq!(r.header.err, 0);
    let resp: p::Create2Response = r.decode();
    assert_eq!(resp.path, "/raw2");
    assert_eq!(
        resp.stat.czxid, r.header.zxid,
        "reply zxid is the create's zxid"
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_numbers_come_from_parent_cversion_and_are_never_reused() {
    let mut server = server().await;
    let c = server.client().await;
    t(c.create("/q", b"", &persistent())).await.unwrap();
    let seq = opts(CreateMode::PersistentSequential);
    let mut names = Vec::new();
    for _ in 0..3 {
        let (_, s) = t(c.create("/q/n-", b"", &seq)).await.unwrap();
        names.push(format!("n-{s}"));
    }
    assert_eq!(names, ["n-0000000000", "n-0000000001", "n-0000000002"]);
    t(c.delete("/q/n-0000000000", None)).await.unwrap();
    let (_, s) = t(c.create("/q/n-", b"", &seq)).await.unwrap();
    assert_eq!(
        s.to_string(),
        "0000000003",
        "numbers are not reused after a delete"
    );
    let (_, stat) = t(c.get_children("/q")).await.unwrap();
    assert_eq!(stat.cversion, 5, "4 creates + 1 delete");
    assert_eq!(stat.num_children, 3);
    // A non-sequential child also advances the counter.
    t(c.create("/q/plain", b"", &persistent())).await.unwrap();
    let (_, s) = t(c.create("/q/n-", b"", &seq)).await.unwrap();
    assert_eq!(s.to_string(), "0000000005");
    // A sequential name with an empty prefix.
    t(c.create("/q2", b"", &persistent())).await.unwrap();
    let (_, s) = t(c.create("/q2/", b"", &seq)).await.unwrap();
    assert_eq!(s.into_i64(), 0);
    assert_eq!(
        t(c.list_children("/q2")).await.unwrap(),
        vec!["0000000000".to_string()]
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parent_stat_after_child_create_and_delete() {
    let mut server = server().await;
    let c = server.client().await;
    let (parent, _) = t(c.create("/p", b"d", &persistent())).await.unwrap();
    let (child, _) = t(c.create("/p/c", b"", &persistent())).await.unwrap();
    let (_, after_create) = t(c.get_children("/p")).await.unwrap();
    assert_eq!(after_create.cversion, 1);
    assert_eq!(
        after_create.pzxid, child.czxid,
        "pzxid = the child create's zxid"
    );
    t(c.delete("/p/c", None)).await.unwrap();
    // The next write's zxid is the delete's + 1.
    let (probe, _) = t(c.create("/probe", b"", &persistent())).await.unwrap();
    let delete_zxid = probe.czxid - 1;
    let (_, s) = t(c.get_children("/p")).await.unwrap();
    assert_eq!(s.cversion, 2, "create + delete of a child = cversion 2");
    assert_eq!(s.pzxid, delete_zxid, "pzxid = the delete's zxid");
    assert_eq!(s.num_children, 0);
    // Children changes do not touch the parent's data stat.
    assert_eq!(
        (s.mzxid, s.mtime, s.version),
        (parent.mzxid, parent.mtime, 0)
    );
    assert_eq!((s.czxid, s.aversion), (parent.czxid, 0));
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mzxid_and_version_move_only_on_set_data_aversion_only_on_set_acl() {
    let mut server = server().await;
    let c = server.client().await;
    let (s0, _) = t(c.create("/m", b"0", &persistent())).await.unwrap();
    let s1 = t(c.set_data("/m", b"one", None)).await.unwrap();
    assert_eq!(s1.version, 1);
    assert!(s1.mzxid > s0.mzxid);
    assert_eq!(
        (s1.czxid, s1.pzxid, s1.ctime),
        (s0.czxid, s0.pzxid, s0.ctime)
    );
    assert!(s1.mtime >= s0.mtime);
    assert_eq!((s1.cversion, s1.aversion, s1.data_length), (0, 0, 3));

    let s2 = t(c.set_acl(
        "/m",
        &[Acl::new(Permission::ALL, AuthId::anyone())],
        Some(0),
    ))
    .await
    .unwrap();
    assert_eq!(s2.aversion, 1, "setACL bumps aversion");
    assert_eq!(
        (s2.version, s2.mzxid, s2.mtime),
        (1, s1.mzxid, s1.mtime),
        "setACL leaves version/mzxid/mtime"
    );
    assert_eq!(
        t(c.set_acl(
            "/m",
            &[Acl::new(Permission::ALL, AuthId::anyone())],
            Some(0)
        ))
        .await
        .unwrap_err(),
        Error::BadVersion
    );

    t(c.create("/m/child", b"", &persistent())).await.unwrap();
    let (_, s3) = t(c.get_data("/m")).await.unwrap();
    assert_eq!(
        (s3.version, s3.mzxid, s3.aversion),
        (1, s1.mzxid, 1),
        "a child create leaves the parent's data stat"
    );
    let s4 = t(c.set_data("/m", b"two", Some(1))).await.unwrap();
    assert_eq!(s4.version, 2);
    assert_eq!(
        t(c.set_data("/m", b"x", Some(1))).await.unwrap_err(),
        Error::BadVersion
    );
    // Empty data and null data both read back as empty.
    let s5 = t(c.set_data("/m", b"", None)).await.unwrap();
    assert_eq!(s5.data_length, 0);
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_writes_consume_a_zxid() {
    let mut server = server().await;
    let c = server.client().await;
    let (a, _) = t(c.create("/z1", b"", &persistent())).await.unwrap();
    assert_eq!(
        t(c.create("/z1", b"", &persistent())).await.unwrap_err(),
        Error::NodeExists
    );
    let (b, _) = t(c.create("/z2", b"", &persistent())).await.unwrap();
    assert_eq!(b.czxid, a.czxid + 2, "the failed create consumed one zxid");

    assert_eq!(
        t(c.set_data("/z1", b"", Some(7))).await.unwrap_err(),
        Error::BadVersion
    );
    assert_eq!(t(c.delete("/nope", None)).await.unwrap_err(), Error::NoNode);
    assert_eq!(
        t(c.create("/nope/x", b"", &persistent()))
            .await
            .unwrap_err(),
        Error::NoNode
    );
    let (d, _) = t(c.create("/z3", b"", &persistent())).await.unwrap();
    assert_eq!(
        d.czxid,
        b.czxid + 4,
        "three more failed writes, three more zxids"
    );

    // Reads do not.
    t(c.get_data("/z1")).await.unwrap();
    let _ = t(c.get_data("/nope")).await;
    let (e, _) = t(c.create("/z4", b"", &persistent())).await.unwrap();
    assert_eq!(e.czxid, d.czxid + 1);

    // The error reply carries the zxid it consumed.
    let mut raw = Raw::connect(&server.addr()).await; // createSession is a txn: one zxid
    let r = raw
        .call(op::CREATE, &create_req("/z1", create_mode::PERSISTENT))
        .await;
    assert_eq!(r.header.err, -110);
    assert_eq!(
        r.header.zxid,
        e.czxid + 2,
        "NODEEXISTS reply carries its own new zxid"
    );
    assert!(r.body.is_empty(), "error replies are header-only");
    let r = raw
        .call(op::CREATE, &create_req("/z5", create_mode::PERSISTENT))
        .await;
    assert_eq!(r.header.err, 0);
    assert_eq!(r.header.zxid, e.czxid + 3);
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_codes() {
    let mut server = server().await;
    let c = server.client().await;
    t(c.create("/e", b"", &persistent())).await.unwrap();
    t(c.create("/e/kid", b"", &persistent())).await.unwrap();
    t(c.create("/eph", b"", &opts(CreateMode::Ephemeral)))
        .await
        .unwrap();

    assert_eq!(
        t(c.create("/e", b"", &persistent())).await.unwrap_err(),
        Error::NodeExists
    );
    assert_eq!(
        t(c.create("/missing/x", b"", &persistent()))
            .await
            .unwrap_err(),
        Error::NoNode
    );
    assert_eq!(t(c.get_data("/missing")).await.unwrap_err(), Error::NoNode);
    assert_eq!(
        t(c.set_data("/missing", b"", None)).await.unwrap_err(),
        Error::NoNode
    );
    assert_eq!(
        t(c.delete("/missing", None)).await.unwrap_err(),
        Error::NoNode
    );
    assert_eq!(
        t(c.get_children("/missing")).await.unwrap_err(),
        Error::NoNode
    );
    assert_eq!(
        t(c.list_children("/missing")).await.unwrap_err(),
        Error::NoNode
    );
    assert_eq!(t(c.get_acl("/missing")).await.unwrap_err(), Error::NoNode);
    assert_eq!(
        t(c.set_acl(
            "/missing",
            &[Acl::new(Permission::ALL, AuthId::anyone())],
            None
        ))
        .await
        .unwrap_err(),
        Error::NoNode
    );
    assert_eq!(
        t(c.count_descendants_number("/missing")).await.unwrap_err(),
        Error::NoNode
    );
    assert_eq!(
        t(c.check_stat("/missing")).await.unwrap(),
        None,
        "exists → NONODE is 'no stat'"
    );

    assert_eq!(t(c.delete("/e", None)).await.unwrap_err(), Error::NotEmpty);
    assert_eq!(
        t(c.delete("/e/kid", Some(3))).await.unwrap_err(),
        Error::BadVersion
    );
    assert_eq!(
        t(c.set_data("/e", b"", Some(1))).await.unwrap_err(),
        Error::BadVersion
    );

    assert_eq!(
        t(c.create("/eph/x", b"", &persistent())).await.unwrap_err(),
        Error::NoChildrenForEphemerals
    );
    assert_eq!(
        t(c.create("/eph/s-", b"", &opts(CreateMode::EphemeralSequential)))
            .await
            .unwrap_err(),
        Error::NoChildrenForEphemerals
    );

    // System nodes cannot be deleted.
    for path in ["/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
        assert!(
            matches!(
                t(c.delete(path, None)).await.unwrap_err(),
                Error::BadArguments(_)
            ),
            "delete {path} → BADARGUMENTS"
        );
    }
    // Deleting with the right version works.
    t(c.delete("/e/kid", Some(0))).await.unwrap();
    t(c.delete("/e", Some(0))).await.unwrap();
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_paths_are_bad_arguments() {
    let mut server = server().await;
    let c = server.client().await;
    t(c.create("/ok", b"", &persistent())).await.unwrap();
    let mut raw = Raw::connect(&server.addr()).await;
    // Every parent here exists, so create reaches its full path validation (Java checks the
    // parent's existence first, see below).
    let bad = [
        "",
        "noslash",
        "/ok/",
        "//x",
        "/ok/.",
        "/ok/..",
        "/ctl\u{1}char",
        "/del\u{7f}",
        "/c1\u{85}",
        "/nul\u{0}x",
        "/private-use\u{e000}",
        "/specials\u{fff0}",
    ];
    for path in bad {
        let r = raw
            .call(op::CREATE, &create_req(path, create_mode::PERSISTENT))
            .await;
        assert_eq!(r.header.err, -8, "create {path:?} → BADARGUMENTS");
        let r = raw
            .call(op::CREATE2, &create_req(path, create_mode::PERSISTENT))
            .await;
        assert_eq!(r.header.err, -8, "create2 {path:?} → BADARGUMENTS");
        let r = raw
            .call(
                op::SET_DATA,
                &p::SetDataRequest {
                    path: path.into(),
                    data: None,
                    version: -1,
                },
            )
            .await;
        assert_eq!(r.header.err, -8, "setData {path:?} → BADARGUMENTS");
        // delete only rejects a path without '/' or with NUL (Java's getParentPathAndValidate);
        // other malformed paths have no parent node: NONODE.
        let r = raw
            .call(
                op::DELETE,
                &p::DeleteRequest {
                    path: path.into(),
                    version: -1,
                },
            )
            .await;
        let expected = if !path.contains('/') || path.contains('\0') {
            -8
        } else {
            -101
        };
        assert_eq!(r.header.err, expected, "delete {path:?}");
    }
    // Java's create checks that the parent exists before validating the whole path.
    for path in ["/missing/", "/ok//x", "/ok/./x", "/ok/../x"] {
        let r = raw
            .call(op::CREATE, &create_req(path, create_mode::PERSISTENT))
            .await;
        assert_eq!(
            r.header.err, -101,
            "create {path:?}: parent missing → NONODE first"
        );
    }
    // Deleting / is BADARGUMENTS too.
    let r = raw
        .call(
            op::DELETE,
            &p::DeleteRequest {
                path: "/".into(),
                version: -1,
            },
        )
        .await;
    assert_eq!(r.header.err, -8);
    let r = raw
        .call(
            op::CREATE,
            &create_req("/ok/", create_mode::PERSISTENT_SEQUENTIAL),
        )
        .await;
    assert_eq!(
        r.header.err, 0,
        "'/ok/' is valid once the sequence suffix is appended"
    );
    // Unknown create flags.
    let r = raw.call(op::CREATE, &create_req("/flag", 42)).await;
    assert_eq!(r.header.err, -8, "unknown create flag → BADARGUMENTS");
    // Reads do not validate: a malformed path is simply not found.
    let r = raw
        .call(
            op::GET_DATA,
            &p::GetDataRequest {
                path: "/ok//double".into(),
                watch: false,
            },
        )
        .await;
    assert_eq!(r.header.err, -101);
    // The connection is still fine.
    let r = raw
        .call(
            op::EXISTS,
            &p::ExistsRequest {
                path: "/ok".into(),
                watch: false,
            },
        )
        .await;
    assert_eq!(r.header.err, 0);
    assert!(t(c.check_stat("/flag")).await.unwrap().is_none());
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_counts_and_ephemerals() {
    let mut server = server().await;
    let c = server.client().await;
    let other = server.client().await;
    for path in ["/t", "/t/a", "/t/b", "/t/a/x", "/t/a/y", "/t/a/y/z"] {
        t(c.create(path, b"", &persistent())).await.unwrap();
    }
    let mut kids = t(c.list_children("/t")).await.unwrap();
    kids.sort();
    assert_eq!(kids, vec!["a".to_string(), "b".to_string()]);
    let (mut kids2, stat) = t(c.get_children("/t/a")).await.unwrap();
    kids2.sort();
    assert_eq!(kids2, vec!["x".to_string(), "y".to_string()]);
    assert_eq!(
        stat,
        t(c.check_stat("/t/a")).await.unwrap().unwrap(),
        "getChildren2 returns the node's Stat"
    );
    assert_eq!((stat.num_children, stat.cversion), (2, 2));
    assert_eq!(t(c.count_descendants_number("/t")).await.unwrap(), 5);
    assert_eq!(t(c.count_descendants_number("/t/a/y/z")).await.unwrap(), 0);
    assert_eq!(t(c.count_descendants_number("/")).await.unwrap(), 6 + 3);

    for path in ["/t/e1", "/t/a/e2", "/te3"] {
        t(c.create(path, b"", &opts(CreateMode::Ephemeral)))
            .await
            .unwrap();
    }
    t(other.create("/t/theirs", b"", &opts(CreateMode::Ephemeral)))
        .await
        .unwrap();
    let mut mine = t(c.list_ephemerals("/")).await.unwrap();
    mine.sort();
    assert_eq!(mine, vec!["/t/a/e2", "/t/e1", "/te3"]);
    let mut under_t = t(c.list_ephemerals("/t")).await.unwrap();
    under_t.sort();
    // A plain prefix match, as Java's startsWith: "/t" also matches "/te3".
    assert_eq!(under_t, vec!["/t/a/e2", "/t/e1", "/te3"]);
    let mut under_ta = t(c.list_ephemerals("/t/a")).await.unwrap();
    under_ta.sort();
    assert_eq!(under_ta, vec!["/t/a/e2"]);
    assert_eq!(
        t(other.list_ephemerals("/")).await.unwrap(),
        vec!["/t/theirs"]
    );
    assert_eq!(
        t(c.list_ephemerals("/nothing")).await.unwrap(),
        Vec::<String>::new()
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_success_with_check_and_stats() {
    let mut server = server().await;
    let c = server.client().await;
    t(c.create("/mu", b"v0", &persistent())).await.unwrap();
    let mut w = c.new_multi_writer();
    w.add_check_version("/mu", 0).unwrap();
    w.add_create("/mu/a", b"A", &persistent()).unwrap();
    w.add_create("/mu/s-", b"", &opts(CreateMode::PersistentSequential))
        .unwrap();
    w.add_set_data("/mu", b"v1", Some(0)).unwrap();
    w.add_check_version("/mu", 1).unwrap();
    w.add_create("/mu/gone", b"", &persistent()).unwrap();
    w.add_delete("/mu/gone", None).unwrap();
    let results = t(w.commit()).await.unwrap();
    assert_eq!(results.len(), 7);
    assert_eq!(results[0], MultiWriteResult::Check);
    let MultiWriteResult::Create { path, stat } = &results[1] else {
        panic!("{:?}", results[1])
    };
    assert_eq!(path, "/mu/a");
    assert!(
        !stat.is_invalid(),
        "create2 inside multi returns a Stat (3.9)"
    );
    let zxid = stat.czxid;
    let MultiWriteResult::Create { path, stat } = &results[2] else {
        panic!("{:?}", results[2])
    };
    assert_eq!(
        path, "/mu/s-0000000001",
        "sequence sees the earlier create in the same multi"
    );
    assert_eq!(stat.czxid, zxid, "all ops of a multi share one zxid");
    let MultiWriteResult::SetData { stat } = &results[3] else {
        panic!("{:?}", results[3])
    };
    assert_eq!((stat.version, stat.mzxid), (1, zxid));
    assert_eq!(results[4], MultiWriteResult::Check);
    assert_eq!(results[6], MultiWriteResult::Delete);

    let (data, stat) = t(c.get_data("/mu")).await.unwrap();
    assert_eq!(data, b"v1");
    assert_eq!(stat.cversion, 4, "3 creates + 1 delete");
    assert_eq!(stat.pzxid, zxid);
    assert!(t(c.check_stat("/mu/gone")).await.unwrap().is_none());
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_multi_applies_nothing_and_reports_per_op_errors() {
    let mut server = server().await;
    let c = server.client().await;
    let (base, _) = t(c.create("/mf", b"orig", &persistent())).await.unwrap();

    let mut w = c.new_multi_writer();
    w.add_create("/mf/a", b"", &persistent()).unwrap();
    w.add_set_data("/mf", b"changed", None).unwrap();
    w.add_delete("/mf/missing", None).unwrap();
    w.add_create("/mf/b", b"", &persistent()).unwrap();
    let err = t(w.commit()).await.unwrap_err();
    assert_eq!(
        err,
        MultiWriteError::OperationFailed {
            index: 2,
            source: Error::NoNode
        }
    );
    let (data, stat) = t(c.get_data("/mf")).await.unwrap();
    assert_eq!(data, b"orig", "nothing of a failed multi is applied");
    assert_eq!((stat.version, stat.cversion, stat.num_children), (0, 0, 0));
    assert!(t(c.check_stat("/mf/a")).await.unwrap().is_none());

    // check failing inside a multi.
    let mut w = c.new_multi_writer();
    w.add_check_version("/mf", 5).unwrap();
    w.add_create("/mf/c", b"", &persistent()).unwrap();
    assert_eq!(
        t(w.commit()).await.unwrap_err(),
        MultiWriteError::OperationFailed {
            index: 0,
            source: Error::BadVersion
        }
    );
    let mut w = c.new_multi_writer();
    w.add_create("/mf/c", b"", &persistent()).unwrap();
    w.add_check_version("/mf/none", -1).unwrap();
    assert_eq!(
        t(w.commit()).await.unwrap_err(),
        MultiWriteError::OperationFailed {
            index: 1,
            source: Error::NoNode
        }
    );
    assert!(t(c.check_stat("/mf/c")).await.unwrap().is_none());
    // Creating a node twice in one multi: the second sees the first (pending) create.
    let mut w = c.new_multi_writer();
    w.add_create("/mf/d", b"", &persistent()).unwrap();
    w.add_create("/mf/d", b"", &persistent()).unwrap();
    assert_eq!(
        t(w.commit()).await.unwrap_err(),
        MultiWriteError::OperationFailed {
            index: 1,
            source: Error::NodeExists
        }
    );

    // On the wire: header err 0; OK for earlier ops, the code, then RUNTIMEINCONSISTENCY.
    let mut raw = Raw::connect(&server.addr()).await;
    let ops = vec![
        MultiOp::Create(create_req("/mf/x", 0)),
        MultiOp::Check(p::CheckVersionRequest {
            path: "/mf".into(),
            version: 0,
        }),
        MultiOp::SetData(p::SetDataRequest {
            path: "/mf".into(),
            data: None,
            version: 9,
        }),
        MultiOp::Delete(p::DeleteRequest {
            path: "/mf".into(),
            version: -1,
        }),
        MultiOp::Create2(create_req("/mf/y", 0)),
    ];
    let mut body = bytes::BytesMut::new();
    p::encode_multi(&ops, &mut body);
    let xid = raw.send_bytes(op::MULTI, &body).await;
    let (_, r) = raw.read_until_xid(xid).await;
    assert_eq!(
        r.header.err, 0,
        "a failed multi is not an error at header level"
    );
    let results = p::decode_multi_results(&mut jute::Reader::new(&r.body)).expect("MultiResponse");
    assert_eq!(
        results,
        vec![
            MultiResult::Error { err: 0 },
            MultiResult::Error { err: 0 },
            MultiResult::Error { err: -103 },
            MultiResult::Error { err: -2 },
            MultiResult::Error { err: -2 },
        ]
    );
    // It consumed a zxid.
    let (after, _) = t(c.create("/mf2", b"", &persistent())).await.unwrap();
    assert_eq!(after.czxid, r.header.zxid + 1);
    assert!(r.header.zxid > base.czxid);
    assert!(t(c.check_stat("/mf/x")).await.unwrap().is_none());

    // Empty multi.
    let mut body = bytes::BytesMut::new();
    p::encode_multi(&[], &mut body);
    let xid = raw.send_bytes(op::MULTI, &body).await;
    let (_, r) = raw.read_until_xid(xid).await;
    assert_eq!(r.header.err, 0);
    assert_eq!(
        p::decode_multi_results(&mut jute::Reader::new(&r.body)).unwrap(),
        vec![]
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_read_and_sync() {
    let mut server = server().await;
    let c = server.client().await;
    t(c.create("/r", b"data", &persistent())).await.unwrap();
    t(c.create("/r/k", b"", &persistent())).await.unwrap();
    let mut reader = c.new_multi_reader();
    reader.add_get_data("/r").unwrap();
    reader.add_get_children("/r").unwrap();
    reader.add_get_data("/r/none").unwrap();
    reader.add_get_children("/r/none").unwrap();
    reader.add_get_data("/r/k").unwrap();
    let results = t(reader.commit()).await.unwrap();
    assert_eq!(results.len(), 5);
    match &results[0] {
        MultiReadResult::Data { data, stat } => {
            assert_eq!(data, b"data");
            assert_eq!(stat.num_children, 1);
        }
        other => panic!("{other:?}"),
    }
    match &results[1] {
        MultiReadResult::Children { children } => assert_eq!(children, &vec!["k".to_string()]),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(results[2], MultiReadResult::Error { err: Error::NoNode }),
        "{:?}",
        results[2]
    );
    assert!(
        matches!(results[3], MultiReadResult::Error { err: Error::NoNode }),
        "{:?}",
        results[3]
    );
    assert!(
        matches!(results[4], MultiReadResult::Data { .. }),
        "{:?}",
        results[4]
    );

    // Mixing reads into a write multi does not parse: MARSHALLINGERROR.
    let mut raw = Raw::connect(&server.addr()).await;
    let mut body = bytes::BytesMut::new();
    p::encode_multi(
        &[
            MultiOp::Create(create_req("/r/mixed", 0)),
            MultiOp::GetData(p::GetDataRequest {
                path: "/r".into(),
                watch: false,
            }),
        ],
        &mut body,
    );
    let xid = raw.send_bytes(op::MULTI, &body).await;
    let (_, r) = raw.read_until_xid(xid).await;
    assert_eq!(
        r.header.err, -5,
        "read op in a write multi → MARSHALLINGERROR"
    );
    assert!(t(c.check_stat("/r/mixed")).await.unwrap().is_none());

    // sync answers with the request path, after earlier writes.
    t(c.set_data("/r", b"synced", None)).await.unwrap();
    t(c.sync("/r")).await.unwrap();
    assert_eq!(t(c.get_data("/r")).await.unwrap().0, b"synced");
    let r = raw
        .call(op::SYNC, &p::SyncRequest { path: "/r".into() })
        .await;
    assert_eq!(r.header.err, 0);
    assert_eq!(r.decode::<p::SyncResponse>().path, "/r");
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_is_removed_after_its_last_child_is_deleted() {
    let mut server = server().await;
    let c = server.client().await;
    t(c.create("/box", b"", &opts(CreateMode::Container)))
        .await
        .unwrap();
    t(c.create("/never-used", b"", &opts(CreateMode::Container)))
        .await
        .unwrap();
    t(c.create("/box/item", b"", &persistent())).await.unwrap();
    // With a child it stays.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        t(c.check_stat("/box")).await.unwrap().is_some(),
        "container with a child stays"
    );
    let (_, watch) = t(c.check_and_watch_stat("/box")).await.unwrap();
    t(c.delete("/box/item", None)).await.unwrap();
    let e = within(
        "container deletion",
        Duration::from_secs(5),
        watch.changed(),
    )
    .await;
    assert_eq!(e.event_type, zk::EventType::NodeDeleted);
    assert!(t(c.check_stat("/box")).await.unwrap().is_none());
    // A container that never had a child is left alone.
    assert!(
        t(c.check_stat("/never-used")).await.unwrap().is_some(),
        "never-used container stays"
    );
    // A container can have containers and ephemerals under it.
    t(c.create("/box2", b"", &opts(CreateMode::Container)))
        .await
        .unwrap();
    t(c.create("/box2/e", b"", &opts(CreateMode::Ephemeral)))
        .await
        .unwrap();
    t(c.delete("/box2/e", None)).await.unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            t(c.check_stat("/box2")).await.unwrap().is_none()
        })
        .await
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_nodes_expire() {
    let mut server = server().await;
    let c = server.client().await;
    let short = opts(CreateMode::Persistent).with_ttl(Duration::from_millis(300));
    t(c.create("/ttl-short", b"", &short)).await.unwrap();
    t(c.create("/ttl-parent", b"", &short)).await.unwrap();
    t(c.create("/ttl-parent/kid", b"", &persistent()))
        .await
        .unwrap();
    let long = opts(CreateMode::Persistent).with_ttl(Duration::from_secs(3600));
    t(c.create("/ttl-long", b"", &long)).await.unwrap();
    let (_, watch) = t(c.check_and_watch_stat("/ttl-short")).await.unwrap();
    let e = within("TTL expiry", Duration::from_secs(5), watch.changed()).await;
    assert_eq!(e.event_type, zk::EventType::NodeDeleted);
    assert!(t(c.check_stat("/ttl-short")).await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        t(c.check_stat("/ttl-long")).await.unwrap().is_some(),
        "unexpired TTL node stays"
    );
    assert!(
        t(c.check_stat("/ttl-parent")).await.unwrap().is_some(),
        "TTL node with a child stays"
    );
    t(c.delete("/ttl-parent/kid", None)).await.unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            t(c.check_stat("/ttl-parent")).await.unwrap().is_none()
        })
        .await
    );

    // TTL must be within (0, 2^40-1] ms: BADARGUMENTS from the server.
    let mut raw = Raw::connect(&server.addr()).await;
    for ttl in [0i64, -5, 1 << 40] {
        let r = raw
            .call(
                op::CREATE_TTL,
                &p::CreateTtlRequest {
                    path: "/badttl".into(),
                    data: None,
                    acl: RawAcl::open_unsafe(),
                    flags: create_mode::PERSISTENT_WITH_TTL,
                    ttl,
                },
            )
            .await;
        assert_eq!(r.header.err, -8, "ttl {ttl} → BADARGUMENTS");
    }
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_needs_extended_types() {
    let mut server = Server::start().await;
    let c = server.client().await;
    let ttl = opts(CreateMode::Persistent).with_ttl(Duration::from_secs(10));
    assert_eq!(
        t(c.create("/ttl", b"", &ttl)).await.unwrap_err(),
        Error::Unimplemented
    );
    assert!(t(c.check_stat("/ttl")).await.unwrap().is_none());
    // Containers do not need it.
    t(c.create("/ctr", b"", &opts(CreateMode::Container)))
        .await
        .unwrap();
    server.assert_healthy();
}
