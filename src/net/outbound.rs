//! A connection's outbound side: the core pushes [`OutMsg`]s into a [`ChannelSink`], the
//! writer task encodes whatever has piled up into one buffer and writes it in one go.
//! Queued bytes are counted; past the bound the connection is cut rather than buffered
//! without limit (a client that stops reading cannot exhaust memory).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use jute::consts::xid;
use jute::proto::{ReplyHeader, WatcherEvent};
use jute::Jute;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::pipeline::{OutMsg, Sink};

pub struct ChannelSink {
    pub tx: mpsc::UnboundedSender<OutMsg>,
    pub queued: Arc<AtomicUsize>,
    pub limit: usize,
    pub cut: CancellationToken,
}

impl Sink for ChannelSink {
    fn send(&mut self, msg: OutMsg) -> bool {
        let size = msg.size_hint();
        if !matches!(msg, OutMsg::Close) && self.queued.load(Ordering::Relaxed) + size > self.limit
        {
            self.cut.cancel();
            return false;
        }
        self.queued.fetch_add(size, Ordering::Relaxed);
        // A closed channel means the writer is gone; the reader reports the disconnect.
        let _ = self.tx.send(msg);
        true
    }
}

/// Appends one framed message.
pub fn encode(msg: &OutMsg, out: &mut BytesMut) {
    let start = out.len();
    out.put_i32(0);
    match msg {
        OutMsg::Connected(r) => r.encode(out),
        OutMsg::Reply {
            xid,
            zxid,
            err,
            body,
        } => {
            ReplyHeader {
                xid: *xid,
                zxid: *zxid,
                err: *err,
            }
            .encode(out);
            if *err == 0 {
                body.encode(out);
            }
        }
        OutMsg::Event { zxid, event } => {
            ReplyHeader {
                xid: xid::NOTIFICATION,
                zxid: *zxid,
                err: 0,
            }
            .encode(out);
            WatcherEvent::encode(event, out);
        }
        OutMsg::Close => {}
    }
    let len = (out.len() - start - 4) as i32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

const BATCH_BYTES: usize = 64 * 1024;

/// Writes until the core says Close (after flushing), the channel ends, or the connection is
/// cut. Each written reply frees one slot of the reader's outstanding-request budget.
/// `closing` is cancelled after a graceful close (the core's Close, flushed, FIN sent): the
/// reader then drains what the peer still sends instead of dropping the socket, since closing
/// with unread data makes the kernel send a RST, and a RST destroys the final reply (an
/// AUTHFAILED, a closeSession answer) before the client reads it.
pub async fn write_loop<W: AsyncWrite + Unpin>(
    mut wr: W,
    mut rx: mpsc::UnboundedReceiver<OutMsg>,
    queued: Arc<AtomicUsize>,
    slots: Arc<Semaphore>,
    cut: CancellationToken,
    closing: CancellationToken,
) {
    let mut out = BytesMut::with_capacity(16 * 1024);
    let mut graceful = false;
    'outer: loop {
        let first = tokio::select! {
            m = rx.recv() => m,
            _ = cut.cancelled() => break,
        };
        let Some(mut msg) = first else { break };
        let mut close = false;
        let mut replies = 0;
        loop {
            queued.fetch_sub(msg.size_hint(), Ordering::Relaxed);
            match &msg {
                OutMsg::Close => {
                    close = true;
                    break;
                }
                OutMsg::Reply { .. } => replies += 1,
                _ => {}
            }
            encode(&msg, &mut out);
            if out.len() >= BATCH_BYTES {
                break;
            }
            match rx.try_recv() {
                Ok(m) => msg = m,
                Err(_) => break,
            }
        }
        if !out.is_empty() {
            tokio::select! {
                r = wr.write_all(&out) => if r.is_err() { break 'outer },
                _ = cut.cancelled() => break 'outer,
            }
            out.clear();
        }
        slots.add_permits(replies);
        if close {
            graceful = true;
            break;
        }
    }
    let _ = wr.shutdown().await;
    if graceful {
        closing.cancel();
    } else {
        cut.cancel();
    }
}
