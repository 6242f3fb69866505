//! Collection and database catalog commands: create, drop, renameCollection,
//! listCollections, collStats, dbStats.

use super::read::reject_unsupported;
use super::{check_fields, coll_name, cursor, opt_bool, opt_doc, Outcome};
use crate::error::{CmdError, CmdResult};
use crate::query::matcher::Filter;
use crate::state::Shared;
use crate::storage::catalog::check_db_name;
use crate::storage::index::IndexSpec;
use bson::{doc, Document};

/// `create`.
pub fn create(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Outcome> {
    check_fields(
        cmd,
        "create",
        &[
            "capped",
            "size",
            "max",
            "validator",
            "validationLevel",
            "validationAction",
            "viewOn",
            "pipeline",
            "collation",
            "timeseries",
            "expireAfterSeconds",
            "clusteredIndex",
            "changeStreamPreAndPostImages",
            "storageEngine",
            "indexOptionDefaults",
            "encryptedFields",
            "idIndex",
        ],
    )?;
    // A mongod accepts all of these; none is implemented here, so any of
    // them would be silently dropped. `capped: false` asks for nothing.
    let capped = cmd
        .get("capped")
        .is_some_and(|v| v != &bson::Bson::Boolean(false));
    if capped {
        reject_unsupported(cmd, "create", &["capped"])?;
    }
    reject_unsupported(
        cmd,
        "create",
        &[
            "size",
            "max",
            "validator",
            "validationLevel",
            "validationAction",
            "viewOn",
            "pipeline",
            "collation",
            "timeseries",
            "expireAfterSeconds",
            "clusteredIndex",
            "changeStreamPreAndPostImages",
            "storageEngine",
            "indexOptionDefaults",
            "encryptedFields",
        ],
    )?;
    check_id_index(cmd)?;
    let coll = coll_name(cmd, "create")?;
    let (res, ticket) = shared
        .store
        .write(|cat, log| cat.create(db, &coll, Document::new(), log))
        .map_err(|e| CmdError::internal(e.to_string()))?;
    res?;
    Ok(Outcome {
        reply: doc! {"ok": 1.0},
        ticket,
    })
}

/// `idIndex` may only restate the default `_id_` index.
fn check_id_index(cmd: &Document) -> CmdResult<()> {
    let Some(v) = cmd.get("idIndex") else {
        return Ok(());
    };
    let default = match v {
        bson::Bson::Document(d) => {
            d.keys()
                .all(|k| matches!(k.as_str(), "key" | "name" | "v" | "ns"))
                && d.get_document("key").is_ok_and(|k| {
                    k.len() == 1
                        && k.get("_id").is_some_and(|o| {
                            o.as_f64() == Some(1.0)
                                || o.as_i32() == Some(1)
                                || o.as_i64() == Some(1)
                        })
                })
                && d.get("name").is_none_or(|n| n.as_str() == Some("_id_"))
        }
        _ => false,
    };
    if default {
        Ok(())
    } else {
        Err(CmdError::bad_value(
            "mongo-embedded does not support the 'idIndex' option of create other than the default {key: {_id: 1}, name: \"_id_\"}",
        ))
    }
}

fn split_ns(ns: &str) -> CmdResult<(&str, &str)> {
    ns.split_once('.')
        .filter(|(d, c)| !d.is_empty() && !c.is_empty())
        .ok_or_else(|| CmdError::invalid_namespace(format!("Invalid namespace specified '{ns}'")))
}

/// `renameCollection`.
pub fn rename_collection(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Outcome> {
    check_fields(cmd, "renameCollection", &["to", "dropTarget", "stayTemp"])?;
    if db != "admin" {
        return Err(CmdError::new(
            13,
            "Unauthorized",
            "renameCollection may only be run against the admin database.",
        ));
    }
    let from = cmd
        .get_str("renameCollection")
        .map_err(|_| CmdError::type_mismatch("'renameCollection' must be of type String"))?;
    let to = cmd
        .get_str("to")
        .map_err(|_| CmdError::type_mismatch("'to' must be of type String"))?;
    let (from, to) = (split_ns(from)?, split_ns(to)?);
    let drop_target = opt_bool(cmd, "dropTarget").unwrap_or(false);
    let (res, ticket) = shared
        .store
        .write(|cat, log| cat.rename(from, to, drop_target, log))
        .map_err(|e| CmdError::internal(e.to_string()))?;
    res?;
    let old_ns = format!("{}.{}", from.0, from.1);
    shared.cursors().retain(|_, c| c.ns != old_ns);
    Ok(Outcome {
        reply: doc! {"ok": 1.0},
        ticket,
    })
}

/// `drop`.
pub fn drop(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Outcome> {
    check_fields(cmd, "drop", &[])?;
    let coll = coll_name(cmd, "drop")?;
    let (res, ticket) = shared
        .store
        .write(|cat, log| {
            let n = cat.get(db, &coll).map(|c| c.indexes.len() + 1);
            cat.drop_collection(db, &coll, log);
            n
        })
        .map_err(|e| CmdError::internal(e.to_string()))?;
    let ns = format!("{db}.{coll}");
    shared.cursors().retain(|_, c| c.ns != ns);
    // Since MongoDB 7.0 dropping a missing collection succeeds.
    let reply = match res {
        Some(n) => doc! {"nIndexesWas": n as i32, "ns": ns, "ok": 1.0},
        None => doc! {"ok": 1.0},
    };
    Ok(Outcome { reply, ticket })
}

/// `collMod` (index TTL and hidden changes only).
pub fn coll_mod(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Outcome> {
    const OTHER: &[&str] = &[
        "validator",
        "validationLevel",
        "validationAction",
        "viewOn",
        "pipeline",
        "expireAfterSeconds",
        "changeStreamPreAndPostImages",
        "cappedSize",
        "cappedMax",
        "timeseries",
    ];
    let mut allowed = vec!["index"];
    allowed.extend_from_slice(OTHER);
    check_fields(cmd, "collMod", &allowed)?;
    reject_unsupported(cmd, "collMod", OTHER)?;
    let coll = coll_name(cmd, "collMod")?;
    let Some(spec) = opt_doc(cmd, "index", "collMod")? else {
        if shared.store.read().get(db, &coll).is_none() {
            return Err(CmdError::namespace_not_found(format!(
                "ns does not exist: {db}.{coll}"
            )));
        }
        return Ok(doc! {"ok": 1.0}.into());
    };
    if let Some(k) = spec.keys().find(|k| {
        !matches!(
            k.as_str(),
            "keyPattern" | "name" | "expireAfterSeconds" | "hidden"
        )
    }) {
        return Err(CmdError::unknown_field(format!(
            "BSON field 'collMod.index.{k}' is an unknown field."
        )));
    }
    let expire = match spec.get("expireAfterSeconds") {
        None => None,
        Some(v) => match crate::sort::compare::to_f64(v) {
            Some(f) if f >= 0.0 => Some(f as i64),
            _ => {
                return Err(CmdError::bad_value(
                    "expireAfterSeconds must be a non-negative number",
                ))
            }
        },
    };
    let hidden = opt_bool(spec, "hidden");
    if expire.is_none() && hidden.is_none() {
        return Err(CmdError::invalid_options(
            "no expireAfterSeconds or hidden field",
        ));
    }
    let (res, ticket) = shared
        .store
        .write(|cat, log| -> CmdResult<Document> {
            let c = cat.get(db, &coll).ok_or_else(|| {
                CmdError::namespace_not_found(format!("ns does not exist: {db}.{coll}"))
            })?;
            let name = match (spec.get_str("name"), spec.get_document("keyPattern")) {
                (Ok(n), _) => n.to_string(),
                (_, Ok(key)) => {
                    let probe = IndexSpec {
                        key: key.clone(),
                        ..IndexSpec::id_index()
                    };
                    c.indexes
                        .iter()
                        .find(|i| i.spec.same_key(&probe))
                        .map(|i| i.spec.name.clone())
                        .ok_or_else(|| {
                            CmdError::index_not_found(format!(
                                "cannot find index {key} for ns {db}.{coll}"
                            ))
                        })?
                }
                _ => {
                    return Err(CmdError::invalid_options(
                        "must specify either index name or key pattern",
                    ))
                }
            };
            let (before, after) = cat.modify_index(db, &coll, &name, expire, hidden, log)?;
            let mut reply = Document::new();
            if expire.is_some() {
                if let Some(old) = before.expire_after {
                    reply.insert("expireAfterSeconds_old", old);
                }
                reply.insert("expireAfterSeconds_new", after.expire_after.unwrap_or(0));
            }
            if hidden.is_some() {
                reply.insert("hidden_old", before.hidden);
                reply.insert("hidden_new", after.hidden);
            }
            reply.insert("ok", 1.0);
            Ok(reply)
        })
        .map_err(|e| CmdError::internal(e.to_string()))?;
    Ok(Outcome {
        reply: res?,
        ticket,
    })
}

/// `listCollections`.
pub fn list_collections(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Document> {
    check_fields(
        cmd,
        "listCollections",
        &[
            "filter",
            "nameOnly",
            "authorizedCollections",
            "cursor",
            "includePendingDrops",
        ],
    )?;
    let filter =
        Filter::parse(opt_doc(cmd, "filter", "listCollections")?.unwrap_or(&Document::new()))?;
    let name_only = opt_bool(cmd, "nameOnly").unwrap_or(false);
    let cat = shared.store.read();
    let mut out = Vec::new();
    if let Some(colls) = cat.dbs.get(db) {
        for (name, c) in colls {
            let full = doc! {
                "name": name,
                "type": "collection",
                "options": c.options.clone(),
                "info": {"readOnly": false},
                "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"},
            };
            if filter.matches(&full) {
                out.push(if name_only {
                    doc! {"name": name, "type": "collection"}
                } else {
                    full
                });
            }
        }
    }
    std::mem::drop(cat);
    let batch = cmd.get_document("cursor").ok().and_then(|c| {
        super::opt_i64(c, "batchSize", "listCollections.cursor")
            .ok()
            .flatten()
    });
    Ok(cursor::first_batch(
        shared,
        format!("{db}.$cmd.listCollections"),
        out,
        batch,
        false,
    ))
}

/// `collStats`.
pub fn coll_stats(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Document> {
    let coll = coll_name(cmd, "collStats")?;
    let cat = shared.store.read();
    let Some(c) = cat.get(db, &coll) else {
        // Since MongoDB 4.2 a missing namespace reports zeros with ok: 1.
        return Ok(doc! {
            "ns": format!("{db}.{coll}"), "size": 0, "count": 0, "storageSize": 0,
            "totalIndexSize": 0, "totalSize": 0, "indexSizes": {}, "nindexes": 0, "ok": 1.0,
        });
    };
    let size = c.data_size() as i64;
    let count = c.len() as i64;
    let mut index_sizes = Document::new();
    for s in c.index_specs() {
        index_sizes.insert(s.name, count * 32);
    }
    Ok(doc! {
        "ns": format!("{db}.{coll}"),
        "count": count,
        "size": size,
        "avgObjSize": if count > 0 { size / count } else { 0 },
        "storageSize": size,
        "nindexes": (c.indexes.len() + 1) as i32,
        "totalIndexSize": count * 32 * (c.indexes.len() as i64 + 1),
        "indexSizes": index_sizes,
        "capped": false,
        "ok": 1.0,
    })
}

/// `dbStats`.
pub fn db_stats(shared: &Shared, db: &str) -> CmdResult<Document> {
    check_db_name(db)?;
    let cat = shared.store.read();
    let (mut colls, mut objects, mut size, mut indexes) = (0i64, 0i64, 0i64, 0i64);
    if let Some(d) = cat.dbs.get(db) {
        for c in d.values() {
            colls += 1;
            objects += c.len() as i64;
            size += c.data_size() as i64;
            indexes += c.indexes.len() as i64 + 1;
        }
    }
    Ok(doc! {
        "db": db, "collections": colls, "views": 0, "objects": objects,
        "avgObjSize": if objects > 0 { size as f64 / objects as f64 } else { 0.0 },
        "dataSize": size, "storageSize": size, "indexes": indexes, "indexSize": objects * 32 * indexes.max(1),
        "totalSize": size, "scaleFactor": 1, "ok": 1.0,
    })
}
