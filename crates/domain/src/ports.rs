use async_trait::async_trait;

use crate::{
    Email, Identity, NewUser, PasswordHash, Provider, RepoError, SessionId, SessionRecord,
    SessionState, Timestamp, User, UserId,
};

/// Persistence of user accounts.
///
/// Every method may also fail with [`RepoError::Unavailable`] when the store cannot be reached,
/// and [`RepoError::Other`] for anything unexpected; the sections below name the other cases.
#[async_trait]
pub trait UserRepository: Send + Sync + std::fmt::Debug {
    /// Stores a new user with `token_version` 0 and no failed logins.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] with [`ConflictKey::Email`](crate::ConflictKey::Email) when the
    /// email is taken, or [`ConflictKey::Identity`](crate::ConflictKey::Identity) when the
    /// identity is linked to another user; nothing is written then.
    async fn create(&self, user: NewUser) -> Result<User, RepoError>;

    /// The user with this id, if any.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn find_by_id(&self, id: &UserId) -> Result<Option<User>, RepoError>;

    /// The user with this (normalised) email, if any.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError>;

    /// The user linked to this provider account, if any.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn find_by_identity(
        &self,
        provider: Provider,
        subject: &str,
    ) -> Result<Option<User>, RepoError>;

    /// Claims one password attempt *before* the password is checked, counting it as a failure
    /// (a success clears it afterwards with [`record_login`](Self::record_login)). One
    /// conditional write: it matches only while the user still has
    /// `attempt.expected_failures` consecutive failures and no lock in force at `attempt.now`,
    /// and then sets the count to `expected_failures + 1` and, when given, the lock. Concurrent
    /// attempts judged on the same read therefore claim one at a time: the others get `false`,
    /// re-read and decide again, so no burst evaluates more guesses than the policy allows.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] is never returned: a missing user is `Ok(false)`.
    async fn claim_login_attempt(
        &self,
        id: &UserId,
        attempt: LoginAttempt,
    ) -> Result<bool, RepoError>;

    /// Records a successful login: clears failures and lock, sets `last_login_at`, and replaces
    /// the password hash when `rehashed` is given (parameters changed since it was made) — in
    /// one conditional write that matches only while the user still has
    /// `expected_token_version`, the version of the state the password was checked against: a
    /// reset, password change, take-over or "log out everywhere" that landed while the password
    /// was being verified voids the login (and its re-hash of the old password). Returns the
    /// user as stored afterwards.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the user does not exist or no longer has that version.
    async fn record_login(
        &self,
        id: &UserId,
        at: Timestamp,
        rehashed: Option<PasswordHash>,
        expected_token_version: i64,
    ) -> Result<User, RepoError>;

    /// Increments `token_version` (every JWT issued before dies); returns the new value.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the user does not exist.
    async fn bump_token_version(&self, id: &UserId, at: Timestamp) -> Result<i64, RepoError>;

    /// Links another provider identity to an existing user whose `token_version` is still
    /// `token_version`, in one conditional write: a "log out everywhere" that bumped the version
    /// in between cancels the link, however the two race. Returns the updated user. Linking an
    /// identity the user already has is a no-op.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the user does not exist or no longer has that token
    /// version; [`RepoError::Conflict`] with
    /// [`ConflictKey::Identity`](crate::ConflictKey::Identity) when another user already has
    /// this identity.
    async fn link_identity(
        &self,
        id: &UserId,
        identity: Identity,
        at: Timestamp,
        token_version: i64,
    ) -> Result<User, RepoError>;

    /// Removes every identity of `provider` from the user, in one conditional write that only
    /// matches while another way to sign in remains (a password, or an identity of another
    /// provider) and while the user still has `expected_token_version`, the version of the
    /// credential the unlink was authorised with: two concurrent unlinks can never leave an
    /// account nobody can sign in to, and one racing "log out everywhere", a reset or a
    /// take-over cannot land after it.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the user does not exist or no longer has that version.
    async fn unlink_provider(
        &self,
        id: &UserId,
        provider: Provider,
        at: Timestamp,
        expected_token_version: i64,
    ) -> Result<Unlinked, RepoError>;

    /// Sets a new password hash and, in the same write, increments `token_version` (every JWT
    /// issued before dies) and clears the lockout — in one conditional write that matches only
    /// while the user still has `expected_token_version`, the version of the credential the
    /// change was authorised with: a change racing "log out everywhere", a reset or a take-over
    /// cannot land after it. Returns the user as stored afterwards.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the user does not exist or no longer has that version.
    async fn replace_password(
        &self,
        id: &UserId,
        hash: PasswordHash,
        at: Timestamp,
        expected_token_version: i64,
    ) -> Result<User, RepoError>;

    /// Deletes the user while it still has `expected_token_version`, the version of the
    /// credential the deletion was authorised with (one conditional write, so a deletion racing
    /// "log out everywhere" or a reset cannot land after it); returns whether it was deleted
    /// (`false` when it does not exist or no longer has that version).
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn delete(&self, id: &UserId, expected_token_version: i64) -> Result<bool, RepoError>;

    /// Counts one mail of `kind` against the user's sliding-window quota, in one conditional
    /// write: it matches only while fewer than `quota.max` mails of this kind were counted in
    /// the `quota.window` before `quota.now`, so concurrent requests on any number of instances
    /// never send more. Returns whether the mail may be sent (`false` for a missing user too).
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn claim_mail_quota(
        &self,
        id: &UserId,
        kind: MailKind,
        quota: MailQuota,
    ) -> Result<bool, RepoError>;

    /// Marks the email verified, in one conditional write that matches only while the user
    /// still has this `email` and has not verified it: a verification link works once.
    /// Returns the user as stored afterwards, or `None` when nothing matched.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn mark_email_verified(
        &self,
        id: &UserId,
        email: &Email,
        at: Timestamp,
    ) -> Result<Option<User>, RepoError>;

    /// Password recovery: in one conditional write that matches only while the user's
    /// `token_version` is still `expected_token_version`, sets the new hash, marks the email
    /// verified (the reset link proved it), increments `token_version` and clears the lockout.
    /// An account whose email was unverified until now also loses every linked identity: they
    /// were added by whoever held the account before its address was proven (a squatter), and
    /// would otherwise stay a way in.
    /// Two uses of one reset token therefore cannot both succeed, and any password change or
    /// "log out everywhere" in between voids it. Returns the user as stored afterwards, or
    /// `None` when nothing matched.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn reset_password(
        &self,
        id: &UserId,
        hash: PasswordHash,
        at: Timestamp,
        expected_token_version: i64,
    ) -> Result<Option<User>, RepoError>;

    /// Hands an account whose email was never verified to the verified owner of that email:
    /// in one conditional write that matches only while the user still has `email` unverified,
    /// removes the password and every identity, links `identity`, marks the email verified,
    /// increments `token_version` (the squatter's JWTs die) and clears the lockout. Returns the
    /// user as stored afterwards, or `None` when nothing matched (verified meanwhile, or gone).
    ///
    /// # Errors
    /// [`RepoError::Conflict`] with [`ConflictKey::Identity`](crate::ConflictKey::Identity)
    /// when another user has this identity.
    async fn take_over(
        &self,
        id: &UserId,
        email: &Email,
        identity: Identity,
        at: Timestamp,
    ) -> Result<Option<User>, RepoError>;
}

