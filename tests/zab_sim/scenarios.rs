//! Scripted regressions for sync bugs Java ZooKeeper had. Each runs with the fix (the
//! core as it is) and passes, and with the bug switched back on, where the checker must
//! catch it — so the property that guards against it is shown to be real.

use crate::world::{Faults, Observed, World, WorldConfig};
use paddock::zab::{InjectedBugs, Message, Output, Role, ServerId};

fn world(bugs: InjectedBugs, volatile_snapshots: bool, fsync_delay: (u64, u64)) -> World {
    let mut w = World::new(WorldConfig {
        seed: 1,
        voters: 3,
        observers: 0,
        faults: Faults::none(),
        bugs,
        volatile_snapshots,
        fsync_delay,
        crash_keeps_some_tail: false,
        skew: false,
    });
    w.writes_every = u64::MAX / 4;
    w
}

fn settle(w: &mut World, within: u64) {
    let until = w.now + within;
    w.run_while(until, |w| !w.all_serving());
    assert!(
        w.violation.is_some() || w.all_serving(),
        "no stable ensemble:\n{}",
        w.dump_trace()
    );
}

fn write_and_apply(w: &mut World, via: ServerId, count: usize) {
    let mut ids = Vec::new();
    for _ in 0..count {
        assert!(w.write(via), "server {via} refused a write");
        ids.push(w.last_write_id());
    }
    let until = w.now + 500;
    w.run_while(until, |w| !ids.iter().all(|&i| w.applied_everywhere(i)));
}

fn role(w: &World, id: ServerId) -> Option<Role> {
    w.nodes[&id].core.as_ref().map(|c| c.role())
}

/// Ends with every server restarted and healed, a fresh write applied everywhere.
fn finish(w: &mut World) {
    if w.violation.is_some() {
        return;
    }
    w.calm();
    settle(w, 3_000);
    if w.violation.is_none() {
        let l = w.established_leader().unwrap();
        write_and_apply(w, l, 1);
        assert!(w.violation.is_some() || w.applied_everywhere(w.last_write_id()));
    }
}

/// ZOOKEEPER-3911 / ZOOKEEPER-4785: a follower DIFF-synced with txns only the new leader
/// has acknowledges NEWLEADER, the epoch is established on that acknowledgement (so the
/// txns are committed), then leader and follower crash. If the follower acknowledged
/// before the txns were durable, the surviving quorum elects a leader without them.
fn newleader_ack_scenario(bugs: InjectedBugs) -> World {
    // fsync takes a while, so an acknowledgement sent before it is visible.
    let mut w = world(bugs, false, (40, 40));
    settle(&mut w, 3_000);
    assert_eq!(w.established_leader(), Some(3));
    write_and_apply(&mut w, 3, 3);

    // Leader 3 logs two txns nobody else gets: 1 is down, 3 is cut off.
    w.crash(1);
    w.isolate(3);
    assert!(w.write(3) && w.write(3));
    let until = w.now + 400;
    w.run_while(until, |w| role(w, 3) != Some(Role::Looking));
    assert_eq!(role(&w, 3), Some(Role::Looking));

    // 3 (longest log) and 2 form epoch 2; 2 is DIFF-synced with those two txns.
    w.heal();
    w.isolate(1);
    w.on(|w, id, what| {
        if id == 3 && matches!(what, Observed::Output(Output::Established { .. })) {
            w.trace("scenario: crash 3 and 2 as epoch 2 is established".into());
            w.crash(3);
            w.crash(2);
        }
    });
    let until = w.now + 3_000;
    w.run_while(until, |w| w.nodes[&3].alive);
    assert!(
        w.violation.is_some() || !w.nodes[&3].alive,
        "epoch 2 never established:\n{}",
        w.dump_trace()
    );

    // 1 and 2 come back without 3: their leader must have the committed txns.
    w.heal();
    w.isolate(3);
    w.start(1);
    w.start(2);
    let until = w.now + 3_000;
    w.run_while(until, |w| w.established_leader().is_none());
    finish(&mut w);
    w
}

#[test]
fn zookeeper_3911_diff_sync_then_crash() {
    let w = newleader_ack_scenario(InjectedBugs::default());
    assert_eq!(w.violation, None, "\n{}", w.dump_trace());
}

