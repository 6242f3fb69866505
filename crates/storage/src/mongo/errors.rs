//! Driver errors → the storage seam's semantic errors.

use altrion_domain::{ConflictKey, RepoError};
use mongodb::{
    bson::Document,
    error::{Error, ErrorKind, WriteFailure},
};

/// Server error codes that mean "not reachable or not able to serve right now".
const UNAVAILABLE_CODES: &[i32] = &[
    6,     // HostUnreachable
    7,     // HostNotFound
    50,    // MaxTimeMSExpired
    64,    // WriteConcernFailed (wtimeout)
    89,    // NetworkTimeout
    91,    // ShutdownInProgress
    189,   // PrimarySteppedDown
    262,   // ExceededTimeLimit
    9001,  // SocketException
    10107, // NotWritablePrimary
    11600, // InterruptedAtShutdown
    11602, // InterruptedDueToReplStateChange
    13435, // NotPrimaryNoSecondaryOk
    13436, // NotPrimaryOrSecondary
    14031, // OutOfDiskSpace: mongo-embedded's answer when its journal cannot be written (nothing was applied)
];

/// Duplicate key: 11000, plus the legacy 11001 and the capped-update variant 12582.
const DUPLICATE_KEY_CODES: &[i32] = &[11000, 11001, 12582];

/// Whether `err` means the database could not be reached or could not serve in time.
pub(crate) fn is_unavailable(err: &Error) -> bool {
    let by_kind = match err.kind.as_ref() {
        ErrorKind::Io(_)
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. } => true,
        ErrorKind::Write(WriteFailure::WriteConcernError(_)) => true,
        ErrorKind::Command(command) => UNAVAILABLE_CODES.contains(&command.code),
        _ => false,
    };
    by_kind || err.contains_label("RetryableWriteError")
}

/// The duplicate-key code of `err`, if it is one.
fn duplicate_key_message(err: &Error) -> Option<String> {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write))
            if DUPLICATE_KEY_CODES.contains(&write.code) =>
        {
            Some(write.message.clone())
        }
        ErrorKind::Command(command) if DUPLICATE_KEY_CODES.contains(&command.code) => {
            Some(command.message.clone())
        }
        ErrorKind::InsertMany(many) => many
            .write_errors
            .iter()
            .flatten()
            .find(|e| DUPLICATE_KEY_CODES.contains(&e.code))
            .map(|e| e.message.clone()),
        _ => None,
    }
}

/// The `keyPattern` MongoDB (4.2+) attaches to a duplicate-key error, from the raw reply.
fn key_pattern(err: &Error) -> Option<Document> {
    let reply = err.server_response()?.to_document().ok()?;
    if let Ok(pattern) = reply.get_document("keyPattern") {
        return Some(pattern.clone());
    }
    reply
        .get_array("writeErrors")
        .ok()?
        .iter()
        .filter_map(|e| e.as_document())
        .find_map(|e| e.get_document("keyPattern").ok().cloned())
}

/// The index named in "E11000 duplicate key error collection: db.users index: email_1 dup key: …".
fn index_name(message: &str) -> Option<&str> {
    let rest = message.split_once(" index: ")?.1;
    rest.split_whitespace().next()
}

/// Which uniqueness rule a duplicate-key error broke: by the key pattern when the server sends
/// one, else by the index name in the message (never by the duplicated value, which is user data).
fn conflict_key(pattern: Option<&Document>, message: &str) -> ConflictKey {
    let fields: Vec<&str> = match pattern {
        Some(pattern) => pattern.keys().map(String::as_str).collect(),
        None => index_name(message).into_iter().collect(),
    };
    if fields.iter().any(|f| f.starts_with("identities")) {
        ConflictKey::Identity
    } else if fields.iter().any(|f| f.starts_with("email")) {
        ConflictKey::Email
    } else {
        ConflictKey::Id
    }
}

/// Maps a driver error to the port's error contract.
pub(crate) fn repo_error(err: Error) -> RepoError {
    if let Some(message) = duplicate_key_message(&err) {
        return RepoError::Conflict(conflict_key(key_pattern(&err).as_ref(), &message));
    }
    if is_unavailable(&err) {
        metrics::counter!("altrion_database_errors_total", "kind" => "unavailable").increment(1);
        RepoError::Unavailable(Box::new(err))
    } else {
        metrics::counter!("altrion_database_errors_total", "kind" => "other").increment(1);
        RepoError::Other(Box::new(err))
    }
}

#[cfg(test)]
mod tests {
    use mongodb::bson::doc;

    use super::*;

    #[test]
    fn conflicts_are_told_apart_by_key_pattern() {
        let by = |pattern| conflict_key(Some(&pattern), "");
        assert_eq!(by(doc! {"email": 1}), ConflictKey::Email);
        assert_eq!(
            by(doc! {"identities.provider": 1, "identities.subject": 1}),
            ConflictKey::Identity
        );
        assert_eq!(by(doc! {"_id": 1}), ConflictKey::Id);
    }

    #[test]
    fn conflicts_fall_back_to_the_index_name_not_the_value() {
        let message = |index: &str, value: &str| {
            format!(
                "E11000 duplicate key error collection: altrion.users index: {index} dup key: {{ {value} }}"
            )
        };
        assert_eq!(
            conflict_key(None, &message("email_1", "email: \"identities@x.org\"")),
            ConflictKey::Email
        );
        assert_eq!(
            conflict_key(
                None,
                &message(
                    "identities.provider_1_identities.subject_1",
                    "identities.provider: \"github\", identities.subject: \"1\""
                )
            ),
            ConflictKey::Identity
        );
        assert_eq!(
            conflict_key(None, &message("_id_", "_id: \"ab\"")),
            ConflictKey::Id
        );
    }
}
