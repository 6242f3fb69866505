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

/// What the app decides about the session cookie.
#[derive(Clone)]
pub struct SessionCookieSettings {
    /// `altrion.sid` in development, `__Host-altrion.sid` in production.
    pub name: String,
    /// Send the cookie over HTTPS only. Forced on for `__Host-` / `__Secure-` names, which
    /// browsers drop without it.
    pub secure: bool,
    /// Lifetime of the session: the cookie's Max-Age and the stored document's expiry.
    pub ttl: Duration,
    /// Signs the cookie; see [`derive_cookie_key`].
    pub key: Key,
}

impl fmt::Debug for SessionCookieSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCookieSettings")
            .field("name", &self.name)
            .field("secure", &self.secure)
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
    let prefixed = settings.name.starts_with("__Host-") || settings.name.starts_with("__Secure-");
    if prefixed && !settings.secure {
        tracing::warn!(
            cookie = %settings.name,
            "a prefixed cookie name requires Secure; sending the session cookie as Secure"
        );
    }
    SessionMiddleware::builder(store, settings.key.clone())
        .cookie_name(settings.name.clone())
        .cookie_secure(settings.secure || prefixed)
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
/// key, so cookies survive restarts and work across instances).
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
        let settings = SessionCookieSettings {
            name: "altrion.sid".into(),
            secure: false,
            ttl: Duration::hours(24),
            key: derive_cookie_key(&[7; 32]).unwrap(),
        };
        let shown = format!("{settings:?}");
        assert!(shown.contains("[redacted]"));
        assert!(shown.contains("altrion.sid"));
    }
}
