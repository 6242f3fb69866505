//! The `update` command and the update/upsert helpers `findAndModify` shares.

use super::crud::{batch, check_size, check_statements, reply_with_errors, with_id};
use super::read::{check_hint, reject_unsupported};
use super::{check_fields, coll_name, opt_bool, opt_doc, require, Outcome};
use crate::error::{CmdError, CmdResult};
use crate::query::matcher::{Filter, Op};
use crate::query::update::{set_path, Update};
use crate::state::Shared;
use crate::storage::catalog::{check_coll_name, Catalog, OpLog};
use bson::{doc, Bson, DateTime, Document};

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

pub(super) fn build_upsert(filter: &Filter, upd: &Update, now: DateTime) -> CmdResult<Document> {
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
pub(super) fn update_record(
    cat: &mut Catalog,
    db: &str,
    coll: &str,
    rid: u64,
    (upd, filter): (&Update, &Filter),
    now: DateTime,
    log: &mut OpLog,
) -> CmdResult<(Document, Document, bool)> {
    let old = cat
        .get(db, coll)
        .and_then(|c| c.records.get(&rid))
        .cloned()
        .ok_or_else(|| CmdError::internal("record vanished"))?;
    let mut new = old.clone();
    upd.apply_matched(&mut new, false, now, Some(filter))?;
    let new = with_id(new)?;
    let changed = bson::to_vec(&old).ok() != bson::to_vec(&new).ok();
    if changed {
        check_size(&new)?;
        cat.replace(db, coll, rid, new.clone(), log)?;
    }
    Ok((old, new, changed))
}

pub(super) fn parse_update(u: Option<&Bson>) -> CmdResult<Update> {
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
    check_hint(cat, db, coll, s.get("hint"))?;
    let upd = parse_update(s.get("u"))?;
    let multi = opt_bool(s, "multi").unwrap_or(false);
    if multi && matches!(upd, Update::Replacement(_)) {
        return Err(CmdError::failed_to_parse(
            "multi update is not supported for replacement-style update",
        ));
    }
    let rids = cat
        .get(db, coll)
        .map(|c| c.matching(&filter, &cat.scan_stats))
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
        let (_, _, changed) = update_record(cat, db, coll, rid, (&upd, &filter), now, log)?;
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
