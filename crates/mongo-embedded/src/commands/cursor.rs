//! Cursor replies, `getMore` and `killCursors`.

use super::{check_fields, opt_i64};
use crate::error::{CmdError, CmdResult};
use crate::state::{Cursor, Shared, CURSOR_TIMEOUT};
use bson::{doc, Bson, Document};
use std::collections::VecDeque;

/// Default first batch size (as in MongoDB).
const DEFAULT_FIRST_BATCH: usize = 101;
/// Upper bound on one batch's size so replies stay under the message limit.
const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

fn take_batch(docs: &mut VecDeque<Document>, n: usize) -> Vec<Bson> {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    while out.len() < n {
        let Some(d) = docs.front() else { break };
        let sz = bson::to_vec(d).map(|v| v.len()).unwrap_or(0);
        if !out.is_empty() && bytes + sz > MAX_BATCH_BYTES {
            break;
        }
        bytes += sz;
        if let Some(d) = docs.pop_front() {
            out.push(Bson::Document(d));
        }
    }
    out
}

/// Builds `{cursor: {firstBatch, id, ns}}`, registering a cursor if documents remain.
pub fn first_batch(
    shared: &Shared,
    ns: String,
    docs: Vec<Document>,
    batch_size: Option<i64>,
    single_batch: bool,
) -> Document {
    let mut docs: VecDeque<Document> = docs.into();
    let n = match batch_size {
        Some(b) if b > 0 => b as usize,
        Some(_) => 0,
        None => DEFAULT_FIRST_BATCH,
    };
    let n = if single_batch && batch_size.is_none() {
        usize::MAX
    } else {
        n
    };
    let batch = take_batch(&mut docs, n);
    let id = if docs.is_empty() || single_batch {
        0
    } else {
        let id = shared.new_cursor_id();
        let now = std::time::Instant::now();
        let mut cursors = shared.cursors();
        cursors.retain(|_, c| now.duration_since(c.last_used) < CURSOR_TIMEOUT);
        cursors.insert(
            id,
            Cursor {
                ns: ns.clone(),
                docs,
                last_used: now,
            },
        );
        id
    };
    doc! {"cursor": {"firstBatch": batch, "id": id, "ns": ns}, "ok": 1.0}
}

/// `getMore`.
pub fn get_more(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Document> {
    check_fields(
        cmd,
        "getMore",
        &[
            "collection",
            "batchSize",
            "term",
            "lastKnownCommittedOpTime",
        ],
    )?;
    let id = match cmd.get("getMore") {
        Some(Bson::Int64(i)) => *i,
        Some(Bson::Int32(i)) => i64::from(*i),
        _ => {
            return Err(CmdError::type_mismatch(
                "BSON field 'getMore.getMore' is the wrong type, expected type 'long'",
            ))
        }
    };
    let coll = cmd.get_str("collection").map_err(|_| {
        CmdError::failed_to_parse("BSON field 'getMore.collection' is missing but a required field")
    })?;
    let ns = format!("{db}.{coll}");
    let batch_size = opt_i64(cmd, "batchSize", "getMore")?
        .filter(|b| *b > 0)
        .map(|b| b as usize);
    let mut cursors = shared.cursors();
    let Some(c) = cursors.get_mut(&id) else {
        return Err(CmdError::cursor_not_found(format!(
            "cursor id {id} not found"
        )));
    };
    if c.ns != ns {
        return Err(CmdError::new(13, "Unauthorized", format!("Requested getMore on namespace '{ns}', but cursor belongs to a different namespace {}", c.ns)));
    }
    c.last_used = std::time::Instant::now();
    let batch = take_batch(&mut c.docs, batch_size.unwrap_or(usize::MAX));
    let next_id = if c.docs.is_empty() {
        cursors.remove(&id);
        0
    } else {
        id
    };
    Ok(doc! {"cursor": {"nextBatch": batch, "id": next_id, "ns": ns}, "ok": 1.0})
}

/// `killCursors`.
pub fn kill_cursors(shared: &Shared, cmd: &Document) -> CmdResult<Document> {
    check_fields(cmd, "killCursors", &["cursors"])?;
    let ids = cmd.get_array("cursors").map_err(|_| {
        CmdError::failed_to_parse(
            "BSON field 'killCursors.cursors' is missing but a required field",
        )
    })?;
    let mut killed = Vec::new();
    let mut not_found = Vec::new();
    let mut cursors = shared.cursors();
    for v in ids {
        let id = match v {
            Bson::Int64(i) => *i,
            Bson::Int32(i) => i64::from(*i),
            _ => return Err(CmdError::type_mismatch("cursor ids must be longs")),
        };
        if cursors.remove(&id).is_some() {
            killed.push(Bson::Int64(id));
        } else {
            not_found.push(Bson::Int64(id));
        }
    }
    Ok(
        doc! {"cursorsKilled": killed, "cursorsNotFound": not_found, "cursorsAlive": [], "cursorsUnknown": [], "ok": 1.0},
    )
}
