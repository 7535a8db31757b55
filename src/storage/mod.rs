//! The storage seam: where prepared txns go before they are committed. The pipeline hands
//! every proposal to a [`TxnLog`] and commits only what the log reports durable, so the
//! durable on-disk log slots in here without touching the write path.

pub mod compress;
pub mod dump;
pub mod file_log;
pub mod pipe;
pub mod purge;
pub mod recovery;
pub mod snap_policy;
pub mod snapshot;
pub mod spool;
pub mod txnlog;
pub mod writer;
use std::io;

use crate::pipeline::Proposal;

pub trait TxnLog: Send + 'static {
    /// Queues proposals for writing, in zxid order.
    fn append(&mut self, proposals: &[Proposal]) -> io::Result<()>;
    /// Makes everything appended durable; returns the highest durable zxid.
    fn sync(&mut self) -> io::Result<i64>;

    /// A snapshot was taken: later txns go to a new log file.
    fn roll(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// True if `append`/`sync` wait on a disk, so the log gets a thread of its own
    /// (`pipe::LogPipe`) and the core never waits on it.
    fn blocks(&self) -> bool {
        false
    }
}

/// In-memory mode: nothing is written, so everything appended counts as "durable" at once.
/// State lives only in the tree and is lost when the process stops.
#[derive(Debug, Default)]
pub struct Volatile {
    last: i64,
}

impl TxnLog for Volatile {
    fn append(&mut self, proposals: &[Proposal]) -> io::Result<()> {
        if let Some(p) = proposals.last() {
            self.last = p.hdr.zxid;
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<i64> {
        Ok(self.last)
    }
}