/// The kinds of mail a per-user quota counts separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    PasswordReset,
    EmailVerification,
}

impl MailKind {
    /// The kind's name in storage and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "passwordReset",
            Self::EmailVerification => "emailVerification",
        }
    }
}

/// A sliding-window limit for [`UserRepository::claim_mail_quota`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailQuota {
    pub now: Timestamp,
    pub window: time::Duration,
    /// At least 1.
    pub max: u32,
}

/// What [`UserRepository::claim_login_attempt`] compares and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempt {
    /// The consecutive failures the caller's read saw (a missing count is 0).
    pub expected_failures: u32,
    /// The instant the lock is judged at.
    pub now: Timestamp,
    /// The lock this attempt earns if it fails, set by the claim itself.
    pub lock_until: Option<Timestamp>,
}

/// The outcome of [`UserRepository::unlink_provider`].
#[derive(Debug, Clone, PartialEq)]
pub enum Unlinked {
    /// The identities are gone; the user as stored afterwards.
    Removed(Box<User>),
    /// The user has no identity of this provider; nothing changed.
    NotLinked,
    /// It is the user's last way to sign in; nothing changed.
    LastSignInMethod,
}

/// Persistence of server-side sessions. Expiry is always judged against the `now` passed in,
/// never by the store's own clock, and no method ever creates a document except `insert`.
///
/// Every method may also fail with [`RepoError::Unavailable`] or [`RepoError::Other`].
#[async_trait]
pub trait SessionRepository: Send + Sync + std::fmt::Debug {
    /// Stores a new session; never overwrites.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] with [`ConflictKey::Id`](crate::ConflictKey::Id) when the id
    /// exists (the caller retries with a fresh key).
    async fn insert(&self, record: SessionRecord) -> Result<(), RepoError>;

