//! What each pipelined workload sends next, and where its znodes live.

use bytes::Bytes;
use jute::consts::create_mode;
use jute::data::Acl;
use jute::proto::{
    CreateRequest, DeleteRequest, ExistsRequest, GetChildrenRequest, GetDataRequest, MultiOp,
    Request, SetDataRequest,
};

use crate::args::Workload;

/// Tags that label a request so its reply can be counted per kind.
pub const TAG_READ: u8 = 0;
pub const TAG_WRITE: u8 = 1;

/// The znode layout under the bench's root.
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: String,
    /// The key-space directory's name carries the key count and value size, so a get never
    /// reads values another run wrote with a different size, and a run finds its keys ready
    /// when an identical run made them before.
    keys_dir: String,
}

impl Layout {
    pub fn new(root: &str, keys: u32, value_size: u32) -> Layout {
        Layout {
            root: root.to_string(),
            keys_dir: format!("{root}/keys-{keys}x{value_size}"),
        }
    }
    pub fn keys_dir(&self) -> String {
        self.keys_dir.clone()
    }
    pub fn key(&self, i: u32) -> String {
        format!("{}/k{i}", self.keys_dir)
    }
    /// The node with `n` children; the count is in its name so that runs asking for
    /// different counts never list each other's.
    pub fn children_dir(&self, n: u32) -> String {
        format!("{}/children-{n}", self.root)
    }
    pub fn child(&self, n: u32, i: u32) -> String {
        format!("{}/children-{n}/c{i:06}", self.root)
    }
    pub fn create_dir(&self) -> String {
        format!("{}/create", self.root)
    }
    pub fn churn_dir(&self) -> String {
        format!("{}/churn", self.root)
    }
    pub fn watch_node(&self) -> String {
        format!("{}/watch", self.root)
    }
}

/// xorshift64*: fast, seedable, and good enough to spread keys; the bench needs no more.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Zero is xorshift's fixed point.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0), by multiply-shift: no modulo bias worth measuring.
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * n as u64) >> 32) as u32
    }
}

/// Per-session request generator for the pipelined workloads.
pub struct OpGen {
    workload: Workload,
    layout: Layout,
    rng: Rng,
    value: Bytes,
    keys: u32,
    children: u32,
    read_percent: u8,
    multi_size: u32,
    /// Unique prefix of the znodes this session creates: run id and session number.
    prefix: String,
    seq: u64,
    /// Churn: the ephemeral created last, to be deleted next.
    to_delete: Option<String>,
}

pub struct GenParams {
    pub workload: Workload,
    pub layout: Layout,
    pub value: Bytes,
    pub keys: u32,
    pub children: u32,
    pub read_percent: u8,
    pub multi_size: u32,
    pub run_id: u64,
}

impl OpGen {
    pub fn new(p: &GenParams, session: u32) -> OpGen {
        let dir = match p.workload {
            Workload::Churn => p.layout.churn_dir(),
            _ => p.layout.create_dir(),
        };
        OpGen {
            workload: p.workload,
            layout: p.layout.clone(),
            rng: Rng::new(p.run_id ^ ((session as u64 + 1) << 32)),
            value: p.value.clone(),
            keys: p.keys,
            children: p.children,
            read_percent: p.read_percent,
            multi_size: p.multi_size,
            prefix: format!("{dir}/{:x}-{session}-", p.run_id),
            seq: 0,
            to_delete: None,
        }
    }

    fn random_key(&mut self) -> String {
        let i = self.rng.below(self.keys);
        self.layout.key(i)
    }

    fn set(&mut self) -> Request {
        Request::SetData(SetDataRequest {
            path: self.random_key(),
            data: Some(self.value.clone()),
            version: -1,
        })
    }

    fn get(&mut self) -> Request {
        Request::GetData(GetDataRequest {
            path: self.random_key(),
            watch: false,
        })
    }

    fn fresh_path(&mut self) -> String {
        self.seq += 1;
        format!("{}{}", self.prefix, self.seq)
    }

    fn create(&mut self, path: String, flags: i32) -> Request {
        Request::Create(CreateRequest {
            path,
            data: Some(self.value.clone()),
            acl: vec![Acl::new(jute::consts::perms::ALL, "world", "anyone")],
            flags,
        })
    }

