//! [`AuthSession`]: the typed view of the session the sign-in flows use.

use std::{fmt, future::Ready};

use actix_session::{Session, SessionExt as _, SessionGetError, SessionInsertError};
use actix_web::{dev::Payload, FromRequest, HttpRequest};
use altrion_domain::{Timestamp, UserId, CLIENT_IP_KEY, PUBLIC_ID_KEY, USER_AGENT_KEY};
use serde::{de::DeserializeOwned, Serialize};

use crate::state::{SIGNED_IN_AT_KEY, TOKEN_VERSION_KEY, USER_ID_KEY};

/// Why a value could not be read from or written to the session.
#[derive(Debug, thiserror::Error)]
pub enum SessionDataError {
    /// The key is managed by [`AuthSession::log_in`] / [`AuthSession::log_out`] only
    /// (the user id, the sign-in time, the public handle, user agent and address).
    #[error("the session key `{0}` is reserved")]
    Reserved(String),
    /// The stored value does not decode as the requested type.
    #[error("the session value under `{key}` has an unexpected shape")]
    Read {
        key: String,
        #[source]
        source: SessionGetError,
    },
    /// A value removed from the session does not decode as the requested type.
    #[error("the session value under `{key}` has an unexpected shape")]
    Take {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    /// The value cannot be encoded as JSON.
    #[error("the session value under `{key}` cannot be encoded")]
    Write {
        key: String,
        #[source]
        source: SessionInsertError,
    },
}

/// The session as the sign-in flows see it: who is signed in, plus short-lived values under
/// keys of the caller's choosing (a multi-step flow of your own; Altrion's OAuth flow keeps its
/// `state` and PKCE verifier in `altrion-web`'s flow cookie instead, so a start writes nothing).
///
/// An extractor: take it as a handler argument instead of [`Session`]. Writes are persisted by
/// the session middleware after the handler returns.
#[derive(Clone)]
pub struct AuthSession(Session);

impl AuthSession {
    /// Wraps actix's session.
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    /// Signs `user` in at `now` from `device`: drops everything else in the session (flow
    /// data, a previous user) and moves it to a new key, so a key planted before sign-in is
    /// worthless (no fixation). Records the sign-in time (for
    /// [`signed_in_at`](Self::signed_in_at), recent sign-in checks), a fresh random public
    /// handle (for listing and revoking; see [`public_id`](Self::public_id)), and the device's
    /// user agent (cut to [`MAX_USER_AGENT_BYTES`]) and address. Read any flow data you still
    /// need before calling this.
    ///
    /// # Errors
    /// Only if a value cannot be encoded, which strings and numbers never fail.
    ///
    /// `token_version` is the user's at sign-in; [`token_version`](Self::token_version) gives it
    /// back so the caller can refuse the session once the user's version has moved on.
    pub fn log_in(
        &self,
        user: &UserId,
        token_version: i64,
        now: Timestamp,
        device: &Device<'_>,
    ) -> Result<(), SessionDataError> {
        self.0.clear();
        let write = |key: &str, source| SessionDataError::Write {
            key: key.to_owned(),
            source,
        };
        let millis = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        self.0
            .insert(USER_ID_KEY, user)
            .map_err(|e| write(USER_ID_KEY, e))?;
        self.0
            .insert(SIGNED_IN_AT_KEY, millis)
            .map_err(|e| write(SIGNED_IN_AT_KEY, e))?;
        self.0
            .insert(TOKEN_VERSION_KEY, token_version)
            .map_err(|e| write(TOKEN_VERSION_KEY, e))?;
        self.0
            .insert(PUBLIC_ID_KEY, new_public_id())
            .map_err(|e| write(PUBLIC_ID_KEY, e))?;
        if let Some(agent) = device.user_agent {
            self.0
                .insert(USER_AGENT_KEY, truncate(agent, MAX_USER_AGENT_BYTES))
                .map_err(|e| write(USER_AGENT_KEY, e))?;
        }
        if let Some(ip) = device.ip {
            self.0
                .insert(CLIENT_IP_KEY, ip)
                .map_err(|e| write(CLIENT_IP_KEY, e))?;
        }
        self.0.renew();
        Ok(())
    }

    /// The user's token version when this session signed in (what [`log_in`](Self::log_in)
    /// recorded); `None` for a session signed in before it was recorded.
    pub fn token_version(&self) -> Option<i64> {
        self.0.get::<i64>(TOKEN_VERSION_KEY).ok().flatten()
    }