    /// The session with this id if its `expires` is after `now`.
    ///
    /// # Errors
    /// Only the store-wide errors; an expired or missing session is `Ok(None)`.
    async fn find_active(
        &self,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, RepoError>;

    /// Replaces the state, user and expiry of a live session and sets `last_modified` to
    /// `update.now`. Returns `false`, writing nothing, when no live session has this id: a
    /// deleted or expired session is never brought back.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn update_state(&self, id: &SessionId, update: SessionUpdate) -> Result<bool, RepoError>;

    /// The lazy touch: in one conditional write, sets `expires` and `last_modified = now` only
    /// when the session is live, was last modified before `stale_before`, and was created at or
    /// after `created_since` (so the new expiry stays inside its absolute lifetime). Returns
    /// whether it wrote.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn touch(&self, id: &SessionId, touch: Touch) -> Result<bool, RepoError>;

    /// Deletes the session if it exists.
    ///
    /// # Errors
    /// Only the store-wide errors; deleting a missing session succeeds.
    async fn delete(&self, id: &SessionId) -> Result<(), RepoError>;

    /// The live sessions of `user` at `now`, newest first.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn list_for_user(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<Vec<SessionRecord>, RepoError>;

    /// Deletes the session of `user` whose state carries this public handle
    /// (`public_id`, see `SessionRecord::public_id`); returns whether one was deleted. Another
    /// user's session is never touched.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn delete_by_public_id(&self, user: &UserId, public_id: &str) -> Result<bool, RepoError>;

    /// Deletes every session of `user`; returns how many were deleted.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn delete_for_user(&self, user: &UserId) -> Result<u64, RepoError>;
}

/// What [`SessionRepository::update_state`] writes.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionUpdate {
    pub state: SessionState,
    /// The signed-in user, mirrored from the state.
    pub user_id: Option<UserId>,
    pub expires: Timestamp,
    /// The instant liveness is judged at and `last_modified` is set to.
    pub now: Timestamp,
}

/// The conditions and the new expiry of a [`SessionRepository::touch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    /// Liveness is judged at this instant, and `last_modified` is set to it.
    pub now: Timestamp,
    /// Only a session last modified before this is touched (the lazy-touch window).
    pub stale_before: Timestamp,
    /// Only a session created at or after this is touched (`expires − absolute lifetime`).
    pub created_since: Timestamp,
    /// The new expiry.
    pub expires: Timestamp,
}

/// Whether the backing store answers; drives `GET /api/ready`.
#[async_trait]
pub trait Readiness: Send + Sync + std::fmt::Debug {
    /// Succeeds when the store answers a ping.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when it does not answer in time.
    async fn ping(&self) -> Result<(), RepoError>;
}
