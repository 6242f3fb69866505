use crate::{code_of, start, start_with};
use futures_util::TryStreamExt;
use mongo_embedded::ServerOptions;
use mongodb::bson::{doc, Bson, DateTime, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;
use std::time::Duration;

fn unique(keys: Document) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(IndexOptions::builder().unique(true).build())
        .build()
}

#[tokio::test]
async fn create_list_drop_and_conflicts() {
    let env = start().await;
    let c = env.db.collection::<Document>("ix");
    let r = c.create_index(unique(doc! {"email": 1})).await.unwrap();
    assert_eq!(r.index_name, "email_1");
    // Same definition again: no-op success.
    c.create_index(unique(doc! {"email": 1})).await.unwrap();
    c.create_index(IndexModel::builder().keys(doc! {"a": 1, "b": -1}).build())
        .await
        .unwrap();
    let names = c.list_index_names().await.unwrap();
    assert_eq!(names, vec!["_id_", "email_1", "a_1_b_-1"]);
    let specs: Vec<mongodb::IndexModel> =
        c.list_indexes().await.unwrap().try_collect().await.unwrap();
    assert_eq!(specs.len(), 3);
    // Same key, different options → 85.
    let e = c
        .create_index(IndexModel::builder().keys(doc! {"email": 1}).build())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(85));
    // Same name, different key → 86.
    let opts = IndexOptions::builder().name("email_1".to_string()).build();
    let e = c
        .create_index(
            IndexModel::builder()
                .keys(doc! {"other": 1})
                .options(opts)
                .build(),
        )
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(86));
    let e = c.drop_index("nope").await.unwrap_err();
    assert_eq!(code_of(&e), Some(27));
    let e = c.drop_index("_id_").await.unwrap_err();
    assert_eq!(code_of(&e), Some(72));
    c.drop_index("email_1").await.unwrap();
    assert_eq!(
        c.list_index_names().await.unwrap(),
        vec!["_id_", "a_1_b_-1"]
    );
    env.db
        .run_command(doc! {"dropIndexes": "ix", "index": {"a": 1, "b": -1}})
        .await
        .unwrap();
    c.create_index(IndexModel::builder().keys(doc! {"z": 1}).build())
        .await
        .unwrap();
    c.drop_indexes().await.unwrap();
    assert_eq!(c.list_index_names().await.unwrap(), vec!["_id_"]);
    let raw = env
        .db
        .run_command(doc! {"listIndexes": "ix"})
        .await
        .unwrap();
    let first = raw
        .get_document("cursor")
        .unwrap()
        .get_array("firstBatch")
        .unwrap()[0]
        .as_document()
        .unwrap()
        .clone();
    assert_eq!(first, doc! {"v": 2, "key": {"_id": 1}, "name": "_id_"});
    let e = env
        .db
        .run_command(doc! {"listIndexes": "missing"})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(26));
}

#[tokio::test]
async fn duplicate_key_error_shape() {
    let env = start().await;
    let c = env.db.collection::<Document>("users");
    c.create_index(unique(doc! {"email": 1})).await.unwrap();
    c.insert_one(doc! {"email": "a@b.c"}).await.unwrap();
    let e = c.insert_one(doc! {"email": "a@b.c"}).await.unwrap_err();
    let ErrorKind::Write(WriteFailure::WriteError(w)) = &*e.kind else {
        panic!("unexpected {e:?}")
    };
    assert_eq!(w.code, 11000);
    let ns = format!("{}.users", env.db.name());
    assert_eq!(w.message, format!("E11000 duplicate key error collection: {ns} index: email_1 dup key: {{ email: \"a@b.c\" }}"));
    // Updates and upserts are checked too.
    c.insert_one(doc! {"email": "other"}).await.unwrap();
    let e = c
        .update_one(doc! {"email": "other"}, doc! {"$set": {"email": "a@b.c"}})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(11000));
    let e = c
        .update_one(doc! {"x": 1}, doc! {"$set": {"email": "a@b.c"}})
        .upsert(true)
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(11000));
    // findAndModify reports it as a command error with keyPattern/keyValue.
    let raw = env
        .db
        .run_command(doc! {"findAndModify": "users", "query": {"email": "other"}, "update": {"$set": {"email": "a@b.c"}}})
        .await
        .unwrap_err();
    let ErrorKind::Command(ce) = &*raw.kind else {
        panic!("unexpected {raw:?}")
    };
    assert_eq!(ce.code, 11000);
    // A unique index cannot be built over existing duplicates.
    // (missing fields index as null, so a second email-less document is a duplicate too)
    let e = c
        .insert_many(vec![doc! {"n": 1}, doc! {"n": 1}])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("dup key: { email: null }"));
    let c2 = env.db.collection::<Document>("users2");
    c2.insert_many(vec![doc! {"n": 1}, doc! {"n": 1}])
        .await
        .unwrap();
    let e = c2.create_index(unique(doc! {"n": 1})).await.unwrap_err();
    assert_eq!(code_of(&e), Some(11000));
    // Duplicate _id.
    let e = c2
        .insert_one(doc! {"_id": 5})
        .await
        .and(c2.insert_one(doc! {"_id": 5}).await)
        .unwrap_err();
    assert!(e.to_string().contains("index: _id_ dup key: { _id: 5 }"));
}

