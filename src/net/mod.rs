//! The client port: accepting connections (at most `maxClientCnxns` per client address),
//! framing, four-letter-word detection, the handshake, and each connection's bounded outbound
//! queue. Protocol code is generic over `AsyncRead + AsyncWrite`, and connections arrive
//! through the [`Listener`] seam, so the same code runs on tokio and inside a simulator.

mod conn;
mod outbound;

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

pub use conn::{serve_conn, ConnLimits};

use crate::server::CoreMsg;

/// Where connections come from.
pub trait Listener: Send + 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn accept(&mut self) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>> + Send;
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

impl Listener for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;

    async fn accept(&mut self) -> io::Result<(Self::Stream, SocketAddr)> {
        let (s, a) = tokio::net::TcpListener::accept(self).await?;
        // Replies are small and latency-bound; the writer batches on its own.
        let _ = s.set_nodelay(true);
        Ok((s, a))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::TcpListener::local_addr(self)
    }
}

/// Accepts connections forever, one task each.
pub async fn accept_loop<L: Listener>(
    mut listener: L,
    core: mpsc::Sender<CoreMsg>,
    limits: ConnLimits,
    max_per_ip: u32,
) {
    let per_ip: Arc<Mutex<HashMap<IpAddr, u32>>> = Arc::default();
    let mut next_id: u64 = 1;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        {
            let mut m = per_ip.lock().expect("not poisoned");
            let n = m.entry(peer.ip()).or_insert(0);
            if max_per_ip > 0 && *n >= max_per_ip {
                tracing::warn!(%peer, max = max_per_ip, "too many connections from this address; closing");
                drop(stream);
                continue;
            }
            *n += 1;
        }
        let id = next_id;
        next_id += 1;
        let core = core.clone();
        let per_ip = per_ip.clone();
        let limits = limits.clone();
        tokio::spawn(async move {
            serve_conn(stream, Some(peer), id, core, limits).await;
            let mut m = per_ip.lock().expect("not poisoned");
            if let Some(n) = m.get_mut(&peer.ip()) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&peer.ip());
                }
            }
        });
    }
}
