//! argon2id hash and verify at the production parameters (m = 19456 KiB, t = 2, p = 1), through
//! `PasswordHasher` as the login path uses it (tokio blocking pool, concurrency cap).
//!
//! `CARGO_TARGET_DIR=/work/target-bench cargo bench -p altrion-auth --bench passwords`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{hint::black_box, time::Duration};

use altrion_auth::{Argon2Settings, PasswordHasher};
use altrion_domain::{Email, Password};
use criterion::{criterion_group, criterion_main, Criterion};

fn passwords(c: &mut Criterion) {
    let settings = Argon2Settings {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
        max_concurrent: 1,
    };
    let hasher = PasswordHasher::new(&settings).unwrap();
    assert_eq!(hasher.params(), (19_456, 2, 1), "production parameters");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let email = Email::parse("ada@example.com").unwrap();
    let password = Password::new("correct horse battery staple".to_owned(), &email).unwrap();
    let hash = runtime.block_on(hasher.hash(&password)).unwrap();

    let mut group = c.benchmark_group("argon2id_m19456_t2_p1");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("hash", |b| {
        b.to_async(&runtime)
            .iter(|| async { hasher.hash(black_box(&password)).await.unwrap() })
    });
    group.bench_function("verify", |b| {
        b.to_async(&runtime).iter(|| async {
            let verified = hasher
                .verify(black_box("correct horse battery staple"), &hash)
                .await
                .unwrap();
            assert!(verified.is_valid());
        })
    });
    group.finish();
}

criterion_group!(benches, passwords);
criterion_main!(benches);