#[tokio::test]
async fn concurrent_unique_inserts_one_winner() {
    let env = start().await;
    let c = env.db.collection::<Document>("race");
    c.create_index(unique(doc! {"email": 1})).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.insert_one(doc! {"email": "same@x", "who": i})
                .await
                .is_ok()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await.unwrap() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(
        c.count_documents(doc! {"email": "same@x"}).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn sparse_partial_and_index_lookup() {
    let env = start().await;
    let c = env.db.collection::<Document>("sp");
    c.create_index(
        IndexModel::builder()
            .keys(doc! {"u": 1})
            .options(IndexOptions::builder().unique(true).sparse(true).build())
            .build(),
    )
    .await
    .unwrap();
    c.insert_many(vec![doc! {"a": 1}, doc! {"a": 2}])
        .await
        .unwrap();
    c.create_index(
        IndexModel::builder()
            .keys(doc! {"p": 1})
            .options(
                IndexOptions::builder()
                    .unique(true)
                    .partial_filter_expression(doc! {"active": true})
                    .build(),
            )
            .build(),
    )
    .await
    .unwrap();
    c.insert_many(vec![
        doc! {"p": 1, "active": false},
        doc! {"p": 1, "active": false},
        doc! {"p": 1, "active": true},
    ])
    .await
    .unwrap();
    let e = c
        .insert_one(doc! {"p": 1, "active": true})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(11000));
    c.create_index(IndexModel::builder().keys(doc! {"k": 1}).build())
        .await
        .unwrap();
    c.insert_many((0..1000).map(|i| doc! {"k": i}).collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(
        c.count_documents(doc! {"k": {"$gte": 990}}).await.unwrap(),
        10
    );
    assert_eq!(
        c.count_documents(doc! {"k": {"$in": [1, 2, 3000]}})
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        c.find_one(doc! {"k": 500})
            .await
            .unwrap()
            .unwrap()
            .get_i32("k")
            .unwrap(),
        500
    );
}

#[tokio::test]
async fn ttl_pass_removes_expired_documents() {
    let env = start_with(ServerOptions::default().ttl_interval(Duration::from_secs(3600))).await;
    let c = env.db.collection::<Document>("sessions");
    c.create_index(
        IndexModel::builder()
            .keys(doc! {"expiresAt": 1})
            .options(
                IndexOptions::builder()
                    .expire_after(Duration::from_secs(60))
                    .build(),
            )
            .build(),
    )
    .await
    .unwrap();
    let now = DateTime::now().timestamp_millis();
    c.insert_many(vec![
        doc! {"_id": 1, "expiresAt": DateTime::from_millis(now - 120_000)},
        doc! {"_id": 2, "expiresAt": DateTime::from_millis(now)},
        doc! {"_id": 3, "expiresAt": [DateTime::from_millis(now + 3_600_000), DateTime::from_millis(now - 100_000)]},
        doc! {"_id": 4, "expiresAt": "not a date"},
        doc! {"_id": 5},
    ])
    .await
    .unwrap();
    let removed = env.server.run_ttl_pass().await.unwrap();
    assert_eq!(removed, 2);
    let left: Vec<Document> = c.find(doc! {}).await.unwrap().try_collect().await.unwrap();
    let left: Vec<Bson> = left.iter().map(|d| d.get("_id").unwrap().clone()).collect();
    assert_eq!(left, vec![Bson::Int32(2), Bson::Int32(4), Bson::Int32(5)]);
    let later = DateTime::from_millis(now + 61_000);
    assert_eq!(env.server.run_ttl_pass_at(later).await.unwrap(), 1);
    assert_eq!(c.count_documents(doc! {}).await.unwrap(), 2);
    let specs = env
        .db
        .run_command(doc! {"listIndexes": "sessions"})
        .await
        .unwrap();
    let batch = specs
        .get_document("cursor")
        .unwrap()
        .get_array("firstBatch")
        .unwrap();
    assert_eq!(
        batch[1]
            .as_document()
            .unwrap()
            .get_i32("expireAfterSeconds")
            .unwrap(),
        60
    );
}

#[tokio::test]
async fn injected_clock_drives_ttl_and_current_date() {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;
    let now = Arc::new(AtomicI64::new(1_000_000_000_000));
    let clock_now = now.clone();
    let clock: mongo_embedded::Clock =
        Arc::new(move || DateTime::from_millis(clock_now.load(Ordering::SeqCst)));
    let env = start_with(
        ServerOptions::default()
            .clock(clock)
            .ttl_interval(Duration::from_secs(3600)),
    )
    .await;
    let c = env.db.collection::<Document>("clocked");
    c.create_index(
        IndexModel::builder()
            .keys(doc! {"at": 1})
            .options(
                IndexOptions::builder()
                    .expire_after(Duration::from_secs(0))
                    .build(),
            )
            .build(),
    )
    .await
    .unwrap();
    c.insert_one(doc! {"_id": 1}).await.unwrap();
    c.update_one(doc! {"_id": 1}, doc! {"$currentDate": {"at": true}})
        .await
        .unwrap();
    let d = c.find_one(doc! {}).await.unwrap().unwrap();
    assert_eq!(
        d.get_datetime("at").unwrap().timestamp_millis(),
        1_000_000_000_000
    );
    // Clock one second earlier than the stored date: nothing expires.
    now.store(999_999_999_000, Ordering::SeqCst);
    assert_eq!(env.server.run_ttl_pass().await.unwrap(), 0);
    now.store(1_000_000_000_000, Ordering::SeqCst);
    assert_eq!(env.server.run_ttl_pass().await.unwrap(), 1);
    assert_eq!(c.count_documents(doc! {}).await.unwrap(), 0);
}

#[tokio::test]
async fn ttl_monitor_runs_on_its_interval() {
    let env = start_with(ServerOptions::default().ttl_interval(Duration::from_millis(20))).await;
    let c = env.db.collection::<Document>("auto");
    c.create_index(
        IndexModel::builder()
            .keys(doc! {"exp": 1})
            .options(
                IndexOptions::builder()
                    .expire_after(Duration::from_secs(0))
                    .build(),
            )
            .build(),
    )
    .await
    .unwrap();
    c.insert_one(doc! {"exp": DateTime::from_millis(0)})
        .await
        .unwrap();
    // Bounded poll: the background monitor must remove it within 5 s.
    let mut gone = false;
    for _ in 0..250 {
        if c.count_documents(doc! {}).await.unwrap() == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "TTL monitor did not remove the expired document");
}

#[tokio::test]
async fn compound_index_prefix_lookups_return_exact_results() {
    let env = start().await;
    let c = env.db.collection::<Document>("compound");
    c.create_index(
        IndexModel::builder()
            .keys(doc! {"user": 1, "at": -1})
            .build(),
    )
    .await
    .unwrap();
    let docs: Vec<Document> = (0..300)
        .map(|i| doc! {"user": format!("u{}", i % 3), "at": i, "tags": ["t"]})
        .collect();
    c.insert_many(docs).await.unwrap();
    c.insert_one(doc! {"user": "u1", "at": [1000, 1001]})
        .await
        .unwrap();
    c.insert_one(doc! {"at": 5}).await.unwrap();
    assert_eq!(c.count_documents(doc! {"user": "u1"}).await.unwrap(), 101);
    assert_eq!(
        c.count_documents(doc! {"user": "u1", "at": {"$gte": 290}})
            .await
            .unwrap(),
        4
    );
    assert_eq!(c.count_documents(doc! {"user": "u9"}).await.unwrap(), 0);
    assert_eq!(
        c.count_documents(doc! {"user": Bson::Null}).await.unwrap(),
        1
    );
    let latest: Vec<Document> = c
        .find(doc! {"user": "u2"})
        .sort(doc! {"at": -1})
        .limit(2)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(latest[0].get_i32("at").unwrap(), 299);
    assert_eq!(latest[1].get_i32("at").unwrap(), 296);
    c.update_many(doc! {"user": "u0"}, doc! {"$set": {"user": "u2"}})
        .await
        .unwrap();
    assert_eq!(c.count_documents(doc! {"user": "u2"}).await.unwrap(), 200);
    assert_eq!(c.count_documents(doc! {"user": "u0"}).await.unwrap(), 0);
}

#[tokio::test]
async fn concurrent_upserts_create_one_document() {
    let env = start().await;
    let c = env.db.collection::<Document>("upserts");
    c.create_index(unique(doc! {"email": 1})).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.update_one(
                doc! {"email": "u@x"},
                doc! {"$inc": {"n": 1}, "$setOnInsert": {"created": true}},
            )
            .upsert(true)
            .await
            .unwrap()
            .upserted_id
            .is_some()
        }));
    }
    let mut inserted = 0;
    for t in tasks {
        if t.await.unwrap() {
            inserted += 1;
        }
    }
    assert_eq!(inserted, 1);
    let all: Vec<Document> = c.find(doc! {}).await.unwrap().try_collect().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].get_i32("n").unwrap(), 16);
    assert!(all[0].get_bool("created").unwrap());
}

