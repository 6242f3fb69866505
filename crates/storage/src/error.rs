use std::error::Error as StdError;

/// Why connecting to MongoDB or running an administrative operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The connection string or an option cannot be used; the message says which.
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// MongoDB could not be reached in time (server selection, network, timeouts).
    #[error("MongoDB is unreachable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// MongoDB answered with an error.
    #[error("MongoDB error")]
    Other(#[source] Box<dyn StdError + Send + Sync>),
}

impl From<mongodb::error::Error> for StorageError {
    fn from(err: mongodb::error::Error) -> Self {
        if crate::mongo::is_unavailable(&err) {
            Self::Unavailable(Box::new(err))
        } else {
            Self::Other(Box::new(err))
        }
    }
}
