//! A snapshot taken a few nodes at a time while txns keep landing (as the server takes them)
//! must come back exact: load it, replay every logged txn after its zxid, and the tree equals
//! the live one node for node (data, Stat, ACL) and digest for digest. Random workloads over a
//! small key space make creates, deletes and re-creates race with the walk.

use bytes::Bytes;
use jute::consts::op;
use jute::data::Acl;
use jute::txn::{
    CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTxn, DeleteTxn, SetAclTxn,
    SetDataTxn, Txn, TxnHeader,
};
use paddock::clock::{Rng as _, SeededRng};
use paddock::pipeline::apply;
use paddock::session::SessionTable;
use paddock::storage::snapshot::{self, SnapshotWriter};
use paddock::tree::{path, DataTree};

struct Rng(SeededRng);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n
    }
}

const NAMES: [&str; 3] = ["a", "b", "c"];
const SESSIONS: [i64; 2] = [0x100, 0x200];

fn random_path(rng: &mut Rng) -> String {
    let depth = 1 + rng.below(3);
    let mut p = String::new();
    for _ in 0..depth {
        p.push('/');
        p.push_str(NAMES[rng.below(3) as usize]);
    }
    p
}

fn acl(rng: &mut Rng) -> Vec<Acl> {
    match rng.below(3) {
        0 => Acl::open_unsafe(),
        1 => vec![Acl::new(1, "world", "anyone")],
        _ => vec![Acl::new(31, "digest", "u:x=")],
    }
}

/// A txn that is valid against `tree` (as prep would have made it), or None.
fn random_txn(rng: &mut Rng, tree: &DataTree, live: &[i64]) -> Option<(i64, Txn)> {
    let p = random_path(rng);
    let node = tree.get(&p);
    let parent = tree.get(path::parent(&p));
    let client = SESSIONS[rng.below(2) as usize];
    let data = Some(Bytes::from(format!("v{}", rng.below(100))));
    match rng.below(8) {
        0..=2 => {
            let parent = parent?;
            if node.is_some() || parent.stat.ephemeral_owner != 0 {
                return None;
            }
            let cversion = parent.stat.cversion + 1;
            let ephemeral = live.contains(&client) && rng.below(3) == 0;
            let txn = match rng.below(3) {
                0 => Txn::Create2(CreateTxn {
                    path: p,
                    data,
                    acl: acl(rng),
                    ephemeral,
                    parent_cversion: cversion,
                }),
                1 if !ephemeral => Txn::CreateContainer(CreateContainerTxn {
                    path: p,
                    data,
                    acl: acl(rng),
                    parent_cversion: cversion,
                }),
                _ => Txn::Create(CreateTxn {
                    path: p,
                    data,
                    acl: acl(rng),
                    ephemeral,
                    parent_cversion: cversion,
                }),
            };
            Some((client, txn))
        }
        3 | 4 => {
            let node = node?;
            node.children
                .is_empty()
                .then(|| (client, Txn::Delete(DeleteTxn { path: p })))
        }
        5 => {
            let node = node?;
            Some((
                client,
                Txn::SetData(SetDataTxn {
                    path: p,
                    data,
                    version: node.stat.version + 1,
                }),
            ))
        }
        6 => {
            let node = node?;
            Some((
                client,
                Txn::SetAcl(SetAclTxn {
                    path: p,
                    acl: acl(rng),
                    version: node.stat.aversion + 1,
                }),
            ))
        }
        _ => {
            // Sessions come and go; a close removes the session's ephemerals.
            if live.contains(&client) {
                let paths = tree.ephemerals_of(client).cloned().collect();
                Some((
                    client,
                    Txn::CloseSession(Some(CloseSessionTxn {
                        paths_to_delete: paths,
                    })),
                ))
            } else {
                Some((
                    client,
                    Txn::CreateSession(CreateSessionTxn { timeout: 30_000 }),
                ))
            }
        }
    }
}

struct World {
    tree: DataTree,
    sessions: SessionTable,
    live: Vec<i64>,
    log: Vec<(TxnHeader, Txn)>,
}

impl World {
    /// Applies one valid random txn (or a multi of two creates under one parent) and logs it.
    fn step(&mut self, rng: &mut Rng) {
        let Some((client, txn)) = random_txn(rng, &self.tree, &self.live) else {
            return;
        };
        let txn = match txn {
            // Now and then a multi: the create, then a child of it (a plain create, type 1,
            // as Java logs a create2 inside a multi).
            Txn::Create(c) if !c.ephemeral && rng.below(3) == 0 => {
                let child = Txn::Create(CreateTxn {
                    path: path::join(&c.path, "m"),
                    data: None,
                    acl: Acl::open_unsafe(),
                    ephemeral: false,
                    parent_cversion: 1,
                });
                Txn::Multi(vec![Txn::Create(c), child])
            }
            t => t,
        };
        match &txn {
            Txn::CreateSession(_) => self.live.push(client),
            Txn::CloseSession(_) => self.live.retain(|s| *s != client),
            _ => {}
        }
        let hdr = TxnHeader {
            client_id: client,
            cxid: 1,
            zxid: self.tree.last_zxid + 1,
            time: 1_000 + self.tree.last_zxid,
            type_: txn.type_code(),
        };
        let r = apply(
            &mut self.tree,
            &mut self.sessions,
            &hdr,
            &txn,
            0,
            &mut Vec::new(),
        );
        assert_eq!(r.err(), 0, "generated an invalid txn: {txn:?}");
        self.log.push((hdr, txn));
    }
}

