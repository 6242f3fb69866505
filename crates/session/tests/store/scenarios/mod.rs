//! The store's acceptance scenarios, generic over the repository so the same story runs on
//! the in-memory fake and on MongoDB. Each takes an empty repository of its own and a
//! `TestClock` at [`support::start`](crate::support::start). User ids are ObjectId-shaped hex
//! strings, as the MongoDB adapter stores them, and differ between scenarios.

mod basics;
mod safety;

/// Invokes `$runner!` with every scenario, so each backend runs the same list.
macro_rules! for_every_scenario {
    ($runner:ident) => {
        $runner!(
            missing_key_loads_none,
            save_then_load_round_trips,
            update_replaces_state_and_extends_expiry,
            update_ttl_extends_expiry,
            update_ttl_is_a_lazy_touch,
            a_load_inside_the_window_makes_the_touch_free,
            update_ttl_never_revives_an_expired_session,
            delete_removes_the_session,
            expired_session_is_not_loaded,
            undecodable_state_is_a_deserialization_error,
            invalid_json_is_a_serialization_error,
            save_retries_with_a_fresh_key_on_collision,
            update_after_delete_does_not_recreate,
            update_after_expiry_does_not_recreate,
            user_id_is_mirrored_for_log_out_everywhere,
            keys_are_strong_and_only_their_hash_is_stored,
            a_session_never_outlives_its_absolute_lifetime,
            a_session_past_its_absolute_lifetime_is_refused_and_deleted,
        );
    };
}
pub(crate) use for_every_scenario;

use actix_session::storage::SessionStore;
use altrion_domain::SessionState;
use serde_json::Value;

pub use basics::*;
pub use safety::*;

use crate::support::{actix_state, TTL};

/// Saves `pairs` and returns the key as text.
async fn saved(store: &impl SessionStore, pairs: &[(&str, Value)]) -> String {
    store.save(actix_state(pairs), &TTL).await.unwrap().into()
}

/// The stored (parsed) form of `pairs`.
fn state_map(pairs: &[(&str, Value)]) -> SessionState {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}
