//! Applying one update operator to one path.

use super::arrays::{array_at, push};
use super::paths::{get_mut, id_repr, set_path, unset_path};
use super::{type_name, UpOp};
use crate::error::{CmdError, CmdResult};
use crate::query::matcher::{op_matches, Filter};
use crate::sort::compare::{bson_eq, cmp_bson, to_f64};
use bson::{Bson, DateTime, Document};
use std::cmp::Ordering;

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

pub(super) fn apply_op(
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
            let Some(v) = crate::path::get_path(doc, path).cloned() else {
                return Ok(());
            };
            unset_path(doc, path);
            set_path(doc, to, v)
        }
    }
}
