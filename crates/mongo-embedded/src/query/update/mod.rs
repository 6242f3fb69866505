//! Update documents: replacements and the `$set`/`$inc`/`$push`/... operators.

mod arrays;
mod ops;
mod paths;
mod positional;

pub use paths::set_path;

use crate::error::{CmdError, CmdResult};
use crate::query::matcher::Filter;
use crate::sort::compare::bson_eq;
use bson::{Bson, DateTime, Document};
use ops::apply_op;

/// A parsed update: whole-document replacement or a list of operators.
#[derive(Debug, Clone)]
pub enum Update {
    /// Replace the document (keeping `_id`).
    Replacement(Document),
    /// Apply operators in order.
    Operators(Vec<(UpOp, String, Bson)>),
}

/// Supported update operators.
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(missing_docs)]
pub enum UpOp {
    Set,
    Unset,
    Inc,
    Mul,
    Min,
    Max,
    SetOnInsert,
    CurrentDate,
    Push,
    AddToSet,
    Pull,
    PullAll,
    Pop,
    Rename,
}

/// BSON type name as MongoDB prints it in error messages.
pub fn type_name(v: &Bson) -> &'static str {
    match v {
        Bson::Double(_) => "double",
        Bson::String(_) => "string",
        Bson::Document(_) => "object",
        Bson::Array(_) => "array",
        Bson::Binary(_) => "binData",
        Bson::Undefined => "undefined",
        Bson::ObjectId(_) => "objectId",
        Bson::Boolean(_) => "bool",
        Bson::DateTime(_) => "date",
        Bson::Null => "null",
        Bson::RegularExpression(_) => "regex",
        Bson::Int32(_) => "int",
        Bson::Timestamp(_) => "timestamp",
        Bson::Int64(_) => "long",
        Bson::Decimal128(_) => "decimal",
        Bson::MinKey => "minKey",
        Bson::MaxKey => "maxKey",
        _ => "other",
    }
}

impl Update {
    /// Parses an update document (`u` of an update statement).
    pub fn parse(u: &Document) -> CmdResult<Update> {
        let Some(first) = u.keys().next() else {
            return Ok(Update::Replacement(Document::new()));
        };
        if !first.starts_with('$') {
            if let Some(k) = u.keys().find(|k| k.starts_with('$')) {
                return Err(CmdError::bad_value(format!(
                    "The dollar ($) prefixed field '{k}' in '{k}' is not allowed in the context of an update's replacement document."
                )));
            }
            return Ok(Update::Replacement(u.clone()));
        }
        let mut ops = Vec::new();
        for (name, arg) in u {
            let op = match name.as_str() {
                "$set" => UpOp::Set,
                "$unset" => UpOp::Unset,
                "$inc" => UpOp::Inc,
                "$mul" => UpOp::Mul,
                "$min" => UpOp::Min,
                "$max" => UpOp::Max,
                "$setOnInsert" => UpOp::SetOnInsert,
                "$currentDate" => UpOp::CurrentDate,
                "$push" => UpOp::Push,
                "$addToSet" => UpOp::AddToSet,
                "$pull" => UpOp::Pull,
                "$pullAll" => UpOp::PullAll,
                "$pop" => UpOp::Pop,
                "$rename" => UpOp::Rename,
                _ if name.starts_with('$') => {
                    return Err(CmdError::failed_to_parse(format!("Unknown modifier: {name}. Expected a valid update modifier or pipeline-style update specified as an array")))
                }
                _ => {
                    return Err(CmdError::failed_to_parse(format!(
                        "Unknown modifier: {name}. Expected a valid update modifier or pipeline-style update specified as an array"
                    )))
                }
            };
            let Bson::Document(fields) = arg else {
                return Err(CmdError::failed_to_parse(format!(
                    "Modifiers operate on fields but we found type {} instead. For example: {{$mod: {{<field>: ...}}}} not {{{name}: {arg}}}",
                    type_name(arg)
                )));
            };
            for (path, v) in fields {
                if path.is_empty() || path.split('.').any(str::is_empty) {
                    return Err(CmdError::new(
                        56,
                        "EmptyFieldName",
                        "An empty update path is not valid.",
                    ));
                }
                if let Some(p) = path.split('.').find(|p| p.starts_with("$[") && *p != "$[]") {
                    return Err(CmdError::bad_value(format!(
                        "mongo-embedded does not support filtered positional updates ('{p}' in '{path}'): arrayFilters are not implemented"
                    )));
                }
                if path
                    .split('.')
                    .any(|p| p.starts_with('$') && p != "$" && p != "$[]")
                {
                    return Err(CmdError::bad_value(format!(
                        "The dollar ($) prefixed field in '{path}' is not valid for storage."
                    )));
                }
                if op == UpOp::Rename && positional::is_positional(path) {
                    return Err(CmdError::bad_value(
                        "The source field for $rename may not be dynamic",
                    ));
                }
                if op == UpOp::Rename {
                    let Bson::String(to) = v else {
                        return Err(CmdError::bad_value(format!(
                            "The 'to' field for $rename must be a string: {path}: {v}"
                        )));
                    };
                    ops.push((op, path.clone(), Bson::String(to.clone())));
                    continue;
                }
                ops.push((op, path.clone(), v.clone()));
            }
        }
        check_conflicts(&ops)?;
        Ok(Update::Operators(ops))
    }

