//! Small hand-driven checks of the core; the fault-injecting simulator is `tests/zab_sim`.

use super::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

fn timing() -> Timing {
    Timing {
        init_limit: 10,
        sync_limit: 5,
        ping_interval: 1,
        finalize_wait: 1,
        notification_min: 2,
        notification_max: 8,
    }
}

fn config(me: ServerId, n: u64) -> Config {
    Config::new(me, (1..=n).collect::<BTreeSet<_>>(), timing())
}

/// A lossless, instant network of cores whose logs fsync immediately.
struct Cluster {
    cores: BTreeMap<ServerId, Zab>,
    inbox: VecDeque<(ServerId, ServerId, Message)>,
    applied: BTreeMap<ServerId, Vec<Zxid>>,
}

impl Cluster {
    fn new(n: u64) -> Cluster {
        let cores = (1..=n)
            .map(|i| (i, Zab::new(config(i, n), Recovered::default()).unwrap()))
            .collect();
        Cluster {
            cores,
            inbox: VecDeque::new(),
            applied: BTreeMap::new(),
        }
    }

    fn drain(&mut self, id: ServerId) {
        let outs = self.cores.get_mut(&id).unwrap().take_ready();
        for o in outs {
            match o {
                Output::Send { to, msg } => self.inbox.push_back((id, to, msg)),
                Output::Persist(txns) => {
                    let up_to = txns.last().unwrap().zxid;
                    self.cores
                        .get_mut(&id)
                        .unwrap()
                        .step(Input::Persisted { up_to });
                    self.drain(id);
                }
                Output::Commit(txns) => self
                    .applied
                    .entry(id)
                    .or_default()
                    .extend(txns.iter().map(|t| t.zxid)),
                _ => {}
            }
        }
    }

    fn run(&mut self, ticks: u64) {
        for _ in 0..ticks {
            let ids: Vec<_> = self.cores.keys().copied().collect();
            for &id in &ids {
                self.cores.get_mut(&id).unwrap().step(Input::Tick);
                self.drain(id);
            }
            while let Some((from, to, msg)) = self.inbox.pop_front() {
                self.cores
                    .get_mut(&to)
                    .unwrap()
                    .step(Input::Message { from, msg });
                self.drain(to);
            }
        }
    }

    fn leader(&self) -> Option<ServerId> {
        self.cores
            .iter()
            .find(|(_, c)| c.role() == Role::Leading && c.is_serving())
            .map(|(&id, _)| id)
    }
}

#[test]
fn a_single_server_leads_and_commits_alone() {
    let mut c = Cluster::new(1);
    c.run(5);
    assert_eq!(c.leader(), Some(1));
    let zxid = c
        .cores
        .get_mut(&1)
        .unwrap()
        .propose(Bytes::from_static(b"x"))
        .unwrap();
    c.drain(1);
    assert_eq!(zxid, Some(Zxid::new(1, 1)));
    assert_eq!(c.applied[&1], vec![Zxid::new(1, 1)]);
}

#[test]
fn three_servers_elect_the_highest_id_and_replicate() {
    let mut c = Cluster::new(3);
    c.run(20);
    // All logs are empty and epochs equal, so the highest sid wins.
    assert_eq!(c.leader(), Some(3));
    for id in [1, 2] {
        assert_eq!(c.cores[&id].role(), Role::Following { leader: 3 });
        assert!(c.cores[&id].is_serving());
    }
    for i in 0..5u8 {
        c.cores
            .get_mut(&3)
            .unwrap()
            .propose(Bytes::from(vec![i]))
            .unwrap();
        c.drain(3);
    }
    // A follower forwards its client's write to the leader.
    assert_eq!(
        c.cores
            .get_mut(&1)
            .unwrap()
            .propose(Bytes::from_static(b"f")),
        Ok(None)
    );
    c.drain(1);
    c.run(3);
    let expected: Vec<Zxid> = (1..=6).map(|i| Zxid::new(1, i)).collect();
    for id in 1..=3 {
        assert_eq!(c.applied[&id], expected, "server {id}");
        assert_eq!(c.cores[&id].current_epoch(), 1);
    }
}

#[test]
fn a_leader_without_quorum_steps_down() {
    let mut c = Cluster::new(3);
    c.run(20);
    assert_eq!(c.leader(), Some(3));
    // Silence both followers: drop every message for a while.
    for _ in 0..20 {
        for id in 1..=3 {
            c.cores.get_mut(&id).unwrap().step(Input::Tick);
            c.drain(id);
        }
        c.inbox.clear();
    }
    assert_eq!(c.cores[&3].role(), Role::Looking);
    // Healed, the ensemble elects again, in a new epoch.
    c.run(30);
    let l = c.leader().expect("a leader after healing");
    assert!(c.cores[&l].current_epoch() >= 2);
}

#[test]
fn bad_recovered_state_is_an_error() {
    let bad = Recovered {
        accepted_epoch: 1,
        current_epoch: 2,
        ..Recovered::default()
    };
    assert!(matches!(
        Zab::new(config(1, 3), bad),
        Err(ConfigError::EpochsInverted { .. })
    ));
    let mut cfg = config(9, 3);
    assert_eq!(
        Zab::new(cfg.clone(), Recovered::default()).err(),
        Some(ConfigError::NotAMember(9))
    );
    cfg.my_id = 1;
    cfg.timing.sync_limit = 0;
    assert_eq!(
        Zab::new(cfg, Recovered::default()).err(),
        Some(ConfigError::Timing)
    );
}
