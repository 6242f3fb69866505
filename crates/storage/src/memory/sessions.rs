use std::{collections::HashMap, sync::Mutex};

use altrion_domain::{
    ConflictKey, RepoError, SessionId, SessionRecord, SessionRepository, SessionUpdate, Timestamp,
    Touch, UserId,
};
use async_trait::async_trait;

use super::lock;

/// Sessions kept in a map. Expired records stay until deleted, as in MongoDB before its TTL
/// monitor runs, so callers must (and the contract suite does) check that they are ignored.
#[derive(Debug, Default)]
pub struct MemorySessionRepository {
    sessions: Mutex<HashMap<SessionId, SessionRecord>>,
}

impl MemorySessionRepository {
    /// An empty repository.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored record, expired ones included.
    pub fn all(&self) -> Vec<SessionRecord> {
        lock(&self.sessions).values().cloned().collect()
    }

    /// How many records are stored, expired ones included.
    pub fn len(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// Whether no record is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl SessionRepository for MemorySessionRepository {
    async fn insert(&self, record: SessionRecord) -> Result<(), RepoError> {
        let mut sessions = lock(&self.sessions);
        if sessions.contains_key(&record.id) {
            return Err(RepoError::Conflict(ConflictKey::Id));
        }
        sessions.insert(record.id.clone(), record);
        Ok(())
    }

    async fn find_active(
        &self,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, RepoError> {
        Ok(lock(&self.sessions)
            .get(id)
            .filter(|r| r.expires > now)
            .cloned())
    }

    async fn update_state(&self, id: &SessionId, update: SessionUpdate) -> Result<bool, RepoError> {
        let mut sessions = lock(&self.sessions);
        match sessions.get_mut(id).filter(|r| r.expires > update.now) {
            Some(record) => {
                record.state = update.state;
                record.user_id = update.user_id;
                record.expires = update.expires;
                record.last_modified = update.now;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn touch(&self, id: &SessionId, touch: Touch) -> Result<bool, RepoError> {
        let mut sessions = lock(&self.sessions);
        match sessions.get_mut(id).filter(|r| {
            r.expires > touch.now
                && r.last_modified < touch.stale_before
                && r.created_at >= touch.created_since
        }) {
            Some(record) => {
                record.expires = touch.expires;
                record.last_modified = touch.now;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete(&self, id: &SessionId) -> Result<(), RepoError> {
        lock(&self.sessions).remove(id);
        Ok(())
    }

    async fn list_for_user(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<Vec<SessionRecord>, RepoError> {
        let mut found: Vec<SessionRecord> = lock(&self.sessions)
            .values()
            .filter(|r| r.user_id.as_ref() == Some(user) && r.expires > now)
            .cloned()
            .collect();
        found.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        Ok(found)
    }

    async fn delete_by_public_id(&self, user: &UserId, public_id: &str) -> Result<bool, RepoError> {
        let mut sessions = lock(&self.sessions);
        let before = sessions.len();
        sessions
            .retain(|_, r| !(r.user_id.as_ref() == Some(user) && r.public_id() == Some(public_id)));
        Ok(sessions.len() < before)
    }

    async fn delete_for_user(&self, user: &UserId) -> Result<u64, RepoError> {
        let mut sessions = lock(&self.sessions);
        let before = sessions.len();
        sessions.retain(|_, r| r.user_id.as_ref() != Some(user));
        Ok((before - sessions.len()) as u64)
    }
}
