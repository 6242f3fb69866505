//! Command dispatch: generic field checks, routing, counters.

pub mod admin;
pub mod aggregate;
pub mod collections;
pub mod crud;
pub mod cursor;
pub mod find_and_modify;
mod group;
pub mod indexes;
pub mod read;
mod stages;
pub mod update;

use crate::error::{CmdError, CmdResult};
use crate::handshake::{self, ConnInfo};
use crate::state::Shared;
use bson::{Bson, Document};

/// Fields any command may carry (sessions, read/write concerns, API version...).
const GENERIC_FIELDS: &[&str] = &[
    "$db",
    "lsid",
    "$clusterTime",
    "txnNumber",
    "$readPreference",
    "readConcern",
    "writeConcern",
    "comment",
    "maxTimeMS",
    "apiVersion",
    "apiStrict",
    "apiDeprecationErrors",
    "autocommit",
    "startTransaction",
    "$client",
    "$audit",
    "bypassDocumentValidation",
    "$queryOptions",
    "mayBypassWriteBlocking",
];

/// Rejects fields that are neither generic nor in `allowed`, like MongoDB's IDL parser.
pub fn check_fields(cmd: &Document, name: &str, allowed: &[&str]) -> CmdResult<()> {
    for (i, k) in cmd.keys().enumerate() {
        if i == 0 || GENERIC_FIELDS.contains(&k.as_str()) || allowed.contains(&k.as_str()) {
            continue;
        }
        return Err(CmdError::unknown_field(format!(
            "BSON field '{name}.{k}' is an unknown field."
        )));
    }
    Ok(())
}

/// Fails like MongoDB's IDL parser when a required field is absent.
pub fn require(cmd: &Document, field: &str, ctx: &str) -> CmdResult<()> {
    if cmd.contains_key(field) {
        Ok(())
    } else {
        Err(CmdError::new(
            40414,
            "Location40414",
            format!("BSON field '{ctx}.{field}' is missing but a required field"),
        ))
    }
}

/// The collection name given as the command's first value.
pub fn coll_name(cmd: &Document, name: &str) -> CmdResult<String> {
    match cmd.get(name) {
        Some(Bson::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Bson::String(_)) => Err(CmdError::invalid_namespace(
            "Invalid namespace specified: collection name is empty",
        )),
        Some(other) => Err(CmdError::invalid_namespace(format!(
            "collection name has invalid type {}",
            crate::query::update::type_name(other)
        ))),
        None => Err(CmdError::failed_to_parse(format!("missing '{name}'"))),
    }
}

/// An optional sub-document field.
pub fn opt_doc<'a>(
    cmd: &'a Document,
    field: &str,
    cmd_name: &str,
) -> CmdResult<Option<&'a Document>> {
    match cmd.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::Document(d)) => Ok(Some(d)),
        Some(other) => Err(CmdError::type_mismatch(format!(
            "BSON field '{cmd_name}.{field}' is the wrong type '{}', expected type 'object'",
            crate::query::update::type_name(other)
        ))),
    }
}

/// An optional integer field.
pub fn opt_i64(cmd: &Document, field: &str, cmd_name: &str) -> CmdResult<Option<i64>> {
    match cmd.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::Int32(i)) => Ok(Some(i64::from(*i))),
        Some(Bson::Int64(i)) => Ok(Some(*i)),
        Some(Bson::Double(d)) if d.fract() == 0.0 => Ok(Some(*d as i64)),
        Some(other) => Err(CmdError::type_mismatch(format!(
            "BSON field '{cmd_name}.{field}' is the wrong type '{}', expected types '[long, int, decimal, double]'",
            crate::query::update::type_name(other)
        ))),
    }
}

/// An optional boolean field (numbers accepted like MongoDB does).
pub fn opt_bool(cmd: &Document, field: &str) -> Option<bool> {
    match cmd.get(field)? {
        Bson::Boolean(b) => Some(*b),
        Bson::Int32(i) => Some(*i != 0),
        Bson::Int64(i) => Some(*i != 0),
        Bson::Double(d) => Some(*d != 0.0),
        _ => None,
    }
}

/// Result of a handler: reply plus a journal ticket to wait on.
pub struct Outcome {
    /// Reply document (without `ok`, which is added when missing).
    pub reply: Document,
    /// Journal ticket (0 = nothing to wait for).
    pub ticket: u64,
}

impl From<Document> for Outcome {
    fn from(reply: Document) -> Self {
        Outcome { reply, ticket: 0 }
    }
}

fn run(
    shared: &Shared,
    conn: &ConnInfo,
    db: &str,
    name: &str,
    cmd: &Document,
) -> CmdResult<Outcome> {
    match name {
        "hello" | "isMaster" | "ismaster" => Ok(handshake::hello(shared, conn, cmd).into()),
        "insert" => crud::insert(shared, db, cmd),
        "update" => update::update(shared, db, cmd),
        "delete" => crud::delete(shared, db, cmd),
        "findAndModify" | "findandmodify" => {
            find_and_modify::find_and_modify(shared, db, cmd, name)
        }
        "find" => read::find(shared, db, cmd).map(Into::into),
        "count" => read::count(shared, db, cmd).map(Into::into),
        "distinct" => read::distinct(shared, db, cmd).map(Into::into),
        "aggregate" => aggregate::aggregate(shared, db, cmd).map(Into::into),
        "getMore" => cursor::get_more(shared, db, cmd).map(Into::into),
        "killCursors" => cursor::kill_cursors(shared, cmd).map(Into::into),
        "createIndexes" => indexes::create_indexes(shared, db, cmd),
        "listIndexes" => indexes::list_indexes(shared, db, cmd).map(Into::into),
        "dropIndexes" | "deleteIndexes" => indexes::drop_indexes(shared, db, cmd, name),
        _ => admin::run(shared, conn, db, name, cmd),
    }
}

