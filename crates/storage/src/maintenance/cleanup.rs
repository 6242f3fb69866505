use mongodb::{bson::Document, error::ErrorKind, Database};

use crate::{
    mongo::{SESSIONS, USERS},
    StorageError,
};

/// Collections cleanup never drops: the application's own and MongoDB's `system.*`.
pub fn is_protected(name: &str) -> bool {
    name == USERS || name == SESSIONS || name.starts_with("system.")
}

/// The collections `cleanup` would drop: every one but `users`, `sessions` and `system.*`,
/// sorted by name.
///
/// # Errors
/// [`StorageError`] when MongoDB fails or cannot be reached.
pub async fn cleanup_plan(db: &Database) -> Result<Vec<String>, StorageError> {
    let mut plan: Vec<String> = db
        .list_collection_names()
        .await?
        .into_iter()
        .filter(|name| !is_protected(name))
        .collect();
    plan.sort();
    Ok(plan)
}

/// Drops the collections of `plan` and returns those it dropped. Protected names are skipped
/// even when listed, and a collection that disappeared meanwhile is not reported.
///
/// # Errors
/// [`StorageError`] when a drop fails; collections dropped before it stay dropped.
pub async fn cleanup(db: &Database, plan: &[String]) -> Result<Vec<String>, StorageError> {
    let mut dropped = Vec::new();
    for name in plan.iter().filter(|name| !is_protected(name)) {
        let existed = db
            .list_collection_names()
            .filter(mongodb::bson::doc! {"name": name.as_str()})
            .await?
            .contains(name);
        if !existed {
            continue;
        }
        match db.collection::<Document>(name).drop().await {
            Ok(()) => dropped.push(name.clone()),
            Err(err) if matches!(err.kind.as_ref(), ErrorKind::Command(c) if c.code == 26) => {}
            Err(err) => return Err(err.into()),
        }
        tracing::info!(collection = %name, "dropped collection");
    }
    Ok(dropped)
}
