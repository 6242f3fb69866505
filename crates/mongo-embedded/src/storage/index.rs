//! Secondary indexes: ordered maps from key tuples to record ids.

use crate::error::{CmdError, CmdResult};
use crate::query::matcher::Filter;
use crate::query::path::values_at;
use crate::sort::compare::{to_f64, KeyValue};
use bson::{doc, Bson, Document};
use std::collections::{BTreeMap, BTreeSet};

/// A validated index definition as stored in `listIndexes`.
#[derive(Debug, Clone)]
pub struct IndexSpec {
    /// Index name, e.g. `email_1`.
    pub name: String,
    /// Key pattern, e.g. `{email: 1}`.
    pub key: Document,
    /// Unique constraint.
    pub unique: bool,
    /// Sparse: documents missing every key field are not indexed.
    pub sparse: bool,
    /// Partial index filter.
    pub partial: Option<Document>,
    /// TTL in seconds.
    pub expire_after: Option<i64>,
    /// Hidden flag (stored and reported only).
    pub hidden: bool,
}

/// Default index name: `field_1_other_-1`.
pub fn default_name(key: &Document) -> String {
    key.iter()
        .map(|(k, v)| format!("{k}_{}", display_dir(v)))
        .collect::<Vec<_>>()
        .join("_")
}

