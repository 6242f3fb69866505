use std::error::Error as StdError;

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKey {
    /// Another user already has this email.
    Email,
    /// Another user already has this (provider, subject) identity.
    Identity,
    /// The primary key (`_id`) already exists.
    Id,
}

/// The error contract every repository port shares.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The document the operation targets does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; nothing was written.
    #[error("conflict on {0:?}")]
    Conflict(ConflictKey),
    /// The store could not be reached in time; the operation may be retried.
    #[error("store unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// Anything else: corrupt data, a bug, an unexpected reply.
    #[error("store error")]
    Other(#[source] Box<dyn StdError + Send + Sync>),
}

/// Why writes that rely on a unique index are refused: the indexes are not (yet) in place.
/// Carried as the source of [`RepoError::Unavailable`] by stores that gate on their indexes;
/// its text is safe to show to clients (it names indexes, never stored values), and the HTTP
/// layer does.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct IndexesNotReady(pub String);

impl RepoError {
    /// Wraps an arbitrary message as [`RepoError::Other`].
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other(message.into().into())
    }
}

/// `err` and each of its causes, outermost first.
pub fn causes<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |&e| e.source())
}

/// `err` and its causes as one line (`outer: inner: root`), for logs.
pub fn chain(err: &(dyn StdError + 'static)) -> String {
    causes(err)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_names_every_cause_outermost_first() {
        let err = RepoError::Unavailable(Box::new(IndexesNotReady("users.email_1".into())));
        assert_eq!(chain(&err), "store unavailable: users.email_1");
        assert_eq!(causes(&err).count(), 2);
    }
}
