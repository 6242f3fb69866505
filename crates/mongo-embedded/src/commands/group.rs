//! The `$group` stage: group keys and accumulators.

use crate::error::{CmdError, CmdResult};
use crate::path::get_path;
use crate::sort::compare::{bson_eq, cmp_bson, to_f64};
use bson::{doc, Bson, Document};
use std::cmp::Ordering;

/// Checks an expression of the small language this server evaluates:
/// `"$path"`, `"$$ROOT"`/`"$$CURRENT"` (optionally with a path), literals,
/// and documents/arrays of those. Operators such as `$cond` are rejected up
/// front, like MongoDB rejects an invalid pipeline before running it.
pub(super) fn validate_expr(expr: &Bson) -> CmdResult<()> {
    match expr {
        Bson::String(s) if s.starts_with("$$") => {
            let var = s[2..].split('.').next().unwrap_or("");
            if var == "ROOT" || var == "CURRENT" {
                Ok(())
            } else {
                Err(CmdError::bad_value(format!(
                    "mongo-embedded does not support the variable $${var}"
                )))
            }
        }
        Bson::Document(m) => {
            if let Some(k) = m.keys().find(|k| k.starts_with('$')) {
                return Err(CmdError::bad_value(format!(
                    "mongo-embedded does not support the expression operator {k}"
                )));
            }
            m.values().try_for_each(validate_expr)
        }
        Bson::Array(a) => a.iter().try_for_each(validate_expr),
        _ => Ok(()),
    }
}

/// Evaluates an expression accepted by [`validate_expr`] against a document.
pub(super) fn eval(expr: &Bson, d: &Document) -> Bson {
    match expr {
        Bson::String(s) if s.starts_with("$$") => match s[2..].split_once('.') {
            Some((_, path)) => get_path(d, path).cloned().unwrap_or(Bson::Null),
            None => Bson::Document(d.clone()),
        },
        Bson::String(s) if s.starts_with('$') => {
            get_path(d, &s[1..]).cloned().unwrap_or(Bson::Null)
        }
        Bson::Document(m) => {
            let mut out = Document::new();
            for (k, v) in m {
                out.insert(k.clone(), eval(v, d));
            }
            Bson::Document(out)
        }
        Bson::Array(a) => Bson::Array(a.iter().map(|e| eval(e, d)).collect()),
        other => other.clone(),
    }
}

fn add(a: &Bson, b: &Bson) -> Bson {
    match (a, b) {
        (Bson::Int32(x), Bson::Int32(y)) => x
            .checked_add(*y)
            .map(Bson::Int32)
            .unwrap_or(Bson::Int64(i64::from(*x) + i64::from(*y))),
        (Bson::Int32(_) | Bson::Int64(_), Bson::Int32(_) | Bson::Int64(_)) => {
            let x = to_f64(a).unwrap_or(0.0) as i64;
            let y = to_f64(b).unwrap_or(0.0) as i64;
            Bson::Int64(x.saturating_add(y))
        }
        _ => Bson::Double(to_f64(a).unwrap_or(0.0) + to_f64(b).unwrap_or(0.0)),
    }
}

struct Acc {
    out: String,
    op: String,
    expr: Bson,
}

pub(super) fn group(docs: Vec<Document>, spec: &Document) -> CmdResult<Vec<Document>> {
    let id_expr = spec.get("_id").ok_or_else(|| {
        CmdError::new(
            15955,
            "Location15955",
            "a group specification must include an _id",
        )
    })?;
    validate_expr(id_expr)?;
    let mut accs = Vec::new();
    for (k, v) in spec {
        if k == "_id" {
            continue;
        }
        let Bson::Document(a) = v else {
            return Err(CmdError::new(
                40234,
                "Location40234",
                format!("The field '{k}' must be an accumulator object"),
            ));
        };
        let Some((op, expr)) = a.iter().next() else {
            return Err(CmdError::new(
                40234,
                "Location40234",
                format!("The field '{k}' must be an accumulator object"),
            ));
        };
        if !matches!(
            op.as_str(),
            "$sum"
                | "$count"
                | "$min"
                | "$max"
                | "$avg"
                | "$first"
                | "$last"
                | "$push"
                | "$addToSet"
        ) {
            return Err(CmdError::new(
                15952,
                "Location15952",
                format!("unknown group operator '{op}'"),
            ));
        }
        if op != "$count" {
            validate_expr(expr)?;
        }
        accs.push(Acc {
            out: k.clone(),
            op: op.clone(),
            expr: expr.clone(),
        });
    }
    // Groups in first-seen order; each holds the key and per-accumulator state.
    let mut groups: Vec<(Bson, Vec<Bson>, Vec<i64>)> = Vec::new();
    for d in &docs {
        let key = eval(id_expr, d);
        let gi = match groups.iter().position(|(k, _, _)| bson_eq(k, &key)) {
            Some(i) => i,
            None => {
                let init = accs
                    .iter()
                    .map(|a| match a.op.as_str() {
                        "$sum" | "$count" | "$avg" => Bson::Int32(0),
                        "$push" | "$addToSet" => Bson::Array(Vec::new()),
                        _ => Bson::Undefined,
                    })
                    .collect();
                groups.push((key, init, vec![0; accs.len()]));
                groups.len() - 1
            }
        };
        let (_, state, counts) = &mut groups[gi];
        for (i, a) in accs.iter().enumerate() {
            let v = if a.op == "$count" {
                Bson::Int32(1)
            } else {
                eval(&a.expr, d)
            };
            let st = &mut state[i];
            match a.op.as_str() {
                "$sum" | "$count" | "$avg" => {
                    if to_f64(&v).is_some() {
                        *st = add(st, &v);
                        counts[i] += 1;
                    }
                }
                "$min" | "$max" => {
                    if !matches!(v, Bson::Null | Bson::Undefined) {
                        let better = matches!(st, Bson::Undefined)
                            || (a.op == "$min" && cmp_bson(&v, st) == Ordering::Less)
                            || (a.op == "$max" && cmp_bson(&v, st) == Ordering::Greater);
                        if better {
                            *st = v;
                        }
                    }
                }
                "$first" => {
                    if counts[i] == 0 {
                        *st = v;
                        counts[i] = 1;
                    }
                }
                "$last" => *st = v,
                "$push" => {
                    if let Bson::Array(arr) = st {
                        arr.push(v);
                    }
                }
                _ => {
                    if let Bson::Array(arr) = st {
                        if !arr.iter().any(|x| bson_eq(x, &v)) {
                            arr.push(v);
                        }
                    }
                }
            }
        }
    }
    Ok(groups
        .into_iter()
        .map(|(key, state, counts)| {
            let mut out = doc! {"_id": key};
            for ((a, v), c) in accs.iter().zip(state).zip(counts) {
                let v = match a.op.as_str() {
                    "$avg" if c == 0 => Bson::Null,
                    "$avg" => Bson::Double(to_f64(&v).unwrap_or(0.0) / c as f64),
                    _ if matches!(v, Bson::Undefined) => Bson::Null,
                    _ => v,
                };
                out.insert(a.out.clone(), v);
            }
            out
        })
        .collect())
}
