//! Quota bookkeeping, as ZooKeeper's DataTree keeps it: creating
//! `/zookeeper/quota/<path>/zookeeper_limits` makes `<path>` a quota root; creating its
//! `zookeeper_stats` node recomputes the subtree's node count and data bytes into it; every
//! create, delete and setData under a quota root then adjusts the deepest root's stats node.
//! These updates are local (no txn), on every server, exactly as Java does them. Quotas are
//! not enforced (Java enforces them only with `zookeeper.enforceQuota=true`).

use std::collections::BTreeMap;

pub const QUOTA_ROOT: &str = "/zookeeper/quota";
pub const LIMITS_NODE: &str = "zookeeper_limits";
pub const STATS_NODE: &str = "zookeeper_stats";

/// `org.apache.zookeeper.StatsTrack`: `count=N,bytes=M` and, after an extra `=`, other keys
/// sorted and `;`-separated.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StatsTrack(BTreeMap<String, i64>);

impl StatsTrack {
    pub fn parse(text: &str) -> StatsTrack {
        let mut m = BTreeMap::new();
        for pair in text.split([',', ';']).filter(|p| !p.is_empty()) {
            let mut kv = pair.split('=').filter(|s| !s.is_empty());
            if let (Some(k), v) = (kv.next(), kv.next()) {
                m.insert(k.to_owned(), v.and_then(|v| v.parse().ok()).unwrap_or(-1));
            }
        }
        StatsTrack(m)
    }

    pub fn new(count: i64, bytes: i64) -> StatsTrack {
        let mut s = StatsTrack::default();
        s.0.insert("count".into(), count);
        s.0.insert("bytes".into(), bytes);
        s
    }

    fn get(&self, k: &str) -> i64 {
        self.0.get(k).copied().unwrap_or(-1)
    }

    pub fn add(&mut self, count: i64, bytes: i64) {
        let (c, b) = (self.get("count") + count, self.get("bytes") + bytes);
        self.0.insert("count".into(), c);
        self.0.insert("bytes".into(), b);
    }

    pub fn render(&self) -> String {
        let mut out = format!("count={},bytes={}", self.get("count"), self.get("bytes"));
        let extra: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| *k != "count" && *k != "bytes")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !extra.is_empty() {
            out.push('=');
            for e in extra {
                out.push(';');
                out.push_str(&e);
            }
        }
        out
    }
}

/// `/zookeeper/quota/a/b` → `/a/b`.
pub fn trim(quota_path: &str) -> &str {
    quota_path.strip_prefix(QUOTA_ROOT).unwrap_or(quota_path)
}

pub fn stats_path(root: &str) -> String {
    format!("{QUOTA_ROOT}{root}/{STATS_NODE}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_format() {
        let mut s = StatsTrack::parse("count=-1,bytes=-1=;byteHardLimit=100;countHardLimit=5");
        assert_eq!(
            s.render(),
            "count=-1,bytes=-1=;byteHardLimit=100;countHardLimit=5"
        );
        s.add(2, 10);
        assert_eq!(
            s.render(),
            "count=1,bytes=9=;byteHardLimit=100;countHardLimit=5"
        );
        assert_eq!(StatsTrack::new(4, 16).render(), "count=4,bytes=16");
        assert_eq!(trim("/zookeeper/quota/a/b"), "/a/b");
    }
}