fn display_dir(v: &Bson) -> String {
    match v {
        Bson::Double(d) if d.fract() == 0.0 => format!("{}", *d as i64),
        Bson::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn bool_opt(spec: &Document, k: &str) -> CmdResult<bool> {
    match spec.get(k) {
        None => Ok(false),
        Some(Bson::Boolean(b)) => Ok(*b),
        Some(v) => to_f64(v)
            .map(|f| f != 0.0)
            .ok_or_else(|| CmdError::type_mismatch(format!("The field '{k}' must be a boolean"))),
    }
}

impl IndexSpec {
    /// Validates a `createIndexes` entry.
    pub fn parse(spec: &Document) -> CmdResult<IndexSpec> {
        for k in spec.keys() {
            if !matches!(
                k.as_str(),
                "key"
                    | "name"
                    | "unique"
                    | "sparse"
                    | "partialFilterExpression"
                    | "expireAfterSeconds"
                    | "background"
                    | "v"
                    | "ns"
                    | "hidden"
            ) {
                return Err(CmdError::invalid_index_spec_option(format!(
                    "The field '{k}' is not valid for an index specification. Specification: {spec}"
                )));
            }
        }
        let key = match spec.get("key") {
            Some(Bson::Document(k)) if !k.is_empty() => k.clone(),
            _ => {
                return Err(CmdError::failed_to_parse(
                    "The 'key' field is a required property of an index specification",
                ))
            }
        };
        for (f, v) in &key {
            match v {
                Bson::String(kind) => {
                    return Err(CmdError::cannot_create_index(format!(
                        "mongo-embedded does not support '{kind}' indexes (field '{f}')"
                    )))
                }
                v if to_f64(v).is_some_and(|d| d != 0.0) => {}
                _ => {
                    return Err(CmdError::cannot_create_index(format!(
                        "Values in the index key pattern can't be 0 or non-numbers: {f}: {v}"
                    )))
                }
            }
        }
        let name = match spec.get("name") {
            None => default_name(&key),
            Some(Bson::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => {
                return Err(CmdError::type_mismatch(
                    "The field 'name' must be a non-empty string",
                ))
            }
        };
        let expire_after = match spec.get("expireAfterSeconds") {
            None => None,
            Some(v) => {
                let secs = to_f64(v).ok_or_else(|| {
                    CmdError::type_mismatch("TTL index 'expireAfterSeconds' option must be numeric")
                })?;
                if secs < 0.0 {
                    return Err(CmdError::cannot_create_index(
                        "TTL index 'expireAfterSeconds' option must be within an acceptable range",
                    ));
                }
                if key.len() != 1 {
                    return Err(CmdError::cannot_create_index("TTL indexes are single-field indexes, compound indexes do not support TTL."));
                }
                Some(secs as i64)
            }
        };
        let partial = match spec.get("partialFilterExpression") {
            None => None,
            Some(Bson::Document(d)) => {
                Filter::parse(d)?;
                Some(d.clone())
            }
            Some(_) => {
                return Err(CmdError::type_mismatch(
                    "partialFilterExpression must be an object",
                ))
            }
        };
        let s = IndexSpec {
            name,
            key,
            unique: bool_opt(spec, "unique")?,
            sparse: bool_opt(spec, "sparse")?,
            partial,
            expire_after,
            hidden: bool_opt(spec, "hidden")?,
        };
        if s.name == "_id_" && !s.is_id() {
            return Err(CmdError::bad_value(
                "The index name '_id_' is reserved for the _id index",
            ));
        }
        Ok(s)
    }

    /// The built-in `_id_` index.
    pub fn id_index() -> IndexSpec {
        IndexSpec {
            name: "_id_".into(),
            key: doc! {"_id": 1},
            unique: false,
            sparse: false,
            partial: None,
            expire_after: None,
            hidden: false,
        }
    }

    /// True for the `{_id: 1}` key pattern.
    pub fn is_id(&self) -> bool {
        self.key.len() == 1 && self.key.contains_key("_id")
    }

    /// The `listIndexes` document.
    pub fn to_doc(&self) -> Document {
        let mut d = doc! {"v": 2, "key": self.key.clone(), "name": &self.name};
        if self.unique {
            d.insert("unique", true);
        }
        if self.sparse {
            d.insert("sparse", true);
        }
        if let Some(p) = &self.partial {
            d.insert("partialFilterExpression", p.clone());
        }
        if let Some(e) = self.expire_after {
            // MongoDB reports it as an int32 when it fits.
            d.insert(
                "expireAfterSeconds",
                i32::try_from(e).map(Bson::Int32).unwrap_or(Bson::Int64(e)),
            );
        }
        if self.hidden {
            d.insert("hidden", true);
        }
        d
    }

    /// Same key pattern (field names, order and directions).
    pub fn same_key(&self, other: &IndexSpec) -> bool {
        self.key.len() == other.key.len()
            && self
                .key
                .iter()
                .zip(other.key.iter())
                .all(|((a, x), (b, y))| a == b && to_f64(x) == to_f64(y))
    }

    /// Same options that make two definitions equivalent.
    pub fn same_options(&self, other: &IndexSpec) -> bool {
        self.unique == other.unique
            && self.sparse == other.sparse
            && self.partial == other.partial
            && self.expire_after == other.expire_after
    }
}

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
    /// or partial index excludes the document.
    pub fn keys_for(&self, doc: &Document) -> Vec<Vec<KeyValue>> {
        if let Some(f) = &self.filter {
            if !f.matches(doc) {
                return Vec::new();
            }
        }
        let mut per_field: Vec<Vec<Bson>> = Vec::new();
        let mut all_missing = true;
        for field in self.spec.key.keys() {
            let vals = values_at(doc, field);
            let mut out = Vec::new();
            if !vals.is_empty() {
                all_missing = false;
            }
            for v in vals {
                match v {
                    Bson::Array(a) if a.is_empty() => out.push(Bson::Undefined),
                    Bson::Array(a) => out.extend(a.iter().cloned()),
                    other => out.push(other.clone()),
                }
            }
            if out.is_empty() {
                out.push(Bson::Null);
            }
            per_field.push(out);
        }
        if self.spec.sparse && all_missing {
            return Vec::new();
        }
        let mut keys: Vec<Vec<KeyValue>> = vec![Vec::new()];
        for vals in per_field {
            let mut next = Vec::with_capacity(keys.len() * vals.len());
            for k in &keys {
                for v in &vals {
                    let mut nk = k.clone();
                    nk.push(KeyValue(v.clone()));
                    next.push(nk);
                }
            }
            keys = next;
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// MongoDB refuses compound keys over two array fields ("parallel arrays"),
    /// which would otherwise explode into a cross product of keys.
    pub fn check_parallel_arrays(&self, doc: &Document) -> CmdResult<()> {
        if self.spec.key.len() < 2 {
            return Ok(());
        }
        let arrays: Vec<&String> = self
            .spec
            .key
            .keys()
            .filter(|f| {
                values_at(doc, f)
                    .iter()
                    .any(|v| matches!(v, Bson::Array(_)))
                    || values_at(doc, f).len() > 1
            })
            .collect();
        if arrays.len() > 1 {
            return Err(CmdError::new(
                171,
                "CannotIndexParallelArrays",
                format!(
                    "cannot index parallel arrays [{}] [{}]",
                    arrays[1], arrays[0]
                ),
            ));
        }
        Ok(())
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

/// Builds the E11000 duplicate key error with `keyPattern` and `keyValue`.
pub fn dup_key_error(ns: &str, index_name: &str, pattern: &Document, key: &[KeyValue]) -> CmdError {
    let mut key_value = Document::new();
    let mut shown = Vec::new();
    for ((field, _), kv) in pattern.iter().zip(key.iter()) {
        key_value.insert(field.clone(), kv.0.clone());
        shown.push(format!("{field}: {}", kv.0));
    }
    CmdError::duplicate_key(format!(
        "E11000 duplicate key error collection: {ns} index: {index_name} dup key: {{ {} }}",
        shown.join(", ")
    ))
    .with("keyPattern", pattern.clone())
    .with("keyValue", key_value)
}
