use std::time::Duration;

use altrion_domain::{Readiness, RepoError};
use async_trait::async_trait;
use mongodb::{bson::doc, Database};

use super::{errors::repo_error, gate::IndexGate};

/// Readiness as "the database answers `{ping: 1}` within the ping timeout and the index gate
/// is open" (the unique indexes sign-ups rely on are in place).
#[derive(Debug, Clone)]
pub struct MongoReadiness {
    database: Database,
    timeout: Duration,
    gate: IndexGate,
}

impl MongoReadiness {
    /// Pings `database`, giving up after `timeout` (keep it shorter than the probe's own).
    pub fn new(database: &Database, timeout: Duration) -> Self {
        Self {
            database: database.clone(),
            timeout,
            gate: IndexGate::open(),
        }
    }

    /// Also unready while `gate` is closed.
    #[must_use]
    pub fn gated(mut self, gate: IndexGate) -> Self {
        self.gate = gate;
        self
    }
}

#[derive(Debug, thiserror::Error)]
#[error("MongoDB did not answer a ping within {0:?}")]
struct PingTimeout(Duration);

#[async_trait]
impl Readiness for MongoReadiness {
    async fn ping(&self) -> Result<(), RepoError> {
        match tokio::time::timeout(self.timeout, self.database.run_command(doc! {"ping": 1})).await
        {
            Ok(Ok(_)) => self.gate.check(),
            Ok(Err(err)) => Err(match repo_error(err) {
                RepoError::Other(source) => RepoError::Unavailable(source),
                other => other,
            }),
            Err(_) => Err(RepoError::Unavailable(Box::new(PingTimeout(self.timeout)))),
        }
    }
}
