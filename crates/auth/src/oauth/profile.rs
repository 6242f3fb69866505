//! Who the provider says the user is: Google's userinfo, GitHub's `/user` and `/user/emails`.

use super::OAuthProvider;
use altrion_domain::Email;
use oauth2::AccessToken;
use serde::{de::DeserializeOwned, Deserialize};
use url::Url;

use super::{error::from_http, OAuthError};

/// The provider account, reduced to what sign-in needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    /// Google `sub`, GitHub numeric `id`; the stable key.
    pub(crate) subject: String,
    /// The provider's email; see `email_verified`.
    pub(crate) email: Option<Email>,
    /// Google `email_verified`; for GitHub, a primary **and** verified entry was found.
    pub(crate) email_verified: bool,
    /// The display name, else the GitHub login.
    pub(crate) name: Option<String>,
    /// An http(s) avatar URL.
    pub(crate) avatar_url: Option<String>,
}

/// Fetches the profile of the account `token` belongs to.
pub(crate) async fn fetch(
    http: &reqwest::Client,
    provider: OAuthProvider,
    profile_url: &Url,
    token: &AccessToken,
) -> Result<Profile, OAuthError> {
    match provider {
        OAuthProvider::Github => github(http, profile_url, token).await,
        OAuthProvider::Google => google(http, profile_url, token).await,
    }
}

#[derive(Deserialize)]
struct GoogleUserInfo {
    sub: String,
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    email_verified: bool,
    name: Option<String>,
    picture: Option<String>,
}

async fn google(
    http: &reqwest::Client,
    userinfo: &Url,
    token: &AccessToken,
) -> Result<Profile, OAuthError> {
    let info: GoogleUserInfo = get_json(http, userinfo.clone(), token, "application/json").await?;
    if info.sub.trim().is_empty() || info.sub.len() > MAX_SUBJECT_LEN {
        return Err(OAuthError::provider("userinfo without a usable subject"));
    }
    let email = info.email.as_deref().and_then(|e| Email::parse(e).ok());
    Ok(Profile {
        subject: info.sub,
        email_verified: info.email_verified && email.is_some(),
        email,
        name: info.name,
        avatar_url: info.picture.filter(|p| is_http_url(p)),
    })
}

#[derive(Deserialize)]
struct GithubUser {
    id: u64,
    login: Option<String>,
    name: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
struct GithubEmail {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

const GITHUB_JSON: &str = "application/vnd.github+json";

async fn github(
    http: &reqwest::Client,
    api: &Url,
    token: &AccessToken,
) -> Result<Profile, OAuthError> {
    // `/user.email` is only the public email (null when private) and says nothing about
    // verification, so the address always comes from `/user/emails`.
    let (user, emails): (GithubUser, Vec<GithubEmail>) = tokio::try_join!(
        get_json(http, api_path(api, "user")?, token, GITHUB_JSON),
        get_json(http, api_path(api, "user/emails")?, token, GITHUB_JSON),
    )?;
    let email = emails
        .iter()
        .find(|e| e.primary && e.verified)
        .and_then(|e| Email::parse(&e.email).ok());
    Ok(Profile {
        subject: user.id.to_string(),
        email_verified: email.is_some(),
        email,
        name: user.name.filter(|n| !n.trim().is_empty()).or(user.login),
        avatar_url: user.avatar_url.filter(|p| is_http_url(p)),
    })
}

/// `{api}/{path}`, whether or not the base ends with a slash.
fn api_path(api: &Url, path: &str) -> Result<Url, OAuthError> {
    let base = api.as_str().trim_end_matches('/');
    Url::parse(&format!("{base}/{path}")).map_err(|e| OAuthError::internal(e.to_string()))
}

async fn get_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: Url,
    token: &AccessToken,
    accept: &str,
) -> Result<T, OAuthError> {
    let path = url.path().to_owned();
    let response = http
        .get(url)
        .bearer_auth(token.secret())
        .header(reqwest::header::ACCEPT, accept)
        .send()
        .await
        .map_err(|e| from_http("profile", &e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(OAuthError::provider(format!("{path} answered {status}")));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| from_http("profile", &e))?;
    serde_json::from_slice(&body)
        .map_err(|e| OAuthError::provider(format!("{path} answer unreadable: {e}")))
}

/// Google's `sub` is at most 255 ASCII characters.
const MAX_SUBJECT_LEN: usize = 255;
/// Longer avatar URLs are dropped rather than stored.
const MAX_AVATAR_LEN: usize = 2048;

fn is_http_url(raw: &str) -> bool {
    raw.len() <= MAX_AVATAR_LEN
        && Url::parse(raw).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// Google sends a JSON boolean; some older endpoints send `"true"`.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn google_email_verified_accepts_bool_or_string() {
        let parse = |json: &str| serde_json::from_str::<GoogleUserInfo>(json).unwrap();
        assert!(parse(r#"{"sub":"1","email_verified":true}"#).email_verified);
        assert!(parse(r#"{"sub":"1","email_verified":"true"}"#).email_verified);
        assert!(!parse(r#"{"sub":"1","email_verified":"false"}"#).email_verified);
        assert!(!parse(r#"{"sub":"1"}"#).email_verified);
    }

    #[test]
    fn api_paths_join_with_or_without_a_trailing_slash() {
        for base in ["http://h/api", "http://h/api/"] {
            let base = Url::parse(base).unwrap();
            assert_eq!(
                api_path(&base, "user/emails").unwrap().as_str(),
                "http://h/api/user/emails"
            );
        }
    }

    #[test]
    fn only_http_avatars_are_kept() {
        assert!(is_http_url("https://avatars.example.com/u/1"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("not a url"));
    }
}
