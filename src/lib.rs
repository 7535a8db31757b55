//! Paddock: a ZooKeeper-compatible coordination service.
//!
//! See `docs/ARCHITECTURE.md` for how the parts fit together.

pub mod admin;
pub mod auth;
pub mod client;
pub mod clock;
pub mod config;
pub mod net;
pub mod pipeline;
pub mod server;
pub mod session;
pub mod storage;
pub mod tree;
pub mod watch;
pub mod zab;
