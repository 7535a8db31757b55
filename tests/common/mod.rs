//! Shared harness for the black-box integration tests: starts the real `paddock` binary on a
//! free loopback port from a temp-dir zoo.cfg, and speaks the wire protocol by hand where the
//! `zookeeper-client` crate would refuse to (bad paths, bad frames, exact frame order).
//!
//! Every wait is bounded: [`t`] / [`within`] wrap a future in `tokio::time::timeout` and
//! panic with a message when it does not finish. The server process is killed, by its own
//! PID, when the [`Server`] value is dropped.
//!
//! `PADDOCK_TEST_SERVER=java` runs the same tests against Debian's Java ZooKeeper 3.8.0
//! (see shared/peers.md) instead, to check the tests' expectations against the reference
//! implementation. Known 3.8-vs-3.9 differences then fail on purpose (watch-mode
//! coexistence, event zxids, create2-in-multi Stat, top-level check).

#![allow(dead_code)]

use std::fs::File;
use std::future::Future;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use jute::consts::op;
use jute::proto::{ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader, WatcherEvent};
use jute::Jute;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zookeeper_client as zk;

/// Default bound for a single network wait.
pub const WAIT: Duration = Duration::from_secs(10);

/// Awaits `f` for at most [`WAIT`], panicking with `what` otherwise.
pub async fn within<F: Future>(what: &str, limit: Duration, f: F) -> F::Output {
    match tokio::time::timeout(limit, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {limit:?} waiting for: {what}"),
    }
}

/// `within(.., WAIT, f)` without a message.
pub async fn t<F: Future>(f: F) -> F::Output {
    within("operation", WAIT, f).await
}