#[test]
fn zookeeper_3911_is_caught_when_reintroduced() {
    let w = newleader_ack_scenario(InjectedBugs {
        ack_newleader_before_logging_diff: true,
        ..InjectedBugs::default()
    });
    let v = w.violation.expect("the checker missed ZOOKEEPER-3911");
    println!("caught: {v}");
    assert!(v.starts_with("primary order"), "{v}");
}

#[test]
fn zookeeper_4785_newleader_uptodate_race() {
    let w = newleader_ack_scenario(InjectedBugs::default());
    assert_eq!(w.violation, None, "\n{}", w.dump_trace());
    // The follower acknowledged NEWLEADER only after its fsync: the txns survived.
    assert!(w.checker.history.len() >= 6);
}

#[test]
fn zookeeper_4785_is_caught_when_reintroduced() {
    let w = newleader_ack_scenario(InjectedBugs {
        ack_newleader_before_fsync: true,
        ..InjectedBugs::default()
    });
    let v = w.violation.expect("the checker missed ZOOKEEPER-4785");
    println!("caught: {v}");
    assert!(v.starts_with("primary order"), "{v}");
}

/// ZOOKEEPER-3642: a learner SNAP-synced by a leader that dies before NEWLEADER, then
/// DIFF-synced by the next leader from the snapshot's zxid. If the snapshot only lived in
/// memory, its log now has a hole, and after a restart it serves a history with a gap.
fn snap_then_diff_scenario(volatile_snapshots: bool) -> World {
    let mut w = world(InjectedBugs::default(), volatile_snapshots, (1, 3));
    settle(&mut w, 3_000);
    assert_eq!(w.established_leader(), Some(3));
    write_and_apply(&mut w, 3, 2);
    // 1 falls far behind the leader's DIFF window.
    w.crash(1);
    for _ in 0..20 {
        assert!(w.write(3));
    }
    let until = w.now + 500;
    let last = w.last_write_id();
    w.run_while(until, |w| {
        !(w.nodes[&2].applied.len() as u64 == last && w.nodes[&3].applied.len() as u64 == last)
    });
    // The leader dies right after sending 1 its snapshot.
    w.on(|w, id, what| {
        if id == 1 && matches!(what, Observed::Delivered(Message::Snap { .. })) && w.nodes[&3].alive
        {
            w.trace("scenario: crash 3 after 1 got SNAP".into());
            w.crash(3);
        }
    });
    w.start(1);
    let until = w.now + 2_000;
    w.run_while(until, |w| w.nodes[&3].alive);
    assert!(
        !w.nodes[&3].alive,
        "1 never got a SNAP:\n{}",
        w.dump_trace()
    );
    // 2 leads epoch 2 and DIFF-syncs 1 from the snapshot's zxid; writes go on.
    settle_without(&mut w, 3);
    write_and_apply_on(&mut w, &[1, 2], 3);
    // 1 restarts from its disk and rejoins.
    w.crash(1);
    w.start(1);
    settle_without(&mut w, 3);
    finish(&mut w);
    w
}

fn settle_without(w: &mut World, down: ServerId) {
    let until = w.now + 3_000;
    w.run_while(until, |w| {
        !w.nodes
            .values()
            .filter(|n| n.id != down)
            .all(|n| n.serving && n.core.as_ref().is_some_and(|c| c.role() != Role::Looking))
    });
}

fn write_and_apply_on(w: &mut World, on: &[ServerId], count: usize) {
    if w.violation.is_some() {
        return;
    }
    let Some(l) = w.established_leader() else {
        panic!("no leader:\n{}", w.dump_trace())
    };
    let mut ids = Vec::new();
    for _ in 0..count {
        assert!(w.write(l));
        ids.push(w.last_write_id());
    }
    let on = on.to_vec();
    let until = w.now + 500;
    w.run_while(until, |w| {
        !ids.iter().all(|&i| {
            on.iter().all(|id| {
                w.nodes[id]
                    .applied
                    .iter()
                    .any(|t| crate::checker::write_id(t) == Some(i))
            })
        })
    });
}

#[test]
fn zookeeper_3642_snap_then_diff() {
    let w = snap_then_diff_scenario(false);
    assert_eq!(w.violation, None, "\n{}", w.dump_trace());
}

#[test]
fn zookeeper_3642_is_caught_when_reintroduced() {
    let w = snap_then_diff_scenario(true);
    let v = w.violation.expect("the checker missed ZOOKEEPER-3642");
    println!("caught: {v}");
    assert!(v.starts_with("agreement"), "{v}");
}
