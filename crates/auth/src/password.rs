//! argon2id hashing and verification, run on tokio's blocking pool behind a concurrency cap.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use altrion_domain::{Password, PasswordHash};
use argon2::{
    password_hash::{PasswordHash as Phc, PasswordHasher as _, PasswordVerifier as _, SaltString},
    Algorithm, Argon2, Params, Version,
};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::{AuthError, ConfigError};

/// argon2id cost parameters and the cap on concurrent hash/verify operations.
///
/// Defaults are OWASP's minimum for argon2id (m = 19456 KiB, t = 2, p = 1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Argon2Settings {
    /// Memory cost in KiB (`m`); each in-flight operation holds this much memory.
    pub memory_kib: u32,
    /// Number of passes (`t`).
    pub iterations: u32,
    /// Degree of parallelism (`p`).
    pub parallelism: u32,
    /// How many hash/verify operations may run at once; further callers wait their turn.
    pub max_concurrent: usize,
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Self {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
            max_concurrent: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}

impl Argon2Settings {
    fn params(&self) -> Result<Params, ConfigError> {
        // Checked here, in this order, because argon2's own check multiplies `p` first and
        // would overflow on absurd values instead of naming the setting.
        if !(Params::MIN_P_COST..=Params::MAX_P_COST).contains(&self.parallelism) {
            return Err(ConfigError::invalid(
                "parallelism",
                format!("must be between 1 and {}", Params::MAX_P_COST),
            ));
        }
        if self.iterations < Params::MIN_T_COST {
            return Err(ConfigError::invalid("iterations", "must be at least 1"));
        }
        let min_memory = Params::MIN_M_COST.max(8 * self.parallelism);
        if self.memory_kib < min_memory {
            return Err(ConfigError::invalid(
                "memory_kib",
                format!("must be at least {min_memory} (8 × parallelism)"),
            ));
        }
        if self.max_concurrent == 0 {
            return Err(ConfigError::invalid("max_concurrent", "must be at least 1"));
        }
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| ConfigError::invalid("memory_kib", e.to_string()))
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// The password matches. `needs_rehash` is true when the hash was made with other
    /// parameters than the configured ones (or is not argon2id v19) and should be replaced.
    Valid { needs_rehash: bool },
    /// The password does not match.
    Invalid,
}

impl Verified {
    /// Whether the password matched.
    pub fn is_valid(self) -> bool {
        matches!(self, Self::Valid { .. })
    }
}

/// Hashes and verifies passwords. Cheap to clone; clones share the concurrency cap, the
/// dummy hash and the verification counter.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    argon2: Argon2<'static>,
    params: Params,
    /// A hash of a random, discarded password, made with the configured parameters.
    dummy: String,
    permits: Arc<Semaphore>,
    verifications: AtomicU64,
    #[cfg(test)]
    load: tests::Load,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("m", &self.inner.params.m_cost())
            .field("t", &self.inner.params.t_cost())
            .field("p", &self.inner.params.p_cost())
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Validates the settings and precomputes the dummy hash (one hash's worth of work, done
    /// on the calling thread: call this at start-up, not per request).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first unusable setting.
    pub fn new(settings: &Argon2Settings) -> Result<Self, ConfigError> {
        let params = settings.params()?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut throwaway = [0u8; 32];
        rand::rng().fill_bytes(&mut throwaway);
        let dummy = hash_with(&argon2, &throwaway)
            .map_err(|e| ConfigError::invalid("memory_kib", e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                argon2,
                params,
                dummy,
                permits: Arc::new(Semaphore::new(settings.max_concurrent)),
                verifications: AtomicU64::new(0),
                #[cfg(test)]
                load: tests::Load::default(),
            }),
        })
    }

    /// Hashes a password that passed the sign-up policy into a PHC string with a fresh salt.
    ///
    /// # Errors
    /// [`AuthError::Internal`] if hashing fails or the blocking task dies.
    pub async fn hash(&self, password: &Password) -> Result<PasswordHash, AuthError> {
        self.hash_plaintext(password.expose()).await
    }

    /// Hashes any plaintext; used to re-hash on login, where the policy is not re-checked.
    pub(crate) async fn hash_plaintext(&self, plaintext: &str) -> Result<PasswordHash, AuthError> {
        let secret = SecretString::from(plaintext);
        self.run_blocking(move |inner| {
            hash_with(&inner.argon2, secret.expose_secret().as_bytes())
                .map(PasswordHash::new)
                .map_err(|e| AuthError::internal(format!("hashing failed: {e}")))
        })
        .await
    }

    /// Checks `plaintext` against a stored hash, using the parameters recorded in the hash.
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the stored hash is not a PHC string of a supported
    /// algorithm (corrupt data), or the blocking task dies.
    pub async fn verify(
        &self,
        plaintext: &str,
        hash: &PasswordHash,
    ) -> Result<Verified, AuthError> {
        let secret = SecretString::from(plaintext);
        let stored = hash.as_str().to_owned();
        self.run_blocking(move |inner| inner.verify(secret.expose_secret(), &stored))
            .await
    }

    /// Runs a verification against the precomputed dummy hash and discards the result, so a
    /// login for an unknown or password-less account costs what a wrong password costs.
    ///
    /// # Errors
    /// [`AuthError::Internal`] if the blocking task dies.
    pub async fn verify_dummy(&self, plaintext: &str) -> Result<(), AuthError> {
        let secret = SecretString::from(plaintext);
        self.run_blocking(move |inner| {
            let dummy = inner.dummy.clone();
            inner.verify(secret.expose_secret(), &dummy).map(|_| ())
        })
        .await
    }

    /// How many verifications (real or dummy) this hasher and its clones have run.
    pub fn verifications(&self) -> u64 {
        self.inner.verifications.load(Ordering::Relaxed)
    }

    /// The configured `(m, t, p)`.
    pub fn params(&self) -> (u32, u32, u32) {
        let p = &self.inner.params;
        (p.m_cost(), p.t_cost(), p.p_cost())
    }

    async fn run_blocking<T, F>(&self, work: F) -> Result<T, AuthError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, AuthError> + Send + 'static,
    {
        // The permit moves into the blocking task: if the caller is cancelled the work still
        // runs to completion, and it must keep counting against the cap until it does.
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| AuthError::internal("password hasher semaphore closed"))?;
        let inner = Arc::clone(&self.inner);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            #[cfg(test)]
            let _running = inner.load.enter();
            span.in_scope(|| work(&inner))
        })
        .await
        .map_err(|e| AuthError::internal(format!("password task failed: {e}")))?
    }
}

