//! Error types: [`Error`] for the Rust API and [`CmdError`] for command replies.

use bson::{doc, Document};
use std::path::PathBuf;

/// Errors returned by the Rust API (starting, stopping, persistence).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Socket or file I/O failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Another process holds the dbpath lock file.
    #[error("dbpath {0} is in use by another mongo-embedded process")]
    DbPathInUse(PathBuf),
    /// Persisted data could not be read back.
    #[error("corrupt data file {path}: {reason}")]
    Corrupt {
        /// File that failed to load.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// A BSON value could not be serialized.
    #[error("BSON serialization failed: {0}")]
    BsonSer(#[from] bson::ser::Error),
    /// A command failed (used by API helpers that run commands).
    #[error("command failed: {0}")]
    Command(#[from] CmdError),
}

/// A MongoDB command error: numeric code, code name and message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code_name} ({code}): {msg}")]
pub struct CmdError {
    /// MongoDB error code, e.g. 59 for CommandNotFound.
    pub code: i32,
    /// MongoDB code name, e.g. "CommandNotFound".
    pub code_name: &'static str,
    /// Human readable message (`errmsg`).
    pub msg: String,
    /// Extra fields merged into the error reply (e.g. `keyPattern`).
    pub extra: Box<Document>,
}

macro_rules! ctor {
    ($fn:ident, $code:expr, $name:expr) => {
        #[doc = concat!("MongoDB error ", stringify!($code), " ", $name, ".")]
        pub fn $fn(msg: impl Into<String>) -> Self {
            Self::new($code, $name, msg)
        }
    };
}

impl CmdError {
    /// Builds an error from a code, code name and message.
    pub fn new(code: i32, code_name: &'static str, msg: impl Into<String>) -> Self {
        CmdError {
            code,
            code_name,
            msg: msg.into(),
            extra: Box::default(),
        }
    }
    ctor!(internal, 1, "InternalError");
    ctor!(bad_value, 2, "BadValue");
    ctor!(failed_to_parse, 9, "FailedToParse");
    ctor!(type_mismatch, 14, "TypeMismatch");
    ctor!(illegal_operation, 20, "IllegalOperation");
    ctor!(namespace_not_found, 26, "NamespaceNotFound");
    ctor!(index_not_found, 27, "IndexNotFound");
    ctor!(path_not_viable, 28, "PathNotViable");
    ctor!(conflicting_update, 40, "ConflictingUpdateOperators");
    ctor!(cursor_not_found, 43, "CursorNotFound");
    ctor!(namespace_exists, 48, "NamespaceExists");
    ctor!(command_not_found, 59, "CommandNotFound");
    ctor!(immutable_field, 66, "ImmutableField");
    ctor!(cannot_create_index, 67, "CannotCreateIndex");
    ctor!(invalid_options, 72, "InvalidOptions");
    ctor!(invalid_namespace, 73, "InvalidNamespace");
    ctor!(index_options_conflict, 85, "IndexOptionsConflict");
    ctor!(index_key_specs_conflict, 86, "IndexKeySpecsConflict");
    ctor!(command_not_supported, 115, "CommandNotSupported");
    ctor!(
        invalid_index_spec_option,
        197,
        "InvalidIndexSpecificationOption"
    );
    ctor!(duplicate_key, 11000, "DuplicateKey");
    ctor!(unknown_field, 40415, "Location40415");

    /// Adds an extra reply field.
    pub fn with(mut self, key: &str, value: impl Into<bson::Bson>) -> Self {
        self.extra.insert(key, value.into());
        self
    }

    /// The command reply document `{ok: 0, errmsg, code, codeName, ...}`.
    pub fn to_reply(&self) -> Document {
        let mut d =
            doc! { "ok": 0.0, "errmsg": &self.msg, "code": self.code, "codeName": self.code_name };
        for (k, v) in self.extra.iter() {
            d.insert(k.clone(), v.clone());
        }
        d
    }

    /// The per-document write error `{index, code, errmsg, ...}`.
    pub fn to_write_error(&self, index: usize) -> Document {
        let mut d = doc! { "index": index as i32, "code": self.code, "errmsg": &self.msg };
        for (k, v) in self.extra.iter() {
            d.insert(k.clone(), v.clone());
        }
        d
    }
}

/// Result type of command handlers.
pub type CmdResult<T> = Result<T, CmdError>;
