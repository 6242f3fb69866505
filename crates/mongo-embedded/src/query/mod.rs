//! Query language: path resolution, filter matching, projection and update operators.

mod eval;
pub mod matcher;
mod operators;
pub mod path;
pub mod projection;
pub mod update;
