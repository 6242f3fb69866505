//! Authentication for Altrion: argon2id password hashing, HS256 access tokens, per-account
//! lockout, the email/password use cases (sign-up, login, token authentication, log out
//! everywhere), and sign-in with Google and GitHub ([`oauth`]) — what the HTTP layer calls.
//!
//! This crate is generic over the ports in `altrion-domain`. It must not depend on `actix-*`,
//! `mongodb`/`bson` or any HTTP *server* crate (its only HTTP is the outbound OAuth client),
//! and it knows nothing about status codes: callers map [`AuthError`] and [`OAuthError`]
//! variants to responses; `altrion-web` does that for actix-web.
//!
//! Using the crates in your own service — dependency lines, a whole sign-up/login/`/me`/logout
//! service in 46 lines, tests on the in-memory fakes, the argon2 `opt-level` your debug
//! builds need: `docs/library.md` in the repository.
//!
//! ```
//! # use std::sync::Arc;
//! # use altrion_auth::*;
//! # use altrion_storage::memory::{MemorySessionRepository, MemoryUserRepository};
//! # fn main() -> Result<(), ConfigError> {
//! # let secret = secrecy::SecretString::from("an-example-secret-of-at-least-32-bytes");
//! // At start-up. Only the stores and the token keys are required; every other part has a
//! // safe default (system clock, OWASP-floor argon2id, default lockout, no mail).
//! let tokens = TokenService::new(&TokenSettings::with_secret(secret))?;
//! let auth = AuthService::builder(
//!     Arc::new(MemoryUserRepository::new()),
//!     Arc::new(MemorySessionRepository::new()),
//!     tokens,
//! )
//! .lockout(LockoutPolicy::default())
//! .reauth_window(Duration::minutes(5))
//! .build()?;
//! # let _ = auth;
//! # Ok(())
//! # }
//! ```

mod error;
pub mod oauth;
mod password;
mod service;
mod throttle;
mod token;

pub use error::{AuthError, ConfigError, FieldError};
pub use oauth::{
    CallbackQuery, LinkingUser, OAuthConfig, OAuthError, OAuthProvider, OAuthService,
    OAuthServiceBuilder, PendingLogin, ProviderConfig, SignedIn,
};
pub use password::{Argon2Settings, PasswordHasher, Verified, OWASP_ITERATIONS, OWASP_MEMORY_KIB};
/// The types settings are given in, so callers need no `secrecy` or `time` dependency.
pub use secrecy::SecretString;
pub use service::{
    AuthService, AuthServiceBuilder, Authenticated, LoginRequest, MailPolicy, Reauthentication,
    ResetRequested, SignupRequest, TokenUser, DEFAULT_REAUTH_WINDOW, MAX_LOGIN_PASSWORD_BYTES,
};
pub use throttle::{LockoutPolicy, LockoutStatus};
pub use time::Duration;
pub use token::{
    Claims, IssuedToken, MailClaims, Purpose, TokenError, TokenService, TokenSettings,
    MAX_LEEWAY_SECS, MIN_SECRET_BYTES,
};
/// The URL type of [`OAuthConfig`], so callers need no `url` dependency.
pub use url::Url;
