//! The `findAndModify` command.

use super::read::{check_hint, reject_unsupported, select};
use super::update::{build_upsert, parse_update, update_record};
use super::{check_fields, coll_name, opt_bool, opt_doc, Outcome};
use crate::error::{CmdError, CmdResult};
use crate::query::matcher::Filter;
use crate::query::projection::Projection;
use crate::sort::spec::SortSpec;
use crate::state::Shared;
use crate::storage::catalog::check_coll_name;
use bson::{doc, Bson, Document};

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
            check_hint(cat, db, &coll, cmd.get("hint"))?;
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
                    let (old, new, _) = update_record(cat, db, &coll, rid, (&u, &filter), now, log)?;
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
