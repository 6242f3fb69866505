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

    /// Atomically counts one more failed password login; returns the new count.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the user does not exist.
    async fn record_failed_login(&self, id: &UserId, at: Timestamp) -> Result<u32, RepoError>;

    /// Refuses password logins until `until`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the user does not exist.
    async fn lock_until(&self, id: &UserId, until: Timestamp) -> Result<(), RepoError>;

    /// Records a successful login: clears failures and lock, sets `last_login_at`, and replaces
    /// the password hash when `rehashed` is given (parameters changed since it was made).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the user does not exist.
    async fn record_login(
        &self,
        id: &UserId,
        at: Timestamp,
        rehashed: Option<PasswordHash>,
    ) -> Result<(), RepoError>;

    /// Increments `token_version` (every JWT issued before dies); returns the new value.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the user does not exist.
    async fn bump_token_version(&self, id: &UserId, at: Timestamp) -> Result<i64, RepoError>;

    /// Links another provider identity to an existing user; returns the updated user.
    /// Linking an identity the user already has is a no-op.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the user does not exist;
    /// [`RepoError::Conflict`] with [`ConflictKey::Identity`](crate::ConflictKey::Identity) when
    /// another user already has this identity.
    async fn link_identity(
        &self,
        id: &UserId,
        identity: Identity,
        at: Timestamp,
    ) -> Result<User, RepoError>;
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

    /// Replaces the state, user and expiry of a live session and sets `last_modified = now`.
    /// Returns `false`, writing nothing, when no live session has this id: a deleted or expired
    /// session is never brought back.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn update_state(
        &self,
        id: &SessionId,
        state: SessionState,
        user_id: Option<UserId>,
        expires: Timestamp,
        now: Timestamp,
    ) -> Result<bool, RepoError>;

    /// The lazy touch: in one conditional write, sets `expires` and `last_modified = now` only
    /// when the session is live and `last_modified` is before `stale_before`. Returns whether
    /// it wrote.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn touch(
        &self,
        id: &SessionId,
        expires: Timestamp,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> Result<bool, RepoError>;

    /// Deletes the session if it exists.
    ///
    /// # Errors
    /// Only the store-wide errors; deleting a missing session succeeds.
    async fn delete(&self, id: &SessionId) -> Result<(), RepoError>;

    /// Deletes every session of `user`; returns how many were deleted.
    ///
    /// # Errors
    /// Only the store-wide errors.
    async fn delete_for_user(&self, user: &UserId) -> Result<u64, RepoError>;
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
