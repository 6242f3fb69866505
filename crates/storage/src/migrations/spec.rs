//! Parsing of a migration file and comparison of index definitions.

use mongodb::bson::{Bson, Document};
use serde::Deserialize;

use super::Migration;

/// A parsed migration.
#[derive(Debug, Clone)]
pub(super) struct Parsed {
    pub id: &'static str,
    pub description: String,
    pub collection: String,
    pub indexes: Vec<IndexSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    description: String,
    collection: String,
    indexes: Vec<IndexSpec>,
}

/// One wanted index, in the shape of `createIndexes` and `listIndexes`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct IndexSpec {
    pub name: String,
    /// Deserialised straight into a BSON document, which keeps the file's key order.
    pub key: Document,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub sparse: bool,
    pub partial_filter_expression: Option<Document>,
    pub expire_after_seconds: Option<i64>,
}

impl IndexSpec {
    /// From a `listIndexes` entry; `None` for entries without a name or key.
    pub fn from_listed(doc: &Document) -> Option<Self> {
        let flag = |field: &str| match doc.get(field) {
            Some(Bson::Boolean(b)) => *b,
            Some(other) => number(other).is_some_and(|n| n != 0.0),
            None => false,
        };
        Some(Self {
            name: doc.get_str("name").ok()?.to_owned(),
            key: doc.get_document("key").ok()?.clone(),
            unique: flag("unique"),
            sparse: flag("sparse"),
            partial_filter_expression: doc.get_document("partialFilterExpression").ok().cloned(),
            #[allow(clippy::cast_possible_truncation)]
            expire_after_seconds: doc
                .get("expireAfterSeconds")
                .and_then(number)
                .map(|n| n as i64),
        })
    }

    /// The `createIndexes` entry.
    pub fn to_create(&self) -> Document {
        let mut doc = Document::new();
        doc.insert("name", self.name.as_str());
        doc.insert("key", normalise_numbers(&self.key));
        if self.unique {
            doc.insert("unique", true);
        }
        if self.sparse {
            doc.insert("sparse", true);
        }
        if let Some(filter) = &self.partial_filter_expression {
            doc.insert("partialFilterExpression", normalise_numbers(filter));
        }
        if let Some(secs) = self.expire_after_seconds {
            doc.insert(
                "expireAfterSeconds",
                i32::try_from(secs).unwrap_or(i32::MAX),
            );
        }
        doc
    }

    /// Same fields in the same order with the same directions.
    pub fn same_key(&self, other: &Self) -> bool {
        documents_equal(&self.key, &other.key)
    }

    /// Same options (the ones migrations set; `v`, `ns`, `background` are ignored).
    pub fn same_options(&self, other: &Self) -> bool {
        self.unique == other.unique
            && self.sparse == other.sparse
            && self.expire_after_seconds == other.expire_after_seconds
            && match (
                &self.partial_filter_expression,
                &other.partial_filter_expression,
            ) {
                (None, None) => true,
                (Some(a), Some(b)) => documents_equal(a, b),
                _ => false,
            }
    }

    /// A one-line description for messages: key and the options that matter.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("key {}", self.key)];
        parts.push(if self.unique { "unique" } else { "not unique" }.to_owned());
        if self.sparse {
            parts.push("sparse".to_owned());
        }
        match self.expire_after_seconds {
            Some(secs) => parts.push(format!("TTL expireAfterSeconds: {secs}")),
            None => parts.push("no TTL".to_owned()),
        }
        if let Some(filter) = &self.partial_filter_expression {
            parts.push(format!("partialFilterExpression {filter}"));
        }
        format!("{} ({})", self.name, parts.join(", "))
    }
}

fn number(value: &Bson) -> Option<f64> {
    match value {
        Bson::Int32(n) => Some(f64::from(*n)),
        #[allow(clippy::cast_precision_loss)]
        Bson::Int64(n) => Some(*n as f64),
        Bson::Double(d) => Some(*d),
        _ => None,
    }
}

