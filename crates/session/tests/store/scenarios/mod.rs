//! The store's acceptance scenarios, generic over the repository so the same story runs on
//! the in-memory fake and on MongoDB. Each takes an empty repository of its own and a
//! `TestClock` at [`support::start`](crate::support::start). User ids are ObjectId-shaped hex
//! strings, as the MongoDB adapter stores them, and differ between scenarios.

mod basics;
mod safety;

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
