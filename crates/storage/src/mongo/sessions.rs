use std::{collections::HashMap, time::Duration};

use altrion_domain::{
    ConflictKey, RepoError, SessionId, SessionRecord, SessionRepository, SessionUpdate, Timestamp,
    Touch, UserId,
};
use async_trait::async_trait;
use futures_util::TryStreamExt as _;
use mongodb::{
    bson::{doc, Bson, Document},
    Collection, Database,
};

use super::{
    by_ids::{find_by_ids, query_failed},
    documents::{
        object_to_document, session_document, session_from_document, to_bson_date, user_id_value,
    },
    gate::within,
    StoreLimits, SESSIONS,
};
use crate::coalesce::{Answer, BatchLimits, BatchRead, Batcher, QueryFailed};

/// [`SessionRepository`] over the `sessions` collection. Every write is one conditional
/// statement without upsert, so a deleted or expired session can never be written back;
/// MongoDB's TTL index (`migrations/0002_sessions_indexes.json`) removes expired documents.
/// With [`StoreLimits::coalesce_reads`], concurrent
/// [`find_active`](SessionRepository::find_active) calls share queries: reads asked while one
/// is running leave together in the next (`_id: {$in: …}`), never answered by a query sent
/// before they were asked.
#[derive(Debug, Clone)]
pub struct MongoSessionRepository {
    sessions: Collection<Document>,
    active: Option<Batcher<ActiveSessions>>,
    /// Deadline of every database call.
    timeout: Duration,
}

impl MongoSessionRepository {
    /// The repository over `database.sessions`, with the default limits.
    pub fn new(database: &Database) -> Self {
        Self::with_limits(database, &StoreLimits::default())
    }

    /// The repository over `database.sessions` under `limits` (only sessions' own `_id` is
    /// unique, so the index gate does not apply).
    pub fn with_limits(database: &Database, limits: &StoreLimits) -> Self {
        let sessions = database.collection(SESSIONS);
        Self {
            active: limits.coalesce_reads.then(|| {
                Batcher::new(
                    ActiveSessions {
                        sessions: sessions.clone(),
                    },
                    BatchLimits {
                        query_timeout: limits.operation_timeout,
                        ..BatchLimits::default()
                    },
                )
            }),
            sessions,
            timeout: limits.operation_timeout,
        }
    }

    async fn find_active_directly(
        &self,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, RepoError> {
        let found = within(
            self.timeout,
            self.sessions
                .find_one(doc! {"_id": id.as_str(), "expires": {"$gt": to_bson_date(now)}}),
        )
        .await?;
        Ok(found.as_ref().map(session_from_document).transpose()?)
    }
}

/// Unexpired sessions by id, many per query. Each read carries its own `now`: the query asks
/// for documents unexpired at the earliest of them, and each answer is judged at its own.
#[derive(Debug)]
struct ActiveSessions {
    sessions: Collection<Document>,
}

#[async_trait]
impl BatchRead for ActiveSessions {
    type Request = (SessionId, Timestamp);
    type Value = Option<SessionRecord>;

    async fn read(
        &self,
        requests: &[(SessionId, Timestamp)],
    ) -> Result<Vec<Answer<Self>>, QueryFailed> {
        let Some(earliest) = requests.iter().map(|(_, now)| *now).min() else {
            return Ok(Vec::new());
        };
        let ids = requests.iter().map(|(id, _)| Bson::from(id.as_str()));
        let filter = doc! {"expires": {"$gt": to_bson_date(earliest)}};
        let docs = find_by_ids(&self.sessions, ids, filter)
            .await
            .map_err(query_failed)?;
        let by_id: HashMap<&str, &Document> = docs
            .iter()
            .filter_map(|doc| doc.get_str("_id").ok().map(|id| (id, doc)))
            .collect();
        Ok(requests
            .iter()
            .map(|(id, now)| {
                let Some(doc) = by_id.get(id.as_str()) else {
                    return Ok(None);
                };
                // Judged at this caller's own `now`, before anything else, as its own query
                // would have (millisecond dates): expired is `None`, even if malformed.
                if let Ok(expires) = doc.get_datetime("expires") {
                    if *expires <= to_bson_date(*now) {
                        return Ok(None);
                    }
                }
                Ok(Some(session_from_document(doc)?))
            })
            .collect())
    }
}

#[async_trait]
impl SessionRepository for MongoSessionRepository {
    async fn insert(&self, record: SessionRecord) -> Result<(), RepoError> {
        match within(
            self.timeout,
            self.sessions.insert_one(session_document(&record)),
        )
        .await
        {
            Ok(_) => Ok(()),
            // The only unique key of `sessions` is `_id`.
            Err(RepoError::Conflict(_)) => Err(RepoError::Conflict(ConflictKey::Id)),
            Err(other) => Err(other),
        }
    }

