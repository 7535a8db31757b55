//! When the txn log cannot make a write durable, the server must not pretend it did: the
//! write is never acknowledged, nothing after it is either, reads on existing sessions go on,
//! `ruok` stops answering `imok` and `mntr` counts the unrecoverable error.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jute::data::Acl;
use jute::proto::*;
use paddock::client::Client;
use paddock::clock::SystemClock;
use paddock::config::Config;
use paddock::pipeline::Proposal;
use paddock::storage::recovery::Recovered;
use paddock::storage::TxnLog;
use paddock::tree::DataTree;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A log whose fsync starts failing when told to (like EIO from a dying disk).
struct FailingLog {
    fail: Arc<AtomicBool>,
    last: i64,
}

impl TxnLog for FailingLog {
    fn append(&mut self, proposals: &[Proposal]) -> io::Result<()> {
        if let Some(p) = proposals.last() {
            self.last = p.hdr.zxid;
        }
        Ok(())
    }
    fn sync(&mut self) -> io::Result<i64> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(io::Error::other("fsync: input/output error"));
        }
        Ok(self.last)
    }
}

async fn four_letter(addr: std::net::SocketAddr, word: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(word.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

fn create(path: &str) -> Request {
    Request::Create(CreateRequest {
        path: path.into(),
        data: Some("v".into()),
        acl: Acl::open_unsafe(),
        flags: 0,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fsync_stops_acknowledging_writes() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fail = Arc::new(AtomicBool::new(false));
    let log = FailingLog {
        fail: fail.clone(),
        last: 0,
    };
    let cfg = Config {
        four_letter_whitelist: None,
        ..Config::default()
    };
    let state = Recovered {
        tree: DataTree::new(false),
        sessions: Vec::new(),
    };
    let server = tokio::spawn(paddock::server::run(
        cfg,
        listener,
        Arc::new(SystemClock::new()),
        log,
        state,
        None,
        std::future::pending(),
    ));

    let mut writer = Client::connect(TcpStream::connect(addr).await.unwrap(), 30_000)
        .await
        .unwrap();
    let mut reader = Client::connect(TcpStream::connect(addr).await.unwrap(), 30_000)
        .await
        .unwrap();
    let (h, _) = writer.call(&create("/ok")).await.unwrap();
    assert_eq!(h.err, 0);
    assert_eq!(four_letter(addr, "ruok").await, "imok");

    fail.store(true, Ordering::SeqCst);
    let lost =
        tokio::time::timeout(Duration::from_millis(800), writer.call(&create("/lost"))).await;
    assert!(
        lost.is_err(),
        "a write whose fsync failed must not be acknowledged: {lost:?}"
    );

    // Reads on a session that existed before the failure still work.
    let (h, r) = reader
        .call(&Request::GetData(GetDataRequest {
            path: "/ok".into(),
            watch: false,
        }))
        .await
        .unwrap();
    assert_eq!(h.err, 0);
    assert!(matches!(r, Response::GetData(d) if d.data.as_deref() == Some(&b"v"[..])));
    let (h, _) = reader
        .call(&Request::Exists(ExistsRequest {
            path: "/lost".into(),
            watch: false,
        }))
        .await
        .unwrap();
    assert_eq!(
        h.err,
        jute::consts::ErrorCode::NoNode.code(),
        "the unacknowledged write is not visible"
    );

    // Writes stay unanswered even once the disk "recovers": the log's state is unknown.
    fail.store(false, Ordering::SeqCst);
    let later =
        tokio::time::timeout(Duration::from_millis(500), reader.call(&create("/later"))).await;
    assert!(
        later.is_err(),
        "nothing is acknowledged after a failed fsync"
    );

    assert_eq!(
        four_letter(addr, "ruok").await,
        "",
        "ruok must not say imok"
    );
    let mntr = four_letter(addr, "mntr").await;
    assert!(
        mntr.lines().any(|l| l == "zk_unrecoverable_error_count\t1"),
        "{mntr}"
    );
    server.abort();
}
