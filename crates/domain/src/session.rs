use std::fmt;

use crate::{Timestamp, UserId};

/// The state kept in a session: a JSON object, stored as a queryable BSON document.
pub type SessionState = serde_json::Map<String, serde_json::Value>;

/// A stored session's id: the lower-case hex SHA-256 of the session key in the cookie.
///
/// The key itself is never stored, so a leaked database cannot be replayed as cookies.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// Wraps an already-hashed id (64 lower-case hex digits).
    ///
    /// # Errors
    /// Returns the input back when it is not 64 lower-case hex digits.
    pub fn from_hex(hex: impl Into<String>) -> Result<Self, String> {
        let hex = hex.into();
        if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(hex))
        } else {
            Err(hex)
        }
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    // Only a prefix: enough to correlate log lines, useless for lookups.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({}…)", self.0.get(..8).unwrap_or_default())
    }
}

/// The state key of a signed-in session's public handle: an opaque random id for listing and
/// revoking, neither the cookie's key nor the stored id.
pub const PUBLIC_ID_KEY: &str = "public_id";
/// The state key of the user agent recorded at sign-in.
pub const USER_AGENT_KEY: &str = "user_agent";
/// The state key of the client address recorded at sign-in.
pub const CLIENT_IP_KEY: &str = "ip";

/// A server-side session document.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub state: SessionState,
    pub expires: Timestamp,
    pub last_modified: Timestamp,
    pub created_at: Timestamp,
    /// The signed-in user, mirrored from the state so "log out everywhere" can find it.
    pub user_id: Option<UserId>,
}

impl SessionRecord {
    fn text(&self, key: &str) -> Option<&str> {
        self.state.get(key).and_then(serde_json::Value::as_str)
    }

    /// The public handle recorded at sign-in, if any.
    pub fn public_id(&self) -> Option<&str> {
        self.text(PUBLIC_ID_KEY)
    }

    /// The user agent recorded at sign-in, if any.
    pub fn user_agent(&self) -> Option<&str> {
        self.text(USER_AGENT_KEY)
    }

    /// The client address recorded at sign-in, if any.
    pub fn ip(&self) -> Option<&str> {
        self.text(CLIENT_IP_KEY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_must_be_sha256_hex() {
        let good = "a".repeat(64);
        assert_eq!(SessionId::from_hex(good.clone()).unwrap().as_str(), good);
        assert!(SessionId::from_hex("A".repeat(64)).is_err());
        assert!(SessionId::from_hex("a".repeat(63)).is_err());
        assert!(SessionId::from_hex("g".repeat(64)).is_err());
    }

    #[test]
    fn debug_shows_only_a_prefix() {
        let id = SessionId::from_hex(format!("0123456789{}", "f".repeat(54))).unwrap();
        assert_eq!(format!("{id:?}"), "SessionId(01234567…)");
    }
}
