//! Query filter compilation and matching (`$eq`, `$gt`, `$in`, `$elemMatch`, ...).
//!
//! Filters are compiled once (so unknown operators fail even on an empty
//! collection, as in MongoDB) and then evaluated against each document.

use crate::error::{CmdError, CmdResult};
use crate::query::path::values_at;
use crate::sort::compare::{bson_eq, cmp_bson, type_bracket};
use bson::{Bson, Document};
use std::cmp::Ordering;

/// A compiled query filter.
#[derive(Debug, Clone)]
pub enum Filter {
    /// All children must match.
    And(Vec<Filter>),
    /// Any child must match.
    Or(Vec<Filter>),
    /// No child may match.
    Nor(Vec<Filter>),
    /// Predicates on one dotted path.
    Field(String, Vec<Op>),
}

/// A predicate applied to the values at one path.
#[derive(Debug, Clone)]
pub enum Op {
    /// Equality (`{a: v}` or `$eq`).
    Eq(Bson),
    /// `$ne`.
    Ne(Bson),
    /// `$gt`, `$gte`, `$lt`, `$lte`: accepted orderings against the operand.
    Cmp(Bson, CmpKind),
    /// `$in`.
    In(Vec<Bson>),
    /// `$nin`.
    Nin(Vec<Bson>),
    /// `$all`.
    All(Vec<Bson>),
    /// `$exists`.
    Exists(bool),
    /// `$size`.
    Size(i64),
    /// `$type` (type numbers).
    Type(Vec<i32>),
    /// `$mod` [divisor, remainder].
    Mod(i64, i64),
    /// `$regex` (also a regex literal).
    Regex(Box<regex::Regex>),
    /// `$not` over a list of operators.
    Not(Vec<Op>),
    /// `$elemMatch` against document elements.
    ElemMatchDoc(Box<Filter>),
    /// `$elemMatch` with operators applied to each element value.
    ElemMatchValue(Vec<Op>),
}

/// Which comparison a [`Op::Cmp`] performs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CmpKind {
    /// `$gt`
    Gt,
    /// `$gte`
    Gte,
    /// `$lt`
    Lt,
    /// `$lte`
    Lte,
}

impl Filter {
    /// Compiles a filter document.
    pub fn parse(filter: &Document) -> CmdResult<Filter> {
        let mut parts = Vec::new();
        for (k, v) in filter {
            match k.as_str() {
                "$and" | "$or" | "$nor" => {
                    let arr = match v {
                        Bson::Array(a) if !a.is_empty() => a,
                        _ => {
                            return Err(CmdError::bad_value(format!(
                                "{k} must be a nonempty array"
                            )))
                        }
                    };
                    let mut subs = Vec::new();
                    for e in arr {
                        match e {
                            Bson::Document(d) => subs.push(Filter::parse(d)?),
                            _ => {
                                return Err(CmdError::bad_value(format!(
                                    "{k} argument's entries must be objects"
                                )))
                            }
                        }
                    }
                    parts.push(match k.as_str() {
                        "$and" => Filter::And(subs),
                        "$or" => Filter::Or(subs),
                        _ => Filter::Nor(subs),
                    });
                }
                "$comment" => {}
                _ if k.starts_with('$') => {
                    return Err(CmdError::bad_value(format!(
                        "unknown top level operator: {k}"
                    )))
                }
                _ => parts.push(Filter::Field(k.clone(), parse_ops(v)?)),
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::And(parts)
        })
    }

    /// True when `doc` satisfies this filter.
    pub fn matches(&self, doc: &Document) -> bool {
        match self {
            Filter::And(v) => v.iter().all(|f| f.matches(doc)),
            Filter::Or(v) => v.iter().any(|f| f.matches(doc)),
            Filter::Nor(v) => !v.iter().any(|f| f.matches(doc)),
            Filter::Field(path, ops) => {
                let vals = values_at(doc, path);
                ops.iter().all(|op| op_matches(op, &vals))
            }
        }
    }

    /// Top-level equality values usable for an index lookup or an upsert seed.
    pub fn equalities(&self) -> Vec<(&str, &Bson)> {
        let mut out = Vec::new();
        self.collect_equalities(&mut out);
        out
    }

