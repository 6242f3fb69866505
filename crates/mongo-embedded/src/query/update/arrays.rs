//! Array update operators: `$push` (with modifiers) and the shared array lookup.

use super::paths::{get_mut, id_repr, set_path};
use super::type_name;
use crate::error::{CmdError, CmdResult};
use crate::sort::compare::{cmp_bson, to_f64};
use bson::{Bson, Document};

pub(super) fn array_at<'a>(
    doc: &'a mut Document,
    path: &str,
    op: &str,
) -> CmdResult<&'a mut Vec<Bson>> {
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

pub(super) fn push(doc: &mut Document, path: &str, arg: &Bson) -> CmdResult<()> {
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
