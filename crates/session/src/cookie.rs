//! The session middleware as Altrion configures it, and the cookie key it signs with.

use std::fmt;

use actix_session::{
    config::{CookieContentSecurity, PersistentSession, TtlExtensionPolicy},
    storage::SessionStore,
    SessionMiddleware,
};
use actix_web::cookie::{Key, SameSite};
use time::Duration;

/// The shortest session secret [`derive_cookie_key`] accepts.
pub use altrion_domain::MIN_SECRET_BYTES;

/// The name a session cookie gets unless told otherwise.
pub const DEFAULT_COOKIE_NAME: &str = "__Host-altrion.sid";
/// The session lifetime unless told otherwise.
pub const DEFAULT_SESSION_TTL: Duration = Duration::hours(24);

/// What the app decides about the session cookie: its name, lifetime, whether it is Secure,
/// and the key that signs it. Made by [`new`](Self::new), which is Secure; only
/// [`insecure_development`](Self::insecure_development) clears that.
#[derive(Clone)]
pub struct SessionCookieSettings {
    name: String,
    secure: bool,
    ttl: Duration,
    key: Key,
}

impl SessionCookieSettings {
    /// A Secure cookie named [`DEFAULT_COOKIE_NAME`] for [`DEFAULT_SESSION_TTL`], signed with
    /// the key [`derive_cookie_key`] derives from `session_secret`.
    ///
    /// # Errors
    /// [`WeakSessionSecret`] when the secret is shorter than [`MIN_SECRET_BYTES`].
    pub fn new(session_secret: &[u8]) -> Result<Self, WeakSessionSecret> {
        Ok(Self {
            name: DEFAULT_COOKIE_NAME.to_owned(),
            secure: true,
            ttl: DEFAULT_SESSION_TTL,
            key: derive_cookie_key(session_secret)?,
        })
    }

    /// Names the cookie. A `__Host-` or `__Secure-` name is sent Secure whatever else is set:
    /// browsers drop such a cookie without it.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The session's lifetime: the cookie's Max-Age and the stored document's expiry.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sends the cookie over plain HTTP too (no `Secure`), unless its name is prefixed. For
    /// plain-HTTP development servers and tests only: over HTTP anyone on the path can read the
    /// cookie and be signed in as its owner.
    #[must_use]
    pub fn insecure_development(mut self) -> Self {
        self.secure = false;
        self
    }

    /// The cookie's name.
    pub fn cookie_name(&self) -> &str {
        &self.name
    }

    /// Whether the cookie is sent with `Secure`: unless
    /// [`insecure_development`](Self::insecure_development) was asked for, and always for a
    /// prefixed name.
    pub fn is_secure(&self) -> bool {
        self.secure || self.prefixed()
    }

    fn prefixed(&self) -> bool {
        self.name.starts_with("__Host-") || self.name.starts_with("__Secure-")
    }
}

impl fmt::Debug for SessionCookieSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCookieSettings")
            .field("name", &self.name)
            .field("secure", &self.is_secure())
            .field("ttl", &self.ttl)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// actix's session middleware over `store`: a persistent cookie (Max-Age = `ttl`), HttpOnly,
/// SameSite=Lax, Path=/, no Domain, signed (not encrypted: it carries only a random key).
///
/// Expiry slides on every request (`OnEveryRequest`); that is cheap because the store's
/// `update_ttl` writes at most once per `touch_after`. A request that never touches the session
/// sets no cookie and writes nothing.
pub fn session_middleware<S: SessionStore>(
    store: S,
    settings: &SessionCookieSettings,
) -> SessionMiddleware<S> {
    if settings.prefixed() && !settings.secure {
        tracing::warn!(
            cookie = %settings.name,
            "a prefixed cookie name requires Secure; sending the session cookie as Secure"
        );
    }
    SessionMiddleware::builder(store, settings.key.clone())
        .cookie_name(settings.name.clone())
        .cookie_secure(settings.is_secure())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_path("/".to_owned())
        .cookie_domain(None)
        .cookie_content_security(CookieContentSecurity::Signed)
        .session_lifecycle(
            PersistentSession::default()
                .session_ttl(settings.ttl)
                .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
        )
        .build()
}

/// The session secret is too short to derive a cookie key from.
#[derive(Debug, thiserror::Error)]
#[error("the session secret must be at least {MIN_SECRET_BYTES} bytes, got {0}")]
pub struct WeakSessionSecret(pub usize);

/// Derives the cookie key from `SESSION_SECRET` (HKDF; the same secret always gives the same
/// key, so cookies survive restarts and work across instances). [`SessionCookieSettings::new`]
/// signs with it; it is public so tests can sign a cookie as the server would.
///
/// # Errors
/// [`WeakSessionSecret`] when the secret is shorter than [`MIN_SECRET_BYTES`].
pub fn derive_cookie_key(session_secret: &[u8]) -> Result<Key, WeakSessionSecret> {
    if session_secret.len() < MIN_SECRET_BYTES {
        return Err(WeakSessionSecret(session_secret.len()));
    }
    Ok(Key::derive_from(session_secret))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn short_secrets_are_refused() {
        let Err(err) = derive_cookie_key(&[7; 31]) else {
            panic!("a 31-byte secret was accepted");
        };
        assert_eq!(err.0, 31);
        assert!(derive_cookie_key(b"").is_err());
    }

    #[test]
    fn the_same_secret_gives_the_same_key_and_others_differ() {
        let a = derive_cookie_key(&[7; 32]).unwrap();
        assert!(a == derive_cookie_key(&[7; 32]).unwrap());
        assert!(a != derive_cookie_key(&[8; 32]).unwrap());
    }

    #[test]
    fn debug_redacts_the_key() {
        let settings = SessionCookieSettings::new(&[7; 32])
            .unwrap()
            .name("altrion.sid");
        let shown = format!("{settings:?}");
        assert!(shown.contains("[redacted]"));
        assert!(shown.contains("altrion.sid"));
    }

    #[test]
    fn the_defaults_are_a_secure_host_cookie_for_a_day() {
        let settings = SessionCookieSettings::new(&[7; 32]).unwrap();
        assert!(settings.is_secure());
        assert_eq!(settings.cookie_name(), "__Host-altrion.sid");
        assert_eq!(settings.ttl, Duration::hours(24));
        assert!(settings.key == derive_cookie_key(&[7; 32]).unwrap());
    }

    #[test]
    fn only_insecure_development_clears_secure() {
        let renamed = SessionCookieSettings::new(&[7; 32])
            .unwrap()
            .name("altrion.sid")
            .ttl(Duration::hours(1));
        assert!(renamed.is_secure(), "renaming keeps Secure");
        assert_eq!(renamed.ttl, Duration::hours(1));
        let development = renamed.insecure_development();
        assert!(!development.is_secure());
        assert_eq!(development.cookie_name(), "altrion.sid");
    }

    #[test]
    fn a_prefixed_name_is_secure_even_in_development() {
        for name in ["__Host-altrion.sid", "__Secure-altrion.sid"] {
            let settings = SessionCookieSettings::new(&[7; 32])
                .unwrap()
                .insecure_development()
                .name(name);
            assert!(settings.is_secure(), "{name}");
        }
    }

    #[test]
    fn a_short_secret_gives_no_settings() {
        let Err(err) = SessionCookieSettings::new(&[7; 31]) else {
            panic!("a 31-byte secret was accepted");
        };
        assert_eq!(err.0, 31);
    }
}
