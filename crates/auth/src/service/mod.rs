//! The sign-in use cases, generic over the domain ports.

mod login;
mod signup;

use std::{fmt, sync::Arc};

use altrion_domain::{Clock, RepoError, SessionRepository, User, UserId, UserRepository};
use serde::Deserialize;

use crate::{AuthError, ConfigError, IssuedToken, LockoutPolicy, PasswordHasher, TokenService};

pub use login::MAX_LOGIN_PASSWORD_BYTES;

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

/// A signed-in user and their new access token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub token: IssuedToken,
}

/// Email/password sign-up and login, token authentication and "log out everywhere".
/// Cheap to clone; share one per process.
#[derive(Debug, Clone)]
pub struct AuthService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    clock: Arc<dyn Clock>,
    hasher: PasswordHasher,
    tokens: TokenService,
    lockout: LockoutPolicy,
}

impl AuthService {
    /// Wires the use cases to their ports and policies.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when the lockout policy is unusable.
    pub fn new(
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
        clock: Arc<dyn Clock>,
        hasher: PasswordHasher,
        tokens: TokenService,
        lockout: LockoutPolicy,
    ) -> Result<Self, ConfigError> {
        lockout.validate()?;
        Ok(Self {
            users,
            sessions,
            clock,
            hasher,
            tokens,
            lockout,
        })
    }

    /// The same service over other handles on the same stores (a server opens a database
    /// client per worker); hasher, tokens and policy stay shared.
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

    /// The user a bearer token speaks for.
    ///
    /// # Errors
    /// [`AuthError::Unauthorized`] when the token is invalid or expired, its user no longer
    /// exists, or it predates the user's last "log out everywhere" (`tv` is stale);
    /// [`AuthError::Unavailable`] / [`AuthError::Internal`] from the store.
    pub async fn authenticate_token(&self, token: &str) -> Result<User, AuthError> {
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
        Ok(user)
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
        tracing::info!(user_id = %id, token_version = version, sessions, "logged out everywhere");
        Ok(())
    }

    /// The password hasher (shared with clones of this service).
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The token service (shared with clones of this service).
    pub fn tokens(&self) -> &TokenService {
        &self.tokens
    }

    fn issue(&self, user: &User) -> Result<IssuedToken, AuthError> {
        self.tokens
            .issue(user, self.clock.now())
            .map_err(|e| AuthError::Internal(Box::new(e)))
    }
}
