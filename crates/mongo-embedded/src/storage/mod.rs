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
            (Some(d), false) => {
                let (records, undo) = log.into_parts();
                match Journal::encode(&records) {
                    Ok(framed) => d.journal.append(&framed, undo),
                    Err(e) => {
                        // Not journaled, so it must not stay applied either.
                        cat.undo(undo);
                        return Err(e);
                    }
                }
            }
            _ => 0,
        };
        drop(cat);
        Ok((r, seq))
    }

    /// Waits until the write with ticket `seq` is durable. On error the
    /// write (and every other one not yet durable) has been undone.
    pub async fn durable(&self, seq: u64) -> Result<(), Error> {
        if let (Some(d), true) = (&self.disk, seq > 0) {
            d.journal.commit(seq, &self.catalog).await?;
            if d.journal.size().await > COMPACT_AT_BYTES {
                // The write is durable already: a failed compaction must not
                // turn its answer into an error.
                if let Err(e) = self.compact().await {
                    tracing::error!(error = %e, "journal compaction failed");
                }
            }
        }
        Ok(())
    }

    /// Whether writes can be made durable right now. While the journal is
    /// broken this retries it with an empty record, so readiness recovers as
    /// soon as the disk does, without waiting for a client write.
    pub async fn check_durable(&self) -> Result<(), Error> {
        let Some(d) = &self.disk else { return Ok(()) };
        if !d.journal.is_broken() {
            return Ok(());
        }
        let framed = Journal::encode(&[bson::doc! {"op": "nop"}])?;
        let seq = d.journal.append(&framed, Vec::new());
        d.journal.commit(seq, &self.catalog).await
    }

    /// Test hook: makes every journal write fail as on a full disk (no-op in
    /// memory).
    #[doc(hidden)]
    pub fn set_journal_fault(&self, on: bool) {
        if let Some(d) = &self.disk {
            d.journal.set_fault(on);
        }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bson::{doc, Document};

    #[tokio::test]
    async fn a_failed_flush_undoes_every_write_not_yet_durable() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (_, ok) = store
            .write(|cat, log| cat.insert("db", "c", doc! {"_id": 0}, log))
            .unwrap();
        store.durable(ok).await.unwrap();
        // B builds on A (updates the document A inserted); both wait for one flush.
        let (_, a) = store
            .write(|cat, log| cat.insert("db", "c", doc! {"_id": 1, "v": "a"}, log))
            .unwrap();
        let (_, b) = store
            .write(|cat, log| {
                let c = cat.get("db", "c").unwrap();
                let rid = c.rid_of(&bson::Bson::Int32(1)).unwrap();
                cat.replace("db", "c", rid, doc! {"_id": 1, "v": "b"}, log)?;
                let rid0 = cat
                    .get("db", "c")
                    .unwrap()
                    .rid_of(&bson::Bson::Int32(0))
                    .unwrap();
                cat.delete("db", "c", rid0, log);
                cat.drop_index("db", "c", "none", log);
                cat.create("db", "other", Document::new(), log)
            })
            .unwrap();
        store.set_journal_fault(true);
        assert!(store.durable(a).await.is_err());
        store.set_journal_fault(false);
        {
            let cat = store.read();
            let c = cat.get("db", "c").unwrap();
            assert_eq!(
                c.records.values().cloned().collect::<Vec<_>>(),
                vec![doc! {"_id": 0}]
            );
            assert_eq!(c.ids.len(), 1);
            assert!(cat.get("db", "other").is_none());
        }
        // B was undone with A, so it fails too, even once later writes succeed.
        let (_, c) = store
            .write(|cat, log| cat.insert("db", "c", doc! {"_id": 1, "v": "c"}, log))
            .unwrap();
        store.durable(c).await.unwrap();
        assert!(store.durable(b).await.is_err());
        assert!(store.durable(a).await.is_err());
        drop(store);
        let back = Store::open(dir.path()).unwrap();
        let cat = back.read();
        let docs: Vec<_> = cat
            .get("db", "c")
            .unwrap()
            .records
            .values()
            .cloned()
            .collect();
        assert_eq!(docs, vec![doc! {"_id": 0}, doc! {"_id": 1, "v": "c"}]);
        assert!(cat.get("db", "other").is_none());
    }

    #[tokio::test]
    async fn undo_restores_dropped_collections_indexes_and_databases() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let spec = index::IndexSpec::parse(&doc! {"key": {"e": 1}, "unique": true}).unwrap();
        let (_, t) = store
            .write(|cat, log| {
                cat.insert("db", "a", doc! {"_id": 1, "e": 1}, log)?;
                cat.insert("db", "b", doc! {"_id": 2}, log)?;
                cat.insert("db2", "z", doc! {"_id": 3}, log)?;
                cat.add_index("db", "a", spec, log)
            })
            .unwrap();
        store.durable(t).await.unwrap();
        let before = format!("{:?}", store.read().dbs);
        store.set_journal_fault(true);
        let (_, t) = store
            .write(|cat, log| {
                cat.drop_index("db", "a", "e_1", log);
                cat.rename(("db", "b"), ("db", "a"), true, log)?;
                cat.drop_database("db2", log);
                cat.modify_index("db", "a", "missing", None, None, log).ok();
                cat.drop_collection("db", "a", log);
                Ok::<_, crate::error::CmdError>(())
            })
            .unwrap();
        assert!(store.durable(t).await.is_err());
        assert_eq!(format!("{:?}", store.read().dbs), before);
    }
}
