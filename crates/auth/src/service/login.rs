use altrion_domain::{Email, PasswordHash, RepoError, Timestamp, User};

use super::{AuthService, Authenticated, LoginRequest};
use crate::{AuthError, LockoutStatus, Verified};

/// Longer passwords are refused at login without hashing them (sign-up allows at most 128
/// characters, i.e. at most 512 bytes), bounding the work one request can cause.
pub const MAX_LOGIN_PASSWORD_BYTES: usize = 1024;

impl AuthService {
    /// Checks an email and password and issues a token. Writes no session.
    ///
    /// Every refusal that could tell an attacker whether the email has an account (malformed
    /// or unknown email, OAuth-only account, wrong or over-long password) is
    /// [`AuthError::InvalidCredentials`] after exactly one password verification, a dummy one
    /// where there is nothing real to check.
    ///
    /// # Errors
    /// [`AuthError::InvalidCredentials`] as above; [`AuthError::Locked`] while the account is
    /// locked by the [`LockoutPolicy`](crate::LockoutPolicy) (the password is not checked and
    /// the attempt is not counted); [`AuthError::Unavailable`] / [`AuthError::Internal`].
    #[tracing::instrument(name = "auth.login", skip_all)]
    pub async fn login(&self, request: LoginRequest) -> Result<Authenticated, AuthError> {
        let LoginRequest { email, password } = request;
        let Ok(email) = Email::parse(&email) else {
            return self
                .refuse_without_account(&password, "malformed_email")
                .await;
        };
        let Some(user) = self.users.find_by_email(&email).await? else {
            return self
                .refuse_without_account(&password, "unknown_email")
                .await;
        };

        if let LockoutStatus::Locked { retry_after } =
            self.lockout.status(user.locked_until, self.clock.now())
        {
            tracing::info!(user_id = %user.id, outcome = "locked", "login refused");
            return Err(AuthError::Locked { retry_after });
        }

        let verified = match &user.password_hash {
            Some(hash) if password.len() <= MAX_LOGIN_PASSWORD_BYTES => {
                self.hasher.verify(&password, hash).await?
            }
            _ => {
                self.hasher.verify_dummy(dummy_input(&password)).await?;
                Verified::Invalid
            }
        };
        match verified {
            Verified::Valid { needs_rehash } => self.succeed(user, &password, needs_rehash).await,
            Verified::Invalid => {
                self.record_failure(&user).await?;
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    async fn refuse_without_account(
        &self,
        password: &str,
        reason: &'static str,
    ) -> Result<Authenticated, AuthError> {
        self.hasher.verify_dummy(dummy_input(password)).await?;
        tracing::info!(outcome = "invalid_credentials", reason, "login failed");
        Err(AuthError::InvalidCredentials)
    }

    async fn record_failure(&self, user: &User) -> Result<(), AuthError> {
        let now = self.clock.now();
        let failures = match self.users.record_failed_login(&user.id, now).await {
            Ok(failures) => failures,
            Err(RepoError::NotFound) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let locked_until = self.lockout.lock_until(failures, now);
        if let Some(until) = locked_until {
            match self.users.lock_until(&user.id, until).await {
                Ok(()) | Err(RepoError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        tracing::info!(
            user_id = %user.id,
            outcome = "invalid_credentials",
            failures,
            locked = locked_until.is_some(),
            "login failed"
        );
        Ok(())
    }

    async fn succeed(
        &self,
        mut user: User,
        password: &str,
        needs_rehash: bool,
    ) -> Result<Authenticated, AuthError> {
        let rehashed = if needs_rehash {
            self.rehash(&user, password).await
        } else {
            None
        };
        let now = self.clock.now();
        match self
            .users
            .record_login(&user.id, now, rehashed.clone())
            .await
        {
            Ok(()) => {}
            // Deleted between the lookup and now: as if it never existed.
            Err(RepoError::NotFound) => return Err(AuthError::InvalidCredentials),
            Err(e) => return Err(e.into()),
        }
        apply_login(&mut user, now, rehashed);
        let token = self.issue(&user)?;
        tracing::info!(user_id = %user.id, outcome = "success", rehashed = needs_rehash, "logged in");
        Ok(Authenticated { user, token })
    }

    /// A failed re-hash must not fail the login: the old hash still works.
    async fn rehash(&self, user: &User, password: &str) -> Option<PasswordHash> {
        match self.hasher.hash_plaintext(password).await {
            Ok(hash) => Some(hash),
            Err(error) => {
                tracing::warn!(user_id = %user.id, %error, "password re-hash failed");
                None
            }
        }
    }
}

/// Mirrors what `record_login` stored, so the caller gets the current user without a re-read.
fn apply_login(user: &mut User, now: Timestamp, rehashed: Option<PasswordHash>) {
    user.failed_logins = 0;
    user.locked_until = None;
    user.last_login_at = Some(now);
    user.updated_at = now;
    if let Some(hash) = rehashed {
        user.password_hash = Some(hash);
    }
}

/// What a dummy verification hashes: the password when reasonable, else nothing of it (argon2's
/// cost does not depend on the input's length, so the timing is unchanged).
fn dummy_input(password: &str) -> &str {
    if password.len() <= MAX_LOGIN_PASSWORD_BYTES {
        password
    } else {
        ""
    }
}
