//! Deterministic simulation of zab cores under faults (see `world.rs` for the model and
//! `checker.rs` for the properties).
//!
//! - `seeds`: the CI run, `ZAB_SEEDS` seeds (default 2,000) from `ZAB_SEED_BASE` (0);
//! - `replay`: one seed, `ZAB_SEED`, printing its trace;
//! - `soak` (ignored): like `seeds` with a default of 100,000;
//! - `zookeeper_*`: scripted regressions for sync bugs Java ZooKeeper had.
//!
//! A purpose-built scheduler rather than turmoil: the core is synchronous and pure, so
//! there is nothing async to host; one seeded queue of events (ticks, deliveries, fsyncs,
//! faults) gives exact replay, and a run costs microseconds instead of a runtime.

mod checker;
mod disk;
mod rng;
mod scenarios;
mod world;

use paddock::zab::InjectedBugs;
use rng::Rng;
use world::{Faults, World, WorldConfig};

/// Time units of the fault phase (a server ticks every ~10).
const FAULT_TIME: u64 = 2_500;
/// After the faults stop, a leader must be established with every server up to date
/// within this many time units (~200 ticks)...
const CONVERGE_BOUND: u64 = 2_000;
/// ...and writes then submitted must be applied everywhere within this many.
const COMMIT_BOUND: u64 = 300;
/// How long "every server serves" must hold before the liveness writes go in.
const SETTLE: u64 = 150;

pub struct Outcome {
    pub converge_time: u64,
    pub committed: usize,
    pub epochs: usize,
    /// Servers left out because they promised a later epoch that was never established.
    pub excluded: usize,
    /// The trace, when ZAB_TRACE is set.
    pub trace: String,
}

fn world_for_seed(seed: u64) -> World {
    let mut r = Rng::new(seed.wrapping_mul(31).wrapping_add(7));
    let voters = if r.chance(500) { 3 } else { 5 };
    let observers = if r.chance(250) { 1 } else { 0 };
    let faults = Faults {
        loss: r.range(0, 300),
        duplicate: r.range(0, 200),
        conn_break: r.range(0, 20),
        long_delay: r.range(0, 50),
        chaos_every: r.range(40, 300),
    };
    World::new(WorldConfig {
        seed,
        voters,
        observers,
        faults,
        bugs: InjectedBugs::default(),
        volatile_snapshots: false,
        fsync_delay: (1, r.range(4, 40)),
        crash_keeps_some_tail: true,
        skew: true,
    })
}

/// One seeded run: faults, then calm and the liveness bound.
/// A failed run: what broke, and the last events before it.
pub struct Failure {
    pub violation: String,
    pub trace: String,
}

fn failure(violation: String, w: &World) -> Failure {
    Failure {
        violation,
        trace: w.dump_trace(),
    }
}

pub fn run_seed(seed: u64) -> Result<Outcome, Failure> {
    let mut w = world_for_seed(seed);
    w.chaos = true;
    w.start_load();
    w.run_until(FAULT_TIME);
    if let Some(v) = w.violation.clone() {
        return Err(failure(v, &w));
    }
    w.calm();
    let calm_at = w.now;
    let deadline = calm_at + CONVERGE_BOUND;
    // Converged: every server serves under one leader, and still does a settling window
    // later (breaks already in flight when the faults stopped have surfaced by then).
    let mut converged = false;
    while w.now < deadline && w.violation.is_none() {
        if !w.run_while(deadline, |w| !w.all_serving()) {
            break;
        }
        let leader = w.established_leader();
        let settle_until = (w.now + SETTLE).min(deadline);
        let broke = w.run_while(settle_until, |w| {
            w.all_serving() && w.established_leader() == leader
        });
        if !broke && w.now >= settle_until && w.all_serving() {
            converged = true;
            break;
        }
    }
    if let Some(v) = w.violation.clone() {
        return Err(failure(v, &w));
    }
    if !converged {
        return Err(failure(
            format!("liveness: no leader with every server up to date {CONVERGE_BOUND} time units after the faults stopped"),
            &w,
        ));
    }
    let converge_time = w.now - calm_at;
    let ids = w.serving_ids();
    let excluded = w.nodes.len() - ids.len();
    let mut fresh = Vec::new();
    for &id in ids.iter().take(3) {
        if !w.write(id) {
            return Err(failure(
                format!("liveness: serving server {id} refused a write"),
                &w,
            ));
        }
        fresh.push(w.last_write_id());
    }
    let deadline = w.now + COMMIT_BOUND;
    let done = w.run_while(deadline, |w| {
        !fresh.iter().all(|&wid| w.applied_by_serving(wid))
    });
    if let Some(v) = w.violation.clone() {
        return Err(failure(v, &w));
    }
    if !done {
        return Err(failure(
            format!("liveness: writes {fresh:?} not applied by every serving server within {COMMIT_BOUND} time units"),
            &w,
        ));
    }
    Ok(Outcome {
        converge_time,
        committed: w.checker.history.len(),
        epochs: w.checker.established.len(),
        excluded,
        trace: if w.verbose {
            w.dump_trace()
        } else {
            String::new()
        },
    })
}

