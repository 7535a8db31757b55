//! Four-letter words, answered on the client port before a handshake, in Java ZooKeeper's
//! output formats (mntr keys identical, so existing monitoring keeps working).

use std::fmt::Write;

use jute::consts::op;

use super::{full_version, ServerInfo};
use crate::pipeline::{Core, Now};

/// Every word Java ZooKeeper knows. Other 4-byte prefixes are read as a frame length.
const WORDS: &[&str] = &[
    "ruok", "stat", "srvr", "conf", "cons", "crst", "dump", "envi", "gtmk", "stmk", "srst", "wchc",
    "wchp", "wchs", "mntr", "isro", "hash", "dirs",
];

/// The word, if the first four bytes of a connection spell a known one.
pub fn word_of(first: i32) -> Option<&'static str> {
    let b = first.to_be_bytes();
    WORDS.iter().copied().find(|w| w.as_bytes() == b)
}

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|d| {
            d.filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn op_name(opcode: i32) -> &'static str {
    match opcode {
        op::CREATE | op::CREATE2 | op::CREATE_CONTAINER | op::CREATE_TTL => "CREA",
        op::DELETE => "DELE",
        op::EXISTS => "EXIS",
        op::GET_DATA => "GETD",
        op::SET_DATA => "SETD",
        op::GET_ACL => "GETA",
        op::SET_ACL => "SETA",
        op::GET_CHILDREN | op::GET_CHILDREN2 => "GETC",
        op::SYNC => "SYNC",
        op::PING => "PING",
        op::MULTI => "MULT",
        op::MULTI_READ => "MLTR",
        op::CHECK_WATCHES => "CHKW",
        op::REMOVE_WATCHES => "REMW",
        op::ADD_WATCH => "ADDW",
        op::SET_WATCHES | op::SET_WATCHES2 => "SETW",
        op::GET_EPHEMERALS => "GETE",
        op::GET_ALL_CHILDREN_NUMBER => "GETACN",
        op::WHO_AM_I => "HOMI",
        op::CLOSE_SESSION => "CLOS",
        op::CREATE_SESSION => "SESS",
        _ => "NA",
    }
}

fn server_stats(core: &Core, out: &mut String) {
    let s = &core.stats;
    let _ = writeln!(
        out,
        "Latency min/avg/max: {}/{:.4}/{}",
        s.min(),
        s.avg(),
        s.max_latency
    );
    let _ = writeln!(out, "Received: {}", s.packets_received);
    let _ = writeln!(out, "Sent: {}", s.packets_sent);
    let _ = writeln!(out, "Connections: {}", core.connection_count());
    let _ = writeln!(out, "Outstanding: {}", core.outstanding_requests());
    let _ = writeln!(out, "Zxid: 0x{:x}", core.last_zxid());
    let _ = writeln!(out, "Mode: standalone");
    let _ = writeln!(out, "Node count: {}", core.tree().node_count());
}

fn connections(core: &Core, out: &mut String, brief: bool) {
    for c in core.conn_infos() {
        let peer = c
            .peer
            .map_or_else(|| "unknown".to_owned(), |p| format!("/{p}"));
        let _ = write!(
            out,
            " {peer}[1](queued={},recved={},sent={}",
            c.queued, c.stats.received, c.stats.sent
        );
        if !brief {
            let st = &c.stats;
            let _ = write!(
                out,
                ",sid=0x{:x},lop={},est={},to={}",
                c.session,
                op_name(st.last_op),
                st.established_wall_ms,
                c.timeout
            );
            if st.last_cxid >= 0 {
                let _ = write!(out, ",lcxid=0x{:x}", st.last_cxid);
            }
            let _ = write!(
                out,
                ",lzxid=0x{:x},lresp={},llat={},minlat={},avglat={},maxlat={}",
                st.last_zxid,
                st.last_response_wall_ms,
                st.last_latency,
                st.min(),
                st.avg(),
                st.max_latency
            );
        }
        let _ = writeln!(out, ")");
    }
    out.push('\n');
}

