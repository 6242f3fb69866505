#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::AtomicUsize;

use super::*;

/// How many operations run at once, and the most that ever did.
#[derive(Default)]
pub(super) struct Load {
    running: AtomicUsize,
    peak: AtomicUsize,
}

pub(super) struct Running<'a>(&'a Load);

impl Load {
    pub(super) fn enter(&self) -> Running<'_> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Running(self)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

fn cheap() -> Argon2Settings {
    Argon2Settings {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 2,
    }
}

fn password(raw: &str) -> Password {
    let email = altrion_domain::Email::parse("someone@example.com").unwrap();
    Password::new(raw.to_owned(), &email).unwrap()
}

#[test]
fn the_constructor_refuses_costs_below_the_production_floor() {
    for (settings, named) in [
        (
            Argon2Settings {
                memory_kib: 8,
                ..Argon2Settings::default()
            },
            "memory_kib",
        ),
        (
            Argon2Settings {
                iterations: 1,
                ..Argon2Settings::default()
            },
            "iterations",
        ),
    ] {
        match PasswordHasher::new(&settings) {
            Err(ConfigError::BelowFloor { setting, .. }) => assert_eq!(setting, named),
            other => panic!("{named}: expected BelowFloor, got {other:?}"),
        }
        assert!(
            PasswordHasher::insecure_fast(&settings).is_ok(),
            "tests may opt into {named} below the floor"
        );
    }
    assert!(PasswordHasher::new(&Argon2Settings::default()).is_ok());
}

#[test]
fn invalid_settings_name_the_setting() {
    let setting = |s: Argon2Settings| match PasswordHasher::insecure_fast(&s) {
        Err(ConfigError::Invalid { setting, .. }) => setting,
        other => panic!("expected an invalid setting, got {other:?}"),
    };
    let base = cheap();
    assert_eq!(
        setting(Argon2Settings {
            memory_kib: 4,
            ..base.clone()
        }),
        "memory_kib"
    );
    assert_eq!(
        setting(Argon2Settings {
            memory_kib: 15,
            parallelism: 2,
            ..base.clone()
        }),
        "memory_kib"
    );
    assert_eq!(
        setting(Argon2Settings {
            iterations: 0,
            ..base.clone()
        }),
        "iterations"
    );
    assert_eq!(
        setting(Argon2Settings {
            parallelism: 0,
            ..base.clone()
        }),
        "parallelism"
    );
    assert_eq!(
        setting(Argon2Settings {
            parallelism: u32::MAX,
            ..base
        }),
        "parallelism"
    );
}

#[test]
fn defaults_are_owasps_minimum_and_one_operation_per_core() {
    let d = Argon2Settings::default();
    assert_eq!((d.memory_kib, d.iterations, d.parallelism), (19456, 2, 1));
    assert_eq!(d.max_concurrent, 0, "0 means one per core");
}

#[test]
fn a_zero_cap_means_one_operation_per_available_core() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let per_core = PasswordHasher::insecure_fast(&Argon2Settings {
        max_concurrent: 0,
        ..cheap()
    })
    .unwrap();
    assert_eq!(per_core.inner.permits.available_permits(), cores);
    let capped = PasswordHasher::insecure_fast(&cheap()).unwrap();
    assert_eq!(capped.inner.permits.available_permits(), 2);
}

#[tokio::test]
async fn verifies_right_and_wrong_passwords() {
    let hasher = PasswordHasher::insecure_fast(&cheap()).unwrap();
    let hash = hasher.hash(&password("correct horse")).await.unwrap();
    assert_eq!(
        hasher.verify("correct horse", &hash).await.unwrap(),
        Verified::Valid {
            needs_rehash: false
        }
    );
    assert_eq!(
        hasher.verify("Correct horse", &hash).await.unwrap(),
        Verified::Invalid
    );
    assert_eq!(hasher.verifications(), 2);
}

#[tokio::test]
async fn flags_hashes_made_with_other_parameters_or_variants() {
    let hasher = PasswordHasher::insecure_fast(&cheap()).unwrap();
    let other = PasswordHasher::insecure_fast(&Argon2Settings {
        iterations: 2,
        ..cheap()
    })
    .unwrap();
    let old = other.hash(&password("correct horse")).await.unwrap();
    assert_eq!(
        hasher.verify("correct horse", &old).await.unwrap(),
        Verified::Valid { needs_rehash: true }
    );

    let argon2i = Argon2::new(
        Algorithm::Argon2i,
        Version::V0x13,
        hasher.inner.params.clone(),
    );
    let legacy = PasswordHash::new(hash_with(&argon2i, b"correct horse").unwrap());
    assert_eq!(
        hasher.verify("correct horse", &legacy).await.unwrap(),
        Verified::Valid { needs_rehash: true }
    );
}

#[tokio::test]
async fn unreadable_hash_is_an_internal_error() {
    let hasher = PasswordHasher::insecure_fast(&cheap()).unwrap();
    let err = hasher
        .verify("whatever", &PasswordHash::new("not a phc string"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Internal(_)));
}

#[tokio::test]
async fn dummy_verify_counts_as_a_verification() {
    let hasher = PasswordHasher::insecure_fast(&cheap()).unwrap();
    let clone = hasher.clone();
    clone.verify_dummy("anything at all").await.unwrap();
    assert_eq!(hasher.verifications(), 1);
    assert!(hasher
        .inner
        .dummy
        .starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_more_operations_than_the_cap_run_at_once() {
    let settings = Argon2Settings {
        memory_kib: 8192,
        max_concurrent: 2,
        ..cheap()
    };
    let hasher = PasswordHasher::insecure_fast(&settings).unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.verify_dummy("x").await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(hasher.verifications(), 8);
    let peak = hasher.inner.load.peak.load(Ordering::SeqCst);
    assert!((1..=2).contains(&peak), "peak concurrency {peak}");
}

#[test]
fn debug_shows_parameters_only() {
    let hasher = PasswordHasher::insecure_fast(&cheap()).unwrap();
    let shown = format!("{hasher:?}");
    assert!(shown.contains("1024"));
    assert!(!shown.contains("argon2id$"));
}

#[tokio::test]
async fn hashes_interoperate_with_argon2s_own_hash_and_verify() {
    use argon2::password_hash::PasswordVerifier as _;
    let hasher = PasswordHasher::insecure_fast(&cheap()).unwrap();
    let ours = hasher.hash(&password("correct horse")).await.unwrap();
    let phc = Phc::new(ours.as_str()).unwrap();
    assert!(Argon2::default()
        .verify_password(b"correct horse", &phc)
        .is_ok());
    assert!(Argon2::default()
        .verify_password(b"wrong horse!", &phc)
        .is_err());

    // A hash argon2 made itself, with other (default) parameters, verifies here too.
    let theirs = PasswordHash::new(hash_with(&Argon2::default(), b"correct horse").unwrap());
    let verified = hasher.verify("correct horse", &theirs).await.unwrap();
    assert_eq!(verified, Verified::Valid { needs_rehash: true });
    let wrong = hasher.verify("wrong horse!", &theirs).await.unwrap();
    assert_eq!(wrong, Verified::Invalid);
    // Reused working memory gives the same answers again.
    for _ in 0..3 {
        assert!(hasher
            .verify("correct horse", &ours)
            .await
            .unwrap()
            .is_valid());
        assert!(!hasher
            .verify("wrong horse!", &ours)
            .await
            .unwrap()
            .is_valid());
    }
}
