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
        tracing::info!(user_id = %user.id, "signed up");
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
            .map_err(|e| reject("password", e.to_string()))
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
            fields("Ada", "nope", "placeholder@example.invalid"),
            vec!["email"]
        );
        assert_eq!(
            fields("Ada", "ada@example.com", "long enough"),
            Vec::<&str>::new()
        );
    }
}
