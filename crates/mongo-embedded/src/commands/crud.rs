//! Write commands `insert` and `delete`, plus helpers shared by all writes.

use super::read::{check_hint, reject_unsupported};
use super::{check_fields, coll_name, opt_bool, opt_doc, opt_i64, require, Outcome};
use crate::error::{CmdError, CmdResult};
use crate::query::matcher::Filter;
use crate::state::Shared;
use crate::storage::catalog::check_coll_name;
use crate::wire::MAX_WRITE_BATCH_SIZE;
use bson::{doc, oid::ObjectId, Bson, Document};

pub(super) fn batch<'a>(cmd: &'a Document, field: &str, name: &str) -> CmdResult<&'a Vec<Bson>> {
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
pub(super) fn with_id(d: Document) -> CmdResult<Document> {
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
    if let Some(Bson::Document(id)) = d.get("_id") {
        if let Some(field) = dollar_field(id) {
            return Err(CmdError::new(
                52,
                "DollarPrefixedFieldName",
                format!(
                    "_id fields may not contain '$'-prefixed fields: {field} is not valid for storage."
                ),
            ));
        }
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

/// The first `$`-prefixed field name anywhere inside an `_id` document, as
/// mongod's storage validation finds them (nested documents and arrays
/// included); a DBRef's `$ref`/`$id`/`$db` are valid.
fn dollar_field(d: &Document) -> Option<String> {
    let is_dbref =
        d.keys().next().is_some_and(|k| k == "$ref") && d.keys().nth(1).is_some_and(|k| k == "$id");
    for (k, v) in d {
        if k.starts_with('$') && !(is_dbref && matches!(k.as_str(), "$ref" | "$id" | "$db")) {
            return Some(k.clone());
        }
        if let Some(f) = dollar_field_in(v) {
            return Some(f);
        }
    }
    None
}

fn dollar_field_in(v: &Bson) -> Option<String> {
    match v {
        Bson::Document(d) => dollar_field(d),
        Bson::Array(a) => a.iter().find_map(dollar_field_in),
        _ => None,
    }
}

pub(super) fn check_size(d: &Document) -> CmdResult<()> {
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

pub(super) fn reply_with_errors(mut reply: Document, errors: Vec<Document>) -> Document {
    if !errors.is_empty() {
        reply.insert("writeErrors", errors);
    }
    reply.insert("ok", 1.0);
    reply
}

/// Validates statement shapes up front: like MongoDB's command parser, a
/// malformed statement fails the whole command rather than one write.
pub(super) fn check_statements(
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
                    check_hint(cat, db, &coll, s.get("hint"))?;
                    let limit = opt_i64(s, "limit", "delete.deletes")?.unwrap_or(0);
                    if limit != 0 && limit != 1 {
                        return Err(CmdError::failed_to_parse(format!(
                            "The limit field in delete objects must be 0 or 1. Got {limit}"
                        )));
                    }
                    let mut rids = cat
                        .get(db, &coll)
                        .map(|c| c.matching(&filter, &cat.scan_stats))
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
