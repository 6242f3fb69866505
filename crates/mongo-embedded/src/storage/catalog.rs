//! The catalog: databases → collections, with every mutation logged as a
//! journal record so it can be replayed after a restart.

use super::collection::Collection;
use super::index::{Index, IndexSpec};
use crate::error::{CmdError, CmdResult};
use bson::{doc, Bson, Document};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

/// All databases and collections held by the server.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Database name → collection name → collection.
    pub dbs: BTreeMap<String, BTreeMap<String, Collection>>,
    /// How queries found their documents (index vs collection scan).
    pub scan_stats: ScanStats,
}

/// Query access-path counters, so tests can assert that a query used an index.
#[derive(Debug, Default)]
pub struct ScanStats {
    /// Queries answered by scanning every document of a collection.
    pub collection_scans: AtomicU64,
    /// Queries answered through `_id` or a secondary index.
    pub index_scans: AtomicU64,
    /// Documents the matcher examined.
    pub docs_examined: AtomicU64,
}

/// What one command did: its journal records, in application order, and how
/// to take each change back. The undo half exists because a write is applied
/// before its records reach the disk; when the journal cannot be written the
/// write must vanish again rather than linger in memory (and in the next
/// snapshot) after the client was told it failed.
#[derive(Debug, Default)]
pub struct OpLog {
    records: Vec<Document>,
    undo: Vec<Undo>,
}

impl OpLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when the command changed nothing.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Splits into the records and the undo steps.
    pub fn into_parts(self) -> (Vec<Document>, Vec<Undo>) {
        (self.records, self.undo)
    }

    fn push(&mut self, rec: Document, undo: Undo) {
        self.records.push(rec);
        self.undo.push(undo);
    }
}

/// The inverse of one logged change (see [`OpLog`]); [`Catalog::undo`]
/// applies them newest first.
// The fields name the namespace and the saved state; documenting each one
// would repeat its name.
#[allow(missing_docs)]
#[derive(Debug)]
pub enum Undo {
    /// A collection was created: remove it.
    Created { db: String, c: String },
    /// A collection was dropped: put it back.
    Dropped {
        db: String,
        c: String,
        coll: Box<Collection>,
    },
    /// A collection was renamed: move it back.
    Renamed {
        from: (String, String),
        to: (String, String),
    },
    /// A database was dropped: put its collections back.
    DroppedDb {
        db: String,
        colls: BTreeMap<String, Collection>,
    },
    /// A document was inserted at this record id: remove it.
    Inserted { db: String, c: String, rid: u64 },
    /// A record was replaced or deleted: restore its old document at its
    /// record id (keeping natural order).
    Restore {
        db: String,
        c: String,
        rid: u64,
        doc: Document,
    },
    /// An index was added: drop it.
    AddedIndex { db: String, c: String, name: String },
    /// An index was modified: restore its old spec.
    ModifiedIndex {
        db: String,
        c: String,
        old: IndexSpec,
    },
    /// An index was dropped: put it back at its position.
    DroppedIndex {
        db: String,
        c: String,
        pos: usize,
        index: Box<Index>,
    },
}

/// Checks a database name like MongoDB does.
pub fn check_db_name(db: &str) -> CmdResult<()> {
    if db.is_empty() || db.len() > 63 || db.chars().any(|c| "/\\. \"$*<>:|?\0".contains(c)) {
        return Err(CmdError::invalid_namespace(format!(
            "Invalid database name: '{db}'"
        )));
    }
    Ok(())
}

/// Checks a collection name like MongoDB does.
pub fn check_coll_name(db: &str, coll: &str) -> CmdResult<()> {
    check_db_name(db)?;
    if coll.is_empty()
        || coll.contains('$')
        || coll.contains('\0')
        || coll.starts_with('.')
        || coll.starts_with("system.")
    {
        return Err(CmdError::invalid_namespace(format!(
            "Invalid namespace specified '{db}.{coll}'"
        )));
    }
    Ok(())
}

impl Catalog {
    /// Looks up a collection.
    pub fn get(&self, db: &str, coll: &str) -> Option<&Collection> {
        self.dbs.get(db)?.get(coll)
    }

    /// Looks up a collection for writing.
    pub fn get_mut(&mut self, db: &str, coll: &str) -> Option<&mut Collection> {
        self.dbs.get_mut(db)?.get_mut(coll)
    }

