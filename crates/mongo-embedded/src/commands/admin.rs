//! Administrative and catalog commands (ping, buildInfo, serverStatus,
//! listDatabases, create, drop, listCollections, stats, ...).

use super::read::reject_unsupported;
use super::{check_fields, coll_name, cursor, opt_bool, opt_doc, ConnInfo, Outcome};
use crate::error::{CmdError, CmdResult};
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
        "create" => return create(shared, db, cmd),
        "renameCollection" => return rename_collection(shared, db, cmd),
        "drop" => return drop(shared, db, cmd),
        "listCollections" => list_collections(shared, db, cmd)?.into(),
        "collStats" => coll_stats(shared, db, cmd)?.into(),
        "dbStats" => db_stats(shared, db)?.into(),
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
    let c = shared.counters().clone();
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
        "metrics": {"commands": commands},
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

fn create(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Outcome> {
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
    reject_unsupported(
        cmd,
        "create",
        &[
            "capped",
            "validator",
            "viewOn",
            "pipeline",
            "collation",
            "timeseries",
            "clusteredIndex",
            "encryptedFields",
            "expireAfterSeconds",
        ],
    )?;
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

fn split_ns(ns: &str) -> CmdResult<(&str, &str)> {
    ns.split_once('.')
        .filter(|(d, c)| !d.is_empty() && !c.is_empty())
        .ok_or_else(|| CmdError::invalid_namespace(format!("Invalid namespace specified '{ns}'")))
}

fn rename_collection(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Outcome> {
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

fn drop(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Outcome> {
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

fn list_collections(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Document> {
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

fn coll_stats(shared: &Shared, db: &str, cmd: &Document) -> CmdResult<Document> {
    let coll = coll_name(cmd, "collStats")?;
    let cat = shared.store.read();
    let c = cat.get(db, &coll).ok_or_else(|| {
        CmdError::namespace_not_found(format!("Collection [{db}.{coll}] not found."))
    })?;
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

fn db_stats(shared: &Shared, db: &str) -> CmdResult<Document> {
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
