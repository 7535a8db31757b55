//! Differential test: one seeded random sequence of operations over every client opcode
//! (errors included), issued from several sessions, replayed against a reference server (Java
//! ZooKeeper) and a candidate (Paddock). Every reply is normalised and compared field by field:
//! error codes, data, children, ACLs and Stat counters exactly; session ids, zxids and times by
//! what they refer to (zxids become "the zxid of op #k"), since those legitimately differ.
//!
//! Usage: paddock-differential [--seed S] [--ops N] REFERENCE_HOST:PORT CANDIDATE_HOST:PORT
//!
//! Prints `RESULT differential <scenario> pass|fail <detail>` lines for the compat runner and,
//! on a divergence, the seed, the op index and the operations that led to it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use jute::consts::{create_mode, perms};
use jute::data::{Acl, Stat};
use jute::proto::*;
use paddock::client::Client;
use tokio::net::TcpStream;

/// xorshift64*: small, seedable, identical on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
}

const SESSIONS: usize = 3;

/// One step of the sequence: which session does what.
#[derive(Debug, Clone)]
enum Step {
    Call(usize, Request),
    /// Close session k and open a new one in its place.
    Reopen(usize),
}

struct Gen {
    rng: Rng,
    root: String,
}

impl Gen {
    fn p(&self, rel: &str) -> String {
        if rel.is_empty() {
            self.root.clone()
        } else {
            format!("{}/{rel}", self.root)
        }
    }

    /// Paths where nodes come and go. Containers (c1, c2) never get children, so the
    /// container reaper never races the sequence.
    fn node_path(&mut self) -> String {
        const REL: &[&str] = &[
            "a", "b", "a/x", "a/y", "b/x", "e", "e/z", "s", "c1", "c2", "t", "t/u",
        ];
        let r = *self.rng.pick(REL);
        self.p(r)
    }

    fn any_path(&mut self) -> String {
        match self.rng.below(12) {
            0 => self
                .rng
                .pick(&["/zookeeper", "/zookeeper/config", "/zookeeper/quota"])
                .to_string(),
            1 => {
                let bad = ["nodir", "/", "//", "/./x", "/../x", "\u{1}"];
                let b = *self.rng.pick(&bad);
                match b {
                    "nodir" => "relative".to_owned(),
                    "/" => format!("{}/", self.root),
                    "\u{1}" => format!("{}/ctl\u{1}", self.root),
                    other => format!("{}{other}", self.root),
                }
            }
            2 => self.p(""),
            _ => self.node_path(),
        }
    }

    /// Like `any_path`, but never a node whose state outlives the run: writes to `/zookeeper`
    /// and `/zookeeper/quota` would succeed and leak into the next run's reads.
    fn write_path(&mut self) -> String {
        loop {
            let p = self.any_path();
            if p != "/zookeeper" && p != "/zookeeper/quota" {
                return p;
            }
        }
    }

    fn data(&mut self) -> Option<bytes::Bytes> {
        match self.rng.below(8) {
            0 => None,
            1 => Some(bytes::Bytes::new()),
            n => Some(format!("v{}", n * 7 + self.rng.below(100)).into()),
        }
    }

    fn acl(&mut self) -> Vec<Acl> {
        match self.rng.below(10) {
            0 => vec![],
            1 => vec![Acl::new(perms::ALL, "auth", "")],
            2 => vec![Acl::new(perms::READ, "world", "anyone")],
            3 => vec![Acl::new(
                perms::ALL,
                "digest",
                &paddock::auth::digest_id("user1:pw"),
            )],
            4 => vec![Acl::new(perms::ALL, "ip", "127.0.0.0/8")],
            5 => vec![
                Acl::new(perms::READ | perms::ADMIN, "ip", "10.0.0.0/8"),
                Acl::new(perms::READ, "world", "anyone"),
            ],
            6 => vec![Acl::new(perms::ALL, "world", "nobody")],
            _ => Acl::open_unsafe(),
        }
    }

    fn version(&mut self) -> i32 {
        *self.rng.pick(&[-1, -1, 0, 0, 1, 2, 5])
    }

    fn create_req(&mut self) -> CreateRequest {
        let mut path = self.node_path();
        let flags = *self.rng.pick(&[0, 0, 0, 1, 1, 2, 3, 7]);
        if flags & 2 != 0 {
            path = format!("{}/n-", self.p("s"));
        }
        CreateRequest {
            path,
            data: self.data(),
            acl: self.acl(),
            flags,
        }
    }

