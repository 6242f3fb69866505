use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

use altrion_domain::{
    ConflictKey, Email, Identity, LoginAttempt, MailKind, MailQuota, NewUser, PasswordHash,
    Provider, RepoError, Timestamp, Unlinked, User, UserId, UserRepository,
};
use async_trait::async_trait;

use super::lock;

/// Users kept in a map; ids look like MongoDB ObjectIds (24 hex digits).
#[derive(Debug, Default)]
pub struct MemoryUserRepository {
    users: Mutex<HashMap<UserId, User>>,
    /// When each kind of mail was counted for each user, newest first.
    mail_sent: Mutex<HashMap<(UserId, MailKind), Vec<Timestamp>>>,
    next_id: AtomicU64,
}

impl MemoryUserRepository {
    /// An empty repository.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many users are stored.
    pub fn len(&self) -> usize {
        lock(&self.users).len()
    }

    /// Whether no user is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn modify<T>(&self, id: &UserId, change: impl FnOnce(&mut User) -> T) -> Result<T, RepoError> {
        self.modify_where(id, |_| true, change)
    }

    /// `change` on the user `id` while its token version is still `expected`, else `NotFound`:
    /// one guard for the check and the write, as MongoDB's conditional update, so a reset or a
    /// revocation cannot land between them.
    fn modify_at_version<T>(
        &self,
        id: &UserId,
        expected: i64,
        change: impl FnOnce(&mut User) -> T,
    ) -> Result<T, RepoError> {
        self.modify_where(id, |u| u.token_version == expected, change)
    }

    fn modify_where<T>(
        &self,
        id: &UserId,
        matches: impl FnOnce(&User) -> bool,
        change: impl FnOnce(&mut User) -> T,
    ) -> Result<T, RepoError> {
        let mut users = lock(&self.users);
        let user = users
            .get_mut(id)
            .filter(|u| matches(u))
            .ok_or(RepoError::NotFound)?;
        Ok(change(user))
    }
}

fn has_identity(user: &User, provider: Provider, subject: &str) -> bool {
    user.identities
        .iter()
        .any(|i| i.provider == provider && i.subject == subject)
}

#[async_trait]
impl UserRepository for MemoryUserRepository {
    async fn create(&self, new: NewUser) -> Result<User, RepoError> {
        let mut users = lock(&self.users);
        if users.values().any(|u| u.email == new.email) {
            return Err(RepoError::Conflict(ConflictKey::Email));
        }
        if let Some(identity) = &new.identity {
            if users
                .values()
                .any(|u| has_identity(u, identity.provider, &identity.subject))
            {
                return Err(RepoError::Conflict(ConflictKey::Identity));
            }
        }
        let n = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let user = User {
            id: UserId::new(format!("{n:024x}")),
            name: new.name,
            email: new.email,
            email_verified: new.email_verified,
            password_hash: new.password_hash,
            provider: new.provider,
            identities: new.identity.into_iter().collect(),
            avatar_url: new.avatar_url,
            token_version: 0,
            failed_logins: 0,
            locked_until: None,
            created_at: new.created_at,
            updated_at: new.created_at,
            last_login_at: None,
        };
        users.insert(user.id.clone(), user.clone());
        Ok(user)
    }

