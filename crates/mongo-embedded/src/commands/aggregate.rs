//! `aggregate`: pipeline execution over a collection.

use super::group::group;
use super::read::{check_hint, reject_unsupported, select};
pub use super::stages::Foreign;
use super::stages::{add_fields, lookup, replace_root, stage_int, unset_fields, unwind};
use super::{check_fields, coll_name, cursor, opt_doc, opt_i64};
use crate::error::{CmdError, CmdResult};
use crate::query::matcher::Filter;
use crate::query::projection::Projection;
use crate::sort::spec::SortSpec;
use crate::state::Shared;
use bson::{doc, Bson, Document};

#[cfg(test)]
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
