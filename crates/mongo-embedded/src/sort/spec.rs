//! Sort specifications (`{a: 1, b: -1}`) and MongoDB's array-aware sort keys.

use super::compare::cmp_bson;
use crate::error::CmdError;
use crate::path::values_at;
use bson::{Bson, Document};
use std::cmp::Ordering;

/// A parsed sort specification.
#[derive(Debug, Clone, Default)]
pub struct SortSpec {
    keys: Vec<(String, bool)>,
}

impl SortSpec {
    /// Parses `{field: 1|-1, ...}`; anything else is MongoDB's BadValue.
    pub fn parse(spec: &Document) -> Result<Self, CmdError> {
        let mut keys = Vec::new();
        for (k, v) in spec {
            let dir = match v {
                Bson::Int32(1) | Bson::Int64(1) => true,
                Bson::Int32(-1) | Bson::Int64(-1) => false,
                Bson::Double(d) if *d == 1.0 => true,
                Bson::Double(d) if *d == -1.0 => false,
                Bson::Document(m) if m.contains_key("$meta") => {
                    return Err(CmdError::bad_value("$meta sort is not supported by mongo-embedded"))
                }
                _ => {
                    return Err(CmdError::bad_value(format!(
                        "$sort key ordering must be 1 (for ascending) or -1 (for descending), got {k}: {v}"
                    )))
                }
            };
            keys.push((k.clone(), dir));
        }
        Ok(SortSpec { keys })
    }

    /// True when no keys were given.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Sort key of `doc` for one field: the smallest element for ascending
    /// and the largest for descending when the field holds an array.
    fn key_of(doc: &Document, path: &str, asc: bool) -> Bson {
        let mut cands: Vec<&Bson> = Vec::new();
        let mut saw_empty_array = false;
        for v in values_at(doc, path) {
            match v {
                Bson::Array(a) if a.is_empty() => saw_empty_array = true,
                Bson::Array(a) => cands.extend(a.iter()),
                other => cands.push(other),
            }
        }
        let pick = if asc {
            cands.into_iter().min_by(|a, b| cmp_bson(a, b))
        } else {
            cands.into_iter().max_by(|a, b| cmp_bson(a, b))
        };
        match pick {
            Some(v) => v.clone(),
            // An empty array sorts before null; a missing field sorts as null.
            None if saw_empty_array => Bson::Undefined,
            None => Bson::Null,
        }
    }

    /// Compares two documents by this specification.
    pub fn compare(&self, a: &Document, b: &Document) -> Ordering {
        for (path, asc) in &self.keys {
            let o = cmp_bson(&Self::key_of(a, path, *asc), &Self::key_of(b, path, *asc));
            let o = if *asc { o } else { o.reverse() };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// Sorts documents in place (stable, like MongoDB's in-memory sort).
    pub fn sort(&self, docs: &mut [Document]) {
        if !self.keys.is_empty() {
            docs.sort_by(|a, b| self.compare(a, b));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bson::doc;

    #[test]
    fn compound_sort_and_arrays() {
        let spec = SortSpec::parse(&doc! {"a": 1, "b": -1}).unwrap();
        let mut docs = vec![
            doc! {"a": 2, "b": 1},
            doc! {"a": 1, "b": 1},
            doc! {"a": 1, "b": 5},
            doc! {"b": 0},
        ];
        spec.sort(&mut docs);
        assert_eq!(docs[0], doc! {"b": 0});
        assert_eq!(docs[1], doc! {"a": 1, "b": 5});
        assert_eq!(docs[3], doc! {"a": 2, "b": 1});
        let asc = SortSpec::parse(&doc! {"x": 1}).unwrap();
        let mut arr = vec![doc! {"x": [5, 0]}, doc! {"x": 3}];
        asc.sort(&mut arr);
        assert_eq!(arr[0], doc! {"x": [5, 0]});
        assert!(SortSpec::parse(&doc! {"x": 2}).is_err());
    }
}
