//! One client connection: the first four bytes decide between a four-letter word and the
//! handshake; then frames are read, decoded and handed to the core in order.

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use bytes::BytesMut;
use jute::consts::op;
use jute::frame::{decode_frame, peek_len};
use jute::proto::{ConnectRequest, Request, RequestHeader};
use jute::{Error as JuteError, Jute, Reader};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_util::sync::CancellationToken;

use super::outbound::{write_loop, ChannelSink};
use crate::admin::fourlw;
use crate::pipeline::Incoming;
use crate::server::CoreMsg;

#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// jute.maxbuffer: the largest frame accepted.
    pub max_frame: usize,
    /// Bytes of replies and events queued for one connection before it is cut.
    pub max_outbound: usize,
    /// Requests a connection may have outstanding before we stop reading from it.
    pub max_outstanding: usize,
    /// Which four-letter words are answered (`None`: all).
    pub four_letter_whitelist: Option<Vec<String>>,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_frame: jute::DEFAULT_MAX_BUFFER,
            max_outbound: 8 << 20,
            max_outstanding: 1000,
            four_letter_whitelist: Some(vec!["srvr".into()]),
        }
    }
}

/// Reads until a whole frame is buffered. `None` at EOF, on a read error or a bad length.
async fn next_frame<R: AsyncRead + Unpin>(
    rd: &mut R,
    buf: &mut BytesMut,
    max: usize,
) -> Option<BytesMut> {
    loop {
        match decode_frame(buf, max) {
            Ok(Some(f)) => return Some(f),
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(error = %e, "closing connection on a bad frame");
                return None;
            }
        }
        match rd.read_buf(buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Decodes a request frame into what the core takes.
fn decode_request(frame: &[u8], max: usize) -> Option<(i32, Incoming)> {
    let mut r = Reader::with_limit(frame, max);
    let hdr = RequestHeader::decode(&mut r).ok()?;
    // Opcodes a client may not send: the check op outside multi, notifications, the
    // server's own session and container ops.
    if matches!(
        hdr.op,
        op::CHECK | op::NOTIFICATION | op::DELETE_CONTAINER | op::CREATE_SESSION
    ) {
        return Some((hdr.xid, Incoming::Unimplemented(hdr.op)));
    }
    let incoming = match Request::decode(hdr.op, &mut r) {
        Ok(req) => Incoming::Request(req),
        Err(JuteError::Unknown { what: "opcode", .. }) => Incoming::Unimplemented(hdr.op),
        Err(_) => Incoming::Malformed(hdr.op),
    };
    Some((hdr.xid, incoming))
}

/// After a graceful close: read and discard until the peer closes too (bounded), so the
/// socket is never dropped with unread data.
async fn drain<R: AsyncRead + Unpin>(rd: &mut R) {
    let mut scratch = [0u8; 4096];
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
        while let Ok(n) = rd.read(&mut scratch).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

pub async fn serve_conn<S>(
    stream: S,
    peer: Option<SocketAddr>,
    conn: u64,
    core: mpsc::Sender<CoreMsg>,
    limits: ConnLimits,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut buf = BytesMut::with_capacity(4096);
    while buf.len() < 4 {
        match rd.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
    if let Some(word) = peek_len(&buf).and_then(fourlw::word_of) {
        let text = if limits
            .four_letter_whitelist
            .as_ref()
            .is_none_or(|w| w.iter().any(|x| x == word))
        {
            let (tx, rx) = oneshot::channel();
            if core
                .send(CoreMsg::FourLetter {
                    word,
                    peer,
                    reply: tx,
                })
                .await
                .is_err()
            {
                return;
            }
            rx.await.unwrap_or_default()
        } else {
            format!("{word} is not executed because it is not in the whitelist.\n")
        };
        let _ = wr.write_all(text.as_bytes()).await;
        let _ = wr.shutdown().await;
        return;
    }

    // The handshake: the first frame is a ConnectRequest.
    let Some(frame) = next_frame(&mut rd, &mut buf, limits.max_frame).await else {
        return;
    };
    let Ok(req) = ConnectRequest::decode(&mut Reader::with_limit(&frame, limits.max_frame)) else {
        tracing::debug!(
            conn,
            "closing connection: first frame is not a ConnectRequest"
        );
        return;
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let cut = CancellationToken::new();
    let closing = CancellationToken::new();
    let slots = Arc::new(Semaphore::new(limits.max_outstanding));
    let sink = ChannelSink {
        tx,
        queued: queued.clone(),
        limit: limits.max_outbound,
        cut: cut.clone(),
    };
    tokio::spawn(write_loop(
        wr,
        rx,
        queued,
        slots.clone(),
        cut.clone(),
        closing.clone(),
    ));
    if core
        .send(CoreMsg::Connect {
            conn,
            peer,
            req,
            sink: Box::new(sink),
        })
        .await
        .is_err()
    {
        return;
    }

    loop {
        let frame = tokio::select! {
            f = next_frame(&mut rd, &mut buf, limits.max_frame) => f,
            _ = cut.cancelled() => None,
            _ = closing.cancelled() => {
                drain(&mut rd).await;
                None
            }
        };
        let Some(frame) = frame else { break };
        let Some((xid, incoming)) = decode_request(&frame, limits.max_frame) else {
            break;
        };
        // Backpressure: stop reading while too many replies are owed.
        let permit = tokio::select! {
            p = slots.acquire() => p,
            _ = cut.cancelled() => break,
            _ = closing.cancelled() => {
                drain(&mut rd).await;
                break;
            }
        };
        match permit {
            Ok(p) => p.forget(),
            Err(_) => break,
        }
        if core
            .send(CoreMsg::Request {
                conn,
                xid,
                incoming,
            })
            .await
            .is_err()
        {
            break;
        }
    }
    cut.cancel();
    let _ = core.send(CoreMsg::Disconnect { conn }).await;
}
