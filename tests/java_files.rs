//! Files written by Debian's Java ZooKeeper 3.8.0 (tests/fixtures/java-3.8.0): a txn log from a
//! zkCli session, the empty snapshot Java writes on first start, and the snapshot it wrote on
//! restarting over that log.
//!
//! The log replays through Paddock's apply path with Paddock's tree digest equal to the one
//! Java logged after every txn, which shows the tree (paths, data, every stored Stat field)
//! evolves exactly as Java's; Java's snapshot then loads into the same tree, node for node.

use paddock::pipeline::apply;
use paddock::session::SessionTable;
use paddock::storage::snapshot;
use paddock::storage::txnlog::{read_log, Tail};
use paddock::tree::DataTree;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/java-3.8.0/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

/// The tree Java's log.1 describes, replayed by Paddock.
fn replayed() -> DataTree {
    let (entries, _) = read_log(&fixture("log.1")).unwrap();
    let mut tree = DataTree::new(true);
    let mut sessions = SessionTable::new(1, 2000, 0);
    for e in &entries {
        apply(&mut tree, &mut sessions, &e.hdr, &e.txn, 0, &mut Vec::new());
    }
    tree
}

#[test]
fn java_snapshots_load_and_match_the_replayed_log() {
    let empty = snapshot::read(&fixture("snapshot.0"), true).expect("Java's first snapshot");
    assert!(empty.sessions.is_empty());
    assert_eq!(empty.tree.node_count(), 4);
    assert_eq!(empty.tree.digest(), DataTree::new(true).digest());

    let snap =
        snapshot::read(&fixture("snapshot.10"), true).expect("Java's snapshot after the log");
    let (zxid, digest) = snap.digest.expect("3.8 writes the digest section");
    assert_eq!(zxid, 0x10);
    assert_eq!(
        snap.tree.digest(),
        digest,
        "Java's recorded digest equals Paddock's recomputation"
    );
    let ours = replayed();
    assert_eq!(ours.digest(), digest);
    let view = |t: &DataTree| -> Vec<String> {
        let mut out: Vec<String> = t
            .snapshot_order()
            .iter()
            .map(|(p, n)| format!("{p} {:?} {:?} {:?}", n.data, n.stat, t.acl_of(n)))
            .collect();
        out.sort();
        out
    };
    assert_eq!(view(&snap.tree), view(&ours));
    // Paddock's own snapshot of that tree reads back to the same digest.
    let again = snapshot::read(&snapshot::write(&snap.tree, &snap.sessions), true).unwrap();
    assert_eq!(again.tree.digest(), digest);
}

#[test]
fn java_log_replays_with_matching_digests() {
    let bytes = fixture("log.1");
    let (entries, tail) = read_log(&bytes).expect("a Java log parses");
    assert_eq!(tail, Tail::Clean);
    assert_eq!(entries.len(), 16);

    let mut tree = DataTree::new(true);
    // The empty tree's digest, as the reference records from a Java log.
    assert_eq!(tree.digest(), 0x51c6d660);
    let mut sessions = SessionTable::new(1, 2000, 0);
    let mut checked = 0;
    for e in &entries {
        let mut events = Vec::new();
        apply(&mut tree, &mut sessions, &e.hdr, &e.txn, 0, &mut events);
        if let Some(d) = &e.digest {
            assert_eq!(
                tree.digest(),
                d.tree_digest,
                "digest after zxid {:#x} ({:?})",
                e.hdr.zxid,
                e.txn
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "{checked}");
    assert_eq!(tree.last_zxid, 0x10);
    // What the log did: /a with "world", /a/b re-created, the ephemeral gone with its session.
    assert_eq!(tree.get("/a").unwrap().data.as_deref(), Some(&b"world"[..]));
    assert!(tree.get("/a/e").is_none());
    assert!(tree.get("/a/b").is_some());
}

/// A torn write: the log cut at every byte offset past its header. Recovery must come back
/// with exactly the txns wholly before the cut, and leave the file truncated there.
#[test]
fn recovery_from_a_log_cut_at_every_offset() {
    use paddock::storage::recovery::recover;
    let log = fixture("log.1");
    let (entries, _) = read_log(&log).unwrap();
    // Expected digest after each prefix of whole txns.
    let mut tree = DataTree::new(true);
    let mut sessions = SessionTable::new(1, 2000, 0);
    let mut expected = vec![(16u64, tree.digest(), 0i64)];
    for e in &entries {
        apply(&mut tree, &mut sessions, &e.hdr, &e.txn, 0, &mut Vec::new());
        expected.push((e.end, tree.digest(), e.hdr.zxid));
    }
    for cut in 16..=log.len() {
        let dir = tempfile::tempdir().unwrap();
        let v2 = dir.path().join("version-2");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(v2.join("snapshot.0"), fixture("snapshot.0")).unwrap();
        std::fs::write(v2.join("log.1"), &log[..cut]).unwrap();
        let r = recover(&v2, &v2, true).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let (end, digest, zxid) = *expected
            .iter()
            .rev()
            .find(|(end, _, _)| *end as usize <= cut)
            .unwrap();
        assert_eq!(
            (r.tree.digest(), r.tree.last_zxid),
            (digest, zxid),
            "cut at {cut}"
        );
        let len = std::fs::metadata(v2.join("log.1")).unwrap().len();
        assert!(
            len == cut as u64 || len == end,
            "cut at {cut}: file left at {len}, want {end}"
        );
        // A second start finds a clean log.
        let again = recover(&v2, &v2, true).unwrap();
        assert_eq!(again.tree.digest(), digest, "cut at {cut}, second start");
    }
}

/// A data dir whose snapshots all fail to read is refused, not started from the logs alone.
#[test]
fn unreadable_snapshots_refuse_to_start() {
    use paddock::storage::recovery::recover;
    let dir = tempfile::tempdir().unwrap();
    let v2 = dir.path().join("version-2");
    std::fs::create_dir_all(&v2).unwrap();
    let mut snap = fixture("snapshot.10");
    snap[100] ^= 0xff;
    std::fs::write(v2.join("snapshot.10"), &snap).unwrap();
    std::fs::write(v2.join("log.1"), fixture("log.1")).unwrap();
    let err = recover(&v2, &v2, true).err().expect("must refuse");
    assert!(err.to_string().contains(&v2.display().to_string()), "{err}");
    // With an older good snapshot beside it, recovery falls back to that one.
    std::fs::write(v2.join("snapshot.0"), fixture("snapshot.0")).unwrap();
    let r = recover(&v2, &v2, true).unwrap();
    assert_eq!(r.tree.last_zxid, 0x10);
}
