//! Atomic snapshots of the whole catalog.
//!
//! Written to a temporary file, fsynced, renamed over `snapshot.bson` and the
//! directory fsynced, so a crash leaves either the old or the new snapshot.

use super::catalog::Catalog;
use super::collection::Collection;
use super::index::IndexSpec;
use super::record;
use crate::error::Error;
use bson::{doc, Bson, Document};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// File name of the snapshot inside the dbpath.
pub const SNAPSHOT_FILE: &str = "snapshot.bson";

/// Writes `catalog` as generation `gen`, atomically replacing the old snapshot.
pub fn write(dir: &Path, catalog: &Catalog, gen: i64) -> Result<(), Error> {
    let tmp = dir.join("snapshot.bson.tmp");
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&tmp)?;
    let mut buf = Vec::with_capacity(1 << 20);
    record::encode(&doc! {"t": "snap", "version": 1, "gen": gen}, &mut buf)?;
    let mut count: i64 = 0;
    for (db, colls) in &catalog.dbs {
        for (name, c) in colls {
            let indexes: Vec<Bson> = c
                .indexes
                .iter()
                .map(|i| Bson::Document(i.spec.to_doc()))
                .collect();
            record::encode(
                &doc! {"t": "coll", "db": db, "c": name, "options": c.options.clone(), "indexes": indexes},
                &mut buf,
            )?;
            for d in c.records.values() {
                record::encode(&doc! {"t": "d", "doc": d}, &mut buf)?;
                count += 1;
                if buf.len() > (8 << 20) {
                    file.write_all(&buf)?;
                    buf.clear();
                }
            }
        }
    }
    record::encode(&doc! {"t": "end", "count": count}, &mut buf)?;
    file.write_all(&buf)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, dir.join(SNAPSHOT_FILE))?;
    // Persist the rename itself.
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Loads the snapshot, returning the catalog and its generation (0 if none).
pub fn read(dir: &Path) -> Result<(Catalog, i64), Error> {
    let path = dir.join(SNAPSHOT_FILE);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Catalog::default(), 0)),
        Err(e) => return Err(e.into()),
    };
    let corrupt = |reason: &str| Error::Corrupt {
        path: path.clone(),
        reason: reason.to_string(),
    };
    let (recs, clean) = record::decode_all(&data);
    if !clean {
        return Err(corrupt("checksum or framing error"));
    }
    let mut it = recs.into_iter();
    let head = it.next().ok_or_else(|| corrupt("empty snapshot"))?;
    let gen = head
        .get_i64("gen")
        .map_err(|_| corrupt("missing generation"))?;
    let mut catalog = Catalog::default();
    let mut current: Option<(String, String, Collection, Vec<Document>)> = None;
    let mut finished = false;
    let flush = |cur: Option<(String, String, Collection, Vec<Document>)>,
                 catalog: &mut Catalog|
     -> Result<(), Error> {
        if let Some((db, name, mut c, specs)) = cur {
            let ns = format!("{db}.{name}");
            for s in specs {
                let spec = IndexSpec::parse(&s).map_err(|e| corrupt(&e.msg))?;
                c.add_index(&ns, spec, false).map_err(|e| corrupt(&e.msg))?;
            }
            catalog.dbs.entry(db).or_default().insert(name, c);
        }
        Ok(())
    };
    for rec in it {
        match rec.get_str("t").unwrap_or("") {
            "coll" => {
                flush(current.take(), &mut catalog)?;
                let db = rec
                    .get_str("db")
                    .map_err(|_| corrupt("coll without db"))?
                    .to_string();
                let name = rec
                    .get_str("c")
                    .map_err(|_| corrupt("coll without name"))?
                    .to_string();
                let options = rec.get_document("options").cloned().unwrap_or_default();
                let specs = rec
                    .get_array("indexes")
                    .map(|a| a.iter().filter_map(|b| b.as_document().cloned()).collect())
                    .unwrap_or_default();
                current = Some((db, name, Collection::new(options), specs));
            }
            "d" => {
                let d = rec
                    .get_document("doc")
                    .map_err(|_| corrupt("doc record without doc"))?
                    .clone();
                match current.as_mut() {
                    Some((_, _, c, _)) => c.restore_put(d),
                    None => return Err(corrupt("document before collection header")),
                }
            }
            "end" => {
                finished = true;
                break;
            }
            _ => return Err(corrupt("unknown record")),
        }
    }
    flush(current.take(), &mut catalog)?;
    if !finished {
        return Err(corrupt("missing end record"));
    }
    Ok((catalog, gen))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::storage::catalog::OpLog;

    #[test]
    fn round_trip_keeps_documents_order_and_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let mut cat = Catalog::default();
        let mut log = OpLog::new();
        for i in (0..5).rev() {
            cat.insert(
                "db",
                "c",
                doc! {"_id": i, "email": format!("e{i}")},
                &mut log,
            )
            .unwrap();
        }
        let spec = IndexSpec::parse(&doc! {"key": {"email": 1}, "unique": true}).unwrap();
        cat.add_index("db", "c", spec, &mut log).unwrap();
        cat.create("db", "empty", Document::new(), &mut log)
            .unwrap();
        write(dir.path(), &cat, 7).unwrap();
        let (back, gen) = read(dir.path()).unwrap();
        assert_eq!(gen, 7);
        let c = back.get("db", "c").unwrap();
        let ids: Vec<i32> = c
            .records
            .values()
            .map(|d| d.get_i32("_id").unwrap())
            .collect();
        assert_eq!(ids, vec![4, 3, 2, 1, 0]);
        assert_eq!(c.indexes.len(), 1);
        assert!(c.indexes[0].spec.unique);
        assert_eq!(c.indexes[0].entries.len(), 5);
        assert!(back.get("db", "empty").is_some());
        // A truncated snapshot is reported as corrupt, never half-loaded.
        let path = dir.path().join(SNAPSHOT_FILE);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(matches!(read(dir.path()), Err(Error::Corrupt { .. })));
    }
}
