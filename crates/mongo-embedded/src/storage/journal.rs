//! Write-ahead journal with group commit.
//!
//! Records are appended to an in-memory buffer while the catalog lock is held
//! (so journal order equals apply order); acknowledging a write waits until a
//! flush has written and `sync_data`-ed the buffer up to its sequence number.
//! Concurrent writers waiting at the same time share one fsync.

use super::catalog::{Catalog, Undo};
use super::record;
use crate::error::Error;
use bson::{doc, Document};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    appended: u64,
    /// How to take back each buffered write, oldest first: until its records
    /// are on disk a write may still have to vanish.
    undo: Vec<Vec<Undo>>,
}

struct Durable {
    /// `None` after a failed write or restart: the next flush re-opens it.
    file: Option<File>,
    synced: u64,
    /// Length of the intact prefix of the file (what a re-open truncates to).
    size: u64,
    /// Generation written in the file's header.
    gen: i64,
    /// The file must be re-created with a header before use (a restart
    /// failed after its snapshot was already durable).
    fresh: bool,
    /// Ticket ranges `(lo, hi]` that were rolled back; their writers fail
    /// even if they only look after later tickets became durable.
    failed: Vec<(u64, u64)>,
}

/// The journal file of a dbpath.
pub struct Journal {
    path: PathBuf,
    pending: Mutex<Pending>,
    durable: tokio::sync::Mutex<Durable>,
    broken: AtomicBool,
    fault: Arc<AtomicBool>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Appends `buf` and syncs it. With the fault switch on it behaves like a
/// disk that fills up mid-write: part of the data lands, then ENOSPC.
fn write_synced(file: &mut File, buf: &[u8], fault: bool) -> io::Result<()> {
    if fault {
        file.write_all(&buf[..buf.len() / 2])?;
        return Err(io::Error::new(
            io::ErrorKind::StorageFull,
            "No space left on device (injected journal fault)",
        ));
    }
    file.write_all(buf)?;
    file.sync_data()
}

/// Creates (truncating) the file with its generation header; returns it and
/// its length.
fn open_fresh(path: &Path, gen: i64, fault: bool) -> Result<(File, u64), Error> {
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)?;
    let mut buf = Vec::new();
    record::encode(&doc! {"t": "header", "gen": gen}, &mut buf)?;
    write_synced(&mut file, &buf, fault)?;
    file.sync_all()?;
    Ok((file, buf.len() as u64))
}

/// Re-opens the journal after a failure, cutting off whatever a failed
/// write left behind its intact prefix.
fn reopen(
    path: &Path,
    size: u64,
    gen: i64,
    fresh: bool,
    fault: bool,
) -> Result<(File, u64), Error> {
    if fresh {
        return open_fresh(path, gen, fault);
    }
    match OpenOptions::new().append(true).open(path) {
        Ok(file) => {
            file.set_len(size)?;
            file.sync_all()?;
            Ok((file, size))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => open_fresh(path, gen, fault),
        Err(e) => Err(e.into()),
    }
}

/// Drops a failed write's partial records so a crash before the next
/// successful flush cannot replay them (shrinking works on a full disk).
fn discard_tail(path: &Path, size: u64) {
    let res = OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(size).and_then(|()| f.sync_all()));
    if let Err(e) = res {
        tracing::error!(error = %e, "could not cut the failed tail off the journal");
    }
}