    fn write_op(&mut self) -> MultiOp {
        match self.rng.below(6) {
            0 => MultiOp::Create(self.create_req()),
            1 => MultiOp::Create2(self.create_req()),
            2 => MultiOp::Delete(DeleteRequest {
                path: self.node_path(),
                version: self.version(),
            }),
            3 => MultiOp::SetData(SetDataRequest {
                path: self.node_path(),
                data: self.data(),
                version: self.version(),
            }),
            _ => MultiOp::Check(CheckVersionRequest {
                path: self.node_path(),
                version: self.version(),
            }),
        }
    }

    /// Standard watches only on node paths, persistent ones only under `p/`, one mode per
    /// (session, path): that keeps Java 3.8's one-mode-per-path rule out of the comparison.
    fn step(&mut self) -> Step {
        let s = self.rng.below(SESSIONS);
        let watch = self.rng.chance(30);
        let req = match self.rng.below(30) {
            0..=3 => {
                let c = self.create_req();
                if self.rng.chance(50) {
                    Request::Create(c)
                } else {
                    Request::Create2(c)
                }
            }
            4 => {
                let rel = *self.rng.pick(&["c1", "c2"]);
                Request::CreateContainer(CreateRequest {
                    path: self.p(rel),
                    data: self.data(),
                    acl: self.acl(),
                    flags: create_mode::CONTAINER,
                })
            }
            5 => {
                let flags = *self.rng.pick(&[
                    create_mode::PERSISTENT_WITH_TTL,
                    create_mode::PERSISTENT_SEQUENTIAL_WITH_TTL,
                    0,
                ]);
                // Never a negative TTL with a non-TTL mode: that crashes Java 3.8.0 (COMPATIBILITY.md).
                let ttl = *self.rng.pick(&[3_600_000i64, 0]);
                Request::CreateTtl(CreateTtlRequest {
                    path: self.p("t"),
                    data: self.data(),
                    acl: Acl::open_unsafe(),
                    flags,
                    ttl,
                })
            }
            6..=8 => Request::Delete(DeleteRequest {
                path: self.any_path(),
                version: self.version(),
            }),
            // No exists-watches: Java 3.8.0 sets them even where READ is denied (see below).
            9 => Request::Exists(ExistsRequest {
                path: self.any_path(),
                watch: false,
            }),
            10 | 11 => Request::GetData(GetDataRequest {
                path: self.any_path(),
                watch,
            }),
            12..=14 => Request::SetData(SetDataRequest {
                path: self.write_path(),
                data: self.data(),
                version: self.version(),
            }),
            15 => Request::GetAcl(GetAclRequest {
                path: self.any_path(),
            }),
            16 => Request::SetAcl(SetAclRequest {
                path: self.node_path(),
                acl: self.acl(),
                version: self.version(),
            }),
            17 => Request::GetChildren(GetChildrenRequest {
                path: self.any_path(),
                watch,
            }),
            18 => Request::GetChildren2(GetChildren2Request {
                path: self.any_path(),
                watch,
            }),
            19 => Request::GetAllChildrenNumber(GetAllChildrenNumberRequest {
                path: self.any_path(),
            }),
            20 => Request::GetEphemerals(GetEphemeralsRequest {
                prefix_path: self.rng.pick(&["", "/", "/zz"]).to_string(),
            }),
            21 | 22 => {
                let n = 1 + self.rng.below(4);
                Request::Multi((0..n).map(|_| self.write_op()).collect())
            }
            23 => {
                let n = 1 + self.rng.below(3);
                Request::MultiRead(
                    (0..n)
                        .map(|_| {
                            let path = self.any_path();
                            if self.rng.chance(50) {
                                MultiOp::GetData(GetDataRequest { path, watch: false })
                            } else {
                                MultiOp::GetChildren(GetChildrenRequest { path, watch: false })
                            }
                        })
                        .collect(),
                )
            }
            24 => Request::Sync(SyncRequest {
                path: self.any_path(),
            }),
            25 => {
                let rel = *self.rng.pick(&["p", "p/q", "p/q/r"]);
                let mode = ((s + rel.len()) % 2) as i32;
                Request::AddWatch(AddWatchRequest {
                    path: self.p(rel),
                    mode,
                })
            }
            26 => {
                let req = CheckWatchesRequest {
                    path: self.node_path(),
                    type_: 1 + self.rng.below(3) as i32,
                };
                if self.rng.chance(50) {
                    Request::CheckWatches(req)
                } else {
                    Request::RemoveWatches(RemoveWatchesRequest {
                        path: req.path,
                        type_: req.type_,
                    })
                }
            }
            27 => match self.rng.below(4) {
                0 => Request::Ping,
                1 => {
                    // What a reconnecting client sends: events for what changed since zxid 0
                    // (i.e. for every node that exists or is gone), registrations otherwise.
                    let paths = |g: &mut Gen| {
                        (0..g.rng.below(3))
                            .map(|_| g.node_path())
                            .collect::<Vec<_>>()
                    };
                    Request::SetWatches(SetWatches {
                        relative_zxid: 0,
                        data_watches: paths(self),
                        exist_watches: paths(self),
                        child_watches: paths(self),
                    })
                }
                2 => Request::Reconfig(ReconfigRequest {
                    joining_servers: String::new(),
                    leaving_servers: String::new(),
                    new_members: String::new(),
                    cur_config_id: -1,
                }),
                _ => Request::WhoAmI,
            },
            28 => {
                if self.rng.chance(10) {
                    return Step::Reopen(s);
                }
                let who = *self.rng.pick(&["user1:pw", "user2:pw"]);
                Request::Auth(AuthPacket {
                    type_: 0,
                    scheme: "digest".into(),
                    auth: Some(who.into()),
                })
            }
            _ => {
                // Writes under p/ feed the persistent watches.
                let rel = *self.rng.pick(&["p/q", "p/q/r", "p/x"]);
                if self.rng.chance(50) {
                    Request::Create(CreateRequest {
                        path: self.p(rel),
                        data: None,
                        acl: Acl::open_unsafe(),
                        flags: 0,
                    })
                } else {
                    Request::Delete(DeleteRequest {
                        path: self.p(rel),
                        version: -1,
                    })
                }
            }
        };
        Step::Call(s, req)
    }
}