    /// Returns the collection, creating it (implicitly, as on a first write) if needed.
    pub fn get_or_create(
        &mut self,
        db: &str,
        coll: &str,
        log: &mut OpLog,
    ) -> CmdResult<(&mut Collection, bool)> {
        let created = self.get(db, coll).is_none();
        if created {
            check_coll_name(db, coll)?;
            log.push(
                doc! {"op": "cc", "db": db, "c": coll, "options": {}},
                Undo::Created {
                    db: db.into(),
                    c: coll.into(),
                },
            );
        }
        let c = self
            .dbs
            .entry(db.to_string())
            .or_default()
            .entry(coll.to_string())
            .or_default();
        Ok((c, created))
    }

    /// Explicit `create`.
    pub fn create(
        &mut self,
        db: &str,
        coll: &str,
        options: Document,
        log: &mut OpLog,
    ) -> CmdResult<()> {
        check_coll_name(db, coll)?;
        if self.get(db, coll).is_some() {
            return Err(CmdError::namespace_exists(format!(
                "Collection {db}.{coll} already exists."
            )));
        }
        log.push(
            doc! {"op": "cc", "db": db, "c": coll, "options": options.clone()},
            Undo::Created {
                db: db.into(),
                c: coll.into(),
            },
        );
        self.dbs
            .entry(db.to_string())
            .or_default()
            .insert(coll.to_string(), Collection::new(options));
        Ok(())
    }

    /// Drops a collection; returns whether it existed.
    pub fn drop_collection(&mut self, db: &str, coll: &str, log: &mut OpLog) -> bool {
        let Some(removed) = self.dbs.get_mut(db).and_then(|d| d.remove(coll)) else {
            return false;
        };
        if self.dbs.get(db).is_some_and(|d| d.is_empty()) {
            self.dbs.remove(db);
        }
        log.push(
            doc! {"op": "dc", "db": db, "c": coll},
            Undo::Dropped {
                db: db.into(),
                c: coll.into(),
                coll: Box::new(removed),
            },
        );
        true
    }

    /// Renames (moves) a collection, optionally replacing an existing target.
    pub fn rename(
        &mut self,
        from: (&str, &str),
        to: (&str, &str),
        drop_target: bool,
        log: &mut OpLog,
    ) -> CmdResult<()> {
        check_coll_name(to.0, to.1)?;
        if self.get(from.0, from.1).is_none() {
            return Err(CmdError::namespace_not_found(format!(
                "Source collection {}.{} does not exist",
                from.0, from.1
            )));
        }
        if from == to {
            return Err(CmdError::illegal_operation(
                "Can't rename a collection to itself",
            ));
        }
        if self.get(to.0, to.1).is_some() {
            if !drop_target {
                return Err(CmdError::namespace_exists("target namespace exists"));
            }
            self.drop_collection(to.0, to.1, log);
        }
        if let Some(c) = self.dbs.get_mut(from.0).and_then(|d| d.remove(from.1)) {
            self.dbs
                .entry(to.0.to_string())
                .or_default()
                .insert(to.1.to_string(), c);
        }
        if self.dbs.get(from.0).is_some_and(|d| d.is_empty()) {
            self.dbs.remove(from.0);
        }
        log.push(
            doc! {"op": "rc", "db": from.0, "c": from.1, "todb": to.0, "toc": to.1},
            Undo::Renamed {
                from: (from.0.into(), from.1.into()),
                to: (to.0.into(), to.1.into()),
            },
        );
        Ok(())
    }

    /// Drops a database.
    pub fn drop_database(&mut self, db: &str, log: &mut OpLog) {
        if let Some(colls) = self.dbs.remove(db) {
            log.push(
                doc! {"op": "dd", "db": db},
                Undo::DroppedDb {
                    db: db.into(),
                    colls,
                },
            );
        }
    }

    /// Inserts one document, logging it.
    pub fn insert(&mut self, db: &str, coll: &str, d: Document, log: &mut OpLog) -> CmdResult<u64> {
        let ns = format!("{db}.{coll}");
        let (c, _) = self.get_or_create(db, coll, log)?;
        let rid = c.insert(&ns, d.clone())?;
        log.push(
            doc! {"op": "put", "db": db, "c": coll, "doc": d},
            Undo::Inserted {
                db: db.into(),
                c: coll.into(),
                rid,
            },
        );
        Ok(rid)
    }

