//! Comparing the wanted indexes with the database's and creating the missing ones.

use std::{collections::HashMap, fmt};

use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, Document},
    error::ErrorKind,
    Database,
};
use serde::Serialize;

use super::{
    spec::{self, IndexSpec, Parsed},
    MIGRATIONS,
};
use crate::StorageError;

/// What happened to one wanted index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "existing_name")]
pub enum IndexStatus {
    /// It was missing and has been created.
    Created,
    /// It already existed as specified.
    Present,
    /// An identical index exists under another name; it is kept.
    PresentAs(String),
}

/// One wanted index and what `apply` did about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexOutcome {
    pub collection: String,
    pub name: String,
    #[serde(flatten)]
    pub status: IndexStatus,
}

/// One migration and its indexes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationOutcome {
    pub id: String,
    pub description: String,
    pub indexes: Vec<IndexOutcome>,
}

/// The result of [`apply`]: every migration, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationReport {
    pub migrations: Vec<MigrationOutcome>,
}

impl MigrationReport {
    /// The indexes this run created (empty on a second run).
    pub fn created(&self) -> Vec<String> {
        self.migrations
            .iter()
            .flat_map(|m| &m.indexes)
            .filter(|i| i.status == IndexStatus::Created)
            .map(|i| format!("{}.{}", i.collection, i.name))
            .collect()
    }
}

/// An existing index that stands in the way of a wanted one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexConflict {
    pub migration: String,
    pub collection: String,
    /// The wanted index's name.
    pub index: String,
    pub expected: String,
    pub found: String,
    /// What an operator should do.
    pub fix: String,
}

impl fmt::Display for IndexConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "index {}.{} (migration {}):\n    expected: {}\n    found:    {}\n    fix:      {}",
            self.collection, self.index, self.migration, self.expected, self.found, self.fix
        )
    }
}

/// Why the migrations could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// An embedded migration file is malformed (a build-time mistake).
    #[error("migration {id} is invalid: {problem}")]
    Invalid { id: String, problem: String },
    /// Existing indexes conflict with wanted ones; nothing was created.
    #[error(
        "{} existing index(es) conflict with the migrations; nothing was changed:\n  - {}",
        .0.len(),
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  - ")
    )]
    Conflicts(Vec<IndexConflict>),
    /// A unique index cannot be built because stored documents already break it.
    #[error(
        "cannot build unique index {collection}.{index}: existing documents have duplicate values \
         ({detail}); remove or merge the duplicates, then run `altrion db migrate` again"
    )]
    Duplicates {
        collection: String,
        index: String,
        detail: String,
    },
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The migrations, parsed.
fn parsed() -> Result<Vec<Parsed>, MigrationError> {
    MIGRATIONS
        .iter()
        .map(|m| {
            spec::parse(m).map_err(|problem| MigrationError::Invalid {
                id: m.id.to_owned(),
                problem,
            })
        })
        .collect()
}

/// The collection's indexes, none when it does not exist yet.
async fn list_indexes(db: &Database, collection: &str) -> Result<Vec<IndexSpec>, StorageError> {
    let cursor = match db
        .run_cursor_command(doc! {"listIndexes": collection})
        .await
    {
        Ok(cursor) => cursor,
        Err(err) if matches!(err.kind.as_ref(), ErrorKind::Command(c) if c.code == 26) => {
            return Ok(Vec::new())
        }
        Err(err) => return Err(err.into()),
    };
    let listed: Vec<Document> = cursor.try_collect().await?;
    Ok(listed.iter().filter_map(IndexSpec::from_listed).collect())
}

enum Decision {
    Create,
    Keep(IndexStatus),
    Conflict { found: Box<IndexSpec>, fix: String },
}

fn decide(collection: &str, existing: &[IndexSpec], wanted: &IndexSpec) -> Decision {
    let drop_fix = |name: &str| {
        format!(
            "drop it (mongosh: db.{collection}.dropIndex(\"{name}\")), then run `altrion db migrate` \
             or restart the server to create the expected index"
        )
    };
    if let Some(same_name) = existing.iter().find(|e| e.name == wanted.name) {
        return if same_name.same_key(wanted) && same_name.same_options(wanted) {
            Decision::Keep(IndexStatus::Present)
        } else {
            Decision::Conflict {
                found: Box::new(same_name.clone()),
                fix: drop_fix(&same_name.name),
            }
        };
    }
    let same_key: Vec<&IndexSpec> = existing.iter().filter(|e| e.same_key(wanted)).collect();
    if let Some(identical) = same_key.iter().find(|e| e.same_options(wanted)) {
        return Decision::Keep(IndexStatus::PresentAs(identical.name.clone()));
    }
    // MongoDB allows a second index on the same key only when the partial filters differ.
    match same_key
        .into_iter()
        .find(|e| e.partial_filter_expression == wanted.partial_filter_expression)
    {
        Some(other) => Decision::Conflict {
            found: Box::new(other.clone()),
            fix: drop_fix(&other.name),
        },
        None => Decision::Create,
    }
}

/// Every wanted index with what to do about it, and the conflicts.
struct Plan {
    migrations: Vec<(Parsed, Vec<(IndexSpec, Decision)>)>,
    conflicts: Vec<IndexConflict>,
}

