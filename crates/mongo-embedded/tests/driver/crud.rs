use crate::{code_of, start};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::options::ReturnDocument;

#[tokio::test]
async fn insert_find_update_delete_roundtrip() {
    let env = start().await;
    let c = env.db.collection::<Document>("users");
    let r = c.insert_one(doc! {"email": "a@b.c", "n": 1}).await.unwrap();
    assert!(r.inserted_id.as_object_id().is_some());
    c.insert_many(vec![doc! {"_id": 2, "n": 2}, doc! {"_id": 3, "n": 3}])
        .await
        .unwrap();
    let found = c.find_one(doc! {"email": "a@b.c"}).await.unwrap().unwrap();
    assert_eq!(found.get_i32("n").unwrap(), 1);
    let u = c
        .update_one(doc! {"_id": 2}, doc! {"$inc": {"n": 10}})
        .await
        .unwrap();
    assert_eq!((u.matched_count, u.modified_count), (1, 1));
    let u = c
        .update_many(doc! {}, doc! {"$set": {"flag": true}})
        .await
        .unwrap();
    assert_eq!((u.matched_count, u.modified_count), (3, 3));
    let u = c
        .update_many(doc! {}, doc! {"$set": {"flag": true}})
        .await
        .unwrap();
    assert_eq!((u.matched_count, u.modified_count), (3, 0));
    assert_eq!(
        c.find_one(doc! {"_id": 2})
            .await
            .unwrap()
            .unwrap()
            .get_i32("n")
            .unwrap(),
        12
    );
    let d = c.delete_one(doc! {"n": {"$gte": 2}}).await.unwrap();
    assert_eq!(d.deleted_count, 1);
    let d = c.delete_many(doc! {}).await.unwrap();
    assert_eq!(d.deleted_count, 2);
    assert_eq!(c.count_documents(doc! {}).await.unwrap(), 0);
}

#[tokio::test]
async fn upsert_with_set_on_insert() {
    let env = start().await;
    let c = env.db.collection::<Document>("u");
    let r = c
        .update_one(
            doc! {"email": "x@y.z"},
            doc! {"$setOnInsert": {"created": 1}, "$set": {"seen": 1}},
        )
        .upsert(true)
        .await
        .unwrap();
    assert!(r.upserted_id.is_some());
    assert_eq!(r.matched_count, 0);
    let d = c.find_one(doc! {}).await.unwrap().unwrap();
    assert_eq!(d.get_str("email").unwrap(), "x@y.z");
    assert_eq!(d.get_i32("created").unwrap(), 1);
    let r = c
        .update_one(
            doc! {"email": "x@y.z"},
            doc! {"$setOnInsert": {"created": 2}, "$set": {"seen": 2}},
        )
        .upsert(true)
        .await
        .unwrap();
    assert!(r.upserted_id.is_none());
    let d = c.find_one(doc! {}).await.unwrap().unwrap();
    assert_eq!(d.get_i32("created").unwrap(), 1);
    assert_eq!(d.get_i32("seen").unwrap(), 2);
    assert_eq!(c.count_documents(doc! {}).await.unwrap(), 1);
}

#[tokio::test]
async fn find_and_modify_variants() {
    let env = start().await;
    let c = env.db.collection::<Document>("fam");
    c.insert_many(vec![doc! {"_id": 1, "q": 5}, doc! {"_id": 2, "q": 1}])
        .await
        .unwrap();
    let before = c
        .find_one_and_update(doc! {}, doc! {"$inc": {"q": 1}})
        .sort(doc! {"q": 1})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before, doc! {"_id": 2, "q": 1});
    let after = c
        .find_one_and_update(doc! {"_id": 1}, doc! {"$set": {"q": 9}})
        .return_document(ReturnDocument::After)
        .projection(doc! {"_id": 0})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, doc! {"q": 9});
    let rep = c
        .find_one_and_replace(doc! {"_id": 1}, doc! {"r": true})
        .return_document(ReturnDocument::After)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rep, doc! {"_id": 1, "r": true});
    let up = c
        .find_one_and_update(doc! {"_id": 7}, doc! {"$set": {"new": 1}})
        .upsert(true)
        .return_document(ReturnDocument::After)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(up, doc! {"_id": 7, "new": 1});
    let del = c
        .find_one_and_delete(doc! {"_id": 2})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(del.get_i32("q").unwrap(), 2);
    assert!(c
        .find_one_and_delete(doc! {"_id": 2})
        .await
        .unwrap()
        .is_none());
    let err = c
        .find_one_and_update(doc! {}, doc! {"$bogus": {"a": 1}})
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(9));
}

