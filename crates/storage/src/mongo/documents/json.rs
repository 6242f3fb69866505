//! Session state (JSON) ⇄ BSON, value for value, so the state stays a queryable document.
//!
//! Deliberately not extended JSON: `{"$oid": "…"}` in a session stays a plain sub-document.

use mongodb::bson::{Bson, Document};
use serde_json::{Map, Number, Value};

/// Integers become int64 (int32 would not hold every JSON integer), floats doubles; integers
/// above `i64::MAX` become doubles, the only lossy case.
pub(in crate::mongo) fn json_to_bson(value: &Value) -> Bson {
    match value {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Bson::Int64(i),
            (None, Some(f)) => Bson::Double(f),
            (None, None) => Bson::String(n.to_string()),
        },
        Value::String(s) => Bson::String(s.clone()),
        Value::Array(items) => Bson::Array(items.iter().map(json_to_bson).collect()),
        Value::Object(map) => Bson::Document(object_to_document(map)),
    }
}

pub(in crate::mongo) fn object_to_document(map: &Map<String, Value>) -> Document {
    map.iter()
        .map(|(k, v)| (k.clone(), json_to_bson(v)))
        .collect()
}

/// The inverse of [`json_to_bson`]; types JSON lacks (dates, ObjectIds, binaries written by
/// other tools) come back as relaxed extended JSON.
pub(in crate::mongo) fn bson_to_json(value: &Bson) -> Value {
    match value {
        Bson::Null | Bson::Undefined => Value::Null,
        Bson::Boolean(b) => Value::Bool(*b),
        Bson::Int32(n) => Value::from(*n),
        Bson::Int64(n) => Value::from(*n),
        Bson::Double(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Bson::String(s) => Value::String(s.clone()),
        Bson::Array(items) => Value::Array(items.iter().map(bson_to_json).collect()),
        Bson::Document(doc) => Value::Object(document_to_object(doc)),
        other => other.clone().into_relaxed_extjson(),
    }
}

pub(in crate::mongo) fn document_to_object(doc: &Document) -> Map<String, Value> {
    doc.iter()
        .map(|(k, v)| (k.clone(), bson_to_json(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn json_values_round_trip() {
        let value = json!({
            "n": 1, "big": i64::MAX, "neg": -7, "f": 1.5, "whole_float": 2.0,
            "s": "héllo ✓ 日本", "b": false, "nil": null,
            "list": [1, "two", [3.25], {"four": 4}],
            "nested": {"deeper": {"$oid": "not an id"}}
        });
        let bson = json_to_bson(&value);
        assert_eq!(bson_to_json(&bson), value);
        let Bson::Document(doc) = bson else {
            panic!("an object becomes a document")
        };
        assert!(matches!(doc.get("n"), Some(Bson::Int64(1))));
        assert!(matches!(doc.get("f"), Some(Bson::Double(_))));
        assert!(doc
            .get_document("nested")
            .unwrap()
            .get_document("deeper")
            .unwrap()
            .contains_key("$oid"));
    }
}
