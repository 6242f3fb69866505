//! What operators do to users and sessions (`altrion users …`, `altrion sessions …`), over the
//! same documents and mappings as the adapters. Never returns a password hash or session key.

use altrion_domain::{Email, Provider, Timestamp, User};
use futures_util::TryStreamExt as _;
use mongodb::{
    bson::{doc, Document},
    Database,
};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use super::{
    documents::{session_from_document, to_bson_date, user_from_document, user_id_value},
    SESSIONS, USERS,
};
use crate::StorageError;

fn text(t: Timestamp) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn mapped<T>(result: Result<T, super::documents::MappingError>) -> Result<T, StorageError> {
    result.map_err(|e| StorageError::Other(Box::new(e)))
}

/// A user as operators see it: never the hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserSummary {
    pub id: String,
    pub name: String,
    pub email: String,
    /// How the account was created.
    pub provider: String,
    /// Every way it can sign in (`local` when it has a password).
    pub providers: Vec<String>,
    pub created_at: String,
    pub last_login_at: Option<String>,
    pub failed_logins: u32,
    /// Set while password logins are refused.
    pub locked_until: Option<String>,
    /// Live sessions.
    pub sessions: u64,
    /// `provider:subject` of each linked identity.
    pub identities: Vec<String>,
}

async fn summary(db: &Database, user: User, now: Timestamp) -> Result<UserSummary, StorageError> {
    let sessions = db
        .collection::<Document>(SESSIONS)
        .count_documents(
            doc! {"userId": user_id_value(&user.id), "expires": {"$gt": to_bson_date(now)}},
        )
        .await?;
    Ok(UserSummary {
        providers: user
            .providers()
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        identities: user
            .identities
            .iter()
            .map(|i| format!("{}:{}", i.provider, i.subject))
            .collect(),
        id: user.id.to_string(),
        name: user.name.as_str().to_owned(),
        email: user.email.as_str().to_owned(),
        provider: user.provider.as_str().to_owned(),
        created_at: text(user.created_at),
        last_login_at: user.last_login_at.map(text),
        failed_logins: user.failed_logins,
        locked_until: user.locked_until.filter(|u| *u > now).map(text),
        sessions,
    })
}

async fn user_by_email(db: &Database, email: &Email) -> Result<Option<User>, StorageError> {
    let found = db
        .collection::<Document>(USERS)
        .find_one(doc! {"email": email.as_str()})
        .await?;
    found
        .as_ref()
        .map(|d| mapped(user_from_document(d)))
        .transpose()
}

/// Users, newest first, optionally only those created with `provider`, at most `limit`.
///
/// # Errors
/// [`StorageError`] when MongoDB fails or a document is malformed.
pub async fn list_users(
    db: &Database,
    provider: Option<Provider>,
    limit: i64,
    now: Timestamp,
) -> Result<Vec<UserSummary>, StorageError> {
    let filter = match provider {
        Some(p) => doc! {"provider": p.as_str()},
        None => doc! {},
    };
    let docs: Vec<Document> = db
        .collection::<Document>(USERS)
        .find(filter)
        .sort(doc! {"createdAt": -1})
        .limit(limit)
        .await?
        .try_collect()
        .await?;
    let mut users = Vec::with_capacity(docs.len());
    for doc in &docs {
        users.push(summary(db, mapped(user_from_document(doc))?, now).await?);
    }
    Ok(users)
}

/// The user with this email, if any.
///
/// # Errors
/// [`StorageError`] when MongoDB fails or the document is malformed.
pub async fn show_user(
    db: &Database,
    email: &Email,
    now: Timestamp,
) -> Result<Option<UserSummary>, StorageError> {
    match user_by_email(db, email).await? {
        Some(user) => Ok(Some(summary(db, user, now).await?)),
        None => Ok(None),
    }
}

/// Clears the user's failed logins and lock; `false` when there is no such user.
///
/// # Errors
/// [`StorageError`] when MongoDB fails.
pub async fn unlock_user(db: &Database, email: &Email) -> Result<bool, StorageError> {
    let result = db
        .collection::<Document>(USERS)
        .update_one(
            doc! {"email": email.as_str()},
            doc! {"$unset": {"failedLogins": "", "lockedUntil": ""}},
        )
        .await?;
    Ok(result.matched_count == 1)
}

/// Deletes the user and every session of theirs; `None` when there is no such user, else how
/// many sessions went with it.
///
/// # Errors
/// [`StorageError`] when MongoDB fails.
pub async fn delete_user(db: &Database, email: &Email) -> Result<Option<u64>, StorageError> {
    let Some(user) = user_by_email(db, email).await? else {
        return Ok(None);
    };
    db.collection::<Document>(USERS)
        .delete_one(doc! {"_id": user_id_value(&user.id)})
        .await?;
    let sessions = db
        .collection::<Document>(SESSIONS)
        .delete_many(doc! {"userId": user_id_value(&user.id)})
        .await?;
    Ok(Some(sessions.deleted_count))
}

/// A live session as operators see it: its public handle, never its key or stored id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    /// The public handle (what `GET /api/auth/sessions` lists and `sessions revoke` takes).
    pub id: Option<String>,
    pub user_id: Option<String>,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// Live sessions, newest first, optionally only those of the user with `email` (`None` when
/// that user does not exist).
///
/// # Errors
/// [`StorageError`] when MongoDB fails or a document is malformed.
pub async fn list_sessions(
    db: &Database,
    user: Option<&Email>,
    now: Timestamp,
) -> Result<Option<Vec<SessionSummary>>, StorageError> {
    let mut filter = doc! {"expires": {"$gt": to_bson_date(now)}};
    if let Some(email) = user {
        let Some(user) = user_by_email(db, email).await? else {
            return Ok(None);
        };
        filter.insert("userId", user_id_value(&user.id));
    }
    let docs: Vec<Document> = db
        .collection::<Document>(SESSIONS)
        .find(filter)
        .sort(doc! {"createdAt": -1})
        .await?
        .try_collect()
        .await?;
    let mut sessions = Vec::with_capacity(docs.len());
    for doc in &docs {
        let record = mapped(session_from_document(doc))?;
        sessions.push(SessionSummary {
            id: record.public_id().map(str::to_owned),
            user_id: record.user_id.as_ref().map(ToString::to_string),
            created_at: text(record.created_at),
            last_seen_at: text(record.last_modified),
            expires_at: text(record.expires),
            user_agent: record.user_agent().map(str::to_owned),
            ip: record.ip().map(str::to_owned),
        });
    }
    Ok(Some(sessions))
}

/// Deletes the session with this public handle; whether one existed.
///
/// # Errors
/// [`StorageError`] when MongoDB fails.
pub async fn revoke_session(db: &Database, public_id: &str) -> Result<bool, StorageError> {
    let result = db
        .collection::<Document>(SESSIONS)
        .delete_one(doc! {"session.public_id": public_id})
        .await?;
    Ok(result.deleted_count == 1)
}

/// Deletes every session of the user with `email`; `None` when there is no such user.
///
/// # Errors
/// [`StorageError`] when MongoDB fails.
pub async fn revoke_user_sessions(
    db: &Database,
    email: &Email,
) -> Result<Option<u64>, StorageError> {
    let Some(user) = user_by_email(db, email).await? else {
        return Ok(None);
    };
    let result = db
        .collection::<Document>(SESSIONS)
        .delete_many(doc! {"userId": user_id_value(&user.id)})
        .await?;
    Ok(Some(result.deleted_count))
}