#[tokio::test]
async fn ordered_and_unordered_insert_errors() {
    let env = start().await;
    let c = env.db.collection::<Document>("ins");
    let docs = vec![doc! {"_id": 1}, doc! {"_id": 1}, doc! {"_id": 2}];
    let err = c.insert_many(docs.clone()).await.unwrap_err();
    assert_eq!(code_of(&err), Some(11000));
    assert_eq!(c.count_documents(doc! {}).await.unwrap(), 1);
    let err = c
        .insert_many(vec![doc! {"_id": 1}, doc! {"_id": 3}])
        .ordered(false)
        .await
        .unwrap_err();
    match &*err.kind {
        mongodb::error::ErrorKind::InsertMany(m) => {
            let we = m.write_errors.as_ref().unwrap();
            assert_eq!(we.len(), 1);
            assert_eq!(we[0].index, 0);
            assert!(we[0].message.contains("E11000"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(c.count_documents(doc! {}).await.unwrap(), 2);
}

#[tokio::test]
async fn cursors_with_get_more_and_kill() {
    let env = start().await;
    let c = env.db.collection::<Document>("cur");
    let docs: Vec<Document> = (0..250).map(|i| doc! {"_id": i, "v": i % 7}).collect();
    c.insert_many(docs).await.unwrap();
    let all: Vec<Document> = c
        .find(doc! {})
        .batch_size(40)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 250);
    assert_eq!(all[249].get_i32("_id").unwrap(), 249);
    assert!(env.server.counters().count("getMore") >= 6);
    let mut cur = c.find(doc! {}).batch_size(10).await.unwrap();
    assert!(cur.advance().await.unwrap());
    drop(cur);
    let sorted: Vec<Document> = c
        .find(doc! {"v": {"$in": [1, 2]}})
        .sort(doc! {"v": -1, "_id": 1})
        .skip(3)
        .limit(5)
        .projection(doc! {"_id": 1})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sorted.len(), 5);
    assert_eq!(sorted[0], doc! {"_id": 23});
    assert_eq!(c.estimated_document_count().await.unwrap(), 250);
    assert_eq!(
        c.count_documents(doc! {"v": 3})
            .skip(2)
            .limit(10)
            .await
            .unwrap(),
        10
    );
    let d = c.distinct("v", doc! {}).await.unwrap();
    assert_eq!(d.len(), 7);
}

#[tokio::test]
async fn find_limits_batches_and_single_batch() {
    let env = start().await;
    let c = env.db.collection::<Document>("lim");
    c.insert_many((0..30).map(|i| doc! {"_id": i}).collect::<Vec<_>>())
        .await
        .unwrap();
    let r = env
        .db
        .run_command(doc! {"find": "lim", "limit": -3i64})
        .await
        .unwrap();
    let cur = r.get_document("cursor").unwrap();
    assert_eq!(cur.get_i64("id").unwrap(), 0);
    assert_eq!(cur.get_array("firstBatch").unwrap().len(), 3);
    let r = env
        .db
        .run_command(doc! {"find": "lim", "batchSize": 0})
        .await
        .unwrap();
    let cur = r.get_document("cursor").unwrap();
    assert_eq!(cur.get_array("firstBatch").unwrap().len(), 0);
    let id = cur.get_i64("id").unwrap();
    assert_ne!(id, 0);
    assert_eq!(cur.get_str("ns").unwrap(), format!("{}.lim", env.db.name()));
    let r = env
        .db
        .run_command(doc! {"getMore": id, "collection": "lim", "batchSize": 25})
        .await
        .unwrap();
    let cur = r.get_document("cursor").unwrap();
    assert_eq!(cur.get_array("nextBatch").unwrap().len(), 25);
    let r = env
        .db
        .run_command(doc! {"killCursors": "lim", "cursors": [id]})
        .await
        .unwrap();
    assert_eq!(r.get_array("cursorsKilled").unwrap().len(), 1);
    let e = env
        .db
        .run_command(doc! {"getMore": id, "collection": "lim"})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(43));
    let r = env
        .db
        .run_command(
            doc! {"find": "lim", "filter": {"_id": {"$in": [3, 1, 99]}}, "singleBatch": true},
        )
        .await
        .unwrap();
    assert_eq!(
        r.get_document("cursor")
            .unwrap()
            .get_array("firstBatch")
            .unwrap()
            .len(),
        2
    );
    let e = c.insert_one(doc! {"_id": [1, 2]}).await.unwrap_err();
    assert_eq!(code_of(&e), Some(53));
    c.create_index(
        mongodb::IndexModel::builder()
            .keys(doc! {"a": 1, "b": 1})
            .build(),
    )
    .await
    .unwrap();
    let e = c
        .insert_one(doc! {"a": [1, 2], "b": [3, 4]})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(171));
}
