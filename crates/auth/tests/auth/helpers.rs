use std::sync::Arc;

use altrion_auth::{
    Argon2Settings, AuthError, AuthService, AuthServiceBuilder, Authenticated, LoginRequest,
    MailPolicy, PasswordHasher, SignupRequest, TokenService, TokenSettings,
};
use altrion_domain::{
    Clock, Email, Identity, MailError, Mailer, NewUser, OutgoingMail, Provider, SessionId,
    SessionRecord, TestClock, User, UserId, UserRepository,
};
use altrion_storage::memory::{MemorySessionRepository, MemoryUserRepository};
use secrecy::SecretString;
use tokio::sync::mpsc;

pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";
pub const PASSWORD: &str = "correct horse battery";

/// Cheap parameters so the suite stays fast; only the PHC-defaults test uses production ones.
pub fn cheap_argon2() -> Argon2Settings {
    Argon2Settings {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 4,
    }
}

pub fn token_settings() -> TokenSettings {
    TokenSettings::with_secret(SecretString::from(SECRET))
}

/// Where mailed links point in these tests.
pub const FRONTEND: &str = "http://app.test";

/// A mailer that keeps what it is given, in order; or refuses everything when `refuse` is set.
#[derive(Debug)]
pub struct Outbox {
    sent: mpsc::UnboundedSender<OutgoingMail>,
    received: tokio::sync::Mutex<mpsc::UnboundedReceiver<OutgoingMail>>,
    pub refuse: std::sync::atomic::AtomicBool,
}

impl Outbox {
    fn new() -> Self {
        let (sent, received) = mpsc::unbounded_channel();
        Self {
            sent,
            received: tokio::sync::Mutex::new(received),
            refuse: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The next message handed over, if one already was.
    pub async fn try_next(&self) -> Option<OutgoingMail> {
        self.received.lock().await.try_recv().ok()
    }

    /// The next message; fails the test if none was handed over.
    pub async fn next(&self) -> OutgoingMail {
        self.try_next().await.expect("a mail was sent")
    }
}

#[async_trait::async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        if self.refuse.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(MailError::QueueFull);
        }
        self.sent.send(mail).map_err(|_| MailError::Closed)
    }
}

