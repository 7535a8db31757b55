//! Watch fan-out: N sessions hold a data watch on one node; one more session sets it. An
//! operation is one such round, and its latency is the time from sending the setData until
//! the last of the N notifications has arrived. Watchers re-arm (getData with a watch) after
//! each notification, and the next round starts only when all N are armed again, so every
//! round notifies exactly N sessions.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use jute::consts::event;
use jute::proto::{GetDataRequest, Request, SetDataRequest};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::control::{Control, Tally};
use crate::session::{within, Incoming, Session};

enum Msg {
    Armed,
    Notified(Instant),
    Failed(io::Error),
}

pub struct Fanout {
    pub watchers: Vec<Session>,
    pub driver: Session,
    pub node: String,
    pub value: Bytes,
}

/// Arms the watch, waits for it to fire, reports, and again, until told to stop.
async fn watcher(
    mut s: Session,
    node: String,
    tx: mpsc::Sender<Msg>,
    mut stop: watch::Receiver<bool>,
    patience: Duration,
) {
    // An idle session must ping within a third of its timeout or the server expires it.
    let ping_every = Duration::from_millis((s.response.timeout / 3).max(1) as u64);
    let res: io::Result<()> = async {
        let arm = Request::GetData(GetDataRequest {
            path: node.clone(),
            watch: true,
        });
        'rounds: loop {
            let (err, _) = within(patience, s.call(&arm)).await?;
            if err != 0 {
                return Err(io::Error::other(format!("getData {node}: error {err}")));
            }
            if tx.send(Msg::Armed).await.is_err() {
                break;
            }
            loop {
                tokio::select! {
                    got = s.next() => match got? {
                        Incoming::Event(e) if e.type_ == event::NODE_DATA_CHANGED => {
                            if tx.send(Msg::Notified(Instant::now())).await.is_err() {
                                break 'rounds;
                            }
                            continue 'rounds;
                        }
                        // Ping replies are consumed by the session; other events do not
                        // concern this node.
                        _ => {}
                    },
                    _ = stop.changed() => break 'rounds,
                    _ = tokio::time::sleep(ping_every) => {
                        s.queue_ping();
                        s.flush().await?;
                    }
                }
            }
        }
        within(patience, s.close()).await
    }
    .await;
    if let Err(e) = res {
        let _ = tx.send(Msg::Failed(e)).await;
    }
}

/// Receives the next message, failing on a watcher's error or after `patience`.
async fn recv(rx: &mut mpsc::Receiver<Msg>, patience: Duration) -> io::Result<Msg> {
    match tokio::time::timeout(patience, rx.recv()).await {
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("watchers silent for {patience:?}"),
        )),
        Ok(None) => Err(io::Error::other("every watcher has gone")),
        Ok(Some(Msg::Failed(e))) => Err(e),
        Ok(Some(m)) => Ok(m),
    }
}

/// Runs rounds until the run stops. The tally counts rounds.
pub async fn run(f: Fanout, ctl: Arc<Control>, patience: Duration) -> Tally {
    let n = f.watchers.len();
    // Each watcher has at most one Armed, one Notified and one Failed unread.
    let (tx, mut rx) = mpsc::channel(3 * n);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for s in f.watchers {
        tasks.spawn(watcher(
            s,
            f.node.clone(),
            tx.clone(),
            stop_rx.clone(),
            patience,
        ));
    }
    drop(tx);
    let mut driver = f.driver;
    let mut t = Tally::default();
    let set = Request::SetData(SetDataRequest {
        path: f.node.clone(),
        data: Some(f.value.clone()),
        version: -1,
    });
    let res: io::Result<()> = async {
        let mut armed = 0;
        while ctl.take() {
            while armed < n {
                if let Msg::Armed = recv(&mut rx, patience).await? {
                    armed += 1;
                }
            }
            armed = 0;
            let sent = Instant::now();
            let (err, _) = within(patience, driver.call(&set)).await?;
            if err != 0 {
                return Err(io::Error::other(format!("setData {}: error {err}", f.node)));
            }
            let (mut notified, mut last) = (0, sent);
            while notified < n {
                match recv(&mut rx, patience).await? {
                    Msg::Notified(at) => {
                        notified += 1;
                        last = last.max(at);
                    }
                    // A notified watcher re-arms at once, before the round is over.
                    Msg::Armed => armed += 1,
                    Msg::Failed(_) => unreachable!("recv turns Failed into an error"),
                }
            }
            t.record_until(&ctl, sent, last, 0);
        }
        Ok(())
    }
    .await;
    let _ = stop_tx.send(true);
    // Drain so no watcher blocks on a full channel while stopping.
    let mut failure = res.err();
    while let Ok(Some(m)) = tokio::time::timeout(patience, rx.recv()).await {
        if let (Msg::Failed(e), None) = (m, &failure) {
            failure = Some(e);
        }
    }
    while tasks.join_next().await.is_some() {}
    if let Err(e) = within(patience, driver.close()).await {
        failure.get_or_insert(e);
    }
    if let Some(e) = failure {
        t.fail(&ctl, e);
    }
    t
}
