//! Throughput benchmark through the official driver over loopback TCP.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-embedded cargo bench --bench driver_bench`
//! (add `-- --dbpath` to measure with the journal on a temporary directory).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mongo_embedded::{Server, ServerOptions};
use mongodb::bson::{doc, Document};
use mongodb::options::IndexOptions;
use mongodb::{Client, Collection, IndexModel};
use std::time::Instant;

const DOCS: i64 = 100_000;
const OPS: i64 = 5_000;

fn report(name: &str, n: i64, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{name:<38} {n:>7} ops {secs:>8.3} s {:>10.0} ops/s {:>8.1} µs/op",
        n as f64 / secs,
        secs * 1e6 / n as f64
    );
}

/// Cheap deterministic pseudo-random sequence (no extra dependency).
fn next(x: &mut u64) -> i64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    (*x % DOCS as u64) as i64
}

async fn run(c: &Collection<Document>) {
    let t = Instant::now();
    for i in 0..OPS {
        c.insert_one(doc! {"_id": DOCS + i, "email": format!("single{i}@example.com"), "n": i})
            .await
            .unwrap();
    }
    report("insert_one (single doc)", OPS, t);
    c.delete_many(doc! {}).await.unwrap();

    let t = Instant::now();
    for chunk in 0..(DOCS / 1000) {
        let docs: Vec<Document> = (chunk * 1000..(chunk + 1) * 1000)
            .map(|i| doc! {"_id": i, "email": format!("user{i}@example.com"), "n": i, "alt": i, "name": "benchmark user"})
            .collect();
        c.insert_many(docs).await.unwrap();
    }
    report("insert_many (1000/batch), docs", DOCS, t);

    let t = Instant::now();
    c.create_index(
        IndexModel::builder()
            .keys(doc! {"email": 1})
            .options(IndexOptions::builder().unique(true).build())
            .build(),
    )
    .await
    .unwrap();
    report("createIndex unique email (100k docs)", 1, t);

    let mut x = 0x2545_F491_4F6C_DD1D_u64;
    let t = Instant::now();
    for _ in 0..OPS {
        let id = next(&mut x);
        assert!(c.find_one(doc! {"_id": id}).await.unwrap().is_some());
    }
    report("find_one by _id", OPS, t);

    let t = Instant::now();
    for _ in 0..OPS {
        let id = next(&mut x);
        c.update_one(doc! {"_id": id}, doc! {"$inc": {"n": 1}})
            .await
            .unwrap();
    }
    report("update_one by _id ($inc)", OPS, t);

    let t = Instant::now();
    for _ in 0..OPS {
        let id = next(&mut x);
        assert!(c
            .find_one(doc! {"email": format!("user{id}@example.com")})
            .await
            .unwrap()
            .is_some());
    }
    report("find_one by indexed email", OPS, t);

    let t = Instant::now();
    for _ in 0..20 {
        let id = next(&mut x);
        assert!(c.find_one(doc! {"alt": id}).await.unwrap().is_some());
    }
    report("find_one unindexed (full scan)", 20, t);
}

#[tokio::main]
async fn main() {
    let persistent = std::env::args().any(|a| a == "--dbpath");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ServerOptions::default();
    if persistent {
        opts = opts.dbpath(dir.path());
    }
    let server = Server::start(opts).await.unwrap();
    let client = Client::with_uri_str(format!("{}?directConnection=true", server.uri()))
        .await
        .unwrap();
    let c = client.database("bench").collection::<Document>("users");
    println!("mongo-embedded driver benchmark (persistent: {persistent}, {DOCS} docs)");
    run(&c).await;
    let counters = server.counters();
    println!("server commands executed: {}", counters.total_commands());
    server.shutdown().await.unwrap();
}
