//! The read path: requests answered from the local tree, in the session's order. Checks and
//! watch registration follow FinalRequestProcessor: exists sets its watch even on NONODE, the
//! others only when the node exists and the caller may READ it.

use jute::consts::{add_watch_mode, event, op, perms, state, ErrorCode};
use jute::proto::*;

use super::{Core, OutMsg};
use crate::auth;
use crate::tree::Node;
use crate::watch::{ConnId, Selector, Table};

type R = Result<Response, ErrorCode>;

impl Core {
    pub(super) fn read(&mut self, conn: ConnId, sid: i64, req: Request) -> (ErrorCode, Response) {
        let r = match self.check_session(sid) {
            Ok(()) => self.read_inner(conn, sid, req),
            Err(e) => Err(e),
        };
        match r {
            Ok(body) => (ErrorCode::Ok, body),
            Err(e) => (e, Response::Empty),
        }
    }

    fn auth_of(&self, conn: ConnId) -> &[jute::data::Id] {
        self.conns
            .get(&conn)
            .map(|c| c.auth.as_slice())
            .unwrap_or_default()
    }

    fn can(&self, conn: ConnId, node: &Node, perm: i32) -> Result<(), ErrorCode> {
        if self.cfg.skip_acl {
            return Ok(());
        }
        auth::check(&self.tree.acl_of(node), self.auth_of(conn), perm)
    }

    fn get_data(
        &mut self,
        conn: ConnId,
        path: &str,
        watch: bool,
    ) -> Result<GetDataResponse, ErrorCode> {
        let node = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        self.can(conn, node, perms::READ)?;
        let resp = GetDataResponse {
            data: node.data.clone(),
            stat: self.tree.stat(node),
        };
        if watch {
            self.watches.add_standard(Table::Data, path, conn);
        }
        Ok(resp)
    }

    fn get_children(
        &mut self,
        conn: ConnId,
        path: &str,
        watch: bool,
    ) -> Result<(Vec<String>, jute::data::Stat), ErrorCode> {
        let node = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        self.can(conn, node, perms::READ)?;
        let children = node.children.iter().map(|c| c.to_string()).collect();
        let stat = self.tree.stat(node);
        if watch {
            self.watches.add_standard(Table::Child, path, conn);
        }
        Ok((children, stat))
    }

