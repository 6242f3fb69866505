//! `aggregate` with `$match $group $count $sort $skip $limit $project $unwind`.

use super::group::{eval, group, validate_expr};
use super::read::{check_hint, reject_unsupported, select};
use super::{check_fields, coll_name, cursor, opt_doc, opt_i64};
use crate::error::{CmdError, CmdResult};
use crate::query::matcher::Filter;
use crate::query::path::get_path;
use crate::query::projection::Projection;
use crate::sort::compare::{bson_eq, to_f64};
use crate::sort::spec::SortSpec;
use crate::state::Shared;
use bson::{doc, Bson, Document};

fn stage_int(v: &Bson, stage: &str) -> CmdResult<usize> {
    match to_f64(v) {
        Some(f) if f >= 0.0 && f.fract() == 0.0 => Ok(f as usize),
        _ => Err(CmdError::bad_value(format!(
            "invalid argument to {stage} stage: {v}"
        ))),
    }
}

fn unwind(docs: Vec<Document>, arg: &Bson) -> CmdResult<Vec<Document>> {
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
fn add_fields(docs: Vec<Document>, arg: &Bson, stage: &str) -> CmdResult<Vec<Document>> {
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
fn unset_fields(docs: Vec<Document>, arg: &Bson) -> CmdResult<Vec<Document>> {
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
fn replace_root(docs: Vec<Document>, arg: &Bson, stage: &str) -> CmdResult<Vec<Document>> {
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
    for v in crate::query::path::values_at(d, path) {
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
fn lookup(docs: Vec<Document>, arg: &Bson, foreign: Foreign) -> CmdResult<Vec<Document>> {
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

/// Runs pipeline stages over documents (no other collections visible).
pub fn run_pipeline(docs: Vec<Document>, stages: &[Document]) -> CmdResult<Vec<Document>> {
    run_pipeline_with(docs, stages, &|_| Vec::new())
}

/// Runs pipeline stages over documents; `foreign` resolves `$lookup` sources.
pub fn run_pipeline_with(
    mut docs: Vec<Document>,
    stages: &[Document],
    foreign: Foreign,
) -> CmdResult<Vec<Document>> {
    for st in stages {
        let (name, arg) = match st.iter().next() {
            Some(x) if st.len() == 1 => x,
            _ => {
                return Err(CmdError::new(
                    40323,
                    "Location40323",
                    "A pipeline stage specification object must contain exactly one field.",
                ))
            }
        };
        docs = match name.as_str() {
            "$match" => {
                let f = Filter::parse(arg.as_document().ok_or_else(|| {
                    CmdError::failed_to_parse("the match filter must be an expression in an object")
                })?)?;
                docs.into_iter().filter(|d| f.matches(d)).collect()
            }
            "$sort" => {
                let spec = SortSpec::parse(arg.as_document().ok_or_else(|| {
                    CmdError::new(
                        15973,
                        "Location15973",
                        "the $sort key specification must be an object",
                    )
                })?)?;
                spec.sort(&mut docs);
                docs
            }
            "$skip" => docs.into_iter().skip(stage_int(arg, "$skip")?).collect(),
            "$limit" => {
                let n = stage_int(arg, "$limit")?;
                if n == 0 {
                    return Err(CmdError::new(
                        15958,
                        "Location15958",
                        "the limit must be positive",
                    ));
                }
                docs.into_iter().take(n).collect()
            }
            "$count" => {
                let Bson::String(field) = arg else {
                    return Err(CmdError::new(
                        40156,
                        "Location40156",
                        "the count field must be a non-empty string",
                    ));
                };
                if docs.is_empty() {
                    Vec::new()
                } else {
                    vec![doc! {field.clone(): docs.len() as i32}]
                }
            }
            "$group" => group(
                docs,
                arg.as_document().ok_or_else(|| {
                    CmdError::new(
                        15947,
                        "Location15947",
                        "a group's fields must be specified in an object",
                    )
                })?,
            )?,
            "$project" => {
                let p = Projection::parse(arg.as_document().ok_or_else(|| {
                    CmdError::new(
                        15969,
                        "Location15969",
                        "$project specification must be an object",
                    )
                })?)?;
                docs.iter().map(|d| p.apply(d)).collect()
            }
            "$unwind" => unwind(docs, arg)?,
            "$addFields" | "$set" => add_fields(docs, arg, name)?,
            "$unset" => unset_fields(docs, arg)?,
            "$replaceRoot" | "$replaceWith" => replace_root(docs, arg, name)?,
            "$lookup" => lookup(docs, arg, foreign)?,
            "$facet" | "$bucket" | "$bucketAuto" | "$sortByCount" | "$sample" | "$out"
            | "$merge" | "$geoNear" | "$graphLookup" | "$unionWith" | "$densify" | "$fill"
            | "$redact" | "$setWindowFields" | "$collStats" | "$indexStats" | "$documents"
            | "$changeStream" | "$search" => {
                return Err(CmdError::bad_value(format!(
                    "mongo-embedded does not support the {name} aggregation stage"
                )))
            }
            other => {
                return Err(CmdError::new(
                    40324,
                    "Location40324",
                    format!("Unrecognized pipeline stage name: '{other}'"),
                ))
            }
        };
    }
    Ok(docs)
}

/// `aggregate` on a collection.
pub fn aggregate(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Document> {
    check_fields(
        cmd,
        "aggregate",
        &[
            "pipeline",
            "cursor",
            "explain",
            "allowDiskUse",
            "hint",
            "collation",
            "let",
        ],
    )?;
    reject_unsupported(cmd, "aggregate", &["explain", "collation", "let"])?;
    let coll = match cmd.get("aggregate") {
        Some(Bson::Int32(1)) => {
            return Err(CmdError::bad_value(
                "mongo-embedded does not support collection-less aggregate",
            ));
        }
        _ => coll_name(cmd, "aggregate")?,
    };
    let stages: Vec<Document> = cmd
        .get_array("pipeline")
        .map_err(|_| CmdError::failed_to_parse("'pipeline' option must be specified as an array"))?
        .iter()
        .map(|s| {
            s.as_document().cloned().ok_or_else(|| {
                CmdError::type_mismatch("Each element of the 'pipeline' array must be an object")
            })
        })
        .collect::<CmdResult<_>>()?;
    let cursor_opts = opt_doc(cmd, "cursor", "aggregate")?.ok_or_else(|| {
        CmdError::failed_to_parse(
            "The 'cursor' option is required, except for aggregate with the explain argument",
        )
    })?;
    let batch_size = opt_i64(cursor_opts, "batchSize", "aggregate.cursor")?;
    // Push a leading $match into the collection scan so it can use indexes.
    let (first_filter, rest) = match stages.first().and_then(|s| s.get_document("$match").ok()) {
        Some(f) if stages[0].len() == 1 => (Filter::parse(f)?, &stages[1..]),
        _ => (Filter::And(Vec::new()), &stages[..]),
    };
    let out = {
        let cat = shared.store.read();
        check_hint(&cat, db, &coll, cmd.get("hint"))?;
        let docs = select(&cat, db, &coll, &first_filter, &SortSpec::default(), 0, 0);
        let foreign = |name: &str| -> Vec<Document> {
            cat.get(db, name)
                .map(|c| c.records.values().cloned().collect())
                .unwrap_or_default()
        };
        run_pipeline_with(docs, rest, &foreign)?
    };
    Ok(cursor::first_batch(
        shared,
        format!("{db}.{coll}"),
        out,
        batch_size,
        false,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn reshaping_stages() {
        let docs = vec![doc! {"_id": 1, "a": {"b": 2}, "tags": ["x", "y"], "drop": true}];
        let out = run_pipeline(
            docs,
            &[
                doc! {"$unwind": "$tags"},
                doc! {"$addFields": {"copy": "$a.b", "lit": 5, "n.m": "$tags"}},
                doc! {"$unset": ["drop", "a"]},
            ],
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[1],
            doc! {"_id": 1, "tags": "y", "copy": 2, "lit": 5, "n": {"m": "y"}}
        );
        let roots = run_pipeline(out, &[doc! {"$replaceRoot": {"newRoot": "$n"}}]).unwrap();
        assert_eq!(roots, vec![doc! {"m": "x"}, doc! {"m": "y"}]);
        let e = run_pipeline(Vec::new(), &[doc! {"$facet": {}}]).unwrap_err();
        assert_eq!(e.code, 2);
        let e = run_pipeline(
            Vec::new(),
            &[doc! {"$group": {"_id": null, "x": {"$sum": {"$cond": [true, 1, 0]}}}}],
        )
        .unwrap_err();
        assert!(e.msg.contains("expression operator $cond"));
        let grouped = run_pipeline(
            vec![doc! {"k": 1, "v": 2}, doc! {"k": 1, "v": 3}],
            &[doc! {"$group": {"_id": "$k", "all": {"$push": "$$ROOT"}, "pairs": {"$push": ["$v", 0]}}}],
        )
        .unwrap();
        assert_eq!(grouped[0].get_array("all").unwrap().len(), 2);
        assert_eq!(
            grouped[0].get_array("pairs").unwrap()[1],
            Bson::Array(vec![Bson::Int32(3), Bson::Int32(0)])
        );
        let e = run_pipeline(Vec::new(), &[doc! {"$nope": {}}]).unwrap_err();
        assert_eq!(e.code, 40324);
    }
}
