//! Acceptance item 8: per-session order.

mod common;

use common::*;
use jute::consts::{create_mode, op, xid};
use jute::data::Acl as RawAcl;
use jute::proto::{self as p, MultiOp};
use jute::Jute;
use zk::{Acls, CreateMode, Error};
use zookeeper_client as zk;

fn persistent() -> zk::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_complete_in_order() {
    let mut server = Server::start().await;
    let c = server.client().await;
    t(c.create("/ord", b"", &persistent())).await.unwrap();

    // zookeeper-client sends each request when the future is created, so these 400 requests
    // are all in flight on one session before the first reply is awaited.
    const N: usize = 200;
    let mut sets = Vec::with_capacity(N);
    let mut gets = Vec::with_capacity(N);
    for i in 0..N {
        sets.push(c.set_data("/ord", i.to_string().as_bytes(), None));
        gets.push(c.get_data("/ord"));
    }
    let seq = CreateMode::PersistentSequential.with_acls(Acls::anyone_all());
    let creates: Vec<_> = (0..50).map(|_| c.create("/ord/s-", b"", &seq)).collect();

    let mut last_mzxid = 0;
    for (i, (set, get)) in sets.into_iter().zip(gets).enumerate() {
        let stat = t(set).await.unwrap();
        assert_eq!(
            stat.version,
            i as i32 + 1,
            "setData #{i} was applied in order"
        );
        assert!(stat.mzxid > last_mzxid);
        last_mzxid = stat.mzxid;
        let (data, gstat) = t(get).await.unwrap();
        assert_eq!(
            data,
            i.to_string().as_bytes(),
            "the read after setData #{i} sees exactly it"
        );
        assert_eq!(gstat.mzxid, stat.mzxid);
    }
    for (i, create) in creates.into_iter().enumerate() {
        let (_, s) = t(create).await.unwrap();
        assert_eq!(
            s.into_i64(),
            i as i64,
            "sequential creates numbered in request order"
        );
    }
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_after_write_on_the_same_session_sees_the_write() {
    let mut server = Server::start().await;
    let c = server.client().await;
    for i in 0..100 {
        let path = format!("/raw{i}");
        // Not awaited before the read is issued.
        let create = c.create(&path, b"v1", &persistent());
        let read = c.get_data(&path);
        let set = c.set_data(&path, b"v2", None);
        let read2 = c.get_data(&path);
        let children = c.list_children("/");
        let delete = c.delete(&path, None);
        let gone = c.check_stat(&path);
        t(create).await.unwrap();
        assert_eq!(t(read).await.unwrap().0, b"v1");
        t(set).await.unwrap();
        let (data, stat) = t(read2).await.unwrap();
        assert_eq!((data.as_slice(), stat.version), (&b"v2"[..], 1));
        assert!(t(children).await.unwrap().contains(&format!("raw{i}")));
        t(delete).await.unwrap();
        assert_eq!(t(gone).await.unwrap(), None);
    }
    // A failed write followed by a read: the read reflects the state, not a later write.
    let a = c.create("/x", b"1", &persistent());
    let b = c.create("/x", b"2", &persistent());
    let r = c.get_data("/x");
    t(a).await.unwrap();
    assert_eq!(t(b).await.unwrap_err(), Error::NodeExists);
    assert_eq!(t(r).await.unwrap().0, b"1");
    // sync in the middle of a pipeline.
    let s1 = c.set_data("/x", b"3", None);
    let sy = c.sync("/x");
    let r = c.get_data("/x");
    t(s1).await.unwrap();
    t(sy).await.unwrap();
    assert_eq!(t(r).await.unwrap().0, b"3");
    server.assert_healthy();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_come_back_in_request_order_on_the_wire() {
    let mut server = Server::start().await;
    let other = server.client().await;
    let mut raw = Raw::connect(&server.addr()).await;
    let mut wire = bytes::BytesMut::new();
    let mut expected = Vec::new();
    let mut next = 1;
    let mut push =
        |opcode: i32, body: &dyn Fn(&mut bytes::BytesMut), wire: &mut bytes::BytesMut| {
            let x = if opcode == op::PING { xid::PING } else { next };
            if opcode != op::PING {
                next += 1;
            }
            let mut out = bytes::BytesMut::new();
            p::RequestHeader { xid: x, op: opcode }.encode(&mut out);
            body(&mut out);
            wire.extend_from_slice(&frame(&out));
            expected.push((x, opcode));
        };
    for i in 0..60 {
        let path = format!("/w{i}");
        let path2 = path.clone();
        push(
            op::CREATE,
            &|o| {
                p::CreateRequest {
                    path: path.clone(),
                    data: None,
                    acl: RawAcl::open_unsafe(),
                    flags: create_mode::PERSISTENT,
                }
                .encode(o)
            },
            &mut wire,
        );
        push(
            op::GET_DATA,
            &|o| {
                p::GetDataRequest {
                    path: path.clone(),
                    watch: false,
                }
                .encode(o)
            },
            &mut wire,
        );
        push(
            op::CREATE,
            &|o| {
                p::CreateRequest {
                    path: path.clone(),
                    data: None,
                    acl: RawAcl::open_unsafe(),
                    flags: create_mode::PERSISTENT,
                }
                .encode(o)
            },
            &mut wire,
        ); // NODEEXISTS
        push(
            op::EXISTS,
            &|o| {
                p::ExistsRequest {
                    path: "/nope".into(),
                    watch: false,
                }
                .encode(o)
            },
            &mut wire,
        ); // NONODE
        push(op::PING, &|_| {}, &mut wire);
        push(
            op::SET_DATA,
            &|o| {
                p::SetDataRequest {
                    path: path.clone(),
                    data: Some(bytes::Bytes::from(vec![1u8; 10])),
                    version: -1,
                }
                .encode(o)
            },
            &mut wire,
        );
        push(
            op::GET_CHILDREN2,
            &|o| {
                p::GetChildren2Request {
                    path: "/".into(),
                    watch: false,
                }
                .encode(o)
            },
            &mut wire,
        );
        push(
            op::SYNC,
            &|o| p::SyncRequest { path: "/".into() }.encode(o),
            &mut wire,
        );
        push(
            op::MULTI,
            &|o| {
                p::encode_multi(
                    &[
                        MultiOp::Check(p::CheckVersionRequest {
                            path: path2.clone(),
                            version: 1,
                        }),
                        MultiOp::Delete(p::DeleteRequest {
                            path: path2.clone(),
                            version: 1,
                        }),
                    ],
                    o,
                )
            },
            &mut wire,
        );
        push(
            op::GET_ALL_CHILDREN_NUMBER,
            &|o| p::GetAllChildrenNumberRequest { path: "/".into() }.encode(o),
            &mut wire,
        );
    }
    raw.write(&wire).await;
    for (i, (x, opcode)) in expected.iter().enumerate() {
        let r = raw.read().await;
        assert_eq!(
            r.header.xid, *x,
            "reply #{i} (opcode {opcode}) out of order"
        );
        let want_err = match (i % 10, *opcode) {
            (2, _) => -110,
            (3, _) => -101,
            _ => 0,
        };
        assert_eq!(r.header.err, want_err, "reply #{i} (opcode {opcode})");
    }
    // Everything was applied: all /wN were deleted by their multi.
    assert_eq!(
        t(other.list_children("/")).await.unwrap(),
        vec!["zookeeper".to_string()]
    );
    server.assert_healthy();
}
