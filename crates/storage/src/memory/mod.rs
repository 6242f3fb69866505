//! In-memory implementations of the ports, with the same contract as the MongoDB adapters:
//! unique email, unique identity, expiry judged by the `now` the caller passes; and
//! [`Unreachable`], stores whose database is down.

mod sessions;
mod unreachable;
mod users;

pub use sessions::MemorySessionRepository;
pub use unreachable::Unreachable;
pub use users::MemoryUserRepository;

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks ignoring poisoning: a panicking test must not cascade into every other test.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Readiness of the in-memory stores: always ready.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryReadiness;

#[async_trait::async_trait]
impl altrion_domain::Readiness for MemoryReadiness {
    async fn ping(&self) -> Result<(), altrion_domain::RepoError> {
        Ok(())
    }
}