    /// Paths of the persistent znodes this generator has had created so far (the `create`
    /// workload's; churn's ephemerals delete themselves).
    pub fn created(&self) -> impl Iterator<Item = String> + '_ {
        let n = if self.workload == Workload::Create {
            self.seq
        } else {
            0
        };
        (1..=n).map(move |i| format!("{}{i}", self.prefix))
    }

    /// The next request and its tag.
    pub fn next(&mut self) -> (Request, u8) {
        match self.workload {
            Workload::Create => {
                let path = self.fresh_path();
                (self.create(path, create_mode::PERSISTENT), TAG_WRITE)
            }
            Workload::Set => (self.set(), TAG_WRITE),
            Workload::Get => (self.get(), TAG_READ),
            Workload::Exists => {
                let path = self.random_key();
                (
                    Request::Exists(ExistsRequest { path, watch: false }),
                    TAG_READ,
                )
            }
            Workload::Children => (
                Request::GetChildren(GetChildrenRequest {
                    path: self.layout.children_dir(self.children),
                    watch: false,
                }),
                TAG_READ,
            ),
            Workload::Mixed => {
                if self.rng.below(100) < self.read_percent as u32 {
                    (self.get(), TAG_READ)
                } else {
                    (self.set(), TAG_WRITE)
                }
            }
            Workload::Multi => {
                let ops = (0..self.multi_size)
                    .map(|_| match self.set() {
                        Request::SetData(s) => MultiOp::SetData(s),
                        _ => unreachable!("set() builds a SetData"),
                    })
                    .collect();
                (Request::Multi(ops), TAG_WRITE)
            }
            Workload::Churn => match self.to_delete.take() {
                // Replies come in send order, so the delete is prepared after its create.
                Some(path) => (
                    Request::Delete(DeleteRequest { path, version: -1 }),
                    TAG_WRITE,
                ),
                None => {
                    let path = self.fresh_path();
                    self.to_delete = Some(path.clone());
                    (self.create(path, create_mode::EPHEMERAL), TAG_WRITE)
                }
            },
            Workload::Connect | Workload::Fanout | Workload::Fsync => {
                unreachable!("{} is not a pipelined workload", self.workload.name())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen(w: Workload) -> OpGen {
        OpGen::new(
            &GenParams {
                workload: w,
                layout: Layout::new("/b", 7, 1),
                value: Bytes::from_static(b"v"),
                keys: 7,
                children: 5,
                read_percent: 90,
                multi_size: 10,
                run_id: 0xab,
            },
            3,
        )
    }

    #[test]
    fn rng_stays_in_range_and_spreads() {
        let mut r = Rng::new(0);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            seen[r.below(7) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 800), "{seen:?}");
    }

    #[test]
    fn creates_are_unique_per_session_and_run() {
        let mut g = gen(Workload::Create);
        let paths: Vec<String> = (0..3)
            .map(|_| match g.next().0 {
                Request::Create(c) => c.path,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            paths,
            ["/b/create/ab-3-1", "/b/create/ab-3-2", "/b/create/ab-3-3"]
        );
    }

    #[test]
    fn churn_deletes_what_it_created() {
        let mut g = gen(Workload::Churn);
        let (Request::Create(c), _) = g.next() else {
            panic!()
        };
        assert_eq!(c.flags, create_mode::EPHEMERAL);
        let (Request::Delete(d), _) = g.next() else {
            panic!()
        };
        assert_eq!(d.path, c.path);
        let (Request::Create(c2), _) = g.next() else {
            panic!()
        };
        assert_ne!(c2.path, c.path);
    }

    #[test]
    fn mixed_is_mostly_reads_and_keys_stay_in_the_key_space() {
        let mut g = gen(Workload::Mixed);
        let mut reads = 0;
        for _ in 0..1000 {
            let (req, tag) = g.next();
            let path = match &req {
                Request::GetData(r) => r.path.clone(),
                Request::SetData(r) => r.path.clone(),
                other => panic!("{other:?}"),
            };
            let i: u32 = path.strip_prefix("/b/keys-7x1/k").unwrap().parse().unwrap();
            assert!(i < 7);
            if tag == TAG_READ {
                reads += 1;
            }
        }
        assert!((850..=950).contains(&reads), "{reads} reads of 1000");
    }

    #[test]
    fn multi_has_the_asked_size() {
        let (Request::Multi(ops), _) = gen(Workload::Multi).next() else {
            panic!()
        };
        assert_eq!(ops.len(), 10);
        assert!(ops.iter().all(|o| matches!(o, MultiOp::SetData(_))));
    }
}
