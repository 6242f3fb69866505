use altrion_domain::{
    Email, Identity, LoginAttempt, MailKind, MailQuota, NewUser, PasswordHash, Provider, Readiness,
    RepoError, SessionId, SessionRecord, SessionRepository, SessionUpdate, Timestamp, Touch,
    Unlinked, User, UserId, UserRepository,
};
use async_trait::async_trait;

/// Stores whose database is down: every call of every port fails with
/// [`RepoError::Unavailable`], as the MongoDB adapters do when no server answers. For tests of
/// what callers make of an outage (a `503`, a retry, nothing half-written).
#[derive(Debug, Default, Clone, Copy)]
pub struct Unreachable;

fn down<T>() -> Result<T, RepoError> {
    Err(RepoError::Unavailable("the database is unreachable".into()))
}

#[async_trait]
impl UserRepository for Unreachable {
    async fn create(&self, _: NewUser) -> Result<User, RepoError> {
        down()
    }
    async fn find_by_id(&self, _: &UserId) -> Result<Option<User>, RepoError> {
        down()
    }
    async fn find_by_email(&self, _: &Email) -> Result<Option<User>, RepoError> {
        down()
    }
    async fn find_by_identity(&self, _: Provider, _: &str) -> Result<Option<User>, RepoError> {
        down()
    }
    async fn claim_login_attempt(&self, _: &UserId, _: LoginAttempt) -> Result<bool, RepoError> {
        down()
    }
    async fn record_login(
        &self,
        _: &UserId,
        _: Timestamp,
        _: Option<PasswordHash>,
        _: i64,
    ) -> Result<User, RepoError> {
        down()
    }
    async fn bump_token_version(&self, _: &UserId, _: Timestamp) -> Result<i64, RepoError> {
        down()
    }
    async fn link_identity(
        &self,
        _: &UserId,
        _: Identity,
        _: Timestamp,
        _: i64,
    ) -> Result<User, RepoError> {
        down()
    }
    async fn unlink_provider(
        &self,
        _: &UserId,
        _: Provider,
        _: Timestamp,
        _: i64,
    ) -> Result<Unlinked, RepoError> {
        down()
    }
    async fn replace_password(
        &self,
        _: &UserId,
        _: PasswordHash,
        _: Timestamp,
        _: i64,
    ) -> Result<User, RepoError> {
        down()
    }
    async fn delete(&self, _: &UserId, _: i64) -> Result<bool, RepoError> {
        down()
    }
    async fn claim_mail_quota(
        &self,
        _: &UserId,
        _: MailKind,
        _: MailQuota,
    ) -> Result<bool, RepoError> {
        down()
    }
    async fn mark_email_verified(
        &self,
        _: &UserId,
        _: &Email,
        _: Timestamp,
    ) -> Result<Option<User>, RepoError> {
        down()
    }
    async fn reset_password(
        &self,
        _: &UserId,
        _: PasswordHash,
        _: Timestamp,
        _: i64,
    ) -> Result<Option<User>, RepoError> {
        down()
    }
    async fn take_over(
        &self,
        _: &UserId,
        _: &Email,
        _: Identity,
        _: Timestamp,
    ) -> Result<Option<User>, RepoError> {
        down()
    }
}

#[async_trait]
impl SessionRepository for Unreachable {
    async fn insert(&self, _: SessionRecord) -> Result<(), RepoError> {
        down()
    }
    async fn find_active(
        &self,
        _: &SessionId,
        _: Timestamp,
    ) -> Result<Option<SessionRecord>, RepoError> {
        down()
    }
    async fn update_state(&self, _: &SessionId, _: SessionUpdate) -> Result<bool, RepoError> {
        down()
    }
    async fn touch(&self, _: &SessionId, _: Touch) -> Result<bool, RepoError> {
        down()
    }
    async fn delete(&self, _: &SessionId) -> Result<(), RepoError> {
        down()
    }
    async fn list_for_user(
        &self,
        _: &UserId,
        _: Timestamp,
    ) -> Result<Vec<SessionRecord>, RepoError> {
        down()
    }
    async fn delete_by_public_id(&self, _: &UserId, _: &str) -> Result<bool, RepoError> {
        down()
    }
    async fn delete_for_user(&self, _: &UserId) -> Result<u64, RepoError> {
        down()
    }
}

#[async_trait]
impl Readiness for Unreachable {
    async fn ping(&self) -> Result<(), RepoError> {
        down()
    }
}
