//! The command line: which workload, against which servers, with how much concurrency, for
//! how long.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// A ZooKeeper load generator. It speaks the client protocol itself with many pipelined
/// requests per session, so one client process can keep a server busy, and it reports its own
/// CPU use so a saturated client is not mistaken for a slow server.
#[derive(Parser, Debug, Clone)]
#[command(name = "paddock-bench", version, about)]
pub struct Args {
    /// What to measure.
    #[arg(long, short = 'w', value_enum)]
    pub workload: Workload,
    /// Servers as a comma list of host:port; sessions are spread over them round-robin.
    #[arg(long, default_value = "127.0.0.1:2181", value_parser = parse_servers)]
    pub servers: Servers,
    /// Client sessions (TCP connections). For `fanout`, the number of watching sessions.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub sessions: u32,
    /// Requests in flight per session.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub outstanding: u32,
    /// How long to run, in seconds (fractions allowed). Ignored when --ops is given.
    #[arg(long, default_value = "10", value_parser = parse_seconds)]
    pub duration: Duration,
    /// Stop after this many operations in total instead of after --duration.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub ops: Option<u64>,
    /// Seconds at the start whose latencies and operations are not counted.
    #[arg(long, default_value = "0", value_parser = parse_seconds)]
    pub warmup: Duration,
    /// Bytes of data per znode written.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub value_size: u32,
    /// Distinct znodes that set, get, exists, mixed and multi pick from.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub keys: u32,
    /// Children of the node that `children` lists.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub children: u32,
    /// Operations in one `multi`.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub multi_size: u32,
    /// Percentage of reads in `mixed`.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub read_percent: u8,
    /// Parent znode under which the bench keeps everything it creates.
    #[arg(long, default_value = "/bench", value_parser = parse_root)]
    pub root: String,
    /// Session timeout asked for, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub session_timeout_ms: i32,
    /// Client worker threads (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: Option<u32>,
    /// Directory for the `fsync` workload's scratch file (default: the current directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// `create`: leave the created znodes in place. By default they are deleted after the run
    /// (untimed), so that one run does not grow the tree every later run works on.
    #[arg(long)]
    pub keep: bool,
    /// Print the result as one JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// No live rate line on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// create of new persistent znodes holding --value-size bytes (deleted afterwards unless --keep)
    Create,
    /// setData of random existing keys
    Set,
    /// getData of random existing keys
    Get,
    /// exists of random existing keys
    Exists,
    /// getChildren of one node with --children children
    Children,
    /// --read-percent getData, the rest setData, of random keys
    Mixed,
    /// multi of --multi-size setData ops on random keys (an op is one multi)
    Multi,
    /// create then delete of ephemeral znodes, pipelined (an op is one create or delete)
    Churn,
    /// session establishment: connect + handshake (timed), then closeSession
    Connect,
    /// --sessions watchers on one node; time from setData until all notifications arrive
    Fanout,
    /// no server: 4 KiB write + fdatasync in a loop, the disk's floor under every write
    Fsync,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Create => "create",
            Workload::Set => "set",
            Workload::Get => "get",
            Workload::Exists => "exists",
            Workload::Children => "children",
            Workload::Mixed => "mixed",
            Workload::Multi => "multi",
            Workload::Churn => "churn",
            Workload::Connect => "connect",
            Workload::Fanout => "fanout",
            Workload::Fsync => "fsync",
        }
    }
}

/// The server list, at least one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Servers(pub Vec<SocketAddr>);

fn parse_servers(s: &str) -> Result<Servers, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let addr = std::net::ToSocketAddrs::to_socket_addrs(part)
            .map_err(|e| format!("{part}: {e}"))?
            .next()
            .ok_or_else(|| format!("{part}: no address"))?;
        out.push(addr);
    }
    if out.is_empty() {
        return Err("at least one host:port is needed".into());
    }
    Ok(Servers(out))
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .trim_end_matches('s')
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
        return Err(format!("{s:?} must be between 0 and 86400 seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A znode path the server will accept as a parent: absolute, no trailing slash, no empty or
/// relative segments.
fn parse_root(s: &str) -> Result<String, String> {
    let ok = s.starts_with('/')
        && s.len() > 1
        && !s.ends_with('/')
        && s[1..]
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not an absolute znode path below /"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("paddock-bench").chain(args.iter().copied()))
    }

    #[test]
    fn defaults() {
        let a = parse(&["--workload", "get"]).unwrap();
        assert_eq!(a.workload, Workload::Get);
        assert_eq!(a.servers.0, vec!["127.0.0.1:2181".parse().unwrap()]);
        assert_eq!((a.sessions, a.outstanding), (4, 32));
        assert_eq!(a.duration, Duration::from_secs(10));
        assert_eq!((a.ops, a.value_size, a.keys), (None, 100, 10_000));
        assert_eq!(a.root, "/bench");
        assert!(!a.json);
    }

    #[test]
    fn every_option() {
        let a = parse(&[
            "-w",
            "mixed",
            "--servers",
            "127.0.0.1:1, 127.0.0.1:2",
            "--sessions",
            "8",
            "--outstanding",
            "64",
            "--duration",
            "2.5s",
            "--ops",
            "1000",
            "--value-size",
            "0",
            "--keys",
            "5",
            "--read-percent",
            "50",
            "--root",
            "/a/b",
            "--json",
        ])
        .unwrap();
        assert_eq!(a.servers.0.len(), 2);
        assert_eq!(a.servers.0[1].port(), 2);
        assert_eq!((a.sessions, a.outstanding), (8, 64));
        assert_eq!(a.duration, Duration::from_millis(2500));
        assert_eq!(a.ops, Some(1000));
        assert_eq!((a.value_size, a.keys, a.read_percent), (0, 5, 50));
        assert_eq!(a.root, "/a/b");
        assert!(a.json);
    }

    #[test]
    fn bad_values_are_errors() {
        for bad in [
            &["-w", "nosuch"][..],
            &["-w", "get", "--servers", ""],
            &["-w", "get", "--servers", "nohostport"],
            &["-w", "get", "--sessions", "0"],
            &["-w", "get", "--outstanding", "0"],
            &["-w", "get", "--duration", "-1"],
            &["-w", "get", "--duration", "NaN"],
            &["-w", "get", "--ops", "0"],
            &["-w", "get", "--read-percent", "101"],
            &["-w", "get", "--root", "bench"],
            &["-w", "get", "--root", "/"],
            &["-w", "get", "--root", "/a//b"],
            &["-w", "get", "--root", "/a/"],
            &[],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn workload_names_match_the_command_line() {
        for &w in Workload::value_variants() {
            let a = parse(&["-w", w.name()]).unwrap();
            assert_eq!(a.workload, w);
        }
    }
}
