//! Administrative commands (ping, buildInfo, serverStatus, getParameter,
//! listDatabases, dropDatabase, ...) and routing of the catalog commands.

use super::collections;
use super::{check_fields, opt_bool, opt_doc, Outcome};
use crate::error::{CmdError, CmdResult};
use crate::handshake::ConnInfo;
use crate::handshake::{MAX_WIRE_VERSION, VERSION};
use crate::query::matcher::Filter;
use crate::state::Shared;
use crate::storage::catalog::check_db_name;
use crate::wire::MAX_BSON_OBJECT_SIZE;
use bson::{doc, Bson, Document};
use std::sync::atomic::Ordering;

/// Routes commands not handled elsewhere.
pub fn run(
    shared: &Shared,
    conn: &ConnInfo,
    db: &str,
    name: &str,
    cmd: &Document,
) -> CmdResult<Outcome> {
    Ok(match name {
        "ping" => doc! {"ok": 1.0}.into(),
        "buildInfo" | "buildinfo" => build_info().into(),
        "endSessions" | "killSessions" | "refreshSessions" | "killAllSessions" => doc! {"ok": 1.0}.into(),
        "startSession" => doc! {"id": {"id": Bson::Binary(bson::Binary { subtype: bson::spec::BinarySubtype::Uuid, bytes: bson::oid::ObjectId::new().bytes().iter().chain([0u8; 4].iter()).copied().collect() })}, "timeoutMinutes": 30, "ok": 1.0}.into(),
        "listDatabases" => list_databases(shared, cmd)?.into(),
        "dropDatabase" => return drop_database(shared, db),
        "serverStatus" => server_status(shared).into(),
        "getParameter" => get_parameter(cmd)?.into(),
        "getLog" => get_log(cmd)?.into(),
        "hostInfo" => host_info(shared).into(),
        "connectionStatus" => doc! {"authInfo": {"authenticatedUsers": [], "authenticatedUserRoles": []}, "ok": 1.0}.into(),
        "whatsmyuri" => doc! {"you": &conn.peer, "ok": 1.0}.into(),
        "getCmdLineOpts" => doc! {"argv": ["mongo-embedded"], "parsed": {}, "ok": 1.0}.into(),
        "features" => doc! {"ok": 1.0}.into(),
        "create" => return collections::create(shared, db, cmd),
        "renameCollection" => return collections::rename_collection(shared, db, cmd),
        "collMod" => return collections::coll_mod(shared, db, cmd),
        "drop" => return collections::drop(shared, db, cmd),
        "listCollections" => collections::list_collections(shared, db, cmd)?.into(),
        "collStats" => collections::coll_stats(shared, db, cmd)?.into(),
        "dbStats" => collections::db_stats(shared, db)?.into(),
        _ => return Err(CmdError::command_not_found(format!("no such command: '{name}'"))),
    })
}

fn build_info() -> Document {
    doc! {
        "version": VERSION,
        "gitVersion": "embedded",
        "versionArray": [7, 0, 0, 0],
        "modules": [],
        "allocator": "system",
        "javascriptEngine": "none",
        "sysInfo": "deprecated",
        "bits": 64,
        "debug": false,
        "maxBsonObjectSize": MAX_BSON_OBJECT_SIZE as i32,
        "storageEngines": ["embedded"],
        "openssl": {"running": "disabled"},
        "ok": 1.0,
    }
}

fn list_databases(shared: &Shared, cmd: &Document) -> CmdResult<Document> {
    check_fields(
        cmd,
        "listDatabases",
        &["nameOnly", "filter", "authorizedDatabases"],
    )?;
    let name_only = opt_bool(cmd, "nameOnly").unwrap_or(false);
    let filter =
        Filter::parse(opt_doc(cmd, "filter", "listDatabases")?.unwrap_or(&Document::new()))?;
    let cat = shared.store.read();
    let mut dbs = Vec::new();
    let mut total: i64 = 0;
    for (name, colls) in &cat.dbs {
        let size: i64 = colls.values().map(|c| c.data_size() as i64).sum();
        let entry = if name_only {
            doc! {"name": name}
        } else {
            doc! {"name": name, "sizeOnDisk": size, "empty": colls.values().all(|c| c.is_empty())}
        };
        if filter.matches(&entry) {
            total += size;
            dbs.push(entry);
        }
    }
    let mut reply = doc! {"databases": dbs};
    if !name_only {
        reply.insert("totalSize", total);
        reply.insert("totalSizeMb", total / (1024 * 1024));
    }
    reply.insert("ok", 1.0);
    Ok(reply)
}

