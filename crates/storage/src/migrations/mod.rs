//! The index migrations in `migrations/` at the repository root, embedded at build time and
//! applied idempotently. There is no bookkeeping collection: each run compares the wanted
//! indexes with `listIndexes` and creates only the missing ones. An existing index with the
//! same name or key but other options is a conflict, reported with a fix, never replaced.

mod apply;
mod spec;

pub use apply::{
    apply, status, IndexConflict, IndexOutcome, IndexStatus, MigrationError, MigrationOutcome,
    MigrationReport, MigrationStatus,
};

/// One embedded migration: its id (the file name without `.json`) and its JSON text.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub id: &'static str,
    pub source: &'static str,
}

/// Every migration, in order. A new file in `migrations/` must be added here (a test checks).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        id: "0001_users_indexes",
        source: include_str!("../../../../migrations/0001_users_indexes.json"),
    },
    Migration {
        id: "0002_sessions_indexes",
        source: include_str!("../../../../migrations/0002_sessions_indexes.json"),
    },
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::path::Path;

    use super::*;

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|name| name.strip_suffix(".json").map(str::to_owned))
            .collect();
        files.sort();
        let embedded: Vec<&str> = MIGRATIONS.iter().map(|m| m.id).collect();
        assert_eq!(files, embedded);
        for (n, migration) in MIGRATIONS.iter().enumerate() {
            assert!(
                migration.id.starts_with(&format!("{:04}_", n + 1)),
                "{} is out of sequence",
                migration.id
            );
        }
    }
}
