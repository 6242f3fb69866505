use futures_util::TryStreamExt;
use mongo_embedded::{Error, Server, ServerOptions};
use mongodb::bson::{doc, Document};
use mongodb::options::IndexOptions;
use mongodb::{Client, IndexModel};
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

async fn client_for(uri: &str) -> Client {
    Client::with_uri_str(format!(
        "{uri}?directConnection=true&serverSelectionTimeoutMS=5000"
    ))
    .await
    .unwrap()
}

#[tokio::test]
async fn restart_keeps_data_and_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerOptions::default().dbpath(dir.path()))
        .await
        .unwrap();
    let client = client_for(&server.uri()).await;
    let c = client.database("app").collection::<Document>("users");
    c.create_index(
        IndexModel::builder()
            .keys(doc! {"email": 1})
            .options(IndexOptions::builder().unique(true).build())
            .build(),
    )
    .await
    .unwrap();
    c.insert_many(
        (0..50)
            .map(|i| doc! {"_id": i, "email": format!("u{i}@x")})
            .collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    c.update_one(doc! {"_id": 1}, doc! {"$set": {"name": "one"}})
        .await
        .unwrap();
    c.delete_one(doc! {"_id": 2}).await.unwrap();
    client
        .database("gone")
        .collection::<Document>("x")
        .insert_one(doc! {})
        .await
        .unwrap();
    client.database("gone").drop().await.unwrap();
    client
        .database("app")
        .collection::<Document>("tmp")
        .insert_one(doc! {"t": 1})
        .await
        .unwrap();
    client
        .database("admin")
        .run_command(doc! {"renameCollection": "app.tmp", "to": "app.moved"})
        .await
        .unwrap();
    // A second server on the same dbpath is refused while the first runs.
    match Server::start(ServerOptions::default().dbpath(dir.path())).await {
        Err(Error::DbPathInUse(p)) => assert_eq!(p, dir.path()),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("second server must not open a locked dbpath"),
    }
    server.shutdown().await.unwrap();

    let server = Server::start(ServerOptions::default().dbpath(dir.path()))
        .await
        .unwrap();
    let client = client_for(&server.uri()).await;
    let c = client.database("app").collection::<Document>("users");
    assert_eq!(c.count_documents(doc! {}).await.unwrap(), 49);
    assert_eq!(
        c.find_one(doc! {"_id": 1})
            .await
            .unwrap()
            .unwrap()
            .get_str("name")
            .unwrap(),
        "one"
    );
    assert!(c.find_one(doc! {"_id": 2}).await.unwrap().is_none());
    assert_eq!(c.list_index_names().await.unwrap(), vec!["_id_", "email_1"]);
    let e = c.insert_one(doc! {"email": "u3@x"}).await.unwrap_err();
    assert!(e.to_string().contains("E11000"));
    assert!(!client
        .list_database_names()
        .await
        .unwrap()
        .contains(&"gone".to_string()));
    let mut names = client
        .database("app")
        .list_collection_names()
        .await
        .unwrap();
    names.sort();
    assert_eq!(names, vec!["moved", "users"]);
    server.shutdown().await.unwrap();
}

/// Spawns the binary on a free port and waits (bounded) for its "listening on" line.
async fn spawn_binary(dbpath: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mongo-embedded"))
        .args(["--port", "0", "--dbpath"])
        .arg(dbpath)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let addr = line.strip_prefix("listening on ").unwrap().to_string();
    (child, format!("mongodb://{addr}/"))
}

