use std::collections::BTreeMap;

use altrion_domain::Timestamp;
use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, Bson, Document},
    error::ErrorKind,
    Database,
};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use super::cleanup::is_protected;
use crate::{
    migrations::{self, MigrationError, MigrationStatus},
    mongo::{SESSIONS, USERS},
    StorageError,
};

/// One collection: its size and its index names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionReport {
    pub name: String,
    /// From the collection's metadata (exact unless the server shut down uncleanly).
    pub documents: u64,
    pub indexes: Vec<String>,
}

/// Sessions by state at the time of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SessionCounts {
    /// `expires` after now and a signed-in user: OAuth browsers.
    pub active: u64,
    /// `expires` after now but nobody signed in (only a library user's own session data; the
    /// server keeps pending OAuth flows in a cookie, not here).
    pub anonymous: u64,
    /// `expires` passed; MongoDB's TTL monitor (about once a minute) has yet to remove them.
    pub expired_awaiting_removal: u64,
}

/// The state of the database, for people (`db check`) and scripts (`db check --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub database: String,
    /// RFC 3339; what "active" was judged against.
    pub checked_at: String,
    /// Every collection but `system.*`, by name.
    pub collections: Vec<CollectionReport>,
    pub sessions: SessionCounts,
    /// User accounts by the provider they were created with (`local`, `google`, `github`).
    pub users_by_provider: BTreeMap<String, u64>,
    /// Collections `db cleanup` would drop.
    pub unexpected_collections: Vec<String>,
    /// `users` or `sessions` when they do not exist yet (no sign-up, no migration yet).
    pub missing_collections: Vec<String>,
    /// Indexes of `migrations/` that are missing or conflicting (`altrion db migrate` fixes the
    /// missing ones; conflicts carry their fix).
    pub indexes: MigrationStatus,
    /// Email values held by more than one account; counted only when `users.email_1` is not
    /// in place (with it, there can be none), so the check stays cheap on a healthy database.
    pub duplicate_emails: Option<u64>,
}

async fn index_names(db: &Database, collection: &str) -> Result<Vec<String>, StorageError> {
    match db
        .run_cursor_command(doc! {"listIndexes": collection})
        .await
    {
        Ok(cursor) => {
            let listed: Vec<Document> = cursor.try_collect().await?;
            Ok(listed
                .iter()
                .filter_map(|d| d.get_str("name").ok().map(str::to_owned))
                .collect())
        }
        // Views have no indexes.
        Err(err) if matches!(err.kind.as_ref(), ErrorKind::Command(c) if c.code == 26 || c.code == 166) => {
            Ok(Vec::new())
        }
        Err(err) => Err(err.into()),
    }
}

/// Counts, indexes, sessions by state and users by provider, judged at `now`.
///
/// # Errors
/// [`StorageError`] when MongoDB fails or cannot be reached.
pub async fn check(db: &Database, now: Timestamp) -> Result<CheckReport, StorageError> {
    let mut names: Vec<String> = db
        .list_collection_names()
        .await?
        .into_iter()
        .filter(|name| !name.starts_with("system."))
        .collect();
    names.sort();

    let mut collections = Vec::with_capacity(names.len());
    for name in &names {
        // From collection metadata: O(1) however large the collection is.
        let documents = db
            .collection::<Document>(name)
            .estimated_document_count()
            .await?;
        collections.push(CollectionReport {
            name: name.clone(),
            documents,
            indexes: index_names(db, name).await?,
        });
    }

    let sessions = db.collection::<Document>(SESSIONS);
    let now_bson = mongodb::bson::DateTime::from_millis(
        i64::try_from(now.unix_timestamp_nanos().div_euclid(1_000_000)).unwrap_or(i64::MAX),
    );
    let active = sessions
        .count_documents(doc! {"expires": {"$gt": now_bson}, "userId": {"$exists": true}})
        .await?;
    let anonymous = sessions
        .count_documents(doc! {"expires": {"$gt": now_bson}, "userId": {"$exists": false}})
        .await?;
    let expired = sessions
        .count_documents(doc! {"expires": {"$lte": now_bson}})
        .await?;

    let mut users_by_provider = BTreeMap::new();
    let groups: Vec<Document> = db
        .collection::<Document>(USERS)
        .aggregate([doc! {"$group": {"_id": "$provider", "count": {"$sum": 1}}}])
        .await?
        .try_collect()
        .await?;
    for group in groups {
        let provider = match group.get("_id") {
            Some(Bson::String(p)) => p.clone(),
            _ => "(none)".to_owned(),
        };
        let count = match group.get("count") {
            Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
            Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        };
        *users_by_provider.entry(provider).or_insert(0) += count;
    }

    let indexes = migrations::status(db).await.map_err(|err| match err {
        MigrationError::Storage(err) => err,
        other => StorageError::Other(Box::new(other)),
    })?;

    let email_index = format!("{USERS}.email_1");
    let email_unguarded = indexes.missing.contains(&email_index)
        || indexes
            .conflicts
            .iter()
            .any(|c| c.collection == USERS && c.index == "email_1");
    let duplicate_emails = if email_unguarded && names.iter().any(|n| n == USERS) {
        let pipeline = vec![
            doc! {"$group": {"_id": "$email", "n": {"$sum": 1}}},
            doc! {"$match": {"n": {"$gt": 1}}},
            doc! {"$count": "values"},
        ];
        let counted: Vec<Document> = db
            .collection::<Document>(USERS)
            .aggregate(pipeline)
            .await?
            .try_collect()
            .await?;
        Some(counted.first().map_or(0, |d| match d.get("values") {
            Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
            Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        }))
    } else {
        None
    };

    Ok(CheckReport {
        duplicate_emails,
        indexes,
        database: db.name().to_owned(),
        checked_at: now.format(&Rfc3339).unwrap_or_default(),
        unexpected_collections: names.iter().filter(|n| !is_protected(n)).cloned().collect(),
        missing_collections: [USERS, SESSIONS]
            .into_iter()
            .filter(|wanted| !names.iter().any(|n| n == wanted))
            .map(str::to_owned)
            .collect(),
        collections,
        sessions: SessionCounts {
            active,
            anonymous,
            expired_awaiting_removal: expired,
        },
        users_by_provider,
    })
}
