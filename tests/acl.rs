//! Acceptance item 7: ACLs (world, auth, digest, ip with CIDR, super), INVALIDACL, NOAUTH.

mod common;

use common::*;
use jute::consts::{op, xid};
use jute::proto as p;
use zk::{Acl, Acls, AuthId, AuthUser, CreateMode, Error, MultiWriteError, Permission};
use zookeeper_client as zk;

const SUPER_PW: &str = "super:pw";

fn open() -> zk::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

fn acl(perms: Permission, scheme: &str, id: &str) -> Acl {
    Acl::new(perms, AuthId::new(scheme, id))
}

async fn server() -> Server {
    let super_digest = digest_id("super", "pw");
    Server::start_with(&[("DigestAuthenticationProvider.superDigest", &super_digest)]).await
}

async fn client_as(server: &Server, user_pw: &str) -> zk::Client {
    server
        .connect(zk::Client::connector().with_auth("digest", user_pw.as_bytes()))
        .await
}

#[test]
fn digest_vector_from_the_reference() {
    assert_eq!(
        digest_id("alice", "secret"),
        "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn world_acl() {
    let mut server = server().await;
    let c = server.client().await;
    t(c.create(
        "/ro",
        b"r",
        &CreateMode::Persistent.with_acls(Acls::anyone_read()),
    ))
    .await
    .unwrap();
    assert_eq!(t(c.get_data("/ro")).await.unwrap().0, b"r");
    assert_eq!(
        t(c.set_data("/ro", b"w", None)).await.unwrap_err(),
        Error::NoAuth
    );
    assert_eq!(
        t(c.create("/ro/kid", b"", &open())).await.unwrap_err(),
        Error::NoAuth,
        "CREATE on the parent is needed"
    );
    assert_eq!(
        t(c.set_acl("/ro", &[acl(Permission::ALL, "world", "anyone")], None))
            .await
            .unwrap_err(),
        Error::NoAuth
    );
    assert_eq!(
        t(c.list_children("/ro")).await.unwrap(),
        Vec::<String>::new()
    );
    // Delete needs DELETE on the parent, not on the node.
    let rc = [acl(
        Permission::READ | Permission::CREATE,
        "world",
        "anyone",
    )];
    t(c.create(
        "/nodelete",
        b"",
        &CreateMode::Persistent.with_acls(Acls::new(&rc)),
    ))
    .await
    .unwrap();
    t(c.create("/nodelete/kid", b"", &open())).await.unwrap();
    assert_eq!(
        t(c.delete("/nodelete/kid", None)).await.unwrap_err(),
        Error::NoAuth
    );
    // ...and /ro itself can be deleted: / grants DELETE to anyone.
    t(c.delete("/ro", None)).await.unwrap();
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_scheme_expands_to_the_callers_authenticated_ids() {
    let mut server = server().await;
    let alice = client_as(&server, "alice:secret").await;
    let anon = server.client().await;
    let alice2 = client_as(&server, "alice:secret").await;
    let mallory = client_as(&server, "alice:wrong").await;

    t(alice.create(
        "/mine",
        b"m",
        &CreateMode::Persistent.with_acls(Acls::creator_all()),
    ))
    .await
    .unwrap();
    let (acls, _) = t(alice.get_acl("/mine")).await.unwrap();
    assert_eq!(
        acls,
        vec![acl(
            Permission::ALL,
            "digest",
            "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="
        )]
    );

    assert_eq!(t(anon.get_data("/mine")).await.unwrap_err(), Error::NoAuth);
    assert_eq!(
        t(anon.set_data("/mine", b"", None)).await.unwrap_err(),
        Error::NoAuth
    );
    assert_eq!(
        t(anon.get_acl("/mine")).await.unwrap_err(),
        Error::NoAuth,
        "getACL needs READ or ADMIN"
    );
    assert_eq!(
        t(anon.get_children("/mine")).await.unwrap_err(),
        Error::NoAuth
    );
    assert_eq!(
        t(mallory.get_data("/mine")).await.unwrap_err(),
        Error::NoAuth,
        "wrong password, different digest"
    );
    assert_eq!(
        t(alice2.get_data("/mine")).await.unwrap().0,
        b"m",
        "same user:password, same id"
    );
    t(alice2.set_data("/mine", b"m2", None)).await.unwrap();

    // Adding auth later on a live session.
    t(anon.auth("digest", b"alice:secret")).await.unwrap();
    assert_eq!(t(anon.get_data("/mine")).await.unwrap().0, b"m2");

    // Two authenticated ids: auth expands to both.
    let both = client_as(&server, "bob:pw").await;
    t(both.auth("digest", b"carol:pw")).await.unwrap();
    t(both.create(
        "/shared",
        b"",
        &CreateMode::Persistent.with_acls(Acls::creator_all()),
    ))
    .await
    .unwrap();
    let (mut acls, _) = t(both.get_acl("/shared")).await.unwrap();
    acls.sort_by(|a, b| a.id().cmp(b.id()));
    assert_eq!(
        acls,
        vec![
            acl(Permission::ALL, "digest", &digest_id("bob", "pw")),
            acl(Permission::ALL, "digest", &digest_id("carol", "pw")),
        ]
    );
    let carol = client_as(&server, "carol:pw").await;
    t(carol.get_data("/shared")).await.unwrap();
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_acl_with_per_user_permissions() {
    let mut server = server().await;
    let anon = server.client().await;
    let alice = client_as(&server, "alice:secret").await;
    let bob = client_as(&server, "bob:pw").await;
    let acls = [
        acl(Permission::READ, "digest", &digest_id("alice", "secret")),
        acl(Permission::ALL, "digest", &digest_id("bob", "pw")),
    ];
    // Anyone may create it (the ACL is on the new node).
    t(anon.create(
        "/d",
        b"data",
        &CreateMode::Persistent.with_acls(Acls::new(&acls)),
    ))
    .await
    .unwrap();
    assert_eq!(t(anon.get_data("/d")).await.unwrap_err(), Error::NoAuth);
    assert_eq!(t(alice.get_data("/d")).await.unwrap().0, b"data");
    assert_eq!(
        t(alice.set_data("/d", b"x", None)).await.unwrap_err(),
        Error::NoAuth
    );
    assert_eq!(
        t(alice.create("/d/k", b"", &open())).await.unwrap_err(),
        Error::NoAuth
    );
    t(bob.set_data("/d", b"bob", None)).await.unwrap();
    t(bob.create("/d/k", b"", &open())).await.unwrap();
    assert_eq!(
        t(alice.delete("/d/k", None)).await.unwrap_err(),
        Error::NoAuth
    );
    t(bob.delete("/d/k", None)).await.unwrap();

    // getACL: alice has READ but not ADMIN, so digest ids are masked; bob (ADMIN) sees them.
    let (seen_by_alice, _) = t(alice.get_acl("/d")).await.unwrap();
    assert_eq!(
        seen_by_alice,
        vec![
            acl(Permission::READ, "digest", "alice:x"),
            acl(Permission::ALL, "digest", "bob:x")
        ],
        "without ADMIN, digest ids are shown as user:x"
    );
    let (seen_by_bob, stat) = t(bob.get_acl("/d")).await.unwrap();
    assert_eq!(seen_by_bob, acls.to_vec());
    assert_eq!(stat.aversion, 0);

    // setACL needs ADMIN; with it, aversion moves.
    let only_bob = [acl(Permission::ALL, "digest", &digest_id("bob", "pw"))];
    assert_eq!(
        t(alice.set_acl("/d", &only_bob, None)).await.unwrap_err(),
        Error::NoAuth
    );
    let s = t(bob.set_acl("/d", &only_bob, Some(0))).await.unwrap();
    assert_eq!(s.aversion, 1);
    assert_eq!(t(alice.get_data("/d")).await.unwrap_err(), Error::NoAuth);

    // ADMIN alone is enough for getACL.
    let admin_only = [acl(Permission::ADMIN, "world", "anyone")];
    t(bob.create(
        "/adm",
        b"",
        &CreateMode::Persistent.with_acls(Acls::new(&admin_only)),
    ))
    .await
    .unwrap();
    assert_eq!(t(anon.get_data("/adm")).await.unwrap_err(), Error::NoAuth);
    let (a, _) = t(anon.get_acl("/adm")).await.unwrap();
    assert_eq!(a, admin_only.to_vec());

    // A NOAUTH op inside a multi fails the whole multi.
    let mut w = alice.new_multi_writer();
    w.add_create("/free", b"", &open()).unwrap();
    w.add_set_data("/d", b"nope", None).unwrap();
    assert_eq!(
        t(w.commit()).await.unwrap_err(),
        MultiWriteError::OperationFailed {
            index: 1,
            source: Error::NoAuth
        }
    );
    assert!(t(alice.check_stat("/free")).await.unwrap().is_none());
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_acl_with_cidr() {
    let mut server = server().await;
    let c = server.client().await;
    let cases = [
        ("/ip-loop8", "127.0.0.0/8", true),
        ("/ip-exact", "127.0.0.1", true),
        ("/ip-32", "127.0.0.1/32", true),
        ("/ip-ten", "10.0.0.0/8", false),
        ("/ip-other", "127.0.0.2", false),
        ("/ip-24-miss", "127.0.1.0/24", false),
    ];
    for (path, id, allowed) in cases {
        let acls = [acl(Permission::ALL, "ip", id)];
        t(c.create(
            path,
            b"v",
            &CreateMode::Persistent.with_acls(Acls::new(&acls)),
        ))
        .await
        .unwrap();
        let got = t(c.get_data(path)).await;
        if allowed {
            assert_eq!(got.unwrap().0, b"v", "ip:{id} admits 127.0.0.1");
            t(c.set_data(path, b"w", None)).await.unwrap();
        } else {
            assert_eq!(got.unwrap_err(), Error::NoAuth, "ip:{id} refuses 127.0.0.1");
            assert_eq!(
                t(c.set_data(path, b"w", None)).await.unwrap_err(),
                Error::NoAuth
            );
        }
    }
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_acls() {
    let mut server = server().await;
    let c = server.client().await;
    t(c.create("/n", b"", &open())).await.unwrap();
    // auth: with no authenticated id (ip is not one).
    assert_eq!(
        t(c.create(
            "/a",
            b"",
            &CreateMode::Persistent.with_acls(Acls::creator_all())
        ))
        .await
        .unwrap_err(),
        Error::InvalidAcl
    );
    assert_eq!(
        t(c.set_acl("/n", &[acl(Permission::ALL, "auth", "")], None))
            .await
            .unwrap_err(),
        Error::InvalidAcl
    );
    // Empty ACL list: setACL through the client, create on the wire (the client refuses it).
    assert_eq!(
        t(c.set_acl("/n", &[], None)).await.unwrap_err(),
        Error::InvalidAcl
    );
    let mut raw = Raw::connect(&server.addr()).await;
    let r = raw
        .call(
            op::CREATE,
            &p::CreateRequest {
                path: "/empty".into(),
                data: None,
                acl: vec![],
                flags: 0,
            },
        )
        .await;
    assert_eq!(r.header.err, -114, "empty ACL → INVALIDACL");
    // Malformed ids.
    let bad = [
        acl(Permission::ALL, "digest", "no-colon"),
        acl(Permission::ALL, "ip", "300.1.2.3"),
        acl(Permission::ALL, "ip", "not-an-ip"),
        acl(Permission::ALL, "ip", "127.0.0.1/33"),
        acl(Permission::ALL, "nosuchscheme", "x"),
        acl(Permission::ALL, "world", "someone"),
    ];
    for a in bad {
        let one = [a.clone()];
        assert_eq!(
            t(c.create(
                "/bad",
                b"",
                &CreateMode::Persistent.with_acls(Acls::new(&one))
            ))
            .await
            .unwrap_err(),
            Error::InvalidAcl,
            "{a:?}"
        );
        assert_eq!(
            t(c.set_acl("/n", &one, None)).await.unwrap_err(),
            Error::InvalidAcl,
            "{a:?}"
        );
    }
    assert!(t(c.check_stat("/bad")).await.unwrap().is_none());
    let (_, stat) = t(c.get_acl("/n")).await.unwrap();
    assert_eq!(stat.aversion, 0, "failed setACLs changed nothing");
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn super_user_bypasses_acls() {
    let mut server = server().await;
    let alice = client_as(&server, "alice:secret").await;
    let root = client_as(&server, SUPER_PW).await;
    let not_root = client_as(&server, "super:wrong").await;
    t(alice.create(
        "/locked",
        b"secret",
        &CreateMode::Persistent.with_acls(Acls::creator_all()),
    ))
    .await
    .unwrap();
    t(alice.create(
        "/locked/kid",
        b"",
        &CreateMode::Persistent.with_acls(Acls::creator_all()),
    ))
    .await
    .unwrap();

    assert_eq!(
        t(not_root.get_data("/locked")).await.unwrap_err(),
        Error::NoAuth
    );
    assert_eq!(t(root.get_data("/locked")).await.unwrap().0, b"secret");
    t(root.set_data("/locked", b"mine", None)).await.unwrap();
    let (a, _) = t(root.get_acl("/locked")).await.unwrap();
    assert_eq!(
        a,
        vec![acl(
            Permission::ALL,
            "digest",
            &digest_id("alice", "secret")
        )],
        "super sees unmasked ids"
    );
    t(root.create("/locked/new", b"", &open())).await.unwrap();
    t(root.delete("/locked/kid", None)).await.unwrap();
    t(root.set_acl("/locked", &[acl(Permission::READ, "world", "anyone")], None))
        .await
        .unwrap();
    // Even the read-only config node.
    t(root.set_data("/zookeeper/config", b"", None))
        .await
        .unwrap();
    assert_eq!(
        t(alice.set_data("/locked", b"", None)).await.unwrap_err(),
        Error::NoAuth
    );

    let mut who = t(root.list_auth_users()).await.unwrap();
    who.sort_by(|a, b| (a.scheme(), a.user()).cmp(&(b.scheme(), b.user())));
    assert_eq!(
        who,
        vec![
            AuthUser::new("digest", "super"),
            AuthUser::new("ip", "127.0.0.1"),
            AuthUser::new("super", "")
        ],
        "the super digest also grants the super id"
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_am_i() {
    let mut server = server().await;
    let c = server.client().await;
    assert_eq!(
        t(c.list_auth_users()).await.unwrap(),
        vec![AuthUser::new("ip", "127.0.0.1")]
    );
    t(c.auth("digest", b"alice:secret")).await.unwrap();
    let mut who = t(c.list_auth_users()).await.unwrap();
    who.sort_by(|a, b| (a.scheme(), a.user()).cmp(&(b.scheme(), b.user())));
    assert_eq!(
        who,
        vec![
            AuthUser::new("digest", "alice"),
            AuthUser::new("ip", "127.0.0.1")
        ]
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_auth_is_answered_then_the_connection_closed() {
    let mut server = server().await;
    let w = server.client().await;
    let mut raw = Raw::connect(&server.addr()).await;
    let mut out = bytes::BytesMut::new();
    use jute::Jute;
    p::RequestHeader {
        xid: xid::AUTH,
        op: op::AUTH,
    }
    .encode(&mut out);
    p::AuthPacket {
        type_: 0,
        scheme: "nosuchscheme".into(),
        auth: Some(b"x".to_vec().into()),
    }
    .encode(&mut out);
    raw.write(&frame(&out)).await;
    let r = raw.read().await;
    assert_eq!(
        (r.header.xid, r.header.err),
        (xid::AUTH, -115),
        "AUTHFAILED with the auth xid"
    );
    assert!(
        read_until_closed(&mut raw.stream, WAIT).await.is_empty(),
        "then closed"
    );

    // A successful auth is answered with the auth xid and err 0.
    let mut raw = Raw::connect(&server.addr()).await;
    let mut out = bytes::BytesMut::new();
    p::RequestHeader {
        xid: xid::AUTH,
        op: op::AUTH,
    }
    .encode(&mut out);
    p::AuthPacket {
        type_: 0,
        scheme: "digest".into(),
        auth: Some(b"alice:secret".to_vec().into()),
    }
    .encode(&mut out);
    raw.write(&frame(&out)).await;
    let r = raw.read().await;
    assert_eq!((r.header.xid, r.header.err), (xid::AUTH, 0));

    // Through the client: the session ends in AuthFailed.
    let c = server.client().await;
    assert_eq!(
        t(c.auth("nosuchscheme", b"x")).await.unwrap_err(),
        Error::AuthFailed
    );
    assert_eq!(c.state(), zk::SessionState::AuthFailed);
    // Others are unaffected.
    t(w.create("/still", b"", &open())).await.unwrap();
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_reply_echoes_the_request_xid() {
    // Java answers an AuthPacket with ReplyHeader(h.getXid(), 0, err): whatever xid the
    // client used. zookeeper-client sends auth with an ordinary xid and waits for it.
    let mut server = server().await;
    let mut raw = Raw::connect(&server.addr()).await;
    for x in [7, xid::AUTH, 12345] {
        let mut out = bytes::BytesMut::new();
        use jute::Jute;
        p::RequestHeader {
            xid: x,
            op: op::AUTH,
        }
        .encode(&mut out);
        p::AuthPacket {
            type_: 0,
            scheme: "digest".into(),
            auth: Some(b"alice:secret".to_vec().into()),
        }
        .encode(&mut out);
        raw.write(&frame(&out)).await;
        let r = raw.read().await;
        assert_eq!(
            (r.header.xid, r.header.zxid, r.header.err),
            (x, 0, 0),
            "auth reply echoes xid {x}"
        );
    }
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_pipelined_behind_the_handshake_is_answered_after_it() {
    // zookeeper-client writes ConnectRequest, AuthPacket(s) and a ping back to back. Java
    // stops reading a connection until its session is set up, so the ConnectResponse is
    // always the first frame back.
    let mut server = server().await;
    for _ in 0..5 {
        let mut s = t(tokio::net::TcpStream::connect(server.addr()))
            .await
            .unwrap();
        let mut wire = frame(&encode(&connect_request(10_000, 0, &[0; 16])));
        let mut out = bytes::BytesMut::new();
        use jute::Jute;
        p::RequestHeader {
            xid: 1,
            op: op::AUTH,
        }
        .encode(&mut out);
        p::AuthPacket {
            type_: 0,
            scheme: "digest".into(),
            auth: Some(b"alice:secret".to_vec().into()),
        }
        .encode(&mut out);
        wire.extend_from_slice(&frame(&out));
        wire.extend_from_slice(&frame(&encode(&p::RequestHeader {
            xid: xid::PING,
            op: op::PING,
        })));
        use tokio::io::AsyncWriteExt;
        t(s.write_all(&wire)).await.unwrap();
        let ReadOutcome::Frame(first) = read_frame_from(&mut s, WAIT).await else {
            panic!("closed")
        };
        assert_eq!(
            first.len(),
            37,
            "the first frame back must be the ConnectResponse, got {first:02x?}"
        );
        let resp = p::ConnectResponse::from_bytes(&first).unwrap();
        assert_ne!(resp.session_id, 0);
        let ReadOutcome::Frame(second) = read_frame_from(&mut s, WAIT).await else {
            panic!("closed")
        };
        let h = p::ReplyHeader::from_bytes(&second).unwrap();
        assert_eq!((h.xid, h.err), (1, 0), "then the auth reply");
        let ReadOutcome::Frame(third) = read_frame_from(&mut s, WAIT).await else {
            panic!("closed")
        };
        assert_eq!(p::ReplyHeader::from_bytes(&third).unwrap().xid, xid::PING);
    }
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exists_and_watch_delivery_respect_read_permission() {
    let mut server = server().await;
    let alice = client_as(&server, "alice:secret").await;
    let mut raw = Raw::connect(&server.addr()).await; // anonymous
    let private = [acl(
        Permission::ALL,
        "digest",
        &digest_id("alice", "secret"),
    )];
    t(alice.create(
        "/hidden",
        b"",
        &CreateMode::Persistent.with_acls(Acls::new(&private)),
    ))
    .await
    .unwrap();
    let r = raw
        .call(
            op::EXISTS,
            &p::ExistsRequest {
                path: "/hidden".into(),
                watch: true,
            },
        )
        .await;
    assert_eq!(r.header.err, -102, "exists needs READ on an existing node");
    // A watch on a path that will get a private node: its NodeCreated is not delivered.
    let r = raw
        .call(
            op::EXISTS,
            &p::ExistsRequest {
                path: "/later".into(),
                watch: true,
            },
        )
        .await;
    assert_eq!(r.header.err, -101);
    let r = raw
        .call(
            op::EXISTS,
            &p::ExistsRequest {
                path: "/public".into(),
                watch: true,
            },
        )
        .await;
    assert_eq!(r.header.err, -101);
    t(alice.create(
        "/later",
        b"",
        &CreateMode::Persistent.with_acls(Acls::new(&private)),
    ))
    .await
    .unwrap();
    t(alice.create("/public", b"", &open())).await.unwrap();
    let got: Vec<String> = raw.ping().await.iter().map(|r| r.event().path).collect();
    assert_eq!(
        got,
        vec!["/public".to_string()],
        "no event for a node the watcher cannot read"
    );
    server.assert_healthy();
}
