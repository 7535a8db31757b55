//! Four-letter words, answered on the client port before a handshake, in Java ZooKeeper's
//! output formats. `mntr` prints every key Java 3.8 prints, in the same order, so monitoring
//! built on it keeps working; keys for machinery Paddock does not have (TLS, learners,
//! response caches, ...) report 0. Formats were captured from Debian's ZooKeeper 3.8.0
//! (compat-tests/fixtures/4lw-java/).

use std::fmt::Write;
use std::net::SocketAddr;

use jute::consts::op;

use super::{full_version, ServerInfo};
use crate::pipeline::{Core, Now};

/// Every word Java ZooKeeper knows. Other 4-byte prefixes are read as a frame length.
const WORDS: &[&str] = &[
    "ruok", "stat", "srvr", "conf", "cons", "crst", "dump", "envi", "gtmk", "stmk", "srst", "wchc",
    "wchp", "wchs", "mntr", "isro", "hash", "dirs",
];

/// ZooKeeper's default trace mask, reported by `gtmk`.
const TRACE_MASK: u64 = 306;

/// `mntr` keys as Java 3.8 prints them, each with its value kind (`f` float, `i` integer).
const MNTR_KEYS: &str = include_str!("mntr_keys.tsv");

/// The word, if the first four bytes of a connection spell a known one.
pub fn word_of(first: i32) -> Option<&'static str> {
    let b = first.to_be_bytes();
    WORDS.iter().copied().find(|w| w.as_bytes() == b)
}

/// A Java `double` as `Double.toString` prints it (after Java's 4-decimal rounding).
fn java_double(x: f64) -> String {
    let x = (x * 10_000.0).round() / 10_000.0;
    if x.fract() == 0.0 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// `java.util.Date.toString()` in UTC: `Mon Nov 23 12:56:44 UTC 2026`.
fn java_date(wall_ms: i64) -> String {
    let secs = wall_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        y
    )
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
        op::GET_CHILDREN => "GETC",
        op::GET_CHILDREN2 => "GETC",
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

/// Java counts the root twice (as "" and "/"), so its node count is one higher.
fn node_count(core: &Core) -> usize {
    core.tree().node_count() + 1
}

fn server_stats(core: &Core, out: &mut String) {
    let s = &core.stats;
    let _ = writeln!(
        out,
        "Latency min/avg/max: {}/{}/{}",
        s.min(),
        java_double(s.avg()),
        s.max_latency
    );
    let _ = writeln!(out, "Received: {}", s.packets_received);
    let _ = writeln!(out, "Sent: {}", s.packets_sent);
    let _ = writeln!(out, "Connections: {}", core.connection_count() + 1);
    let _ = writeln!(out, "Outstanding: {}", core.outstanding_requests());
    let _ = writeln!(out, "Zxid: 0x{:x}", core.last_zxid());
    let _ = writeln!(out, "Mode: standalone");
    let _ = writeln!(out, "Node count: {}", node_count(core));
}

/// One line per connection; the asking connection itself is listed too, as in Java.
fn connections(core: &Core, me: Option<SocketAddr>, out: &mut String, brief: bool) {
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
                st.last_response_mono_ms,
                st.last_latency,
                st.min(),
                st.avg(),
                st.max_latency
            );
        }
        let _ = writeln!(out, ")");
    }
    if let Some(me) = me {
        let _ = writeln!(out, " /{me}[0](queued=0,recved=1,sent=0)");
    }
    out.push('\n');
}

pub fn render(
    word: &str,
    core: &mut Core,
    info: &ServerInfo,
    now: Now,
    me: Option<SocketAddr>,
) -> String {
    let mut out = String::new();
    match word {
        // imok means "serving"; a server that can no longer make writes durable is not.
        "ruok" if core.storage_failed() => {}
        "ruok" => out.push_str("imok"),
        "isro" => out.push_str("rw"),
        "srvr" => {
            let _ = writeln!(out, "Zookeeper version: {}", full_version());
            server_stats(core, &mut out);
        }
        "stat" => {
            let _ = writeln!(out, "Zookeeper version: {}", full_version());
            out.push_str("Clients:\n");
            connections(core, me, &mut out, true);
            server_stats(core, &mut out);
        }
        "cons" => connections(core, me, &mut out, false),
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
        // Java's wchs/wchc/wchp report the data-watch table.
        "wchs" => {
            let (conns, paths, total) = core.watches.data_summary();
            let _ = writeln!(out, "{conns} connections watching {paths} paths");
            let _ = writeln!(out, "Total watches:{total}");
        }
        "wchc" => {
            let sessions = session_of_conn(core);
            for (conn, paths) in core.watches.data_by_conn() {
                let _ = writeln!(out, "0x{:x}", sessions(conn));
                for p in paths {
                    let _ = writeln!(out, "\t{p}");
                }
            }
            out.push('\n');
        }
        "wchp" => {
            let sessions = session_of_conn(core);
            for (p, conns) in core.watches.data_by_path() {
                let _ = writeln!(out, "{p}");
                for c in conns {
                    let _ = writeln!(out, "\t0x{:x}", sessions(c));
                }
            }
            out.push('\n');
        }
        "dump" => dump(core, now, &mut out),
        "mntr" => mntr(core, info, now, &mut out),
        "gtmk" => {
            let _ = write!(out, "{TRACE_MASK}");
        }
        "stmk" => {
            let _ = write!(out, "{TRACE_MASK}");
        }
        // Tree digests are not kept (zookeeper.digest.enabled's history is empty).
        "hash" => {}
        _ => {}
    }
    out
}

