//! A session planted straight in a store, as an OAuth login leaves one, with the cookie the
//! server would have set for it.

use actix_web::cookie::{Cookie, CookieJar, Key};
use altrion_domain::{SessionRecord, SessionRepository, UserId};
use altrion_server::settings::Settings;
use secrecy::ExposeSecret;
use time::{Duration, OffsetDateTime};

/// How the server names and signs its session cookie, derived from its settings.
pub struct CookieSigning {
    pub name: &'static str,
    pub key: Key,
}

impl CookieSigning {
    pub fn of(settings: &Settings) -> Self {
        Self {
            name: settings.session.cookie_name(),
            key: altrion_session::derive_cookie_key(
                settings.session.secret.expose_secret().as_bytes(),
            )
            .unwrap(),
        }
    }
}

/// Stores a session signed in as `user_id` at `created_at`, last used at most an hour ago and
/// live for at least 23 more hours, and returns the `Cookie` header (`name=value`) for it,
/// signed with `cookie_key` as the server signs its own.
pub async fn plant_session(
    sessions: &dyn SessionRepository,
    cookie_name: &str,
    cookie_key: &Key,
    user_id: &str,
    created_at: OffsetDateTime,
) -> String {
    plant_session_with(sessions, cookie_name, cookie_key, user_id, created_at, None).await
}

/// As [`plant_session`], signed in at `token_version` when given (as `log_in` records it).
pub async fn plant_session_with(
    sessions: &dyn SessionRepository,
    cookie_name: &str,
    cookie_key: &Key,
    user_id: &str,
    created_at: OffsetDateTime,
    token_version: Option<i64>,
) -> String {
    let key = actix_session::storage::generate_session_key();
    let id = altrion_session::session_id_for(&key).unwrap();
    let now = OffsetDateTime::now_utc();
    let mut state = serde_json::Map::new();
    state.insert(altrion_session::USER_ID_KEY.to_owned(), user_id.into());
    if let Some(version) = token_version {
        state.insert(
            altrion_session::TOKEN_VERSION_KEY.to_owned(),
            version.into(),
        );
    }
    sessions
        .insert(SessionRecord {
            id,
            state,
            expires: (created_at + Duration::hours(24)).max(now + Duration::hours(23)),
            last_modified: created_at.max(now - Duration::hours(1)),
            created_at,
            user_id: Some(UserId::new(user_id)),
        })
        .await
        .unwrap();
    let mut jar = CookieJar::new();
    jar.signed_mut(cookie_key)
        .add(Cookie::new(cookie_name.to_owned(), String::from(key)));
    format!("{cookie_name}={}", jar.get(cookie_name).unwrap().value())
}