/// Integers that fit become int32, as a shell would write them.
fn normalise_numbers(doc: &Document) -> Document {
    fn value(v: &Bson) -> Bson {
        match v {
            Bson::Int64(n) => i32::try_from(*n).map_or(Bson::Int64(*n), Bson::Int32),
            Bson::Document(d) => Bson::Document(normalise_numbers(d)),
            Bson::Array(items) => Bson::Array(items.iter().map(value).collect()),
            other => other.clone(),
        }
    }
    doc.iter().map(|(k, v)| (k.clone(), value(v))).collect()
}

/// Order-sensitive equality where numbers compare by value (1 == 1L == 1.0), as MongoDB does.
fn documents_equal(a: &Document, b: &Document) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|((ka, va), (kb, vb))| ka == kb && values_equal(va, vb))
}

fn values_equal(a: &Bson, b: &Bson) -> bool {
    match (a, b) {
        (Bson::Document(x), Bson::Document(y)) => documents_equal(x, y),
        (Bson::Array(x), Bson::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

/// Parses an embedded migration.
pub(super) fn parse(migration: &Migration) -> Result<Parsed, String> {
    let file: File = serde_json::from_str(migration.source).map_err(|e| e.to_string())?;
    if file.indexes.is_empty() {
        return Err("lists no index".to_owned());
    }
    for index in &file.indexes {
        if index.key.is_empty() {
            return Err(format!("index {} has an empty key", index.name));
        }
        if index.expire_after_seconds.is_some() && index.key.len() != 1 {
            return Err(format!("TTL index {} must have a single field", index.name));
        }
    }
    Ok(Parsed {
        id: migration.id,
        description: file.description,
        collection: file.collection,
        indexes: file.indexes,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use mongodb::bson::doc;

    use super::*;
    use crate::migrations::MIGRATIONS;

    #[test]
    fn embedded_migrations_parse_and_keep_key_order() {
        let parsed: Vec<Parsed> = MIGRATIONS.iter().map(|m| parse(m).unwrap()).collect();
        let identity = &parsed[0].indexes[1];
        let fields: Vec<&str> = identity.key.keys().map(String::as_str).collect();
        assert_eq!(fields, ["identities.provider", "identities.subject"]);
        assert_eq!(
            identity
                .to_create()
                .get_document("partialFilterExpression")
                .unwrap(),
            &doc! {"identities.subject": {"$exists": true}}
        );
        assert_eq!(
            identity.to_create().get_document("key").unwrap(),
            &doc! {"identities.provider": 1_i32, "identities.subject": 1_i32}
        );
        let ttl = &parsed[1].indexes[0];
        assert_eq!(ttl.expire_after_seconds, Some(0));
    }

    #[test]
    fn listed_indexes_compare_by_value_and_order() {
        let wanted = parse(&MIGRATIONS[1]).unwrap().indexes[0].clone();
        let listed = IndexSpec::from_listed(
            &doc! {"v": 2, "key": {"expires": 1.0}, "name": "expires_1", "expireAfterSeconds": 0_i64},
        )
        .unwrap();
        assert!(wanted.same_key(&listed) && wanted.same_options(&listed));
        let no_ttl =
            IndexSpec::from_listed(&doc! {"v": 2, "key": {"expires": 1}, "name": "expires_1"})
                .unwrap();
        assert!(wanted.same_key(&no_ttl) && !wanted.same_options(&no_ttl));
        assert!(no_ttl.describe().contains("no TTL"));
        let reversed =
            IndexSpec::from_listed(&doc! {"key": {"b": 1, "a": 1}, "name": "x"}).unwrap();
        let forward = IndexSpec::from_listed(&doc! {"key": {"a": 1, "b": 1}, "name": "x"}).unwrap();
        assert!(!reversed.same_key(&forward));
    }
}
