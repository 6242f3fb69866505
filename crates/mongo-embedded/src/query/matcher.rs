//! Query filter compilation and matching (`$eq`, `$gt`, `$in`, `$elemMatch`, ...).
//!
//! Filters are compiled once (so unknown operators fail even on an empty
//! collection, as in MongoDB) and then evaluated against each document.

use super::eval::op_matches as eval_op;
use super::operators::parse_ops;
use crate::error::{CmdError, CmdResult};
use crate::path::values_at;
use bson::{Bson, Document};

pub use super::eval::op_matches;

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
                "$expr" | "$where" | "$text" | "$jsonSchema" | "$sampleRate" => {
                    return Err(CmdError::bad_value(format!(
                        "mongo-embedded does not support the {k} query operator"
                    )))
                }
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
                ops.iter().all(|op| eval_op(op, &vals))
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

#[cfg(test)]
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