    async fn find_active(
        &self,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, RepoError> {
        if let Some(active) = &self.active {
            // `None`: the runtime is shutting down under the batch; read directly.
            if let Some(answer) = active.read((id.clone(), now)).await {
                return answer;
            }
        }
        self.find_active_directly(id, now).await
    }

    async fn update_state(&self, id: &SessionId, update: SessionUpdate) -> Result<bool, RepoError> {
        let now = to_bson_date(update.now);
        let mut set = doc! {
            "session": object_to_document(&update.state),
            "expires": to_bson_date(update.expires),
            "lastModified": now,
        };
        let mut change = doc! {};
        match &update.user_id {
            Some(user) => {
                set.insert("userId", user_id_value(user));
            }
            None => {
                change.insert("$unset", doc! {"userId": ""});
            }
        }
        change.insert("$set", set);
        let result = within(
            self.timeout,
            self.sessions
                .update_one(doc! {"_id": id.as_str(), "expires": {"$gt": now}}, change),
        )
        .await?;
        Ok(result.matched_count == 1)
    }

    async fn touch(&self, id: &SessionId, touch: Touch) -> Result<bool, RepoError> {
        let now = to_bson_date(touch.now);
        let result = within(
            self.timeout,
            self.sessions.update_one(
                doc! {
                    "_id": id.as_str(),
                    "expires": {"$gt": now},
                    "lastModified": {"$lt": to_bson_date(touch.stale_before)},
                    "createdAt": {"$gte": to_bson_date(touch.created_since)},
                },
                doc! {"$set": {"expires": to_bson_date(touch.expires), "lastModified": now}},
            ),
        )
        .await?;
        Ok(result.matched_count == 1)
    }

    async fn delete(&self, id: &SessionId) -> Result<(), RepoError> {
        within(
            self.timeout,
            self.sessions.delete_one(doc! {"_id": id.as_str()}),
        )
        .await
        .map(drop)
    }

    async fn list_for_user(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<Vec<SessionRecord>, RepoError> {
        let find = async {
            self.sessions
                .find(doc! {"userId": user_id_value(user), "expires": {"$gt": to_bson_date(now)}})
                .sort(doc! {"createdAt": -1})
                .await?
                .try_collect::<Vec<Document>>()
                .await
        };
        let docs = within(self.timeout, find).await?;
        docs.iter()
            .map(|doc| session_from_document(doc).map_err(RepoError::from))
            .collect()
    }

    async fn delete_by_public_id(&self, user: &UserId, public_id: &str) -> Result<bool, RepoError> {
        let result = within(
            self.timeout,
            self.sessions
                .delete_one(doc! {"userId": user_id_value(user), "session.public_id": public_id}),
        )
        .await?;
        Ok(result.deleted_count == 1)
    }

    async fn delete_for_user(&self, user: &UserId) -> Result<u64, RepoError> {
        let result = within(
            self.timeout,
            self.sessions
                .delete_many(doc! {"userId": user_id_value(user)}),
        )
        .await?;
        Ok(result.deleted_count)
    }
}
