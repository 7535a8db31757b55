//! One run of one workload: set up the tree, open the sessions, start the clock, drive them
//! until the run stops, and sum up.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::task::JoinSet;

use crate::args::{Args, Workload};
use crate::control::{Control, Tally};
use crate::cpu::Meter;
use crate::ops::{GenParams, Layout, OpGen};
use crate::report::{Latency, Report};
use crate::session::{within, Session};
use crate::setup::{self, SetupParams};
use crate::{connect, fanout, fsync, pipelined};

/// Requests in flight while the tree is being set up.
const SETUP_OUTSTANDING: usize = 256;
/// The `fsync` workload's scratch file is truncated when it reaches this size.
const FSYNC_FILE_MAX: u64 = 64 << 20;

/// A run id that differs between runs, so znodes one run creates never collide with another's.
fn run_id() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (nanos ^ ((std::process::id() as u64) << 40)) & 0xffff_ffff_ffff
}

/// Sessions for session number `i` go to the servers round-robin.
fn addr_of(args: &Args, i: usize) -> SocketAddr {
    args.servers.0[i % args.servers.0.len()]
}

async fn open_sessions(args: &Args, n: usize, outstanding: usize) -> io::Result<Vec<Session>> {
    let patience = patience(args);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let s = within(
            patience,
            Session::connect(addr_of(args, i), args.session_timeout_ms, outstanding),
        )
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", addr_of(args, i))))?;
        out.push(s);
    }
    Ok(out)
}

/// How long any single reply may take before the run is declared failed.
fn patience(args: &Args) -> Duration {
    Duration::from_millis(args.session_timeout_ms.clamp(1000, 600_000) as u64)
}

/// Starts the clock: the stop timer and the live line.
fn start(args: &Args, threads: usize) -> Arc<Control> {
    let ctl = Control::new(args.ops, args.warmup);
    ctl.stop_after(args.warmup + args.duration);
    if !args.quiet {
        ctl.live_line(args.workload.name(), threads);
    }
    ctl
}

/// Waits for every task; a task that panicked is an error for the whole run.
async fn join<T: 'static>(mut tasks: JoinSet<T>) -> io::Result<Vec<T>> {
    let mut out = Vec::with_capacity(tasks.len());
    while let Some(done) = tasks.join_next().await {
        out.push(done.map_err(|e| io::Error::other(format!("a session task died: {e}")))?);
    }
    Ok(out)
}

fn sum(tallies: impl IntoIterator<Item = Tally>) -> Tally {
    let mut total = Tally::default();
    for t in tallies {
        total.merge(t);
    }
    total
}

