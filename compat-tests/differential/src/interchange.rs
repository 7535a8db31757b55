//! Writes and dumps a ZooKeeper tree, to prove a data dir moves between Java ZooKeeper and
//! Paddock intact (the compat runner's interchange stage).
//!
//!   paddock-interchange write HOST:PORT PREFIX N   about N nodes under PREFIX: persistent,
//!       sequential, container, TTL, ephemeral and digest-ACL nodes, multis, updates, ACL
//!       changes and deletes; then exit without closing the session that owns the ephemerals
//!   paddock-interchange dump HOST:PORT OUT         one line per node (but /zookeeper/*): path,
//!       data, every Stat field and the ACL, sorted

use std::fmt::Write as _;
use std::process::ExitCode;

use jute::consts::{create_mode, perms};
use jute::data::Acl;
use jute::proto::*;
use paddock::client::Client;
use tokio::net::TcpStream;

const USER: &str = "ix:secret";

async fn connect(addr: &str) -> std::io::Result<Client<TcpStream>> {
    let mut c = Client::connect(TcpStream::connect(addr).await?, 30_000).await?;
    let (h, _) = c
        .call(&Request::Auth(AuthPacket {
            type_: 0,
            scheme: "digest".into(),
            auth: Some(USER.into()),
        }))
        .await?;
    if h.err != 0 {
        return Err(std::io::Error::other(format!("auth failed: {}", h.err)));
    }
    Ok(c)
}

async fn ok(c: &mut Client<TcpStream>, req: Request) -> std::io::Result<Response> {
    let (h, r) = c.call(&req).await?;
    if h.err != 0 {
        return Err(std::io::Error::other(format!(
            "{req:?} failed with {}",
            h.err
        )));
    }
    Ok(r)
}

fn create(path: String, data: Vec<u8>, acl: Vec<Acl>, flags: i32) -> CreateRequest {
    CreateRequest {
        path,
        data: Some(data.into()),
        acl,
        flags,
    }
}