    fn read_inner(&mut self, conn: ConnId, sid: i64, req: Request) -> R {
        let removing = matches!(req, Request::RemoveWatches(_));
        match req {
            Request::Ping => Ok(Response::Empty),
            Request::Exists(r) => {
                if r.path.contains('\0') {
                    return Err(ErrorCode::BadArguments);
                }
                if let Some(node) = self.tree.get(&r.path) {
                    self.can(conn, node, perms::READ)?;
                }
                if r.watch {
                    self.watches.add_standard(Table::Data, &r.path, conn);
                }
                let node = self.tree.get(&r.path).ok_or(ErrorCode::NoNode)?;
                Ok(Response::Stat(self.tree.stat(node)))
            }
            Request::GetData(r) => Ok(Response::GetData(self.get_data(conn, &r.path, r.watch)?)),
            Request::GetChildren(r) => Ok(Response::GetChildren(GetChildrenResponse {
                children: self.get_children(conn, &r.path, r.watch)?.0,
            })),
            Request::GetChildren2(r) => {
                let (children, stat) = self.get_children(conn, &r.path, r.watch)?;
                Ok(Response::GetChildren2(GetChildren2Response {
                    children,
                    stat,
                }))
            }
            Request::GetAcl(r) => {
                let node = self.tree.get(&r.path).ok_or(ErrorCode::NoNode)?;
                self.can(conn, node, perms::READ | perms::ADMIN)?;
                let acl = self.tree.acl_of(node);
                let stat = self.tree.stat(node);
                let acl = if self.can(conn, node, perms::ADMIN).is_ok() {
                    acl.to_vec()
                } else {
                    auth::mask_digests(&acl)
                };
                Ok(Response::GetAcl(GetAclResponse { acl, stat }))
            }
            Request::GetAllChildrenNumber(r) => {
                let node = self.tree.get(&r.path).ok_or(ErrorCode::NoNode)?;
                self.can(conn, node, perms::READ)?;
                Ok(Response::GetAllChildrenNumber(
                    GetAllChildrenNumberResponse {
                        total_number: self.tree.descendants(&r.path) as i32,
                    },
                ))
            }
            Request::GetEphemerals(r) => {
                let prefix = r.prefix_path.trim();
                let all = prefix.is_empty() || prefix == "/";
                let ephemerals = self
                    .tree
                    .ephemerals_of(sid)
                    .filter(|p| all || p.starts_with(&r.prefix_path))
                    .cloned()
                    .collect();
                Ok(Response::GetEphemerals(GetEphemeralsResponse {
                    ephemerals,
                }))
            }
            Request::WhoAmI => {
                let client_info = self
                    .auth_of(conn)
                    .iter()
                    .map(|id| ClientInfo {
                        auth_scheme: id.scheme.clone(),
                        user: match id.scheme.as_str() {
                            "digest" => id.id.split(':').next().unwrap_or_default().to_owned(),
                            "ip" => id.id.clone(),
                            _ => String::new(),
                        },
                    })
                    .collect();
                Ok(Response::WhoAmI(WhoAmIResponse { client_info }))
            }
            Request::AddWatch(r) => {
                match r.mode {
                    add_watch_mode::PERSISTENT => self.watches.add_persistent(&r.path, conn, false),
                    add_watch_mode::PERSISTENT_RECURSIVE => {
                        self.watches.add_persistent(&r.path, conn, true)
                    }
                    _ => return Err(ErrorCode::MarshallingError),
                }
                Ok(Response::AddWatch)
            }
            // checkWatches only looks; removeWatches removes. Nothing matching is NOWATCHER.
            Request::CheckWatches(CheckWatchesRequest { path, type_ })
            | Request::RemoveWatches(RemoveWatchesRequest { path, type_ }) => {
                let sel = Selector::from_type(type_).ok_or(ErrorCode::MarshallingError)?;
                if self.watches.remove(&path, conn, sel, removing) {
                    Ok(Response::Empty)
                } else {
                    Err(ErrorCode::NoWatcher)
                }
            }
            Request::SetWatches(w) => {
                self.set_watches(
                    conn,
                    w.relative_zxid,
                    &w.data_watches,
                    &w.exist_watches,
                    &w.child_watches,
                    &[],
                    &[],
                );
                Ok(Response::Empty)
            }
            Request::SetWatches2(w) => {
                self.set_watches(
                    conn,
                    w.relative_zxid,
                    &w.data_watches,
                    &w.exist_watches,
                    &w.child_watches,
                    &w.persistent_watches,
                    &w.persistent_recursive_watches,
                );
                Ok(Response::Empty)
            }
            Request::MultiRead(ops) => {
                let mut results = Vec::with_capacity(ops.len());
                for o in ops {
                    // multiRead never sets watches, whatever the op's flag says.
                    let r = match o {
                        MultiOp::GetData(g) => {
                            self.get_data(conn, &g.path, false)
                                .map(|d| MultiResult::GetData {
                                    data: d.data,
                                    stat: d.stat,
                                })
                        }
                        MultiOp::GetChildren(g) => self
                            .get_children(conn, &g.path, false)
                            .map(|(children, _)| MultiResult::GetChildren { children }),
                        _ => Err(ErrorCode::MarshallingError),
                    };
                    results.push(r.unwrap_or_else(|e| MultiResult::Error { err: e.code() }));
                }
                Ok(Response::Multi(results))
            }
            other => {
                tracing::warn!(
                    op = other.opcode(),
                    "request reached the read path unexpectedly"
                );
                debug_assert!(other.opcode() != op::SYNC);
                Err(ErrorCode::Unimplemented)
            }
        }
    }

    /// Re-registers a reconnecting client's watches, firing at once (zxid -1) what it missed
    /// since `rel`, before the reply.
    #[allow(clippy::too_many_arguments)]
    fn set_watches(
        &mut self,
        conn: ConnId,
        rel: i64,
        data: &[String],
        exist: &[String],
        child: &[String],
        persistent: &[String],
        recursive: &[String],
    ) {
        let notify = |core: &mut Core, kind: i32, path: &str| {
            let event = WatcherEvent {
                type_: kind,
                state: state::SYNC_CONNECTED,
                path: path.to_owned(),
            };
            core.send(conn, OutMsg::Event { zxid: -1, event });
        };
        for p in data {
            match self.tree.get(p) {
                None => notify(self, event::NODE_DELETED, p),
                Some(n) if n.stat.mzxid > rel => notify(self, event::NODE_DATA_CHANGED, p),
                Some(_) => self.watches.add_standard(Table::Data, p, conn),
            }
        }
        for p in exist {
            if self.tree.get(p).is_some() {
                notify(self, event::NODE_CREATED, p);
            } else {
                self.watches.add_standard(Table::Data, p, conn);
            }
        }
        for p in child {
            match self.tree.get(p) {
                None => notify(self, event::NODE_DELETED, p),
                Some(n) if n.stat.pzxid > rel => notify(self, event::NODE_CHILDREN_CHANGED, p),
                Some(_) => self.watches.add_standard(Table::Child, p, conn),
            }
        }
        for p in persistent {
            self.watches.add_persistent(p, conn, false);
        }
        for p in recursive {
            self.watches.add_persistent(p, conn, true);
        }
    }
}