pub async fn run(args: &Args, threads: usize) -> io::Result<Report> {
    let w = args.workload;
    let value = Bytes::from(vec![b'x'; args.value_size as usize]);
    let layout = Layout::new(&args.root, args.keys, args.value_size);
    let patience = patience(args);
    let sessions = args.sessions as usize;
    let outstanding = args.outstanding as usize;

    if !matches!(w, Workload::Connect | Workload::Fsync) {
        let mut s = open_sessions(args, 1, SETUP_OUTSTANDING).await?.remove(0);
        let params = SetupParams {
            layout: &layout,
            workload: w,
            keys: args.keys,
            children: args.children,
            value: &value,
        };
        within(patience * 10, setup::prepare(&mut s, &params)).await?;
        within(patience, s.close()).await?;
    }

    let meter = Meter::start();
    let mut extra = Vec::new();
    let mut gens = Vec::new();
    let (ctl, tally) = match w {
        Workload::Connect => {
            let ctl = start(args, threads);
            let mut tasks = JoinSet::new();
            for i in 0..sessions {
                let ctl = ctl.clone();
                let addr = addr_of(args, i);
                tasks.spawn(connect::worker(
                    addr,
                    args.session_timeout_ms,
                    ctl,
                    patience,
                ));
            }
            (ctl.clone(), sum(join(tasks).await?))
        }
        Workload::Fanout => {
            let mut watchers = open_sessions(args, sessions + 1, 1).await?;
            let driver = watchers.remove(0);
            let f = fanout::Fanout {
                watchers,
                driver,
                node: layout.watch_node(),
                value: value.clone(),
            };
            let ctl = start(args, threads);
            let t = fanout::run(f, ctl.clone(), patience).await;
            (ctl, t)
        }
        Workload::Fsync => {
            let dir = args.dir.clone().unwrap_or_else(|| ".".into());
            let ctl = start(args, threads);
            let c = ctl.clone();
            let t = tokio::task::spawn_blocking(move || fsync::run(&dir, &c, FSYNC_FILE_MAX))
                .await
                .map_err(|e| io::Error::other(format!("the fsync loop died: {e}")))?;
            (ctl, t)
        }
        _ => {
            let opened = open_sessions(args, sessions, outstanding).await?;
            let gen = GenParams {
                workload: w,
                layout: layout.clone(),
                value: value.clone(),
                keys: args.keys,
                children: args.children,
                read_percent: args.read_percent,
                multi_size: args.multi_size,
                run_id: run_id(),
            };
            let ctl = start(args, threads);
            let mut tasks = JoinSet::new();
            for (i, s) in opened.into_iter().enumerate() {
                let g = OpGen::new(&gen, i as u32);
                tasks.spawn(pipelined::drive(s, g, ctl.clone(), patience));
            }
            let (tallies, done): (Vec<Tally>, Vec<OpGen>) = join(tasks).await?.into_iter().unzip();
            gens = done;
            (ctl, sum(tallies))
        }
    };
    ctl.stop();
    let elapsed_s = Instant::now()
        .saturating_duration_since(ctl.measure_from.max(ctl.started))
        .as_secs_f64();
    let cpu = meter.since(threads);
    if !args.keep && gens.iter().any(|g| g.created().next().is_some()) {
        let mut s = open_sessions(args, 1, SETUP_OUTSTANDING).await?.remove(0);
        let paths = gens.iter().flat_map(|g| g.created());
        within(patience * 10, setup::remove(&mut s, paths)).await?;
        within(patience, s.close()).await?;
    }
    let per_sec = |n: f64| if elapsed_s > 0.0 { n / elapsed_s } else { 0.0 };
    match w {
        Workload::Fanout => {
            extra.push(("watchers", sessions as f64));
            extra.push((
                "notifications_per_sec",
                per_sec((tally.ops * sessions as u64) as f64),
            ));
        }
        Workload::Multi => extra.push((
            "ops_inside_multis_per_sec",
            per_sec((tally.ops * args.multi_size as u64) as f64),
        )),
        _ => {}
    }

    let mut warnings = Vec::new();
    // CPU time comes in 10 ms ticks: over less than a second the share is too coarse to judge.
    if let Some(c) = cpu.filter(|c| c.saturated() && elapsed_s >= 1.0) {
        warnings.push(format!(
            "the client used {:.2} cores with {} worker threads on a {}-core machine: it may be \
             the bottleneck, so these figures are a lower bound for the server",
            c.cores_used, c.threads, c.machine_cores
        ));
    }
    if !tally.error_codes.is_empty() {
        warnings.push(format!(
            "ZooKeeper error codes seen: {:?}",
            tally.error_codes
        ));
    }
    if let Some(e) = &tally.failure {
        warnings.push(format!("a session failed: {e}"));
    }
    if tally.ops == 0 {
        warnings.push("no operation completed in the measured window".into());
    }
    Ok(Report {
        workload: w.name(),
        servers: args.servers.0.iter().map(|a| a.to_string()).collect(),
        sessions: args.sessions,
        outstanding: args.outstanding,
        value_size: args.value_size,
        keys: args.keys,
        elapsed_s,
        ops: tally.ops,
        errors: tally.errors,
        latency: Latency::of(&tally.hist),
        cpu,
        extra,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Parser, ValueEnum};

    /// Every server workload runs against a real Paddock: exactly the asked number of
    /// operations complete, none fails, and nothing is left for a later run to trip over.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_workload_runs_against_paddock() {
        let addr = crate::test_server::start().await;
        for &w in Workload::value_variants() {
            if w == Workload::Fsync {
                continue; // no server involved; fsync.rs tests it
            }
            let addr = addr.to_string();
            let args = Args::try_parse_from([
                "paddock-bench",
                "-q",
                "-w",
                w.name(),
                "--servers",
                &addr,
                "--ops",
                "60",
                "--sessions",
                "3",
                "--outstanding",
                "8",
                "--keys",
                "20",
                "--children",
                "30",
                "--multi-size",
                "4",
            ])
            .unwrap();
            for round in 0..2 {
                let r = run(&args, 2).await.unwrap();
                assert_eq!(
                    (r.ops, r.errors),
                    (60, 0),
                    "{} round {round}: {:?}",
                    w.name(),
                    r.warnings
                );
                assert!(r.warnings.is_empty(), "{}: {:?}", w.name(), r.warnings);
                assert_eq!(r.latency.count, 60);
            }
        }
    }

    /// `create` deletes what it made unless `--keep` says otherwise.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn create_cleans_up_unless_kept() {
        use jute::data::Stat;
        use jute::proto::{ExistsRequest, Request};
        use jute::Jute;

        let addr = crate::test_server::start().await;
        let a = addr.to_string();
        let children = || async {
            let mut s = Session::connect(addr, 10_000, 1).await.unwrap();
            let req = ExistsRequest {
                path: "/bench/create".into(),
                watch: false,
            };
            let (err, body) = s.call(&Request::Exists(req)).await.unwrap();
            assert_eq!(err, 0);
            s.close().await.unwrap();
            Stat::from_bytes(&body).unwrap().num_children
        };
        let base = [
            "paddock-bench",
            "-q",
            "-w",
            "create",
            "--servers",
            &a,
            "--ops",
            "500",
        ];
        run(&Args::try_parse_from(base).unwrap(), 2).await.unwrap();
        assert_eq!(children().await, 0);
        let kept = base.iter().copied().chain(["--keep"]);
        run(&Args::try_parse_from(kept).unwrap(), 2).await.unwrap();
        assert_eq!(children().await, 500);
    }

    #[tokio::test]
    async fn a_dead_server_is_an_error() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        drop(l);
        let args =
            Args::try_parse_from(["paddock-bench", "-q", "-w", "get", "--servers", &addr]).unwrap();
        assert!(run(&args, 1).await.is_err());
    }
}
