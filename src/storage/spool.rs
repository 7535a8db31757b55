//! The node records of a snapshot in progress, kept in a temp file instead of in memory.
//!
//! A snapshot's ACL section precedes its nodes but is only known once every node has been
//! written (a node may refer to an ACL list created during the walk), so the records cannot
//! go straight into the final file. Holding them in memory would cost the serialized size of
//! the tree (hundreds of MB for a million nodes) on top of the tree; instead a thread appends
//! them to `snapshot.<zxid>.nodes.tmp`, and the final file copies them back. The spool is
//! deleted unwritten-back in the usual case: it lives a few seconds in the page cache.
//!
//! The core never waits on the spool: `offer` refuses a chunk while the queue is full, and the
//! walk pauses until there is room.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

use bytes::Bytes;

/// Chunks queued to the spool thread, at most (a chunk is one walk step: 250 nodes).
const QUEUE: usize = 16;

pub struct Spool {
    tx: SyncSender<Bytes>,
    /// A chunk the queue had no room for, offered again before the walk goes on.
    pending: Option<Bytes>,
    thread: JoinHandle<io::Result<File>>,
    path: PathBuf,
}

impl Spool {
    pub fn create(path: &Path) -> io::Result<Spool> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        let (tx, rx) = mpsc::sync_channel::<Bytes>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("snapshot-spool".into())
            .spawn(move || {
                let mut w = BufWriter::with_capacity(1 << 20, file);
                for chunk in rx {
                    w.write_all(&chunk)?;
                }
                w.into_inner().map_err(|e| e.into_error())
            })?;
        Ok(Spool {
            tx,
            pending: None,
            thread,
            path: path.to_owned(),
        })
    }

    /// True if no chunk is held back.
    pub fn idle(&self) -> bool {
        self.pending.is_none()
    }

    /// True if nothing is waiting for room: the walk may go on.
    pub fn ready(&mut self) -> bool {
        match self.pending.take() {
            None => true,
            Some(chunk) => self.offer(chunk),
        }
    }

    /// Queues a chunk; false if it had to be kept back (the walk should pause). A spool
    /// whose thread failed takes everything and reports the failure at the end.
    pub fn offer(&mut self, chunk: Bytes) -> bool {
        match self.tx.try_send(chunk) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => true,
            Err(TrySendError::Full(chunk)) => {
                self.pending = Some(chunk);
                false
            }
        }
    }

    /// No more chunks: the thread finishes the file in the background. A chunk still held
    /// back is handed over first (waiting for room; the walk normally drains it before).
    pub fn close(self) -> Spooled {
        if let Some(chunk) = self.pending {
            // A send fails only if the thread failed; the copy then reports that error.
            let _ = self.tx.send(chunk);
        }
        drop(self.tx);
        Spooled {
            thread: self.thread,
            path: self.path,
        }
    }
}

/// A closed spool, to be copied into the snapshot file.
pub struct Spooled {
    thread: JoinHandle<io::Result<File>>,
    path: PathBuf,
}

impl Spooled {
    /// Hands every spooled byte, in order, to `put`; then deletes the spool.
    pub fn copy_into(self, mut put: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        let result = (|| {
            let mut file = self
                .thread
                .join()
                .map_err(|_| io::Error::other("the snapshot spool thread panicked"))??;
            file.seek(SeekFrom::Start(0))?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    return Ok(());
                }
                put(&buf[..n])?;
            }
        })();
        let _ = std::fs::remove_file(&self.path);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_come_back_in_order_and_the_spool_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshot.1.nodes.tmp");
        let mut s = Spool::create(&path).unwrap();
        let mut expected = Vec::new();
        for i in 0..200u32 {
            let chunk = Bytes::from(i.to_be_bytes().repeat(1000));
            expected.extend_from_slice(&chunk);
            // A full queue keeps the chunk back; offering again later delivers it.
            if !s.offer(chunk) {
                while !s.ready() {
                    std::thread::yield_now();
                }
            }
        }
        let mut got = Vec::new();
        s.close()
            .copy_into(|b| {
                got.extend_from_slice(b);
                Ok(())
            })
            .unwrap();
        assert!(got == expected, "spooled bytes differ");
        assert!(!path.exists());
    }
}
