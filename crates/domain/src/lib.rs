//! Altrion's domain: users, identities, sessions, the value objects that validate them, and
//! the ports (`UserRepository`, `SessionRepository`, `Clock`) the outer layers implement.
//!
//! Using the crates in your own service: `docs/library.md` in the repository.
//!
//! This crate must stay free of I/O: no `mongodb`, `bson`, `actix-*`, `tokio` or HTTP crates.
//! `make test` checks that with `cargo tree`.

mod clock;
mod email;
mod error;
mod mail;
mod password;
mod ports;
mod session;
mod user;

pub use clock::{Clock, SystemClock, TestClock};
pub use email::{Email, EmailError};
pub use error::{causes, chain, ConflictKey, IndexesNotReady, RepoError};
pub use mail::{MailError, Mailer, OutgoingMail};
pub use password::{Password, PasswordError, PasswordHash};
pub use ports::{
    LoginAttempt, MailKind, MailQuota, Readiness, SessionRepository, SessionUpdate, Touch,
    Unlinked, UserRepository,
};
pub use session::{
    SessionId, SessionRecord, SessionState, CLIENT_IP_KEY, PUBLIC_ID_KEY, USER_AGENT_KEY,
};
pub use user::{DisplayName, Identity, NameError, NewUser, Provider, User, UserId};

/// The shortest signing secret accepted (JWT key, session-cookie key), in bytes: 256 bits, the
/// SHA-256 output size. The auth and session crates enforce it, config names the setting.
pub const MIN_SECRET_BYTES: usize = 32;

/// Instants in the domain; always UTC with millisecond precision (what MongoDB stores).
pub type Timestamp = time::OffsetDateTime;
