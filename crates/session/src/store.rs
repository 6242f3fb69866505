//! [`RepositorySessionStore`]: actix-session's `SessionStore` over the domain's session port.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use altrion_domain::{Clock, RepoError, SessionId, SessionRecord, SessionRepository, Timestamp};
use time::Duration;

use crate::{
    key::{new_key, session_id_for},
    state::{self, ActixState},
};

/// How many fresh keys `save` tries before giving up on duplicate ids. A collision of two
/// 381-bit keys never happens by chance; retrying only guards against a broken generator or a
/// store that reports spurious duplicates, so it is bounded.
pub const MAX_SAVE_ATTEMPTS: usize = 3;

/// How many "still inside the touch window" notes a store keeps (about 100 bytes each). Past
/// it, lapsed notes are dropped, then all of them: a missing note only costs the touch that
/// would have been sent anyway.
const FRESH_NOTES: usize = 10_000;

/// A `SessionStore` that keeps sessions in a [`SessionRepository`] (MongoDB in production, the
/// in-memory fake in tests).
///
/// - `load` ignores expired documents and never queries for a malformed key;
/// - `save` only inserts, retrying with a fresh key on a duplicate id;
/// - `update` never creates a document, so a logout (or expiry) racing a state change wins;
/// - `update_ttl` is a lazy touch: one conditional write that changes nothing while the session
///   was written less than `touch_after` ago, with no read first; and when this store loaded the
///   session for the same request and saw it was written inside the window, not even that — the
///   request costs one `find` and no write.
///
/// Cloning is cheap (two `Arc`s), so one store can be cloned into every worker's middleware.
#[derive(Debug, Clone)]
pub struct RepositorySessionStore {
    repository: Arc<dyn SessionRepository>,
    clock: Arc<dyn Clock>,
    touch_after: Duration,
    /// Sessions `load` found inside their touch window: id → the instant the window ends
    /// (`lastModified + touch_after`). Shared by clones. Only ever a reason to skip a touch
    /// that would match nothing: another writer can only move `lastModified` forward, and a
    /// deleted or expired session is not touched either way.
    fresh: Arc<Mutex<HashMap<SessionId, Timestamp>>>,
}

impl RepositorySessionStore {
    /// A store over `repository`, judging expiry by `clock`. `touch_after` is the lazy-touch
    /// window: keep it well below the session TTL, or sliding expiry never happens (a session
    /// older than the TTL is already expired); a zero window writes on every request.
    pub fn new(
        repository: Arc<dyn SessionRepository>,
        clock: Arc<dyn Clock>,
        touch_after: Duration,
    ) -> Self {
        Self {
            repository,
            clock,
            touch_after,
            fresh: Arc::default(),
        }
    }

    fn note_fresh(&self, id: &SessionId, last_modified: Timestamp, now: Timestamp) {
        let until = last_modified + self.touch_after;
        if until < now {
            return;
        }
        // A poisoned lock only loses notes; the touch then runs as it would without them.
        if let Ok(mut fresh) = self.fresh.lock() {
            if fresh.len() >= FRESH_NOTES {
                fresh.retain(|_, until| *until >= now);
                if fresh.len() >= FRESH_NOTES {
                    fresh.clear();
                }
            }
            fresh.insert(id.clone(), until);
        }
    }

    /// Whether `load` saw this session inside its touch window, which has not ended yet.
    fn known_fresh(&self, id: &SessionId, now: Timestamp) -> bool {
        match self.fresh.lock() {
            Ok(mut fresh) => match fresh.get(id) {
                Some(until) if now <= *until => true,
                Some(_) => {
                    fresh.remove(id);
                    false
                }
                None => false,
            },
            Err(_) => false,
        }
    }

    fn forget(&self, id: &SessionId) {
        if let Ok(mut fresh) = self.fresh.lock() {
            fresh.remove(id);
        }
    }

    /// The lazy-touch window.
    pub fn touch_after(&self) -> Duration {
        self.touch_after
    }
}

