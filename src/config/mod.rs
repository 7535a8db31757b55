//! Configuration from a Java ZooKeeper `zoo.cfg` (Java properties syntax) and `myid`, with
//! ZooKeeper's defaults. Unknown keys are logged and ignored, as ZooKeeper does; a value that
//! does not parse stops start-up with an error naming the key and the value.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid value for {key}: {value:?} ({why})")]
    BadValue {
        key: String,
        value: String,
        why: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// One `server.N=host:quorumPort:electionPort[:role][;[clientAddr:]clientPort]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    pub id: u64,
    pub host: String,
    pub quorum_port: u16,
    pub election_port: u16,
    pub observer: bool,
    pub client: Option<(String, u16)>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub tick_time: u32,
    pub data_dir: PathBuf,
    pub data_log_dir: Option<PathBuf>,
    pub client_port: u16,
    pub client_port_address: IpAddr,
    pub max_client_cnxns: u32,
    pub min_session_timeout: Option<u32>,
    pub max_session_timeout: Option<u32>,
    /// Lower-case words; `None` means every word (`*`).
    pub four_letter_whitelist: Option<Vec<String>>,
    pub jute_max_buffer: usize,
    pub extended_types_enabled: bool,
    pub super_digest: Option<String>,
    pub skip_acl: bool,
    pub init_limit: u32,
    pub sync_limit: u32,
    pub servers: Vec<ServerSpec>,
    pub container_check_interval_ms: u64,
    pub container_max_per_minute: u32,
    pub global_outstanding_limit: usize,
    /// Every key as read, for `conf` and later subsystems.
    pub raw: BTreeMap<String, String>,
}

impl Default for Config {
    /// The embedded defaults `paddock` runs with when given no config file: zoo_sample.cfg's
    /// values, bound to loopback, data under ./data.
    fn default() -> Self {
        Config {
            tick_time: 2000,
            data_dir: PathBuf::from("data"),
            data_log_dir: None,
            client_port: 2181,
            client_port_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            max_client_cnxns: 60,
            min_session_timeout: None,
            max_session_timeout: None,
            four_letter_whitelist: Some(vec!["srvr".into()]),
            jute_max_buffer: jute::DEFAULT_MAX_BUFFER,
            extended_types_enabled: false,
            super_digest: None,
            skip_acl: false,
            init_limit: 10,
            sync_limit: 5,
            servers: Vec::new(),
            container_check_interval_ms: 60_000,
            container_max_per_minute: 10_000,
            global_outstanding_limit: 1000,
            raw: BTreeMap::new(),
        }
    }
}

/// Keys ZooKeeper knows that Paddock reads later or accepts without acting on yet.
const KNOWN_PASSIVE: &[&str] = &[
    "admin.enableServer",
    "admin.serverAddress",
    "admin.serverPort",
    "admin.commandURL",
    "admin.idleTimeout",
    "autopurge.snapRetainCount",
    "autopurge.purgeInterval",
    "snapCount",
    "preAllocSize",
    "forceSync",
    "fsync.warningthresholdms",
    "snapshot.compression.method",
    "syncEnabled",
    "electionAlg",
    "peerType",
    "standaloneEnabled",
    "reconfigEnabled",
    "dynamicConfigFile",
    "quorumListenOnAllIPs",
    "secureClientPort",
    "secureClientPortAddress",
    "metricsProvider.className",
    "metricsProvider.httpPort",
    "metricsProvider.httpHost",
    "metricsProvider.exportJvmInfo",
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "globalOutstandingLimit",
    "snapSizeLimitInKb",
    "txnLogSizeLimitInKb",
    "connectToLearnerMasterLimit",
    "readonlymode.enabled",
    "zookeeper.snapshot.trust.empty",
    "clientCnxnSocket",
    "serverCnxnFactory",
    "authProvider.1",
    "authProvider.2",
    "authProvider.3",
    "sessionRequireClientSASLAuth",
];

fn bad(key: &str, value: &str, why: impl Into<String>) -> ConfigError {
    ConfigError::BadValue {
        key: key.into(),
        value: value.into(),
        why: why.into(),
    }
}

fn int<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| bad(key, value, "not a valid number"))
}

fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        _ => Err(bad(key, value, "expected true or false")),
    }
}

/// Java `Properties` lines: `key=value`, `key: value` or `key value`; `#`/`!` comments.
fn properties(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let idx = line.find(['=', ':', ' ', '\t']).unwrap_or(line.len());
        let key = line[..idx].trim().to_owned();
        let mut rest = line[idx..].trim_start();
        if rest.starts_with('=') || rest.starts_with(':') {
            rest = rest[1..].trim_start();
        }
        out.push((key, rest.trim_end().to_owned()));
    }
    out
}