#[tokio::test]
async fn counters_show_whether_queries_used_an_index() {
    let env = start().await;
    let c = env.db.collection::<Document>("plan");
    c.create_index(unique(doc! {"email": 1})).await.unwrap();
    c.insert_many(
        (0..100)
            .map(|i| doc! {"_id": i, "email": format!("e{i}"), "n": i})
            .collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    let before = env.server.counters();
    c.find_one(doc! {"email": "e42"}).await.unwrap().unwrap();
    c.find_one(doc! {"_id": 7}).await.unwrap().unwrap();
    c.update_one(doc! {"email": "e1"}, doc! {"$set": {"x": 1}})
        .await
        .unwrap();
    let mid = env.server.counters();
    assert_eq!(mid.index_scans - before.index_scans, 3);
    assert_eq!(mid.collection_scans, before.collection_scans);
    assert_eq!(mid.docs_examined - before.docs_examined, 3);
    c.find_one(doc! {"n": 42}).await.unwrap().unwrap();
    let after = env.server.counters();
    assert_eq!(after.collection_scans - mid.collection_scans, 1);
    assert_eq!(after.docs_examined - mid.docs_examined, 100);
    let status = env.db.run_command(doc! {"serverStatus": 1}).await.unwrap();
    let qe = status
        .get_document("metrics")
        .unwrap()
        .get_document("queryExecutor")
        .unwrap();
    assert_eq!(
        qe.get_document("collectionScans")
            .unwrap()
            .get_i64("total")
            .unwrap(),
        after.collection_scans as i64
    );
}

#[tokio::test]
async fn coll_mod_changes_ttl_and_hides_indexes() {
    let env = start().await;
    let c = env.db.collection::<Document>("cm");
    c.create_index(
        IndexModel::builder()
            .keys(doc! {"at": 1})
            .options(
                IndexOptions::builder()
                    .expire_after(Duration::from_secs(3600))
                    .build(),
            )
            .build(),
    )
    .await
    .unwrap();
    c.create_index(unique(doc! {"email": 1})).await.unwrap();
    let now = DateTime::now().timestamp_millis();
    c.insert_one(doc! {"email": "a", "at": DateTime::from_millis(now - 100_000)})
        .await
        .unwrap();
    assert_eq!(env.server.run_ttl_pass().await.unwrap(), 0);
    let r = env
        .db
        .run_command(
            doc! {"collMod": "cm", "index": {"keyPattern": {"at": 1}, "expireAfterSeconds": 10}},
        )
        .await
        .unwrap();
    assert_eq!(r.get_i64("expireAfterSeconds_old").unwrap(), 3600);
    assert_eq!(r.get_i64("expireAfterSeconds_new").unwrap(), 10);
    assert_eq!(env.server.run_ttl_pass().await.unwrap(), 1);
    c.insert_one(doc! {"email": "b"}).await.unwrap();
    let r = env
        .db
        .run_command(doc! {"collMod": "cm", "index": {"name": "email_1", "hidden": true}})
        .await
        .unwrap();
    assert!(r.get_bool("hidden_new").unwrap());
    let before = env.server.counters();
    c.find_one(doc! {"email": "b"}).await.unwrap().unwrap();
    assert_eq!(
        env.server.counters().collection_scans - before.collection_scans,
        1
    );
    // A hidden unique index still enforces uniqueness.
    let e = c.insert_one(doc! {"email": "b"}).await.unwrap_err();
    assert_eq!(code_of(&e), Some(11000));
    let e = env
        .db
        .run_command(doc! {"collMod": "cm", "index": {"name": "nope", "hidden": true}})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(27));
    let e = env
        .db
        .run_command(doc! {"collMod": "cm", "validator": {}})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(2));
}

#[tokio::test]
async fn hints_must_name_an_existing_index() {
    let env = start().await;
    let c = env.db.collection::<Document>("hinted");
    c.create_index(IndexModel::builder().keys(doc! {"a": 1}).build())
        .await
        .unwrap();
    c.insert_one(doc! {"a": 1}).await.unwrap();
    assert!(c
        .find_one(doc! {"a": 1})
        .hint(mongodb::options::Hint::Name("a_1".into()))
        .await
        .unwrap()
        .is_some());
    assert!(c
        .find_one(doc! {})
        .hint(mongodb::options::Hint::Keys(doc! {"_id": 1}))
        .await
        .unwrap()
        .is_some());
    let e = c
        .find_one(doc! {})
        .hint(mongodb::options::Hint::Name("zzz".into()))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(2));
    let e = c
        .count_documents(doc! {})
        .hint(mongodb::options::Hint::Keys(doc! {"b": 1}))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(2));
    let e = c
        .update_one(doc! {}, doc! {"$set": {"x": 1}})
        .hint(mongodb::options::Hint::Name("zzz".into()))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(2));
}