/// Logs a repository failure (never the session key) and wraps it for actix, which answers 500.
fn failure(operation: &'static str, err: RepoError) -> anyhow::Error {
    tracing::error!(operation, error = %err, detail = ?err, "session repository failed");
    anyhow::Error::new(err).context(format!("session store {operation} failed"))
}

impl SessionStore for RepositorySessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<ActixState>, LoadError> {
        let Some(id) = session_id_for(session_key) else {
            tracing::debug!("malformed session key; treating it as no session");
            return Ok(None);
        };
        let now = self.clock.now();
        let record = self
            .repository
            .find_active(&id, now)
            .await
            .map_err(|err| LoadError::Other(failure("load", err)))?;
        let Some(record) = record else {
            self.forget(&id);
            return Ok(None);
        };
        self.note_fresh(&id, record.last_modified, now);
        state::to_actix(record.state, record.user_id.as_ref())
            .map(Some)
            .map_err(|err| {
                tracing::warn!(session = ?id, error = %err, "stored session state cannot be decoded");
                LoadError::Deserialization(err.into())
            })
    }

    async fn save(
        &self,
        session_state: ActixState,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        let (state, user_id) =
            state::to_stored(session_state).map_err(|err| SaveError::Serialization(err.into()))?;
        let now = self.clock.now();
        for attempt in 1..=MAX_SAVE_ATTEMPTS {
            let key = new_key();
            let Some(id) = session_id_for(&key) else {
                return Err(SaveError::Other(anyhow::anyhow!(
                    "generated session key has an unexpected shape"
                )));
            };
            let record = SessionRecord {
                id,
                state: state.clone(),
                expires: now + *ttl,
                last_modified: now,
                created_at: now,
                user_id: user_id.clone(),
            };
            match self.repository.insert(record).await {
                Ok(()) => return Ok(key),
                Err(RepoError::Conflict(_)) => {
                    tracing::warn!(
                        attempt,
                        "session id already exists; retrying with a new key"
                    );
                }
                Err(err) => return Err(SaveError::Other(failure("save", err))),
            }
        }
        Err(SaveError::Other(failure(
            "save",
            RepoError::other(format!(
                "{MAX_SAVE_ATTEMPTS} fresh session keys all collided"
            )),
        )))
    }

    /// Returns the same key even when nothing matched. The session was deleted (logout) or
    /// expired since this request loaded it; saving it again — as actix's Redis store does —
    /// would resurrect a logged-out session. The cookie then names a missing document, so the
    /// next request starts a fresh, empty session: the logout wins, and this request, whose only
    /// fault was racing it, still gets its response instead of a 500.
    async fn update(
        &self,
        session_key: SessionKey,
        session_state: ActixState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let (state, user_id) = state::to_stored(session_state)
            .map_err(|err| UpdateError::Serialization(err.into()))?;
        let Some(id) = session_id_for(&session_key) else {
            return Ok(session_key);
        };
        self.forget(&id);
        let now = self.clock.now();
        let updated = self
            .repository
            .update_state(&id, state, user_id, now + *ttl, now)
            .await
            .map_err(|err| UpdateError::Other(failure("update", err)))?;
        if !updated {
            tracing::info!(session = ?id, "session deleted or expired before this update; not recreating it");
        }
        Ok(session_key)
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        let Some(id) = session_id_for(session_key) else {
            return Ok(());
        };
        let now = self.clock.now();
        if self.known_fresh(&id, now) {
            tracing::trace!(session = ?id, "lazy touch: inside the window, nothing to do");
            return Ok(());
        }
        let touched = self
            .repository
            .touch(&id, now + *ttl, now, now - self.touch_after)
            .await
            .map_err(|err| failure("update_ttl", err))?;
        tracing::trace!(session = ?id, touched, "lazy touch");
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        let Some(id) = session_id_for(session_key) else {
            return Ok(());
        };
        self.forget(&id);
        self.repository
            .delete(&id)
            .await
            .map_err(|err| failure("delete", err))
    }
}