fn drop_database(shared: &Shared, db: &str) -> CmdResult<Outcome> {
    check_db_name(db)?;
    let (_, ticket) = shared
        .store
        .write(|cat, log| cat.drop_database(db, log))
        .map_err(|e| CmdError::internal(e.to_string()))?;
    shared
        .cursors()
        .retain(|_, c| !c.ns.starts_with(&format!("{db}.")));
    Ok(Outcome {
        reply: doc! {"dropped": db, "ok": 1.0},
        ticket,
    })
}

fn server_status(shared: &Shared) -> Document {
    let c = shared.counters_snapshot();
    let up = shared.started.elapsed();
    let mut commands = Document::new();
    for (k, v) in &c.commands {
        commands.insert(
            k.clone(),
            doc! {"total": *v as i64, "failed": c.failed.get(k).copied().unwrap_or(0) as i64},
        );
    }
    let current = shared.conns_current.load(Ordering::Relaxed) as i64;
    doc! {
        "host": "localhost",
        "version": VERSION,
        "process": "mongo-embedded",
        "pid": i64::from(std::process::id()),
        "uptime": up.as_secs() as i64,
        "uptimeMillis": up.as_millis() as i64,
        "uptimeEstimate": up.as_secs() as i64,
        "localTime": shared.now(),
        "connections": {"current": current, "available": 1_000_000 - current, "totalCreated": shared.conns_total.load(Ordering::Relaxed) as i64, "active": current},
        "opcounters": {"insert": c.insert as i64, "query": c.query as i64, "update": c.update as i64, "delete": c.delete as i64, "getmore": c.getmore as i64, "command": c.command as i64},
        "metrics": {
            "commands": commands,
            "queryExecutor": {
                "scannedObjects": c.docs_examined as i64,
                "collectionScans": {"total": c.collection_scans as i64},
            },
        },
        "storageEngine": {"name": "embedded", "persistent": shared.store.dbpath().is_some()},
        "maxWireVersion": MAX_WIRE_VERSION,
        "ok": 1.0,
    }
}

fn get_parameter(cmd: &Document) -> CmdResult<Document> {
    let all = matches!(cmd.get("getParameter"), Some(Bson::String(s)) if s == "*");
    let mut reply = Document::new();
    let known = [
        (
            "featureCompatibilityVersion",
            Bson::Document(doc! {"version": "7.0"}),
        ),
        ("authenticationMechanisms", Bson::Array(Vec::new())),
        ("requireApiVersion", Bson::Boolean(false)),
        ("transactionLifetimeLimitSeconds", Bson::Int32(60)),
    ];
    for (k, v) in known {
        if all || cmd.contains_key(k) {
            reply.insert(k, v);
        }
    }
    if !all {
        for k in cmd.keys().skip(1) {
            if !reply.contains_key(k) && !super::GENERIC_FIELDS.contains(&k.as_str()) {
                return Err(CmdError::invalid_options("no option found to get"));
            }
        }
    }
    reply.insert("ok", 1.0);
    Ok(reply)
}

fn get_log(cmd: &Document) -> CmdResult<Document> {
    match cmd.get("getLog") {
        Some(Bson::String(s)) if s == "*" => {
            Ok(doc! {"names": ["global", "startupWarnings"], "ok": 1.0})
        }
        Some(Bson::String(s)) if s == "global" || s == "startupWarnings" => {
            Ok(doc! {"totalLinesWritten": 0, "log": [], "ok": 1.0})
        }
        Some(Bson::String(s)) => Err(CmdError::invalid_options(format!("No log named '{s}'"))),
        _ => Err(CmdError::type_mismatch(
            "Argument to getLog must be of type String",
        )),
    }
}

fn host_info(shared: &Shared) -> Document {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as i32)
        .unwrap_or(1);
    doc! {
        "system": {"currentTime": shared.now(), "hostname": "localhost", "cpuAddrSize": 64, "numCores": cores, "cpuArch": std::env::consts::ARCH},
        "os": {"type": std::env::consts::OS, "name": std::env::consts::OS},
        "extra": {},
        "ok": 1.0,
    }
}
