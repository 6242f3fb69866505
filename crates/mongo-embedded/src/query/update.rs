//! Update documents: replacements and the `$set`/`$inc`/`$push`/... operators.

use crate::error::{CmdError, CmdResult};
use crate::query::matcher::{op_matches, Filter};
use crate::sort::compare::{bson_eq, cmp_bson, to_f64};
use bson::{Bson, DateTime, Document};
use std::cmp::Ordering;

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
                if path.split('.').any(|p| p.starts_with('$')) {
                    return Err(CmdError::bad_value(format!(
                        "mongo-embedded does not support positional update paths ('{path}')"
                    )));
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
                    apply_op(doc, *op, path, arg, inserting, now)?;
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

fn id_repr(doc: &Document) -> String {
    doc.get("_id").map(|v| v.to_string()).unwrap_or_default()
}

fn get_mut<'a>(doc: &'a mut Document, path: &str) -> Option<&'a mut Bson> {
    let mut parts = path.split('.');
    let mut cur = doc.get_mut(parts.next()?)?;
    for p in parts {
        cur = match cur {
            Bson::Document(d) => d.get_mut(p)?,
            Bson::Array(a) => a.get_mut(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn not_viable(part: &str, parent: &str, v: &Bson) -> CmdError {
    CmdError::path_not_viable(format!(
        "Cannot create field '{part}' in element {{{parent}: {v}}}"
    ))
}

/// Sets `path` to `v`, creating intermediate documents (and padding arrays with null).
pub fn set_path(doc: &mut Document, path: &str, v: Bson) -> CmdResult<()> {
    let parts: Vec<&str> = path.split('.').collect();
    set_in_doc(doc, &parts, v)
}

fn set_in_doc(doc: &mut Document, parts: &[&str], v: Bson) -> CmdResult<()> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(());
    };
    if rest.is_empty() {
        doc.insert(*first, v);
        return Ok(());
    }
    if !doc.contains_key(*first) {
        doc.insert(*first, Document::new());
    }
    match doc.get_mut(*first) {
        Some(Bson::Document(d)) => set_in_doc(d, rest, v),
        Some(Bson::Array(a)) => set_in_array(a, first, rest, v),
        Some(other) => Err(not_viable(rest[0], first, other)),
        None => Ok(()),
    }
}

fn set_in_array(a: &mut Vec<Bson>, name: &str, parts: &[&str], v: Bson) -> CmdResult<()> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(());
    };
    let Ok(idx) = first.parse::<usize>() else {
        return Err(not_viable(first, name, &Bson::Array(a.clone())));
    };
    if idx > 1_500_000 {
        return Err(CmdError::failed_to_parse(
            "can't backfill array to larger than 1500000 elements",
        ));
    }
    while a.len() <= idx {
        a.push(Bson::Null);
    }
    if rest.is_empty() {
        a[idx] = v;
        return Ok(());
    }
    if matches!(a[idx], Bson::Null) {
        a[idx] = Bson::Document(Document::new());
    }
    match &mut a[idx] {
        Bson::Document(d) => set_in_doc(d, rest, v),
        Bson::Array(inner) => set_in_array(inner, first, rest, v),
        other => Err(not_viable(rest[0], first, other)),
    }
}

fn unset_path(doc: &mut Document, path: &str) {
    match path.rsplit_once('.') {
        None => {
            doc.remove(path);
        }
        Some((parent, last)) => match get_mut(doc, parent) {
            Some(Bson::Document(d)) => {
                d.remove(last);
            }
            Some(Bson::Array(a)) => {
                // MongoDB keeps array positions stable: unset sets the slot to null.
                if let Some(slot) = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                    *slot = Bson::Null;
                }
            }
            _ => {}
        },
    }
}

fn arith(cur: &Bson, arg: &Bson, mul: bool) -> Option<Bson> {
    use Bson::{Double, Int32, Int64};
    Some(match (cur, arg) {
        (Int32(a), Int32(b)) => {
            let r = if mul {
                a.checked_mul(*b)
            } else {
                a.checked_add(*b)
            };
            match r {
                Some(v) => Int32(v),
                None => {
                    let (a, b) = (i64::from(*a), i64::from(*b));
                    Int64(if mul { a * b } else { a + b })
                }
            }
        }
        (Int32(_) | Int64(_), Int32(_) | Int64(_)) => {
            let a = if let Int32(x) = cur {
                i64::from(*x)
            } else if let Int64(x) = cur {
                *x
            } else {
                0
            };
            let b = if let Int32(x) = arg {
                i64::from(*x)
            } else if let Int64(x) = arg {
                *x
            } else {
                0
            };
            match if mul {
                a.checked_mul(b)
            } else {
                a.checked_add(b)
            } {
                Some(v) => Int64(v),
                None => Double(if mul {
                    a as f64 * b as f64
                } else {
                    a as f64 + b as f64
                }),
            }
        }
        (Bson::Decimal128(_), _) | (_, Bson::Decimal128(_)) => return None,
        _ => {
            let (a, b) = (to_f64(cur)?, to_f64(arg)?);
            Double(if mul { a * b } else { a + b })
        }
    })
}

