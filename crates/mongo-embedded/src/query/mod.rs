//! Query language: filter matching, projection and update operators.

mod eval;
pub mod matcher;
mod operators;
pub mod projection;
pub mod update;
