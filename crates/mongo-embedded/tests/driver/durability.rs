//! Journal first, then acknowledge: a write whose journal records cannot be
//! written fails, is undone, is never persisted, and writes resume once the
//! journal can be written again.

use crate::code_of;
use mongo_embedded::{Server, ServerOptions};
use mongodb::bson::{doc, Bson, Document};
use mongodb::{Client, IndexModel};

const OUT_OF_DISK_SPACE: i32 = 14031;

async fn client_for(uri: &str) -> Client {
    Client::with_uri_str(format!(
        "{uri}?directConnection=true&serverSelectionTimeoutMS=5000"
    ))
    .await
    .unwrap()
}

fn journal_ids(dir: &std::path::Path) -> Vec<Bson> {
    let recs = mongo_embedded::read_journal(&dir.join("journal.bin"))
        .unwrap()
        .unwrap();
    recs.iter()
        .filter(|r| r.get_str("op") == Ok("put"))
        .filter_map(|r| r.get_document("doc").ok()?.get("_id").cloned())
        .collect()
}

#[tokio::test]
async fn failed_journal_write_is_reported_undone_not_persisted_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerOptions::default().dbpath(dir.path()))
        .await
        .unwrap();
    let client = client_for(&server.uri()).await;
    let db = client.database("app");
    let c = db.collection::<Document>("users");
    c.insert_one(doc! {"_id": 1, "n": 1}).await.unwrap();

    server.set_journal_fault(true);
    // A batch, so the half that reaches the disk holds whole records.
    let err = c
        .insert_many((10..20).map(|i| doc! {"_id": i}).collect::<Vec<_>>())
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(OUT_OF_DISK_SPACE), "{err}");
    // Half the batch reached the file before the fault; it is cut off at
    // once, so a crash now could not replay it.
    assert_eq!(journal_ids(dir.path()), vec![Bson::Int32(1)]);
    let err = c
        .update_one(doc! {"_id": 1}, doc! {"$set": {"n": 2}})
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(OUT_OF_DISK_SPACE), "{err}");
    let err = c.delete_one(doc! {"_id": 1}).await.unwrap_err();
    assert_eq!(code_of(&err), Some(OUT_OF_DISK_SPACE), "{err}");
    let err = c
        .create_index(IndexModel::builder().keys(doc! {"n": 1}).build())
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(OUT_OF_DISK_SPACE), "{err}");
    let err = db
        .collection::<Document>("fresh")
        .insert_one(doc! {"_id": 1})
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(OUT_OF_DISK_SPACE), "{err}");
    let err = c.drop().await.unwrap_err();
    assert_eq!(code_of(&err), Some(OUT_OF_DISK_SPACE), "{err}");
    // Readiness reflects the broken journal.
    let err = db.run_command(doc! {"ping": 1}).await.unwrap_err();
    assert_eq!(code_of(&err), Some(OUT_OF_DISK_SPACE), "{err}");

    // None of it is visible ...
    assert_eq!(c.count_documents(doc! {}).await.unwrap(), 1);
    assert_eq!(
        c.find_one(doc! {"_id": 1}).await.unwrap(),
        Some(doc! {"_id": 1, "n": 1})
    );
    assert_eq!(c.list_index_names().await.unwrap(), vec!["_id_"]);
    assert_eq!(db.list_collection_names().await.unwrap(), vec!["users"]);
    // ... nor on disk.
    assert_eq!(journal_ids(dir.path()), vec![Bson::Int32(1)]);

    // Space is back: readiness and writes recover without a restart.
    server.set_journal_fault(false);
    db.run_command(doc! {"ping": 1}).await.unwrap();
    c.insert_many((10..12).map(|i| doc! {"_id": i}).collect::<Vec<_>>())
        .await
        .unwrap();
    c.update_one(doc! {"_id": 1}, doc! {"$set": {"n": 3}})
        .await
        .unwrap();
    assert_eq!(
        journal_ids(dir.path()),
        vec![
            Bson::Int32(1),
            Bson::Int32(10),
            Bson::Int32(11),
            Bson::Int32(1)
        ]
    );
    server.shutdown().await.unwrap();

    // The snapshot written at shutdown holds exactly the acknowledged writes.
    let server = Server::start(ServerOptions::default().dbpath(dir.path()))
        .await
        .unwrap();
    let client = client_for(&server.uri()).await;
    let db = client.database("app");
    let c = db.collection::<Document>("users");
    let mut ids = Vec::new();
    let mut cursor = c.find(doc! {}).await.unwrap();
    while cursor.advance().await.unwrap() {
        ids.push(cursor.deserialize_current().unwrap());
    }
    assert_eq!(
        ids,
        vec![doc! {"_id": 1, "n": 3}, doc! {"_id": 10}, doc! {"_id": 11}]
    );
    assert_eq!(c.list_index_names().await.unwrap(), vec!["_id_"]);
    assert_eq!(db.list_collection_names().await.unwrap(), vec!["users"]);
    server.shutdown().await.unwrap();
}