    fn collect_equalities<'a>(&'a self, out: &mut Vec<(&'a str, &'a Bson)>) {
        match self {
            Filter::And(v) => v.iter().for_each(|f| f.collect_equalities(out)),
            Filter::Field(p, ops) => {
                for op in ops {
                    if let Op::Eq(v) = op {
                        out.push((p.as_str(), v));
                    }
                }
            }
            _ => {}
        }
    }

    /// Top-level predicates on `path` combined by AND (for index range scans).
    pub fn ops_on(&self, path: &str) -> Vec<&Op> {
        let mut out = Vec::new();
        match self {
            Filter::And(v) => {
                for f in v {
                    if let Filter::Field(p, ops) = f {
                        if p == path {
                            out.extend(ops.iter());
                        }
                    }
                }
            }
            Filter::Field(p, ops) if p == path => out.extend(ops.iter()),
            _ => {}
        }
        out
    }

    /// Top-level field paths constrained by this filter.
    pub fn paths(&self) -> Vec<&str> {
        match self {
            Filter::And(v) => v
                .iter()
                .filter_map(|f| {
                    if let Filter::Field(p, _) = f {
                        Some(p.as_str())
                    } else {
                        None
                    }
                })
                .collect(),
            Filter::Field(p, _) => vec![p.as_str()],
            _ => Vec::new(),
        }
    }
}

fn is_operator_doc(v: &Bson) -> Option<&Document> {
    match v {
        Bson::Document(d) if d.keys().next().is_some_and(|k| k.starts_with('$')) => Some(d),
        _ => None,
    }
}

fn array_operand(op: &str, v: &Bson) -> CmdResult<Vec<Bson>> {
    match v {
        Bson::Array(a) => Ok(a.clone()),
        _ => Err(CmdError::bad_value(format!("{op} needs an array"))),
    }
}

fn int_operand(v: &Bson) -> Option<i64> {
    match v {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        Bson::Double(d) if d.fract() == 0.0 => Some(*d as i64),
        _ => None,
    }
}

fn compile_regex(pattern: &str, options: &str) -> CmdResult<regex::Regex> {
    let mut flags = String::new();
    for c in options.chars() {
        match c {
            'i' | 'm' | 's' | 'x' => flags.push(c),
            'u' => {}
            _ => {
                return Err(CmdError::bad_value(format!(
                    "invalid flag in regex options: {c}"
                )))
            }
        }
    }
    let full = if flags.is_empty() {
        pattern.to_string()
    } else {
        format!("(?{flags}){pattern}")
    };
    regex::Regex::new(&full).map_err(|e| {
        CmdError::new(
            51091,
            "Location51091",
            format!("Regular expression is invalid: {e}"),
        )
    })
}

