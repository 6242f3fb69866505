//! Write commands: `insert`, `update`, `delete`, `findAndModify`.

use super::read::{reject_unsupported, select};
use super::{check_fields, coll_name, opt_bool, opt_doc, opt_i64, require, Outcome};
use crate::error::{CmdError, CmdResult};
use crate::query::matcher::{Filter, Op};
use crate::query::projection::Projection;
use crate::query::update::{set_path, Update};
use crate::sort::spec::SortSpec;
use crate::state::Shared;
use crate::storage::catalog::{check_coll_name, Catalog, OpLog};
use crate::wire::MAX_WRITE_BATCH_SIZE;
use bson::{doc, oid::ObjectId, Bson, DateTime, Document};

fn batch<'a>(cmd: &'a Document, field: &str, name: &str) -> CmdResult<&'a Vec<Bson>> {
    let arr = cmd.get_array(field).map_err(|_| {
        CmdError::failed_to_parse(format!(
            "BSON field '{name}.{field}' is missing but a required field"
        ))
    })?;
    if arr.is_empty() || arr.len() > MAX_WRITE_BATCH_SIZE {
        return Err(CmdError::new(
            16,
            "InvalidLength",
            format!("Write batch sizes must be between 1 and {MAX_WRITE_BATCH_SIZE}. Got {} operations.", arr.len()),
        ));
    }
    Ok(arr)
}

/// Puts `_id` first, generating an ObjectId when absent, and validates it.
fn with_id(d: Document) -> CmdResult<Document> {
    if matches!(d.get("_id"), Some(Bson::Array(_))) {
        return Err(CmdError::new(
            53,
            "InvalidIdField",
            "The '_id' value cannot be of type array",
        ));
    }
    if matches!(d.get("_id"), Some(Bson::RegularExpression(_))) {
        return Err(CmdError::new(
            53,
            "InvalidIdField",
            "The '_id' value cannot be of type regex",
        ));
    }
    if d.keys().next().is_some_and(|k| k == "_id") {
        return Ok(d);
    }
    let id = d
        .get("_id")
        .cloned()
        .unwrap_or_else(|| Bson::ObjectId(ObjectId::new()));
    let mut out = doc! {"_id": id};
    for (k, v) in d {
        if k != "_id" {
            out.insert(k, v);
        }
    }
    Ok(out)
}

fn check_size(d: &Document) -> CmdResult<()> {
    let n = bson::to_vec(d).map(|v| v.len()).unwrap_or(0);
    if n > crate::wire::MAX_BSON_OBJECT_SIZE {
        return Err(CmdError::new(
            10334,
            "BSONObjectTooLarge",
            format!("object to insert too large. size in bytes: {n}, max size: 16777216"),
        ));
    }
    Ok(())
}

fn reply_with_errors(mut reply: Document, errors: Vec<Document>) -> Document {
    if !errors.is_empty() {
        reply.insert("writeErrors", errors);
    }
    reply.insert("ok", 1.0);
    reply
}

/// Validates statement shapes up front: like MongoDB's command parser, a
/// malformed statement fails the whole command rather than one write.
fn check_statements(
    stmts: &[Bson],
    ctx: &str,
    allowed: &[&str],
    required: &[&str],
) -> CmdResult<()> {
    for st in stmts {
        let Bson::Document(d) = st else {
            return Err(CmdError::type_mismatch(format!(
                "BSON field '{ctx}' must contain objects"
            )));
        };
        if let Some(k) = d.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(CmdError::unknown_field(format!(
                "BSON field '{ctx}.{k}' is an unknown field."
            )));
        }
        for r in required {
            require(d, r, ctx)?;
        }
    }
    Ok(())
}

