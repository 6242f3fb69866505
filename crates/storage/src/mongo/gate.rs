//! The index gate and the operation deadline every adapter call runs under.

use std::{
    future::IntoFuture,
    sync::{Arc, PoisonError, RwLock},
    time::Duration,
};

use altrion_domain::RepoError;

use super::errors::repo_error;

use altrion_domain::IndexesNotReady;

/// Whether the unique indexes that sign-up and identity linking rely on are in place, shared
/// by every store of one server. Until it is opened, [`check`](Self::check) fails, so a burst
/// of same-email sign-ups can never create two accounts before `users.email_1` exists.
#[derive(Debug, Clone)]
pub struct IndexGate {
    /// `None` when open; else why it is closed.
    blocked: Arc<RwLock<Option<String>>>,
}

impl IndexGate {
    /// A gate that never refuses (the indexes are managed elsewhere: tests, the CLI).
    pub fn open() -> Self {
        Self {
            blocked: Arc::new(RwLock::new(None)),
        }
    }

    /// A gate closed for `reason` until [`set_ready`](Self::set_ready).
    pub fn closed(reason: impl Into<String>) -> Self {
        Self {
            blocked: Arc::new(RwLock::new(Some(reason.into()))),
        }
    }

    /// The indexes are in place: writes pass from now on.
    pub fn set_ready(&self) {
        *self.blocked.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// The indexes are not in place, for `reason` (shown in `/api/ready`).
    pub fn set_blocked(&self, reason: impl Into<String>) {
        *self.blocked.write().unwrap_or_else(PoisonError::into_inner) = Some(reason.into());
    }

    /// Why the gate is closed, if it is.
    pub fn reason(&self) -> Option<String> {
        self.blocked
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `Unavailable` ([`IndexesNotReady`]) while the gate is closed.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] while closed.
    pub fn check(&self) -> Result<(), RepoError> {
        match self.reason() {
            None => Ok(()),
            Some(reason) => Err(RepoError::Unavailable(Box::new(IndexesNotReady(reason)))),
        }
    }
}

impl Default for IndexGate {
    fn default() -> Self {
        Self::open()
    }
}

/// A database operation that did not finish within its deadline.
#[derive(Debug, thiserror::Error)]
#[error("no answer from the database within {0:?}")]
pub struct DeadlineExceeded(pub Duration);

/// Runs one driver operation under `limit`: a driver error maps as [`repo_error`], an elapsed
/// deadline to [`RepoError::Unavailable`] (the API answers 503 instead of hanging).
pub(crate) async fn within<T, F>(limit: Duration, operation: F) -> Result<T, RepoError>
where
    F: IntoFuture<Output = mongodb::error::Result<T>>,
{
    match tokio::time::timeout(limit, operation.into_future()).await {
        Ok(result) => result.map_err(repo_error),
        Err(_) => {
            metrics::counter!("altrion_database_timeouts_total").increment(1);
            Err(RepoError::Unavailable(Box::new(DeadlineExceeded(limit))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_gate_refuses_as_unavailable_until_ready() {
        let gate = IndexGate::closed("indexes not in place");
        let shared = gate.clone();
        match shared.check() {
            Err(RepoError::Unavailable(source)) => {
                assert!(source.downcast_ref::<IndexesNotReady>().is_some());
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
        gate.set_ready();
        assert!(shared.check().is_ok());
        gate.set_blocked("conflict on users.email_1");
        assert_eq!(
            shared.reason().as_deref(),
            Some("conflict on users.email_1")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_operation_past_its_deadline_is_unavailable() {
        let stalled = std::future::pending::<mongodb::error::Result<()>>();
        match within(Duration::from_millis(500), stalled).await {
            Err(RepoError::Unavailable(source)) => {
                assert!(source.downcast_ref::<DeadlineExceeded>().is_some());
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
        assert_eq!(
            within(Duration::from_millis(500), async { Ok(7) })
                .await
                .ok(),
            Some(7)
        );
    }
}