#[tokio::test]
async fn kill_9_recovers_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, uri) = spawn_binary(dir.path()).await;
    let client = client_for(&uri).await;
    let c = client.database("app").collection::<Document>("events");
    c.create_index(
        IndexModel::builder()
            .keys(doc! {"k": 1})
            .options(IndexOptions::builder().unique(true).build())
            .build(),
    )
    .await
    .unwrap();
    let mut acked = Vec::new();
    for i in 0..200 {
        c.insert_one(doc! {"_id": i, "k": i}).await.unwrap();
        acked.push(i);
    }
    c.update_many(doc! {"_id": {"$lt": 10}}, doc! {"$set": {"touched": true}})
        .await
        .unwrap();
    c.delete_one(doc! {"_id": 199}).await.unwrap();
    // Concurrent writers share fsyncs; all of them are acknowledged before the kill.
    let mut tasks = Vec::new();
    for t in 0..8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            for j in 0..10 {
                c.insert_one(doc! {"_id": 1000 + t * 10 + j, "k": 1000 + t * 10 + j})
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let app = client.database("app");
    app.run_command(doc! {"collMod": "events", "index": {"name": "k_1", "hidden": true}})
        .await
        .unwrap();
    app.collection::<Document>("tmp")
        .insert_one(doc! {"t": 1})
        .await
        .unwrap();
    client
        .database("admin")
        .run_command(doc! {"renameCollection": "app.tmp", "to": "app.moved", "dropTarget": true})
        .await
        .unwrap();
    child.kill().await.unwrap(); // SIGKILL
    drop(client);
    // Simulate a torn final record: garbage after the last complete record.
    let mut j = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("journal.bin"))
        .unwrap();
    j.write_all(&[0x40, 0, 0, 0, 1, 2, 3]).unwrap();
    drop(j);

    let (mut child, uri) = spawn_binary(dir.path()).await;
    let client = client_for(&uri).await;
    let c = client.database("app").collection::<Document>("events");
    assert_eq!(c.count_documents(doc! {}).await.unwrap(), 199 + 80);
    assert_eq!(c.count_documents(doc! {"touched": true}).await.unwrap(), 10);
    assert!(c.find_one(doc! {"_id": 199}).await.unwrap().is_none());
    let ids: Vec<Document> = c
        .find(doc! {"_id": {"$lt": 199}})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids.len(), 199);
    assert_eq!(c.list_index_names().await.unwrap(), vec!["_id_", "k_1"]);
    let mut names = client
        .database("app")
        .list_collection_names()
        .await
        .unwrap();
    names.sort();
    assert_eq!(names, vec!["events", "moved"]);
    let idx = client
        .database("app")
        .run_command(doc! {"listIndexes": "events"})
        .await
        .unwrap();
    let k = idx
        .get_document("cursor")
        .unwrap()
        .get_array("firstBatch")
        .unwrap()[1]
        .as_document()
        .unwrap()
        .clone();
    assert!(k.get_bool("hidden").unwrap());
    assert!(k.get_bool("unique").unwrap());

    // A second process on the same dbpath fails with a clear message.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mongo-embedded"))
        .args(["--port", "0", "--dbpath"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is in use by another mongo-embedded process"),
        "stderr: {err}"
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn concurrent_mixed_writes_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerOptions::default().dbpath(dir.path()))
        .await
        .unwrap();
    let client = client_for(&server.uri()).await;
    let c = client.database("app").collection::<Document>("mixed");
    let mut tasks = Vec::new();
    for t in 0..8i32 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            // Each task owns ids t*1000.. so the expected end state is known.
            for i in 0..60 {
                let id = t * 1000 + i;
                c.insert_one(doc! {"_id": id, "v": 0}).await.unwrap();
                if i % 3 == 0 {
                    c.update_one(doc! {"_id": id}, doc! {"$inc": {"v": 5}})
                        .await
                        .unwrap();
                }
                if i % 5 == 0 {
                    c.delete_one(doc! {"_id": id}).await.unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Drop the handle without a clean shutdown: only the journal holds the writes.
    drop(client);
    drop(server);
    let reopened = loop_until_reopened(dir.path()).await;
    let client = client_for(&reopened.uri()).await;
    let c = client.database("app").collection::<Document>("mixed");
    // Per task: 60 inserted, 12 deleted (i % 5 == 0); of the rest, i % 3 == 0 got v = 5.
    assert_eq!(c.count_documents(doc! {}).await.unwrap(), 8 * 48);
    assert_eq!(c.count_documents(doc! {"v": 5}).await.unwrap(), 8 * 16);
    reopened.shutdown().await.unwrap();
}

/// The dropped server releases its lock once its tasks wind down; retry a bounded number of times.
async fn loop_until_reopened(dir: &std::path::Path) -> mongo_embedded::ServerHandle {
    for _ in 0..200 {
        match Server::start(ServerOptions::default().dbpath(dir)).await {
            Ok(s) => return s,
            Err(Error::DbPathInUse(_)) => tokio::time::sleep(Duration::from_millis(25)).await,
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    panic!("dbpath lock was never released");
}
