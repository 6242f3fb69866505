//! JWT issue and verify (HS256) with the production claim set and validation.
//!
//! `CARGO_TARGET_DIR=/work/target-bench cargo bench -p altrion-auth --bench tokens`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use altrion_auth::{TokenService, TokenSettings};
use altrion_domain::{DisplayName, Email, PasswordHash, Provider, User, UserId};
use criterion::{criterion_group, criterion_main, Criterion};
use secrecy::SecretString;
use time::OffsetDateTime;

fn user() -> User {
    let now = OffsetDateTime::now_utc();
    User {
        id: UserId::new("65f1c0a1b2c3d4e5f6a7b8c9"),
        name: DisplayName::parse("Ada Lovelace").unwrap(),
        email: Email::parse("ada@example.com").unwrap(),
        email_verified: false,
        password_hash: Some(PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$x$y")),
        provider: Provider::Local,
        identities: Vec::new(),
        avatar_url: None,
        token_version: 3,
        failed_logins: 0,
        locked_until: None,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    }
}

fn tokens(c: &mut Criterion) {
    let service = TokenService::new(&TokenSettings::with_secret(SecretString::from(
        "bench-only-jwt-secret-0123456789abcdef0123456789",
    )))
    .unwrap();
    let user = user();
    let token = service
        .issue(&user, OffsetDateTime::now_utc())
        .unwrap()
        .token;
    let mut group = c.benchmark_group("jwt");
    group.bench_function("issue", |b| {
        b.iter(|| {
            service
                .issue(black_box(&user), OffsetDateTime::now_utc())
                .unwrap()
        })
    });
    group.bench_function("verify", |b| {
        b.iter(|| service.verify(black_box(&token)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, tokens);
criterion_main!(benches);