/// The token of the first link in a mail's text.
pub fn link_token(mail: &OutgoingMail) -> String {
    let start = mail.text.find("?token=").expect("a link") + "?token=".len();
    let rest = &mail.text[start..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    url::form_urlencoded::parse(format!("t={}", &rest[..end]).as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned()
}

pub struct TestApp {
    pub service: AuthService,
    pub outbox: Arc<Outbox>,
    pub users: Arc<MemoryUserRepository>,
    pub sessions: Arc<MemorySessionRepository>,
    pub clock: TestClock,
    pub hasher: PasswordHasher,
    pub tokens: TokenService,
}

impl TestApp {
    pub fn new() -> Self {
        Self::with_argon2(&cheap_argon2())
    }

    pub fn with_argon2(argon2: &Argon2Settings) -> Self {
        Self::build(
            argon2,
            Arc::new(MemoryUserRepository::new()),
            Arc::new(MemorySessionRepository::new()),
            TestClock::starting_now(),
        )
    }

    /// Another service over the same stores and clock, with other hashing parameters.
    pub fn reconfigured(&self, argon2: &Argon2Settings) -> Self {
        Self::build(
            argon2,
            Arc::clone(&self.users),
            Arc::clone(&self.sessions),
            self.clock.clone(),
        )
    }

    fn build(
        argon2: &Argon2Settings,
        users: Arc<MemoryUserRepository>,
        sessions: Arc<MemorySessionRepository>,
        clock: TestClock,
    ) -> Self {
        let hasher = PasswordHasher::insecure_fast(argon2).unwrap();
        let tokens = TokenService::new(&token_settings()).unwrap();
        let outbox = Arc::new(Outbox::new());
        let service = AuthService::builder(users.clone(), sessions.clone(), tokens.clone())
            .clock(Arc::new(clock.clone()))
            .hasher(hasher.clone())
            .mail(
                outbox.clone(),
                MailPolicy::new(url::Url::parse(FRONTEND).unwrap()),
            )
            .build()
            .unwrap();
        Self {
            service,
            outbox,
            users,
            sessions,
            clock,
            hasher,
            tokens,
        }
    }

    /// A builder for another service over the same stores, clock, hasher, keys and outbox,
    /// for a test that varies one policy.
    pub fn builder(&self) -> AuthServiceBuilder {
        AuthService::builder(
            self.users.clone(),
            self.sessions.clone(),
            self.tokens.clone(),
        )
        .clock(Arc::new(self.clock.clone()))
        .hasher(self.hasher.clone())
        .mail(
            self.outbox.clone(),
            MailPolicy::new(url::Url::parse(FRONTEND).unwrap()),
        )
    }

    pub async fn signup(
        &self,
        name: &str,
        email: &str,
        password: &str,
    ) -> Result<Authenticated, AuthError> {
        self.service
            .signup(SignupRequest {
                name: name.to_owned(),
                email: email.to_owned(),
                password: password.to_owned(),
            })
            .await
    }

    /// Signs up Ada with [`PASSWORD`].
    pub async fn ada(&self) -> Authenticated {
        self.signup("Ada", "ada@example.com", PASSWORD)
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<Authenticated, AuthError> {
        self.service
            .login(LoginRequest {
                email: email.to_owned(),
                password: password.to_owned(),
            })
            .await
    }

    pub async fn stored(&self, email: &str) -> User {
        self.users
            .find_by_email(&Email::parse(email).unwrap())
            .await
            .unwrap()
            .unwrap()
    }

    /// A user who signed up through GitHub and has no password.
    pub async fn oauth_only(&self, email: &str) -> User {
        let now = self.clock.now();
        self.users
            .create(NewUser {
                name: altrion_domain::DisplayName::parse("Octo").unwrap(),
                email: Email::parse(email).unwrap(),
                email_verified: true,
                password_hash: None,
                provider: Provider::Github,
                identity: Some(Identity {
                    provider: Provider::Github,
                    subject: "583231".into(),
                    email: Some(Email::parse(email).unwrap()),
                    email_verified: true,
                    linked_at: now,
                }),
                avatar_url: None,
                created_at: now,
            })
            .await
            .unwrap()
    }

    pub async fn insert_session(&self, n: u8, user: &UserId) {
        use altrion_domain::SessionRepository;
        self.sessions
            .insert(session_record(n, user, self.clock.now()))
            .await
            .unwrap();
    }
}

/// Session number `n` of `user`, written at `now` and valid for a day.
pub fn session_record(n: u8, user: &UserId, now: altrion_domain::Timestamp) -> SessionRecord {
    SessionRecord {
        id: SessionId::from_hex(format!("{n:02x}").repeat(32)).unwrap(),
        state: serde_json::Map::new(),
        expires: now + time::Duration::hours(24),
        last_modified: now,
        created_at: now,
        user_id: Some(user.clone()),
    }
}

/// The fields named by a validation error, in order.
pub fn invalid_fields(result: Result<Authenticated, AuthError>) -> Vec<&'static str> {
    match result {
        Err(AuthError::Validation(errors)) => errors.iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

pub fn assert_invalid_credentials(result: Result<Authenticated, AuthError>) {
    match result {
        Err(AuthError::InvalidCredentials) => {}
        other => panic!("expected InvalidCredentials, got {other:?}"),
    }
}

/// Unpadded base64url, for hand-crafted tokens.
pub fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

#[test]
fn b64url_matches_known_vectors() {
    assert_eq!(b64url(b"f"), "Zg");
    assert_eq!(b64url(b"fo"), "Zm8");
    assert_eq!(b64url(b"foo"), "Zm9v");
    assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
}
