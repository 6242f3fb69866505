use crate::{code_of, start};
use mongodb::bson::{doc, Document};

#[tokio::test]
async fn hello_and_server_info() {
    let env = start().await;
    let admin = env.client.database("admin");
    let h = admin.run_command(doc! {"hello": 1}).await.unwrap();
    assert!(h.get_bool("isWritablePrimary").unwrap());
    assert!(!h.contains_key("setName"));
    assert_eq!(h.get_i32("maxWireVersion").unwrap(), 21);
    assert_eq!(h.get_i32("minWireVersion").unwrap(), 0);
    assert_eq!(h.get_i32("maxBsonObjectSize").unwrap(), 16 * 1024 * 1024);
    assert_eq!(h.get_i32("maxMessageSizeBytes").unwrap(), 48_000_000);
    assert_eq!(h.get_i32("maxWriteBatchSize").unwrap(), 100_000);
    assert_eq!(h.get_i32("logicalSessionTimeoutMinutes").unwrap(), 30);
    assert!(h.get_i32("connectionId").unwrap() > 0);
    assert!(h.get_datetime("localTime").is_ok());
    let m = admin.run_command(doc! {"isMaster": 1}).await.unwrap();
    assert!(m.get_bool("ismaster").unwrap());
    admin.run_command(doc! {"ping": 1}).await.unwrap();
    let b = admin.run_command(doc! {"buildInfo": 1}).await.unwrap();
    assert_eq!(b.get_str("version").unwrap(), "7.0.0-embedded");
    assert_eq!(b.get_array("versionArray").unwrap().len(), 4);
    let p = admin
        .run_command(doc! {"getParameter": 1, "featureCompatibilityVersion": 1})
        .await
        .unwrap();
    assert_eq!(
        p.get_document("featureCompatibilityVersion")
            .unwrap()
            .get_str("version")
            .unwrap(),
        "7.0"
    );
    let e = admin
        .run_command(doc! {"getParameter": 1, "noSuchParam": 1})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(72));
    let l = admin
        .run_command(doc! {"getLog": "startupWarnings"})
        .await
        .unwrap();
    assert_eq!(l.get_array("log").unwrap().len(), 0);
    assert!(admin
        .run_command(doc! {"hostInfo": 1})
        .await
        .unwrap()
        .get_document("system")
        .is_ok());
    assert!(admin
        .run_command(doc! {"connectionStatus": 1})
        .await
        .unwrap()
        .get_document("authInfo")
        .is_ok());
    let e = admin
        .run_command(doc! {"atlasVersion": 1})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(59));
    let e = env
        .db
        .run_command(doc! {"frobnicate": 1})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(59));
    assert!(e.to_string().contains("no such command: 'frobnicate'"));
    let e = env
        .db
        .run_command(doc! {"find": "c", "bogusOption": 1})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(40415));
    let e = env
        .db
        .run_command(
            doc! {"find": "c", "txnNumber": 1i64, "autocommit": false, "startTransaction": true},
        )
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(20));
    env.client
        .database("admin")
        .run_command(doc! {"endSessions": []})
        .await
        .unwrap();
    let e = env
        .db
        .run_command(doc! {"insert": "wc", "documents": [{}], "writeConcern": {"w": 2}})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(2));
    env.db
        .run_command(doc! {"insert": "wc", "documents": [{}], "writeConcern": {"w": "majority"}})
        .await
        .unwrap();
    let e = env
        .db
        .run_command(doc! {"delete": "wc", "deletes": [{"q": {}}]})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(40414));
}

