//! The mock's memory: issued codes (single use, 10 minutes) and access tokens.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use rand::RngCore as _;
use sha2::{Digest, Sha256};

use crate::MockConfig;

/// How long an authorization code can be exchanged.
pub(crate) const CODE_TTL: Duration = Duration::from_secs(600);

/// The provider a code or token was issued by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    Google,
    Github,
}

/// The person signing in, as chosen on the mock's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockUser {
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    /// GitHub only: whether `/user` shows the email (else `null`, like a private email).
    pub public_email: bool,
}

impl MockUser {
    /// A stable numeric id derived from the email, so signing in again is the same account.
    pub fn numeric_id(&self) -> u64 {
        let digest = Sha256::digest(self.email.trim().to_lowercase().as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        // Keep it within JavaScript's safe integers, as GitHub's ids are.
        u64::from_be_bytes(bytes) >> 12
    }

    /// The part of the email before `@`, as a GitHub login.
    pub fn login(&self) -> String {
        self.email
            .split('@')
            .next()
            .unwrap_or("mock")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect()
    }
}

/// What a code stands for until it is exchanged.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) which: Which,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) scope: String,
    pub(crate) user: MockUser,
    pub(crate) issued: Instant,
}

#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) config: MockConfig,
    pub(crate) base_url: String,
    codes: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, (Which, MockUser)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

impl Store {
    pub(crate) fn new(config: MockConfig, base_url: String) -> Self {
        Self {
            config,
            base_url,
            codes: Mutex::default(),
            tokens: Mutex::default(),
        }
    }

    /// The secret registered for `client_id` at `which`, if the client is known.
    pub(crate) fn client_secret(&self, which: Which, client_id: &str) -> Option<&str> {
        let (id, secret) = match which {
            Which::Google => (
                &self.config.google_client_id,
                &self.config.google_client_secret,
            ),
            Which::Github => (
                &self.config.github_client_id,
                &self.config.github_client_secret,
            ),
        };
        (id == client_id).then_some(secret.as_str())
    }

    pub(crate) fn issue_code(&self, grant: Grant) -> String {
        let code = random_hex(16);
        lock(&self.codes).insert(code.clone(), grant);
        code
    }

    /// Removes the code (single use, even when the exchange then fails) and returns its grant
    /// if it is still fresh.
    pub(crate) fn redeem_code(&self, code: &str) -> Option<Grant> {
        let grant = lock(&self.codes).remove(code)?;
        (grant.issued.elapsed() < CODE_TTL).then_some(grant)
    }

    pub(crate) fn issue_token(&self, which: Which, user: MockUser) -> String {
        let token = format!(
            "{}_{}",
            match which {
                Which::Google => "ya29.mock",
                Which::Github => "gho_mock",
            },
            random_hex(20)
        );
        lock(&self.tokens).insert(token.clone(), (which, user));
        token
    }

    pub(crate) fn user_for(&self, which: Which, token: &str) -> Option<MockUser> {
        lock(&self.tokens)
            .get(token)
            .filter(|(issuer, _)| *issuer == which)
            .map(|(_, user)| user.clone())
    }
}