fn replay_command(seed: u64) -> String {
    format!("ZAB_SEED={seed} cargo test --test zab_sim -- --exact replay --nocapture")
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")),
        Err(_) => default,
    }
}

/// What a batch of seeds did.
#[derive(Default)]
struct Tally {
    ran: u64,
    first_failure: Option<(u64, String)>,
    failures: u64,
    slowest_convergence: u64,
    slowest_seed: u64,
    committed: usize,
    epochs: usize,
    /// Runs that ended with a server waiting for a later epoch.
    with_excluded: u64,
}

impl Tally {
    fn add(&mut self, seed: u64, r: Result<Outcome, Failure>) {
        self.ran += 1;
        match r {
            Ok(o) => {
                if o.converge_time > self.slowest_convergence {
                    self.slowest_convergence = o.converge_time;
                    self.slowest_seed = seed;
                }
                self.committed += o.committed;
                self.epochs += o.epochs;
                self.with_excluded += u64::from(o.excluded > 0);
            }
            Err(Failure { violation: v, .. }) => {
                self.failures += 1;
                if self.first_failure.as_ref().is_none_or(|f| seed < f.0) {
                    self.first_failure = Some((seed, v));
                }
            }
        }
    }

    fn merge(&mut self, o: Tally) {
        self.ran += o.ran;
        self.failures += o.failures;
        if o.slowest_convergence > self.slowest_convergence {
            self.slowest_convergence = o.slowest_convergence;
            self.slowest_seed = o.slowest_seed;
        }
        self.committed += o.committed;
        self.epochs += o.epochs;
        self.with_excluded += o.with_excluded;
        if let Some(f) = o.first_failure {
            if self.first_failure.as_ref().is_none_or(|g| f.0 < g.0) {
                self.first_failure = Some(f);
            }
        }
    }
}

/// Runs `count` seeds from `base` on every core; panics with the replay command of the
/// first failing seed.
fn run_many(base: u64, count: u64) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let started = std::time::Instant::now();
    let mut total = Tally::default();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut tally = Tally::default();
                    let mut seed = base + t;
                    while seed < base + count {
                        tally.add(seed, run_seed(seed));
                        seed += threads;
                    }
                    tally
                })
            })
            .collect();
        for h in handles {
            total.merge(h.join().expect("a simulation thread panicked"));
        }
    });
    println!(
        "zab_sim: {} seeds from {base} in {:.1}s: {} txns committed, {} epochs established; slowest convergence after the faults {} time units (seed {}; bound {CONVERGE_BOUND}); {} runs ended with a server waiting for a later epoch",
        total.ran,
        started.elapsed().as_secs_f64(),
        total.committed,
        total.epochs,
        total.slowest_convergence,
        total.slowest_seed,
        total.with_excluded,
    );
    if let Some((seed, v)) = total.first_failure {
        panic!(
            "{} seed(s) failed; first: seed {seed}: {v}\nreplay: {}",
            total.failures,
            replay_command(seed)
        );
    }
}

#[test]
fn seeds() {
    run_many(env_u64("ZAB_SEED_BASE", 0), env_u64("ZAB_SEEDS", 2_000));
}

#[test]
#[ignore = "soak: ZAB_SEEDS=100000 cargo test --release --test zab_sim -- --ignored soak"]
fn soak() {
    run_many(env_u64("ZAB_SEED_BASE", 0), env_u64("ZAB_SEEDS", 100_000));
}

#[test]
fn replay() {
    let seed = env_u64("ZAB_SEED", 0);
    match run_seed(seed) {
        Ok(o) => {
            print!("{}", o.trace);
            println!(
                "seed {seed}: ok; {} txns committed over {} epochs, converged {} time units after the faults; {} server(s) waiting for a later epoch",
                o.committed, o.epochs, o.converge_time, o.excluded
            )
        }
        Err(Failure {
            violation: v,
            trace,
        }) => panic!(
            "seed {seed}: {v}\nlast events:\n{trace}\nreplay: {}",
            replay_command(seed)
        ),
    }
}

/// The same seed gives the same run, bit for bit.
#[test]
fn runs_are_deterministic() {
    for seed in [3, 17, 99] {
        let a = run_seed(seed).map_err(|e| e.violation);
        let b = run_seed(seed).map_err(|e| e.violation);
        let summary = |r: &Result<Outcome, String>| {
            r.as_ref()
                .map(|o| (o.converge_time, o.committed, o.epochs))
                .map_err(Clone::clone)
        };
        assert_eq!(summary(&a), summary(&b), "seed {seed}");
    }
}
