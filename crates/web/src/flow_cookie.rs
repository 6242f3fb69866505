//! The pending OAuth flow (state, PKCE verifier, return target, the user a link is for) travels
//! in a short-lived encrypted cookie between the start and the callback, so an anonymous start
//! writes nothing to the database: 300 starts leave 300 cookies in 300 browsers, not 300
//! session documents.
//!
//! The cookie is encrypted and authenticated (AES-256-GCM, actix's private jar) with a key
//! derived from the session secret for this purpose only, HttpOnly, SameSite=Lax (it must come
//! back on the provider's top-level redirect), Max-Age = the flow's 10 minutes, and removed by
//! the callback. Replaying it is worthless: the provider accepts an authorization code once,
//! and only with the PKCE verifier the cookie holds.

use actix_web::{
    cookie::{time::Duration as CookieDuration, Cookie, CookieJar, Key, SameSite},
    HttpRequest,
};
use altrion_auth::{oauth::FLOW_TTL, PendingLogin};
use sha2::{Digest, Sha256};

/// How the pending-flow cookie is named, keyed and sent. It comes from the session layer that
/// checked its secret ([`crate::SessionLayer::flow_cookie`]), Secure as the session cookie is.
#[derive(Clone)]
pub struct FlowCookie {
    name: String,
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
    /// Named after the session cookie, `.sid` becoming `.oauth` (`__Host-altrion.sid` gives
    /// `__Host-altrion.oauth`, `example.sid` `example.oauth`) and any other name getting
    /// `-oauth` appended (`sid` gives `sid-oauth`): one-to-one, so services on one host with
    /// different session cookies have different flow cookies too, and a flow cookie never has
    /// its session cookie's name. A `__Host-`/`__Secure-` prefix is kept, never added. The key
    /// is derived from the session secret with a label of its own, so it differs from the
    /// session cookie's key. Only the session layer calls it, after refusing a short or reused
    /// secret.
    pub(crate) fn new(session_secret: &[u8], session_cookie: &str, secure: bool) -> Self {
        let mut digest = Sha256::new();
        digest.update(b"altrion pending oauth flow cookie v1\0");
        digest.update(session_secret);
        let name = match session_cookie.strip_suffix(".sid") {
            Some(stem) => format!("{stem}.oauth"),
            None => format!("{session_cookie}-oauth"),
        };
        Self {
            name,
            key: Key::derive_from(&digest.finalize()),
            secure,
        }
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cookie carrying `pending`.
    ///
    /// # Errors
    /// Only if the flow cannot be encoded as JSON (it always can).
    pub fn carrying(&self, pending: &PendingLogin) -> Result<Cookie<'static>, serde_json::Error> {
        let mut cookie = Cookie::new(self.name.clone(), serde_json::to_string(pending)?);
        cookie.set_http_only(true);
        cookie.set_secure(self.secure);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.set_max_age(CookieDuration::seconds(FLOW_TTL.whole_seconds()));
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(cookie);
        Ok(jar
            .get(&self.name)
            .cloned()
            .unwrap_or_else(|| Cookie::new(self.name.clone(), "")))
    }

    /// The pending flow `req` brings back, if its cookie decrypts and parses (a tampered,
    /// foreign or stale-format cookie counts as none).
    pub fn read(&self, req: &HttpRequest) -> Option<PendingLogin> {
        let cookie = req.cookie(&self.name)?;
        let mut jar = CookieJar::new();
        jar.add_original(cookie);
        let value = jar.private(&self.key).get(&self.name)?;
        serde_json::from_str(value.value()).ok()
    }

    /// The header value that deletes the cookie in the browser.
    pub fn removal(&self) -> Cookie<'static> {
        let mut cookie = Cookie::new(self.name.clone(), "");
        cookie.set_http_only(true);
        cookie.set_secure(self.secure);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.make_removal();
        cookie
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SECRET: &[u8] = b"a-test-session-secret-of-at-least-32-bytes";

    fn pending() -> PendingLogin {
        serde_json::from_value(serde_json::json!({
            "state": "s", "verifier": "v", "provider": "github",
            "redirect_to": "http://localhost:8080/", "linking": null,
            "created_at": "2026-12-01T00:00:00Z",
        }))
        .unwrap()
    }

    fn brought_back(flows: &FlowCookie, cookie: Cookie<'static>) -> Option<PendingLogin> {
        let req = actix_web::test::TestRequest::default()
            .cookie(cookie)
            .to_http_request();
        flows.read(&req)
    }

    #[test]
    fn the_flow_comes_back_sealed_and_only_under_its_own_key() {
        let flows = FlowCookie::new(SECRET, "__Host-altrion.sid", true);
        let cookie = flows.carrying(&pending()).unwrap();
        assert_eq!(cookie.name(), "__Host-altrion.oauth");
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.secure(), Some(true));
        assert!(
            !cookie.value().contains("verifier"),
            "the value is encrypted"
        );
        let back = brought_back(&flows, cookie.clone()).unwrap();
        assert_eq!(
            serde_json::to_value(back).unwrap(),
            serde_json::to_value(pending()).unwrap()
        );

        let other = FlowCookie::new(
            b"another-session-secret-of-at-least-32-bytes",
            "__Host-altrion.sid",
            true,
        );
        assert!(
            brought_back(&other, cookie.clone()).is_none(),
            "another key"
        );
        let mut tampered = cookie.clone();
        let mut value = tampered.value().to_owned();
        value.replace_range(..1, if value.starts_with('A') { "B" } else { "A" });
        tampered.set_value(value);
        assert!(brought_back(&flows, tampered).is_none(), "a changed byte");
    }

    #[test]
    fn the_name_follows_the_session_cookie() {
        for (session, secure, flow) in [
            ("__Host-altrion.sid", true, "__Host-altrion.oauth"),
            ("altrion.sid", false, "altrion.oauth"),
            ("example.sid", false, "example.oauth"),
            ("sid", true, "sid-oauth"),
            ("x", false, "x-oauth"),
            ("x.sid", false, "x.oauth"),
            ("altrion.sid", true, "altrion.oauth"),
            ("__Secure-app", true, "__Secure-app-oauth"),
        ] {
            assert_eq!(FlowCookie::new(SECRET, session, secure).name(), flow);
        }
    }

    #[test]
    fn plain_http_development_sends_the_cookie_without_secure() {
        let flows = FlowCookie::new(SECRET, "altrion.sid", false);
        let cookie = flows.carrying(&pending()).unwrap();
        assert_eq!(cookie.name(), "altrion.oauth");
        assert_eq!(cookie.secure(), Some(false));
        let removal = flows.removal();
        assert_eq!(removal.name(), "altrion.oauth");
        assert_eq!(removal.max_age(), Some(CookieDuration::ZERO));
    }
}