/// Compares the wanted indexes with the database's, writing nothing.
async fn plan(db: &Database) -> Result<Plan, MigrationError> {
    let mut existing: HashMap<String, Vec<IndexSpec>> = HashMap::new();
    let mut plan = Plan {
        migrations: Vec::new(),
        conflicts: Vec::new(),
    };
    for migration in parsed()? {
        if !existing.contains_key(&migration.collection) {
            let listed = list_indexes(db, &migration.collection).await?;
            existing.insert(migration.collection.clone(), listed);
        }
        let mut decisions = Vec::new();
        for wanted in &migration.indexes {
            let current = existing.entry(migration.collection.clone()).or_default();
            let decision = decide(&migration.collection, current, wanted);
            if matches!(decision, Decision::Create) {
                current.push(wanted.clone());
            }
            match decision {
                Decision::Conflict { found, fix } => plan.conflicts.push(IndexConflict {
                    migration: migration.id.to_owned(),
                    collection: migration.collection.clone(),
                    index: wanted.name.clone(),
                    expected: wanted.describe(),
                    found: found.describe(),
                    fix,
                }),
                decision => decisions.push((wanted.clone(), decision)),
            }
        }
        plan.migrations.push((migration, decisions));
    }
    Ok(plan)
}

/// Whether the database has the indexes the migrations want, without changing anything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct MigrationStatus {
    /// `collection.index` names `apply` would create.
    pub missing: Vec<String>,
    /// Existing indexes that stand in the way (`apply` would refuse to run).
    pub conflicts: Vec<IndexConflict>,
}

impl MigrationStatus {
    /// Every wanted index exists as specified.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.conflicts.is_empty()
    }
}

/// What [`apply`] would do, without doing it.
///
/// # Errors
/// [`MigrationError::Storage`] when MongoDB fails or cannot be reached;
/// [`MigrationError::Invalid`] for a malformed embedded migration.
pub async fn status(db: &Database) -> Result<MigrationStatus, MigrationError> {
    let plan = plan(db).await?;
    Ok(MigrationStatus {
        missing: plan
            .migrations
            .iter()
            .flat_map(|(migration, decisions)| {
                decisions
                    .iter()
                    .filter(|(_, d)| matches!(d, Decision::Create))
                    .map(|(wanted, _)| format!("{}.{}", migration.collection, wanted.name))
            })
            .collect(),
        conflicts: plan.conflicts,
    })
}

/// Applies every migration: creates the missing indexes and leaves the present ones alone, so
/// running it again is a no-op. Conflicts are all checked before anything is created.
///
/// # Errors
/// [`MigrationError::Conflicts`] listing every existing index that differs from a wanted one
/// (which index, expected, found, how to fix); [`MigrationError::Duplicates`] when a unique
/// index cannot be built over the stored documents; [`MigrationError::Storage`] when MongoDB
/// fails or cannot be reached.
pub async fn apply(db: &Database) -> Result<MigrationReport, MigrationError> {
    let plan = plan(db).await?;
    if !plan.conflicts.is_empty() {
        return Err(MigrationError::Conflicts(plan.conflicts));
    }

    let mut report = MigrationReport {
        migrations: Vec::new(),
    };
    for (migration, decisions) in plan.migrations {
        let mut indexes = Vec::new();
        for (wanted, decision) in decisions {
            let status = match decision {
                Decision::Keep(status) => status,
                Decision::Create | Decision::Conflict { .. } => {
                    create(db, &migration.collection, &wanted).await?;
                    tracing::info!(
                        collection = %migration.collection,
                        index = %wanted.name,
                        migration = migration.id,
                        "created index"
                    );
                    IndexStatus::Created
                }
            };
            indexes.push(IndexOutcome {
                collection: migration.collection.clone(),
                name: wanted.name.clone(),
                status,
            });
        }
        report.migrations.push(MigrationOutcome {
            id: migration.id.to_owned(),
            description: migration.description.clone(),
            indexes,
        });
    }
    Ok(report)
}

async fn create(db: &Database, collection: &str, wanted: &IndexSpec) -> Result<(), MigrationError> {
    let command = doc! {"createIndexes": collection, "indexes": [wanted.to_create()]};
    match db.run_command(command).await {
        Ok(_) => Ok(()),
        Err(err) => match err.kind.as_ref() {
            ErrorKind::Command(c) if c.code == 11000 => Err(MigrationError::Duplicates {
                collection: collection.to_owned(),
                index: wanted.name.clone(),
                // Only the index part: the duplicated value is user data.
                detail: c
                    .message
                    .split(" dup key")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            }),
            // Another process created a different index with this name or key meanwhile.
            ErrorKind::Command(c) if c.code == 85 || c.code == 86 => {
                Err(MigrationError::Conflicts(vec![IndexConflict {
                    migration: String::new(),
                    collection: collection.to_owned(),
                    index: wanted.name.clone(),
                    expected: wanted.describe(),
                    found: c.message.clone(),
                    fix: format!(
                        "inspect db.{collection}.getIndexes(), drop the conflicting index, then \
                         run `altrion db migrate`"
                    ),
                }]))
            }
            _ => Err(MigrationError::Storage(err.into())),
        },
    }
}