fn type_numbers(v: &Bson) -> CmdResult<Vec<i32>> {
    let one = |v: &Bson| -> CmdResult<i32> {
        Ok(match v {
            Bson::String(s) => match s.as_str() {
                "double" => 1,
                "string" => 2,
                "object" => 3,
                "array" => 4,
                "binData" => 5,
                "undefined" => 6,
                "objectId" => 7,
                "bool" => 8,
                "date" => 9,
                "null" => 10,
                "regex" => 11,
                "javascript" => 13,
                "int" => 16,
                "timestamp" => 17,
                "long" => 18,
                "decimal" => 19,
                "minKey" => -1,
                "maxKey" => 127,
                "number" => 1000,
                _ => return Err(CmdError::bad_value(format!("Unknown type name alias: {s}"))),
            },
            other => int_operand(other)
                .and_then(|i| i32::try_from(i).ok())
                .ok_or_else(|| {
                    CmdError::bad_value("type must be represented as a number or a string")
                })?,
        })
    };
    match v {
        Bson::Array(a) => a.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

fn parse_ops(v: &Bson) -> CmdResult<Vec<Op>> {
    if let Bson::RegularExpression(r) = v {
        return Ok(vec![Op::Regex(Box::new(compile_regex(
            &r.pattern, &r.options,
        )?))]);
    }
    let Some(d) = is_operator_doc(v) else {
        return Ok(vec![Op::Eq(v.clone())]);
    };
    let mut ops = Vec::new();
    let options = d.get_str("$options").unwrap_or("");
    for (k, arg) in d {
        let op =
            match k.as_str() {
                "$eq" => Op::Eq(arg.clone()),
                "$ne" => Op::Ne(arg.clone()),
                "$gt" => Op::Cmp(arg.clone(), CmpKind::Gt),
                "$gte" => Op::Cmp(arg.clone(), CmpKind::Gte),
                "$lt" => Op::Cmp(arg.clone(), CmpKind::Lt),
                "$lte" => Op::Cmp(arg.clone(), CmpKind::Lte),
                "$in" => Op::In(array_operand("$in", arg)?),
                "$nin" => Op::Nin(array_operand("$nin", arg)?),
                "$all" => Op::All(array_operand("$all", arg)?),
                "$exists" => Op::Exists(match arg {
                    Bson::Boolean(b) => *b,
                    Bson::Null => false,
                    other => int_operand(other).map(|i| i != 0).unwrap_or(true),
                }),
                "$size" => Op::Size(int_operand(arg).filter(|n| *n >= 0).ok_or_else(|| {
                    CmdError::bad_value("$size needs a non-negative whole number")
                })?),
                "$type" => Op::Type(type_numbers(arg)?),
                "$mod" => match arg {
                    Bson::Array(a) if a.len() == 2 => {
                        let (Some(dv), Some(rem)) = (int_operand(&a[0]), int_operand(&a[1])) else {
                            return Err(CmdError::bad_value(
                                "malformed mod, divisor and remainder must be numbers",
                            ));
                        };
                        if dv == 0 {
                            return Err(CmdError::bad_value("divisor cannot be 0"));
                        }
                        Op::Mod(dv, rem)
                    }
                    _ => return Err(CmdError::bad_value("malformed mod, needs to be an array")),
                },
                "$regex" => match arg {
                    Bson::String(s) => Op::Regex(Box::new(compile_regex(s, options)?)),
                    Bson::RegularExpression(r) => {
                        let opts = if options.is_empty() {
                            r.options.as_str()
                        } else {
                            options
                        };
                        Op::Regex(Box::new(compile_regex(&r.pattern, opts)?))
                    }
                    _ => return Err(CmdError::bad_value("$regex has to be a string")),
                },
                "$options" => {
                    if !d.contains_key("$regex") {
                        return Err(CmdError::bad_value("$options needs a $regex"));
                    }
                    continue;
                }
                "$not" => match arg {
                    Bson::RegularExpression(r) => Op::Not(vec![Op::Regex(Box::new(
                        compile_regex(&r.pattern, &r.options)?,
                    ))]),
                    Bson::Document(inner) if is_operator_doc(arg).is_some() => {
                        Op::Not(parse_ops(&Bson::Document(inner.clone()))?)
                    }
                    _ => return Err(CmdError::bad_value("$not needs a regex or a document")),
                },
                "$elemMatch" => match arg {
                    Bson::Document(inner) => {
                        if is_operator_doc(arg).is_some()
                            && !inner
                                .keys()
                                .any(|k| matches!(k.as_str(), "$and" | "$or" | "$nor"))
                        {
                            Op::ElemMatchValue(parse_ops(arg)?)
                        } else {
                            Op::ElemMatchDoc(Box::new(Filter::parse(inner)?))
                        }
                    }
                    _ => return Err(CmdError::bad_value("$elemMatch needs an Object")),
                },
                _ => return Err(CmdError::bad_value(format!("unknown operator: {k}"))),
            };
        ops.push(op);
    }
    Ok(ops)
}

/// Applies `pred` to each value and, for arrays, to each element.
fn any_value_or_element(vals: &[&Bson], pred: &dyn Fn(&Bson) -> bool) -> bool {
    vals.iter().any(|v| {
        pred(v)
            || match v {
                Bson::Array(a) => a.iter().any(pred),
                _ => false,
            }
    })
}

fn eq_matches(target: &Bson, vals: &[&Bson]) -> bool {
    if matches!(target, Bson::Null) {
        // `{a: null}` also matches documents where `a` is missing.
        return vals.is_empty()
            || any_value_or_element(vals, &|v| matches!(v, Bson::Null | Bson::Undefined));
    }
    any_value_or_element(vals, &|v| bson_eq(v, target))
}

fn in_matches(list: &[Bson], vals: &[&Bson]) -> bool {
    list.iter().any(|t| match t {
        Bson::RegularExpression(r) => match compile_regex(&r.pattern, &r.options) {
            Ok(re) => {
                any_value_or_element(vals, &|v| matches!(v, Bson::String(s) if re.is_match(s)))
            }
            Err(_) => false,
        },
        _ => eq_matches(t, vals),
    })
}

fn type_number(v: &Bson) -> i32 {
    match v {
        Bson::Double(_) => 1,
        Bson::String(_) => 2,
        Bson::Document(_) => 3,
        Bson::Array(_) => 4,
        Bson::Binary(_) => 5,
        Bson::Undefined => 6,
        Bson::ObjectId(_) => 7,
        Bson::Boolean(_) => 8,
        Bson::DateTime(_) => 9,
        Bson::Null => 10,
        Bson::RegularExpression(_) => 11,
        Bson::DbPointer(_) => 12,
        Bson::JavaScriptCode(_) => 13,
        Bson::Symbol(_) => 14,
        Bson::JavaScriptCodeWithScope(_) => 15,
        Bson::Int32(_) => 16,
        Bson::Timestamp(_) => 17,
        Bson::Int64(_) => 18,
        Bson::Decimal128(_) => 19,
        Bson::MinKey => -1,
        Bson::MaxKey => 127,
    }
}

/// Evaluates one operator against the values found at its path.
pub fn op_matches(op: &Op, vals: &[&Bson]) -> bool {
    match op {
        Op::Eq(t) => eq_matches(t, vals),
        Op::Ne(t) => !eq_matches(t, vals),
        Op::Cmp(t, kind) => {
            let kind = *kind;
            let inclusive_null =
                matches!(t, Bson::Null) && matches!(kind, CmpKind::Gte | CmpKind::Lte);
            if inclusive_null && vals.is_empty() {
                return true;
            }
            any_value_or_element(vals, &|v| {
                // Comparisons only match within the same type bracket.
                if type_bracket(v) != type_bracket(t) {
                    return false;
                }
                let o = cmp_bson(v, t);
                match kind {
                    CmpKind::Gt => o == Ordering::Greater,
                    CmpKind::Gte => o != Ordering::Less,
                    CmpKind::Lt => o == Ordering::Less,
                    CmpKind::Lte => o != Ordering::Greater,
                }
            })
        }
        Op::In(list) => in_matches(list, vals),
        Op::Nin(list) => !in_matches(list, vals),
        Op::All(list) => !list.is_empty() && list.iter().all(|t| eq_matches(t, vals)),
        Op::Exists(want) => vals.is_empty() != *want,
        Op::Size(n) => vals
            .iter()
            .any(|v| matches!(v, Bson::Array(a) if a.len() as i64 == *n)),
        Op::Type(types) => {
            let check = |v: &Bson| {
                let t = type_number(v);
                types
                    .iter()
                    .any(|x| *x == t || (*x == 1000 && type_bracket(v) == 3))
            };
            vals.iter()
                .any(|v| check(v) || matches!(v, Bson::Array(a) if a.iter().any(check)))
        }
        Op::Mod(d, r) => any_value_or_element(vals, &|v| {
            crate::sort::compare::to_f64(v)
                .is_some_and(|f| (f.trunc() as i64).wrapping_rem(*d) == *r)
        }),
        Op::Regex(re) => any_value_or_element(vals, &|v| match v {
            Bson::String(s) | Bson::Symbol(s) => re.is_match(s),
            _ => false,
        }),
        Op::Not(ops) => !ops.iter().all(|o| op_matches(o, vals)),
        Op::ElemMatchDoc(f) => vals.iter().any(|v| match v {
            Bson::Array(a) => a
                .iter()
                .any(|e| matches!(e, Bson::Document(d) if f.matches(d))),
            _ => false,
        }),
        Op::ElemMatchValue(ops) => vals.iter().any(|v| match v {
            Bson::Array(a) => a
                .iter()
                .any(|e| ops.iter().all(|o| scalar_op_matches(o, e))),
            _ => false,
        }),
    }
}

/// Evaluates an operator against a single element (no array expansion of the
/// element itself beyond what the operator does), used by `$elemMatch`.
fn scalar_op_matches(op: &Op, v: &Bson) -> bool {
    op_matches(op, &[v])
}

/// Compiles and evaluates a filter in one step (convenience for tests).
pub fn matches(filter: &Document, doc: &Document) -> CmdResult<bool> {
    Ok(Filter::parse(filter)?.matches(doc))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bson::doc;

    fn m(f: Document, d: Document) -> bool {
        matches(&f, &d).unwrap()
    }

    #[test]
    fn equality_and_arrays() {
        assert!(m(doc! {"a": 1}, doc! {"a": 1.0}));
        assert!(m(doc! {"a": 2}, doc! {"a": [1, 2, 3]}));
        assert!(m(doc! {"a": [1, 2]}, doc! {"a": [1, 2]}));
        assert!(!m(doc! {"a": [2, 1]}, doc! {"a": [1, 2]}));
        assert!(m(doc! {"a.b": 2}, doc! {"a": [{"b": 1}, {"b": 2}]}));
        assert!(m(doc! {"a": null}, doc! {"b": 1}));
        assert!(!m(doc! {"a": null}, doc! {"a": 0}));
    }

    #[test]
    fn comparisons_stay_in_type_bracket() {
        assert!(m(doc! {"a": {"$gt": 1}}, doc! {"a": 2i64}));
        assert!(!m(doc! {"a": {"$gt": 1}}, doc! {"a": "zzz"}));
        assert!(m(doc! {"a": {"$gt": 5, "$lt": 8}}, doc! {"a": [1, 10]}));
        assert!(m(doc! {"a": {"$lte": "b"}}, doc! {"a": "a"}));
        assert!(!m(doc! {"a": {"$lt": 3}}, doc! {"b": 1}));
    }

    #[test]
    fn logical_and_set_operators() {
        let d = doc! {"a": 1, "tags": ["x", "y"], "n": [{"k": 1, "v": 2}]};
        assert!(m(doc! {"$or": [{"a": 2}, {"tags": "y"}]}, d.clone()));
        assert!(m(doc! {"$nor": [{"a": 2}]}, d.clone()));
        assert!(m(doc! {"tags": {"$in": ["z", "x"]}}, d.clone()));
        assert!(m(doc! {"tags": {"$nin": ["z"]}}, d.clone()));
        assert!(m(doc! {"tags": {"$size": 2}}, d.clone()));
        assert!(m(doc! {"tags": {"$all": ["x", "y"]}}, d.clone()));
        assert!(m(
            doc! {"n": {"$elemMatch": {"k": 1, "v": {"$gt": 1}}}},
            d.clone()
        ));
        assert!(!m(
            doc! {"n": {"$elemMatch": {"k": 1, "v": {"$gt": 2}}}},
            d.clone()
        ));
        assert!(m(doc! {"a": {"$not": {"$gt": 5}}}, d.clone()));
        assert!(m(doc! {"z": {"$exists": false}}, d.clone()));
        assert!(m(
            doc! {"tags": {"$regex": "^X", "$options": "i"}},
            d.clone()
        ));
        assert!(m(doc! {"a": {"$ne": 2}}, d));
    }

    #[test]
    fn unknown_operators_are_errors() {
        let e = Filter::parse(&doc! {"a": {"$foo": 1}}).unwrap_err();
        assert_eq!(e.code, 2);
        assert_eq!(e.msg, "unknown operator: $foo");
        assert_eq!(Filter::parse(&doc! {"$bar": 1}).unwrap_err().code, 2);
    }
}
