//! The sign-in use cases, generic over the domain ports.

mod account;
mod builder;
mod login;
mod recovery;
mod signup;

use std::{fmt, sync::Arc};

use altrion_domain::{
    Clock, Provider, RepoError, SessionRepository, Timestamp, Unlinked, User, UserId,
    UserRepository,
};
use serde::Deserialize;
use time::Duration;

use crate::{AuthError, IssuedToken, LockoutPolicy, PasswordHasher, TokenService};

pub use builder::AuthServiceBuilder;
pub use login::MAX_LOGIN_PASSWORD_BYTES;
pub use recovery::{MailPolicy, ResetRequested};

/// `POST /api/auth/signup` input, as typed by the user (validated by [`AuthService::signup`]).
#[derive(Clone, Deserialize)]
pub struct SignupRequest {
    pub name: String,
    pub email: String,
    pub password: String,
}

/// `POST /api/auth/login` input.
#[derive(Clone, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

impl fmt::Debug for SignupRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignupRequest")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The user a bearer token speaks for, and when the token was issued (its sign-in time).
#[derive(Debug, Clone)]
pub struct TokenUser {
    pub user: User,
    pub issued_at: Timestamp,
}

/// The fresh proof of identity a sensitive change comes with.
#[derive(Clone, Copy, Default)]
pub struct Reauthentication<'a> {
    /// The current password, as typed (required when the account has one).
    pub password: Option<&'a str>,
    /// When the caller's credential was obtained (JWT `iat`, or the session's sign-in).
    pub signed_in_at: Option<Timestamp>,
}

impl fmt::Debug for Reauthentication<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reauthentication")
            .field("password", &self.password.map(|_| "<redacted>"))
            .field("signed_in_at", &self.signed_in_at)
            .finish()
    }
}

/// The default re-authentication window: a sign-in younger than this counts as fresh proof for
/// accounts without a password.
pub const DEFAULT_REAUTH_WINDOW: Duration = Duration::minutes(10);

/// A signed-in user and their new access token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub token: IssuedToken,
}

/// Email/password sign-up and login, token authentication and "log out everywhere".
/// Made with [`AuthService::builder`]. Cheap to clone; share one per process.
#[derive(Debug, Clone)]
pub struct AuthService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    clock: Arc<dyn Clock>,
    hasher: PasswordHasher,
    tokens: TokenService,
    lockout: LockoutPolicy,
    reauth_window: Duration,
    mail: Option<recovery::MailSetup>,
    require_verified_email: bool,
}

impl AuthService {
    /// The same service — hasher, token keys, policies, mailer and its pending-job limit —
    /// over other stores: for a database client per worker.
    #[must_use]
    pub fn with_stores(
        &self,
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
    ) -> Self {
        Self {
            users,
            sessions,
            ..self.clone()
        }
    }

    /// The clock the service reads "now" from.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The access-token keys the service issues and verifies with.
    pub fn tokens(&self) -> &TokenService {
        &self.tokens
    }

    /// The user a bearer token speaks for.
    ///
    /// # Errors
    /// [`AuthError::Unauthorized`] when the token is invalid or expired, its user no longer
    /// exists, or it predates the user's last "log out everywhere" (`tv` is stale);
    /// [`AuthError::Unavailable`] / [`AuthError::Internal`] from the store.
    pub async fn authenticate_token(&self, token: &str) -> Result<TokenUser, AuthError> {
        let claims = self.tokens.verify(token).map_err(|reason| {
            tracing::debug!(%reason, "bearer token refused");
            AuthError::Unauthorized
        })?;
        let user = self
            .users
            .find_by_id(&UserId::new(claims.sub))
            .await?
            .ok_or_else(|| {
                tracing::debug!("bearer token for an unknown user");
                AuthError::Unauthorized
            })?;
        if claims.tv != user.token_version {
            tracing::debug!(user_id = %user.id, "bearer token revoked by logout-all");
            return Err(AuthError::Unauthorized);
        }
        let issued_at =
            Timestamp::from_unix_timestamp(claims.iat).map_err(|_| AuthError::Unauthorized)?;
        Ok(TokenUser { user, issued_at })
    }