    /// Replaces record `rid`, logging it.
    pub fn replace(
        &mut self,
        db: &str,
        coll: &str,
        rid: u64,
        d: Document,
        log: &mut OpLog,
    ) -> CmdResult<()> {
        let ns = format!("{db}.{coll}");
        let c = self
            .get_mut(db, coll)
            .ok_or_else(|| CmdError::namespace_not_found(format!("ns not found {ns}")))?;
        let old = c.replace(&ns, rid, d.clone())?;
        log.push(
            doc! {"op": "put", "db": db, "c": coll, "doc": d},
            Undo::Restore {
                db: db.into(),
                c: coll.into(),
                rid,
                doc: old,
            },
        );
        Ok(())
    }

    /// Deletes record `rid`, logging it.
    pub fn delete(&mut self, db: &str, coll: &str, rid: u64, log: &mut OpLog) -> Option<Document> {
        let d = self.get_mut(db, coll)?.delete(rid)?;
        log.push(
            doc! {"op": "del", "db": db, "c": coll, "id": d.get("_id").cloned().unwrap_or(Bson::Null)},
            Undo::Restore {
                db: db.into(),
                c: coll.into(),
                rid,
                doc: d.clone(),
            },
        );
        Some(d)
    }

    /// Adds an index (already checked for conflicts), logging it.
    pub fn add_index(
        &mut self,
        db: &str,
        coll: &str,
        spec: IndexSpec,
        log: &mut OpLog,
    ) -> CmdResult<()> {
        let ns = format!("{db}.{coll}");
        let (c, _) = self.get_or_create(db, coll, log)?;
        let spec_doc = spec.to_doc();
        let name = spec.name.clone();
        c.add_index(&ns, spec, true)?;
        log.push(
            doc! {"op": "ci", "db": db, "c": coll, "spec": spec_doc},
            Undo::AddedIndex {
                db: db.into(),
                c: coll.into(),
                name,
            },
        );
        Ok(())
    }

    /// Drops a secondary index by name, logging it.
    pub fn drop_index(&mut self, db: &str, coll: &str, name: &str, log: &mut OpLog) -> bool {
        let Some(c) = self.get_mut(db, coll) else {
            return false;
        };
        let Some(pos) = c.indexes.iter().position(|i| i.spec.name == name) else {
            return false;
        };
        let index = c.indexes.remove(pos);
        log.push(
            doc! {"op": "di", "db": db, "c": coll, "name": name},
            Undo::DroppedIndex {
                db: db.into(),
                c: coll.into(),
                pos,
                index: Box::new(index),
            },
        );
        true
    }

    /// Changes the TTL and/or hidden flag of an index (`collMod`), logging it.
    /// Returns the spec before and after.
    pub fn modify_index(
        &mut self,
        db: &str,
        coll: &str,
        name: &str,
        expire_after: Option<i64>,
        hidden: Option<bool>,
        log: &mut OpLog,
    ) -> CmdResult<(IndexSpec, IndexSpec)> {
        let ns = format!("{db}.{coll}");
        let c = self
            .get_mut(db, coll)
            .ok_or_else(|| CmdError::namespace_not_found(format!("ns does not exist: {ns}")))?;
        let ix = c
            .indexes
            .iter_mut()
            .find(|i| i.spec.name == name)
            .ok_or_else(|| {
                CmdError::index_not_found(format!("cannot find index {name} for ns {ns}"))
            })?;
        let before = ix.spec.clone();
        if let Some(secs) = expire_after {
            if ix.spec.key.len() != 1 {
                return Err(CmdError::invalid_options(
                    "TTL indexes are single-field indexes, compound indexes do not support TTL.",
                ));
            }
            ix.spec.expire_after = Some(secs);
        }
        if let Some(h) = hidden {
            ix.spec.hidden = h;
        }
        let after = ix.spec.clone();
        log.push(
            doc! {"op": "mi", "db": db, "c": coll, "spec": after.to_doc()},
            Undo::ModifiedIndex {
                db: db.into(),
                c: coll.into(),
                old: before.clone(),
            },
        );
        Ok((before, after))
    }

