//! Session establishment rate: each worker opens a connection, completes the handshake (the
//! timed part: TCP connect, ConnectRequest, the server's createSession, ConnectResponse) and
//! then closes the session, so sessions do not pile up on the server until they expire.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::control::{Control, Tally};
use crate::session::{within, Session};

pub async fn worker(
    addr: SocketAddr,
    timeout_ms: i32,
    ctl: Arc<Control>,
    patience: Duration,
) -> Tally {
    let mut t = Tally::default();
    while ctl.take() {
        let sent = Instant::now();
        let res = async {
            let s = within(patience, Session::connect(addr, timeout_ms, 1)).await?;
            t.record(&ctl, sent, 0);
            within(patience, s.close()).await
        }
        .await;
        if let Err(e) = res {
            // A refused or broken handshake ends this worker: against a dead server it would
            // otherwise spin, and the run is failed either way.
            t.fail(&ctl, e);
            break;
        }
    }
    t
}