fn is_number(v: &Bson) -> bool {
    matches!(v, Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_))
}

fn array_at<'a>(doc: &'a mut Document, path: &str, op: &str) -> CmdResult<&'a mut Vec<Bson>> {
    let id = id_repr(doc);
    if get_mut(doc, path).is_none() {
        set_path(doc, path, Bson::Array(Vec::new()))?;
    }
    match get_mut(doc, path) {
        Some(Bson::Array(a)) => Ok(a),
        Some(other) => Err(CmdError::bad_value(format!(
            "The field '{path}' must be an array but is of type {} in document {{_id: {id}}}",
            type_name(other)
        ))),
        None => Err(CmdError::bad_value(format!("{op}: cannot create '{path}'"))),
    }
}

fn apply_op(
    doc: &mut Document,
    op: UpOp,
    path: &str,
    arg: &Bson,
    inserting: bool,
    now: DateTime,
) -> CmdResult<()> {
    match op {
        UpOp::Set => set_path(doc, path, arg.clone()),
        UpOp::SetOnInsert => {
            if inserting {
                set_path(doc, path, arg.clone())?;
            }
            Ok(())
        }
        UpOp::Unset => {
            unset_path(doc, path);
            Ok(())
        }
        UpOp::Inc | UpOp::Mul => {
            let name = if op == UpOp::Inc { "$inc" } else { "$mul" };
            if !is_number(arg) {
                return Err(CmdError::type_mismatch(format!(
                    "Cannot {} with non-numeric argument: {{{path}: {arg}}}",
                    if op == UpOp::Inc {
                        "increment"
                    } else {
                        "multiply"
                    }
                )));
            }
            let id = id_repr(doc);
            let new = match get_mut(doc, path) {
                None => {
                    if op == UpOp::Inc {
                        arg.clone()
                    } else {
                        arith(&Bson::Int32(0), arg, true).unwrap_or(Bson::Int32(0))
                    }
                }
                Some(cur) if is_number(cur) => arith(cur, arg, op == UpOp::Mul)
                    .ok_or_else(|| CmdError::type_mismatch("decimal arithmetic is not supported"))?,
                Some(cur) => {
                    return Err(CmdError::type_mismatch(format!(
                        "Cannot apply {name} to a value of non-numeric type. {{_id: {id}}} has the field '{path}' of non-numeric type {}",
                        type_name(cur)
                    )))
                }
            };
            set_path(doc, path, new)
        }
        UpOp::Min | UpOp::Max => {
            let replace = match get_mut(doc, path) {
                None => true,
                Some(cur) => {
                    let o = cmp_bson(arg, cur);
                    (op == UpOp::Min && o == Ordering::Less)
                        || (op == UpOp::Max && o == Ordering::Greater)
                }
            };
            if replace {
                set_path(doc, path, arg.clone())?;
            }
            Ok(())
        }
        UpOp::CurrentDate => {
            let ts = match arg {
                Bson::Boolean(true) => false,
                Bson::Document(d) => match d.get_str("$type") {
                    Ok("date") => false,
                    Ok("timestamp") => true,
                    _ => return Err(CmdError::bad_value("The '$type' string field is required to be 'date' or 'timestamp'")),
                },
                Bson::Boolean(false) => false,
                _ => return Err(CmdError::bad_value(format!("{arg} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({{$type: 'timestamp/date'}})."))),
            };
            let v = if ts {
                Bson::Timestamp(bson::Timestamp {
                    time: (now.timestamp_millis() / 1000) as u32,
                    increment: 1,
                })
            } else {
                Bson::DateTime(now)
            };
            set_path(doc, path, v)
        }
        UpOp::Push => push(doc, path, arg),
        UpOp::AddToSet => {
            let items = match arg {
                Bson::Document(d) if d.contains_key("$each") => match d.get("$each") {
                    Some(Bson::Array(a)) => a.clone(),
                    _ => {
                        return Err(CmdError::type_mismatch(
                            "The argument to $each in $addToSet must be an array",
                        ))
                    }
                },
                other => vec![other.clone()],
            };
            let arr = array_at(doc, path, "$addToSet")?;
            for it in items {
                if !arr.iter().any(|e| bson_eq(e, &it)) {
                    arr.push(it);
                }
            }
            Ok(())
        }
        UpOp::Pull | UpOp::PullAll => {
            let matcher: Box<dyn Fn(&Bson) -> bool> = match (op, arg) {
                (UpOp::PullAll, Bson::Array(list)) => {
                    let list = list.clone();
                    Box::new(move |e| list.iter().any(|x| bson_eq(x, e)))
                }
                (UpOp::PullAll, _) => {
                    return Err(CmdError::bad_value("$pullAll requires an array argument"))
                }
                (_, Bson::Document(d)) if d.keys().next().is_some_and(|k| k.starts_with('$')) => {
                    let f = Filter::parse(&bson::doc! {"x": d.clone()})?;
                    let ops = match f {
                        Filter::Field(_, ops) => ops,
                        _ => Vec::new(),
                    };
                    Box::new(move |e| ops.iter().all(|o| op_matches(o, &[e])))
                }
                (_, Bson::Document(d)) => {
                    let f = Filter::parse(d)?;
                    Box::new(move |e| matches!(e, Bson::Document(ed) if f.matches(ed)))
                }
                (_, other) => {
                    let other = other.clone();
                    Box::new(move |e| bson_eq(e, &other))
                }
            };
            match get_mut(doc, path) {
                None => Ok(()),
                Some(Bson::Array(a)) => {
                    a.retain(|e| !matcher(e));
                    Ok(())
                }
                Some(_) => Err(CmdError::bad_value(
                    "Cannot apply $pull to a non-array value",
                )),
            }
        }
        UpOp::Pop => {
            let first = matches!(to_f64(arg), Some(f) if f < 0.0);
            match get_mut(doc, path) {
                None => Ok(()),
                Some(Bson::Array(a)) => {
                    if !a.is_empty() {
                        if first {
                            a.remove(0);
                        } else {
                            a.pop();
                        }
                    }
                    Ok(())
                }
                Some(other) => Err(CmdError::type_mismatch(format!(
                    "Path '{path}' contains an element of non-array type '{}'",
                    type_name(other)
                ))),
            }
        }
        UpOp::Rename => {
            let Bson::String(to) = arg else { return Ok(()) };
            let Some(v) = crate::query::path::get_path(doc, path).cloned() else {
                return Ok(());
            };
            unset_path(doc, path);
            set_path(doc, to, v)
        }
    }
}

