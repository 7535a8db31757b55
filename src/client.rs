//! A minimal ZooKeeper protocol client over any `AsyncRead + AsyncWrite`: the handshake, then
//! one request at a time, with watch events collected as they arrive. The simulator tests use
//! it (real clients cannot run inside one), and so can tools that speak the protocol directly.

use std::io;

use bytes::BytesMut;
use jute::consts::xid;
use jute::frame::{decode_frame, encode_frame};
use jute::proto::{
    ConnectRequest, ConnectResponse, ReplyHeader, Request, RequestHeader, Response, WatcherEvent,
};
use jute::{Jute, Reader};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub struct Client<S> {
    stream: S,
    buf: BytesMut,
    next_xid: i32,
    pub session: ConnectResponse,
    /// Watch events received so far, with the zxid of their header.
    pub events: Vec<(i64, WatcherEvent)>,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// Performs the handshake for a new session.
    pub async fn connect(mut stream: S, timeout_ms: i32) -> io::Result<Client<S>> {
        let req = ConnectRequest {
            timeout: timeout_ms,
            passwd: vec![0u8; 16].into(),
            has_read_only: true,
            ..Default::default()
        };
        let mut out = BytesMut::new();
        encode_frame(&req.to_bytes(), &mut out);
        stream.write_all(&out).await?;
        let mut c = Client {
            stream,
            buf: BytesMut::new(),
            next_xid: 1,
            session: ConnectResponse::default(),
            events: Vec::new(),
        };
        let frame = c.read_frame().await?;
        c.session = ConnectResponse::from_bytes(&frame).map_err(|e| bad(e.to_string()))?;
        if c.session.timeout <= 0 {
            return Err(bad("session expired"));
        }
        Ok(c)
    }

    async fn read_frame(&mut self) -> io::Result<BytesMut> {
        loop {
            if let Some(f) =
                decode_frame(&mut self.buf, usize::MAX >> 1).map_err(|e| bad(e.to_string()))?
            {
                return Ok(f);
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Sends `req` and waits for its reply, collecting any events that come first.
    pub async fn call(&mut self, req: &Request) -> io::Result<(ReplyHeader, Response)> {
        let x = match req {
            Request::Ping => xid::PING,
            Request::Auth(_) => xid::AUTH,
            _ => {
                let x = self.next_xid;
                self.next_xid += 1;
                x
            }
        };
        let mut payload = BytesMut::new();
        RequestHeader {
            xid: x,
            op: req.opcode(),
        }
        .encode(&mut payload);
        req.encode(&mut payload);
        let mut out = BytesMut::new();
        encode_frame(&payload, &mut out);
        self.stream.write_all(&out).await?;
        loop {
            let frame = self.read_frame().await?;
            let mut r = Reader::new(&frame);
            let hdr = ReplyHeader::decode(&mut r).map_err(|e| bad(e.to_string()))?;
            if hdr.xid == xid::NOTIFICATION {
                let ev = WatcherEvent::decode(&mut r).map_err(|e| bad(e.to_string()))?;
                self.events.push((hdr.zxid, ev));
                continue;
            }
            if hdr.xid != x {
                return Err(bad(format!("xid out of order: sent {x}, got {}", hdr.xid)));
            }
            let body = if hdr.err == 0 {
                Response::decode(req.opcode(), &mut r).map_err(|e| bad(e.to_string()))?
            } else {
                Response::Empty
            };
            return Ok((hdr, body));
        }
    }
}