    async fn find_by_id(&self, id: &UserId) -> Result<Option<User>, RepoError> {
        Ok(lock(&self.users).get(id).cloned())
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError> {
        Ok(lock(&self.users)
            .values()
            .find(|u| &u.email == email)
            .cloned())
    }

    async fn find_by_identity(
        &self,
        provider: Provider,
        subject: &str,
    ) -> Result<Option<User>, RepoError> {
        Ok(lock(&self.users)
            .values()
            .find(|u| has_identity(u, provider, subject))
            .cloned())
    }

    async fn claim_login_attempt(
        &self,
        id: &UserId,
        attempt: LoginAttempt,
    ) -> Result<bool, RepoError> {
        let mut users = lock(&self.users);
        let Some(user) = users.get_mut(id) else {
            return Ok(false);
        };
        let locked = user.locked_until.is_some_and(|until| until > attempt.now);
        if locked || user.failed_logins != attempt.expected_failures {
            return Ok(false);
        }
        user.failed_logins = attempt.expected_failures.saturating_add(1);
        if let Some(until) = attempt.lock_until {
            user.locked_until = Some(until);
        }
        user.updated_at = attempt.now;
        Ok(true)
    }

    async fn record_login(
        &self,
        id: &UserId,
        at: Timestamp,
        rehashed: Option<PasswordHash>,
        expected_token_version: i64,
    ) -> Result<User, RepoError> {
        self.modify_at_version(id, expected_token_version, |user| {
            user.failed_logins = 0;
            user.locked_until = None;
            user.last_login_at = Some(at);
            user.updated_at = at;
            if let Some(hash) = rehashed {
                user.password_hash = Some(hash);
            }
            user.clone()
        })
    }

    async fn bump_token_version(&self, id: &UserId, at: Timestamp) -> Result<i64, RepoError> {
        self.modify(id, |user| {
            user.token_version += 1;
            user.updated_at = at;
            user.token_version
        })
    }

    async fn link_identity(
        &self,
        id: &UserId,
        identity: Identity,
        at: Timestamp,
        token_version: i64,
    ) -> Result<User, RepoError> {
        let mut users = lock(&self.users);
        // As MongoDB's conditional write: a stale version matches nothing, whatever else holds.
        if users
            .get(id)
            .is_some_and(|u| u.token_version != token_version)
        {
            return Err(RepoError::NotFound);
        }
        if users
            .values()
            .any(|u| &u.id != id && has_identity(u, identity.provider, &identity.subject))
        {
            return Err(RepoError::Conflict(ConflictKey::Identity));
        }
        let user = users.get_mut(id).ok_or(RepoError::NotFound)?;
        if !has_identity(user, identity.provider, &identity.subject) {
            user.identities.push(identity);
            user.updated_at = at;
        }
        Ok(user.clone())
    }

    async fn unlink_provider(
        &self,
        id: &UserId,
        provider: Provider,
        at: Timestamp,
        expected_token_version: i64,
    ) -> Result<Unlinked, RepoError> {
        self.modify_at_version(id, expected_token_version, |user| {
            if !user.identities.iter().any(|i| i.provider == provider) {
                return Unlinked::NotLinked;
            }
            let another_way = user.password_hash.is_some()
                || user.identities.iter().any(|i| i.provider != provider);
            if !another_way {
                return Unlinked::LastSignInMethod;
            }
            user.identities.retain(|i| i.provider != provider);
            user.updated_at = at;
            Unlinked::Removed(Box::new(user.clone()))
        })
    }

    async fn replace_password(
        &self,
        id: &UserId,
        hash: PasswordHash,
        at: Timestamp,
        expected_token_version: i64,
    ) -> Result<User, RepoError> {
        self.modify_at_version(id, expected_token_version, |user| {
            user.password_hash = Some(hash);
            user.token_version += 1;
            user.failed_logins = 0;
            user.locked_until = None;
            user.updated_at = at;
            user.clone()
        })
    }

    async fn delete(&self, id: &UserId, expected_token_version: i64) -> Result<bool, RepoError> {
        // The users lock first, as every other method; the version is judged under it.
        let mut users = lock(&self.users);
        if users
            .get(id)
            .is_none_or(|u| u.token_version != expected_token_version)
        {
            return Ok(false);
        }
        users.remove(id);
        lock(&self.mail_sent).retain(|(user, _), _| user != id);
        Ok(true)
    }

    async fn claim_mail_quota(
        &self,
        id: &UserId,
        kind: MailKind,
        quota: MailQuota,
    ) -> Result<bool, RepoError> {
        // The users lock first, as every other method: the quota and the user's existence are
        // judged together.
        let users = lock(&self.users);
        if !users.contains_key(id) {
            return Ok(false);
        }
        let mut sent = lock(&self.mail_sent);
        let times = sent.entry((id.clone(), kind)).or_default();
        let max = usize::try_from(quota.max.max(1)).unwrap_or(usize::MAX);
        let cutoff = quota.now - quota.window;
        if times.get(max - 1).is_some_and(|&at| at > cutoff) {
            return Ok(false);
        }
        times.insert(0, quota.now);
        times.truncate(max);
        Ok(true)
    }

    async fn mark_email_verified(
        &self,
        id: &UserId,
        email: &Email,
        at: Timestamp,
    ) -> Result<Option<User>, RepoError> {
        let mut users = lock(&self.users);
        Ok(users
            .get_mut(id)
            .filter(|u| &u.email == email && !u.email_verified)
            .map(|user| {
                user.email_verified = true;
                user.updated_at = at;
                user.clone()
            }))
    }

    async fn reset_password(
        &self,
        id: &UserId,
        hash: PasswordHash,
        at: Timestamp,
        expected_token_version: i64,
    ) -> Result<Option<User>, RepoError> {
        // `None`, as MongoDB's conditional update, when the user is gone or the version moved.
        Ok(self
            .modify_at_version(id, expected_token_version, |user| {
                if !user.email_verified {
                    user.identities.clear();
                }
                user.password_hash = Some(hash);
                user.email_verified = true;
                user.token_version += 1;
                user.failed_logins = 0;
                user.locked_until = None;
                user.updated_at = at;
                user.clone()
            })
            .ok())
    }

    async fn take_over(
        &self,
        id: &UserId,
        email: &Email,
        identity: Identity,
        at: Timestamp,
    ) -> Result<Option<User>, RepoError> {
        let mut users = lock(&self.users);
        if !users
            .get(id)
            .is_some_and(|u| &u.email == email && !u.email_verified)
        {
            return Ok(None);
        }
        if users
            .values()
            .any(|u| &u.id != id && has_identity(u, identity.provider, &identity.subject))
        {
            return Err(RepoError::Conflict(ConflictKey::Identity));
        }
        let user = users.get_mut(id).ok_or(RepoError::NotFound)?;
        user.password_hash = None;
        user.identities = vec![identity];
        user.email_verified = true;
        user.token_version += 1;
        user.failed_logins = 0;
        user.locked_until = None;
        user.updated_at = at;
        Ok(Some(user.clone()))
    }
}
