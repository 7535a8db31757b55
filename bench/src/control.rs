//! What every session task of a run shares: when to stop, which operations count, and the
//! running totals behind the live rate line.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::cpu::Meter;
use crate::report::new_histogram;

pub struct Control {
    stop: AtomicBool,
    /// `--ops`: operations to issue in total, if the run is bounded by count.
    limit: Option<u64>,
    issued: AtomicU64,
    pub started: Instant,
    /// Operations sent before this instant are warm-up: neither timed nor counted.
    pub measure_from: Instant,
    /// Completed operations, warm-up included, for the live line.
    pub completed: AtomicU64,
    pub errors: AtomicU64,
}

impl Control {
    pub fn new(limit: Option<u64>, warmup: Duration) -> Arc<Control> {
        let started = Instant::now();
        Arc::new(Control {
            stop: AtomicBool::new(false),
            limit,
            issued: AtomicU64::new(0),
            started,
            measure_from: started + warmup,
            completed: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        })
    }

    /// Claims the right to issue one more operation; false once the run is over.
    pub fn take(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        match self.limit {
            None => true,
            Some(limit) => {
                let ok = self.issued.fetch_add(1, Ordering::Relaxed) < limit;
                if !ok {
                    self.stop();
                }
                ok
            }
        }
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Stops the run after `warmup + duration` unless `--ops` bounds it.
    pub fn stop_after(self: &Arc<Self>, total: Duration) {
        if self.limit.is_some() {
            return;
        }
        let ctl = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(total).await;
            ctl.stop();
        });
    }

    /// Prints the completed-operation rate once a second on stderr until the run stops.
    pub fn live_line(self: &Arc<Self>, name: &'static str, threads: usize) {
        let ctl = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            let mut last = (0u64, Meter::start());
            while !ctl.stopped() {
                tick.tick().await;
                let done = ctl.completed.load(Ordering::Relaxed);
                let cpu = last.1.since(threads).map_or(String::new(), |c| {
                    format!("  client cpu {:.2} cores", c.cores_used)
                });
                eprintln!(
                    "[{:5.1}s] {name}: {} ops/s  errors {}{cpu}",
                    ctl.started.elapsed().as_secs_f64(),
                    done - last.0,
                    ctl.errors.load(Ordering::Relaxed),
                );
                last = (done, Meter::start());
            }
        });
    }
}

/// One session's (or worker's) results.
pub struct Tally {
    pub hist: Histogram<u64>,
    /// Measured operations (after warm-up).
    pub ops: u64,
    pub errors: u64,
    /// ZooKeeper error codes seen, for the report.
    pub error_codes: Vec<i32>,
    /// The session ended on an I/O or protocol error.
    pub failure: Option<io::Error>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            hist: new_histogram(),
            ops: 0,
            errors: 0,
            error_codes: Vec::new(),
            failure: None,
        }
    }
}

impl Tally {
    /// Records one operation sent at `sent` and completed now; `err` is its ZooKeeper error
    /// code.
    pub fn record(&mut self, ctl: &Control, sent: Instant, err: i32) {
        self.record_until(ctl, sent, Instant::now(), err);
    }

    /// Records one operation sent at `sent` and completed at `done`.
    pub fn record_until(&mut self, ctl: &Control, sent: Instant, done: Instant, err: i32) {
        ctl.completed.fetch_add(1, Ordering::Relaxed);
        if err != 0 {
            self.errors += 1;
            ctl.errors.fetch_add(1, Ordering::Relaxed);
            if !self.error_codes.contains(&err) && self.error_codes.len() < 16 {
                self.error_codes.push(err);
            }
        }
        if sent >= ctl.measure_from {
            self.ops += 1;
            let us = done
                .saturating_duration_since(sent)
                .as_micros()
                .min(u64::MAX as u128) as u64;
            self.hist.saturating_record(us.max(1));
        }
    }

    pub fn fail(&mut self, ctl: &Control, e: io::Error) {
        self.errors += 1;
        ctl.errors.fetch_add(1, Ordering::Relaxed);
        self.failure = Some(e);
    }

    pub fn merge(&mut self, other: Tally) {
        // Both histograms share the same bounds, so adding cannot fail.
        let _ = self.hist.add(&other.hist);
        self.ops += other.ops;
        self.errors += other.errors;
        for c in other.error_codes {
            if !self.error_codes.contains(&c) {
                self.error_codes.push(c);
            }
        }
        if self.failure.is_none() {
            self.failure = other.failure;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_limit_is_exact_across_callers() {
        let ctl = Control::new(Some(5), Duration::ZERO);
        let taken = (0..10).filter(|_| ctl.take()).count();
        assert_eq!(taken, 5);
        assert!(ctl.stopped());
    }

    #[test]
    fn warmup_operations_are_not_counted() {
        let ctl = Control::new(None, Duration::from_secs(3600));
        let mut t = Tally::default();
        t.record(&ctl, Instant::now(), 0);
        t.record(&ctl, Instant::now(), -101);
        assert_eq!((t.ops, t.errors), (0, 1));
        assert_eq!(ctl.completed.load(Ordering::Relaxed), 2);
        assert_eq!(t.error_codes, vec![-101]);
    }

    #[test]
    fn merge_adds_everything() {
        let ctl = Control::new(None, Duration::ZERO);
        let (mut a, mut b) = (Tally::default(), Tally::default());
        a.record(&ctl, Instant::now(), 0);
        b.record(&ctl, Instant::now(), -110);
        b.fail(&ctl, io::Error::other("gone"));
        a.merge(b);
        assert_eq!((a.ops, a.errors, a.hist.len()), (2, 2, 2));
        assert_eq!(a.error_codes, vec![-110]);
        assert!(a.failure.is_some());
    }
}