/// `insert`.
pub fn insert(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Outcome> {
    check_fields(cmd, "insert", &["documents", "ordered"])?;
    let coll = coll_name(cmd, "insert")?;
    check_coll_name(db, &coll)?;
    let docs = batch(cmd, "documents", "insert")?;
    let ordered = opt_bool(cmd, "ordered").unwrap_or(true);
    let ((n, errors), ticket) = shared
        .store
        .write(|cat, log| {
            let mut n = 0i32;
            let mut errors = Vec::new();
            for (i, d) in docs.iter().enumerate() {
                let res = match d {
                    Bson::Document(d) => with_id(d.clone()).and_then(|d| {
                        check_size(&d)?;
                        cat.insert(db, &coll, d, log)
                    }),
                    _ => Err(CmdError::type_mismatch("insert documents must be objects")),
                };
                match res {
                    Ok(_) => n += 1,
                    Err(e) => {
                        errors.push(e.to_write_error(i));
                        if ordered {
                            break;
                        }
                    }
                }
            }
            (n, errors)
        })
        .map_err(|e| CmdError::internal(e.to_string()))?;
    Ok(Outcome {
        reply: reply_with_errors(doc! {"n": n}, errors),
        ticket,
    })
}

/// The document an upsert starts from: the filter's equality fields.
fn upsert_seed(filter: &Filter) -> CmdResult<Document> {
    let mut seed = Document::new();
    for (path, v) in filter.equalities() {
        set_path(&mut seed, path, v.clone())?;
    }
    for path in filter.paths() {
        for op in filter.ops_on(path) {
            if let Op::In(list) = op {
                if list.len() == 1 {
                    set_path(&mut seed, path, list[0].clone())?;
                }
            }
        }
    }
    Ok(seed)
}

fn build_upsert(filter: &Filter, upd: &Update, now: DateTime) -> CmdResult<Document> {
    let mut d = upsert_seed(filter)?;
    if let Update::Replacement(r) = upd {
        let mut base = Document::new();
        if let Some(id) = d.get("_id") {
            base.insert("_id", id.clone());
        }
        d = base;
        upd.apply(&mut d, true, now)?;
        let _ = r;
    } else {
        upd.apply(&mut d, true, now)?;
    }
    let d = with_id(d)?;
    check_size(&d)?;
    Ok(d)
}

/// Applies `upd` to record `rid`; returns (before, after, modified).
fn update_record(
    cat: &mut Catalog,
    db: &str,
    coll: &str,
    rid: u64,
    upd: &Update,
    now: DateTime,
    log: &mut OpLog,
) -> CmdResult<(Document, Document, bool)> {
    let old = cat
        .get(db, coll)
        .and_then(|c| c.records.get(&rid))
        .cloned()
        .ok_or_else(|| CmdError::internal("record vanished"))?;
    let mut new = old.clone();
    upd.apply(&mut new, false, now)?;
    let new = with_id(new)?;
    let changed = bson::to_vec(&old).ok() != bson::to_vec(&new).ok();
    if changed {
        check_size(&new)?;
        cat.replace(db, coll, rid, new.clone(), log)?;
    }
    Ok((old, new, changed))
}

fn parse_update(u: Option<&Bson>) -> CmdResult<Update> {
    match u {
        Some(Bson::Document(d)) => Update::parse(d),
        Some(Bson::Array(_)) => Err(CmdError::bad_value(
            "mongo-embedded does not support pipeline-style updates",
        )),
        _ => Err(CmdError::failed_to_parse(
            "BSON field 'update.updates.u' is missing but a required field",
        )),
    }
}

struct UpdateStats {
    n: i64,
    modified: i64,
    upserted: Vec<Document>,
}

#[allow(clippy::too_many_arguments)]
fn one_update(
    cat: &mut Catalog,
    db: &str,
    coll: &str,
    i: usize,
    stmt: &Bson,
    now: DateTime,
    st: &mut UpdateStats,
    log: &mut OpLog,
) -> CmdResult<()> {
    let Bson::Document(s) = stmt else {
        return Err(CmdError::type_mismatch("update statements must be objects"));
    };
    check_fields(
        s,
        "update.updates",
        &[
            "q",
            "u",
            "multi",
            "upsert",
            "arrayFilters",
            "hint",
            "collation",
            "c",
            "sort",
        ],
    )?;
    reject_unsupported(s, "update", &["arrayFilters", "collation", "c", "sort"])?;
    require(s, "q", "update.updates")?;
    require(s, "u", "update.updates")?;
    let filter = Filter::parse(opt_doc(s, "q", "update.updates")?.unwrap_or(&Document::new()))?;
    let upd = parse_update(s.get("u"))?;
    let multi = opt_bool(s, "multi").unwrap_or(false);
    if multi && matches!(upd, Update::Replacement(_)) {
        return Err(CmdError::failed_to_parse(
            "multi update is not supported for replacement-style update",
        ));
    }
    let rids = cat
        .get(db, coll)
        .map(|c| c.matching(&filter))
        .unwrap_or_default();
    let rids: Vec<u64> = if multi {
        rids
    } else {
        rids.into_iter().take(1).collect()
    };
    if rids.is_empty() && opt_bool(s, "upsert").unwrap_or(false) {
        let d = build_upsert(&filter, &upd, now)?;
        let id = d.get("_id").cloned().unwrap_or(Bson::Null);
        cat.insert(db, coll, d, log)?;
        st.n += 1;
        st.upserted.push(doc! {"index": i as i32, "_id": id});
        return Ok(());
    }
    for rid in rids {
        let (_, _, changed) = update_record(cat, db, coll, rid, &upd, now, log)?;
        st.n += 1;
        if changed {
            st.modified += 1;
        }
    }
    Ok(())
}

/// `update`.
pub fn update(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Outcome> {
    check_fields(cmd, "update", &["updates", "ordered", "let"])?;
    reject_unsupported(cmd, "update", &["let"])?;
    let coll = coll_name(cmd, "update")?;
    check_coll_name(db, &coll)?;
    let stmts = batch(cmd, "updates", "update")?;
    check_statements(
        stmts,
        "update.updates",
        &[
            "q",
            "u",
            "multi",
            "upsert",
            "arrayFilters",
            "hint",
            "collation",
            "c",
            "sort",
        ],
        &["q", "u"],
    )?;
    let ordered = opt_bool(cmd, "ordered").unwrap_or(true);
    let now = shared.now();
    let ((st, errors), ticket) = shared
        .store
        .write(|cat, log| {
            let mut st = UpdateStats {
                n: 0,
                modified: 0,
                upserted: Vec::new(),
            };
            let mut errors = Vec::new();
            for (i, s) in stmts.iter().enumerate() {
                if let Err(e) = one_update(cat, db, &coll, i, s, now, &mut st, log) {
                    errors.push(e.to_write_error(i));
                    if ordered {
                        break;
                    }
                }
            }
            (st, errors)
        })
        .map_err(|e| CmdError::internal(e.to_string()))?;
    let mut reply = doc! {"n": st.n as i32, "nModified": st.modified as i32};
    if !st.upserted.is_empty() {
        reply.insert("upserted", st.upserted);
    }
    Ok(Outcome {
        reply: reply_with_errors(reply, errors),
        ticket,
    })
}

/// `delete`.
pub fn delete(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Outcome> {
    check_fields(cmd, "delete", &["deletes", "ordered", "let"])?;
    reject_unsupported(cmd, "delete", &["let"])?;
    let coll = coll_name(cmd, "delete")?;
    check_coll_name(db, &coll)?;
    let stmts = batch(cmd, "deletes", "delete")?;
    check_statements(
        stmts,
        "delete.deletes",
        &["q", "limit", "hint", "collation"],
        &["q", "limit"],
    )?;
    let ordered = opt_bool(cmd, "ordered").unwrap_or(true);
    let ((n, errors), ticket) = shared
        .store
        .write(|cat, log| {
            let mut n = 0i32;
            let mut errors = Vec::new();
            for (i, s) in stmts.iter().enumerate() {
                let res = (|| -> CmdResult<i32> {
                    let Bson::Document(s) = s else {
                        return Err(CmdError::type_mismatch("delete statements must be objects"));
                    };
                    check_fields(s, "delete.deletes", &["q", "limit", "hint", "collation"])?;
                    reject_unsupported(s, "delete", &["collation"])?;
                    require(s, "q", "delete.deletes")?;
                    require(s, "limit", "delete.deletes")?;
                    let filter = Filter::parse(
                        opt_doc(s, "q", "delete.deletes")?.unwrap_or(&Document::new()),
                    )?;
                    let limit = opt_i64(s, "limit", "delete.deletes")?.unwrap_or(0);
                    if limit != 0 && limit != 1 {
                        return Err(CmdError::failed_to_parse(format!(
                            "The limit field in delete objects must be 0 or 1. Got {limit}"
                        )));
                    }
                    let mut rids = cat
                        .get(db, &coll)
                        .map(|c| c.matching(&filter))
                        .unwrap_or_default();
                    if limit == 1 {
                        rids.truncate(1);
                    }
                    let mut k = 0;
                    for rid in rids {
                        if cat.delete(db, &coll, rid, log).is_some() {
                            k += 1;
                        }
                    }
                    Ok(k)
                })();
                match res {
                    Ok(k) => n += k,
                    Err(e) => {
                        errors.push(e.to_write_error(i));
                        if ordered {
                            break;
                        }
                    }
                }
            }
            (n, errors)
        })
        .map_err(|e| CmdError::internal(e.to_string()))?;
    Ok(Outcome {
        reply: reply_with_errors(doc! {"n": n}, errors),
        ticket,
    })
}

/// `findAndModify`.
pub fn find_and_modify(
    shared: &Shared,
    db: &str,
    cmd: &Document,
    name: &str,
) -> CmdResult<Outcome> {
    check_fields(
        cmd,
        name,
        &[
            "query",
            "sort",
            "remove",
            "update",
            "new",
            "fields",
            "upsert",
            "collation",
            "arrayFilters",
            "hint",
            "let",
        ],
    )?;
    reject_unsupported(cmd, "findAndModify", &["collation", "arrayFilters", "let"])?;
    let coll = coll_name(cmd, name)?;
    check_coll_name(db, &coll)?;
    let filter = Filter::parse(opt_doc(cmd, "query", name)?.unwrap_or(&Document::new()))?;
    let sort = SortSpec::parse(opt_doc(cmd, "sort", name)?.unwrap_or(&Document::new()))?;
    let fields = Projection::parse(opt_doc(cmd, "fields", name)?.unwrap_or(&Document::new()))?;
    let remove = opt_bool(cmd, "remove").unwrap_or(false);
    let return_new = opt_bool(cmd, "new").unwrap_or(false);
    let upsert = opt_bool(cmd, "upsert").unwrap_or(false);
    let upd = match (remove, cmd.get("update")) {
        (true, Some(_)) => {
            return Err(CmdError::failed_to_parse(
                "Cannot specify both an update and remove=true",
            ))
        }
        (true, None) => {
            if upsert || return_new {
                return Err(CmdError::failed_to_parse(
                    "Cannot specify both upsert=true and remove=true, or new=true and remove=true",
                ));
            }
            None
        }
        (false, None) => {
            return Err(CmdError::failed_to_parse(
                "Either an update or remove=true must be specified",
            ))
        }
        (false, u) => Some(parse_update(u)?),
    };
    let now = shared.now();
    let (res, ticket) = shared
        .store
        .write(|cat, log| -> CmdResult<Document> {
            let target = cat.get(db, &coll).and_then(|c| {
                let first = select(cat, db, &coll, &filter, &sort, 0, 1).into_iter().next()?;
                c.rid_of(first.get("_id")?)
            });
            let project = |d: Document| Bson::Document(fields.apply(&d));
            match (target, upd) {
                (Some(rid), None) => {
                    let d = cat.delete(db, &coll, rid, log).map(project).unwrap_or(Bson::Null);
                    Ok(doc! {"lastErrorObject": {"n": 1}, "value": d})
                }
                (None, None) => Ok(doc! {"lastErrorObject": {"n": 0}, "value": Bson::Null}),
                (Some(rid), Some(u)) => {
                    let (old, new, _) = update_record(cat, db, &coll, rid, &u, now, log)?;
                    let v = if return_new { new } else { old };
                    Ok(doc! {"lastErrorObject": {"n": 1, "updatedExisting": true}, "value": project(v)})
                }
                (None, Some(u)) if upsert => {
                    let d = build_upsert(&filter, &u, now)?;
                    let id = d.get("_id").cloned().unwrap_or(Bson::Null);
                    cat.insert(db, &coll, d.clone(), log)?;
                    let v = if return_new { project(d) } else { Bson::Null };
                    Ok(doc! {"lastErrorObject": {"n": 1, "updatedExisting": false, "upserted": id}, "value": v})
                }
                (None, Some(_)) => Ok(doc! {"lastErrorObject": {"n": 0, "updatedExisting": false}, "value": Bson::Null}),
            }
        })
        .map_err(|e| CmdError::internal(e.to_string()))?;
    Ok(Outcome {
        reply: res?,
        ticket,
    })
}