fn session_of_conn(core: &Core) -> impl Fn(u64) -> i64 {
    let map: std::collections::HashMap<u64, i64> = core
        .conn_infos()
        .into_iter()
        .map(|c| (c.id, c.session))
        .collect();
    move |conn| map.get(&conn).copied().unwrap_or(0)
}

fn dump(core: &Core, now: Now, out: &mut String) {
    let wall_of = |mono: u64| now.wall_ms + mono as i64 - now.mono_ms as i64;
    out.push_str("SessionTracker dump:\n");
    let buckets: Vec<(u64, Vec<i64>)> = core
        .sessions
        .buckets()
        .map(|(t, ids)| (t, ids.iter().copied().collect()))
        .collect();
    let _ = writeln!(
        out,
        "Session Sets ({})/({}):",
        buckets.len(),
        core.sessions.len()
    );
    for (t, ids) in buckets {
        let _ = writeln!(out, "{} expire at {}:", ids.len(), java_date(wall_of(t)));
        for id in ids {
            let _ = writeln!(out, "\t0x{id:x}");
        }
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
    let _ = writeln!(out, "{} expire at {}:", conns.len(), java_date(now.wall_ms));
    for c in conns {
        let peer = c
            .peer
            .map_or_else(|| "unknown".to_owned(), |p| format!("/{p}"));
        let _ = writeln!(out, "\tip: {peer} sessionId: 0x{:x}", c.session);
    }
}

fn mntr(core: &Core, info: &ServerInfo, now: Now, out: &mut String) {
    let s = &core.stats;
    let tree = core.tree();
    let value = |key: &str| -> Option<String> {
        Some(match key {
            "zk_version" => full_version(),
            "zk_server_state" => "standalone".into(),
            "zk_ephemerals_count" => tree.ephemeral_count().to_string(),
            "zk_num_alive_connections" => (core.connection_count() + 1).to_string(),
            "zk_avg_latency" => java_double(s.avg()),
            "zk_min_latency" => s.min().to_string(),
            "zk_max_latency" => s.max_latency.to_string(),
            "zk_outstanding_requests" => core.outstanding_requests().to_string(),
            "zk_znode_count" => node_count(core).to_string(),
            "zk_global_sessions" => core.sessions.len().to_string(),
            "zk_packets_sent" => s.packets_sent.to_string(),
            "zk_packets_received" => s.packets_received.to_string(),
            "zk_watch_count" => core.watches.count().to_string(),
            "zk_approximate_data_size" => tree.approximate_data_size().to_string(),
            "zk_open_file_descriptor_count" => open_fds().to_string(),
            "zk_max_file_descriptor_count" => max_fds().to_string(),
            "zk_uptime" => (now.wall_ms - s.started_wall_ms).max(0).to_string(),
            "zk_data_dir_size" => dir_size(&info.data_dir).to_string(),
            "zk_unrecoverable_error_count" => (core.storage_failed() as u8).to_string(),
            "zk_digest_mismatches_count" => s.digest_mismatches.to_string(),
            "zk_log_dir_size" => dir_size(&info.data_log_dir).to_string(),
            _ => return None,
        })
    };
    for line in MNTR_KEYS.lines() {
        let Some((key, kind)) = line.split_once('\t') else {
            continue;
        };
        let v = value(key).unwrap_or_else(|| {
            if kind == "f" {
                "0.0".into()
            } else {
                "0".into()
            }
        });
        let _ = writeln!(out, "{key}\t{v}");
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_formats() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(2.5), "2.5");
        assert_eq!(java_double(0.24561), "0.2456");
        assert_eq!(java_date(1_795_438_604_000), "Mon Nov 23 12:56:44 UTC 2026");
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
    }

    #[test]
    fn mntr_key_list_is_javas() {
        let n = MNTR_KEYS.lines().count();
        assert!(n > 400, "{n}");
        assert!(MNTR_KEYS.lines().any(|l| l.starts_with("zk_znode_count\t")));
    }
}
