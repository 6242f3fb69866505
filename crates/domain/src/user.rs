use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{Email, PasswordHash, Timestamp};

/// A user's opaque identifier (the storage layer decides its shape: a hex ObjectId in MongoDB).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// Wraps an identifier issued by a repository.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a display name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("name is required")]
    Empty,
    #[error("name must be at most {MAX_NAME_CHARS} characters")]
    TooLong,
    #[error("name must not contain control or invisible formatting characters")]
    BadCharacter,
}

/// The longest display name accepted.
pub const MAX_NAME_CHARS: usize = 100;

/// Control characters and Unicode format characters (general category `Cf`: bidi overrides,
/// zero-width spaces and joiners, soft hyphens): invisible in most UIs, so a name holding them
/// can impersonate another (`adm\u{202e}ni\u{200b}` renders like "admin").
fn is_hidden(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};
    c.is_control() || c.general_category() == GeneralCategory::Format
}

/// A user's display name: trimmed, 1..=100 characters, no control or format characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// Trims and validates `raw`.
    ///
    /// # Errors
    /// Returns the [`NameError`] for the first rule `raw` breaks.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(NameError::TooLong);
        }
        if name.chars().any(is_hidden) {
            return Err(NameError::BadCharacter);
        }
        Ok(Self(name.to_owned()))
    }

    /// A provider-supplied name, cut to the limit and stripped of control and format
    /// characters, or `fallback` when nothing usable is left.
    pub fn lenient(raw: &str, fallback: &str) -> Self {
        let cleaned: String = raw
            .chars()
            .filter(|c| !is_hidden(*c))
            .take(MAX_NAME_CHARS)
            .collect();
        Self::parse(&cleaned).unwrap_or_else(|_| {
            Self(
                fallback
                    .chars()
                    .filter(|c| !is_hidden(*c))
                    .take(MAX_NAME_CHARS)
                    .collect::<String>(),
            )
        })
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a user signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Email and password.
    Local,
    Google,
    Github,
}

impl Provider {
    /// The lower-case name used in storage, URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Google => "google",
            Self::Github => "github",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local" => Ok(Self::Local),
            "google" => Ok(Self::Google),
            "github" => Ok(Self::Github),
            other => Err(format!("unknown provider {other:?}")),
        }
    }
}

/// An external account (Google `sub`, GitHub numeric id) linked to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub provider: Provider,
    /// The provider's stable id for the account; never the email.
    pub subject: String,
    pub email: Option<Email>,
    pub email_verified: bool,
    pub linked_at: Timestamp,
}

/// A stored user account.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub name: DisplayName,
    pub email: Email,
    /// Whether the owner of `email` proved it: a verification or reset link was used, or a
    /// provider asserted it.
    pub email_verified: bool,
    /// Absent for accounts created through OAuth.
    pub password_hash: Option<PasswordHash>,
    /// How the account was created.
    pub provider: Provider,
    pub identities: Vec<Identity>,
    pub avatar_url: Option<String>,
    /// Bumped by "log out everywhere"; JWTs carrying an older value are refused.
    pub token_version: i64,
    /// Consecutive failed password logins since the last success.
    pub failed_logins: u32,
    /// Password logins are refused until this instant.
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

impl User {
    /// Every way this user can sign in: `local` when a password is set, then linked providers.
    pub fn providers(&self) -> Vec<Provider> {
        let mut providers = Vec::with_capacity(self.identities.len() + 1);
        if self.password_hash.is_some() {
            providers.push(Provider::Local);
        }
        for identity in &self.identities {
            if !providers.contains(&identity.provider) {
                providers.push(identity.provider);
            }
        }
        providers
    }
}

/// What a repository needs to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: DisplayName,
    pub email: Email,
    /// `false` for a password sign-up; what the provider asserted for an OAuth one.
    pub email_verified: bool,
    pub password_hash: Option<PasswordHash>,
    pub provider: Provider,
    pub identity: Option<Identity>,
    pub avatar_url: Option<String>,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules_and_boundaries() {
        assert_eq!(DisplayName::parse("  Ada  ").unwrap().as_str(), "Ada");
        assert_eq!(DisplayName::parse(" \t "), Err(NameError::Empty));
        assert!(DisplayName::parse(&"é".repeat(MAX_NAME_CHARS)).is_ok());
        assert_eq!(
            DisplayName::parse(&"é".repeat(MAX_NAME_CHARS + 1)),
            Err(NameError::TooLong)
        );
        assert_eq!(DisplayName::parse("Ada\u{7}"), Err(NameError::BadCharacter));
    }

    #[test]
    fn invisible_format_characters_are_refused() {
        for raw in [
            "adm\u{202e}ni\u{200b}",
            "ad\u{200d}min",
            "\u{feff}admin",
            "ad\u{00ad}min",
            "ad\u{2066}min",
        ] {
            assert_eq!(
                DisplayName::parse(raw),
                Err(NameError::BadCharacter),
                "{raw:?}"
            );
        }
        assert!(DisplayName::parse("Zoë 🦀 עברית").is_ok());
        assert_eq!(
            DisplayName::lenient("adm\u{202e}ni\u{200b}", "x").as_str(),
            "admni"
        );
    }

    #[test]
    fn lenient_names_fall_back() {
        assert_eq!(
            DisplayName::lenient("Ada\nLovelace", "x").as_str(),
            "AdaLovelace"
        );
        assert_eq!(DisplayName::lenient("   ", "octocat").as_str(), "octocat");
        assert_eq!(
            DisplayName::lenient(&"n".repeat(300), "x").as_str().len(),
            MAX_NAME_CHARS
        );
    }

    #[test]
    fn provider_round_trips_through_text() {
        for provider in [Provider::Local, Provider::Google, Provider::Github] {
            assert_eq!(provider.as_str().parse::<Provider>(), Ok(provider));
        }
        assert!("facebook".parse::<Provider>().is_err());
        assert_eq!(
            serde_json::to_string(&Provider::Github).unwrap(),
            "\"github\""
        );
    }

    #[test]
    fn providers_lists_password_then_identities_once() {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let identity = |provider| Identity {
            provider,
            subject: "1".into(),
            email: None,
            email_verified: true,
            linked_at: now,
        };
        let mut user = User {
            id: UserId::new("u1"),
            name: DisplayName::parse("Ada").unwrap(),
            email: Email::parse("ada@example.com").unwrap(),
            email_verified: false,
            password_hash: Some(PasswordHash::new("$argon2id$…")),
            provider: Provider::Local,
            identities: vec![identity(Provider::Github), identity(Provider::Github)],
            avatar_url: None,
            token_version: 0,
            failed_logins: 0,
            locked_until: None,
            created_at: now,
            updated_at: now,
            last_login_at: None,
        };
        assert_eq!(user.providers(), vec![Provider::Local, Provider::Github]);
        user.password_hash = None;
        assert_eq!(user.providers(), vec![Provider::Github]);
    }
}
