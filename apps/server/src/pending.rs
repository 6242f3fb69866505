//! The pending OAuth flow (state, PKCE verifier, return target, the user a link is for) travels
//! in a short-lived encrypted cookie between the start and the callback, so an anonymous start
//! writes nothing to the database: 300 starts leave 300 cookies in 300 browsers, not 300
//! session documents.
//!
//! The cookie is encrypted and authenticated (AES-256-GCM, actix's private jar) with a key
//! derived from `SESSION_SECRET` for this purpose only, HttpOnly, SameSite=Lax (it must come
//! back on the provider's top-level redirect), Max-Age = the flow's 10 minutes, and removed by
//! the callback. Replaying it is worthless: the provider accepts an authorization code once,
//! and only with the PKCE verifier the cookie holds.

use actix_web::{
    cookie::{time::Duration as CookieDuration, Cookie, CookieJar, Key, SameSite},
    HttpRequest,
};
use altrion_auth::{oauth::FLOW_TTL, PendingLogin};
use sha2::{Digest, Sha256};

/// How the pending-flow cookie is named, keyed and sent.
#[derive(Clone)]
pub struct FlowCookie {
    name: &'static str,
    key: Key,
    secure: bool,
}

impl std::fmt::Debug for FlowCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowCookie")
            .field("name", &self.name)
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

impl FlowCookie {
    /// `__Host-altrion.oauth` when `secure`, else `altrion.oauth`; the key is derived from the
    /// session secret with a label of its own, so it differs from the session cookie's key.
    pub fn new(session_secret: &[u8], secure: bool) -> Self {
        let mut digest = Sha256::new();
        digest.update(b"altrion pending oauth flow cookie v1\0");
        digest.update(session_secret);
        Self {
            name: if secure {
                "__Host-altrion.oauth"
            } else {
                "altrion.oauth"
            },
            key: Key::derive_from(&digest.finalize()),
            secure,
        }
    }

    /// The cookie carrying `pending`.
    ///
    /// # Errors
    /// Only if the flow cannot be encoded as JSON (it always can).
    pub fn carrying(&self, pending: &PendingLogin) -> Result<Cookie<'static>, serde_json::Error> {
        let mut cookie = Cookie::new(self.name, serde_json::to_string(pending)?);
        cookie.set_http_only(true);
        cookie.set_secure(self.secure);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.set_max_age(CookieDuration::seconds(FLOW_TTL.whole_seconds()));
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(cookie);
        Ok(jar
            .get(self.name)
            .cloned()
            .unwrap_or_else(|| Cookie::new(self.name, "")))
    }

    /// The pending flow `req` brings back, if its cookie decrypts and parses (a tampered,
    /// foreign or stale-format cookie counts as none).
    pub fn read(&self, req: &HttpRequest) -> Option<PendingLogin> {
        let cookie = req.cookie(self.name)?;
        let mut jar = CookieJar::new();
        jar.add_original(cookie);
        let value = jar.private(&self.key).get(self.name)?;
        serde_json::from_str(value.value()).ok()
    }

    /// The header value that deletes the cookie in the browser.
    pub fn removal(&self) -> Cookie<'static> {
        let mut cookie = Cookie::new(self.name, "");
        cookie.set_http_only(true);
        cookie.set_secure(self.secure);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.make_removal();
        cookie
    }
}
