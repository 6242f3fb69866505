//! Query language: path resolution, filter matching, projection and update operators.

pub mod matcher;
pub mod path;
pub mod projection;
pub mod update;
