//! Wiring: the core task that owns the pipeline, the storage step between propose and commit,
//! and the accept loop. Everything the server touches outside itself comes in through a seam
//! (listener, clock, txn log), so tests can run the whole server inside a simulator.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use jute::proto::ConnectRequest;
use tokio::sync::{mpsc, oneshot};

use crate::admin::{fourlw, ServerInfo};
use crate::clock::Clock;
use crate::config::Config;
use crate::net::{accept_loop, ConnLimits, Listener};
use crate::pipeline::{Core, CoreConfig, Incoming, Sink};
use crate::storage::compress::Method;
use crate::storage::pipe::LogPipe;
use crate::storage::snap_policy::{SnapPolicy, WritingGuard};
use crate::storage::snapshot::SnapshotWriter;
use crate::storage::TxnLog;

/// What connections send the core task.
pub enum CoreMsg {
    Connect {
        conn: u64,
        peer: Option<SocketAddr>,
        req: ConnectRequest,
        sink: Box<dyn Sink>,
    },
    Request {
        conn: u64,
        xid: i32,
        incoming: Incoming,
    },
    Disconnect {
        conn: u64,
    },
    FourLetter {
        word: &'static str,
        peer: Option<SocketAddr>,
        reply: oneshot::Sender<String>,
    },
}

/// Inputs the core task takes per wake-up before it flushes proposals to the log, so one
/// sync covers many txns under load (group commit).
const BATCH: usize = 256;
/// Bound of the queue from connections to the core.
const CORE_QUEUE: usize = 4096;

/// Nodes a snapshot in progress writes per turn of the core loop: small enough that a turn
/// stays well under a millisecond, so taking a snapshot does not stall writes. (With
/// snapshots back to back on a 200,000-node tree, `bench/snapshot-impact`: 1,000 nodes per
/// turn gave 40,000 sets/s at p50 5.6 ms, 250 gave 50,000 at p50 3.8 ms, against 85,000 at
/// 1.7 ms with none; the walk still finishes quickly, since it also runs whenever the loop
/// is idle.)
const SNAPSHOT_STEP: usize = 250;

/// A snapshot being taken between batches, a few nodes per turn (see `SnapshotWriter`).
struct Snapshotting {
    writer: SnapshotWriter,
    /// Keeps the policy from starting another until this one is on disk.
    guard: WritingGuard,
    dir: PathBuf,
    compression: Method,
    started: std::time::Instant,
    /// The longest single step: how long a turn of the core loop waited on the snapshot.
    slowest_step: std::time::Duration,
}

impl Snapshotting {
    /// Starts a snapshot of the tree as applied so far; the caller rolls the log with it.
    fn start(core: &Core, policy: &SnapPolicy) -> Snapshotting {
        let writer = SnapshotWriter::spooled(core.tree(), core.session_list(), &policy.dir)
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot create the snapshot spool; keeping the snapshot in memory");
                SnapshotWriter::start(core.tree(), core.session_list())
            });
        Snapshotting {
            writer,
            guard: policy.start(),
            dir: policy.dir.clone(),
            compression: policy.compression,
            started: std::time::Instant::now(),
            slowest_step: std::time::Duration::ZERO,
        }
    }

    /// Walks on; true once every node is written.
    fn step(&mut self, core: &Core) -> bool {
        let t = std::time::Instant::now();
        let done = self.writer.step(core.tree(), SNAPSHOT_STEP);
        self.slowest_step = self.slowest_step.max(t.elapsed());
        done
    }

    /// Hands the finished snapshot to a blocking thread to be written and fsynced.
    fn write_out(self, core: &Core) {
        let nodes = self.writer.nodes();
        let parts = self.writer.finish(core.tree());
        let (guard, dir, compression) = (self.guard, self.dir, self.compression);
        let walked = self.started.elapsed();
        let slowest_step_us = self.slowest_step.as_micros() as u64;
        tokio::task::spawn_blocking(move || {
            let _writing = guard;
            match crate::storage::recovery::write_snapshot_parts(&dir, parts, compression) {
                Ok((path, bytes)) => tracing::info!(
                    path = %path.display(),
                    nodes,
                    bytes,
                    walk_ms = walked.as_millis() as u64,
                    slowest_step_us,
                    "snapshot written"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "snapshot failed; the txn logs still hold everything")
                }
            }
        });
    }
}

pub fn core_config(cfg: &Config, server_id: u64) -> CoreConfig {
    CoreConfig {
        server_id,
        tick_ms: cfg.tick_time as u64,
        min_session_timeout: cfg.min_session_timeout() as i32,
        max_session_timeout: cfg.max_session_timeout() as i32,
        extended_types: cfg.extended_types_enabled,
        super_digest: cfg.super_digest.clone(),
        skip_acl: cfg.skip_acl,
        container_check_ms: cfg.container_check_interval_ms.max(1),
        container_max_per_minute: cfg.container_max_per_minute,
    }
}

