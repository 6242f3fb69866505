//! What `altrion db check` and `altrion db cleanup` do: inspect the database, and drop every
//! collection the application does not own (`users`, `sessions`; `system.*` belongs to MongoDB).

mod check;
mod cleanup;

pub use crate::mongo::admin::{
    delete_user, list_sessions, list_users, revoke_session, revoke_user_sessions, show_user,
    unlock_user, SessionSummary, UserSummary,
};
pub use check::{check, CheckReport, CollectionReport, SessionCounts};
pub use cleanup::{cleanup, cleanup_plan, is_protected};
