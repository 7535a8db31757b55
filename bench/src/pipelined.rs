//! The driver of the request/reply workloads: keeps `--outstanding` requests in flight on a
//! session, refilling as replies arrive.

use std::sync::Arc;
use std::time::Duration;

use crate::control::{Control, Tally};
use crate::ops::OpGen;
use crate::session::{within, Incoming, Session};

/// Runs one session until the run stops and its in-flight requests are answered, then closes
/// the session. The generator comes back so the caller can clean up what it created.
pub async fn drive(
    mut s: Session,
    mut gen: OpGen,
    ctl: Arc<Control>,
    patience: Duration,
) -> (Tally, OpGen) {
    let mut t = Tally::default();
    let res = async {
        loop {
            // Refill only when no reply is waiting in the buffer: one write then carries many
            // requests, instead of a syscall per reply.
            if !s.frame_buffered() {
                while s.has_room() && ctl.take() {
                    let (req, tag) = gen.next();
                    s.queue(&req, tag)?;
                }
                s.flush().await?;
            }
            if s.outstanding() == 0 {
                break;
            }
            if let Incoming::Reply { pending, err, .. } = within(patience, s.next()).await? {
                t.record(&ctl, pending.sent, err);
            }
        }
        within(patience, s.close()).await
    }
    .await;
    if let Err(e) = res {
        t.fail(&ctl, e);
    }
    (t, gen)
}
