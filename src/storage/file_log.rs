//! The durable `TxnLog`: proposals are appended to ZooKeeper-format log files and fdatasynced
//! before the pipeline may commit them, so no reply leaves before the fsync that covers its
//! txn. One sync covers every txn the core took in since the last one (group commit).

use std::io;
use std::path::Path;

use super::writer::LogWriter;
use super::TxnLog;
use crate::pipeline::Proposal;

pub struct FileLog {
    writer: LogWriter,
    last: i64,
}

impl FileLog {
    /// `log_dir` is `<dataLogDir>/version-2`. The first append after start opens a new file,
    /// as Java does after every restart.
    pub fn open(
        log_dir: &Path,
        prealloc: u64,
        force_sync: bool,
        fsync_warn_ms: u64,
    ) -> io::Result<FileLog> {
        let mut writer = LogWriter::new(log_dir, prealloc, force_sync)?;
        writer.set_warn_ms(fsync_warn_ms);
        Ok(FileLog { writer, last: 0 })
    }
}

impl TxnLog for FileLog {
    fn append(&mut self, proposals: &[Proposal]) -> io::Result<()> {
        for p in proposals {
            self.writer.append(&p.hdr, &p.txn, p.digest.clone())?;
            self.last = p.hdr.zxid;
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<i64> {
        self.writer.commit()?;
        Ok(self.last)
    }

    fn roll(&mut self) -> io::Result<()> {
        self.writer.roll()
    }

    fn blocks(&self) -> bool {
        true
    }
}