    /// This session's public handle (what `GET /api/auth/sessions` lists as `id`), if signed in.
    pub fn public_id(&self) -> Option<String> {
        self.0.get::<String>(PUBLIC_ID_KEY).ok().flatten()
    }

    /// When the signed-in user signed in (what [`log_in`](Self::log_in) recorded); `None` for
    /// an anonymous session or one whose entry is unreadable.
    pub fn signed_in_at(&self) -> Option<Timestamp> {
        let millis = self.0.get::<i64>(SIGNED_IN_AT_KEY).ok().flatten()?;
        Timestamp::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()
    }

    /// The signed-in user, if any.
    ///
    /// # Errors
    /// [`SessionDataError::Read`] if the entry is not a string (the store refuses to load such
    /// a state, so this only happens if a handler wrote it through the raw [`Session`]).
    pub fn current_user(&self) -> Result<Option<UserId>, SessionDataError> {
        self.0
            .get::<UserId>(USER_ID_KEY)
            .map_err(|source| SessionDataError::Read {
                key: USER_ID_KEY.to_owned(),
                source,
            })
    }

    /// Signs out: deletes the session server-side and tells the browser to drop the cookie.
    pub fn log_out(&self) {
        self.0.purge();
    }

    /// The flow value under `key`, if any.
    ///
    /// # Errors
    /// [`SessionDataError::Read`] when the value does not decode as `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionDataError> {
        self.0
            .get::<T>(key)
            .map_err(|source| SessionDataError::Read {
                key: key.to_owned(),
                source,
            })
    }

    /// Stores a flow value under `key`, replacing any previous one.
    ///
    /// # Errors
    /// [`SessionDataError::Reserved`] for [`USER_ID_KEY`]; [`SessionDataError::Write`] when
    /// `value` cannot be encoded as JSON.
    pub fn insert<T: Serialize>(&self, key: &str, value: &T) -> Result<(), SessionDataError> {
        reject_reserved(key)?;
        self.0
            .insert(key, value)
            .map_err(|source| SessionDataError::Write {
                key: key.to_owned(),
                source,
            })
    }

    /// Removes the value under `key` and returns it: single-use data (a one-time nonce, say)
    /// cannot be replayed. A missing key changes nothing (and so writes nothing).
    ///
    /// # Errors
    /// [`SessionDataError::Reserved`] for [`USER_ID_KEY`]; [`SessionDataError::Take`] when the
    /// value does not decode as `T` (it is removed all the same).
    pub fn take<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionDataError> {
        reject_reserved(key)?;
        if !self.0.contains_key(key) {
            return Ok(None);
        }
        match self.0.remove(key) {
            None => Ok(None),
            Some(raw) => {
                serde_json::from_str(&raw)
                    .map(Some)
                    .map_err(|source| SessionDataError::Take {
                        key: key.to_owned(),
                        source,
                    })
            }
        }
    }

    /// Removes the flow value under `key`, if any.
    ///
    /// # Errors
    /// [`SessionDataError::Reserved`] for [`USER_ID_KEY`].
    pub fn remove(&self, key: &str) -> Result<(), SessionDataError> {
        reject_reserved(key)?;
        if self.0.contains_key(key) {
            self.0.remove(key);
        }
        Ok(())
    }
}

/// The longest user agent kept in a session.
pub const MAX_USER_AGENT_BYTES: usize = 256;

/// What a sign-in records about the browser it came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Device<'a> {
    /// The `User-Agent` header, as sent.
    pub user_agent: Option<&'a str>,
    /// The client address, as the per-IP limiter sees it.
    pub ip: Option<&'a str>,
}

/// 128 random bits as hex: a handle that names a session without being able to open it.
fn new_public_id() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

const RESERVED: [&str; 6] = [
    USER_ID_KEY,
    SIGNED_IN_AT_KEY,
    TOKEN_VERSION_KEY,
    PUBLIC_ID_KEY,
    USER_AGENT_KEY,
    CLIENT_IP_KEY,
];

fn reject_reserved(key: &str) -> Result<(), SessionDataError> {
    if RESERVED.contains(&key) {
        Err(SessionDataError::Reserved(key.to_owned()))
    } else {
        Ok(())
    }
}

impl From<Session> for AuthSession {
    fn from(session: Session) -> Self {
        Self(session)
    }
}

impl fmt::Debug for AuthSession {
    // The state may hold a PKCE verifier; show only the status.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSession")
            .field("status", &self.0.status())
            .finish_non_exhaustive()
    }
}

impl FromRequest for AuthSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self(req.get_session())))
    }
}
