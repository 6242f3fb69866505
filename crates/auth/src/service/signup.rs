use altrion_domain::{
    ConflictKey, DisplayName, Email, NewUser, Password, PasswordError, Provider, RepoError,
};

use super::{AuthService, Authenticated, SignupRequest};
use crate::{AuthError, FieldError};

impl AuthService {
    /// Creates a password account and signs it in. Writes no session.
    ///
    /// # Errors
    /// [`AuthError::Validation`] listing every invalid field (`name`, `email`, `password`);
    /// [`AuthError::EmailTaken`] when the email belongs to another account (decided by the
    /// store's unique index, so concurrent sign-ups of one email yield exactly one account);
    /// [`AuthError::Unavailable`] / [`AuthError::Internal`].
    #[tracing::instrument(name = "auth.signup", skip_all)]
    pub async fn signup(&self, request: SignupRequest) -> Result<Authenticated, AuthError> {
        let (name, email, password) = validate(request)?;
        let password_hash = self.hasher.hash(&password).await?;
        let new_user = NewUser {
            name,
            email,
            email_verified: false,
            password_hash: Some(password_hash),
            provider: Provider::Local,
            identity: None,
            avatar_url: None,
            created_at: self.clock.now(),
        };
        let user = match self.users.create(new_user).await {
            Ok(user) => user,
            Err(RepoError::Conflict(ConflictKey::Email)) => {
                tracing::info!("sign-up refused: email taken");
                return Err(AuthError::EmailTaken);
            }
            Err(e) => return Err(e.into()),
        };
        let token = self.issue(&user)?;
        self.welcome(&user).await;
        metrics::counter!("altrion_signups_total").increment(1);
        tracing::info!(event = "signup", user_id = %user.id, "signed up");
        Ok(Authenticated { user, token })
    }
}

fn validate(request: SignupRequest) -> Result<(DisplayName, Email, Password), AuthError> {
    let mut errors = Vec::new();
    let mut reject = |field: &'static str, message: String| {
        errors.push(FieldError { field, message });
    };
    let name = DisplayName::parse(&request.name)
        .map_err(|e| reject("name", e.to_string()))
        .ok();
    let email = Email::parse(&request.email)
        .map_err(|e| reject("email", e.to_string()))
        .ok();
    let password = match &email {
        Some(email) => Password::new(request.password, email)
            .map_err(|e| e.to_string())
            .and_then(|p| strong_enough(p, email, &request.name))
            .map_err(|message| reject("password", message))
            .ok(),
        None => {
            // The length rules still apply; "same as the email" cannot be judged without one.
            if let Some(Err(e)) = placeholder_email().map(|p| Password::new(request.password, &p)) {
                if e != PasswordError::SameAsEmail {
                    reject("password", e.to_string());
                }
            }
            None
        }
    };
    match (name, email, password) {
        (Some(name), Some(email), Some(password)) if errors.is_empty() => {
            Ok((name, email, password))
        }
        _ => Err(AuthError::Validation(errors)),
    }
}

/// zxcvbn's score below which a password is refused: 0 and 1 are guessed in under a million
/// tries ("password", "12345678", "qwertyuiop", keyboard walks, dates, repeats), the lists an
/// online attacker tries first (ASVS 6.2.4 asks for at least the top 3,000).
const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Two;

/// Refuses passwords zxcvbn's dictionaries (common passwords, names, words, the user's own
/// email and name) guess too easily, saying why.
pub(crate) fn strong_enough(
    password: Password,
    email: &Email,
    name: &str,
) -> Result<Password, String> {
    let local = email.as_str().split('@').next().unwrap_or_default();
    let estimate = zxcvbn::zxcvbn(password.expose(), &[local, email.as_str(), name.trim()]);
    if estimate.score() >= MIN_STRENGTH {
        return Ok(password);
    }
    let why = estimate
        .feedback()
        .and_then(|f| f.warning())
        .map_or_else(|| "it is too easy to guess".to_owned(), |w| w.to_string());
    Err(format!(
        "password is too common or too easy to guess: {why}"
    ))
}

fn placeholder_email() -> Option<Email> {
    Email::parse("placeholder@example.invalid").ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fields(name: &str, email: &str, password: &str) -> Vec<&'static str> {
        let request = SignupRequest {
            name: name.into(),
            email: email.into(),
            password: password.into(),
        };
        match validate(request) {
            Ok(_) => vec![],
            Err(AuthError::Validation(errors)) => errors.iter().map(|e| e.field).collect(),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn password_length_is_checked_even_when_the_email_is_invalid() {
        assert_eq!(fields("Ada", "nope", "short"), vec!["email", "password"]);
        assert_eq!(fields("Ada", "nope", "long enough"), vec!["email"]);
        assert_eq!(
            fields("Ada", "ada@example.com", "password"),
            vec!["password"]
        );
        assert_eq!(
            fields("Ada", "nope", "placeholder@example.invalid"),
            vec!["email"]
        );
        assert_eq!(
            fields("Ada", "ada@example.com", "long enough"),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn common_and_personal_passwords_are_refused_with_the_reason() {
        let request = |name: &str, email: &str, password: &str| SignupRequest {
            name: name.into(),
            email: email.into(),
            password: password.into(),
        };
        for (name, email, password) in [
            ("Ada", "ada@example.com", "password"),
            ("Ada", "ada@example.com", "12345678"),
            ("Ada", "ada@example.com", "qwertyuiop"),
            ("Ada", "ada@example.com", "iloveyou123"),
            ("Grace Hopper", "grace@example.com", "gracehopper"),
        ] {
            match validate(request(name, email, password)) {
                Err(AuthError::Validation(errors)) => {
                    assert_eq!(errors.len(), 1, "{password}");
                    assert_eq!(errors[0].field, "password");
                    assert!(
                        errors[0].message.contains("too common"),
                        "{}",
                        errors[0].message
                    );
                }
                other => panic!("{password:?} was accepted: {:?}", other.map(|_| ())),
            }
        }
        match validate(request("Ada", "ada@example.com", "password")) {
            Err(AuthError::Validation(errors)) => {
                assert!(
                    errors[0].message.contains("top-10"),
                    "{}",
                    errors[0].message
                );
            }
            _ => panic!("refused above"),
        }
        assert!(validate(request("Ada", "ada@example.com", "correct horse battery")).is_ok());
    }
}