    /// Applies the update to `doc`. `inserting` enables `$setOnInsert`.
    pub fn apply(&self, doc: &mut Document, inserting: bool, now: DateTime) -> CmdResult<()> {
        self.apply_matched(doc, inserting, now, None)
    }

    /// Like [`Update::apply`], with the query that selected `doc` so the
    /// positional `$` operator can find the matched array element.
    pub fn apply_matched(
        &self,
        doc: &mut Document,
        inserting: bool,
        now: DateTime,
        filter: Option<&Filter>,
    ) -> CmdResult<()> {
        let old_id = doc.get("_id").cloned();
        match self {
            Update::Replacement(r) => {
                if let (Some(old), Some(new)) = (&old_id, r.get("_id")) {
                    if !bson_eq(old, new) && !inserting {
                        return Err(CmdError::immutable_field(format!(
                            "After applying the update, the (immutable) field '_id' was found to have been altered to _id: {new}"
                        )));
                    }
                }
                let mut out = Document::new();
                if let Some(id) = old_id.clone().or_else(|| r.get("_id").cloned()) {
                    out.insert("_id", id);
                }
                for (k, v) in r {
                    if k != "_id" {
                        out.insert(k.clone(), v.clone());
                    }
                }
                *doc = out;
            }
            Update::Operators(ops) => {
                for (op, path, arg) in ops {
                    if positional::is_positional(path) {
                        // Positions come from the document as it was before this operator.
                        for concrete in positional::resolve(doc, path, filter)? {
                            apply_op(doc, *op, &concrete, arg, inserting, now)?;
                        }
                    } else {
                        apply_op(doc, *op, path, arg, inserting, now)?;
                    }
                }
                if !inserting {
                    if let Some(old) = &old_id {
                        if !doc.get("_id").is_some_and(|n| bson_eq(old, n)) {
                            return Err(CmdError::immutable_field(
                                "Performing an update on the path '_id' would modify the immutable field '_id'",
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_conflicts(ops: &[(UpOp, String, Bson)]) -> CmdResult<()> {
    let mut paths: Vec<&str> = Vec::new();
    for (op, p, arg) in ops {
        paths.push(p);
        if *op == UpOp::Rename {
            if let Bson::String(to) = arg {
                paths.push(to);
            }
        }
    }
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
            if long == short || long.starts_with(&format!("{short}.")) {
                return Err(CmdError::conflicting_update(format!(
                    "Updating the path '{long}' would create a conflict at '{short}'"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bson::doc;

    fn run(u: Document, mut d: Document) -> Document {
        Update::parse(&u)
            .unwrap()
            .apply(&mut d, false, DateTime::from_millis(0))
            .unwrap();
        d
    }

    #[test]
    fn field_operators() {
        assert_eq!(
            run(doc! {"$set": {"a.b": 1}}, doc! {"_id": 1}),
            doc! {"_id": 1, "a": {"b": 1}}
        );
        assert_eq!(
            run(doc! {"$inc": {"n": 2}}, doc! {"_id": 1, "n": 1}),
            doc! {"_id": 1, "n": 3}
        );
        assert_eq!(
            run(doc! {"$inc": {"n": 1.5}}, doc! {"_id": 1, "n": 1}),
            doc! {"_id": 1, "n": 2.5}
        );
        assert_eq!(
            run(doc! {"$unset": {"n": ""}}, doc! {"_id": 1, "n": 1}),
            doc! {"_id": 1}
        );
        assert_eq!(
            run(doc! {"$min": {"n": 0}}, doc! {"_id": 1, "n": 1}),
            doc! {"_id": 1, "n": 0}
        );
        assert_eq!(
            run(doc! {"$max": {"n": 0}}, doc! {"_id": 1, "n": 1}),
            doc! {"_id": 1, "n": 1}
        );
        assert_eq!(
            run(doc! {"$set": {"a.1": 9}}, doc! {"_id": 1, "a": [1]}),
            doc! {"_id": 1, "a": [1, 9]}
        );
    }

    #[test]
    fn array_operators() {
        assert_eq!(
            run(doc! {"$push": {"a": 3}}, doc! {"_id": 1, "a": [1]}),
            doc! {"_id": 1, "a": [1, 3]}
        );
        assert_eq!(
            run(
                doc! {"$push": {"a": {"$each": [5, 4], "$sort": 1, "$slice": 2}}},
                doc! {"_id": 1, "a": [6]}
            ),
            doc! {"_id": 1, "a": [4, 5]}
        );
        assert_eq!(
            run(doc! {"$addToSet": {"a": 1}}, doc! {"_id": 1, "a": [1]}),
            doc! {"_id": 1, "a": [1]}
        );
        assert_eq!(
            run(
                doc! {"$pull": {"a": {"$gt": 1}}},
                doc! {"_id": 1, "a": [1, 2, 3]}
            ),
            doc! {"_id": 1, "a": [1]}
        );
        assert_eq!(
            run(
                doc! {"$pull": {"a": {"k": 1}}},
                doc! {"_id": 1, "a": [{"k": 1}, {"k": 2}]}
            ),
            doc! {"_id": 1, "a": [{"k": 2}]}
        );
    }

    #[test]
    fn errors_match_mongodb() {
        assert_eq!(Update::parse(&doc! {"$foo": {"a": 1}}).unwrap_err().code, 9);
        assert_eq!(
            Update::parse(&doc! {"$set": {"a": 1}, "$inc": {"a": 1}})
                .unwrap_err()
                .code,
            40
        );
        let mut d = doc! {"_id": 1, "s": "x"};
        let e = Update::parse(&doc! {"$inc": {"s": 1}})
            .unwrap()
            .apply(&mut d, false, DateTime::now())
            .unwrap_err();
        assert_eq!(e.code, 14);
        let e = Update::parse(&doc! {"$set": {"_id": 2}})
            .unwrap()
            .apply(&mut d, false, DateTime::now())
            .unwrap_err();
        assert_eq!(e.code, 66);
    }

    #[test]
    fn set_on_insert_only_when_inserting() {
        let u = Update::parse(&doc! {"$setOnInsert": {"c": 1}, "$set": {"d": 2}}).unwrap();
        let mut a = doc! {"_id": 1};
        u.apply(&mut a, false, DateTime::now()).unwrap();
        assert_eq!(a, doc! {"_id": 1, "d": 2});
        let mut b = doc! {"_id": 1};
        u.apply(&mut b, true, DateTime::now()).unwrap();
        assert_eq!(b, doc! {"_id": 1, "c": 1, "d": 2});
    }
}