/// Polls `check` every 50 ms until it returns true or `limit` passes; returns whether it did.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if tokio::time::timeout(Duration::from_secs(5), check())
            .await
            .unwrap_or(false)
        {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn java_mode() -> bool {
    std::env::var("PADDOCK_TEST_SERVER")
        .map(|v| v == "java")
        .unwrap_or(false)
}

/// A running server process; killed (by PID) on drop.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
    log: PathBuf,
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

impl Server {
    /// tickTime=500 (so sessions may be 1000..10000 ms), all 4lw enabled, no connection limit.
    pub async fn start() -> Server {
        Self::start_with(&[]).await
    }

    /// Like [`Server::start`] with extra or overriding zoo.cfg keys.
    pub async fn start_with(extra: &[(&str, &str)]) -> Server {
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let dir = tempfile::tempdir().expect("temp dir");
            let port = free_port();
            let mut kv: Vec<(String, String)> = vec![
                ("tickTime".into(), "500".into()),
                (
                    "dataDir".into(),
                    dir.path().join("data").display().to_string(),
                ),
                ("clientPort".into(), port.to_string()),
                ("clientPortAddress".into(), "127.0.0.1".into()),
                ("maxClientCnxns".into(), "0".into()),
                ("4lw.commands.whitelist".into(), "*".into()),
            ];
            for (k, v) in extra {
                if let Some(e) = kv.iter_mut().find(|(ek, _)| ek == k) {
                    e.1 = v.to_string();
                } else {
                    kv.push((k.to_string(), v.to_string()));
                }
            }
            let log = dir.path().join("server.log");
            let out = File::create(&log).expect("log file");
            let err = out.try_clone().expect("log file");
            let cfg_path = dir.path().join("zoo.cfg");
            let mut cmd = if java_mode() {
                java_command(dir.path(), &cfg_path, &mut kv)
            } else {
                let mut c = Command::new(env!("CARGO_BIN_EXE_paddock"));
                c.arg(&cfg_path);
                c.env("RUST_LOG", "info");
                c
            };
            let text: String = kv.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
            std::fs::write(&cfg_path, text).expect("write zoo.cfg");
            cmd.stdin(Stdio::null()).stdout(out).stderr(err);
            let child = cmd.spawn().expect("spawn server");
            let mut server = Server {
                child: Some(child),
                port,
                dir,
                log,
            };
            if server.wait_ready(Duration::from_secs(30)).await {
                return server;
            }
            last_log = server.log();
            // Most likely the port was taken between probing and binding: try another.
        }
        panic!("server did not become ready; last log:\n{last_log}");
    }

    async fn wait_ready(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(_)) = c.try_wait() {
                    return false;
                }
            }
            if let Ok(Ok(answer)) =
                tokio::time::timeout(Duration::from_secs(2), four_letter(self.port, "ruok")).await
            {
                if answer == "imok" && (!java_mode() || self.java_serving().await) {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Java answers `ruok` before it serves sessions; `srvr` shows a Mode line once it does.
    async fn java_serving(&self) -> bool {
        matches!(
            tokio::time::timeout(Duration::from_secs(2), four_letter(self.port, "srvr")).await,
            Ok(Ok(s)) if s.contains("Mode:")
        )
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// A new session with the client's default (6 s requested → clamped to 6 s) timeout.
    pub async fn client(&self) -> zk::Client {
        self.connect(zk::Client::connector()).await
    }

    pub async fn connect(&self, c: zk::Connector) -> zk::Client {
        within("zookeeper-client connect", WAIT, c.connect(&self.addr()))
            .await
            .expect("zookeeper-client connect")
    }

    /// Everything the server wrote to stdout/stderr so far.
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// The process is still running and never panicked.
    pub fn assert_healthy(&mut self) {
        let c = self.child.as_mut().expect("running");
        match c.try_wait() {
            Ok(None) => {}
            other => panic!("server process is gone ({other:?}); log:\n{}", self.log()),
        }
        let log = self.log();
        assert!(
            !log.contains("panicked"),
            "server log contains a panic:\n{log}"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn java_command(
    dir: &std::path::Path,
    cfg: &std::path::Path,
    kv: &mut Vec<(String, String)>,
) -> Command {
    let j = "/usr/share/java";
    let cp = format!(
        "{j}/zookeeper.jar:{j}/zookeeper-jute.jar:{j}/servlet-api.jar:{j}/slf4j-log4j12.jar:{j}/log4j-1.2.jar"
    );
    let log4j = dir.join("log4j.properties");
    std::fs::write(
        &log4j,
        "log4j.rootLogger=INFO, CONSOLE\n\
         log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n\
         log4j.appender.CONSOLE.Target=System.err\n\
         log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n\
         log4j.appender.CONSOLE.layout.ConversionPattern=%d %-5p [%t] %c{1}: %m%n\n",
    )
    .unwrap();
    let mut c = Command::new("java");
    c.args([
        "-Xms64m",
        "-Xmx256m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Djava.net.preferIPv4Stack=true",
    ]);
    c.arg(format!("-Dzookeeper.log.dir={}", dir.display()));
    c.arg(format!("-Dlog4j.configuration=file:{}", log4j.display()));
    // Properties Java reads without the `zookeeper.` prefix that zoo.cfg keys get.
    for (k, v) in kv.iter() {
        if k == "jute.maxbuffer" || k == "znode.container.checkIntervalMs" {
            c.arg(format!("-D{k}={v}"));
        }
    }
    kv.push(("admin.enableServer".into(), "false".into()));
    c.args([
        "-cp",
        &cp,
        "org.apache.zookeeper.server.ZooKeeperServerMain",
    ]);
    c.arg(cfg);
    c
}

/// Sends a four-letter word and returns the whole answer.
pub async fn four_letter(port: u16, word: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
    s.write_all(word.as_bytes()).await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `digest` scheme id of `user:password`: `user:base64(sha1(user:password))`.
pub fn digest_id(user: &str, password: &str) -> String {
    use base64::Engine;
    use sha1::Digest;
    let hash = sha1::Sha1::digest(format!("{user}:{password}").as_bytes());
    format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

// ---------------------------------------------------------------------------------------
// Raw wire protocol
// ---------------------------------------------------------------------------------------

/// Length-prefixes a payload.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + 4);
    v.extend_from_slice(&(payload.len() as i32).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

pub fn encode<J: Jute>(j: &J) -> Vec<u8> {
    j.to_bytes().to_vec()
}

/// One frame read off a raw connection.
#[derive(Debug, Clone)]
pub struct Reply {
    pub header: ReplyHeader,
    pub body: Bytes,
}

impl Reply {
    pub fn is_notification(&self) -> bool {
        self.header.xid == jute::consts::xid::NOTIFICATION
    }

    pub fn event(&self) -> WatcherEvent {
        WatcherEvent::from_bytes(&self.body).expect("WatcherEvent")
    }

    pub fn decode<J: Jute>(&self) -> J {
        J::from_bytes(&self.body).expect("reply body")
    }
}

/// A hand-driven client connection.
pub struct Raw {
    pub stream: TcpStream,
    pub session_id: i64,
    pub passwd: Bytes,
    pub timeout: i32,
    next_xid: i32,
}

/// Result of reading from a connection the server may close.
#[derive(Debug)]
pub enum ReadOutcome {
    Frame(Vec<u8>),
    Closed,
}

/// Reads one length-prefixed frame; `Closed` on EOF or reset. Panics if nothing happens
/// within `limit`.
pub async fn read_frame_from(stream: &mut TcpStream, limit: Duration) -> ReadOutcome {
    within("a frame or the connection closing", limit, async {
        let mut len = [0u8; 4];
        if stream.read_exact(&mut len).await.is_err() {
            return ReadOutcome::Closed;
        }
        let n = i32::from_be_bytes(len);
        assert!(
            (0..64 << 20).contains(&n),
            "bad frame length from server: {n}"
        );
        let mut body = vec![0u8; n as usize];
        if stream.read_exact(&mut body).await.is_err() {
            return ReadOutcome::Closed;
        }
        ReadOutcome::Frame(body)
    })
    .await
}

/// Reads until EOF/reset, returning the frames that came before; panics after `limit`.
pub async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + limit;
    let mut frames = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match read_frame_from(stream, left.max(Duration::from_millis(1))).await {
            ReadOutcome::Frame(f) => frames.push(f),
            ReadOutcome::Closed => return frames,
        }
    }
}

pub fn connect_request(timeout: i32, session_id: i64, passwd: &[u8]) -> ConnectRequest {
    ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        timeout,
        session_id,
        passwd: Bytes::copy_from_slice(passwd),
        read_only: false,
        has_read_only: true,
    }
}

/// Opens a TCP connection and performs the handshake. The response is `None` if the server
/// closed (or refused) the connection instead of answering; the stream is `None` if even the
/// TCP connect failed.
pub async fn handshake(
    addr: &str,
    timeout: i32,
    session_id: i64,
    passwd: &[u8],
) -> (Option<ConnectResponse>, Option<TcpStream>) {
    let Ok(mut s) = t(TcpStream::connect(addr)).await else {
        return (None, None);
    };
    let _ = s.set_nodelay(true);
    let req = encode(&connect_request(timeout, session_id, passwd));
    if t(s.write_all(&frame(&req))).await.is_err() {
        // Already closed by the server (e.g. over maxClientCnxns).
        return (None, Some(s));
    }
    match read_frame_from(&mut s, WAIT).await {
        ReadOutcome::Frame(f) => (
            Some(ConnectResponse::from_bytes(&f).expect("ConnectResponse")),
            Some(s),
        ),
        ReadOutcome::Closed => (None, Some(s)),
    }
}

impl Raw {
    /// A new session (requested timeout 10 s).
    pub async fn connect(addr: &str) -> Raw {
        Self::connect_with_timeout(addr, 10_000).await
    }

    pub async fn connect_with_timeout(addr: &str, timeout: i32) -> Raw {
        let (resp, stream) = handshake(addr, timeout, 0, &[0u8; 16]).await;
        let resp = resp.expect("server answered the handshake");
        let stream = stream.expect("connected");
        assert_ne!(resp.session_id, 0, "new session refused");
        Raw {
            stream,
            session_id: resp.session_id,
            passwd: resp.passwd,
            timeout: resp.timeout,
            next_xid: 1,
        }
    }

    pub fn next_xid(&mut self) -> i32 {
        let x = self.next_xid;
        self.next_xid += 1;
        x
    }

    pub async fn write(&mut self, bytes: &[u8]) {
        t(self.stream.write_all(bytes)).await.expect("write");
    }

    /// Sends `header + body` for `opcode`; returns the xid used.
    pub async fn send<J: Jute>(&mut self, opcode: i32, body: &J) -> i32 {
        let xid = self.next_xid();
        let mut out = BytesMut::new();
        RequestHeader { xid, op: opcode }.encode(&mut out);
        body.encode(&mut out);
        self.write(&frame(&out)).await;
        xid
    }

    /// Sends a body-less request.
    pub async fn send_empty(&mut self, opcode: i32) -> i32 {
        let xid = self.next_xid();
        let mut out = BytesMut::new();
        RequestHeader { xid, op: opcode }.encode(&mut out);
        self.write(&frame(&out)).await;
        xid
    }

    /// Sends raw body bytes after a header.
    pub async fn send_bytes(&mut self, opcode: i32, body: &[u8]) -> i32 {
        let xid = self.next_xid();
        let mut out = BytesMut::new();
        RequestHeader { xid, op: opcode }.encode(&mut out);
        out.extend_from_slice(body);
        self.write(&frame(&out)).await;
        xid
    }

    /// Next frame as a reply; panics on close or timeout.
    pub async fn read(&mut self) -> Reply {
        match read_frame_from(&mut self.stream, WAIT).await {
            ReadOutcome::Frame(f) => {
                let header = ReplyHeader::from_bytes(&f).expect("ReplyHeader");
                Reply {
                    header,
                    body: Bytes::copy_from_slice(&f[16..]),
                }
            }
            ReadOutcome::Closed => panic!("connection closed while a reply was expected"),
        }
    }

    /// Next frame, or `None` if the server closed the connection.
    pub async fn read_or_closed(&mut self) -> Option<Reply> {
        match read_frame_from(&mut self.stream, WAIT).await {
            ReadOutcome::Frame(f) => {
                let header = ReplyHeader::from_bytes(&f).expect("ReplyHeader");
                Some(Reply {
                    header,
                    body: Bytes::copy_from_slice(&f[16..]),
                })
            }
            ReadOutcome::Closed => None,
        }
    }

    /// Reads frames until the reply to `xid`; returns (notifications before it, the reply).
    pub async fn read_until_xid(&mut self, xid: i32) -> (Vec<Reply>, Reply) {
        let mut before = Vec::new();
        loop {
            let r = self.read().await;
            if r.header.xid == xid {
                return (before, r);
            }
            assert!(
                r.is_notification() || r.header.xid == jute::consts::xid::PING,
                "reply for xid {} arrived while waiting for xid {xid}",
                r.header.xid
            );
            before.push(r);
        }
    }

    /// Send and wait for the matching reply.
    pub async fn call<J: Jute>(&mut self, opcode: i32, body: &J) -> Reply {
        let xid = self.send(opcode, body).await;
        let (_, r) = self.read_until_xid(xid).await;
        r
    }

    /// A ping round trip; returns the notifications that arrived before its reply.
    pub async fn ping(&mut self) -> Vec<Reply> {
        let mut out = BytesMut::new();
        RequestHeader {
            xid: jute::consts::xid::PING,
            op: op::PING,
        }
        .encode(&mut out);
        self.write(&frame(&out)).await;
        let (before, _) = self.read_until_xid(jute::consts::xid::PING).await;
        before
    }
}
