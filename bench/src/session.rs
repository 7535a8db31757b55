//! A pipelined ZooKeeper session: many requests written before their replies are read, the
//! replies matched to them by xid in send order.
//!
//! ZooKeeper answers a session's requests in the order they were sent, so the reply to read
//! next always belongs to the oldest request in flight; a reply with any other xid means the
//! server broke that promise and is an error, not something to search for. Watch events
//! (xid -1) and ping replies (xid -2) come between replies and are handed out or dropped.
//! Reply bodies are not decoded on the hot path: the bench needs the error code and the time,
//! and decoding would spend the client's CPU on figures nobody reads.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use jute::consts::xid;
use jute::frame::{decode_frame, encode_frame};
use jute::proto::{
    ConnectRequest, ConnectResponse, ReplyHeader, Request, RequestHeader, WatcherEvent,
};
use jute::{Jute, Reader, DEFAULT_MAX_BUFFER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest reply frame accepted. Java's client takes jute.maxbuffer plus a little; a
/// getChildren of many children is the largest thing the bench asks for.
const MAX_FRAME: usize = DEFAULT_MAX_BUFFER + 4096;

/// A request that has been written and awaits its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub xid: i32,
    pub opcode: i32,
    pub sent: Instant,
    /// The workload's own label for the request (e.g. read or write in a mix).
    pub tag: u8,
}

/// What the server sent next.
#[derive(Debug)]
pub enum Incoming {
    /// The reply to `pending`; `body` is the undecoded payload after the header.
    Reply {
        pending: Pending,
        err: i32,
        body: Bytes,
    },
    /// A watch notification.
    Event(WatcherEvent),
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

pub struct Session {
    stream: TcpStream,
    rbuf: BytesMut,
    wbuf: BytesMut,
    scratch: BytesMut,
    next_xid: i32,
    inflight: VecDeque<Pending>,
    /// Ping replies still owed; they carry no Pending and are dropped on arrival.
    pings: u32,
    max_outstanding: usize,
    pub response: ConnectResponse,
}

impl Session {
    /// Opens a TCP connection and performs the handshake for a new session.
    pub async fn connect(
        addr: SocketAddr,
        timeout_ms: i32,
        max_outstanding: usize,
    ) -> io::Result<Session> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut s = Session {
            stream,
            rbuf: BytesMut::with_capacity(64 * 1024),
            wbuf: BytesMut::with_capacity(16 * 1024),
            scratch: BytesMut::new(),
            next_xid: 1,
            inflight: VecDeque::with_capacity(max_outstanding),
            pings: 0,
            max_outstanding: max_outstanding.max(1),
            response: ConnectResponse::default(),
        };
        let req = ConnectRequest {
            timeout: timeout_ms,
            passwd: vec![0u8; 16].into(),
            has_read_only: true,
            ..Default::default()
        };
        encode_frame(&req.to_bytes(), &mut s.wbuf);
        s.flush().await?;
        let frame = s.read_frame().await?;
        s.response = ConnectResponse::from_bytes(&frame).map_err(|e| bad(e.to_string()))?;
        if s.response.timeout <= 0 {
            return Err(bad("the server refused the session (timeout 0)"));
        }
        Ok(s)
    }

    /// Requests written or queued whose replies have not been read.
    pub fn outstanding(&self) -> usize {
        self.inflight.len()
    }

    /// Whether another request may be queued without passing the outstanding limit.
    pub fn has_room(&self) -> bool {
        self.inflight.len() < self.max_outstanding
    }

    /// Encodes `req` into the write buffer (sent by the next [`flush`](Self::flush)) and
    /// returns its xid. Errors when the session already has its limit in flight: the limit is
    /// the only thing bounding the write buffer and the in-flight queue.
    pub fn queue(&mut self, req: &Request, tag: u8) -> io::Result<i32> {
        if !self.has_room() {
            return Err(io::Error::other("outstanding request limit reached"));
        }
        let x = self.next_xid;
        // Positive xids only: the negative ones are reserved for pings, auth and events.
        self.next_xid = if x == i32::MAX { 1 } else { x + 1 };
        let opcode = req.opcode();
        self.scratch.clear();
        RequestHeader { xid: x, op: opcode }.encode(&mut self.scratch);
        req.encode(&mut self.scratch);
        encode_frame(&self.scratch, &mut self.wbuf);
        self.inflight.push_back(Pending {
            xid: x,
            opcode,
            sent: Instant::now(),
            tag,
        });
        Ok(x)
    }

