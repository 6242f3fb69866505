//! Storage: the in-memory catalog plus optional journal/snapshot persistence.

pub mod catalog;
pub mod collection;
pub mod index;
pub mod journal;
pub mod multikey;
pub mod record;
pub mod snapshot;
pub mod spec;

use crate::error::Error;
use catalog::{Catalog, OpLog};
use journal::Journal;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Journal size after which a background compaction is triggered.
const COMPACT_AT_BYTES: u64 = 64 * 1024 * 1024;
const JOURNAL_FILE: &str = "journal.bin";
const LOCK_FILE: &str = "mongod.lock";

struct Disk {
    dir: PathBuf,
    journal: Journal,
    gen: Mutex<i64>,
    _lock: File,
}

/// The database state. All writes are serialized by one catalog lock, which
/// is what makes unique indexes hold under concurrent writers.
pub struct Store {
    catalog: Mutex<Catalog>,
    disk: Option<Disk>,
}

fn take_lock(dir: &Path) -> Result<File, Error> {
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(dir.join(LOCK_FILE))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(Error::DbPathInUse(dir.to_path_buf()))
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
    }
    f.set_len(0)?;
    writeln!(f, "{}", std::process::id())?;
    f.sync_all()?;
    Ok(f)
}

impl Store {
    /// An in-memory store (nothing is persisted).
    pub fn memory() -> Store {
        Store {
            catalog: Mutex::new(Catalog::default()),
            disk: None,
        }
    }

    /// Opens `dir`: takes the lock file, loads the snapshot, replays the
    /// journal and compacts so the journal starts empty.
    pub fn open(dir: &Path) -> Result<Store, Error> {
        std::fs::create_dir_all(dir)?;
        let lock = take_lock(dir)?;
        let (mut catalog, gen) = snapshot::read(dir)?;
        let jpath = dir.join(JOURNAL_FILE);
        if let Some((jgen, recs)) = Journal::read(&jpath)? {
            if jgen == gen {
                for r in &recs {
                    catalog.replay(r).map_err(|reason| Error::Corrupt {
                        path: jpath.clone(),
                        reason,
                    })?;
                }
                tracing::info!(records = recs.len(), "replayed journal");
            } else {
                tracing::info!(
                    journal_gen = jgen,
                    snapshot_gen = gen,
                    "ignoring journal older than snapshot"
                );
            }
        }
        let new_gen = gen + 1;
        snapshot::write(dir, &catalog, new_gen)?;
        let journal = Journal::create(&jpath, new_gen)?;
        Ok(Store {
            catalog: Mutex::new(catalog),
            disk: Some(Disk {
                dir: dir.to_path_buf(),
                journal,
                gen: Mutex::new(new_gen),
                _lock: lock,
            }),
        })
    }

    /// Locks the catalog for reading.
    pub fn read(&self) -> MutexGuard<'_, Catalog> {
        self.catalog.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a mutation under the catalog lock and journals what it logged.
    /// Returns the result and a ticket for [`Store::durable`].
    pub fn write<R>(
        &self,
        f: impl FnOnce(&mut Catalog, &mut OpLog) -> R,
    ) -> Result<(R, u64), Error> {
        let mut cat = self.read();
        let mut log = OpLog::new();
        let r = f(&mut cat, &mut log);
        let seq = match (&self.disk, log.is_empty()) {
            (Some(d), false) => d.journal.append(&log)?,
            _ => 0,
        };
        drop(cat);
        Ok((r, seq))
    }

    /// Waits until the write with ticket `seq` is durable.
    pub async fn durable(&self, seq: u64) -> Result<(), Error> {
        if let (Some(d), true) = (&self.disk, seq > 0) {
            d.journal.commit(seq).await?;
            if d.journal.size().await > COMPACT_AT_BYTES {
                self.compact().await?;
            }
        }
        Ok(())
    }

    /// Writes a fresh snapshot and empties the journal (no-op in memory).
    pub async fn compact(&self) -> Result<(), Error> {
        let Some(d) = &self.disk else { return Ok(()) };
        let mut q = d.journal.quiesce().await;
        let cat = self.read();
        let gen = {
            let mut g = d.gen.lock().unwrap_or_else(|e| e.into_inner());
            *g += 1;
            *g
        };
        snapshot::write(&d.dir, &cat, gen)?;
        q.restart(gen)?;
        drop(cat);
        Ok(())
    }

    /// The dbpath, if persistent.
    pub fn dbpath(&self) -> Option<&Path> {
        self.disk.as_ref().map(|d| d.dir.as_path())
    }
}
