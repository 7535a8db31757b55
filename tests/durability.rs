//! Durable means fsynced before acknowledged: several sessions write (plain creates and
//! two-node multis) while the server is killed with SIGKILL at a varying moment; after a
//! restart on the same data dir every acknowledged write is there and no multi is half
//! applied. Unacknowledged writes may or may not be there. A small snapCount makes some kills
//! land while a snapshot is being written or the log is rolling over.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use zookeeper_client as zk;

mod common;
use common::free_port;

fn spawn(cfg: &std::path::Path, log: &std::path::Path) -> Child {
    let out = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_paddock"))
        .arg(cfg)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap()
}

async fn connect(addr: &str) -> zk::Client {
    for _ in 0..200 {
        if let Ok(Ok(c)) =
            tokio::time::timeout(Duration::from_secs(2), zk::Client::connect(addr)).await
        {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("server at {addr} did not come up");
}

fn opts() -> zk::CreateOptions<'static> {
    zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = dir.path().join("zoo.cfg");
    let data = dir.path().join("data");
    std::fs::write(&cfg, format!("tickTime=500\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\npreAllocSize=1024\nsnapCount=100\n", data.display())).unwrap();
    let log = dir.path().join("server.log");
    let addr = format!("127.0.0.1:{port}");
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let multis: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let mut server = spawn(&cfg, &log);
    connect(&addr)
        .await
        .create("/k", b"", &opts())
        .await
        .unwrap();

    for round in 0..20u64 {
        let mut writers = Vec::new();
        for w in 0..4 {
            let (addr, acked, multis) = (addr.clone(), acked.clone(), multis.clone());
            writers.push(tokio::spawn(async move {
                let c = connect(&addr).await;
                for n in 0.. {
                    let base = format!("/k/r{round}-w{w}-{n}");
                    if n % 3 == 0 {
                        let mut m = c.new_multi_writer();
                        m.add_create(&format!("{base}-a"), b"a", &opts()).unwrap();
                        m.add_create(&format!("{base}-b"), b"b", &opts()).unwrap();
                        let ok = m.commit().await.is_ok();
                        multis.lock().unwrap().push((base, ok));
                        if !ok {
                            return;
                        }
                    } else {
                        if c.create(&base, base.as_bytes(), &opts()).await.is_err() {
                            return;
                        }
                        acked.lock().unwrap().push(base);
                    }
                }
            }));
        }
        // Kill at a different moment each round, while all four are writing.
        tokio::time::sleep(Duration::from_millis(120 + 37 * round)).await;
        server.kill().unwrap();
        server.wait().unwrap();
        for w in writers {
            let _ = tokio::time::timeout(Duration::from_secs(20), w)
                .await
                .expect("writer stops once the server is gone");
        }
        server = spawn(&cfg, &log);
        let c = connect(&addr).await;
        let names: std::collections::HashSet<String> =
            c.get_children("/k").await.unwrap().0.into_iter().collect();
        for p in acked.lock().unwrap().iter() {
            assert!(
                names.contains(p.trim_start_matches("/k/")),
                "round {round}: acknowledged {p} lost"
            );
        }
        for (base, ok) in multis.lock().unwrap().iter() {
            let name = base.trim_start_matches("/k/");
            let (a, b) = (
                names.contains(&format!("{name}-a")),
                names.contains(&format!("{name}-b")),
            );
            assert_eq!(a, b, "round {round}: multi {base} half applied");
            if *ok {
                assert!(a, "round {round}: acknowledged multi {base} lost");
            }
        }
        let (data, _) = c.get_data("/k/r0-w0-1").await.unwrap();
        assert_eq!(data, b"/k/r0-w0-1");
    }
    assert!(
        acked.lock().unwrap().len() > 50,
        "the writers made progress: {}",
        acked.lock().unwrap().len()
    );
    server.kill().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("panicked"), "{text}");
}

/// Sessions are durable too: after a SIGKILL and restart, a session whose client comes back
/// keeps its ephemeral node, and one whose client never returns expires by its normal
/// timeout, taking its ephemeral with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_come_back_after_kill_9_and_expire_if_abandoned() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = dir.path().join("zoo.cfg");
    let data = dir.path().join("data");
    std::fs::write(&cfg, format!("tickTime=500\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\npreAllocSize=1024\n", data.display())).unwrap();
    let log = dir.path().join("server.log");
    let addr = format!("127.0.0.1:{port}");
    let mut server = spawn(&cfg, &log);
    let ephemeral = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
    // The abandoned session speaks the protocol by hand, so nothing reconnects it.
    connect(&addr).await; // the server is up
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut abandoned = paddock::client::Client::connect(stream, 4000)
        .await
        .unwrap();
    let reply = abandoned
        .call(&jute::proto::Request::Create(jute::proto::CreateRequest {
            path: "/abandoned".into(),
            data: Some("a".into()),
            acl: jute::data::Acl::open_unsafe(),
            flags: 1,
        }))
        .await
        .unwrap();
    assert_eq!(reply.0.err, 0, "{reply:?}");
    // The returning session: zookeeper-client reconnects with its id and password.
    let returning = zk::Client::connector()
        .with_session_timeout(Duration::from_secs(4))
        .connect(&addr)
        .await
        .unwrap();
    returning
        .create("/returning", b"r", &ephemeral)
        .await
        .unwrap();

    server.kill().unwrap();
    server.wait().unwrap();
    drop(abandoned);
    let started = std::time::Instant::now();
    server = spawn(&cfg, &log);
    let observer = connect(&addr).await;
    assert!(
        observer.check_stat("/abandoned").await.unwrap().is_some(),
        "the abandoned session's ephemeral is back after the restart"
    );
    // Well past the 4 s timeout (measured from the restart, when sessions get fresh timers),
    // the abandoned session has expired and the returning one lives on.
    let mut gone = false;
    while started.elapsed() < Duration::from_secs(15) {
        if observer.check_stat("/abandoned").await.unwrap().is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let expired_after = started.elapsed();
    assert!(gone, "the abandoned session never expired");
    assert!(
        expired_after >= Duration::from_secs(3),
        "expired after {expired_after:?}, before its timeout"
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        returning.get_data("/returning").await.unwrap().0,
        b"r",
        "the session that came back keeps its ephemeral"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}
