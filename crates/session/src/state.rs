//! The one module that knows actix-session's state layout.
//!
//! actix-session 0.11 hands stores a `HashMap<String, String>` whose values are JSON documents
//! encoded as strings; its next release switches to `serde_json::Map<String, Value>`. The domain
//! keeps a JSON object of parsed values so the stored document is queryable (`session.user_id`
//! is a string, not `"\"…\""`). Following the next release means changing only this file.
//!
//! The state also carries the signed-in user under [`USER_ID_KEY`], mirrored into
//! `SessionRecord::user_id` so "log out everywhere" can find a user's sessions. A state whose
//! user entry is not a JSON string, or disagrees with the mirror, is refused both ways: on save
//! the mirror could not be kept, and on load a session "log out everywhere" cannot see must not
//! authenticate anyone.

use std::collections::HashMap;

use altrion_domain::{SessionState, UserId};
use serde_json::Value;

/// The state key holding the signed-in user's id (a JSON string).
pub const USER_ID_KEY: &str = "user_id";

/// The state key holding when the user signed in (Unix milliseconds), for recent sign-in checks.
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";

/// The state key holding the user's token version at sign-in: once the user's version moves
/// on (log out everywhere, a password change or reset, a take-over), the session is void.
pub const TOKEN_VERSION_KEY: &str = "token_version";

/// actix-session 0.11's state: values are JSON-encoded strings.
pub(crate) type ActixState = HashMap<String, String>;

/// Why a state cannot cross between actix's layout and the stored one.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A value handed over by actix is not a JSON document.
    #[error("the session value under `{key}` is not valid JSON")]
    InvalidJson {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    /// A stored value could not be encoded back to JSON text.
    #[error("the session value under `{key}` cannot be encoded as JSON")]
    Encode {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    /// The user entry is present but not a JSON string.
    #[error("the session value under `{USER_ID_KEY}` is not a string")]
    UserIdNotString,
    /// The stored user mirror and the state name different users.
    #[error("the session's user mirror disagrees with its state")]
    UserMirrorMismatch,
}

/// Converts actix's state to the stored one and extracts the user to mirror.
///
/// # Errors
/// [`StateError::InvalidJson`] for a value that is not JSON, [`StateError::UserIdNotString`]
/// when the user entry is not a string.
pub(crate) fn to_stored(state: ActixState) -> Result<(SessionState, Option<UserId>), StateError> {
    let mut stored = SessionState::new();
    for (key, raw) in state {
        match serde_json::from_str::<Value>(&raw) {
            Ok(value) => {
                stored.insert(key, value);
            }
            Err(source) => return Err(StateError::InvalidJson { key, source }),
        }
    }
    let user = user_of(&stored)?;
    Ok((stored, user))
}

/// Converts a stored state back to actix's layout, checking it against the stored user mirror.
///
/// # Errors
/// [`StateError::UserIdNotString`] or [`StateError::UserMirrorMismatch`] when the user entry is
/// malformed or disagrees with `mirror`; [`StateError::Encode`] if a value cannot be encoded.
pub(crate) fn to_actix(
    state: SessionState,
    mirror: Option<&UserId>,
) -> Result<ActixState, StateError> {
    if user_of(&state)?.as_ref() != mirror {
        return Err(StateError::UserMirrorMismatch);
    }
    state
        .into_iter()
        .map(|(key, value)| match serde_json::to_string(&value) {
            Ok(raw) => Ok((key, raw)),
            Err(source) => Err(StateError::Encode { key, source }),
        })
        .collect()
}

fn user_of(state: &SessionState) -> Result<Option<UserId>, StateError> {
    match state.get(USER_ID_KEY) {
        None => Ok(None),
        Some(Value::String(id)) => Ok(Some(UserId::new(id.clone()))),
        Some(_) => Err(StateError::UserIdNotString),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;

    fn actix(pairs: &[(&str, &str)]) -> ActixState {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn values_are_parsed_not_double_encoded() {
        let (stored, user) = to_stored(actix(&[
            ("user_id", r#""u1""#),
            ("pkce", r#"{"verifier":"abc","n":[1,2.5,null,true]}"#),
            ("name", r#""Zoë 🦀""#),
        ]))
        .unwrap();
        assert_eq!(user, Some(UserId::new("u1")));
        assert_eq!(stored["user_id"], json!("u1"));
        assert_eq!(
            stored["pkce"],
            json!({"verifier": "abc", "n": [1, 2.5, null, true]})
        );
        assert_eq!(stored["name"], json!("Zoë 🦀"));
    }

    #[test]
    fn round_trip_gives_back_equivalent_json() {
        let original = actix(&[("a", r#"{"x":[1,{"y":"é"}]}"#), ("b", "42"), ("c", "null")]);
        let (stored, user) = to_stored(original.clone()).unwrap();
        let back = to_actix(stored, user.as_ref()).unwrap();
        assert_eq!(back.len(), original.len());
        for (key, raw) in &original {
            let a: Value = serde_json::from_str(raw).unwrap();
            let b: Value = serde_json::from_str(&back[key]).unwrap();
            assert_eq!(a, b, "{key}");
        }
    }

    #[test]
    fn a_value_that_is_not_json_is_refused() {
        let err = to_stored(actix(&[("ok", "1"), ("bad", "not json")])).unwrap_err();
        assert!(matches!(err, StateError::InvalidJson { ref key, .. } if key == "bad"));
    }

    #[test]
    fn a_user_id_that_is_not_a_string_is_refused_both_ways() {
        assert!(matches!(
            to_stored(actix(&[("user_id", "42")])),
            Err(StateError::UserIdNotString)
        ));
        let mut state = SessionState::new();
        state.insert(USER_ID_KEY.into(), json!(null));
        assert!(matches!(
            to_actix(state, None),
            Err(StateError::UserIdNotString)
        ));
    }

    #[test]
    fn a_state_disagreeing_with_its_user_mirror_is_refused() {
        let mut state = SessionState::new();
        state.insert(USER_ID_KEY.into(), json!("u1"));
        assert!(matches!(
            to_actix(state.clone(), None),
            Err(StateError::UserMirrorMismatch)
        ));
        assert!(matches!(
            to_actix(state.clone(), Some(&UserId::new("u2"))),
            Err(StateError::UserMirrorMismatch)
        ));
        assert!(matches!(
            to_actix(SessionState::new(), Some(&UserId::new("u1"))),
            Err(StateError::UserMirrorMismatch)
        ));
        assert!(to_actix(state, Some(&UserId::new("u1"))).is_ok());
    }
}
