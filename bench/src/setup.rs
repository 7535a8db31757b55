//! Creates the znodes a workload reads or writes before it is timed.

use std::io;

use bytes::Bytes;
use jute::consts::{create_mode, perms, ErrorCode};
use jute::data::{Acl, Stat};
use jute::proto::{CreateRequest, DeleteRequest, ExistsRequest, Request};
use jute::Jute;

use crate::args::Workload;
use crate::ops::Layout;
use crate::session::{Incoming, Session};

fn create_req(path: String, data: Bytes) -> Request {
    Request::Create(CreateRequest {
        path,
        data: Some(data),
        acl: vec![Acl::new(perms::ALL, "world", "anyone")],
        flags: create_mode::PERSISTENT,
    })
}

/// Sends every request, pipelined, in order; an error code other than 0 and `tolerated` ends
/// it with an error.
async fn send_all(
    s: &mut Session,
    mut reqs: impl Iterator<Item = Request>,
    tolerated: ErrorCode,
) -> io::Result<()> {
    loop {
        while s.has_room() {
            let Some(req) = reqs.next() else { break };
            s.queue(&req, 0)?;
        }
        s.flush().await?;
        if s.outstanding() == 0 {
            return Ok(());
        }
        if let Incoming::Reply { err, pending, .. } = s.next().await? {
            if err != 0 && err != tolerated.code() {
                return Err(io::Error::other(format!(
                    "setup or clean-up request (opcode {}) failed with ZooKeeper error {err}",
                    pending.opcode
                )));
            }
        }
    }
}

/// Creates every path (parents first, in order); a path that already exists is fine.
async fn ensure(s: &mut Session, paths: impl Iterator<Item = (String, Bytes)>) -> io::Result<()> {
    let reqs = paths.map(|(p, data)| create_req(p, data));
    send_all(s, reqs, ErrorCode::NodeExists).await
}

/// Deletes every path (children before parents); a path already gone is fine.
pub async fn remove(s: &mut Session, paths: impl Iterator<Item = String>) -> io::Result<()> {
    let reqs = paths.map(|path| Request::Delete(DeleteRequest { path, version: -1 }));
    send_all(s, reqs, ErrorCode::NoNode).await
}

/// The Stat of `path`, None if it does not exist.
async fn stat(s: &mut Session, path: &str) -> io::Result<Option<Stat>> {
    let (err, body) = s
        .call(&Request::Exists(ExistsRequest {
            path: path.into(),
            watch: false,
        }))
        .await?;
    if err == ErrorCode::NoNode.code() {
        return Ok(None);
    }
    if err != 0 {
        return Err(io::Error::other(format!("exists {path}: error {err}")));
    }
    Stat::from_bytes(&body)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

/// Ensures `dir` holds the `n` children named by `name(i)`. When the directory already
/// has that many (a previous run made them) nothing is sent, so a repeated run does not spend
/// thousands of failing creates — each of which is a logged txn — before it starts.
async fn ensure_dir_of(
    s: &mut Session,
    dir: String,
    n: u32,
    name: impl Fn(u32) -> String,
    value: &Bytes,
) -> io::Result<()> {
    let have = stat(s, &dir).await?.map_or(0, |st| st.num_children);
    if have == n as i32 && stat(s, &name(n - 1)).await?.is_some() {
        return Ok(());
    }
    ensure(
        s,
        std::iter::once((dir, Bytes::new())).chain((0..n).map(|i| (name(i), value.clone()))),
    )
    .await
}

pub struct SetupParams<'a> {
    pub layout: &'a Layout,
    pub workload: Workload,
    pub keys: u32,
    pub children: u32,
    pub value: &'a Bytes,
}

/// Makes the tree the workload expects.
pub async fn prepare(s: &mut Session, p: &SetupParams<'_>) -> io::Result<()> {
    let l = p.layout;
    // The root and its ancestors.
    let mut parents = Vec::new();
    let mut at = 0;
    while let Some(i) = l.root[at + 1..].find('/') {
        at += 1 + i;
        parents.push((l.root[..at].to_string(), Bytes::new()));
    }
    parents.push((l.root.clone(), Bytes::new()));
    ensure(s, parents.into_iter()).await?;
    match p.workload {
        Workload::Set | Workload::Get | Workload::Exists | Workload::Mixed | Workload::Multi => {
            ensure_dir_of(s, l.keys_dir(), p.keys, |i| l.key(i), p.value).await
        }
        Workload::Children => {
            let n = p.children;
            ensure_dir_of(s, l.children_dir(n), n, |i| l.child(n, i), p.value).await
        }
        Workload::Create => ensure(s, std::iter::once((l.create_dir(), Bytes::new()))).await,
        Workload::Churn => ensure(s, std::iter::once((l.churn_dir(), Bytes::new()))).await,
        Workload::Fanout => ensure(s, std::iter::once((l.watch_node(), p.value.clone()))).await,
        Workload::Connect | Workload::Fsync => Ok(()),
    }
}
