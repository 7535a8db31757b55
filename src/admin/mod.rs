//! Operations surface: four-letter words (and, later, the AdminServer and Prometheus metrics).

pub mod fourlw;

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::Config;

/// The ZooKeeper release whose client protocol Paddock speaks. Tools such as kazoo read it
/// from `envi`/`srvr` and adapt their behaviour to it.
pub const ZK_PROTOCOL_VERSION: &str = "3.9.3";

/// `zookeeper.version` as reported: the protocol version, then Paddock's own.
pub fn full_version() -> String {
    format!(
        "{ZK_PROTOCOL_VERSION}-paddock-{}, built on Paddock {}",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION")
    )
}

/// Static facts about the running server, for `conf`, `envi` and `dirs`.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub client_addr: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub data_log_dir: PathBuf,
    pub tick_time: u32,
    pub max_client_cnxns: u32,
    pub min_session_timeout: u32,
    pub max_session_timeout: u32,
    pub server_id: u64,
}

impl ServerInfo {
    pub fn new(cfg: &Config, client_addr: Option<SocketAddr>) -> ServerInfo {
        ServerInfo {
            client_addr,
            data_dir: cfg.data_dir.join("version-2"),
            data_log_dir: cfg.log_dir().join("version-2"),
            tick_time: cfg.tick_time,
            max_client_cnxns: cfg.max_client_cnxns,
            min_session_timeout: cfg.min_session_timeout(),
            max_session_timeout: cfg.max_session_timeout(),
            server_id: 0,
        }
    }
}