async fn write(addr: &str, prefix: &str, n: usize) -> std::io::Result<()> {
    let mut c = connect(addr).await?;
    let open = Acl::open_unsafe();
    let mine = vec![Acl::new(
        perms::ALL,
        "digest",
        &paddock::auth::digest_id(USER),
    )];
    ok(
        &mut c,
        Request::Create(create(prefix.into(), b"root".to_vec(), open.clone(), 0)),
    )
    .await?;
    for d in 0..(n / 100).max(1) {
        let base = format!("{prefix}/d{d:03}");
        let kind = d % 5;
        let dir = match kind {
            0 => Request::Create(create(base.clone(), b"dir".to_vec(), mine.clone(), 0)),
            1 => Request::CreateContainer(create(
                base.clone(),
                Vec::new(),
                open.clone(),
                create_mode::CONTAINER,
            )),
            2 => Request::CreateTtl(CreateTtlRequest {
                path: base.clone(),
                data: Some("ttl".into()),
                acl: open.clone(),
                flags: create_mode::PERSISTENT_WITH_TTL,
                ttl: 3_600_000,
            }),
            _ => Request::Create2(create(
                base.clone(),
                format!("d{d}").into_bytes(),
                open.clone(),
                0,
            )),
        };
        ok(&mut c, dir).await?;
        for i in 0..100 {
            let path = format!("{base}/n{i:03}");
            let data = format!("{path}-{}", i * 7).repeat(1 + i % 3).into_bytes();
            match i % 10 {
                0 => drop(
                    ok(
                        &mut c,
                        Request::Create(create(
                            format!("{path}-"),
                            data,
                            open.clone(),
                            create_mode::PERSISTENT_SEQUENTIAL,
                        )),
                    )
                    .await?,
                ),
                1 => {
                    let ops = vec![
                        MultiOp::Create(create(path.clone(), data, open.clone(), 0)),
                        MultiOp::Create2(create(
                            format!("{path}b"),
                            b"pair".to_vec(),
                            open.clone(),
                            0,
                        )),
                        MultiOp::Check(CheckVersionRequest {
                            path: base.clone(),
                            version: -1,
                        }),
                    ];
                    ok(&mut c, Request::Multi(ops)).await?;
                }
                2 => drop(ok(&mut c, Request::Create(create(path, data, mine.clone(), 0))).await?),
                3 => {
                    ok(
                        &mut c,
                        Request::Create(create(path.clone(), data.clone(), open.clone(), 0)),
                    )
                    .await?;
                    for v in 0..2 {
                        ok(
                            &mut c,
                            Request::SetData(SetDataRequest {
                                path: path.clone(),
                                data: Some(format!("v{v}").into()),
                                version: v,
                            }),
                        )
                        .await?;
                    }
                    ok(
                        &mut c,
                        Request::SetAcl(SetAclRequest {
                            path: path.clone(),
                            acl: vec![Acl::new(perms::READ | perms::WRITE, "world", "anyone")],
                            version: 0,
                        }),
                    )
                    .await?;
                }
                4 if kind != 1 => drop(
                    ok(
                        &mut c,
                        Request::Create(create(path, data, open.clone(), create_mode::EPHEMERAL)),
                    )
                    .await?,
                ),
                5 => drop(
                    ok(
                        &mut c,
                        Request::Create(CreateRequest {
                            path,
                            data: None,
                            acl: open.clone(),
                            flags: 0,
                        }),
                    )
                    .await?,
                ),
                _ => drop(ok(&mut c, Request::Create(create(path, data, open.clone(), 0))).await?),
            }
        }
        if d % 7 == 3 {
            ok(
                &mut c,
                Request::Delete(DeleteRequest {
                    path: format!("{base}/n006"),
                    version: -1,
                }),
            )
            .await?;
        }
    }
    // A failed write consumes a zxid too; it must move with the log.
    let (h, _) = c
        .call(&Request::Create(create(prefix.into(), Vec::new(), open, 0)))
        .await?;
    assert_ne!(h.err, 0);
    // No closeSession: the ephemerals must survive the move to the other server.
    std::mem::forget(c);
    Ok(())
}

async fn dump(addr: &str, out: &str) -> std::io::Result<usize> {
    let mut c = connect(addr).await?;
    let mut lines = Vec::new();
    let mut stack = vec!["/".to_owned()];
    while let Some(p) = stack.pop() {
        if p.starts_with("/zookeeper") {
            continue;
        }
        let Response::GetData(d) = ok(
            &mut c,
            Request::GetData(GetDataRequest {
                path: p.clone(),
                watch: false,
            }),
        )
        .await?
        else {
            unreachable!()
        };
        let Response::GetAcl(a) =
            ok(&mut c, Request::GetAcl(GetAclRequest { path: p.clone() })).await?
        else {
            unreachable!()
        };
        let Response::GetChildren(ch) = ok(
            &mut c,
            Request::GetChildren(GetChildrenRequest {
                path: p.clone(),
                watch: false,
            }),
        )
        .await?
        else {
            unreachable!()
        };
        let mut acl = a.acl;
        acl.sort();
        let mut line = String::new();
        let _ = write!(line, "{p} data={:?} stat={:?} acl={acl:?}", d.data, d.stat);
        lines.push(line);
        for child in ch.children {
            stack.push(if p == "/" {
                format!("/{child}")
            } else {
                format!("{p}/{child}")
            });
        }
    }
    lines.sort();
    std::fs::write(out, lines.join("\n") + "\n")?;
    Ok(lines.len())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["write", addr, prefix, n] => write(addr, prefix, n.parse().unwrap_or(10_000))
            .await
            .map(|_| println!("wrote under {prefix}")),
        ["dump", addr, out] => dump(addr, out).await.map(|n| println!("dumped {n} nodes")),
        _ => {
            eprintln!("usage: paddock-interchange write HOST:PORT PREFIX N | dump HOST:PORT OUT");
            return ExitCode::from(2);
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paddock-interchange: {e}");
            ExitCode::from(1)
        }
    }
}
