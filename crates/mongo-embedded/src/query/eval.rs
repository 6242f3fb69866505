//! Evaluation of compiled operators against the values found at a path.

use super::matcher::{CmpKind, Op};
use super::operators::compile_regex;
use crate::sort::compare::{bson_eq, cmp_bson, type_bracket};
use bson::Bson;
use std::cmp::Ordering;

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