fn parse_server(key: &str, id: u64, value: &str) -> Result<ServerSpec, ConfigError> {
    let (addr, client) = match value.split_once(';') {
        Some((a, c)) => (a.trim(), Some(c.trim())),
        None => (value.trim(), None),
    };
    let parts: Vec<&str> = addr.split(':').collect();
    if parts.len() < 3 || parts.len() > 4 {
        return Err(bad(
            key,
            value,
            "expected host:quorumPort:electionPort[:participant|observer]",
        ));
    }
    let observer = match parts.get(3).map(|s| s.to_ascii_lowercase()) {
        None => false,
        Some(r) if r == "participant" => false,
        Some(r) if r == "observer" => true,
        Some(_) => return Err(bad(key, value, "role must be participant or observer")),
    };
    let client = match client {
        None => None,
        Some(c) => Some(match c.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), int::<u16>(key, p)?),
            None => ("0.0.0.0".to_owned(), int::<u16>(key, c)?),
        }),
    };
    Ok(ServerSpec {
        id,
        host: parts[0].to_owned(),
        quorum_port: int(key, parts[1])?,
        election_port: int(key, parts[2])?,
        observer,
        client,
    })
}

impl Config {
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let cfg = Config::parse(&text)?;
        // Relative dataDir in a file is relative to the working directory, as in Java.
        if !cfg.raw.contains_key("dataDir") {
            return Err(ConfigError::Invalid(format!(
                "{}: dataDir is not set",
                path.display()
            )));
        }
        Ok(cfg)
    }

    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let mut c = Config {
            client_port_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            ..Config::default()
        };
        for (key, value) in properties(text) {
            let v = value.as_str();
            match key.as_str() {
                "tickTime" => c.tick_time = int(&key, v)?,
                "dataDir" => c.data_dir = PathBuf::from(v),
                "dataLogDir" => c.data_log_dir = Some(PathBuf::from(v)),
                "clientPort" => c.client_port = int(&key, v)?,
                "clientPortAddress" => {
                    c.client_port_address =
                        v.parse().map_err(|_| bad(&key, v, "not an IP address"))?
                }
                "maxClientCnxns" => c.max_client_cnxns = int(&key, v)?,
                "minSessionTimeout" => {
                    c.min_session_timeout = Some(int::<i64>(&key, v)?)
                        .filter(|t| *t >= 0)
                        .map(|t| t as u32)
                }
                "maxSessionTimeout" => {
                    c.max_session_timeout = Some(int::<i64>(&key, v)?)
                        .filter(|t| *t >= 0)
                        .map(|t| t as u32)
                }
                "4lw.commands.whitelist" => {
                    let words: Vec<String> = v
                        .split(',')
                        .map(|w| w.trim().to_ascii_lowercase())
                        .filter(|w| !w.is_empty())
                        .collect();
                    c.four_letter_whitelist = if words.iter().any(|w| w == "*") {
                        None
                    } else {
                        Some(words)
                    };
                }
                "jute.maxbuffer" | "zookeeper.jute.maxbuffer" => {
                    let n: i64 = int(&key, v)?;
                    if n <= 0 {
                        return Err(bad(&key, v, "must be positive"));
                    }
                    c.jute_max_buffer = n as usize;
                }
                "extendedTypesEnabled" | "zookeeper.extendedTypesEnabled" => {
                    c.extended_types_enabled = boolean(&key, v)?
                }
                "DigestAuthenticationProvider.superDigest"
                | "zookeeper.DigestAuthenticationProvider.superDigest" => {
                    if !v.contains(':') {
                        return Err(bad(&key, v, "expected user:base64digest"));
                    }
                    c.super_digest = Some(v.to_owned());
                }
                "skipACL" | "zookeeper.skipACL" => c.skip_acl = v == "yes" || v == "true",
                "initLimit" => c.init_limit = int(&key, v)?,
                "syncLimit" => c.sync_limit = int(&key, v)?,
                "znode.container.checkIntervalMs" => c.container_check_interval_ms = int(&key, v)?,
                "znode.container.maxPerMinute" => c.container_max_per_minute = int(&key, v)?,
                k if k.starts_with("server.") => {
                    let id: u64 = k["server.".len()..]
                        .parse()
                        .map_err(|_| bad(&key, v, "server id must be a number"))?;
                    c.servers.push(parse_server(&key, id, v)?);
                }
                k if k.starts_with("group.")
                    || k.starts_with("weight.")
                    || KNOWN_PASSIVE.contains(&k) =>
                {
                    if k == "globalOutstandingLimit" {
                        c.global_outstanding_limit = int(&key, v)?;
                    }
                    if k == "forceSync" && !matches!(v, "yes" | "no") {
                        return Err(bad(&key, v, "expected yes or no"));
                    }
                }
                _ => tracing::warn!(key = %key, value = %v, "unknown configuration key ignored"),
            }
            c.raw.insert(key, value);
        }
        if c.tick_time == 0 {
            return Err(bad("tickTime", "0", "must be positive"));
        }
        if c.extended_types_enabled && c.servers.iter().any(|s| s.id > 254) {
            return Err(ConfigError::Invalid(
                "server ids must be <= 254 when extendedTypesEnabled=true".into(),
            ));
        }
        if let (Some(min), Some(max)) = (c.min_session_timeout, c.max_session_timeout) {
            if min > max {
                return Err(ConfigError::Invalid(format!(
                    "minSessionTimeout {min} must not be larger than maxSessionTimeout {max}"
                )));
            }
        }
        Ok(c)
    }

    pub fn min_session_timeout(&self) -> u32 {
        self.min_session_timeout.unwrap_or(self.tick_time * 2)
    }

    pub fn max_session_timeout(&self) -> u32 {
        self.max_session_timeout.unwrap_or(self.tick_time * 20)
    }

    /// `autopurge.purgeInterval` in hours (0, the default: off) and `autopurge.snapRetainCount`
    /// (default 3; Java raises lower values to 3).
    pub fn autopurge(&self) -> Option<(std::time::Duration, usize)> {
        let hours: u64 = self
            .raw
            .get("autopurge.purgeInterval")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let keep: usize = self
            .raw
            .get("autopurge.snapRetainCount")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(3);
        (hours > 0).then(|| {
            (
                std::time::Duration::from_secs(hours * 3600),
                keep.max(crate::storage::purge::MIN_RETAIN),
            )
        })
    }

    /// `fsync.warningthresholdms` (default 1000): slower fsyncs are logged.
    pub fn fsync_warning_ms(&self) -> u64 {
        self.raw
            .get("fsync.warningthresholdms")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1000)
    }

    /// `snapCount` (default 100000): txns between snapshots, randomised per snapshot.
    pub fn snap_count(&self) -> u64 {
        self.raw
            .get("snapCount")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(100_000)
    }

    /// `forceSync` (default yes): fdatasync the txn log before acknowledging.
    pub fn force_sync(&self) -> bool {
        self.raw.get("forceSync").is_none_or(|v| v != "no")
    }

    /// `snapshot.compression.method`: empty (default), `gz` or `snappy`.
    pub fn snapshot_compression(&self) -> Result<crate::storage::compress::Method, String> {
        crate::storage::compress::Method::from_config(
            self.raw
                .get("snapshot.compression.method")
                .map_or("", |v| v.as_str()),
        )
    }

    /// `preAllocSize` in KiB (default 64 MiB), in bytes.
    pub fn prealloc_bytes(&self) -> u64 {
        self.raw
            .get("preAllocSize")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(crate::storage::writer::DEFAULT_PREALLOC, |k| k * 1024)
    }

    pub fn client_addr(&self) -> SocketAddr {
        SocketAddr::new(self.client_port_address, self.client_port)
    }

    pub fn log_dir(&self) -> &Path {
        self.data_log_dir.as_deref().unwrap_or(&self.data_dir)
    }

    pub fn four_letter_allowed(&self, word: &str) -> bool {
        match &self.four_letter_whitelist {
            None => true,
            Some(words) => words.iter().any(|w| w == word),
        }
    }

    /// `myid` in dataDir, required when the config names an ensemble.
    pub fn read_myid(&self) -> Result<Option<u64>, ConfigError> {
        if self.servers.is_empty() {
            return Ok(None);
        }
        let path = self.data_dir.join("myid");
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        text.trim().parse().map(Some).map_err(|_| {
            bad(
                "myid",
                text.trim(),
                format!("{} must hold a number", path.display()),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_java_config() {
        let c = Config::parse(
            "# sample\ntickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/var/lib/zookeeper\nclientPort=2181\n\
             4lw.commands.whitelist=ruok, mntr,srvr\nmaxClientCnxns=0\nserver.1=10.0.0.1:2888:3888\n\
             server.2=zk2:2888:3888:observer;0.0.0.0:2181\nsomeUnknownKey=1\n",
        )
        .unwrap();
        assert_eq!(c.tick_time, 2000);
        assert_eq!(c.min_session_timeout(), 4000);
        assert_eq!(c.max_session_timeout(), 40000);
        assert!(c.four_letter_allowed("mntr") && !c.four_letter_allowed("dump"));
        assert_eq!(c.servers.len(), 2);
        assert!(c.servers[1].observer);
        assert_eq!(c.servers[1].client, Some(("0.0.0.0".into(), 2181)));
    }

    #[test]
    fn bad_values_name_key_and_value() {
        let e = Config::parse("tickTime=fast\n").unwrap_err().to_string();
        assert!(e.contains("tickTime") && e.contains("fast"), "{e}");
        let e = Config::parse("clientPortAddress=nowhere\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("clientPortAddress") && e.contains("nowhere"),
            "{e}"
        );
        assert!(Config::parse("server.x=a:1:2\n").is_err());
    }

    #[test]
    fn star_whitelists_everything() {
        let c = Config::parse("4lw.commands.whitelist=*\n").unwrap();
        assert!(c.four_letter_allowed("dump"));
    }
}
