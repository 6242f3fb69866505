//! `createIndexes`, `listIndexes`, `dropIndexes`.

use super::{check_fields, coll_name, cursor, Outcome};
use crate::error::{CmdError, CmdResult};
use crate::state::Shared;
use crate::storage::catalog::check_coll_name;
use crate::storage::index::IndexSpec;
use bson::{doc, Bson, Document};

fn show(d: &Document) -> String {
    d.to_string()
}

/// Decides whether `new` is a no-op, a conflict, or a new index.
fn conflict(existing: &[IndexSpec], new: &IndexSpec) -> CmdResult<bool> {
    for e in existing {
        let same_name = e.name == new.name;
        let same_key = e.same_key(new);
        if same_name && same_key {
            if e.same_options(new) {
                return Ok(false);
            }
            return Err(CmdError::index_options_conflict(format!(
                "An equivalent index already exists with the same name but different options. Requested index: {}, existing index: {}",
                show(&new.to_doc()),
                show(&e.to_doc())
            )));
        }
        if same_name {
            return Err(CmdError::index_key_specs_conflict(format!(
                "An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: {}, existing index: {}",
                show(&new.to_doc()),
                show(&e.to_doc())
            )));
        }
        if same_key && e.same_options(new) {
            return Err(CmdError::index_options_conflict(format!(
                "Index already exists with a different name: {}",
                e.name
            )));
        }
        if same_key && e.partial == new.partial {
            return Err(CmdError::index_options_conflict(format!(
                "An equivalent index already exists with a different name and options. Requested index: {}, existing index: {}",
                show(&new.to_doc()),
                show(&e.to_doc())
            )));
        }
    }
    Ok(true)
}

/// `createIndexes`.
pub fn create_indexes(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Outcome> {
    check_fields(cmd, "createIndexes", &["indexes", "commitQuorum"])?;
    let coll = coll_name(cmd, "createIndexes")?;
    check_coll_name(db, &coll)?;
    let raw = cmd.get_array("indexes").map_err(|_| {
        CmdError::failed_to_parse(
            "BSON field 'createIndexes.indexes' is missing but a required field",
        )
    })?;
    if raw.is_empty() {
        return Err(CmdError::bad_value(
            "Must specify at least one index to create",
        ));
    }
    let mut specs = Vec::new();
    for r in raw {
        let d = r
            .as_document()
            .ok_or_else(|| CmdError::type_mismatch("The elements of 'indexes' must be objects"))?;
        specs.push(IndexSpec::parse(d)?);
    }
    let (res, ticket) = shared
        .store
        .write(|cat, log| -> CmdResult<Document> {
            let existed = cat.get(db, &coll).is_some();
            let before = cat.get(db, &coll).map(|c| c.indexes.len() + 1).unwrap_or(1);
            let (c, _) = cat.get_or_create(db, &coll, log)?;
            let mut existing = c.index_specs();
            let mut to_add = Vec::new();
            for s in specs {
                if s.is_id() && s.name == "_id_" {
                    continue;
                }
                if conflict(&existing, &s)? {
                    existing.push(s.clone());
                    to_add.push(s);
                }
            }
            let added = to_add.len();
            for s in to_add {
                cat.add_index(db, &coll, s, log)?;
            }
            let mut reply = doc! {"numIndexesBefore": before as i32, "numIndexesAfter": (before + added) as i32, "createdCollectionAutomatically": !existed};
            if added == 0 {
                reply.insert("note", "all indexes already exist");
            }
            Ok(reply)
        })
        .map_err(|e| CmdError::internal(e.to_string()))?;
    Ok(Outcome {
        reply: res?,
        ticket,
    })
}

/// `listIndexes`.
pub fn list_indexes(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Document> {
    check_fields(
        cmd,
        "listIndexes",
        &["cursor", "includeBuildUUIDs", "includeIndexBuildInfo"],
    )?;
    let coll = coll_name(cmd, "listIndexes")?;
    let specs = {
        let cat = shared.store.read();
        let c = cat.get(db, &coll).ok_or_else(|| {
            CmdError::namespace_not_found(format!("ns does not exist: {db}.{coll}"))
        })?;
        c.index_specs()
    };
    let docs = specs.iter().map(IndexSpec::to_doc).collect();
    let batch = cmd.get_document("cursor").ok().and_then(|c| {
        super::opt_i64(c, "batchSize", "listIndexes.cursor")
            .ok()
            .flatten()
    });
    Ok(cursor::first_batch(
        shared,
        format!("{db}.{coll}"),
        docs,
        batch,
        false,
    ))
}

/// `dropIndexes` (by name, by key pattern, a list of names, or `"*"`).
pub fn drop_indexes(shared: &Shared, db: &str, cmd: &Document, name: &str) -> CmdResult<Outcome> {
    check_fields(cmd, name, &["index"])?;
    let coll = coll_name(cmd, name)?;
    let target = cmd.get("index").cloned().ok_or_else(|| {
        CmdError::failed_to_parse("BSON field 'dropIndexes.index' is missing but a required field")
    })?;
    let (res, ticket) = shared
        .store
        .write(|cat, log| -> CmdResult<Document> {
            let ns = format!("{db}.{coll}");
            let c = cat
                .get(db, &coll)
                .ok_or_else(|| CmdError::namespace_not_found(format!("ns not found {ns}")))?;
            let was = (c.indexes.len() + 1) as i32;
            let names: Vec<String> =
                match &target {
                    Bson::String(s) if s == "*" => {
                        c.indexes.iter().map(|i| i.spec.name.clone()).collect()
                    }
                    Bson::String(s) => vec![s.clone()],
                    Bson::Array(a) => a
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                    Bson::Document(key) => {
                        let probe = IndexSpec {
                            key: key.clone(),
                            ..IndexSpec::id_index()
                        };
                        if probe.is_id() {
                            return Err(CmdError::invalid_options("cannot drop _id index"));
                        }
                        match c.indexes.iter().find(|i| i.spec.same_key(&probe)) {
                            Some(i) => vec![i.spec.name.clone()],
                            None => {
                                return Err(CmdError::index_not_found(format!(
                                    "can't find index with key: {key}"
                                )))
                            }
                        }
                    }
                    _ => return Err(CmdError::type_mismatch(
                        "dropIndexes 'index' must be a string, an array of strings or an object",
                    )),
                };
            for n in &names {
                if n == "_id_" {
                    return Err(CmdError::invalid_options("cannot drop _id index"));
                }
                if !c.indexes.iter().any(|i| &i.spec.name == n) {
                    return Err(CmdError::index_not_found(format!(
                        "index not found with name [{n}]"
                    )));
                }
            }
            for n in &names {
                cat.drop_index(db, &coll, n, log);
            }
            Ok(doc! {"nIndexesWas": was})
        })
        .map_err(|e| CmdError::internal(e.to_string()))?;
    Ok(Outcome {
        reply: res?,
        ticket,
    })
}
