//! Appends txns to `version-2/log.<zxid>` files as ZooKeeper's FileTxnLog does: a file per
//! run of txns (named after its first zxid), preallocated in `preAllocSize` steps so appends
//! rarely change the file size, records written in batches and made durable with one
//! fdatasync per batch (group commit). Every error names the file it happened on, so an
//! operator sees which disk is full or failing.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use jute::txn::{TxnDigest, TxnHeader};

use super::txnlog::{encode_record, file_header, file_name, HEADER_LEN};

/// ZooKeeper's default `preAllocSize` (64 MiB).
pub const DEFAULT_PREALLOC: u64 = 64 << 20;

pub struct LogWriter {
    dir: PathBuf,
    file: Option<File>,
    path: Option<PathBuf>,
    /// Where the next record goes.
    pos: u64,
    /// The file's (preallocated) length.
    size: u64,
    prealloc: u64,
    force_sync: bool,
    batch: Vec<u8>,
    /// fsyncs slower than this are logged, like `fsync.warningthresholdms`.
    warn_ms: u64,
}

impl LogWriter {
    /// `dir` is the `version-2` directory; it is created if missing.
    pub fn new(dir: &Path, prealloc: u64, force_sync: bool) -> io::Result<LogWriter> {
        std::fs::create_dir_all(dir).map_err(at(dir))?;
        Ok(LogWriter {
            dir: dir.to_owned(),
            file: None,
            path: None,
            pos: 0,
            size: 0,
            prealloc: prealloc.max(1),
            force_sync,
            batch: Vec::new(),
            warn_ms: 1000,
        })
    }

    /// Queues one txn; the first after a roll opens `log.<its zxid>`.
    pub fn append(
        &mut self,
        hdr: &TxnHeader,
        txn: &[u8],
        digest: Option<TxnDigest>,
    ) -> io::Result<()> {
        if self.file.is_none() {
            let path = self.dir.join(file_name(hdr.zxid));
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(at(&path))?;
            f.write_all(&file_header()).map_err(at(&path))?;
            self.file = Some(f);
            self.path = Some(path);
            self.pos = HEADER_LEN as u64;
            self.size = HEADER_LEN as u64;
        }
        encode_record(hdr, txn, digest, &mut self.batch);
        Ok(())
    }

    /// Writes the queued records and, unless forceSync=no, fdatasyncs them: when this returns
    /// Ok, every appended txn is durable.
    pub fn commit(&mut self) -> io::Result<()> {
        let r = self.write_batch();
        r.map_err(|e| match &self.path {
            Some(p) => at(p)(e),
            None => e,
        })
    }

    fn write_batch(&mut self) -> io::Result<()> {
        let Some(f) = self.file.as_mut() else {
            return Ok(());
        };
        if !self.batch.is_empty() {
            let end = self.pos + self.batch.len() as u64;
            // FilePadding, as Java does it from the position before the write: grow by
            // preAllocSize ahead of the writes so fdatasync rarely has a size to record. A
            // fresh log is therefore 16 + preAllocSize bytes.
            if self.pos + 4096 >= self.size {
                let new_size = if self.pos > self.size {
                    (self.pos + self.prealloc) / self.prealloc * self.prealloc
                } else {
                    self.size + self.prealloc
                };
                f.set_len(new_size)?;
                self.size = new_size;
            }
            self.size = self.size.max(end);
            f.seek(SeekFrom::Start(self.pos))?;
            f.write_all(&self.batch)?;
            self.pos = end;
            self.batch.clear();
        }
        if self.force_sync {
            let t = Instant::now();
            f.sync_data()?;
            let ms = t.elapsed().as_millis() as u64;
            if ms > self.warn_ms {
                tracing::warn!(ms, path = ?self.path, "fsync of the txn log took longer than fsync.warningthresholdms");
            }
        }
        Ok(())
    }

    /// Ends the current file; the next append starts a new one.
    pub fn roll(&mut self) -> io::Result<()> {
        self.commit()?;
        self.file = None;
        self.path = None;
        Ok(())
    }

    /// `fsync.warningthresholdms`: fsyncs slower than this are logged with their duration.
    pub fn set_warn_ms(&mut self, ms: u64) {
        self.warn_ms = ms;
    }

    pub fn current_path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

/// Prefixes an I/O error with the path it happened on, keeping its kind.
pub(crate) fn at(path: &Path) -> impl Fn(io::Error) -> io::Error + '_ {
    move |e| io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::txnlog::{read_log, Tail};
    use jute::txn::{CreateSessionTxn, Txn};

    #[test]
    fn writes_readable_preallocated_files_and_rolls() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LogWriter::new(dir.path(), 4096, true).unwrap();
        for z in 1..=100 {
            let hdr = TxnHeader {
                client_id: 7,
                cxid: z as i32,
                zxid: z,
                time: 1,
                type_: -10,
            };
            w.append(
                &hdr,
                &Txn::CreateSession(CreateSessionTxn { timeout: 5000 }).to_bytes(),
                None,
            )
            .unwrap();
            if z % 10 == 0 {
                w.commit().unwrap();
            }
        }
        let first = w.current_path().unwrap().to_owned();
        assert_eq!(first.file_name().unwrap(), "log.1");
        w.roll().unwrap();
        let hdr = TxnHeader {
            client_id: 7,
            cxid: 0,
            zxid: 101,
            time: 1,
            type_: -10,
        };
        w.append(
            &hdr,
            &Txn::CreateSession(CreateSessionTxn { timeout: 5000 }).to_bytes(),
            None,
        )
        .unwrap();
        w.commit().unwrap();
        assert_eq!(w.current_path().unwrap().file_name().unwrap(), "log.65");
        let bytes = std::fs::read(&first).unwrap();
        assert_eq!(
            (bytes.len() as u64 - 16) % 4096,
            0,
            "16-byte header plus whole preallocation steps"
        );
        let (entries, tail) = read_log(&bytes).unwrap();
        assert_eq!((entries.len(), tail), (100, Tail::Clean));
        assert_eq!(entries[99].hdr.zxid, 100);
    }
}
