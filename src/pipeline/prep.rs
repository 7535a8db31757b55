//! Prep: a write request becomes a txn. Checks run in PrepRequestProcessor's order against the
//! tree plus pending changes, and every accepted txn records the changes it will make so the
//! next request sees them. A failed check is an error code; the caller still logs an ErrorTxn
//! for it, because in ZooKeeper failed writes consume a zxid.

use std::collections::BTreeSet;

use bytes::Bytes;
use jute::consts::{create_mode, op, perms, ErrorCode};
use jute::data::{Acl, Id, StatPersisted};
use jute::proto::MultiOp;
use jute::txn::*;

use super::changes::{Change, Changes};
use crate::auth;
use crate::session::SessionTable;
use crate::tree::{path, DataTree, NodeKind, CONTAINER_OWNER, MAX_TTL};

pub struct Prep<'a> {
    pub tree: &'a DataTree,
    pub changes: &'a mut Changes,
    pub sessions: &'a SessionTable,
    pub session: i64,
    pub auth: &'a [Id],
    pub zxid: i64,
    pub time: i64,
    pub skip_acl: bool,
}

type R<T> = Result<T, ErrorCode>;

/// The fields shared by the four create opcodes.
pub struct CreateArgs<'r> {
    pub opcode: i32,
    pub path: &'r str,
    pub data: &'r Option<Bytes>,
    pub acl: &'r [Acl],
    pub flags: i32,
    /// -1 when the opcode carries no TTL.
    pub ttl: i64,
}

