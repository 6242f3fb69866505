//! [`RepositorySessionStore`]: actix-session's `SessionStore` over the domain's session port.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use altrion_domain::{
    Clock, RepoError, SessionId, SessionRecord, SessionRepository, SessionUpdate, Timestamp, Touch,
};
use time::Duration;

use crate::{
    key::{new_key, session_id_for},
    state::{self, ActixState},
};

/// How many fresh keys `save` tries before giving up on duplicate ids. A collision of two
/// 381-bit keys never happens by chance; retrying only guards against a broken generator or a
/// store that reports spurious duplicates, so it is bounded.
pub const MAX_SAVE_ATTEMPTS: usize = 3;

/// How many notes on loaded sessions a store keeps (about 100 bytes each). Past it, lapsed
/// notes are dropped, then all of them: a missing note only costs a touch that would have been
/// sent anyway, or one read to learn the session's age.
const NOTES: usize = 10_000;

/// The default absolute lifetime: however active, a session ends a week after sign-in
/// (ASVS 5 V7.3.2).
pub const DEFAULT_ABSOLUTE_TTL: Duration = Duration::days(7);

/// What `load` learnt about a session, for the update or touch of the same request.
#[derive(Debug, Clone, Copy)]
struct Note {
    /// `lastModified + touch_after`: until then a touch would match nothing.
    window_end: Timestamp,
    /// `createdAt + absolute_ttl`: no write moves `expires` past it.
    deadline: Timestamp,
}

/// A `SessionStore` that keeps sessions in a [`SessionRepository`] (MongoDB in production, the
/// in-memory fake in tests).
///
/// - `load` ignores expired documents and never queries for a malformed key;
/// - `save` only inserts, retrying with a fresh key on a duplicate id;
/// - `update` never creates a document, so a logout (or expiry) racing a state change wins;
/// - `update_ttl` is a lazy touch: one conditional write that changes nothing while the session
///   was written less than `touch_after` ago, with no read first; and when this store loaded the
///   session for the same request and saw it was written inside the window, not even that — the
///   request costs one `find` and no write;
/// - besides the sliding idle expiry, every session has an absolute lifetime
///   ([`absolute_ttl`](Self::absolute_ttl), 7 days by default): no write moves `expires` past
///   `createdAt + absolute_ttl`, and `load` deletes a session older than that.
///
/// Cloning is cheap (two `Arc`s), so one store can be cloned into every worker's middleware.
#[derive(Debug, Clone)]
pub struct RepositorySessionStore {
    repository: Arc<dyn SessionRepository>,
    clock: Arc<dyn Clock>,
    touch_after: Duration,
    absolute_ttl: Duration,
    /// Sessions `load` found, by id. Shared by clones. The window end is only ever a reason to
    /// skip a touch that would match nothing (another writer can only move `lastModified`
    /// forward); the deadline never changes (`createdAt` is written once).
    notes: Arc<Mutex<HashMap<SessionId, Note>>>,
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
            absolute_ttl: DEFAULT_ABSOLUTE_TTL,
            notes: Arc::default(),
        }
    }

    /// Sets the absolute lifetime: a session ends this long after it was created (signed in),
    /// however active it is. Keep it at least the cookie's TTL.
    #[must_use]
    pub fn absolute_ttl(mut self, absolute_ttl: Duration) -> Self {
        self.absolute_ttl = absolute_ttl;
        self
    }

    /// The clock the store judges expiry by.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The same store (clock, touch window, absolute lifetime) over another repository, with
    /// notes of its own: for a database client per worker.
    #[must_use]
    pub fn with_repository(&self, repository: Arc<dyn SessionRepository>) -> Self {
        Self {
            repository,
            clock: self.clock.clone(),
            touch_after: self.touch_after,
            absolute_ttl: self.absolute_ttl,
            notes: Arc::default(),
        }
    }

    fn note(&self, record: &SessionRecord, now: Timestamp) {
        let note = Note {
            window_end: record.last_modified + self.touch_after,
            deadline: record.created_at + self.absolute_ttl,
        };
        // A poisoned lock only loses notes; the writes then run as they would without them.
        if let Ok(mut notes) = self.notes.lock() {
            if notes.len() >= NOTES {
                notes.retain(|_, note| note.window_end >= now);
                if notes.len() >= NOTES {
                    notes.clear();
                }
            }
            notes.insert(record.id.clone(), note);
        }
    }

    /// Takes what `load` noted about this session, if anything.
    fn take_note(&self, id: &SessionId) -> Option<Note> {
        self.notes
            .lock()
            .ok()
            .and_then(|mut notes| notes.remove(id))
    }

    /// When a session with this note may expire at the latest if written at `now`.
    fn expiry(deadline: Timestamp, now: Timestamp, ttl: Duration) -> Timestamp {
        (now + ttl).min(deadline)
    }

    /// The absolute deadline of a live session for a state update: from `load`'s note, else
    /// one read. `None` when the session is gone (deleted, expired).
    async fn deadline(
        &self,
        id: &SessionId,
        note: Option<Note>,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, RepoError> {
        if let Some(note) = note {
            return Ok(Some(note.deadline));
        }
        let record = self.repository.find_active(id, now).await?;
        Ok(record.map(|r| r.created_at + self.absolute_ttl))
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
            self.take_note(&id);
            return Ok(None);
        };
        if record.created_at + self.absolute_ttl <= now {
            tracing::info!(session = ?id, "session past its absolute lifetime; deleting it");
            self.take_note(&id);
            self.repository
                .delete(&id)
                .await
                .map_err(|err| LoadError::Other(failure("load", err)))?;
            return Ok(None);
        }
        self.note(&record, now);
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
                expires: Self::expiry(now + self.absolute_ttl, now, *ttl),
                last_modified: now,
                created_at: now,
                user_id: user_id.clone(),
            };
            match self.repository.insert(record).await {
                Ok(()) => {
                    metrics::counter!("altrion_sessions_created_total").increment(1);
                    return Ok(key);
                }
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
        let note = self.take_note(&id);
        let now = self.clock.now();
        let deadline = self
            .deadline(&id, note, now)
            .await
            .map_err(|err| UpdateError::Other(failure("update", err)))?;
        let Some(deadline) = deadline else {
            tracing::info!(session = ?id, "session deleted or expired before this update; not recreating it");
            return Ok(session_key);
        };
        let update = SessionUpdate {
            state,
            user_id,
            expires: Self::expiry(deadline, now, *ttl),
            now,
        };
        let updated = self
            .repository
            .update_state(&id, update)
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
        let note = self.take_note(&id);
        if note.is_some_and(|note| now <= note.window_end) {
            tracing::trace!(session = ?id, "lazy touch: inside the window, nothing to do");
            return Ok(());
        }
        // Without a note there is no read first: the touch's own condition on `createdAt`
        // keeps the new expiry inside the absolute lifetime (near its end, it does not slide).
        let expires = match note {
            Some(note) => Self::expiry(note.deadline, now, *ttl),
            None => now + *ttl,
        };
        let touch = Touch {
            now,
            stale_before: now - self.touch_after,
            created_since: expires - self.absolute_ttl,
            expires,
        };
        let touched = self
            .repository
            .touch(&id, touch)
            .await
            .map_err(|err| failure("update_ttl", err))?;
        tracing::trace!(session = ?id, touched, "lazy touch");
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        let Some(id) = session_id_for(session_key) else {
            return Ok(());
        };
        self.take_note(&id);
        metrics::counter!("altrion_sessions_deleted_total").increment(1);
        self.repository
            .delete(&id)
            .await
            .map_err(|err| failure("delete", err))
    }
}
