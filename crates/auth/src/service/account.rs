//! What a signed-in user does to their own account: see and end their sessions, change (or
//! set) the password, delete it.

use altrion_domain::{Password, RepoError, SessionRecord, User, UserId};

use super::{signup::strong_enough, AuthService, Authenticated, Reauthentication};
use crate::{AuthError, FieldError};

impl AuthService {
    /// Changes the password of `user` (or sets one on an account that has none), after a
    /// fresh proof of identity: the current password, checked under the lockout (a wrong one
    /// counts), or for an account without a password a recent sign-in. The new password obeys
    /// the sign-up rules. In one write the hash is replaced, the token version bumped (every
    /// other JWT dies) and the lockout cleared — only while the user still has the token version
    /// `user` was read with, so a change racing "log out everywhere", a reset or a take-over
    /// loses (`Unauthorized`); then every session of the user is deleted —
    /// the caller renews the current one if it wants to stay signed in. Returns a new token.
    ///
    /// # Errors
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::Locked`],
    /// [`AuthError::Validation`] (field `new_password`), [`AuthError::Unauthorized`] when the
    /// user is gone; store and hasher errors.
    pub async fn change_password(
        &self,
        user: &User,
        proof: Reauthentication<'_>,
        new_password: String,
    ) -> Result<Authenticated, AuthError> {
        self.reauthenticate(user, proof).await?;
        let password = Password::new(new_password, &user.email)
            .map_err(|e| e.to_string())
            .and_then(|p| strong_enough(p, &user.email, user.name.as_str()))
            .map_err(|message| {
                AuthError::Validation(vec![FieldError {
                    field: "new_password",
                    message,
                }])
            })?;
        let hash = self.hasher.hash(&password).await?;
        let user = match self
            .users
            .replace_password(&user.id, hash, self.clock.now(), user.token_version)
            .await
        {
            Ok(user) => user,
            Err(RepoError::NotFound) => return Err(AuthError::Unauthorized),
            Err(e) => return Err(e.into()),
        };
        let sessions = self.sessions.delete_for_user(&user.id).await?;
        tracing::info!(event = "password_changed", user_id = %user.id, sessions, "password changed");
        let token = self.issue(&user)?;
        Ok(Authenticated { user, token })
    }

    /// Deletes `user` and every session of theirs, after a fresh proof of identity. Their JWTs
    /// die with the account (the user no longer exists); the email is free again.
    ///
    /// # Errors
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::Locked`]; store errors.
    pub async fn delete_account(
        &self,
        user: &User,
        proof: Reauthentication<'_>,
    ) -> Result<(), AuthError> {
        self.reauthenticate(user, proof).await?;
        // Conditional on the version the caller was read with: a proof by a recent sign-in
        // writes nothing, so this is what refuses a credential revoked meanwhile.
        if !self.users.delete(&user.id, user.token_version).await? {
            return Err(AuthError::Unauthorized);
        }
        let sessions = self.sessions.delete_for_user(&user.id).await?;
        tracing::info!(event = "account_deleted", user_id = %user.id, sessions, "account deleted");
        Ok(())
    }

    /// The live server-side sessions of `user`, newest first (a JWT has none).
    ///
    /// # Errors
    /// Store errors.
    pub async fn sessions_of(&self, user: &UserId) -> Result<Vec<SessionRecord>, AuthError> {
        Ok(self.sessions.list_for_user(user, self.clock.now()).await?)
    }

    /// Ends the session of `user` listed with `public_id`; its cookie signs no one in from the
    /// next request on. `false` when `user` has no such session (another user's id included).
    ///
    /// # Errors
    /// Store errors.
    pub async fn revoke_session(&self, user: &UserId, public_id: &str) -> Result<bool, AuthError> {
        let deleted = self.sessions.delete_by_public_id(user, public_id).await?;
        if deleted {
            tracing::info!(event = "session_revoked", user_id = %user, "session revoked");
        }
        Ok(deleted)
    }
}