    /// Queues a ping, which keeps an otherwise idle session alive. At most one is owed at a
    /// time, so pings cannot pile up.
    pub fn queue_ping(&mut self) {
        if self.pings > 0 {
            return;
        }
        self.scratch.clear();
        RequestHeader {
            xid: xid::PING,
            op: jute::consts::op::PING,
        }
        .encode(&mut self.scratch);
        encode_frame(&self.scratch, &mut self.wbuf);
        self.pings += 1;
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            self.stream.write_all(&self.wbuf).await?;
            self.wbuf.clear();
        }
        Ok(())
    }

    /// Whether a whole frame is already buffered, i.e. [`next`](Self::next) will not wait.
    pub fn frame_buffered(&self) -> bool {
        jute::frame::peek_len(&self.rbuf)
            .is_some_and(|len| len >= 0 && self.rbuf.len() >= 4 + len as usize)
    }

    async fn read_frame(&mut self) -> io::Result<BytesMut> {
        loop {
            if let Some(f) =
                decode_frame(&mut self.rbuf, MAX_FRAME).map_err(|e| bad(e.to_string()))?
            {
                return Ok(f);
            }
            if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ));
            }
        }
    }

    /// Reads the next reply or event. Ping replies are consumed here.
    pub async fn next(&mut self) -> io::Result<Incoming> {
        loop {
            let frame = self.read_frame().await?.freeze();
            let mut r = Reader::new(&frame);
            let hdr = ReplyHeader::decode(&mut r).map_err(|e| bad(e.to_string()))?;
            let body = frame.slice(r.position()..);
            match hdr.xid {
                xid::NOTIFICATION => {
                    let ev = WatcherEvent::from_bytes(&body).map_err(|e| bad(e.to_string()))?;
                    return Ok(Incoming::Event(ev));
                }
                xid::PING => {
                    self.pings = self.pings.saturating_sub(1);
                    continue;
                }
                x => {
                    let pending = match_reply(&mut self.inflight, x)?;
                    return Ok(Incoming::Reply {
                        pending,
                        err: hdr.err,
                        body,
                    });
                }
            }
        }
    }

    /// Sends `req` and waits for its reply, keeping events that arrive first out of the way
    /// (the caller is not pipelining, so nothing else can be in flight).
    pub async fn call(&mut self, req: &Request) -> io::Result<(i32, Bytes)> {
        self.queue(req, 0)?;
        self.flush().await?;
        loop {
            if let Incoming::Reply { err, body, .. } = self.next().await? {
                return Ok((err, body));
            }
        }
    }

    /// Closes the session on the server (so it does not linger until its timeout) and then
    /// the connection. Replies still in flight are read and discarded first.
    pub async fn close(mut self) -> io::Result<()> {
        self.flush().await?;
        while !self.inflight.is_empty() {
            self.next().await?;
        }
        self.call(&Request::CloseSession).await?;
        self.stream.shutdown().await
    }
}

/// `fut`, or a TimedOut error if it takes longer than `patience`: a server that stops
/// answering must end the run with an error, not hang it.
pub async fn within<T>(
    patience: Duration,
    fut: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::time::timeout(patience, fut)
        .await
        .unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no answer from the server in {patience:?}"),
            ))
        })
}