#[tokio::test]
async fn server_status_counters() {
    let env = start().await;
    let c = env.db.collection::<Document>("cnt");
    let before = env.server.counters();
    c.insert_many(vec![doc! {"a": 1}, doc! {"a": 2}])
        .await
        .unwrap();
    c.find_one(doc! {"a": 1}).await.unwrap();
    c.update_one(doc! {"a": 1}, doc! {"$set": {"b": 1}})
        .await
        .unwrap();
    c.delete_one(doc! {"a": 2}).await.unwrap();
    let after = env.server.counters();
    assert_eq!(after.count("insert") - before.count("insert"), 1);
    assert_eq!(after.count("find") - before.count("find"), 1);
    assert_eq!(after.insert - before.insert, 2);
    // One request's worth of work: insert, find, update, delete.
    assert_eq!(after.database_commands() - before.database_commands(), 4);
    assert_eq!(after.update - before.update, 1);
    assert_eq!(after.delete - before.delete, 1);
    let s = env.db.run_command(doc! {"serverStatus": 1}).await.unwrap();
    let op = s.get_document("opcounters").unwrap();
    assert_eq!(op.get_i64("insert").unwrap(), 2);
    assert_eq!(op.get_i64("query").unwrap(), 1);
    assert!(
        s.get_document("connections")
            .unwrap()
            .get_i64("current")
            .unwrap()
            >= 1
    );
    let cmds = s
        .get_document("metrics")
        .unwrap()
        .get_document("commands")
        .unwrap();
    assert_eq!(
        cmds.get_document("find").unwrap().get_i64("total").unwrap(),
        1
    );
}

#[tokio::test]
async fn databases_and_collections() {
    let env = start().await;
    let db = &env.db;
    db.create_collection("a").await.unwrap();
    let e = db.create_collection("a").await.unwrap_err();
    assert_eq!(code_of(&e), Some(48));
    db.collection::<Document>("b")
        .insert_one(doc! {"x": 1})
        .await
        .unwrap();
    let mut names = db.list_collection_names().await.unwrap();
    names.sort();
    assert_eq!(names, vec!["a", "b"]);
    let only_b = db
        .list_collection_names()
        .filter(doc! {"name": "b"})
        .await
        .unwrap();
    assert_eq!(only_b, vec!["b"]);
    let raw = db
        .run_command(doc! {"listCollections": 1, "nameOnly": true, "authorizedCollections": true})
        .await
        .unwrap();
    assert_eq!(
        raw.get_document("cursor")
            .unwrap()
            .get_array("firstBatch")
            .unwrap()
            .len(),
        2
    );
    let specs: Vec<_> = {
        use futures_util::TryStreamExt;
        db.list_collections()
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap()
    };
    assert!(specs
        .iter()
        .all(|s| s.collection_type == mongodb::results::CollectionType::Collection));
    let dbs = env.client.list_database_names().await.unwrap();
    assert!(dbs.contains(&db.name().to_string()));
    let full = env.client.list_databases().await.unwrap();
    assert!(full.iter().any(|d| d.name == db.name()));
    let cs = db.run_command(doc! {"collStats": "b"}).await.unwrap();
    assert_eq!(cs.get_i64("count").unwrap(), 1);
    assert_eq!(cs.get_i32("nindexes").unwrap(), 1);
    let ds = db.run_command(doc! {"dbStats": 1}).await.unwrap();
    assert_eq!(ds.get_i64("collections").unwrap(), 2);
    assert_eq!(ds.get_i64("objects").unwrap(), 1);
    let missing = db.run_command(doc! {"collStats": "zzz"}).await.unwrap();
    assert_eq!(missing.get_i32("count").unwrap(), 0);
    assert_eq!(missing.get_i32("nindexes").unwrap(), 0);
    let e = db
        .collection::<Document>("bad$name")
        .insert_one(doc! {})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(73));
    db.collection::<Document>("a").drop().await.unwrap();
    db.collection::<Document>("never").drop().await.unwrap();
    assert_eq!(db.list_collection_names().await.unwrap(), vec!["b"]);
    let admin = env.client.database("admin");
    let from = format!("{}.b", db.name());
    let to = format!("{}.renamed", db.name());
    admin
        .run_command(doc! {"renameCollection": &from, "to": &to})
        .await
        .unwrap();
    assert_eq!(db.list_collection_names().await.unwrap(), vec!["renamed"]);
    let e = admin
        .run_command(doc! {"renameCollection": &from, "to": &to})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(26));
    let e = db
        .run_command(doc! {"renameCollection": &to, "to": &from})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(13));
    db.drop().await.unwrap();
    assert!(!env
        .client
        .list_database_names()
        .await
        .unwrap()
        .contains(&db.name().to_string()));
}
