//! Replays a txn log written by Debian's Java ZooKeeper 3.8.0 through Paddock's apply path:
//! every record decodes, and after each txn Paddock's tree digest equals the one Java logged,
//! which shows the tree (paths, data, every stored Stat field) evolves exactly as Java's.

use paddock::pipeline::apply;
use paddock::session::SessionTable;
use paddock::storage::txnlog::{read_log, Tail};
use paddock::tree::DataTree;

#[test]
fn java_log_replays_with_matching_digests() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/java-3.8.0/log.1"
    );
    let bytes = std::fs::read(path).expect("fixture");
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
