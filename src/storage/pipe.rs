//! How the core task reaches its txn log without waiting on the disk.
//!
//! A log that blocks (the file log: write + fdatasync) runs on a thread of its own. The core
//! sends it batches and goes on preparing writes and answering reads while a sync is under
//! way; the thread reports the highest zxid each sync made durable, and the core commits up to
//! it. Batches that queue up while a sync runs share the next one (group commit across core
//! turns). A log that does not block (in-memory, simulated, test doubles) runs inline, so a
//! simulated server stays deterministic.

use std::collections::VecDeque;
use std::io;

use tokio::sync::mpsc;

use super::TxnLog;
use crate::pipeline::Proposal;

/// Batches the core may queue ahead of the disk before it waits (backpressure).
const QUEUE: usize = 64;

enum Cmd {
    Append(Vec<Proposal>),
    /// A snapshot started: txns after those already sent go to a new file.
    Roll,
}

pub struct LogPipe<T: TxnLog> {
    mode: Mode<T>,
}

enum Mode<T> {
    Inline {
        log: T,
        done: VecDeque<io::Result<i64>>,
    },
    Thread {
        cmds: mpsc::Sender<Cmd>,
        done: mpsc::UnboundedReceiver<io::Result<i64>>,
    },
}

impl<T: TxnLog> LogPipe<T> {
    pub fn new(log: T) -> LogPipe<T> {
        if !log.blocks() {
            return LogPipe {
                mode: Mode::Inline {
                    log,
                    done: VecDeque::new(),
                },
            };
        }
        let (cmds, rx) = mpsc::channel(QUEUE);
        let (tx, done) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("txn-log".into())
            .spawn(move || run(log, rx, tx))
            .expect("spawning the txn log thread");
        LogPipe {
            mode: Mode::Thread { cmds, done },
        }
    }

    /// Hands a batch to the log, in zxid order after every batch before it.
    pub async fn append(&mut self, proposals: Vec<Proposal>) {
        match &mut self.mode {
            Mode::Inline { log, done } => {
                done.push_back(log.append(&proposals).and_then(|_| log.sync()));
            }
            Mode::Thread { cmds, .. } => {
                // A closed channel means the thread stopped after an error it has reported.
                let _ = cmds.send(Cmd::Append(proposals)).await;
            }
        }
    }

    /// Starts a new log file after everything appended so far.
    pub async fn roll(&mut self) {
        match &mut self.mode {
            Mode::Inline { log, done } => {
                if let Err(e) = log.roll() {
                    done.push_back(Err(e));
                }
            }
            Mode::Thread { cmds, .. } => {
                let _ = cmds.send(Cmd::Roll).await;
            }
        }
    }

    /// The next sync's outcome: the highest zxid now durable, or the error that ended the log.
    /// Pending until there is one, so it can sit in a `select!`.
    pub async fn durable(&mut self) -> io::Result<i64> {
        match &mut self.mode {
            Mode::Inline { done, .. } => match done.pop_front() {
                Some(r) => r,
                None => std::future::pending().await,
            },
            Mode::Thread { done, .. } => match done.recv().await {
                Some(r) => r,
                None => std::future::pending().await,
            },
        }
    }

    /// An outcome that is already in, without waiting.
    pub fn try_durable(&mut self) -> Option<io::Result<i64>> {
        match &mut self.mode {
            Mode::Inline { done, .. } => done.pop_front(),
            Mode::Thread { done, .. } => done.try_recv().ok(),
        }
    }
}

/// The log thread: take every batch queued, write them, one sync, report; until the core
/// hangs up or the log fails (after a failure nothing more is written: the disk's state is
/// unknown).
fn run<T: TxnLog>(
    mut log: T,
    mut cmds: mpsc::Receiver<Cmd>,
    done: mpsc::UnboundedSender<io::Result<i64>>,
) {
    let mut queued = Vec::new();
    while cmds.blocking_recv().map(|c| queued.push(c)).is_some() {
        while let Ok(c) = cmds.try_recv() {
            queued.push(c);
        }
        let mut appended = false;
        let mut outcome = Ok(());
        for cmd in queued.drain(..) {
            outcome = match cmd {
                Cmd::Append(p) => {
                    appended = true;
                    log.append(&p)
                }
                // roll() syncs what the file holds before closing it.
                Cmd::Roll => log.roll(),
            };
            if outcome.is_err() {
                break;
            }
        }
        let report = outcome.and_then(|_| {
            if appended {
                log.sync().map(Some)
            } else {
                Ok(None)
            }
        });
        match report {
            Ok(Some(zxid)) => {
                if done.send(Ok(zxid)).is_err() {
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => {
                let _ = done.send(Err(e));
                return;
            }
        }
    }
}
