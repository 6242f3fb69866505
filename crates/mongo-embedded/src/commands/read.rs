//! Read commands: `find`, `count`, `distinct`.

use super::{check_fields, coll_name, cursor, opt_bool, opt_doc, opt_i64};
use crate::error::{CmdError, CmdResult};
use crate::path::values_at;
use crate::query::matcher::Filter;
use crate::query::projection::Projection;
use crate::sort::compare::bson_eq;
use crate::sort::spec::SortSpec;
use crate::state::Shared;
use crate::storage::catalog::{check_coll_name, Catalog};
use crate::storage::index::IndexSpec;
use bson::{doc, Bson, Document};

/// Rejects options that would change results in ways this server cannot honour.
pub fn reject_unsupported(cmd: &Document, name: &str, fields: &[&str]) -> CmdResult<()> {
    for f in fields {
        if cmd.contains_key(*f) {
            return Err(CmdError::bad_value(format!(
                "mongo-embedded does not support the '{f}' option of {name}"
            )));
        }
    }
    Ok(())
}

/// Validates a `hint` against the collection's indexes. The hint never
/// changes results here, but MongoDB rejects one naming no existing index.
pub fn check_hint(cat: &Catalog, db: &str, coll: &str, hint: Option<&Bson>) -> CmdResult<()> {
    let Some(h) = hint else { return Ok(()) };
    let Some(c) = cat.get(db, coll) else {
        return Ok(());
    };
    let specs = c.index_specs();
    let found = match h {
        Bson::String(name) => specs.iter().any(|s| &s.name == name),
        Bson::Document(key) if key.is_empty() => true,
        Bson::Document(key) => {
            let probe = IndexSpec {
                key: key.clone(),
                ..IndexSpec::id_index()
            };
            // `{$natural: 1}` asks for a collection scan, which always exists.
            key.contains_key("$natural") || specs.iter().any(|s| s.same_key(&probe))
        }
        _ => {
            return Err(CmdError::failed_to_parse(
                "hint must be a string or an object",
            ))
        }
    };
    if found {
        Ok(())
    } else {
        Err(CmdError::bad_value(
            "error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index",
        ))
    }
}

/// Matching documents, sorted, then skip/limit applied (limit 0 = none).
pub fn select(
    cat: &Catalog,
    db: &str,
    coll: &str,
    filter: &Filter,
    sort: &SortSpec,
    skip: usize,
    limit: usize,
) -> Vec<Document> {
    let Some(c) = cat.get(db, coll) else {
        return Vec::new();
    };
    let rids = c.matching(filter, &cat.scan_stats);
    let take = if limit == 0 { usize::MAX } else { limit };
    if sort.is_empty() {
        return rids
            .into_iter()
            .skip(skip)
            .take(take)
            .filter_map(|r| c.records.get(&r).cloned())
            .collect();
    }
    let mut docs: Vec<Document> = rids
        .into_iter()
        .filter_map(|r| c.records.get(&r).cloned())
        .collect();
    sort.sort(&mut docs);
    docs.into_iter().skip(skip).take(take).collect()
}

fn non_negative(v: Option<i64>, what: &str) -> CmdResult<usize> {
    match v {
        None => Ok(0),
        Some(n) if n >= 0 => Ok(n as usize),
        Some(n) => Err(CmdError::bad_value(format!(
            "{what} value must be non-negative, but received: {n}"
        ))),
    }
}

