//! Apply: a committed txn changes the tree and the session table and yields the events it
//! fires. The same function serves locally prepared txns, log replay and (later) txns a
//! leader sends, so it trusts nothing but the txn itself.

use jute::consts::{op, ErrorCode};
use jute::data::Stat;
use jute::txn::{Txn, TxnHeader};

use crate::session::SessionTable;
use crate::tree::{DataTree, NodeKind, TreeError, TreeEvent, CONTAINER_OWNER};

/// What applying a txn did, for building the reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// `op` is the txn type (create, create2, createContainer or createTTL).
    Created {
        op: i32,
        path: String,
        stat: Stat,
    },
    Deleted,
    DataSet {
        stat: Stat,
    },
    AclSet {
        stat: Stat,
    },
    Checked,
    Multi(Vec<Applied>),
    SessionCreated,
    SessionClosed,
    Error(i32),
}

impl Applied {
    pub fn err(&self) -> i32 {
        match self {
            Applied::Error(e) => *e,
            Applied::Multi(rs) => rs.iter().map(Applied::err).find(|e| *e != 0).unwrap_or(0),
            _ => 0,
        }
    }
}

fn tree_err(e: TreeError) -> Applied {
    Applied::Error(match e {
        TreeError::NoNode => ErrorCode::NoNode,
        TreeError::NodeExists => ErrorCode::NodeExists,
        TreeError::NotEmpty => ErrorCode::NotEmpty,
    } as i32)
}

pub fn apply(
    tree: &mut DataTree,
    sessions: &mut SessionTable,
    hdr: &TxnHeader,
    txn: &Txn,
    now_ms: u64,
    events: &mut Vec<TreeEvent>,
) -> Applied {
    let r = apply_one(tree, sessions, hdr, txn, now_ms, events);
    if hdr.zxid > tree.last_zxid {
        tree.last_zxid = hdr.zxid;
    }
    r
}

fn apply_one(
    tree: &mut DataTree,
    sessions: &mut SessionTable,
    hdr: &TxnHeader,
    txn: &Txn,
    now_ms: u64,
    events: &mut Vec<TreeEvent>,
) -> Applied {
    let (zxid, time) = (hdr.zxid, hdr.time);
    match txn {
        Txn::Create(t) | Txn::Create2(t) => {
            let owner = if t.ephemeral { hdr.client_id } else { 0 };
            match tree.create(
                &t.path,
                t.data.clone(),
                &t.acl,
                owner,
                t.parent_cversion,
                zxid,
                time,
                events,
            ) {
                Ok(stat) => Applied::Created {
                    op: txn.type_code(),
                    path: t.path.clone(),
                    stat,
                },
                // Only on replay over a fuzzy snapshot that already holds the node. Java then
                // raises the parent's cversion for a plain create (type 1) and for no other.
                Err(TreeError::NodeExists) if hdr.type_ == op::CREATE => {
                    let parent = crate::tree::path::parent(&t.path);
                    match tree.raise_cversion(parent, t.parent_cversion, zxid) {
                        Ok(()) => tree_err(TreeError::NodeExists),
                        Err(e) => tree_err(e),
                    }
                }
                Err(e) => tree_err(e),
            }
        }
        Txn::CreateContainer(t) => match tree.create(
            &t.path,
            t.data.clone(),
            &t.acl,
            CONTAINER_OWNER,
            t.parent_cversion,
            zxid,
            time,
            events,
        ) {
            Ok(stat) => Applied::Created {
                op: op::CREATE_CONTAINER,
                path: t.path.clone(),
                stat,
            },
            Err(e) => tree_err(e),
        },
        Txn::CreateTtl(t) => match tree.create(
            &t.path,
            t.data.clone(),
            &t.acl,
            NodeKind::ttl_owner(t.ttl),
            t.parent_cversion,
            zxid,
            time,
            events,
        ) {
            Ok(stat) => Applied::Created {
                op: op::CREATE_TTL,
                path: t.path.clone(),
                stat,
            },
            Err(e) => tree_err(e),
        },
        Txn::Delete(t) | Txn::DeleteContainer(t) => match tree.delete(&t.path, zxid, events) {
            Ok(()) => Applied::Deleted,
            Err(e) => tree_err(e),
        },
        Txn::SetData(t) | Txn::Reconfig(t) => {
            match tree.set_data(&t.path, t.data.clone(), t.version, zxid, time, events) {
                Ok(stat) => Applied::DataSet { stat },
                Err(e) => tree_err(e),
            }
        }
        Txn::SetAcl(t) => match tree.set_acl(&t.path, &t.acl, t.version) {
            Ok(stat) => Applied::AclSet { stat },
            Err(e) => tree_err(e),
        },
        Txn::Check(_) => Applied::Checked,
        Txn::Error(e) => Applied::Error(e.err),
        Txn::CreateSession(t) => {
            sessions.add(hdr.client_id, t.timeout, now_ms);
            Applied::SessionCreated
        }
        Txn::CloseSession(t) => {
            if let Some(t) = t {
                for p in &t.paths_to_delete {
                    let _ = tree.delete(p, zxid, events);
                }
            }
            // Anything the txn did not name (a log written without paths) goes too.
            let rest: Vec<String> = tree.ephemerals_of(hdr.client_id).cloned().collect();
            for p in rest {
                let _ = tree.delete(&p, zxid, events);
            }
            sessions.remove(hdr.client_id);
            Applied::SessionClosed
        }
        Txn::Multi(txns) => {
            // A multi with an error sub-txn changes nothing: the ops before the failure
            // report OK, the failure its code, the rest RUNTIMEINCONSISTENCY (already so in
            // the txn).
            if txns.iter().any(|t| matches!(t, Txn::Error(_))) {
                let results = txns
                    .iter()
                    .map(|t| match t {
                        Txn::Error(e) => Applied::Error(e.err),
                        _ => Applied::Error(0),
                    })
                    .collect();
                return Applied::Multi(results);
            }
            let sub = TxnHeader { type_: 0, ..*hdr };
            Applied::Multi(
                txns.iter()
                    .map(|t| {
                        apply_one(
                            tree,
                            sessions,
                            &TxnHeader {
                                type_: t.type_code(),
                                ..sub
                            },
                            t,
                            now_ms,
                            events,
                        )
                    })
                    .collect(),
            )
        }
    }
}