    /// Demands a fresh proof of identity from a signed-in `user` before a sensitive change
    /// (linking or unlinking a provider, and the like): the current password when the account
    /// has one — checked under the lockout policy like a login, so wrong guesses here count
    /// towards the lock — else a sign-in younger than the re-authentication window.
    ///
    /// # Errors
    /// [`AuthError::ReauthenticationRequired`] when the proof is missing, wrong or too old;
    /// [`AuthError::Locked`] while the account is locked; store and hasher errors.
    pub async fn reauthenticate(
        &self,
        user: &User,
        proof: Reauthentication<'_>,
    ) -> Result<(), AuthError> {
        if user.password_hash.is_none() {
            let fresh = proof
                .signed_in_at
                .is_some_and(|at| self.clock.now() - at < self.reauth_window);
            if fresh {
                return Ok(());
            }
            tracing::info!(event = "reauthentication_failed", user_id = %user.id, reason = "sign_in_too_old", "re-authentication refused");
            return Err(AuthError::ReauthenticationRequired);
        }
        let Some(password) = proof.password else {
            tracing::info!(event = "reauthentication_failed", user_id = %user.id, reason = "no_password_given", "re-authentication refused");
            return Err(AuthError::ReauthenticationRequired);
        };
        let checked = self.check_password(user.clone(), password).await?;
        match checked.verified {
            crate::Verified::Valid { needs_rehash } => {
                self.settle_success(&checked.user, password, needs_rehash)
                    .await
                    .map_err(|e| match e {
                        AuthError::InvalidCredentials => AuthError::Unauthorized,
                        other => other,
                    })?;
                Ok(())
            }
            crate::Verified::Invalid => {
                tracing::info!(event = "reauthentication_failed", user_id = %user.id, reason = "wrong_password", failures = checked.failures, "re-authentication refused");
                Err(AuthError::ReauthenticationRequired)
            }
        }
    }

    /// Removes `provider` from the user's ways to sign in. Call
    /// [`reauthenticate`](Self::reauthenticate) first.
    ///
    /// # Errors
    /// [`AuthError::NotLinked`]; [`AuthError::LastSignInMethod`] when it is the only way left
    /// (decided in the same write, so concurrent unlinks cannot both pass);
    /// [`AuthError::Unauthorized`] when the user no longer exists; store errors.
    pub async fn unlink(&self, user: &User, provider: Provider) -> Result<User, AuthError> {
        match self
            .users
            .unlink_provider(&user.id, provider, self.clock.now(), user.token_version)
            .await
        {
            Ok(Unlinked::Removed(user)) => {
                let user = *user;
                tracing::info!(event = "identity_unlinked", user_id = %user.id, %provider, "identity unlinked");
                Ok(user)
            }
            Ok(Unlinked::NotLinked) => Err(AuthError::NotLinked),
            Ok(Unlinked::LastSignInMethod) => Err(AuthError::LastSignInMethod),
            Err(RepoError::NotFound) => Err(AuthError::Unauthorized),
            Err(e) => Err(e.into()),
        }
    }

    /// The user a session (cookie path) belongs to.
    ///
    /// # Errors
    /// [`AuthError::Unauthorized`] when the user no longer exists; store errors as above.
    pub async fn current_user(&self, id: &UserId) -> Result<User, AuthError> {
        self.users
            .find_by_id(id)
            .await?
            .ok_or(AuthError::Unauthorized)
    }

    /// Revokes every token issued to the user so far and deletes all their sessions.
    ///
    /// # Errors
    /// [`AuthError::Unauthorized`] when the user no longer exists; store errors as above.
    pub async fn logout_all(&self, id: &UserId) -> Result<(), AuthError> {
        let now = self.clock.now();
        let version = match self.users.bump_token_version(id, now).await {
            Ok(version) => version,
            Err(RepoError::NotFound) => return Err(AuthError::Unauthorized),
            Err(e) => return Err(e.into()),
        };
        let sessions = self.sessions.delete_for_user(id).await?;
        tracing::info!(event = "logout_all", user_id = %id, token_version = version, sessions, "logged out everywhere");
        Ok(())
    }

    fn issue(&self, user: &User) -> Result<IssuedToken, AuthError> {
        self.tokens
            .issue(user, self.clock.now())
            .map_err(|e| AuthError::Internal(Box::new(e)))
    }
}
