//! Transaction ids and the transactions the core orders.
//!
//! A zxid is ZooKeeper's `(epoch << 32) | counter`. Counter 0 of an epoch is never a txn: a
//! new leader's NEWLEADER and a learner's acknowledgement of it carry `epoch << 32`.

use bytes::Bytes;
use std::fmt;

/// An epoch: the high 32 bits of a zxid.
pub type Epoch = u32;

/// A ZooKeeper transaction id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Zxid(pub u64);

impl Zxid {
    /// The zxid before any txn.
    pub const ZERO: Zxid = Zxid(0);

    /// `(epoch << 32) | counter`.
    pub fn new(epoch: Epoch, counter: u32) -> Zxid {
        Zxid((u64::from(epoch) << 32) | u64::from(counter))
    }

    /// The epoch a zxid was proposed in.
    pub fn epoch(self) -> Epoch {
        (self.0 >> 32) as Epoch
    }

    /// The position inside its epoch.
    pub fn counter(self) -> u32 {
        self.0 as u32
    }

    /// True for `epoch << 32`, the zxid a leader starts its epoch at (no txn carries it).
    pub fn is_epoch_start(self) -> bool {
        self.counter() == 0
    }
}

impl fmt::Debug for Zxid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

impl fmt::Display for Zxid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

/// One transaction: its zxid and its bytes, which the core never looks into (they are the
/// txn-log entry the caller's prep stage produced: TxnHeader + record).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Txn {
    pub zxid: Zxid,
    pub data: Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_javas() {
        let z = Zxid::new(3, 7);
        assert_eq!(z.0, 0x0000_0003_0000_0007);
        assert_eq!((z.epoch(), z.counter()), (3, 7));
        assert!(Zxid::new(5, 0).is_epoch_start());
        assert!(Zxid::new(1, u32::MAX) < Zxid::new(2, 0));
        assert_eq!(format!("{z}"), "0x300000007");
    }
}
