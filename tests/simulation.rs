//! The whole server inside a turmoil simulation: a seeded, deterministic network and clock.
//! The same scenario run twice with one seed must produce the same trace, byte for byte;
//! that is what lets later work test the full server under simulated faults.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jute::consts::{create_mode, event};
use jute::data::Acl;
use jute::proto::*;
use paddock::client::Client;
use paddock::clock::SimClock;
use paddock::config::Config;
use paddock::net::Listener;
use paddock::storage::Volatile;

/// turmoil's listener behind Paddock's listener seam.
struct SimListener(turmoil::net::TcpListener);

impl Listener for SimListener {
    type Stream = turmoil::net::TcpStream;

    async fn accept(&mut self) -> std::io::Result<(Self::Stream, SocketAddr)> {
        self.0.accept().await
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

fn fresh() -> paddock::storage::recovery::Recovered {
    paddock::storage::recovery::Recovered {
        tree: paddock::tree::DataTree::new(false),
        sessions: Vec::new(),
    }
}

fn scenario(seed: u64) -> Vec<String> {
    let trace = Arc::new(Mutex::new(Vec::new()));
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .simulation_duration(Duration::from_secs(60))
        .build();
    sim.host("zk", || async {
        let cfg = Config {
            tick_time: 200,
            client_port: 2181,
            ..Config::default()
        };
        let listener = SimListener(turmoil::net::TcpListener::bind("0.0.0.0:2181").await?);
        paddock::server::run(
            cfg,
            listener,
            Arc::new(SimClock::new(1_700_000_000_000)),
            Volatile::default(),
            fresh(),
            None,
            std::future::pending(),
        )
        .await;
        Ok(())
    });
    let t = trace.clone();
    sim.client("app", async move {
        let log = |s: String| t.lock().unwrap().push(s);
        let mut a =
            Client::connect(turmoil::net::TcpStream::connect("zk:2181").await?, 400).await?;
        let mut b =
            Client::connect(turmoil::net::TcpStream::connect("zk:2181").await?, 400).await?;
        log(format!(
            "sessions 0x{:x} 0x{:x} timeout {}",
            a.session.session_id, b.session.session_id, a.session.timeout
        ));
        let create = |path: &str, flags| {
            Request::Create2(CreateRequest {
                path: path.into(),
                data: Some("v".into()),
                acl: Acl::open_unsafe(),
                flags,
            })
        };
        let (h, r) = a.call(&create("/app", create_mode::PERSISTENT)).await?;
        log(format!("create /app {h:?} {r:?}"));
        let (h, _) = b
            .call(&Request::GetData(GetDataRequest {
                path: "/app".into(),
                watch: true,
            }))
            .await?;
        log(format!("b watches /app {h:?}"));
        for _ in 0..3 {
            let (h, r) = a
                .call(&create("/app/seq-", create_mode::EPHEMERAL_SEQUENTIAL))
                .await?;
            log(format!("seq {h:?} {r:?}"));
        }
        let (h, r) = a
            .call(&Request::SetData(SetDataRequest {
                path: "/app".into(),
                data: Some("w".into()),
                version: 0,
            }))
            .await?;
        log(format!("set {h:?} {r:?}"));
        let (h, r) = b
            .call(&Request::GetChildren2(GetChildren2Request {
                path: "/app".into(),
                watch: false,
            }))
            .await?;
        log(format!("children {h:?} {r:?}"));
        log(format!("b events {:?}", b.events));
        // a goes silent: its session expires and its ephemerals go; b keeps pinging.
        for _ in 0..15 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            b.call(&Request::Ping).await?;
        }
        let (_, r) = b
            .call(&Request::GetChildren(GetChildrenRequest {
                path: "/app".into(),
                watch: false,
            }))
            .await?;
        log(format!("after expiry {r:?}"));
        let expired = a
            .call(&Request::Exists(ExistsRequest {
                path: "/app".into(),
                watch: false,
            }))
            .await;
        log(format!("a after expiry: {}", expired.is_err()));
        log(format!(
            "b saw data change: {}",
            b.events
                .iter()
                .any(|(_, e)| e.type_ == event::NODE_DATA_CHANGED)
        ));
        Ok(())
    });
    sim.run().expect("simulation completes");
    let v = trace.lock().unwrap().clone();
    v
}

#[test]
fn same_seed_same_trace() {
    let first = scenario(7);
    let second = scenario(7);
    assert_eq!(first, second, "a seeded simulation must replay exactly");
    // The trace shows the scenario really ran.
    assert!(
        first.iter().any(|l| l.contains("seq-0000000002")),
        "{first:#?}"
    );
    assert!(
        first
            .iter()
            .any(|l| l == "after expiry GetChildren(GetChildrenResponse { children: [] })"),
        "{first:#?}"
    );
    assert!(
        first.iter().any(|l| l == "a after expiry: true"),
        "{first:#?}"
    );
    assert!(
        first.iter().any(|l| l == "b saw data change: true"),
        "{first:#?}"
    );
}