impl Journal {
    /// Opens (truncating) the journal and writes its generation header.
    pub fn create(path: &Path, gen: i64) -> Result<Journal, Error> {
        let (file, size) = open_fresh(path, gen, false)?;
        Ok(Journal {
            path: path.to_path_buf(),
            pending: Mutex::new(Pending::default()),
            durable: tokio::sync::Mutex::new(Durable {
                file: Some(file),
                synced: 0,
                size,
                gen,
                fresh: false,
                failed: Vec::new(),
            }),
            broken: AtomicBool::new(false),
            fault: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Reads the records of an existing journal: its generation and the
    /// intact records (a torn or corrupt tail is dropped).
    pub fn read(path: &Path) -> Result<Option<(i64, Vec<Document>)>, Error> {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
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

    /// Frames the records of one write (done before [`Journal::append`], so
    /// a record that cannot be encoded fails the write before anything is
    /// buffered).
    pub fn encode(recs: &[Document]) -> Result<Vec<u8>, Error> {
        let mut buf = Vec::new();
        for r in recs {
            record::encode(r, &mut buf)?;
        }
        Ok(buf)
    }

    /// Buffers one write's framed records together with how to undo it;
    /// returns the sequence number to wait for.
    pub fn append(&self, framed: &[u8], undo: Vec<Undo>) -> u64 {
        let mut p = lock(&self.pending);
        p.buf.extend_from_slice(framed);
        p.appended += 1;
        p.undo.push(undo);
        p.appended
    }

    /// Waits until everything up to `seq` is on stable storage.
    ///
    /// When the flush fails, every write not yet durable — the failed batch
    /// and anything appended since, which may build on it — is undone in
    /// `catalog` before the journal accepts the next flush, and all of them
    /// report the error. The next flush re-opens the file, so writes resume
    /// once the disk has room again.
    pub async fn commit(&self, seq: u64, catalog: &Mutex<Catalog>) -> Result<(), Error> {
        let mut d = self.durable.lock().await;
        if d.failed.iter().any(|&(lo, hi)| seq > lo && seq <= hi) {
            return Err(rolled_back());
        }
        if d.synced >= seq {
            return Ok(());
        }
        let (buf, upto, undo) = {
            let mut p = lock(&self.pending);
            (
                std::mem::take(&mut p.buf),
                p.appended,
                std::mem::take(&mut p.undo),
            )
        };
        let file = d.file.take();
        let (size, gen, fresh) = (d.size, d.gen, d.fresh);
        let fault = self.fault.load(Ordering::Relaxed);
        let path = self.path.clone();
        let res = tokio::task::spawn_blocking(move || {
            let (mut file, base) = match file {
                Some(f) => (f, size),
                None => reopen(&path, size, gen, fresh, fault)?,
            };
            match write_synced(&mut file, &buf, fault) {
                Ok(()) => Ok((file, base + buf.len() as u64)),
                Err(e) => {
                    drop(file);
                    discard_tail(&path, base);
                    Err(Error::Io(e))
                }
            }
        })
        .await
        .unwrap_or_else(|e| Err(Error::Io(io::Error::other(e.to_string()))));
        match res {
            Ok((file, new_size)) => {
                d.file = Some(file);
                d.size = new_size;
                d.fresh = false;
                d.synced = upto;
                self.broken.store(false, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                self.broken.store(true, Ordering::Relaxed);
                // Lock order as in Store::write: catalog, then pending.
                let mut cat = lock(catalog);
                let mut p = lock(&self.pending);
                let later = std::mem::take(&mut p.undo);
                p.buf.clear();
                let steps = undo.into_iter().chain(later).flatten().collect();
                cat.undo(steps);
                let lo = d.synced;
                d.failed.push((lo, p.appended));
                tracing::error!(error = %e, "journal write failed; rolled back the writes it held");
                Err(e)
            }
        }
    }

    /// True after a failed flush, until a flush succeeds again.
    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// Test hook: while on, every journal write fails like a full disk.
    #[doc(hidden)]
    pub fn set_fault(&self, on: bool) {
        self.fault.store(on, Ordering::Relaxed);
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

fn rolled_back() -> Error {
    Error::Io(io::Error::other(
        "the journal could not be written; the write was rolled back",
    ))
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
        // The snapshot already holds every buffered write, so they are
        // durable whether or not the new journal can be created; if it
        // cannot, the next flush creates it.
        {
            let mut p = lock(&self.journal.pending);
            p.buf.clear();
            p.undo.clear();
            self.durable.synced = p.appended;
        }
        self.durable.gen = gen;
        let fault = self.journal.fault.load(Ordering::Relaxed);
        match open_fresh(&self.journal.path, gen, fault) {
            Ok((file, size)) => {
                self.durable.file = Some(file);
                self.durable.size = size;
                self.durable.fresh = false;
                Ok(())
            }
            Err(e) => {
                self.durable.file = None;
                self.durable.size = 0;
                self.durable.fresh = true;
                self.journal.broken.store(true, Ordering::Relaxed);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test]
    async fn group_commit_and_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.bin");
        let j = Journal::create(&path, 3).unwrap();
        let cat = Mutex::new(Catalog::default());
        let a = j.append(
            &Journal::encode(&[doc! {"op": "x", "n": 1}]).unwrap(),
            vec![],
        );
        let b = j.append(
            &Journal::encode(&[doc! {"op": "x", "n": 2}, doc! {"op": "x", "n": 3}]).unwrap(),
            vec![],
        );
        // Committing the later ticket makes the earlier one durable too.
        j.commit(b, &cat).await.unwrap();
        j.commit(a, &cat).await.unwrap();
        let (gen, recs) = Journal::read(&path).unwrap().unwrap();
        assert_eq!(gen, 3);
        assert_eq!(recs.len(), 3);
        let c = j.append(
            &Journal::encode(&[doc! {"op": "x", "n": 4}]).unwrap(),
            vec![],
        );
        {
            let mut q = j.quiesce().await;
            q.restart(4).unwrap();
        }
        // The buffered record was covered by the (hypothetical) snapshot.
        j.commit(c, &cat).await.unwrap();
        let (gen, recs) = Journal::read(&path).unwrap().unwrap();
        assert_eq!((gen, recs.len()), (4, 0));
        let d = j.append(
            &Journal::encode(&[doc! {"op": "x", "n": 5}]).unwrap(),
            vec![],
        );
        j.commit(d, &cat).await.unwrap();
        assert_eq!(
            Journal::read(&path).unwrap().unwrap().1,
            vec![doc! {"op": "x", "n": 5}]
        );
    }
}
