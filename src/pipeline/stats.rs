//! Counters behind `srvr`, `stat`, `cons` and `mntr`.

use std::net::SocketAddr;

use super::Now;

#[derive(Debug, Clone)]
pub struct ServerStats {
    pub packets_received: u64,
    pub packets_sent: u64,
    pub min_latency: u64,
    pub max_latency: u64,
    pub total_latency: u64,
    pub count: u64,
    pub started_wall_ms: i64,
    /// Txns whose logged digest differed from the tree's once applied (`zk_digest_mismatches_count`).
    pub digest_mismatches: u64,
}

impl ServerStats {
    pub fn new(now_wall_ms: i64) -> Self {
        ServerStats {
            packets_received: 0,
            packets_sent: 0,
            min_latency: u64::MAX,
            max_latency: 0,
            total_latency: 0,
            count: 0,
            started_wall_ms: now_wall_ms,
            digest_mismatches: 0,
        }
    }

    pub fn record_latency(&mut self, ms: u64) {
        self.min_latency = self.min_latency.min(ms);
        self.max_latency = self.max_latency.max(ms);
        self.total_latency += ms;
        self.count += 1;
    }

    pub fn min(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.min_latency
        }
    }

    pub fn avg(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total_latency as f64 / self.count as f64
        }
    }

    pub fn reset(&mut self) {
        let started = self.started_wall_ms;
        *self = ServerStats::new(started);
    }
}

#[derive(Debug, Clone)]
pub struct ConnStats {
    pub received: u64,
    pub sent: u64,
    pub established_wall_ms: i64,
    pub last_op: i32,
    pub last_cxid: i32,
    pub last_zxid: i64,
    pub last_response_mono_ms: u64,
    pub last_latency: u64,
    pub min_latency: u64,
    pub max_latency: u64,
    pub total_latency: u64,
    pub count: u64,
}

impl ConnStats {
    pub fn new(now: Now) -> Self {
        ConnStats {
            received: 0,
            sent: 0,
            established_wall_ms: now.wall_ms,
            last_op: -1,
            last_cxid: -1,
            last_zxid: -1,
            last_response_mono_ms: 0,
            last_latency: 0,
            min_latency: u64::MAX,
            max_latency: 0,
            total_latency: 0,
            count: 0,
        }
    }

    pub fn record(&mut self, now: Now, op: i32, xid: i32, zxid: i64, latency: u64) {
        self.last_op = op;
        self.last_cxid = xid;
        self.last_zxid = zxid;
        self.last_response_mono_ms = now.mono_ms;
        self.last_latency = latency;
        self.min_latency = self.min_latency.min(latency);
        self.max_latency = self.max_latency.max(latency);
        self.total_latency += latency;
        self.count += 1;
    }

    pub fn min(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.min_latency
        }
    }

    pub fn avg(&self) -> u64 {
        self.total_latency.checked_div(self.count).unwrap_or(0)
    }
}

#[derive(Debug, Clone)]
pub struct ConnInfo {
    pub id: u64,
    pub peer: Option<SocketAddr>,
    pub session: i64,
    pub timeout: i32,
    pub queued: usize,
    pub stats: ConnStats,
}
