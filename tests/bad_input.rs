//! Acceptance item 9: bad input on raw sockets never hurts the server or its other clients.
//! Each test keeps a well-behaved zookeeper-client session running alongside and checks it is
//! still served after every abuse, and that the server process is alive and never panicked.

mod common;

use std::time::Duration;

use bytes::BytesMut;
use common::*;
use jute::consts::{create_mode, op};
use jute::data::Acl as RawAcl;
use jute::proto as p;
use jute::Jute;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use zk::{Acls, CreateMode};
use zookeeper_client as zk;

/// The bystander: a few real operations, with a watch, must all succeed.
async fn still_served(w: &zk::Client, round: &str) {
    let path = format!("/bystander-{round}");
    within(&format!("bystander after {round}"), WAIT, async {
        let (_, watch) = w.check_and_watch_stat(&path).await.unwrap();
        w.create(
            &path,
            round.as_bytes(),
            &CreateMode::Persistent.with_acls(Acls::anyone_all()),
        )
        .await
        .unwrap_or_else(|e| panic!("bystander create after {round}: {e}"));
        let e = watch.changed().await;
        assert_eq!(e.event_type, zk::EventType::NodeCreated);
        assert_eq!(w.get_data(&path).await.unwrap().0, round.as_bytes());
        w.delete(&path, None).await.unwrap();
    })
    .await;
    assert_eq!(
        w.state(),
        zk::SessionState::SyncConnected,
        "bystander session intact after {round}"
    );
}

async fn tcp(server: &Server) -> TcpStream {
    let s = t(TcpStream::connect(server.addr())).await.expect("connect");
    let _ = s.set_nodelay(true);
    s
}

/// Writes and expects the server to close the connection; returns frames sent before that.
async fn write_expect_close(s: &mut TcpStream, bytes: &[u8], what: &str) -> Vec<Vec<u8>> {
    let _ = tokio::time::timeout(WAIT, s.write_all(bytes)).await; // may already be closed
    let frames = within(what, WAIT, read_until_closed(s, WAIT)).await;
    frames
}

