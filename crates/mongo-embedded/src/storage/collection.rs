//! One collection: records in insertion order, the `_id` map and secondary indexes.

use super::catalog::ScanStats;
use super::index::{dup_key_error, Index, IndexSpec};
use crate::error::{CmdError, CmdResult};
use crate::query::matcher::{CmpKind, Filter, Op};
use crate::sort::compare::KeyValue;
use bson::{doc, Bson, Document};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::Ordering;

/// A collection's data and indexes.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    /// Record id (insertion order) → document.
    pub records: BTreeMap<u64, Document>,
    /// `_id` → record id (the `_id_` index).
    pub ids: BTreeMap<KeyValue, u64>,
    /// Secondary indexes.
    pub indexes: Vec<Index>,
    /// Options given to `create`.
    pub options: Document,
    next_rid: u64,
}

impl Collection {
    /// A new empty collection.
    pub fn new(options: Document) -> Self {
        Collection {
            options,
            ..Default::default()
        }
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Index specs including `_id_`.
    pub fn index_specs(&self) -> Vec<IndexSpec> {
        let mut v = vec![IndexSpec::id_index()];
        v.extend(self.indexes.iter().map(|i| i.spec.clone()));
        v
    }

    /// Inserts a document (which must have `_id`), enforcing unique indexes.
    pub fn insert(&mut self, ns: &str, doc: Document) -> CmdResult<u64> {
        let id = KeyValue(doc.get("_id").cloned().unwrap_or(Bson::Null));
        if self.ids.contains_key(&id) {
            return Err(dup_key_error(ns, "_id_", &doc! {"_id": 1}, &[id]));
        }
        let rid = self.next_rid;
        let mut all_keys = Vec::with_capacity(self.indexes.len());
        for ix in &self.indexes {
            ix.check_parallel_arrays(&doc)?;
            let keys = ix.keys_for(&doc);
            if let Some(k) = ix.conflict(&keys, rid) {
                return Err(ix.dup_error(ns, k));
            }
            all_keys.push(keys);
        }
        for (ix, keys) in self.indexes.iter_mut().zip(all_keys) {
            ix.insert_keys(keys, rid);
        }
        self.next_rid += 1;
        self.ids.insert(id, rid);
        self.records.insert(rid, doc);
        Ok(rid)
    }

    /// Replaces record `rid` (same `_id`), enforcing unique indexes; returns
    /// the previous document.
    pub fn replace(&mut self, ns: &str, rid: u64, doc: Document) -> CmdResult<Document> {
        let Some(old) = self.records.get(&rid) else {
            return Err(CmdError::internal("record vanished during update"));
        };
        let mut changes = Vec::with_capacity(self.indexes.len());
        for ix in &self.indexes {
            ix.check_parallel_arrays(&doc)?;
            let new_keys = ix.keys_for(&doc);
            if let Some(k) = ix.conflict(&new_keys, rid) {
                return Err(ix.dup_error(ns, k));
            }
            changes.push((ix.keys_for(old), new_keys));
        }
        for (ix, (old_keys, new_keys)) in self.indexes.iter_mut().zip(changes) {
            ix.remove_keys(&old_keys, rid);
            ix.insert_keys(new_keys, rid);
        }
        self.records
            .insert(rid, doc)
            .ok_or_else(|| CmdError::internal("record vanished during update"))
    }

    /// Puts `doc` back at record id `rid` (replacing whatever is there)
    /// without constraint checks: it undoes a change, so the state it
    /// restores was valid.
    pub fn restore_at(&mut self, rid: u64, doc: Document) {
        self.delete(rid);
        for ix in &mut self.indexes {
            let keys = ix.keys_for(&doc);
            ix.insert_keys(keys, rid);
        }
        self.ids
            .insert(KeyValue(doc.get("_id").cloned().unwrap_or(Bson::Null)), rid);
        self.records.insert(rid, doc);
    }

    /// Removes record `rid`, returning its document.
    pub fn delete(&mut self, rid: u64) -> Option<Document> {
        let doc = self.records.remove(&rid)?;
        for ix in &mut self.indexes {
            let keys = ix.keys_for(&doc);
            ix.remove_keys(&keys, rid);
        }
        self.ids
            .remove(&KeyValue(doc.get("_id").cloned().unwrap_or(Bson::Null)));
        Some(doc)
    }

    /// Record id of the document with this `_id`.
    pub fn rid_of(&self, id: &Bson) -> Option<u64> {
        self.ids.get(&KeyValue(id.clone())).copied()
    }

    /// Inserts or replaces by `_id` without constraint checks (journal replay).
    pub fn restore_put(&mut self, doc: Document) {
        let id = doc.get("_id").cloned().unwrap_or(Bson::Null);
        if let Some(rid) = self.rid_of(&id) {
            self.delete(rid);
        }
        let rid = self.next_rid;
        self.next_rid += 1;
        for ix in &mut self.indexes {
            let keys = ix.keys_for(&doc);
            ix.insert_keys(keys, rid);
        }
        self.ids.insert(KeyValue(id), rid);
        self.records.insert(rid, doc);
    }

    /// Builds and adds an index; fails with E11000 if a unique index would be violated.
    pub fn add_index(&mut self, ns: &str, spec: IndexSpec, enforce: bool) -> CmdResult<()> {
        let mut ix = Index::new(spec)?;
        for (rid, d) in &self.records {
            if enforce {
                ix.check_parallel_arrays(d)?;
            }
            let keys = ix.keys_for(d);
            if enforce {
                if let Some(k) = ix.conflict(&keys, *rid) {
                    return Err(ix.dup_error(ns, k));
                }
            }
            ix.insert_keys(keys, *rid);
        }
        self.indexes.push(ix);
        Ok(())
    }

    /// Record ids that may match `filter`, using `_id` or a single-field index
    /// when the filter pins that field; `None` means "scan everything".
    fn candidates(&self, filter: &Filter) -> Option<Vec<u64>> {
        for (path, v) in filter.equalities() {
            if path == "_id"
                && !matches!(
                    v,
                    Bson::Document(_) | Bson::Array(_) | Bson::Null | Bson::RegularExpression(_)
                )
            {
                return Some(self.rid_of(v).into_iter().collect());
            }
        }
        for op in filter.ops_on("_id") {
            if let Op::In(list) = op {
                if list.iter().all(|v| {
                    !matches!(
                        v,
                        Bson::Document(_)
                            | Bson::Array(_)
                            | Bson::Null
                            | Bson::RegularExpression(_)
                    )
                }) {
                    let mut out: Vec<u64> = list.iter().filter_map(|v| self.rid_of(v)).collect();
                    out.sort_unstable();
                    out.dedup();
                    return Some(out);
                }
            }
        }
        if let Some(c) = self.compound_prefix_candidates(filter) {
            return Some(c);
        }
        for ix in &self.indexes {
            if ix.spec.hidden
                || ix.spec.sparse
                || ix.spec.partial.is_some()
                || ix.spec.key.len() != 1
            {
                continue;
            }
            let Some(field) = ix.spec.key.keys().next() else {
                continue;
            };
            for op in filter.ops_on(field) {
                let (lo, hi) = match op {
                    Op::Eq(v)
                        if !matches!(
                            v,
                            Bson::Document(_)
                                | Bson::Array(_)
                                | Bson::Null
                                | Bson::RegularExpression(_)
                        ) =>
                    {
                        (Bound::Included(v.clone()), Bound::Included(v.clone()))
                    }
                    Op::In(list)
                        if list.iter().all(|v| {
                            !matches!(
                                v,
                                Bson::Document(_)
                                    | Bson::Array(_)
                                    | Bson::Null
                                    | Bson::RegularExpression(_)
                            )
                        }) =>
                    {
                        let mut out = Vec::new();
                        for v in list {
                            let k = vec![KeyValue(v.clone())];
                            if let Some(s) = ix.entries.get(&k) {
                                out.extend(s.iter().copied());
                            }
                        }
                        out.sort_unstable();
                        out.dedup();
                        return Some(out);
                    }
                    // One bound only: with multikey fields the other bound may be
                    // satisfied by a different array element.
                    Op::Cmp(v, CmpKind::Gt) => (Bound::Excluded(v.clone()), Bound::Unbounded),
                    Op::Cmp(v, CmpKind::Gte) => (Bound::Included(v.clone()), Bound::Unbounded),
                    Op::Cmp(v, CmpKind::Lt) => (Bound::Unbounded, Bound::Excluded(v.clone())),
                    Op::Cmp(v, CmpKind::Lte) => (Bound::Unbounded, Bound::Included(v.clone())),
                    _ => continue,
                };
                let wrap = |b: Bound<Bson>| match b {
                    Bound::Included(v) => Bound::Included(vec![KeyValue(v)]),
                    Bound::Excluded(v) => Bound::Excluded(vec![KeyValue(v)]),
                    Bound::Unbounded => Bound::Unbounded,
                };
                let mut out: Vec<u64> = ix
                    .entries
                    .range((wrap(lo), wrap(hi)))
                    .flat_map(|(_, s)| s.iter().copied())
                    .collect();
                out.sort_unstable();
                out.dedup();
                return Some(out);
            }
        }
        None
    }

    /// Equality on the first field of a compound index: scan the keys that
    /// start with that value (a one-element tuple sorts before its extensions).
    fn compound_prefix_candidates(&self, filter: &Filter) -> Option<Vec<u64>> {
        let eqs = filter.equalities();
        for ix in &self.indexes {
            if ix.spec.hidden
                || ix.spec.sparse
                || ix.spec.partial.is_some()
                || ix.spec.key.len() < 2
            {
                continue;
            }
            let Some(first) = ix.spec.key.keys().next() else {
                continue;
            };
            let Some((_, v)) = eqs.iter().find(|(p, v)| {
                p == first
                    && !matches!(
                        v,
                        Bson::Document(_)
                            | Bson::Array(_)
                            | Bson::Null
                            | Bson::RegularExpression(_)
                    )
            }) else {
                continue;
            };
            let start = vec![KeyValue((*v).clone())];
            let mut out: Vec<u64> = ix
                .entries
                .range(start.clone()..)
                .take_while(|(k, _)| k.first() == start.first())
                .flat_map(|(_, s)| s.iter().copied())
                .collect();
            out.sort_unstable();
            out.dedup();
            return Some(out);
        }
        None
    }

    /// Record ids of matching documents, in natural (insertion) order.
    pub fn matching(&self, filter: &Filter, stats: &ScanStats) -> Vec<u64> {
        match self.candidates(filter) {
            Some(c) => {
                stats.index_scans.fetch_add(1, Ordering::Relaxed);
                stats
                    .docs_examined
                    .fetch_add(c.len() as u64, Ordering::Relaxed);
                c.into_iter()
                    .filter(|rid| self.records.get(rid).is_some_and(|d| filter.matches(d)))
                    .collect()
            }
            None => {
                stats.collection_scans.fetch_add(1, Ordering::Relaxed);
                stats
                    .docs_examined
                    .fetch_add(self.records.len() as u64, Ordering::Relaxed);
                self.records
                    .iter()
                    .filter(|(_, d)| filter.matches(d))
                    .map(|(r, _)| *r)
                    .collect()
            }
        }
    }

    /// Approximate data size in bytes.
    pub fn data_size(&self) -> u64 {
        self.records
            .values()
            .map(|d| bson::to_vec(d).map(|v| v.len() as u64).unwrap_or(0))
            .sum()
    }
}
