//! `RepositorySessionStore::load` and `update_ttl` on the in-memory fake and on mongo-embedded
//! (in memory, over loopback TCP through the official driver), inside the lazy-touch window
//! (the common case: a signed-in browser's request) and with a zero window (every touch writes).
//!
//! `CARGO_TARGET_DIR=/work/target-bench cargo bench -p altrion-session --bench store`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{collections::HashMap, hint::black_box, sync::Arc};

use actix_session::storage::{SessionKey, SessionStore};
use altrion_domain::{SessionRepository, SystemClock};
use altrion_session::{RepositorySessionStore, USER_ID_KEY};
use altrion_storage::{
    memory::MemorySessionRepository,
    mongo::{MongoSessionRepository, MongoStores},
    MongoOptions,
};
use criterion::{criterion_group, criterion_main, Criterion};
use time::Duration;

const TTL: Duration = Duration::hours(24);

fn store(repository: Arc<dyn SessionRepository>, touch_after: Duration) -> RepositorySessionStore {
    RepositorySessionStore::new(repository, Arc::new(SystemClock), touch_after)
}

async fn signed_in(store: &RepositorySessionStore) -> SessionKey {
    let state = HashMap::from([(
        USER_ID_KEY.to_owned(),
        "\"65f1c0a1b2c3d4e5f6a7b8c9\"".to_owned(),
    )]);
    store.save(state, &TTL).await.unwrap()
}

fn bench_backend(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    repository: Arc<dyn SessionRepository>,
) {
    let within = store(repository.clone(), Duration::hours(1));
    let always = store(repository, Duration::ZERO);
    let key = runtime.block_on(signed_in(&within));
    assert!(runtime.block_on(within.load(&key)).unwrap().is_some());
    let mut group = c.benchmark_group(format!("session_store/{name}"));
    group.bench_function("load", |b| {
        b.to_async(runtime)
            .iter(|| async { within.load(black_box(&key)).await.unwrap().unwrap() })
    });
    group.bench_function("update_ttl (inside the touch window)", |b| {
        b.to_async(runtime)
            .iter(|| async { within.update_ttl(black_box(&key), &TTL).await.unwrap() })
    });
    group.bench_function("update_ttl (window passed: writes)", |b| {
        b.to_async(runtime)
            .iter(|| async { always.update_ttl(black_box(&key), &TTL).await.unwrap() })
    });
    group.finish();
}

fn sessions(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    bench_backend(
        c,
        &runtime,
        "memory",
        Arc::new(MemorySessionRepository::new()),
    );

    let server = runtime
        .block_on(mongo_embedded::Server::start(
            mongo_embedded::ServerOptions::default(),
        ))
        .unwrap();
    let uri = format!("mongodb://{}/?directConnection=true", server.local_addr());
    let stores: MongoStores = runtime
        .block_on(altrion_storage::open(&MongoOptions::new(
            uri,
            "altrion_bench",
        )))
        .unwrap();
    runtime.block_on(stores.migrate()).unwrap();
    let repository = Arc::new(MongoSessionRepository::new(stores.database()));
    bench_backend(c, &runtime, "mongo-embedded", repository);
    runtime.block_on(server.shutdown()).unwrap();
}

criterion_group!(benches, sessions);
criterion_main!(benches);