/// Takes the oldest in-flight request if `xid` is its reply; anything else is a protocol
/// error, because replies arrive in send order.
fn match_reply(inflight: &mut VecDeque<Pending>, xid: i32) -> io::Result<Pending> {
    match inflight.front() {
        Some(p) if p.xid == xid => Ok(inflight.pop_front().expect("front exists")),
        Some(p) => Err(bad(format!(
            "reply out of order: expected xid {}, got {xid}",
            p.xid
        ))),
        None => Err(bad(format!("reply with xid {xid} to nothing in flight"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(xid: i32) -> Pending {
        Pending {
            xid,
            opcode: 4,
            sent: Instant::now(),
            tag: 0,
        }
    }

    #[test]
    fn replies_match_in_send_order() {
        let mut q: VecDeque<Pending> = (1..=3).map(pending).collect();
        assert_eq!(match_reply(&mut q, 1).unwrap().xid, 1);
        assert_eq!(match_reply(&mut q, 2).unwrap().xid, 2);
        assert_eq!(q.len(), 1);
    }

    /// Many requests of two kinds in flight at once on a real server: every reply comes back
    /// matched to its own request (by xid, in order), with the error code that request earns.
    #[tokio::test]
    async fn pipelined_replies_match_their_requests_on_a_real_server() {
        use jute::consts::{create_mode, event, ErrorCode};
        use jute::data::Acl;
        use jute::proto::{CreateRequest, ExistsRequest, GetDataRequest, SetDataRequest};

        let addr = crate::test_server::start().await;
        let mut s = Session::connect(addr, 10_000, 200).await.unwrap();
        let (err, _) = s
            .call(&Request::Create(CreateRequest {
                path: "/p".into(),
                data: Some(Bytes::from_static(b"v")),
                acl: vec![Acl::new(jute::consts::perms::ALL, "world", "anyone")],
                flags: create_mode::PERSISTENT,
            }))
            .await
            .unwrap();
        assert_eq!(err, 0);
        let mut sent = Vec::new();
        for i in 0..200u32 {
            let (req, tag) = if i % 3 == 0 {
                let r = ExistsRequest {
                    path: "/missing".into(),
                    watch: false,
                };
                (Request::Exists(r), 1)
            } else {
                let r = GetDataRequest {
                    path: "/p".into(),
                    watch: i == 199,
                };
                (Request::GetData(r), 0)
            };
            sent.push((s.queue(&req, tag).unwrap(), tag));
        }
        assert!(!s.has_room());
        assert!(
            s.queue(&Request::Ping, 0).is_err(),
            "the limit bounds the queue"
        );
        s.flush().await.unwrap();
        for (xid, tag) in sent {
            let Incoming::Reply { pending, err, body } = s.next().await.unwrap() else {
                panic!("no watch was triggered yet");
            };
            assert_eq!((pending.xid, pending.tag), (xid, tag));
            if tag == 1 {
                assert_eq!(err, ErrorCode::NoNode.code());
            } else {
                assert_eq!(err, 0);
                let r = jute::proto::GetDataResponse::from_bytes(&body).unwrap();
                assert_eq!(r.data.as_deref(), Some(&b"v"[..]));
            }
        }
        assert_eq!(s.outstanding(), 0);

        // The last getData left a watch: another session's setData fires it.
        let mut other = Session::connect(addr, 10_000, 1).await.unwrap();
        let set = SetDataRequest {
            path: "/p".into(),
            data: None,
            version: -1,
        };
        assert_eq!(other.call(&Request::SetData(set)).await.unwrap().0, 0);
        match s.next().await.unwrap() {
            Incoming::Event(e) => {
                assert_eq!((e.type_, e.path.as_str()), (event::NODE_DATA_CHANGED, "/p"))
            }
            other => panic!("expected the watch event, got {other:?}"),
        }
        s.queue_ping();
        s.queue_ping();
        let (err, _) = s
            .call(&Request::Sync(jute::proto::SyncRequest {
                path: "/".into(),
            }))
            .await
            .unwrap();
        assert_eq!(
            err, 0,
            "the ping reply was consumed, the sync reply matched"
        );
        s.close().await.unwrap();
        other.close().await.unwrap();
    }

    #[test]
    fn out_of_order_or_unsolicited_replies_are_errors() {
        let mut q: VecDeque<Pending> = (1..=3).map(pending).collect();
        let e = match_reply(&mut q, 2).unwrap_err();
        assert!(e.to_string().contains("expected xid 1, got 2"), "{e}");
        assert_eq!(q.len(), 3, "a mismatch consumes nothing");
        let mut empty = VecDeque::new();
        assert!(match_reply(&mut empty, 7).is_err());
    }
}