    /// Takes back changes, newest first, restoring exactly the state before
    /// them (documents keep their record ids, so natural order is unchanged).
    pub fn undo(&mut self, steps: Vec<Undo>) {
        for step in steps.into_iter().rev() {
            match step {
                Undo::Created { db, c } => {
                    self.remove_collection(&db, &c);
                }
                Undo::Dropped { db, c, coll } => {
                    self.dbs.entry(db).or_default().insert(c, *coll);
                }
                Undo::Renamed { from, to } => {
                    if let Some(coll) = self.remove_collection(&to.0, &to.1) {
                        self.dbs.entry(from.0).or_default().insert(from.1, coll);
                    }
                }
                Undo::DroppedDb { db, colls } => {
                    self.dbs.insert(db, colls);
                }
                Undo::Inserted { db, c, rid } => {
                    if let Some(coll) = self.get_mut(&db, &c) {
                        coll.delete(rid);
                    }
                }
                Undo::Restore { db, c, rid, doc } => {
                    if let Some(coll) = self.get_mut(&db, &c) {
                        coll.restore_at(rid, doc);
                    }
                }
                Undo::AddedIndex { db, c, name } => {
                    if let Some(coll) = self.get_mut(&db, &c) {
                        coll.indexes.retain(|i| i.spec.name != name);
                    }
                }
                Undo::ModifiedIndex { db, c, old } => {
                    if let Some(ix) = self
                        .get_mut(&db, &c)
                        .and_then(|coll| coll.indexes.iter_mut().find(|i| i.spec.name == old.name))
                    {
                        ix.spec = old;
                    }
                }
                Undo::DroppedIndex { db, c, pos, index } => {
                    if let Some(coll) = self.get_mut(&db, &c) {
                        let pos = pos.min(coll.indexes.len());
                        coll.indexes.insert(pos, *index);
                    }
                }
            }
        }
    }

    /// Removes a collection without logging, keeping "no empty databases".
    fn remove_collection(&mut self, db: &str, coll: &str) -> Option<Collection> {
        let removed = self.dbs.get_mut(db)?.remove(coll);
        if self.dbs.get(db).is_some_and(|d| d.is_empty()) {
            self.dbs.remove(db);
        }
        removed
    }

    /// Re-applies one journal record (recovery). Constraints are not re-checked:
    /// the record describes a state that was valid when it was written.
    pub fn replay(&mut self, rec: &Document) -> Result<(), String> {
        let s = |k: &str| {
            rec.get_str(k)
                .map_err(|e| format!("bad journal record field {k}: {e}"))
        };
        let mut scratch = OpLog::new();
        match s("op")? {
            "cc" => {
                let (db, c) = (s("db")?, s("c")?);
                let options = rec.get_document("options").cloned().unwrap_or_default();
                self.dbs
                    .entry(db.into())
                    .or_default()
                    .entry(c.into())
                    .or_insert_with(|| Collection::new(options));
            }
            "dc" => {
                self.drop_collection(s("db")?, s("c")?, &mut scratch);
            }
            "dd" => self.drop_database(s("db")?, &mut scratch),
            "put" => {
                let d = rec.get_document("doc").map_err(|e| e.to_string())?.clone();
                self.dbs
                    .entry(s("db")?.into())
                    .or_default()
                    .entry(s("c")?.into())
                    .or_default()
                    .restore_put(d);
            }
            "del" => {
                if let Some(c) = self.get_mut(s("db")?, s("c")?) {
                    if let Some(rid) = c.rid_of(rec.get("id").unwrap_or(&Bson::Null)) {
                        c.delete(rid);
                    }
                }
            }
            "ci" => {
                let spec = IndexSpec::parse(rec.get_document("spec").map_err(|e| e.to_string())?)
                    .map_err(|e| e.msg)?;
                let ns = format!("{}.{}", s("db")?, s("c")?);
                let c = self
                    .dbs
                    .entry(s("db")?.into())
                    .or_default()
                    .entry(s("c")?.into())
                    .or_default();
                if !c.indexes.iter().any(|i| i.spec.name == spec.name) {
                    c.add_index(&ns, spec, false).map_err(|e| e.msg)?;
                }
            }
            "rc" => {
                // Replay with drop_target: the log already holds the drop of the old target.
                self.rename(
                    (s("db")?, s("c")?),
                    (s("todb")?, s("toc")?),
                    true,
                    &mut scratch,
                )
                .map_err(|e| e.msg)?;
            }
            "mi" => {
                let spec = IndexSpec::parse(rec.get_document("spec").map_err(|e| e.to_string())?)
                    .map_err(|e| e.msg)?;
                if let Some(c) = self.get_mut(s("db")?, s("c")?) {
                    if let Some(ix) = c.indexes.iter_mut().find(|i| i.spec.name == spec.name) {
                        ix.spec = spec;
                    }
                }
            }
            "di" => {
                self.drop_index(s("db")?, s("c")?, s("name")?, &mut scratch);
            }
            // Written by a readiness probe to test the disk; changes nothing.
            "nop" => {}
            other => return Err(format!("unknown journal op {other}")),
        }
        Ok(())
    }
}
