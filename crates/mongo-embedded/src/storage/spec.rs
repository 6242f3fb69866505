//! Index definitions: validation of `createIndexes` entries and equivalence rules.

use crate::error::{CmdError, CmdResult};
use crate::query::matcher::Filter;
use crate::sort::compare::to_f64;
use bson::{doc, Bson, Document};

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
                if matches!(
                    k.as_str(),
                    "collation"
                        | "weights"
                        | "default_language"
                        | "language_override"
                        | "textIndexVersion"
                        | "2dsphereIndexVersion"
                        | "bits"
                        | "min"
                        | "max"
                        | "bucketSize"
                        | "wildcardProjection"
                        | "storageEngine"
                        | "clustered"
                        | "prepareUnique"
                ) {
                    return Err(CmdError::cannot_create_index(format!(
                        "mongo-embedded does not support the index option '{k}'"
                    )));
                }
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
