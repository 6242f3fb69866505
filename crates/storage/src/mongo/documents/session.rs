//! `sessions`: `{ _id: <SessionId hex>, session: { …state… }, expires, lastModified,
//! createdAt, userId?: ObjectId }`, the shape connect-mongo users recognise.

use altrion_domain::{SessionId, SessionRecord, UserId};
use mongodb::bson::{doc, oid::ObjectId, Bson, Document};

use super::{json, to_bson_date, Fields, MappingError};

const SESSIONS: &str = "sessions";

/// How a user id is stored: as the ObjectId it names, or as text when it is not one (ids
/// issued elsewhere), so the mirror always round-trips.
pub(in crate::mongo) fn user_id_value(id: &UserId) -> Bson {
    ObjectId::parse_str(id.as_str()).map_or_else(|_| Bson::String(id.to_string()), Bson::ObjectId)
}

/// The document `insert` writes.
pub(in crate::mongo) fn session_document(record: &SessionRecord) -> Document {
    let mut doc = doc! {
        "_id": record.id.as_str(),
        "session": json::object_to_document(&record.state),
        "expires": to_bson_date(record.expires),
        "lastModified": to_bson_date(record.last_modified),
        "createdAt": to_bson_date(record.created_at),
    };
    if let Some(user) = &record.user_id {
        doc.insert("userId", user_id_value(user));
    }
    doc
}

/// A stored session as the domain sees it.
pub(in crate::mongo) fn session_from_document(
    doc: &Document,
) -> Result<SessionRecord, MappingError> {
    let fields = Fields::new(SESSIONS, doc);
    let id = SessionId::from_hex(fields.str("_id")?)
        .map_err(|_| fields.error("_id", "is not a session id"))?;
    let user_id = match fields.raw("userId") {
        None => None,
        Some(Bson::ObjectId(oid)) => Some(UserId::new(oid.to_hex())),
        Some(Bson::String(s)) => Some(UserId::new(s.clone())),
        Some(_) => return Err(fields.error("userId", "is not an ObjectId")),
    };
    Ok(SessionRecord {
        id,
        state: fields
            .opt_document("session")?
            .map(json::document_to_object)
            .unwrap_or_default(),
        expires: fields.date("expires")?,
        last_modified: fields.date("lastModified")?,
        created_at: fields.date("createdAt")?,
        user_id,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn sessions_round_trip_and_keep_their_shape() {
        let at = datetime!(2026-05-06 07:08:09.010 UTC);
        let record = SessionRecord {
            id: SessionId::from_hex("ab".repeat(32)).unwrap(),
            state: json!({"user_id": "x", "n": {"deep": [1, 2]}})
                .as_object()
                .unwrap()
                .clone(),
            expires: at + time::Duration::days(1),
            last_modified: at,
            created_at: at,
            user_id: Some(UserId::new(ObjectId::new().to_hex())),
        };
        let doc = session_document(&record);
        assert!(matches!(doc.get("userId"), Some(Bson::ObjectId(_))));
        assert!(matches!(doc.get("session"), Some(Bson::Document(_))));
        assert!(matches!(doc.get("expires"), Some(Bson::DateTime(_))));
        assert_eq!(session_from_document(&doc).unwrap(), record);
    }

    #[test]
    fn foreign_user_ids_are_kept_as_text() {
        assert_eq!(
            user_id_value(&UserId::new("u-1")),
            Bson::String("u-1".into())
        );
    }
}
