//! Repository wrappers: one counts calls, one forces duplicate ids, one is always down.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use altrion_domain::{
    ConflictKey, RepoError, SessionId, SessionRecord, SessionRepository, SessionUpdate, Timestamp,
    Touch, UserId,
};
use async_trait::async_trait;

/// Calls per repository method, and how many `touch` calls actually wrote.
#[derive(Debug, Default)]
pub struct Counts {
    pub insert: AtomicUsize,
    pub find_active: AtomicUsize,
    pub update_state: AtomicUsize,
    pub touch: AtomicUsize,
    pub touch_wrote: AtomicUsize,
    pub delete: AtomicUsize,
    pub delete_for_user: AtomicUsize,
}

impl Counts {
    pub fn get(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::SeqCst)
    }

    pub fn total(&self) -> usize {
        [
            &self.insert,
            &self.find_active,
            &self.update_state,
            &self.touch,
            &self.delete,
            &self.delete_for_user,
        ]
        .into_iter()
        .map(Self::get)
        .sum()
    }
}

fn bump(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::SeqCst);
}

/// Forwards to `inner`, counting calls.
#[derive(Debug)]
pub struct CountingRepository {
    inner: Arc<dyn SessionRepository>,
    pub counts: Counts,
}

impl CountingRepository {
    pub fn new(inner: Arc<dyn SessionRepository>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            counts: Counts::default(),
        })
    }
}

#[async_trait]
impl SessionRepository for CountingRepository {
    async fn insert(&self, record: SessionRecord) -> Result<(), RepoError> {
        bump(&self.counts.insert);
        self.inner.insert(record).await
    }

    async fn find_active(
        &self,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, RepoError> {
        bump(&self.counts.find_active);
        self.inner.find_active(id, now).await
    }

    async fn update_state(&self, id: &SessionId, update: SessionUpdate) -> Result<bool, RepoError> {
        bump(&self.counts.update_state);
        self.inner.update_state(id, update).await
    }

    async fn touch(&self, id: &SessionId, touch: Touch) -> Result<bool, RepoError> {
        bump(&self.counts.touch);
        let wrote = self.inner.touch(id, touch).await?;
        if wrote {
            bump(&self.counts.touch_wrote);
        }
        Ok(wrote)
    }

    async fn delete(&self, id: &SessionId) -> Result<(), RepoError> {
        bump(&self.counts.delete);
        self.inner.delete(id).await
    }

    async fn list_for_user(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<Vec<SessionRecord>, RepoError> {
        self.inner.list_for_user(user, now).await
    }

    async fn delete_by_public_id(&self, user: &UserId, id: &str) -> Result<bool, RepoError> {
        self.inner.delete_by_public_id(user, id).await
    }

    async fn delete_for_user(&self, user: &UserId) -> Result<u64, RepoError> {
        bump(&self.counts.delete_for_user);
        self.inner.delete_for_user(user).await
    }
}

/// Reports a duplicate id for the first `conflicts` inserts (writing nothing), as if another
/// session already held each generated key; forwards everything else.
#[derive(Debug)]
pub struct CollidingRepository {
    inner: Arc<dyn SessionRepository>,
    conflicts_left: AtomicUsize,
}

impl CollidingRepository {
    pub fn new(inner: Arc<dyn SessionRepository>, conflicts: usize) -> Arc<Self> {
        Arc::new(Self {
            inner,
            conflicts_left: AtomicUsize::new(conflicts),
        })
    }
}

#[async_trait]
impl SessionRepository for CollidingRepository {
    async fn insert(&self, record: SessionRecord) -> Result<(), RepoError> {
        let collide = self
            .conflicts_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if collide {
            return Err(RepoError::Conflict(ConflictKey::Id));
        }
        self.inner.insert(record).await
    }

    async fn find_active(
        &self,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, RepoError> {
        self.inner.find_active(id, now).await
    }

    async fn update_state(&self, id: &SessionId, update: SessionUpdate) -> Result<bool, RepoError> {
        self.inner.update_state(id, update).await
    }

    async fn touch(&self, id: &SessionId, touch: Touch) -> Result<bool, RepoError> {
        self.inner.touch(id, touch).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), RepoError> {
        self.inner.delete(id).await
    }

    async fn list_for_user(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<Vec<SessionRecord>, RepoError> {
        self.inner.list_for_user(user, now).await
    }

    async fn delete_by_public_id(&self, user: &UserId, id: &str) -> Result<bool, RepoError> {
        self.inner.delete_by_public_id(user, id).await
    }

    async fn delete_for_user(&self, user: &UserId) -> Result<u64, RepoError> {
        self.inner.delete_for_user(user).await
    }
}
