//! Where the browser may be sent after a sign-in: the frontend's origin or an allow-listed one,
//! never anywhere else (no open redirect).

use url::{Origin, Url};

use super::OAuthError;

/// Longest `redirect_to` accepted; it is kept with the pending flow until the callback.
pub const MAX_REDIRECT_LEN: usize = 2048;

/// The allowed targets: the frontend URL and the allow-listed origins.
#[derive(Debug, Clone)]
pub(crate) struct RedirectPolicy {
    frontend: Url,
    origins: Vec<Origin>,
}

impl RedirectPolicy {
    pub(crate) fn new(frontend: Url, allowlist: &[Url]) -> Self {
        let mut origins = vec![frontend.origin()];
        origins.extend(allowlist.iter().map(Url::origin));
        Self { frontend, origins }
    }

    /// The frontend URL, the default target.
    pub(crate) fn frontend(&self) -> &Url {
        &self.frontend
    }

    /// Resolves `raw` (absolute, or a path relative to the frontend) and accepts it only when
    /// it is http(s) on an allowed origin and carries no credentials.
    pub(crate) fn check(&self, raw: Option<&str>) -> Result<Url, OAuthError> {
        let Some(raw) = raw else {
            return Ok(self.frontend.clone());
        };
        if raw.is_empty()
            || raw.len() > MAX_REDIRECT_LEN
            || raw.chars().any(|c| c.is_control() || c == '\\')
        {
            return Err(OAuthError::InvalidRedirect);
        }
        // Joining resolves `//host`, `/path` and absolute URLs alike; the origin check below
        // then decides, so no spelling of another host can slip through.
        let target = self
            .frontend
            .join(raw)
            .map_err(|_| OAuthError::InvalidRedirect)?;
        let allowed = matches!(target.scheme(), "http" | "https")
            && target.username().is_empty()
            && target.password().is_none()
            && self.origins.contains(&target.origin());
        if allowed {
            Ok(target)
        } else {
            Err(OAuthError::InvalidRedirect)
        }
    }
}

/// `target` with `error=<code>` in its query (replacing any `error` already there).
pub(crate) fn with_error(target: &Url, code: &str) -> Url {
    let mut url = target.clone();
    let kept: Vec<(String, String)> = target
        .query_pairs()
        .filter(|(key, _)| key != "error")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_query(None);
    {
        let mut query = url.query_pairs_mut();
        query.extend_pairs(kept);
        query.append_pair("error", code);
    }
    url
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn policy() -> RedirectPolicy {
        RedirectPolicy::new(
            Url::parse("https://app.example.com/home").unwrap(),
            &[Url::parse("https://admin.example.com").unwrap()],
        )
    }

    #[test]
    fn none_means_the_frontend() {
        assert_eq!(
            policy().check(None).unwrap().as_str(),
            "https://app.example.com/home"
        );
    }

    #[test]
    fn frontend_paths_and_allow_listed_origins_pass() {
        let p = policy();
        for (raw, expected) in [
            ("/settings?tab=1", "https://app.example.com/settings?tab=1"),
            ("https://app.example.com/a#b", "https://app.example.com/a#b"),
            ("https://admin.example.com/x", "https://admin.example.com/x"),
        ] {
            assert_eq!(p.check(Some(raw)).unwrap().as_str(), expected, "{raw}");
        }
    }

    #[test]
    fn everything_else_is_refused() {
        let p = policy();
        for raw in [
            "https://evil.com/",
            "//evil.com",
            "///evil.com",
            "/\\evil.com",
            "\\\\evil.com",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,hi",
            "http://app.example.com/",
            "https://app.example.com:444/",
            "https://app.example.com.evil.com/",
            "https://user:pw@app.example.com/",
            "https://evil.com@app.example.com/",
            "https://app.example.com\t.evil.com/",
            "",
        ] {
            assert!(
                matches!(p.check(Some(raw)), Err(OAuthError::InvalidRedirect)),
                "{raw:?} must be refused"
            );
        }
        let long = format!("/{}", "a".repeat(MAX_REDIRECT_LEN));
        assert!(p.check(Some(&long)).is_err());
    }

    #[test]
    fn error_is_added_to_the_query_once() {
        let target = Url::parse("https://app.example.com/x?a=1&error=old").unwrap();
        assert_eq!(
            with_error(&target, "account_exists").as_str(),
            "https://app.example.com/x?a=1&error=account_exists"
        );
    }
}