/// `find`.
pub fn find(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Document> {
    check_fields(
        cmd,
        "find",
        &[
            "filter",
            "sort",
            "projection",
            "skip",
            "limit",
            "batchSize",
            "singleBatch",
            "hint",
            "noCursorTimeout",
            "allowPartialResults",
            "allowDiskUse",
            "collation",
            "let",
            "returnKey",
            "showRecordId",
            "min",
            "max",
            "tailable",
            "awaitData",
            "oplogReplay",
            "readOnce",
            "ntoreturn",
        ],
    )?;
    reject_unsupported(
        cmd,
        "find",
        &["collation", "let", "min", "max", "tailable", "awaitData"],
    )?;
    if opt_bool(cmd, "returnKey") == Some(true) || opt_bool(cmd, "showRecordId") == Some(true) {
        return Err(CmdError::bad_value(
            "mongo-embedded does not support returnKey/showRecordId",
        ));
    }
    let coll = coll_name(cmd, "find")?;
    check_coll_name(db, &coll)?;
    let filter = Filter::parse(opt_doc(cmd, "filter", "find")?.unwrap_or(&Document::new()))?;
    let sort = SortSpec::parse(opt_doc(cmd, "sort", "find")?.unwrap_or(&Document::new()))?;
    let projection =
        Projection::parse(opt_doc(cmd, "projection", "find")?.unwrap_or(&Document::new()))?;
    let skip = non_negative(opt_i64(cmd, "skip", "find")?, "skip")?;
    let limit_raw = opt_i64(cmd, "limit", "find")?.unwrap_or(0);
    // A negative limit (legacy) means "one batch of at most |limit|".
    let single = opt_bool(cmd, "singleBatch").unwrap_or(false) || limit_raw < 0;
    let limit = limit_raw.unsigned_abs() as usize;
    let batch_size = opt_i64(cmd, "batchSize", "find")?;
    if batch_size.is_some_and(|b| b < 0) {
        return Err(CmdError::bad_value("BatchSize value must be non-negative"));
    }
    let docs = {
        let cat = shared.store.read();
        check_hint(&cat, db, &coll, cmd.get("hint"))?;
        select(&cat, db, &coll, &filter, &sort, skip, limit)
    };
    let docs = docs.iter().map(|d| projection.apply(d)).collect();
    Ok(cursor::first_batch(
        shared,
        format!("{db}.{coll}"),
        docs,
        batch_size,
        single,
    ))
}

/// `count`.
pub fn count(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Document> {
    check_fields(
        cmd,
        "count",
        &["query", "limit", "skip", "hint", "collation", "fields"],
    )?;
    reject_unsupported(cmd, "count", &["collation"])?;
    let coll = coll_name(cmd, "count")?;
    let filter = Filter::parse(opt_doc(cmd, "query", "count")?.unwrap_or(&Document::new()))?;
    let skip = non_negative(opt_i64(cmd, "skip", "count")?, "skip")?;
    let limit = opt_i64(cmd, "limit", "count")?.unwrap_or(0).unsigned_abs() as usize;
    let cat = shared.store.read();
    check_hint(&cat, db, &coll, cmd.get("hint"))?;
    let n = match cat.get(db, &coll) {
        None => 0,
        Some(c) => {
            let m = c
                .matching(&filter, &cat.scan_stats)
                .len()
                .saturating_sub(skip);
            if limit > 0 {
                m.min(limit)
            } else {
                m
            }
        }
    };
    Ok(doc! {"n": n as i64, "ok": 1.0})
}

/// `distinct`.
pub fn distinct(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Document> {
    check_fields(cmd, "distinct", &["key", "query", "collation", "hint"])?;
    reject_unsupported(cmd, "distinct", &["collation"])?;
    let coll = coll_name(cmd, "distinct")?;
    let key = cmd.get_str("key").map_err(|_| {
        CmdError::failed_to_parse("BSON field 'distinct.key' is missing but a required field")
    })?;
    let filter = Filter::parse(opt_doc(cmd, "query", "distinct")?.unwrap_or(&Document::new()))?;
    let docs = select(
        &shared.store.read(),
        db,
        &coll,
        &filter,
        &SortSpec::default(),
        0,
        0,
    );
    let mut values: Vec<Bson> = Vec::new();
    let mut push = |v: &Bson| {
        if !values.iter().any(|x| bson_eq(x, v)) {
            values.push(v.clone());
        }
    };
    for d in &docs {
        for v in values_at(d, key) {
            match v {
                Bson::Array(a) => a.iter().for_each(&mut push),
                other => push(other),
            }
        }
    }
    values.sort_by(crate::sort::compare::cmp_bson);
    Ok(doc! {"values": values, "ok": 1.0})
}
