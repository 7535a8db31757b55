//! ZooKeeper's Jute wire format.
//!
//! Every record Paddock reads or writes on the client port, in the txn log and on the
//! quorum ports lives here, encoded exactly as Java ZooKeeper's `BinaryOutputArchive` does:
//! big-endian integers, length-prefixed buffers and strings (`-1` = null), count-prefixed
//! vectors, nested records inline.
//!
//! Decoding is bounded. A length that is negative (other than the `-1` null marker), larger
//! than the reader's limit (`jute.maxbuffer`) or larger than what is left of the input is an
//! [`Error`] value; nothing is allocated on the strength of a claimed length alone.

mod codec;
pub mod consts;
pub mod data;
mod error;
pub mod frame;
pub mod fuzz;
pub mod proto;
pub mod quorum;
pub mod txn;

pub use codec::{Jute, Reader, DEFAULT_MAX_BUFFER};
pub use error::{Error, Result};
