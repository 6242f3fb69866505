//! Write-ahead journal with group commit.
//!
//! Records are appended to an in-memory buffer while the catalog lock is held
//! (so journal order equals apply order); acknowledging a write waits until a
//! flush has written and `sync_data`-ed the buffer up to its sequence number.
//! Concurrent writers waiting at the same time share one fsync.

use super::record;
use crate::error::Error;
use bson::{doc, Document};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    appended: u64,
}

struct Durable {
    file: Option<File>,
    synced: u64,
    size: u64,
}

/// The journal file of a dbpath.
pub struct Journal {
    path: PathBuf,
    pending: Mutex<Pending>,
    durable: tokio::sync::Mutex<Durable>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Journal {
    /// Opens (truncating) the journal and writes its generation header.
    pub fn create(path: &Path, gen: i64) -> Result<Journal, Error> {
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)?;
        let mut buf = Vec::new();
        record::encode(&doc! {"t": "header", "gen": gen}, &mut buf)?;
        file.write_all(&buf)?;
        file.sync_all()?;
        Ok(Journal {
            path: path.to_path_buf(),
            pending: Mutex::new(Pending::default()),
            durable: tokio::sync::Mutex::new(Durable {
                file: Some(file),
                synced: 0,
                size: buf.len() as u64,
            }),
        })
    }

    /// Reads the records of an existing journal: its generation and the
    /// intact records (a torn or corrupt tail is dropped).
    pub fn read(path: &Path) -> Result<Option<(i64, Vec<Document>)>, Error> {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let (mut recs, clean) = record::decode_all(&data);
        if !clean {
            tracing::warn!(path = %path.display(), "discarding torn or corrupt journal tail");
        }
        if recs.is_empty() {
            return Ok(None);
        }
        let header = recs.remove(0);
        let gen = header.get_i64("gen").unwrap_or(-1);
        Ok(Some((gen, recs)))
    }

    /// Buffers records; returns the sequence number to wait for.
    pub fn append(&self, recs: &[Document]) -> Result<u64, Error> {
        let mut p = lock(&self.pending);
        for r in recs {
            record::encode(r, &mut p.buf)?;
        }
        p.appended += 1;
        Ok(p.appended)
    }

    /// Waits until everything up to `seq` is on stable storage.
    pub async fn commit(&self, seq: u64) -> Result<(), Error> {
        let mut d = self.durable.lock().await;
        if d.synced >= seq {
            return Ok(());
        }
        let (buf, upto) = {
            let mut p = lock(&self.pending);
            (std::mem::take(&mut p.buf), p.appended)
        };
        let Some(mut file) = d.file.take() else {
            return Err(Error::Io(std::io::Error::other("journal is closed")));
        };
        let len = buf.len() as u64;
        let (file, res) = tokio::task::spawn_blocking(move || {
            let r = file.write_all(&buf).and_then(|_| file.sync_data());
            (file, r)
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
        // After a failed write the file's tail is unknown: stop journaling
        // (every later write fails) rather than leave a gap in the record stream.
        res?;
        d.file = Some(file);
        d.size += len;
        d.synced = upto;
        Ok(())
    }

    /// Current journal size in bytes (flushed part).
    pub async fn size(&self) -> u64 {
        self.durable.lock().await.size
    }

    /// Waits for in-flight flushes and blocks new ones until the returned
    /// guard is dropped (compaction holds it while writing a snapshot).
    pub async fn quiesce(&self) -> Quiesced<'_> {
        Quiesced {
            journal: self,
            durable: self.durable.lock().await,
        }
    }
}

/// Exclusive access to the journal file during compaction.
pub struct Quiesced<'a> {
    journal: &'a Journal,
    durable: tokio::sync::MutexGuard<'a, Durable>,
}

impl Quiesced<'_> {
    /// Restarts the journal empty at generation `gen`, dropping buffered
    /// records. Call only while holding the catalog lock, after a snapshot
    /// covering every applied write has been made durable.
    pub fn restart(&mut self, gen: i64) -> Result<(), Error> {
        let fresh = Journal::create(&self.journal.path, gen)?;
        let mut p = lock(&self.journal.pending);
        p.buf.clear();
        let new_d = fresh.durable.into_inner();
        self.durable.file = new_d.file;
        self.durable.size = new_d.size;
        self.durable.synced = p.appended;
        Ok(())
    }
}

/// Shared handle type.
pub type JournalRef = Arc<Journal>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test]
    async fn group_commit_and_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.bin");
        let j = Journal::create(&path, 3).unwrap();
        let a = j.append(&[doc! {"op": "x", "n": 1}]).unwrap();
        let b = j
            .append(&[doc! {"op": "x", "n": 2}, doc! {"op": "x", "n": 3}])
            .unwrap();
        // Committing the later ticket makes the earlier one durable too.
        j.commit(b).await.unwrap();
        j.commit(a).await.unwrap();
        let (gen, recs) = Journal::read(&path).unwrap().unwrap();
        assert_eq!(gen, 3);
        assert_eq!(recs.len(), 3);
        let c = j.append(&[doc! {"op": "x", "n": 4}]).unwrap();
        {
            let mut q = j.quiesce().await;
            q.restart(4).unwrap();
        }
        // The buffered record was covered by the (hypothetical) snapshot.
        j.commit(c).await.unwrap();
        let (gen, recs) = Journal::read(&path).unwrap().unwrap();
        assert_eq!((gen, recs.len()), (4, 0));
        let d = j.append(&[doc! {"op": "x", "n": 5}]).unwrap();
        j.commit(d).await.unwrap();
        assert_eq!(
            Journal::read(&path).unwrap().unwrap().1,
            vec![doc! {"op": "x", "n": 5}]
        );
    }
}
