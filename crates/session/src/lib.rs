//! Altrion's custom actix-session backend: server-side sessions for the OAuth sign-in flow.
//!
//! - [`RepositorySessionStore`] implements actix-session's `SessionStore` over the domain's
//!   `SessionRepository` port: keys ≥ 256 bits stored only as their SHA-256, insert-only
//!   `save`, `update` that never resurrects a deleted or expired session, and a lazy touch.
//! - [`AuthSession`] is the typed view handlers use: `log_in` (new key, no fixation),
//!   `current_user`, `log_out` (purge), and OAuth flow data.
//! - [`session_middleware`] and [`derive_cookie_key`] configure the cookie as the design asks.
//!
//! This crate knows actix and the domain ports only: it must not depend on `mongodb`, `bson`,
//! or the app. The storage crate provides the repositories; `apps/server` wires them in.

mod auth;
mod cookie;
mod key;
mod state;
mod store;

pub use auth::{AuthSession, SessionDataError};
pub use cookie::{
    derive_cookie_key, session_middleware, SessionCookieSettings, WeakSessionSecret,
    MIN_SECRET_BYTES,
};
pub use key::{session_id_for, SESSION_KEY_LEN};
pub use state::{StateError, USER_ID_KEY};
pub use store::{RepositorySessionStore, MAX_SAVE_ATTEMPTS};