pub fn render(word: &str, core: &mut Core, info: &ServerInfo, now: Now) -> String {
    let mut out = String::new();
    match word {
        "ruok" => out.push_str("imok"),
        "isro" => out.push_str("rw"),
        "srvr" => {
            let _ = writeln!(out, "Zookeeper version: {}", full_version());
            server_stats(core, &mut out);
        }
        "stat" => {
            let _ = writeln!(out, "Zookeeper version: {}", full_version());
            out.push_str("Clients:\n");
            connections(core, &mut out, true);
            server_stats(core, &mut out);
        }
        "cons" => connections(core, &mut out, false),
        "crst" => {
            core.reset_conn_stats(now);
            out.push_str("Connection stats reset.\n");
        }
        "srst" => {
            core.stats.reset();
            out.push_str("Server stats reset.\n");
        }
        "conf" => {
            let port = info.client_addr.map_or(0, |a| a.port());
            let _ = writeln!(out, "clientPort={port}");
            let _ = writeln!(out, "secureClientPort=-1");
            let _ = writeln!(out, "dataDir={}", info.data_dir.display());
            let _ = writeln!(out, "dataDirSize={}", dir_size(&info.data_dir));
            let _ = writeln!(out, "dataLogDir={}", info.data_log_dir.display());
            let _ = writeln!(out, "dataLogSize={}", dir_size(&info.data_log_dir));
            let _ = writeln!(out, "tickTime={}", info.tick_time);
            let _ = writeln!(out, "maxClientCnxns={}", info.max_client_cnxns);
            let _ = writeln!(out, "minSessionTimeout={}", info.min_session_timeout);
            let _ = writeln!(out, "maxSessionTimeout={}", info.max_session_timeout);
            let _ = writeln!(out, "clientPortListenBacklog=-1");
            let _ = writeln!(out, "serverId={}", info.server_id);
        }
        "envi" => {
            out.push_str("Environment:\n");
            let _ = writeln!(out, "zookeeper.version={}", full_version());
            let host = std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "localhost".into());
            let _ = writeln!(out, "host.name={host}");
            let _ = writeln!(out, "paddock.version={}", env!("CARGO_PKG_VERSION"));
            let _ = writeln!(out, "os.name={}", std::env::consts::OS);
            let _ = writeln!(out, "os.arch={}", std::env::consts::ARCH);
            if let Ok(d) = std::env::current_dir() {
                let _ = writeln!(out, "user.dir={}", d.display());
            }
        }
        "dirs" => {
            let _ = writeln!(out, "datadir_size: {}", dir_size(&info.data_dir));
            let _ = writeln!(out, "logdir_size: {}", dir_size(&info.data_log_dir));
        }
        "wchs" => {
            let w = &core.watches;
            let _ = writeln!(
                out,
                "{} connections watching {} paths",
                w.conn_count(),
                w.path_count()
            );
            let _ = writeln!(out, "Total watches:{}", w.count());
        }
        "wchc" => {
            let by_conn = core.watches.by_conn();
            let sessions: std::collections::HashMap<u64, i64> = core
                .conn_infos()
                .into_iter()
                .map(|c| (c.id, c.session))
                .collect();
            for (conn, paths) in by_conn {
                let _ = writeln!(out, "0x{:x}", sessions.get(&conn).copied().unwrap_or(0));
                for p in paths {
                    let _ = writeln!(out, "\t{p}");
                }
            }
        }
        "wchp" => {
            let sessions: std::collections::HashMap<u64, i64> = core
                .conn_infos()
                .into_iter()
                .map(|c| (c.id, c.session))
                .collect();
            for (p, conns) in core.watches.by_path() {
                let _ = writeln!(out, "{p}");
                for c in conns {
                    let _ = writeln!(out, "\t0x{:x}", sessions.get(&c).copied().unwrap_or(0));
                }
            }
        }
        "dump" => {
            out.push_str("SessionTracker dump:\n");
            let mut ids: Vec<i64> = core.sessions.iter().map(|s| s.id).collect();
            ids.sort_unstable();
            let _ = writeln!(out, "Global Sessions({}):", ids.len());
            for id in &ids {
                let to = core.sessions.get(*id).map_or(0, |s| s.timeout_ms);
                let _ = writeln!(out, "0x{id:x}\t{to}ms");
            }
            out.push_str("ephemeral nodes dump:\n");
            let mut eph: Vec<(i64, Vec<String>)> = core
                .tree()
                .ephemeral_sessions()
                .map(|(s, p)| (*s, p.iter().cloned().collect()))
                .collect();
            eph.sort();
            let _ = writeln!(out, "Sessions with Ephemerals ({}):", eph.len());
            for (sid, paths) in eph {
                let _ = writeln!(out, "0x{sid:x}:");
                for p in paths {
                    let _ = writeln!(out, "\t{p}");
                }
            }
            let conns = core.conn_infos();
            out.push_str("Connections dump:\n");
            let _ = writeln!(out, "Connections Sets (1)/({}):", conns.len());
            let _ = writeln!(out, "{} connections:", conns.len());
            for c in conns {
                let _ = writeln!(out, "0x{:x}", c.session);
            }
        }
        "mntr" => mntr(core, info, &mut out),
        "gtmk" => out.push_str("0\n"),
        "stmk" => out.push_str("0\n"),
        "hash" => {
            let _ = writeln!(out, "{}: 0", core.last_zxid());
        }
        _ => {}
    }
    out
}

fn mntr(core: &Core, info: &ServerInfo, out: &mut String) {
    let s = &core.stats;
    let tree = core.tree();
    let w = &core.watches;
    let mut kv = |k: &str, v: String| {
        let _ = writeln!(out, "zk_{k}\t{v}");
    };
    kv("version", full_version());
    kv("server_state", "standalone".into());
    kv("avg_latency", format!("{:.4}", s.avg()));
    kv("max_latency", s.max_latency.to_string());
    kv("min_latency", s.min().to_string());
    kv("packets_received", s.packets_received.to_string());
    kv("packets_sent", s.packets_sent.to_string());
    kv("num_alive_connections", core.connection_count().to_string());
    kv(
        "outstanding_requests",
        core.outstanding_requests().to_string(),
    );
    kv("znode_count", tree.node_count().to_string());
    kv("watch_count", w.count().to_string());
    kv("ephemerals_count", tree.ephemeral_count().to_string());
    kv(
        "approximate_data_size",
        tree.approximate_data_size().to_string(),
    );
    kv("open_file_descriptor_count", open_fds().to_string());
    kv("max_file_descriptor_count", max_fds().to_string());
    kv("global_sessions", core.sessions.len().to_string());
    kv("local_sessions", "0".into());
    kv("uptime", (core.stats_uptime()).to_string());
    kv("last_client_response_size", "-1".into());
    kv("max_client_response_size", "-1".into());
    kv("min_client_response_size", "-1".into());
    kv("connection_drop_probability", "0.0".into());
    kv("data_dir_size", dir_size(&info.data_dir).to_string());
    kv("log_dir_size", dir_size(&info.data_log_dir).to_string());
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

fn max_fds() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
