//! The catalog: databases → collections, with every mutation logged as a
//! journal record so it can be replayed after a restart.

use super::collection::Collection;
use super::index::IndexSpec;
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

/// Journal records produced by one command, in application order.
pub type OpLog = Vec<Document>;

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
            log.push(doc! {"op": "cc", "db": db, "c": coll, "options": {}});
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
        log.push(doc! {"op": "cc", "db": db, "c": coll, "options": options.clone()});
        self.dbs
            .entry(db.to_string())
            .or_default()
            .insert(coll.to_string(), Collection::new(options));
        Ok(())
    }

    /// Drops a collection; returns whether it existed.
    pub fn drop_collection(&mut self, db: &str, coll: &str, log: &mut OpLog) -> bool {
        let existed = self.dbs.get_mut(db).and_then(|d| d.remove(coll)).is_some();
        if existed {
            if self.dbs.get(db).is_some_and(|d| d.is_empty()) {
                self.dbs.remove(db);
            }
            log.push(doc! {"op": "dc", "db": db, "c": coll});
        }
        existed
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
        log.push(doc! {"op": "rc", "db": from.0, "c": from.1, "todb": to.0, "toc": to.1});
        Ok(())
    }

    /// Drops a database.
    pub fn drop_database(&mut self, db: &str, log: &mut OpLog) {
        if self.dbs.remove(db).is_some() {
            log.push(doc! {"op": "dd", "db": db});
        }
    }

    /// Inserts one document, logging it.
    pub fn insert(&mut self, db: &str, coll: &str, d: Document, log: &mut OpLog) -> CmdResult<u64> {
        let ns = format!("{db}.{coll}");
        let (c, _) = self.get_or_create(db, coll, log)?;
        let rid = c.insert(&ns, d.clone())?;
        log.push(doc! {"op": "put", "db": db, "c": coll, "doc": d});
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
        c.replace(&ns, rid, d.clone())?;
        log.push(doc! {"op": "put", "db": db, "c": coll, "doc": d});
        Ok(())
    }

    /// Deletes record `rid`, logging it.
    pub fn delete(&mut self, db: &str, coll: &str, rid: u64, log: &mut OpLog) -> Option<Document> {
        let d = self.get_mut(db, coll)?.delete(rid)?;
        log.push(doc! {"op": "del", "db": db, "c": coll, "id": d.get("_id").cloned().unwrap_or(Bson::Null)});
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
        c.add_index(&ns, spec, true)?;
        log.push(doc! {"op": "ci", "db": db, "c": coll, "spec": spec_doc});
        Ok(())
    }

    /// Drops a secondary index by name, logging it.
    pub fn drop_index(&mut self, db: &str, coll: &str, name: &str, log: &mut OpLog) -> bool {
        let Some(c) = self.get_mut(db, coll) else {
            return false;
        };
        let before = c.indexes.len();
        c.indexes.retain(|i| i.spec.name != name);
        let dropped = c.indexes.len() != before;
        if dropped {
            log.push(doc! {"op": "di", "db": db, "c": coll, "name": name});
        }
        dropped
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
        log.push(doc! {"op": "mi", "db": db, "c": coll, "spec": after.to_doc()});
        Ok((before, after))
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
            other => return Err(format!("unknown journal op {other}")),
        }
        Ok(())
    }
}