/// A standalone accepts `w` 0, 1 and "majority"; anything needing replicas fails
/// the way a standalone mongod fails it.
fn check_write_concern(wc: &Document) -> CmdResult<()> {
    match wc.get("w") {
        None => Ok(()),
        Some(Bson::String(s)) if s == "majority" => Ok(()),
        Some(Bson::String(s)) => Err(CmdError::new(
            79,
            "UnknownReplWriteConcern",
            format!("No write concern mode named '{s}' found in replica set configuration"),
        )),
        Some(_) => match opt_i64(wc, "w", "writeConcern")? {
            Some(n) if n < 0 => Err(CmdError::failed_to_parse("w cannot be a negative value")),
            Some(n) if n > 1 => Err(CmdError::bad_value(
                "cannot use 'w' > 1 when a host is not a member of a replica set",
            )),
            _ => Ok(()),
        },
    }
}

/// Levels a mongod knows; on one server they all read the same data here.
const READ_CONCERN_LEVELS: &[&str] =
    &["local", "available", "majority", "linearizable", "snapshot"];

fn check_read_concern(rc: &Bson) -> CmdResult<()> {
    let Bson::Document(rc) = rc else {
        return Err(CmdError::type_mismatch(
            "BSON field 'readConcern' is the wrong type, expected type 'object'",
        ));
    };
    match rc.get("level") {
        None => Ok(()),
        Some(Bson::String(l)) if READ_CONCERN_LEVELS.contains(&l.as_str()) => Ok(()),
        Some(Bson::String(_)) => Err(CmdError::failed_to_parse(
            "readConcern.level must be either 'local', 'majority', 'linearizable', 'available', or 'snapshot'",
        )),
        Some(_) => Err(CmdError::type_mismatch(
            "BSON field 'readConcern.level' is the wrong type, expected type 'string'",
        )),
    }
}

/// Executes one command document and returns the reply document.
pub async fn execute(shared: &Shared, conn: &ConnInfo, cmd: &Document) -> Document {
    let name = cmd.keys().next().cloned().unwrap_or_default();
    let result = execute_inner(shared, conn, &name, cmd).await;
    let mut c = shared.counters();
    *c.commands.entry(name.clone()).or_default() += 1;
    match name.as_str() {
        "find" => c.query += 1,
        "getMore" => c.getmore += 1,
        "insert" => {
            c.insert += cmd
                .get_array("documents")
                .map(|a| a.len() as u64)
                .unwrap_or(0)
        }
        "update" => {
            c.update += cmd
                .get_array("updates")
                .map(|a| a.len() as u64)
                .unwrap_or(0)
        }
        "delete" => {
            c.delete += cmd
                .get_array("deletes")
                .map(|a| a.len() as u64)
                .unwrap_or(0)
        }
        _ => c.command += 1,
    }
    match result {
        Ok(mut reply) => {
            if !reply.contains_key("ok") {
                reply.insert("ok", 1.0);
            }
            reply
        }
        Err(e) => {
            *c.failed.entry(name).or_default() += 1;
            e.to_reply()
        }
    }
}

async fn execute_inner(
    shared: &Shared,
    conn: &ConnInfo,
    name: &str,
    cmd: &Document,
) -> CmdResult<Document> {
    if name.is_empty() {
        return Err(CmdError::failed_to_parse("empty command document"));
    }
    let db = match cmd.get("$db") {
        Some(Bson::String(s)) => s.clone(),
        _ => {
            return Err(CmdError::new(
                40571,
                "Location40571",
                "OP_MSG requests require a $db argument",
            ))
        }
    };
    if cmd.contains_key("txnNumber")
        || cmd.contains_key("startTransaction")
        || cmd.contains_key("autocommit")
    {
        // What a standalone mongod answers: transactions need a replica set.
        return Err(CmdError::illegal_operation(
            "Transaction numbers are only allowed on a replica set member or mongos",
        ));
    }
    if let Some(Bson::Document(wc)) = cmd.get("writeConcern") {
        check_write_concern(wc)?;
    }
    if let Some(rc) = cmd.get("readConcern") {
        check_read_concern(rc)?;
    }
    if name == "ping" {
        // Readiness: a server that cannot journal cannot take writes.
        shared.store.check_durable().await.map_err(journal_error)?;
    }
    let out = run(shared, conn, &db, name, cmd)?;
    if out.ticket > 0 {
        shared
            .store
            .durable(out.ticket)
            .await
            .map_err(journal_error)?;
    }
    Ok(out.reply)
}

/// The reply for a write that could not be journaled (and was undone).
/// mongod has no recoverable answer here (it aborts on journal I/O errors),
/// so every cause gets OutOfDiskSpace: the one code MongoDB defines for a
/// storage failure, which clients treat as "unavailable, retry later".
fn journal_error(e: crate::error::Error) -> CmdError {
    CmdError::new(
        14031,
        "OutOfDiskSpace",
        format!("journal write failed, the write was not applied: {e}"),
    )
}