fn header(xid: i32, opcode: i32) -> BytesMut {
    let mut out = BytesMut::new();
    p::RequestHeader { xid, op: opcode }.encode(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_close_only_their_connection() {
    let mut server = Server::start().await;
    let w = server.client().await;
    still_served(&w, "start").await;

    // Negative length as the very first frame.
    let mut s = tcp(&server).await;
    let got = write_expect_close(
        &mut s,
        &(-1i32).to_be_bytes(),
        "close after negative first length",
    )
    .await;
    assert!(got.is_empty());
    still_served(&w, "negative-first").await;

    // Negative length after the handshake.
    let mut r = Raw::connect(&server.addr()).await;
    let got = write_expect_close(
        &mut r.stream,
        &(-5i32).to_be_bytes(),
        "close after negative length",
    )
    .await;
    assert!(got.is_empty());
    still_served(&w, "negative-later").await;

    // A first frame far too short to be a ConnectRequest.
    let mut s = tcp(&server).await;
    let got = write_expect_close(&mut s, &frame(b"hello"), "close after a 5-byte connect").await;
    assert!(got.is_empty(), "no ConnectResponse to garbage");
    still_served(&w, "short-connect").await;

    // A ConnectRequest whose password length points past the end.
    let mut body = BytesMut::new();
    body.extend_from_slice(&0i32.to_be_bytes());
    body.extend_from_slice(&0i64.to_be_bytes());
    body.extend_from_slice(&10_000i32.to_be_bytes());
    body.extend_from_slice(&0i64.to_be_bytes());
    body.extend_from_slice(&1000i32.to_be_bytes());
    body.extend_from_slice(&[0u8; 16]);
    let mut s = tcp(&server).await;
    let got = write_expect_close(&mut s, &frame(&body), "close after a bad password length").await;
    assert!(got.is_empty());
    still_served(&w, "bad-passwd-len").await;

    // Zero-length and 3-byte frames after the handshake: no RequestHeader in them.
    for payload in [&b""[..], &b"abc"[..]] {
        let mut r = Raw::connect(&server.addr()).await;
        let got = write_expect_close(
            &mut r.stream,
            &frame(payload),
            "close after a headerless frame",
        )
        .await;
        assert!(
            got.is_empty(),
            "nothing answers a frame without a RequestHeader: {got:?}"
        );
        still_served(&w, &format!("headerless-{}", payload.len())).await;
    }

    // A frame cut off by the client hanging up mid-way, before and after the handshake.
    let mut s = tcp(&server).await;
    t(s.write_all(&100i32.to_be_bytes())).await.unwrap();
    t(s.write_all(&[0u8; 10])).await.unwrap();
    drop(s);
    let mut r = Raw::connect(&server.addr()).await;
    r.write(&200i32.to_be_bytes()).await;
    r.write(&header(1, op::GET_DATA)).await;
    drop(r);
    still_served(&w, "truncated").await;

    // Random garbage of many shapes as a first frame.
    let mut seed = 0x2545F4914F6CDD1Du64;
    for i in 0..40 {
        let mut junk = Vec::new();
        let len = (i * 7) % 64;
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            junk.push(seed as u8);
        }
        let mut s = tcp(&server).await;
        let _ = tokio::time::timeout(WAIT, s.write_all(&frame(&junk))).await;
        // The server either answers (junk that happens to parse) or closes; just hang up.
        let _ = tokio::time::timeout(
            Duration::from_millis(50),
            read_until_closed(&mut s, Duration::from_millis(40)),
        )
        .await;
    }
    still_served(&w, "garbage").await;
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_over_jute_maxbuffer_closes_the_connection() {
    let mut server = Server::start_with(&[("jute.maxbuffer", "4096")]).await;
    let w = server.client().await;
    still_served(&w, "start").await;

    // After the handshake: a setData whose frame is 5000 bytes.
    let mut r = Raw::connect(&server.addr()).await;
    let req = p::SetDataRequest {
        path: "/big".into(),
        data: Some(vec![7u8; 5000].into()),
        version: -1,
    };
    let mut out = header(1, op::SET_DATA);
    req.encode(&mut out);
    let got = write_expect_close(
        &mut r.stream,
        &frame(&out),
        "close after an oversized frame",
    )
    .await;
    assert!(
        got.is_empty(),
        "an oversized frame gets no reply, just a close: {got:?}"
    );
    still_served(&w, "oversized").await;
    assert!(t(w.check_stat("/big")).await.unwrap().is_none());

    // Only the length: the server must not wait for a megabyte that will never come.
    let mut r = Raw::connect(&server.addr()).await;
    let got = write_expect_close(
        &mut r.stream,
        &1_000_000i32.to_be_bytes(),
        "close on an oversized length alone",
    )
    .await;
    assert!(got.is_empty());
    still_served(&w, "oversized-length").await;

    // As the first frame.
    let mut s = tcp(&server).await;
    let got = write_expect_close(
        &mut s,
        &frame(&vec![0u8; 5000]),
        "close after an oversized connect",
    )
    .await;
    assert!(got.is_empty());
    still_served(&w, "oversized-first").await;

    // Under the limit is fine.
    let mut r = Raw::connect(&server.addr()).await;
    let reply = r
        .call(
            op::CREATE,
            &p::CreateRequest {
                path: "/fits".into(),
                data: Some(vec![1u8; 3000].into()),
                acl: RawAcl::open_unsafe(),
                flags: 0,
            },
        )
        .await;
    assert_eq!(reply.header.err, 0);
    assert_eq!(t(w.get_data("/fits")).await.unwrap().0.len(), 3000);
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_opcode_is_unimplemented_then_closed() {
    let mut server = Server::start().await;
    let w = server.client().await;
    for opcode in [999, 10, 23, 99, 108, -3, 0] {
        let mut r = Raw::connect(&server.addr()).await;
        // A good request first, answered normally.
        let ok = r
            .call(
                op::EXISTS,
                &p::ExistsRequest {
                    path: "/".into(),
                    watch: false,
                },
            )
            .await;
        assert_eq!(ok.header.err, 0);
        let xid = r.send_bytes(opcode, b"\x00\x00\x00\x01/").await;
        let reply = r
            .read_or_closed()
            .await
            .unwrap_or_else(|| panic!("opcode {opcode}: closed without the UNIMPLEMENTED reply"));
        assert_eq!(
            (reply.header.xid, reply.header.err),
            (xid, -6),
            "opcode {opcode} → UNIMPLEMENTED"
        );
        let rest = read_until_closed(&mut r.stream, WAIT).await;
        assert!(
            rest.is_empty(),
            "opcode {opcode}: then the connection is closed"
        );
        still_served(&w, &format!("opcode{opcode}")).await;
    }
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_level_check_is_unimplemented_then_closed() {
    let mut server = Server::start().await;
    let w = server.client().await;
    t(w.create(
        "/chk",
        b"",
        &CreateMode::Persistent.with_acls(Acls::anyone_all()),
    ))
    .await
    .unwrap();
    let mut r = Raw::connect(&server.addr()).await;
    let xid = r
        .send(
            op::CHECK,
            &p::CheckVersionRequest {
                path: "/chk".into(),
                version: 0,
            },
        )
        .await;
    let reply = r
        .read_or_closed()
        .await
        .expect("check (13) at top level is answered");
    assert_eq!((reply.header.xid, reply.header.err), (xid, -6));
    assert!(
        read_until_closed(&mut r.stream, WAIT).await.is_empty(),
        "then closed"
    );
    still_served(&w, "check13").await;
    // Nothing was logged as a txn: the next create's zxid follows the bystander's writes.
    let (a, _) = t(w.create(
        "/z1",
        b"",
        &CreateMode::Persistent.with_acls(Acls::anyone_all()),
    ))
    .await
    .unwrap();
    let (b, _) = t(w.create(
        "/z2",
        b"",
        &CreateMode::Persistent.with_acls(Acls::anyone_all()),
    ))
    .await
    .unwrap();
    assert_eq!(b.czxid, a.czxid + 1);
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparsable_bodies_are_marshalling_errors() {
    let mut server = Server::start().await;
    let w = server.client().await;
    t(w.create(
        "/m",
        b"keep",
        &CreateMode::Persistent.with_acls(Acls::anyone_all()),
    ))
    .await
    .unwrap();
    let mut r = Raw::connect(&server.addr()).await;
    // A string length pointing past the end of the frame.
    let truncated_path = [0u8, 0, 0, 100, b'/', b'm'];
    let cases: Vec<(i32, Vec<u8>)> = vec![
        (op::GET_DATA, truncated_path.to_vec()),
        (op::EXISTS, vec![]),
        (op::GET_CHILDREN2, truncated_path.to_vec()),
        (op::CREATE, truncated_path.to_vec()),
        (op::SET_DATA, {
            // path ok, data length -7 (only -1 means null)
            let mut b = BytesMut::new();
            "/m".to_string().encode(&mut b);
            b.extend_from_slice(&(-7i32).to_be_bytes());
            b.extend_from_slice(&0i32.to_be_bytes());
            b.to_vec()
        }),
        (op::DELETE, {
            let mut b = BytesMut::new();
            "/m".to_string().encode(&mut b);
            b.to_vec() // version missing
        }),
        (op::MULTI, {
            // a multi op header with an unknown op type
            let mut b = BytesMut::new();
            p::MultiHeader {
                type_: 77,
                done: false,
                err: -1,
            }
            .encode(&mut b);
            "/m".to_string().encode(&mut b);
            b.to_vec()
        }),
        (op::SET_ACL, {
            let mut b = BytesMut::new();
            "/m".to_string().encode(&mut b);
            b.extend_from_slice(&1_000_000i32.to_be_bytes()); // ACL count far beyond the body
            b.to_vec()
        }),
    ];
    for (opcode, body) in cases {
        let xid = r.send_bytes(opcode, &body).await;
        let reply = r
            .read_or_closed()
            .await
            .unwrap_or_else(|| panic!("opcode {opcode}: closed instead of MARSHALLINGERROR"));
        assert_eq!(
            (reply.header.xid, reply.header.err),
            (xid, -5),
            "opcode {opcode} with an unparsable body"
        );
        // The connection stays usable.
        let ok = r
            .call(
                op::EXISTS,
                &p::ExistsRequest {
                    path: "/m".into(),
                    watch: false,
                },
            )
            .await;
        assert_eq!(ok.header.err, 0, "opcode {opcode}: connection still served");
    }
    assert_eq!(
        t(w.get_data("/m")).await.unwrap().0,
        b"keep",
        "no unparsable write changed anything"
    );
    still_served(&w, "marshalling").await;
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_paths_are_bad_arguments_and_harmless() {
    let mut server = Server::start().await;
    let w = server.client().await;
    let mut r = Raw::connect(&server.addr()).await;
    for path in ["", "x", "/a/", "//", "/a\u{0}b", "/.", "/\u{1f}"] {
        let reply = r
            .call(
                op::CREATE,
                &p::CreateRequest {
                    path: path.into(),
                    data: None,
                    acl: RawAcl::open_unsafe(),
                    flags: create_mode::PERSISTENT,
                },
            )
            .await;
        // "/a/" has no parent /a: Java answers NONODE before validating the full path.
        let expected = if path == "/a/" { -101 } else { -8 };
        assert_eq!(reply.header.err, expected, "create {path:?}");
        let reply = r
            .call(
                op::SET_DATA,
                &p::SetDataRequest {
                    path: path.into(),
                    data: None,
                    version: -1,
                },
            )
            .await;
        assert_eq!(reply.header.err, -8, "setData {path:?}");
    }
    // Non-UTF-8 bytes in a path string.
    let mut body = BytesMut::new();
    body.extend_from_slice(&3i32.to_be_bytes());
    body.extend_from_slice(&[b'/', 0xff, 0xfe]);
    body.extend_from_slice(&(-1i32).to_be_bytes()); // null data
    body.extend_from_slice(&1i32.to_be_bytes());
    RawAcl::open_unsafe()[0].encode(&mut body);
    body.extend_from_slice(&0i32.to_be_bytes());
    let xid = r.send_bytes(op::CREATE, &body).await;
    if let Some(reply) = r.read_or_closed().await {
        assert_eq!(reply.header.xid, xid);
        assert_ne!(reply.header.err, 0, "a non-UTF-8 path is not created");
    }
    still_served(&w, "bad-paths").await;
    assert_eq!(
        t(w.list_children("/")).await.unwrap(),
        vec!["zookeeper".to_string()]
    );
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_before_the_handshake_are_refused() {
    let mut server = Server::start().await;
    let w = server.client().await;
    t(w.create(
        "/pre",
        b"secret",
        &CreateMode::Persistent.with_acls(Acls::anyone_all()),
    ))
    .await
    .unwrap();

    // A getData frame as the first frame.
    let mut out = header(1, op::GET_DATA);
    p::GetDataRequest {
        path: "/pre".into(),
        watch: false,
    }
    .encode(&mut out);
    let mut s = tcp(&server).await;
    let got = write_expect_close(
        &mut s,
        &frame(&out),
        "close after a request before the handshake",
    )
    .await;
    for f in &got {
        assert!(
            !f.windows(6).any(|w| w == b"secret"),
            "no data leaks before the handshake"
        );
    }
    assert!(
        got.is_empty(),
        "no reply to a request before the handshake: {got:?}"
    );
    still_served(&w, "pre-getdata").await;

    // A ping as the first frame.
    let mut s = tcp(&server).await;
    let got = write_expect_close(
        &mut s,
        &frame(&header(-2, op::PING)),
        "close after a ping before the handshake",
    )
    .await;
    assert!(got.is_empty());
    // A create as the first frame does nothing.
    let mut out = header(1, op::CREATE);
    p::CreateRequest {
        path: "/sneaky".into(),
        data: None,
        acl: RawAcl::open_unsafe(),
        flags: 0,
    }
    .encode(&mut out);
    let mut s = tcp(&server).await;
    let _ = write_expect_close(
        &mut s,
        &frame(&out),
        "close after a create before the handshake",
    )
    .await;
    assert!(t(w.check_stat("/sneaky")).await.unwrap().is_none());
    still_served(&w, "pre-create").await;
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_does_not_stall_the_server() {
    let mut server = Server::start().await;
    let w = server.client().await;
    let big = vec![b'x'; 512 * 1024];
    t(w.create(
        "/big",
        &big,
        &CreateMode::Persistent.with_acls(Acls::anyone_all()),
    ))
    .await
    .unwrap();

    // A connection with a tiny receive buffer that asks for ~50 MB of replies and never reads.
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let stream = t(sock.connect(server.addr().parse().unwrap()))
        .await
        .unwrap();
    let mut hog = stream;
    let req = encode(&connect_request(10_000, 0, &[0; 16]));
    t(hog.write_all(&frame(&req))).await.unwrap();
    let mut burst = BytesMut::new();
    for i in 0..100 {
        let mut out = header(i + 1, op::GET_DATA);
        p::GetDataRequest {
            path: "/big".into(),
            watch: false,
        }
        .encode(&mut out);
        burst.extend_from_slice(&frame(&out));
    }
    // The requests are small; writing them cannot block on the server for long.
    within("writing the hog's requests", WAIT, hog.write_all(&burst))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Everyone else is still served promptly, many times over.
    for i in 0..20 {
        still_served(&w, &format!("hog-{i}")).await;
    }
    let w2 = server.client().await;
    let (data, _) = within(
        "a new client reads /big while the hog is stuck",
        WAIT,
        w2.get_data("/big"),
    )
    .await
    .unwrap();
    assert_eq!(data.len(), big.len());
    let mut r = Raw::connect(&server.addr()).await;
    assert!(r.ping().await.is_empty());

    // The hog hangs up; the server cleans up and carries on.
    drop(hog);
    tokio::time::sleep(Duration::from_millis(200)).await;
    still_served(&w, "hog-gone").await;
    server.assert_healthy();
}
