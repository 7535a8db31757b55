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
        connect_retry: 1,
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
        Cluster::with_observers(n, 0)
    }

    /// `n` voters 1..=n and `o` observers after them.
    fn with_observers(n: u64, o: u64) -> Cluster {
        let cores = (1..=n + o)
            .map(|i| {
                let mut cfg = config(i, n);
                cfg.observers = (n + 1..=n + o).collect();
                (i, Zab::new(cfg, Recovered::default()).unwrap())
            })
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
        self.run_without(ticks, &[]);
    }

    /// Runs with the servers in `down` receiving nothing and ticking not at all.
    fn run_without(&mut self, ticks: u64, down: &[ServerId]) {
        for _ in 0..ticks {
            let ids: Vec<_> = self.cores.keys().copied().collect();
            for &id in ids.iter().filter(|id| !down.contains(id)) {
                self.cores.get_mut(&id).unwrap().step(Input::Tick);
                self.drain(id);
            }
            while let Some((from, to, msg)) = self.inbox.pop_front() {
                if down.contains(&to) || down.contains(&from) {
                    continue;
                }
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

#[test]
fn observers_follow_but_never_vote() {
    // Voters 1, 2 and observer 3 (the highest id, which would win any vote it could enter).
    let mut c = Cluster::with_observers(2, 1);
    c.run(30);
    assert_eq!(c.leader(), Some(2));
    assert_eq!(c.cores[&3].role(), Role::Observing { leader: 2 });
    assert!(c.cores[&3].is_serving());
    c.cores
        .get_mut(&2)
        .unwrap()
        .propose(Bytes::from_static(b"w"))
        .unwrap();
    c.drain(2);
    c.run(3);
    assert_eq!(
        c.applied[&3],
        vec![Zxid::new(1, 1)],
        "observers apply INFORMs"
    );

    // Without voter 1 there is no quorum: the observer does not make one up.
    let mut c = Cluster::with_observers(2, 1);
    c.run_without(60, &[1]);
    assert_eq!(c.leader(), None);
    assert_eq!(c.cores[&2].role(), Role::Looking);
}

#[test]
fn a_learner_refuses_an_epoch_below_its_accepted_one() {
    let recovered = Recovered {
        accepted_epoch: 5,
        current_epoch: 5,
        ..Recovered::default()
    };
    let mut z = Zab::new(config(1, 3), recovered).unwrap();
    // Two peers say 3 leads (the out-of-election path), so 1 follows 3.
    for from in [2, 3] {
        let state = if from == 3 {
            PeerState::Leading
        } else {
            PeerState::Following
        };
        let n = Notification {
            state,
            leader: 3,
            zxid: Zxid::ZERO,
            election_epoch: 1,
            peer_epoch: 4,
            config_version: 0,
        };
        z.step(Input::Message {
            from,
            msg: Message::Notification(n),
        });
    }
    assert_eq!(z.role(), Role::Following { leader: 3 });
    z.take_ready();
    z.step(Input::Message {
        from: 3,
        msg: Message::LeaderInfo { new_epoch: 4 },
    });
    assert_eq!(z.role(), Role::Looking);
    assert_eq!(z.accepted_epoch(), 5);
    assert!(z
        .take_ready()
        .iter()
        .any(|o| matches!(o, Output::Disconnect { peer: 3 })));
}