impl Prep<'_> {
    fn check_session(&self) -> R<()> {
        match self.sessions.get(self.session) {
            None => Err(ErrorCode::SessionExpired),
            Some(s) if s.closing => Err(ErrorCode::SessionExpired),
            Some(_) => Ok(()),
        }
    }

    fn check_acl(&self, acl: &[Acl], perm: i32) -> R<()> {
        if self.skip_acl {
            return Ok(());
        }
        auth::check(acl, self.auth, perm)
    }

    fn record(&self, p: &str) -> R<Change> {
        self.changes.record(self.tree, p).ok_or(ErrorCode::NoNode)
    }

    fn stat(c: &Change) -> StatPersisted {
        c.stat.expect("records returned by `record` exist")
    }

    /// `getParentPathAndValidate`: a slash, no NUL, and (for deletes) not a system path.
    fn parent_of(p: &str, deleting: bool) -> R<&str> {
        match p.rfind('/') {
            None => Err(ErrorCode::BadArguments),
            _ if p.contains('\0') => Err(ErrorCode::BadArguments),
            _ if deleting && path::is_system(p) => Err(ErrorCode::BadArguments),
            Some(0) => Ok("/"),
            Some(i) => Ok(&p[..i]),
        }
    }

    fn validate(p: &str) -> R<()> {
        path::validate(p).map_err(|_| ErrorCode::BadArguments)
    }

    fn check_version(current: i32, expected: i32) -> R<i32> {
        if expected != -1 && expected != current {
            return Err(ErrorCode::BadVersion);
        }
        Ok(current.wrapping_add(1))
    }

    pub fn create(&mut self, a: CreateArgs<'_>) -> R<Txn> {
        use create_mode::*;
        if !(PERSISTENT..=PERSISTENT_SEQUENTIAL_WITH_TTL).contains(&a.flags) {
            return Err(ErrorCode::BadArguments);
        }
        let is_ttl = matches!(
            a.flags,
            PERSISTENT_WITH_TTL | PERSISTENT_SEQUENTIAL_WITH_TTL
        );
        let is_container = a.flags == CONTAINER;
        // Java clients pair each opcode with its modes. A mismatched pair passes Java's early
        // checks but would log a txn that does not describe the node it creates (for createTTL
        // with a non-TTL mode, Java's apply even throws), so it is refused where Java would
        // create it: every error Java reports before that point is reported the same.
        let mismatched = match a.opcode {
            op::CREATE_CONTAINER => !is_container,
            op::CREATE_TTL => !is_ttl,
            _ => is_container || is_ttl,
        };
        if is_ttl && !self.tree.extended_types() {
            return Err(ErrorCode::Unimplemented);
        }
        if (is_ttl && !(a.ttl > 0 && a.ttl <= MAX_TTL)) || (!is_ttl && a.ttl >= 0) {
            return Err(ErrorCode::BadArguments);
        }
        let ephemeral = matches!(a.flags, EPHEMERAL | EPHEMERAL_SEQUENTIAL);
        let sequential = matches!(
            a.flags,
            PERSISTENT_SEQUENTIAL | EPHEMERAL_SEQUENTIAL | PERSISTENT_SEQUENTIAL_WITH_TTL
        );
        self.check_session()?;
        let parent = Self::parent_of(a.path, false)?;
        let acl = auth::fixup(a.acl, self.auth)?;
        let parent_rec = self.record(parent)?;
        self.check_acl(&parent_rec.acl, perms::CREATE)?;
        let parent_stat = Self::stat(&parent_rec);
        let node_path = if sequential {
            format!("{}{:010}", a.path, parent_stat.cversion)
        } else {
            a.path.to_owned()
        };
        Self::validate(&node_path)?;
        if self.changes.record(self.tree, &node_path).is_some() {
            return Err(ErrorCode::NodeExists);
        }
        if let NodeKind::Ephemeral(_) =
            NodeKind::from_owner(parent_stat.ephemeral_owner, self.tree.extended_types())
        {
            return Err(ErrorCode::NoChildrenForEphemerals);
        }
        if mismatched {
            return Err(ErrorCode::BadArguments);
        }
        let new_cversion = parent_stat.cversion.wrapping_add(1);
        let (txn, owner) = match a.opcode {
            op::CREATE_CONTAINER => (
                Txn::CreateContainer(CreateContainerTxn {
                    path: node_path.clone(),
                    data: a.data.clone(),
                    acl: acl.clone(),
                    parent_cversion: new_cversion,
                }),
                CONTAINER_OWNER,
            ),
            op::CREATE_TTL => (
                Txn::CreateTtl(CreateTtlTxn {
                    path: node_path.clone(),
                    data: a.data.clone(),
                    acl: acl.clone(),
                    parent_cversion: new_cversion,
                    ttl: a.ttl,
                }),
                NodeKind::ttl_owner(a.ttl),
            ),
            opcode => {
                let t = CreateTxn {
                    path: node_path.clone(),
                    data: a.data.clone(),
                    acl: acl.clone(),
                    ephemeral,
                    parent_cversion: new_cversion,
                };
                let owner = if ephemeral { self.session } else { 0 };
                (
                    if opcode == op::CREATE {
                        Txn::Create(t)
                    } else {
                        Txn::Create2(t)
                    },
                    owner,
                )
            }
        };
        let mut p = parent_rec.clone();
        p.zxid = self.zxid;
        p.child_count += 1;
        let ps = p.stat.as_mut().expect("exists");
        ps.cversion = new_cversion;
        ps.pzxid = self.zxid;
        self.changes.add(self.tree, parent.to_owned(), p);
        let stat = StatPersisted {
            czxid: self.zxid,
            mzxid: self.zxid,
            pzxid: self.zxid,
            ctime: self.time,
            mtime: self.time,
            ephemeral_owner: owner,
            ..Default::default()
        };
        self.changes.add(
            self.tree,
            node_path,
            Change {
                zxid: self.zxid,
                stat: Some(stat),
                child_count: 0,
                acl: acl.into(),
                data: a.data.clone(),
            },
        );
        Ok(txn)
    }

    fn remove_node(&mut self, node_path: &str, parent: &str, parent_rec: Change) {
        let mut p = parent_rec;
        p.zxid = self.zxid;
        p.child_count -= 1;
        p.stat.as_mut().expect("exists").pzxid = self.zxid;
        self.changes.add(self.tree, parent.to_owned(), p);
        self.changes.add(
            self.tree,
            node_path.to_owned(),
            Change {
                zxid: self.zxid,
                stat: None,
                child_count: 0,
                acl: Vec::new().into(),
                data: None,
            },
        );
    }

    pub fn delete(&mut self, p: &str, version: i32) -> R<Txn> {
        self.check_session()?;
        let parent = Self::parent_of(p, true)?;
        let parent_rec = self.record(parent)?;
        self.check_acl(&parent_rec.acl, perms::DELETE)?;
        let node = self.record(p)?;
        Self::check_version(Self::stat(&node).version, version)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NotEmpty);
        }
        self.remove_node(p, parent, parent_rec);
        Ok(Txn::Delete(DeleteTxn { path: p.to_owned() }))
    }

    /// The container/TTL reaper's delete: no session, no ACL; refuses session ephemerals.
    pub fn delete_container(&mut self, p: &str) -> R<Txn> {
        let parent = Self::parent_of(p, true)?;
        let node = self.record(p)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NotEmpty);
        }
        if let NodeKind::Ephemeral(_) = NodeKind::from_owner(
            Self::stat(&node).ephemeral_owner,
            self.tree.extended_types(),
        ) {
            return Err(ErrorCode::BadVersion);
        }
        let parent_rec = self.record(parent)?;
        self.remove_node(p, parent, parent_rec);
        Ok(Txn::DeleteContainer(DeleteTxn { path: p.to_owned() }))
    }

    pub fn set_data(&mut self, p: &str, data: &Option<Bytes>, version: i32) -> R<Txn> {
        self.check_session()?;
        Self::validate(p)?;
        let mut node = self.record(p)?;
        self.check_acl(&node.acl, perms::WRITE)?;
        let new_version = Self::check_version(Self::stat(&node).version, version)?;
        node.zxid = self.zxid;
        let s = node.stat.as_mut().expect("exists");
        s.version = new_version;
        s.mtime = self.time;
        s.mzxid = self.zxid;
        node.data = data.clone();
        self.changes.add(self.tree, p.to_owned(), node);
        Ok(Txn::SetData(SetDataTxn {
            path: p.to_owned(),
            data: data.clone(),
            version: new_version,
        }))
    }

    pub fn set_acl(&mut self, p: &str, acl: &[Acl], version: i32) -> R<Txn> {
        self.check_session()?;
        Self::validate(p)?;
        let acl = auth::fixup(acl, self.auth)?;
        let mut node = self.record(p)?;
        self.check_acl(&node.acl, perms::ADMIN)?;
        let new_version = Self::check_version(Self::stat(&node).aversion, version)?;
        node.zxid = self.zxid;
        node.stat.as_mut().expect("exists").aversion = new_version;
        node.acl = acl.clone().into();
        self.changes.add(self.tree, p.to_owned(), node);
        Ok(Txn::SetAcl(SetAclTxn {
            path: p.to_owned(),
            acl,
            version: new_version,
        }))
    }

    pub fn check(&mut self, p: &str, version: i32) -> R<Txn> {
        self.check_session()?;
        Self::validate(p)?;
        let node = self.record(p)?;
        self.check_acl(&node.acl, perms::READ)?;
        let v = Self::check_version(Self::stat(&node).version, version)?;
        Ok(Txn::Check(CheckVersionTxn {
            path: p.to_owned(),
            version: v,
        }))
    }

    /// closeSession: every ephemeral of the session, including those of pending creates and
    /// excluding those of pending deletes, is deleted by the one txn.
    pub fn close_session(&mut self) -> Txn {
        let sid = self.session;
        let mut paths: BTreeSet<String> = self.tree.ephemerals_of(sid).cloned().collect();
        for (p, c) in self.changes.pending() {
            match c.stat {
                None => {
                    paths.remove(p);
                }
                Some(s) if s.ephemeral_owner == sid => {
                    paths.insert(p.clone());
                }
                Some(_) => {}
            }
        }
        for p in &paths {
            let parent = path::parent(p);
            if let Some(parent_rec) = self.changes.record(self.tree, parent) {
                self.remove_node(p, parent, parent_rec);
            }
        }
        Txn::CloseSession(Some(CloseSessionTxn {
            paths_to_delete: paths.into_iter().collect(),
        }))
    }

    /// A write multi: one zxid; on the first failure the pending changes of the earlier ops
    /// are rolled back, the failing op becomes ErrorTxn{code} and later ops ErrorTxn{-2}.
    pub fn multi(&mut self, ops: &[MultiOp]) -> (Txn, Option<ErrorCode>) {
        let touched = ops.iter().flat_map(|o| {
            let p = o.path();
            [p, if p.contains('\0') { p } else { path::parent(p) }]
        });
        let saved = self.changes.snapshot_paths(touched);
        let saved_digest = self.changes.saved_digest();
        let mut failed: Option<ErrorCode> = None;
        let mut txns = Vec::with_capacity(ops.len());
        for o in ops {
            if failed.is_some() {
                txns.push(Txn::Error(ErrorTxn {
                    err: ErrorCode::RuntimeInconsistency.code(),
                }));
                continue;
            }
            let r = match o {
                MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => self
                    .create(CreateArgs {
                        opcode: o.opcode(),
                        path: &r.path,
                        data: &r.data,
                        acl: &r.acl,
                        flags: r.flags,
                        ttl: -1,
                    }),
                MultiOp::CreateTtl(r) => self.create(CreateArgs {
                    opcode: op::CREATE_TTL,
                    path: &r.path,
                    data: &r.data,
                    acl: &r.acl,
                    flags: r.flags,
                    ttl: r.ttl,
                }),
                MultiOp::Delete(r) => self.delete(&r.path, r.version),
                MultiOp::SetData(r) => self.set_data(&r.path, &r.data, r.version),
                MultiOp::Check(r) => self.check(&r.path, r.version),
                MultiOp::GetChildren(_) | MultiOp::GetData(_) => Err(ErrorCode::MarshallingError),
            };
            match r {
                Ok(t) => txns.push(t),
                Err(code) => {
                    failed = Some(code);
                    txns.push(Txn::Error(ErrorTxn { err: code.code() }));
                    self.changes
                        .rollback(self.zxid, saved.clone(), saved_digest);
                }
            }
        }
        (Txn::Multi(txns), failed)
    }
}
