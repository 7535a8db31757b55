//! An in-process Paddock on a loopback port, for tests that drive the bench's client against a
//! real server. It keeps its log in memory: the tests check the protocol, not the disk.

use std::net::SocketAddr;
use std::sync::Arc;

use paddock::clock::SystemClock;
use paddock::config::Config;
use paddock::storage::recovery::Recovered;
use paddock::storage::Volatile;
use paddock::tree::DataTree;

/// Starts a server on the current runtime and returns its address; it stops with the runtime.
pub async fn start() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let state = Recovered {
        tree: DataTree::new(false),
        sessions: Vec::new(),
    };
    tokio::spawn(paddock::server::run(
        Config::default(),
        listener,
        Arc::new(SystemClock::new()),
        Volatile::default(),
        state,
        None,
        std::future::pending(),
    ));
    addr
}
