//! Altrion's custom actix-session backend: the server-side sessions of browsers signed in with
//! Google or GitHub (or a password, through the cookie path), kept in a `SessionRepository`
//! (MongoDB in production).
//!
//! - [`RepositorySessionStore`] implements actix-session's `SessionStore` over the domain's
//!   `SessionRepository` port: keys ≥ 256 bits stored only as their SHA-256, insert-only
//!   `save`, `update` that never resurrects a deleted or expired session, and a lazy touch.
//! - [`AuthSession`] is the typed view handlers use: `log_in` (new key, no fixation),
//!   `current_user`, `log_out` (purge), and short-lived values of the caller's own (Altrion's
//!   OAuth flow keeps none here: it travels in `altrion-web`'s encrypted flow cookie).
//! - [`session_middleware`] and [`SessionCookieSettings`] configure the cookie as the design
//!   asks: Secure unless [`SessionCookieSettings::insecure_development`] says otherwise.
//!
//! `altrion-web`'s `SessionLayer` mounts all of this in a few lines, and also refuses a session
//! secret equal to the JWT secret; `docs/library.md` in the repository is the guide to using the
//! crates in your own service.
//!
//! This crate knows actix and the domain ports only: it must not depend on `mongodb`, `bson`,
//! or the app. The storage crate provides the repositories; used on its own:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use actix_web::{web, App, HttpResponse, HttpServer};
//! use altrion_domain::{SystemClock, UserId};
//! use altrion_session::{
//!     session_middleware, AuthSession, RepositorySessionStore, SessionCookieSettings,
//! };
//! # use altrion_storage::memory::MemorySessionRepository;
//!
//! async fn me(session: AuthSession) -> actix_web::Result<HttpResponse> {
//!     let user = session
//!         .current_user()
//!         .map_err(actix_web::error::ErrorInternalServerError)?;
//!     Ok(match user {
//!         Some(id) => HttpResponse::Ok().body(id.to_string()),
//!         None => HttpResponse::Unauthorized().finish(),
//!     })
//! }
//!
//! # async fn run() -> anyhow::Result<()> {
//! # let repository = Arc::new(MemorySessionRepository::new());
//! let store = RepositorySessionStore::new(repository, Arc::new(SystemClock), time::Duration::hours(1));
//! // Secure, `__Host-altrion.sid`, 24 hours; a plain-HTTP development server would add
//! // `.name("altrion.sid").insecure_development()`.
//! let settings = SessionCookieSettings::new(b"a session secret of at least 32 bytes!")?
//!     .ttl(time::Duration::hours(12));
//! HttpServer::new(move || {
//!     App::new()
//!         .wrap(session_middleware(store.clone(), &settings))
//!         .route("/api/auth/me", web::get().to(me))
//! })
//! .bind(("127.0.0.1", 0))?
//! .run()
//! .await?;
//! # Ok(())
//! # }
//! ```

mod auth;
mod cookie;
mod key;
mod state;
mod store;

pub use auth::{AuthSession, Device, SessionDataError, MAX_USER_AGENT_BYTES};
pub use cookie::{
    derive_cookie_key, session_middleware, SessionCookieSettings, WeakSessionSecret,
    DEFAULT_COOKIE_NAME, DEFAULT_SESSION_TTL, MIN_SECRET_BYTES,
};
pub use key::{session_id_for, SESSION_KEY_LEN};
pub use state::{StateError, SIGNED_IN_AT_KEY, TOKEN_VERSION_KEY, USER_ID_KEY};
pub use store::{RepositorySessionStore, DEFAULT_ABSOLUTE_TTL, MAX_SAVE_ATTEMPTS};
/// The duration type the lifetimes are given in, so callers need no `time` dependency.
pub use time::Duration;
