//! argon2id hashing and verification, run on tokio's blocking pool behind a concurrency cap.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex,
};

use altrion_domain::{Password, PasswordHash};
use argon2::{
    password_hash::{Output, ParamsString, PasswordHash as Phc, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::{AuthError, ConfigError};

mod settings;
#[cfg(test)]
mod tests;

pub use settings::{Argon2Settings, OWASP_ITERATIONS, OWASP_MEMORY_KIB};

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
    /// argon2's working memory (`m` KiB per operation), kept for reuse: at most one buffer per
    /// permit. Allocating it per operation lets glibc's malloc keep every freed 19 MiB block
    /// (its mmap threshold rises to that size after the first free), which grew the server to
    /// 600–900 MiB under a login flood; reused buffers hold it at `max_concurrent × m`.
    memory: Mutex<Vec<Vec<Block>>>,
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
    /// A hasher with `settings`, which must reach OWASP's floor for argon2id (m ≥ 19456 KiB,
    /// t ≥ 2), as production requires.
    ///
    /// # Errors
    /// [`ConfigError::BelowFloor`] for a cost below the floor; [`ConfigError::Invalid`] for
    /// parameters argon2 refuses.
    pub fn new(settings: &Argon2Settings) -> Result<Self, ConfigError> {
        for (setting, value, floor) in [
            ("memory_kib", settings.memory_kib, OWASP_MEMORY_KIB),
            ("iterations", settings.iterations, OWASP_ITERATIONS),
        ] {
            if value < floor {
                return Err(ConfigError::BelowFloor {
                    setting,
                    value,
                    floor,
                });
            }
        }
        Self::insecure_fast(settings)
    }

    /// As [`new`](Self::new) without the production floor: any parameters argon2 accepts, so
    /// tests and benchmarks can hash in microseconds. **Never for real accounts.** Both
    /// precompute the dummy hash (one hash's worth of work, on the calling thread: call them at
    /// start-up, not per request).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for parameters argon2 refuses.
    pub fn insecure_fast(settings: &Argon2Settings) -> Result<Self, ConfigError> {
        let params = settings.params()?;
        let permits = settings.permits();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut inner = Inner {
            argon2,
            params,
            dummy: String::new(),
            permits: Arc::new(Semaphore::new(permits)),
            memory: Mutex::new(Vec::with_capacity(permits)),
            verifications: AtomicU64::new(0),
            #[cfg(test)]
            load: tests::Load::default(),
        };
        let mut throwaway = [0u8; 32];
        rand::rng().fill_bytes(&mut throwaway);
        inner.dummy = inner
            .hash(&throwaway)
            .map_err(|e| ConfigError::invalid("memory_kib", e.to_string()))?;
        Ok(Self {
            inner: Arc::new(inner),
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
            inner
                .hash(secret.expose_secret().as_bytes())
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
        let queued = std::time::Instant::now();
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| AuthError::internal("password hasher semaphore closed"))?;
        metrics::histogram!("altrion_password_hash_queue_seconds")
            .record(queued.elapsed().as_secs_f64());
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
        match self.recompute(plaintext.as_bytes(), &phc) {
            Ok(true) => Ok(Verified::Valid {
                needs_rehash: self.needs_rehash(&phc),
            }),
            Ok(false) | Err(argon2::password_hash::Error::Password) => Ok(Verified::Invalid),
            Err(e) => Err(AuthError::internal(format!(
                "stored password hash unusable: {e}"
            ))),
        }
    }

    /// What argon2's `verify_password` does — hash `plaintext` with the algorithm, version,
    /// parameters and salt recorded in `phc` and compare in constant time (`Output`'s `==`) —
    /// in reused working memory.
    fn recompute(&self, plaintext: &[u8], phc: &Phc<'_>) -> argon2::password_hash::Result<bool> {
        let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
            return Err(argon2::password_hash::Error::Password);
        };
        let algorithm = Algorithm::try_from(phc.algorithm)?;
        let version = phc
            .version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let params = Params::try_from(phc)?;
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let mut salt_buf = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_buf)?;
        let computed = Output::init_with(expected.len(), |out| {
            self.with_memory(&params, |memory| {
                argon2.hash_password_into_with_memory(plaintext, salt, out, memory)
            })
            .map_err(Into::into)
        })?;
        Ok(computed == *expected)
    }

    /// A PHC string for `plaintext` with a fresh 128-bit salt and the configured parameters.
    fn hash(&self, plaintext: &[u8]) -> argon2::password_hash::Result<String> {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt)?;
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt.as_salt().decode_b64(&mut salt_buf)?;
        let output_len = self
            .params
            .output_len()
            .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = Output::init_with(output_len, |out| {
            self.with_memory(&self.params, |memory| {
                self.argon2
                    .hash_password_into_with_memory(plaintext, salt_bytes, out, memory)
            })
            .map_err(Into::into)
        })?;
        let phc = Phc {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params)?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(phc.to_string())
    }

    /// Runs `work` with argon2 working memory for `params`: a pooled buffer for the configured
    /// parameters (returned afterwards), a one-off buffer for a hash made with other ones.
    /// argon2 writes every block before reading it, so a reused buffer needs no clearing.
    fn with_memory<T>(&self, params: &Params, work: impl FnOnce(&mut [Block]) -> T) -> T {
        let blocks = params.block_count();
        if blocks != self.params.block_count() {
            return work(&mut vec![Block::default(); blocks]);
        }
        let pooled = self.memory.lock().ok().and_then(|mut pool| pool.pop());
        let mut memory = pooled.unwrap_or_else(|| vec![Block::default(); blocks]);
        let result = work(&mut memory);
        if let Ok(mut pool) = self.memory.lock() {
            pool.push(memory);
        }
        result
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

/// A PHC string made by argon2's own `hash_password` (tests use it for legacy variants).
#[cfg(test)]
fn hash_with(
    argon2: &Argon2<'_>,
    plaintext: &[u8],
) -> Result<String, argon2::password_hash::Error> {
    use argon2::password_hash::PasswordHasher as _;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(argon2.hash_password(plaintext, &salt)?.to_string())
}
