//! ZAB's safety properties, checked on every output a server produces.
//!
//! The checker keeps the one committed history every server must agree with. A txn joins
//! it when a leader commits it, or when a leader's epoch is established (its whole log is
//! committed then). Then:
//! - integrity: only submitted writes are committed, each once;
//! - agreement and total order: every txn a serving server applies sits at the same index
//!   of that history, so every server's applied sequence is a prefix of it;
//! - primary order: a newly established leader's log starts with the whole history;
//! - zxids strictly increase in every applied sequence, every log and the history;
//! - at most one leader establishes each epoch.

use paddock::zab::{Epoch, ServerId, Txn, Zxid};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Default)]
pub struct Checker {
    pub history: Vec<Txn>,
    pub established: BTreeMap<Epoch, ServerId>,
    submitted: BTreeSet<u64>,
    committed_ids: BTreeMap<u64, Zxid>,
}

pub type Violation = String;

pub fn write_id(t: &Txn) -> Option<u64> {
    let b: [u8; 8] = t.data.as_ref().try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

fn increasing(seq: &[Txn]) -> bool {
    seq.windows(2).all(|w| w[0].zxid < w[1].zxid)
}

impl Checker {
    pub fn submitted(&mut self, id: u64) {
        self.submitted.insert(id);
    }

    fn admit(&mut self, t: &Txn, who: ServerId) -> Result<(), Violation> {
        let id = write_id(t)
            .ok_or_else(|| format!("server {who}: txn {} carries no write id", t.zxid))?;
        if !self.submitted.contains(&id) {
            return Err(format!(
                "integrity: server {who} committed write {id} nobody submitted"
            ));
        }
        if let Some(z) = self.committed_ids.insert(id, t.zxid) {
            if z != t.zxid {
                return Err(format!(
                    "integrity: write {id} committed twice, at {z} and {}",
                    t.zxid
                ));
            }
        }
        Ok(())
    }

    fn extend_to(&mut self, seq: &[Txn], who: ServerId) -> Result<(), Violation> {
        for t in &seq[self.history.len().min(seq.len())..] {
            if self.history.last().is_some_and(|l| l.zxid >= t.zxid) {
                return Err(format!(
                    "zxid order: history would go from {} to {}",
                    self.history.last().unwrap().zxid,
                    t.zxid
                ));
            }
            self.admit(t, who)?;
            self.history.push(t.clone());
        }
        Ok(())
    }

    /// `seq` must start with the history, or be a prefix of it.
    fn consistent(&self, seq: &[Txn], who: ServerId, what: &str) -> Result<(), Violation> {
        let n = seq.len().min(self.history.len());
        if let Some(i) = (0..n).find(|&i| seq[i] != self.history[i]) {
            return Err(format!(
                "{what}: server {who} has {} ({:?}) at index {i} where the committed history has {} ({:?})",
                seq[i].zxid,
                write_id(&seq[i]),
                self.history[i].zxid,
                write_id(&self.history[i])
            ));
        }
        Ok(())
    }

    pub fn check_log(&self, log: &[Txn], who: ServerId) -> Result<(), Violation> {
        if !increasing(log) {
            return Err(format!(
                "zxid order: server {who}'s log is not strictly increasing"
            ));
        }
        Ok(())
    }

    /// A serving server applied `new` after `before` (its applied sequence so far).
    pub fn committed(
        &mut self,
        before: &[Txn],
        new: &[Txn],
        who: ServerId,
    ) -> Result<(), Violation> {
        let mut seq = before.to_vec();
        seq.extend_from_slice(new);
        if !increasing(&seq) {
            return Err(format!("zxid order: server {who} applied out of order"));
        }
        if before.len() > self.history.len() {
            return Err(format!(
                "agreement: server {who} serves with txns beyond the committed history"
            ));
        }
        self.consistent(&seq, who, "agreement/total order")?;
        self.extend_to(&seq, who)
    }

    /// A leader established `epoch` with `applied` (its whole log) as initial history.
    pub fn established(
        &mut self,
        epoch: Epoch,
        who: ServerId,
        applied: &[Txn],
    ) -> Result<(), Violation> {
        if let Some(other) = self.established.insert(epoch, who) {
            if other != who {
                return Err(format!(
                    "two leaders established epoch {epoch}: {other} and {who}"
                ));
            }
        }
        if !increasing(applied) {
            return Err(format!(
                "zxid order: leader {who}'s history is not increasing"
            ));
        }
        if applied.len() < self.history.len() {
            let missing = &self.history[applied.len()];
            return Err(format!(
                "primary order: leader {who} established epoch {epoch} without committed txn {} (write {:?}); it has {} txns, {} are committed",
                missing.zxid,
                write_id(missing),
                applied.len(),
                self.history.len()
            ));
        }
        self.consistent(applied, who, "primary order")?;
        self.extend_to(applied, who)
    }

    /// A learner starts serving with `applied`: it must be a prefix of the history.
    pub fn up_to_date(&self, who: ServerId, applied: &[Txn]) -> Result<(), Violation> {
        if !increasing(applied) {
            return Err(format!(
                "zxid order: server {who}'s applied state is not increasing"
            ));
        }
        if applied.len() > self.history.len() {
            return Err(format!(
                "agreement: server {who} serves {} txns, only {} are committed",
                applied.len(),
                self.history.len()
            ));
        }
        self.consistent(applied, who, "agreement")
    }
}