impl Inner {
    fn verify(&self, plaintext: &str, stored: &str) -> Result<Verified, AuthError> {
        let phc = Phc::new(stored)
            .map_err(|e| AuthError::internal(format!("stored password hash unreadable: {e}")))?;
        self.verifications.fetch_add(1, Ordering::Relaxed);
        match self.argon2.verify_password(plaintext.as_bytes(), &phc) {
            Ok(()) => Ok(Verified::Valid {
                needs_rehash: self.needs_rehash(&phc),
            }),
            Err(argon2::password_hash::Error::Password) => Ok(Verified::Invalid),
            Err(e) => Err(AuthError::internal(format!(
                "stored password hash unusable: {e}"
            ))),
        }
    }

    fn needs_rehash(&self, phc: &Phc<'_>) -> bool {
        let same_kind = phc.algorithm == Algorithm::Argon2id.ident()
            && phc.version == Some(Version::V0x13.into());
        let same_params = Params::try_from(phc).is_ok_and(|p| {
            p.m_cost() == self.params.m_cost()
                && p.t_cost() == self.params.t_cost()
                && p.p_cost() == self.params.p_cost()
        });
        let same_length = phc
            .hash
            .is_some_and(|h| h.len() == Params::DEFAULT_OUTPUT_LEN);
        !(same_kind && same_params && same_length)
    }
}

fn hash_with(
    argon2: &Argon2<'_>,
    plaintext: &[u8],
) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(argon2.hash_password(plaintext, &salt)?.to_string())
}

#[cfg(test)]
mod tests {
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
    fn invalid_settings_name_the_setting() {
        let setting = |s: Argon2Settings| match PasswordHasher::new(&s) {
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
                ..base.clone()
            }),
            "parallelism"
        );
        assert_eq!(
            setting(Argon2Settings {
                max_concurrent: 0,
                ..base
            }),
            "max_concurrent"
        );
    }

    #[test]
    fn settings_deserialize_with_defaults() {
        let s: Argon2Settings = serde_json::from_str(r#"{"memory_kib": 65536}"#).unwrap();
        assert_eq!(s.memory_kib, 65536);
        assert_eq!((s.iterations, s.parallelism), (2, 1));
        assert!(s.max_concurrent >= 1);
        let d = Argon2Settings::default();
        assert_eq!((d.memory_kib, d.iterations, d.parallelism), (19456, 2, 1));
    }

    #[tokio::test]
    async fn verifies_right_and_wrong_passwords() {
        let hasher = PasswordHasher::new(&cheap()).unwrap();
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
        let hasher = PasswordHasher::new(&cheap()).unwrap();
        let other = PasswordHasher::new(&Argon2Settings {
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
        let hasher = PasswordHasher::new(&cheap()).unwrap();
        let err = hasher
            .verify("whatever", &PasswordHash::new("not a phc string"))
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::Internal(_)));
    }

    #[tokio::test]
    async fn dummy_verify_counts_as_a_verification() {
        let hasher = PasswordHasher::new(&cheap()).unwrap();
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
        let hasher = PasswordHasher::new(&settings).unwrap();
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
        let hasher = PasswordHasher::new(&cheap()).unwrap();
        let shown = format!("{hasher:?}");
        assert!(shown.contains("1024"));
        assert!(!shown.contains("argon2id$"));
    }
}
