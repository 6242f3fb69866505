//! Parsing of field-level query operators (`{$gt: 1}`, `$regex`, `$type`, ...).

use super::matcher::{CmpKind, Filter, Op};
use crate::error::{CmdError, CmdResult};
use bson::{Bson, Document};

pub(crate) fn is_operator_doc(v: &Bson) -> Option<&Document> {
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

pub(crate) fn compile_regex(pattern: &str, options: &str) -> CmdResult<regex::Regex> {
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

pub(crate) fn parse_ops(v: &Bson) -> CmdResult<Vec<Op>> {
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
                "$geoWithin" | "$geoIntersects" | "$near" | "$nearSphere" | "$bitsAllSet"
                | "$bitsAnySet" | "$bitsAllClear" | "$bitsAnyClear" | "$jsonSchema" => {
                    return Err(CmdError::bad_value(format!(
                        "mongo-embedded does not support the {k} query operator"
                    )))
                }
                _ => return Err(CmdError::bad_value(format!("unknown operator: {k}"))),
            };
        ops.push(op);
    }
    Ok(ops)
}
