//! BSON ordering (MongoDB's cross-type comparison) and sort specifications.

pub mod compare;
pub mod spec;
