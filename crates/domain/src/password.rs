use std::fmt;

use crate::Email;

/// The shortest password accepted (ASVS 6.2.1).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password accepted; bounds hashing work per request.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Why a password is refused at sign-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("password must be at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("password must not be the same as the email")]
    SameAsEmail,
}

/// A plaintext password that passed the sign-up policy: 8..=128 characters (Unicode scalar
/// values), any characters, no composition rules, not the email itself.
///
/// Never printed: `Debug` is redacted and there is no `Display`.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Checks `raw` against the policy for an account with `email`. The password is taken as
    /// typed: it is never trimmed, truncated or case-folded.
    ///
    /// # Errors
    /// Returns the [`PasswordError`] for the first rule `raw` breaks.
    pub fn new(raw: String, email: &Email) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        if raw.trim().to_lowercase() == email.as_str() {
            return Err(PasswordError::SameAsEmail);
        }
        Ok(Self(raw))
    }

    /// The plaintext, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A stored password hash in PHC string format (`$argon2id$v=19$…`). Redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string produced by the hasher or read from storage.
    pub fn new(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email::parse("ada@example.com").unwrap()
    }

    #[test]
    fn length_boundaries_count_characters_not_bytes() {
        let check = |s: String| Password::new(s, &email()).map(|_| ());
        assert_eq!(check("a".repeat(7)), Err(PasswordError::TooShort));
        assert_eq!(check("a".repeat(8)), Ok(()));
        assert_eq!(check("a".repeat(128)), Ok(()));
        assert_eq!(check("a".repeat(129)), Err(PasswordError::TooLong));
        // Eight multi-byte characters are eight characters, whatever their byte length.
        assert_eq!(check("密码密码密码密码".to_owned()), Ok(()));
        assert_eq!(
            check("密码密码密码密".to_owned()),
            Err(PasswordError::TooShort)
        );
        assert_eq!(check("🔐".repeat(128)), Ok(()));
        assert_eq!(check("🔐".repeat(129)), Err(PasswordError::TooLong));
    }

    #[test]
    fn no_composition_rules_and_kept_as_typed() {
        let password = Password::new("  all lower case  ".to_owned(), &email()).unwrap();
        assert_eq!(password.expose(), "  all lower case  ");
    }

    #[test]
    fn refuses_the_email_in_any_case() {
        for raw in ["ada@example.com", "ADA@Example.com", " ada@example.com "] {
            assert_eq!(
                Password::new(raw.to_owned(), &email()).map(|_| ()),
                Err(PasswordError::SameAsEmail),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let password = Password::new("hunter2hunter2".to_owned(), &email()).unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
        let hash = PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
        assert!(!format!("{hash:?}").contains("argon2id"));
    }
}
