//! What a worker is built from: the ports and the use cases (the clock is the auth service's).

use std::sync::Arc;

use altrion_auth::{AuthService, OAuthService};
use altrion_domain::{Readiness, SessionRepository, UserRepository};

/// The storage a server runs on; tests pass in-memory fakes.
#[derive(Debug, Clone)]
pub struct Stores {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub readiness: Arc<dyn Readiness>,
}

impl From<altrion_storage::MongoStores> for Stores {
    fn from(stores: altrion_storage::MongoStores) -> Self {
        Self {
            users: stores.users,
            sessions: stores.sessions,
            readiness: stores.readiness,
        }
    }
}

/// What a worker serves with: its stores and the use cases over them. Start-up registers the
/// parts as app data (the services through `altrion_web::api` and `oauth_api`, the readiness
/// probe on its own), not this struct.
#[derive(Debug, Clone)]
pub struct AppState {
    pub stores: Stores,
    pub auth: AuthService,
    pub oauth: OAuthService,
}

impl AppState {
    /// The same use cases over other stores (a worker's own database client).
    pub fn with_stores(&self, stores: Stores) -> Self {
        Self {
            auth: self
                .auth
                .with_stores(stores.users.clone(), stores.sessions.clone()),
            oauth: self
                .oauth
                .with_stores(stores.users.clone(), stores.sessions.clone()),
            stores,
        }
    }
}
