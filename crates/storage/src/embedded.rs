//! The zero-setup database (design §8): `mongo-embedded` started in-process for
//! `MONGODB_URI=embedded:<dir>` (persisted in `<dir>`) or `embedded:` (in memory), listening on
//! a loopback port so `mongosh`, drivers and `altrion db …` can reach it while the app runs.
//! Not a production database: production settings refuse `embedded:` URIs.

use std::{fmt, path::Path};

use mongo_embedded::{Server, ServerHandle, ServerOptions};

use crate::StorageError;

/// A running in-process database; stop it with [`EmbeddedDatabase::shutdown`] to write a
/// final snapshot (dropping it still keeps every acknowledged write in the journal).
pub struct EmbeddedDatabase {
    handle: ServerHandle,
}

impl fmt::Debug for EmbeddedDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedDatabase")
            .field("address", &self.handle.local_addr())
            .finish()
    }
}

impl EmbeddedDatabase {
    /// Starts it on `127.0.0.1:port` (0 picks a free port), persisting to `dir` (created if
    /// missing) or keeping everything in memory when `dir` is `None`.
    ///
    /// # Errors
    /// [`StorageError::Config`] when `dir` is in use by another process or the port is taken;
    /// [`StorageError::Other`] when stored data cannot be read.
    pub async fn start(dir: Option<&Path>, port: u16) -> Result<Self, StorageError> {
        let mut options = ServerOptions::default().bind("127.0.0.1").port(port);
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir).map_err(|err| {
                StorageError::Config(format!("cannot create {}: {err}", dir.display()))
            })?;
            options = options.dbpath(dir);
        }
        let handle = Server::start(options).await.map_err(|err| match err {
            mongo_embedded::Error::DbPathInUse(_) => StorageError::Config(format!(
                "{err}: is another server running on it? Stop it, or use another directory"
            )),
            mongo_embedded::Error::Io(io) if io.kind() == std::io::ErrorKind::AddrInUse => {
                StorageError::Config(format!(
                    "port 127.0.0.1:{port} is taken (MONGODB_EMBEDDED_PORT): is a mongod \
                     running? Choose another port, or 0 for any free one"
                ))
            }
            other => StorageError::Other(Box::new(other)),
        })?;
        Ok(Self { handle })
    }

    /// The connection string of the running database.
    pub fn uri(&self) -> String {
        format!(
            "mongodb://{}/?directConnection=true",
            self.handle.local_addr()
        )
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.handle.local_addr().port()
    }

    /// Stops accepting connections, writes a final snapshot and releases the directory.
    ///
    /// # Errors
    /// [`StorageError::Other`] when the snapshot cannot be written.
    pub async fn shutdown(self) -> Result<(), StorageError> {
        self.handle
            .shutdown()
            .await
            .map_err(|err| StorageError::Other(Box::new(err)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{migrations, MongoOptions};

    #[tokio::test]
    async fn a_persisted_database_survives_a_restart_and_locks_its_directory() {
        let dir = std::env::temp_dir().join(format!("altrion-embedded-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = EmbeddedDatabase::start(Some(&dir), 0).await.unwrap();
        let db = crate::mongo::connect(&MongoOptions::new(first.uri(), "altrion"))
            .await
            .unwrap();
        migrations::apply(&db).await.unwrap();

        let second = EmbeddedDatabase::start(Some(&dir), 0).await;
        assert!(matches!(second, Err(StorageError::Config(_))), "{second:?}");

        first.shutdown().await.unwrap();
        let again = EmbeddedDatabase::start(Some(&dir), 0).await.unwrap();
        let db = crate::mongo::connect(&MongoOptions::new(again.uri(), "altrion"))
            .await
            .unwrap();
        assert!(migrations::apply(&db).await.unwrap().created().is_empty());
        again.shutdown().await.unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