fn push(doc: &mut Document, path: &str, arg: &Bson) -> CmdResult<()> {
    let (items, position, slice, sort) = match arg {
        Bson::Document(d) if d.contains_key("$each") => {
            let Some(Bson::Array(each)) = d.get("$each") else {
                return Err(CmdError::bad_value(
                    "The argument to $each in $push must be an array",
                ));
            };
            for k in d.keys() {
                if !matches!(k.as_str(), "$each" | "$position" | "$slice" | "$sort") {
                    return Err(CmdError::bad_value(format!(
                        "Unrecognized clause in $push: {k}"
                    )));
                }
            }
            let num = |k: &str| d.get(k).and_then(to_f64).map(|f| f as i64);
            (
                each.clone(),
                num("$position"),
                num("$slice"),
                d.get("$sort").cloned(),
            )
        }
        other => (vec![other.clone()], None, None, None),
    };
    let arr = array_at(doc, path, "$push")?;
    let len = arr.len() as i64;
    let pos = match position {
        None => arr.len(),
        Some(p) if p < 0 => (len + p).max(0) as usize,
        Some(p) => p.min(len) as usize,
    };
    for (i, it) in items.into_iter().enumerate() {
        arr.insert(pos + i, it);
    }
    if let Some(s) = sort {
        match s {
            Bson::Document(spec) => {
                let spec = crate::sort::spec::SortSpec::parse(&spec)?;
                arr.sort_by(|a, b| match (a, b) {
                    (Bson::Document(x), Bson::Document(y)) => spec.compare(x, y),
                    _ => cmp_bson(a, b),
                });
            }
            other => {
                let desc = matches!(to_f64(&other), Some(f) if f < 0.0);
                arr.sort_by(|a, b| if desc { cmp_bson(b, a) } else { cmp_bson(a, b) });
            }
        }
    }
    if let Some(s) = slice {
        let n = arr.len() as i64;
        if s >= 0 {
            arr.truncate(s as usize);
        } else if s.unsigned_abs() < n as u64 {
            arr.drain(0..(n - s.unsigned_abs() as i64) as usize);
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
