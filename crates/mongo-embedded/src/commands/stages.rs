//! Reshaping and joining aggregation stages: `$unwind`, `$addFields`/`$set`,
//! `$unset`, `$replaceRoot`/`$replaceWith`, `$lookup`.

use super::group::{eval, validate_expr};
use crate::error::{CmdError, CmdResult};
use crate::path::get_path;
use crate::query::projection::Projection;
use crate::sort::compare::{bson_eq, to_f64};
use bson::{Bson, Document};

pub(super) fn stage_int(v: &Bson, stage: &str) -> CmdResult<usize> {
    match to_f64(v) {
        Some(f) if f >= 0.0 && f.fract() == 0.0 => Ok(f as usize),
        _ => Err(CmdError::bad_value(format!(
            "invalid argument to {stage} stage: {v}"
        ))),
    }
}

pub(super) fn unwind(docs: Vec<Document>, arg: &Bson) -> CmdResult<Vec<Document>> {
    let (path, keep) = match arg {
        Bson::String(s) => (s.clone(), false),
        Bson::Document(d) => (
            d.get_str("path").unwrap_or("").to_string(),
            d.get_bool("preserveNullAndEmptyArrays").unwrap_or(false),
        ),
        _ => {
            return Err(CmdError::new(
                15981,
                "Location15981",
                "expected either a string or an object as specification for $unwind stage",
            ))
        }
    };
    let Some(field) = path.strip_prefix('$') else {
        return Err(CmdError::new(
            28818,
            "Location28818",
            "path option to $unwind stage should be prefixed with a '$'",
        ));
    };
    let mut out = Vec::new();
    for d in docs {
        match get_path(&d, field).cloned() {
            Some(Bson::Array(a)) if !a.is_empty() => {
                for e in a {
                    let mut nd = d.clone();
                    crate::query::update::set_path(&mut nd, field, e)?;
                    out.push(nd);
                }
            }
            Some(Bson::Array(_)) | None | Some(Bson::Null) => {
                if keep {
                    out.push(d);
                }
            }
            Some(_) => out.push(d),
        }
    }
    Ok(out)
}

/// `$addFields` / `$set`: field paths, literals and documents of those.
pub(super) fn add_fields(docs: Vec<Document>, arg: &Bson, stage: &str) -> CmdResult<Vec<Document>> {
    let Bson::Document(spec) = arg else {
        return Err(CmdError::new(
            40272,
            "Location40272",
            format!("{stage} specification stage must be an object"),
        ));
    };
    spec.values().try_for_each(validate_expr)?;
    let mut out = Vec::with_capacity(docs.len());
    for mut d in docs {
        let values: Vec<(String, Bson)> =
            spec.iter().map(|(k, e)| (k.clone(), eval(e, &d))).collect();
        for (k, v) in values {
            crate::query::update::set_path(&mut d, &k, v)?;
        }
        out.push(d);
    }
    Ok(out)
}

/// `$unset`: a field name or a list of them.
pub(super) fn unset_fields(docs: Vec<Document>, arg: &Bson) -> CmdResult<Vec<Document>> {
    let fields: Vec<String> = match arg {
        Bson::String(s) => vec![s.clone()],
        Bson::Array(a) if a.iter().all(|v| matches!(v, Bson::String(_))) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => {
            return Err(CmdError::new(
                31002,
                "Location31002",
                "$unset specification must be a string or an array",
            ))
        }
    };
    let spec: Document = fields.into_iter().map(|f| (f, Bson::Int32(0))).collect();
    let p = Projection::parse(&spec)?;
    Ok(docs.iter().map(|d| p.apply(d)).collect())
}

/// `$replaceRoot: {newRoot: expr}` / `$replaceWith: expr`.
pub(super) fn replace_root(
    docs: Vec<Document>,
    arg: &Bson,
    stage: &str,
) -> CmdResult<Vec<Document>> {
    let expr = if stage == "$replaceRoot" {
        match arg {
            Bson::Document(d) => d.get("newRoot").cloned().ok_or_else(|| {
                CmdError::new(
                    40231,
                    "Location40231",
                    "no newRoot specified for the $replaceRoot stage",
                )
            })?,
            _ => {
                return Err(CmdError::new(
                    40229,
                    "Location40229",
                    "expected an object as specification for $replaceRoot stage",
                ))
            }
        }
    } else {
        arg.clone()
    };
    validate_expr(&expr)?;
    docs.iter()
        .map(|d| match eval(&expr, d) {
            Bson::Document(nd) => Ok(nd),
            other => Err(CmdError::new(
                40228,
                "Location40228",
                format!("'newRoot' expression must evaluate to an object, but resulting value was: {other}"),
            )),
        })
        .collect()
}

/// Source of the documents of another collection of the same database (for `$lookup`).
pub type Foreign<'a> = &'a dyn Fn(&str) -> Vec<Document>;

/// Flattened values at `path` (arrays contribute their elements; missing is null).
fn lookup_keys(d: &Document, path: &str) -> Vec<Bson> {
    let mut out = Vec::new();
    for v in crate::path::values_at(d, path) {
        match v {
            Bson::Array(a) => out.extend(a.iter().cloned()),
            other => out.push(other.clone()),
        }
    }
    if out.is_empty() {
        out.push(Bson::Null);
    }
    out
}

/// `$lookup` in its equality form `{from, localField, foreignField, as}`.
pub(super) fn lookup(
    docs: Vec<Document>,
    arg: &Bson,
    foreign: Foreign,
) -> CmdResult<Vec<Document>> {
    let Bson::Document(spec) = arg else {
        return Err(CmdError::failed_to_parse(
            "the $lookup specification must be an Object",
        ));
    };
    if spec.contains_key("pipeline") || spec.contains_key("let") {
        return Err(CmdError::bad_value(
            "mongo-embedded supports only the localField/foreignField form of $lookup",
        ));
    }
    let field = |k: &str| {
        spec.get_str(k).map(str::to_string).map_err(|_| {
            CmdError::failed_to_parse(format!("$lookup argument '{k}' must be a string"))
        })
    };
    let (from, local, foreign_field, as_field) = (
        field("from")?,
        field("localField")?,
        field("foreignField")?,
        field("as")?,
    );
    if let Some(k) = spec
        .keys()
        .find(|k| !matches!(k.as_str(), "from" | "localField" | "foreignField" | "as"))
    {
        return Err(CmdError::failed_to_parse(format!(
            "unknown argument to $lookup: {k}"
        )));
    }
    let others: Vec<(Vec<Bson>, Document)> = foreign(&from)
        .into_iter()
        .map(|f| (lookup_keys(&f, &foreign_field), f))
        .collect();
    let mut out = Vec::with_capacity(docs.len());
    for mut d in docs {
        let keys = lookup_keys(&d, &local);
        let joined: Vec<Bson> = others
            .iter()
            .filter(|(fk, _)| fk.iter().any(|a| keys.iter().any(|b| bson_eq(a, b))))
            .map(|(_, f)| Bson::Document(f.clone()))
            .collect();
        crate::query::update::set_path(&mut d, &as_field, Bson::Array(joined))?;
        out.push(d);
    }
    Ok(out)
}
