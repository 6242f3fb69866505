use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not an acceptable email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("email is required")]
    Empty,
    #[error("email must be at most 254 characters")]
    TooLong,
    #[error("email must contain exactly one '@'")]
    MissingAt,
    #[error("the part before '@' must be 1 to 64 characters")]
    BadLocalPart,
    #[error("the domain after '@' is not valid")]
    BadDomain,
    #[error("email must not contain spaces or control characters")]
    BadCharacter,
}

/// An email address: trimmed, lower-cased, and shaped like `local@domain.tld`.
///
/// Deliberately pragmatic rather than RFC 5322 complete: quoted local parts and IP literals are
/// refused because no mailbox provider hands them out and they complicate uniqueness.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Normalises and validates `raw`.
    ///
    /// # Errors
    /// Returns the first [`EmailError`] rule that `raw` breaks.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        if email.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::BadCharacter);
        }
        let mut parts = email.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(EmailError::MissingAt);
        };
        if local.is_empty() || local.chars().count() > 64 || !valid_local(local) {
            return Err(EmailError::BadLocalPart);
        }
        if !valid_domain(domain) {
            return Err(EmailError::BadDomain);
        }
        Ok(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn valid_local(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";
    !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || SPECIALS.contains(c))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(char::is_alphabetic) && tld.chars().count() >= 2)
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lower_cases() {
        let email = Email::parse("  Ada.Lovelace@Example.COM \n").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn accepts_common_shapes() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "o'brien@example.ie",
            "user@xn--bcher-kva.example",
            "jörg@bücher.de",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn rejects_each_rule() {
        let cases = [
            ("", EmailError::Empty),
            ("   ", EmailError::Empty),
            ("no-at-sign.example.com", EmailError::MissingAt),
            ("two@@example.com", EmailError::MissingAt),
            ("a@b@example.com", EmailError::MissingAt),
            ("@example.com", EmailError::BadLocalPart),
            (".dot@example.com", EmailError::BadLocalPart),
            ("dot.@example.com", EmailError::BadLocalPart),
            ("do..t@example.com", EmailError::BadLocalPart),
            ("quo\"te@example.com", EmailError::BadLocalPart),
            ("user@", EmailError::BadDomain),
            ("user@localhost", EmailError::BadDomain),
            ("user@-bad.com", EmailError::BadDomain),
            ("user@bad-.com", EmailError::BadDomain),
            ("user@exa_mple.com", EmailError::BadDomain),
            ("user@example.c", EmailError::BadDomain),
            ("user@example.123", EmailError::BadDomain),
            ("user@example..com", EmailError::BadDomain),
            ("us er@example.com", EmailError::BadCharacter),
            ("user\u{0}@example.com", EmailError::BadCharacter),
        ];
        for (raw, expected) in cases {
            assert_eq!(Email::parse(raw), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn length_boundaries() {
        let local64 = "a".repeat(64);
        assert!(Email::parse(&format!("{local64}@example.com")).is_ok());
        let local65 = "a".repeat(65);
        assert_eq!(
            Email::parse(&format!("{local65}@example.com")),
            Err(EmailError::BadLocalPart)
        );

        // 254 characters in all is the longest address SMTP can carry.
        let domain = format!(
            "{}.{}.{}.com",
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(57)
        );
        let at_limit = format!("{}@{domain}", "a".repeat(254 - 1 - domain.len()));
        assert_eq!(at_limit.len(), 254);
        assert!(Email::parse(&at_limit).is_ok());
        let over = format!("a{at_limit}");
        assert_eq!(Email::parse(&over), Err(EmailError::TooLong));

        let long_label = format!("user@{}.com", "x".repeat(64));
        assert_eq!(Email::parse(&long_label), Err(EmailError::BadDomain));
    }

    #[test]
    fn deserialises_through_validation() {
        let email: Email = serde_json::from_str("\" X@Example.com\"").unwrap();
        assert_eq!(email.as_str(), "x@example.com");
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    }
}