pub fn conn_limits(cfg: &Config) -> ConnLimits {
    ConnLimits {
        max_frame: cfg.jute_max_buffer,
        max_outbound: (cfg.jute_max_buffer * 4).max(8 << 20),
        max_outstanding: cfg.global_outstanding_limit.max(1),
        four_letter_whitelist: cfg.four_letter_whitelist.clone(),
    }
}

/// Runs a standalone server on `listener`, starting from `state` (a recovered tree and its
/// sessions), until the future `shutdown` resolves.
pub async fn run<L, C, T>(
    cfg: Config,
    listener: L,
    clock: Arc<C>,
    log: T,
    state: crate::storage::recovery::Recovered,
    snapshots: Option<SnapPolicy>,
    shutdown: impl std::future::Future<Output = ()>,
) where
    L: Listener,
    C: Clock,
    T: TxnLog,
{
    let mut ccfg = core_config(&cfg, 1);
    ccfg.extended_types = cfg.extended_types_enabled;
    let now = clock.now();
    let mut core = Core::with_tree(ccfg, state.tree, now);
    for (id, timeout) in state.sessions {
        core.restore_session(now, id, timeout);
    }
    let info = ServerInfo::new(&cfg, listener.local_addr().ok());
    let (tx, rx) = mpsc::channel(CORE_QUEUE);
    let limits = conn_limits(&cfg);
    let acceptor = tokio::spawn(accept_loop(listener, tx, limits, cfg.max_client_cnxns));
    tokio::select! {
        _ = drive(core, rx, clock, log, snapshots, info) => {}
        _ = shutdown => {}
    }
    acceptor.abort();
}

/// The core task: take inputs in batches, hand new txns to the log, commit what is durable.
pub async fn drive<C: Clock, T: TxnLog>(
    mut core: Core,
    mut rx: mpsc::Receiver<CoreMsg>,
    clock: Arc<C>,
    log: T,
    mut snapshots: Option<SnapPolicy>,
    info: ServerInfo,
) {
    let mut log = LogPipe::new(log);
    let mut batch = Vec::with_capacity(BATCH);
    let mut snapshotting: Option<Snapshotting> = None;
    loop {
        let deadline = clock.instant_of(core.next_deadline().min(clock.mono_ms() + 60_000));
        let mut durable = None;
        tokio::select! {
            // Commits first: under a steady stream of requests they must not wait.
            biased;
            r = log.durable() => durable = Some(r),
            n = rx.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    return;
                }
            }
            _ = tokio::time::sleep_until(deadline) => {}
            // A snapshot in progress walks on whenever there is nothing else to do.
            _ = std::future::ready(()), if snapshotting.is_some() => {}
        }
        let now = clock.now();
        for msg in batch.drain(..) {
            match msg {
                CoreMsg::Connect {
                    conn,
                    peer,
                    req,
                    sink,
                } => core.connect(now, conn, peer, req, sink),
                CoreMsg::Request {
                    conn,
                    xid,
                    incoming,
                } => core.request(now, conn, xid, incoming),
                CoreMsg::Disconnect { conn } => core.disconnect(conn),
                CoreMsg::FourLetter { word, peer, reply } => {
                    // Java counts the command as a received packet before answering it.
                    core.stats.packets_received += 1;
                    let _ = reply.send(fourlw::render(word, &mut core, &info, now, peer));
                }
            }
        }
        core.tick(now);
        let proposals = core.take_proposals();
        // After a failed write or fsync the log's state on disk is unknown (the kernel may
        // have dropped the dirty pages), so nothing more is written or acknowledged: pending
        // and later writes stay unanswered, reads go on, ruok stops answering imok.
        if !proposals.is_empty() && !core.storage_failed() {
            let due = snapshots
                .as_mut()
                .is_some_and(|p| p.logged(proposals.len() as u64));
            log.append(proposals).await;
            if due {
                // The new log file starts after the txns already sent; the snapshot is named
                // after the (possibly older) zxid the tree has applied. Recovery replays from
                // the newest log that starts at or before it, so the overlap is harmless.
                log.roll().await;
                snapshotting = snapshots
                    .as_ref()
                    .map(|policy| Snapshotting::start(&core, policy));
            }
        }
        while let Some(r) = durable.take().or_else(|| log.try_durable()) {
            match r {
                Ok(zxid) => core.commit(clock.now(), zxid),
                Err(e) => {
                    if !core.storage_failed() {
                        tracing::error!(error = %e, "txn log write or fsync failed: writes are no longer acknowledged; restart the server once the disk is healthy");
                        core.set_storage_failed();
                    }
                }
            }
        }
        if snapshotting.as_mut().is_some_and(|s| s.step(&core)) {
            if let Some(s) = snapshotting.take() {
                s.write_out(&core);
            }
        }
    }
}