/// Per-server facts used to normalise replies.
#[derive(Default)]
struct Norm {
    sessions: HashMap<i64, usize>,
    zxids: HashMap<i64, usize>,
    max_zxid: i64,
}

impl Norm {
    fn zxid(&self, z: i64) -> String {
        match self.zxids.get(&z) {
            Some(op) => format!("op{op}"),
            None if z == 0 => "0".into(),
            None => "pre".into(),
        }
    }

    fn owner(&self, o: i64) -> String {
        match o {
            0 => "0".into(),
            o => self.sessions.get(&o).map_or_else(
                || format!("unknown-session({o:#x})"),
                |k| format!("session{k}"),
            ),
        }
    }

    fn stat(&self, s: &Stat) -> String {
        format!(
            "Stat{{czxid={} mzxid={} pzxid={} mtime>=ctime:{} version={} cversion={} aversion={} owner={} dataLength={} numChildren={}}}",
            self.zxid(s.czxid),
            self.zxid(s.mzxid),
            self.zxid(s.pzxid),
            s.mtime >= s.ctime,
            s.version,
            s.cversion,
            s.aversion,
            self.owner(s.ephemeral_owner),
            s.data_length,
            s.num_children
        )
    }

    fn response(&self, r: &Response) -> String {
        match r {
            Response::Stat(s) => self.stat(s),
            Response::Create(c) => format!("Create({})", c.path),
            Response::Create2(c) => format!("Create2({}, {})", c.path, self.stat(&c.stat)),
            Response::GetData(d) => format!("Data({:?}, {})", d.data, self.stat(&d.stat)),
            // `auth:` expands in the order of Java's hash set of the caller's ids: compare sorted.
            Response::GetAcl(a) => {
                let mut acl = a.acl.clone();
                acl.sort();
                format!("Acl({acl:?}, {})", self.stat(&a.stat))
            }
            Response::GetChildren(c) => format!("Children({:?})", sorted(&c.children)),
            Response::GetChildren2(c) => format!(
                "Children({:?}, {})",
                sorted(&c.children),
                self.stat(&c.stat)
            ),
            Response::GetEphemerals(e) => format!("Ephemerals({:?})", sorted(&e.ephemerals)),
            Response::Multi(rs) => {
                let parts: Vec<String> = rs
                    .iter()
                    .map(|m| match m {
                        // Java 3.8.0 answers create2 inside a multi as a plain create
                        // (ZOOKEEPER-4026, fixed in 3.8.2); compare the path only.
                        MultiResult::Create { path } | MultiResult::Create2 { path, .. } => {
                            format!("Create({path})")
                        }
                        MultiResult::SetData { stat } => format!("SetData({})", self.stat(stat)),
                        MultiResult::GetData { data, stat } => {
                            format!("GetData({data:?}, {})", self.stat(stat))
                        }
                        MultiResult::GetChildren { children } => {
                            format!("GetChildren({:?})", sorted(children))
                        }
                        other => format!("{other:?}"),
                    })
                    .collect();
                format!("Multi[{}]", parts.join(", "))
            }
            // Java keeps a connection's ids in a hash set: their order means nothing.
            Response::WhoAmI(w) => {
                let mut ids: Vec<String> = w
                    .client_info
                    .iter()
                    .map(|c| format!("{}:{}", c.auth_scheme, c.user))
                    .collect();
                ids.sort();
                format!("WhoAmI({ids:?})")
            }
            other => format!("{other:?}"),
        }
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

fn is_write(r: &Request) -> bool {
    matches!(
        r,
        Request::Create(_)
            | Request::Create2(_)
            | Request::CreateContainer(_)
            | Request::CreateTtl(_)
            | Request::Delete(_)
            | Request::SetData(_)
            | Request::SetAcl(_)
            | Request::Multi(_)
    )
}

async fn open(addr: &str) -> std::io::Result<Client<TcpStream>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Client::connect(stream, 30_000).await
}

/// Deletes `path` and everything under it (leftovers of an earlier run).
async fn delete_tree(c: &mut Client<TcpStream>, path: &str) -> std::io::Result<()> {
    let (h, r) = c
        .call(&Request::GetChildren(GetChildrenRequest {
            path: path.into(),
            watch: false,
        }))
        .await?;
    if h.err != 0 {
        return Ok(());
    }
    if let Response::GetChildren(ch) = r {
        for child in ch.children {
            Box::pin(delete_tree(c, &format!("{path}/{child}"))).await?;
        }
    }
    c.call(&Request::Delete(DeleteRequest {
        path: path.into(),
        version: -1,
    }))
    .await?;
    Ok(())
}

/// Runs the steps against one server; returns one normalised line per step.
async fn run(addr: &str, root: &str, steps: &[Step]) -> std::io::Result<Vec<String>> {
    let mut norm = Norm::default();
    let mut clients = Vec::new();
    let mut next_label = 0;
    for _ in 0..SESSIONS {
        let c = open(addr).await?;
        norm.sessions.insert(c.session.session_id, next_label);
        next_label += 1;
        clients.push(c);
    }
    delete_tree(&mut clients[0], root).await?;
    for rel in ["", "/s", "/p"] {
        let (h, _) = clients[0]
            .call(&Request::Create(CreateRequest {
                path: format!("{root}{rel}"),
                data: None,
                acl: Acl::open_unsafe(),
                flags: 0,
            }))
            .await?;
        norm.zxids.insert(h.zxid, 0);
        norm.max_zxid = norm.max_zxid.max(h.zxid);
    }
    let mut trace = Vec::with_capacity(steps.len());
    // Java deletes a closing session's ephemerals in hash-set order, so events from one
    // closeSession come in no defined order: a session's events are compared as a set when a
    // close happened since its previous call. Across txns, order is compared strictly.
    let mut last_close = 0usize;
    let mut last_call = [0usize; SESSIONS];
    for (i, step) in steps.iter().enumerate() {
        let mut line = String::new();
        match step {
            Step::Reopen(k) => {
                let (h, _) = clients[*k].call(&Request::CloseSession).await?;
                norm.zxids.insert(h.zxid, i + 1);
                last_close = i + 1;
                let c = open(addr).await?;
                norm.sessions.insert(c.session.session_id, next_label);
                let _ = write!(line, "reopen s{k} as session{next_label}: err={}", h.err);
                next_label += 1;
                clients[*k] = c;
            }
            Step::Call(k, req) => {
                let c = &mut clients[*k];
                let before = c.events.len();
                let (h, r) = c.call(req).await.map_err(|e| {
                    std::io::Error::new(e.kind(), format!("op {} {step:?}: {e}", i + 1))
                })?;
                if is_write(req) {
                    if h.zxid <= norm.max_zxid {
                        let _ = write!(line, "NON-INCREASING ZXID {:#x} ", h.zxid);
                    }
                    norm.max_zxid = h.zxid;
                    norm.zxids.insert(h.zxid, i + 1);
                }
                let mut events: Vec<String> = c.events[before..]
                    .iter()
                    .map(|(_, e)| format!("{}:{}", e.type_, e.path))
                    .collect();
                if last_close > last_call[*k] {
                    events.sort();
                }
                last_call[*k] = i + 1;
                let _ = write!(line, "s{k} err={} {}", h.err, norm.response(&r));
                if !events.is_empty() {
                    let _ = write!(line, " events={events:?}");
                }
            }
        }
        trace.push(line);
    }
    for c in &mut clients {
        let _ = c.call(&Request::CloseSession).await;
    }
    Ok(trace)
}

/// Differences between Debian's Java ZooKeeper 3.8.0 and ZooKeeper 3.9 that Paddock follows on
/// purpose (COMPATIBILITY.md lists them).
fn known_difference(step: &Step, reference: &str, candidate: &str) -> bool {
    // The watch events that came with the reply must match regardless.
    let split = |l: &str| -> (String, String) {
        match l.find(" events=") {
            Some(i) => (l[..i].to_owned(), l[i..].to_owned()),
            None => (l.to_owned(), String::new()),
        }
    };
    let ((reference, ref_events), (candidate, cand_events)) = (split(reference), split(candidate));
    if ref_events != cand_events {
        return false;
    }
    // ZOOKEEPER-2590 (3.8.4, 3.9.2): exists() checks READ; 3.8.0 returns the Stat to anyone.
    let exists_acl = matches!(step, Step::Call(_, Request::Exists(_)))
        && reference.contains(" err=0 Stat{")
        && candidate.ends_with("err=-102 Empty");
    // 3.8.0's WatchManager.containsWatcher answers true when any connection watches the path;
    // 3.9 (ZOOKEEPER-4466, ZOOKEEPER-4471) checks the caller's own watches.
    let check_watches = matches!(step, Step::Call(_, Request::CheckWatches(_)))
        && reference.ends_with("err=0 Empty")
        && candidate.ends_with("err=-121 Empty");
    exists_acl || check_watches
}

fn parse_args() -> Result<(u64, usize, String, String), String> {
    let mut seed = 1u64;
    let mut ops = 10_000usize;
    let mut addrs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seed" => {
                seed = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--seed takes a number")?
            }
            "--ops" => {
                ops = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--ops takes a number")?
            }
            _ => addrs.push(a),
        }
    }
    match &addrs[..] {
        [a, b] => Ok((seed, ops, a.clone(), b.clone())),
        _ => Err("usage: paddock-differential [--seed S] [--ops N] REFERENCE_HOST:PORT CANDIDATE_HOST:PORT".into()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (seed, ops, reference, candidate) = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let scenario = format!("seed-{seed}-ops-{ops}");
    // A fresh root per run: an earlier run's tree may hold nodes no session may delete.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let root = format!("/differential-{seed}-{nonce}");
    let mut g = Gen {
        rng: Rng(seed.wrapping_mul(0x9E3779B97F4A7C15) | 1),
        root: root.clone(),
    };
    let steps: Vec<Step> = (0..ops).map(|_| g.step()).collect();
    let limit = Duration::from_secs(240);
    let results = tokio::time::timeout(limit, async {
        (
            run(&reference, &root, &steps).await,
            run(&candidate, &root, &steps).await,
        )
    })
    .await;
    let (a, b) = match results {
        Ok((Ok(a), Ok(b))) => (a, b),
        Ok((ra, rb)) => {
            let e = ra
                .err()
                .map(|e| format!("reference: {e}"))
                .or(rb.err().map(|e| format!("candidate: {e}")))
                .unwrap_or_default();
            println!("RESULT differential {scenario} fail {e}");
            return ExitCode::from(1);
        }
        Err(_) => {
            println!("RESULT differential {scenario} fail timed out after {limit:?}");
            return ExitCode::from(1);
        }
    };
    match a
        .iter()
        .zip(&b)
        .zip(&steps)
        .position(|((x, y), step)| x != y && !known_difference(step, x, y))
    {
        None => {
            println!(
                "RESULT differential {scenario} pass {} replies identical after normalisation",
                a.len()
            );
            ExitCode::SUCCESS
        }
        Some(i) => {
            eprintln!("first divergence at op {} (seed {seed}); replay: paddock-differential --seed {seed} --ops {ops} {reference} {candidate}", i + 1);
            let context: usize = std::env::var("DIFF_CONTEXT")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(15);
            for j in i.saturating_sub(context)..i {
                eprintln!("  op {:>5} {:?}\n           -> {}", j + 1, steps[j], a[j]);
            }
            eprintln!("  op {:>5} {:?}", i + 1, steps[i]);
            eprintln!("  reference: {}", a[i]);
            eprintln!("  candidate: {}", b[i]);
            println!(
                "RESULT differential {scenario} fail op {} differs: reference `{}` candidate `{}`",
                i + 1,
                a[i],
                b[i]
            );
            ExitCode::from(1)
        }
    }
}
