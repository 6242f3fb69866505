//! Secondary indexes: ordered maps from key tuples to record ids.

pub use super::multikey;
pub use super::spec::IndexSpec;
use crate::error::{CmdError, CmdResult};
use crate::path::values_at;
use crate::query::matcher::Filter;
use crate::sort::compare::KeyValue;
use bson::{Bson, Document};
use std::collections::{BTreeMap, BTreeSet};

/// A built index.
#[derive(Debug, Clone)]
pub struct Index {
    /// Its definition.
    pub spec: IndexSpec,
    filter: Option<Filter>,
    /// Key tuple → record ids.
    pub entries: BTreeMap<Vec<KeyValue>, BTreeSet<u64>>,
}

impl Index {
    /// Creates an empty index for `spec`.
    pub fn new(spec: IndexSpec) -> CmdResult<Index> {
        let filter = spec.partial.as_ref().map(Filter::parse).transpose()?;
        Ok(Index {
            spec,
            filter,
            entries: BTreeMap::new(),
        })
    }

    /// Key tuples of `doc` (several for multikey fields); none when a sparse
    /// or partial index excludes the document. Paths under one array expand
    /// element by element, as in MongoDB (see [`multikey`]).
    pub fn keys_for(&self, doc: &Document) -> Vec<Vec<KeyValue>> {
        if let Some(f) = &self.filter {
            if !f.matches(doc) {
                return Vec::new();
            }
        }
        if self.spec.sparse
            && self
                .spec
                .key
                .keys()
                .all(|field| values_at(doc, field).is_empty())
        {
            return Vec::new();
        }
        // Writes check for parallel arrays first; nothing else reaches this with them.
        let mut keys: Vec<Vec<KeyValue>> =
            multikey::key_tuples(&Bson::Document(doc.clone()), &self.paths())
                .unwrap_or_default()
                .into_iter()
                .map(|tuple| tuple.into_iter().map(KeyValue).collect())
                .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    fn paths(&self) -> Vec<Vec<&str>> {
        self.spec
            .key
            .keys()
            .map(|field| field.split('.').collect())
            .collect()
    }

    /// MongoDB refuses compound keys over two different arrays ("parallel
    /// arrays"); paths under the same array are fine.
    pub fn check_parallel_arrays(&self, doc: &Document) -> CmdResult<()> {
        if self.spec.key.len() < 2 {
            return Ok(());
        }
        match multikey::key_tuples(&Bson::Document(doc.clone()), &self.paths()) {
            Ok(_) => Ok(()),
            Err(multikey::ParallelArrays(first, second)) => Err(CmdError::new(
                171,
                "CannotIndexParallelArrays",
                format!("cannot index parallel arrays [{second}] [{first}]"),
            )),
        }
    }

    /// Adds a record's keys.
    pub fn insert_keys(&mut self, keys: Vec<Vec<KeyValue>>, rid: u64) {
        for k in keys {
            self.entries.entry(k).or_default().insert(rid);
        }
    }

    /// Removes a record's keys.
    pub fn remove_keys(&mut self, keys: &[Vec<KeyValue>], rid: u64) {
        for k in keys {
            if let Some(set) = self.entries.get_mut(k) {
                set.remove(&rid);
                if set.is_empty() {
                    self.entries.remove(k);
                }
            }
        }
    }

    /// For a unique index, the first key already held by another record.
    pub fn conflict<'a>(&self, keys: &'a [Vec<KeyValue>], rid: u64) -> Option<&'a Vec<KeyValue>> {
        if !self.spec.unique {
            return None;
        }
        keys.iter().find(|k| {
            self.entries
                .get(*k)
                .is_some_and(|s| s.iter().any(|r| *r != rid))
        })
    }

    /// MongoDB's E11000 error for `key` in namespace `ns`.
    pub fn dup_error(&self, ns: &str, key: &[KeyValue]) -> CmdError {
        dup_key_error(ns, &self.spec.name, &self.spec.key, key)
    }
}

/// Renders a value the way mongod prints it in error messages
/// (`"str"`, `ObjectId('...')`, `new Date(ms)`, `{ a: 1 }`).
pub fn shell_repr(v: &Bson) -> String {
    match v {
        Bson::String(s) => format!("{s:?}"),
        Bson::ObjectId(o) => format!("ObjectId('{}')", o.to_hex()),
        Bson::DateTime(d) => format!("new Date({})", d.timestamp_millis()),
        Bson::Int64(i) => i.to_string(),
        Bson::Int32(i) => i.to_string(),
        Bson::Double(d) => d.to_string(),
        Bson::Document(d) => {
            let inner: Vec<String> = d
                .iter()
                .map(|(k, v)| format!("{k}: {}", shell_repr(v)))
                .collect();
            if inner.is_empty() {
                "{}".to_string()
            } else {
                format!("{{ {} }}", inner.join(", "))
            }
        }
        Bson::Array(a) => format!(
            "[ {} ]",
            a.iter().map(shell_repr).collect::<Vec<_>>().join(", ")
        ),
        Bson::Undefined => "undefined".to_string(),
        other => other.to_string(),
    }
}

/// Builds the E11000 duplicate key error with `keyPattern` and `keyValue`.
pub fn dup_key_error(ns: &str, index_name: &str, pattern: &Document, key: &[KeyValue]) -> CmdError {
    let mut key_value = Document::new();
    let mut shown = Vec::new();
    for ((field, _), kv) in pattern.iter().zip(key.iter()) {
        key_value.insert(field.clone(), kv.0.clone());
        shown.push(format!("{field}: {}", shell_repr(&kv.0)));
    }
    CmdError::duplicate_key(format!(
        "E11000 duplicate key error collection: {ns} index: {index_name} dup key: {{ {} }}",
        shown.join(", ")
    ))
    .with("keyPattern", pattern.clone())
    .with("keyValue", key_value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bson::{doc, oid::ObjectId};

    #[test]
    fn dup_key_message_matches_mongod() {
        let oid = ObjectId::parse_str("65f0a1b2c3d4e5f601234567").unwrap();
        let e = dup_key_error(
            "db.c",
            "a_1_b_1",
            &doc! {"a": 1, "b": 1},
            &[
                KeyValue(Bson::ObjectId(oid)),
                KeyValue(Bson::String("x".into())),
            ],
        );
        assert_eq!(
            e.msg,
            "E11000 duplicate key error collection: db.c index: a_1_b_1 dup key: { a: ObjectId('65f0a1b2c3d4e5f601234567'), b: \"x\" }"
        );
        assert_eq!(e.code, 11000);
        assert_eq!(
            e.extra.get_document("keyValue").unwrap(),
            &doc! {"a": oid, "b": "x"}
        );
    }
}