fn assert_same(live: &DataTree, replayed: &DataTree, seed: u64) {
    let a = live.snapshot_order();
    let b = replayed.snapshot_order();
    let paths = |v: &[(String, &paddock::tree::Node)]| -> Vec<String> {
        v.iter().map(|(p, _)| p.clone()).collect()
    };
    assert_eq!(paths(&a), paths(&b), "seed {seed}: node sets differ");
    for ((p, x), (_, y)) in a.iter().zip(&b) {
        assert_eq!(x.data, y.data, "seed {seed}: data of {p:?}");
        assert_eq!(x.stat, y.stat, "seed {seed}: Stat of {p:?}");
        assert_eq!(
            live.acl_of(x),
            replayed.acl_of(y),
            "seed {seed}: ACL of {p:?}"
        );
    }
    assert_eq!(live.digest(), replayed.digest(), "seed {seed}: digests");
}

#[test]
fn fuzzy_snapshot_plus_replay_is_exact() {
    for seed in 1..=400u64 {
        let mut rng = Rng(SeededRng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        let mut w = World {
            tree: DataTree::new(true),
            sessions: SessionTable::new(1, 1, 0),
            live: Vec::new(),
            log: Vec::new(),
        };
        for _ in 0..rng.below(200) {
            w.step(&mut rng);
        }
        let sessions: Vec<(i64, i32)> = w.live.iter().map(|s| (*s, 30_000)).collect();
        // Half the seeds spool the node records to a temp file, as the server does.
        let spool_dir = tempfile::tempdir().unwrap();
        let mut snap = if seed % 2 == 0 {
            SnapshotWriter::spooled(&w.tree, sessions, spool_dir.path()).unwrap()
        } else {
            SnapshotWriter::start(&w.tree, sessions)
        };
        loop {
            for _ in 0..rng.below(4) {
                w.step(&mut rng);
            }
            if snap.step(&w.tree, 1 + rng.below(3) as usize) {
                break;
            }
        }
        let parts = snap.finish(&w.tree);
        let snap_zxid = parts.zxid;
        let bytes = parts.to_bytes();
        assert_eq!(
            std::fs::read_dir(spool_dir.path()).unwrap().count(),
            0,
            "the spool is removed once copied"
        );
        for _ in 0..rng.below(50) {
            w.step(&mut rng);
        }

        let loaded = snapshot::read(&bytes, true)
            .unwrap_or_else(|e| panic!("seed {seed}: snapshot unreadable: {e}"));
        let mut tree = loaded.tree;
        tree.last_zxid = snap_zxid;
        let mut sessions = SessionTable::new(1, 1, 0);
        for (hdr, txn) in w.log.iter().filter(|(h, _)| h.zxid > snap_zxid) {
            apply(&mut tree, &mut sessions, hdr, txn, 0, &mut Vec::new());
        }
        assert_same(&w.tree, &tree, seed);
    }
}

#[test]
fn replaying_a_create_over_a_node_already_in_the_snapshot_raises_the_parent_cversion() {
    // Java's rule (DataTree.processTxn): a plain create finding its node present raises the
    // parent's cversion and pzxid to the txn's; create2 does not.
    let mut tree = DataTree::new(false);
    let mut sessions = SessionTable::new(1, 1, 0);
    let hdr = |zxid, type_| TxnHeader {
        client_id: 1,
        cxid: 1,
        zxid,
        time: 5,
        type_,
    };
    let create = |p: &str, cv| CreateTxn {
        path: p.to_owned(),
        data: None,
        acl: Acl::open_unsafe(),
        ephemeral: false,
        parent_cversion: cv,
    };
    let mut ev = Vec::new();
    apply(
        &mut tree,
        &mut sessions,
        &hdr(1, op::CREATE),
        &Txn::Create(create("/p", 1)),
        0,
        &mut ev,
    );
    apply(
        &mut tree,
        &mut sessions,
        &hdr(2, op::CREATE),
        &Txn::Create(create("/p/c", 1)),
        0,
        &mut ev,
    );
    // The snapshot held /p/c but /p as of before it (cversion 0): model that by lowering it.
    tree.raise_cversion("/p", -1, 2).unwrap();
    let before = tree.get("/p").unwrap().stat;
    let r = apply(
        &mut tree,
        &mut sessions,
        &hdr(3, op::CREATE2),
        &Txn::Create2(create("/p/c", 9)),
        0,
        &mut ev,
    );
    assert_eq!(r.err(), jute::consts::ErrorCode::NodeExists as i32);
    assert_eq!(
        tree.get("/p").unwrap().stat,
        before,
        "create2 leaves the parent alone"
    );
    let r = apply(
        &mut tree,
        &mut sessions,
        &hdr(4, op::CREATE),
        &Txn::Create(create("/p/c", 9)),
        0,
        &mut ev,
    );
    assert_eq!(r.err(), jute::consts::ErrorCode::NodeExists as i32);
    let after = tree.get("/p").unwrap().stat;
    assert_eq!((after.cversion, after.pzxid), (9, 4));
    // A delete that finds the child gone still raises the parent's pzxid.
    apply(
        &mut tree,
        &mut sessions,
        &hdr(5, op::DELETE),
        &Txn::Delete(DeleteTxn {
            path: "/p/gone".into(),
        }),
        0,
        &mut ev,
    );
    assert_eq!(tree.get("/p").unwrap().stat.pzxid, 5);
}
