//! The BSON documents of `users` and `sessions` and their mapping to domain types. Private:
//! nothing outside `mongo` sees a BSON type.

mod json;
mod session;
mod user;

pub(super) use json::object_to_document;
pub(super) use session::{session_document, session_from_document, user_id_value};
pub(super) use user::{identity_document, new_user_document, user_from_document};

use altrion_domain::{RepoError, Timestamp};
use mongodb::bson::{Bson, DateTime, Document};

/// A stored document that does not have the shape this code writes.
#[derive(Debug, thiserror::Error)]
#[error("malformed {collection} document: field `{field}` {problem}")]
pub(in crate::mongo) struct MappingError {
    collection: &'static str,
    field: String,
    problem: String,
}

impl MappingError {
    pub(super) fn new(
        collection: &'static str,
        field: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        Self {
            collection,
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl From<MappingError> for RepoError {
    fn from(err: MappingError) -> Self {
        RepoError::Other(Box::new(err))
    }
}

/// A domain instant as a BSON date (milliseconds; anything finer is dropped, as MongoDB would).
pub(super) fn to_bson_date(t: Timestamp) -> DateTime {
    let millis = t.unix_timestamp_nanos().div_euclid(1_000_000);
    DateTime::from_millis(i64::try_from(millis).unwrap_or(if millis < 0 {
        i64::MIN
    } else {
        i64::MAX
    }))
}

/// A BSON date as a domain instant, `None` when it lies outside `time`'s range.
pub(super) fn from_bson_date(d: DateTime) -> Option<Timestamp> {
    Timestamp::from_unix_timestamp_nanos(i128::from(d.timestamp_millis()) * 1_000_000).ok()
}

/// Typed reads of one document, with errors naming the field.
pub(super) struct Fields<'a> {
    collection: &'static str,
    doc: &'a Document,
}

impl<'a> Fields<'a> {
    pub(super) fn new(collection: &'static str, doc: &'a Document) -> Self {
        Self { collection, doc }
    }

    pub(super) fn error(&self, field: &str, problem: &str) -> MappingError {
        MappingError::new(self.collection, field, problem)
    }

    /// The value, treating `null` as absent.
    fn get(&self, field: &str) -> Option<&'a Bson> {
        self.doc.get(field).filter(|v| !matches!(v, Bson::Null))
    }

    pub(super) fn raw(&self, field: &str) -> Option<&'a Bson> {
        self.get(field)
    }

    pub(super) fn opt_str(&self, field: &str) -> Result<Option<&'a str>, MappingError> {
        match self.get(field) {
            None => Ok(None),
            Some(Bson::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.error(field, "is not a string")),
        }
    }

    pub(super) fn str(&self, field: &str) -> Result<&'a str, MappingError> {
        self.opt_str(field)?
            .ok_or_else(|| self.error(field, "is missing"))
    }

    pub(super) fn opt_bool(&self, field: &str) -> Result<Option<bool>, MappingError> {
        match self.get(field) {
            None => Ok(None),
            Some(Bson::Boolean(b)) => Ok(Some(*b)),
            Some(_) => Err(self.error(field, "is not a boolean")),
        }
    }

    /// An integer stored as int32, int64 or an integral double (shells write doubles).
    pub(super) fn opt_int(&self, field: &str) -> Result<Option<i64>, MappingError> {
        match self.get(field) {
            None => Ok(None),
            Some(Bson::Int32(n)) => Ok(Some(i64::from(*n))),
            Some(Bson::Int64(n)) => Ok(Some(*n)),
            #[allow(clippy::cast_possible_truncation)]
            Some(Bson::Double(d)) if d.fract() == 0.0 && d.abs() < 9.0e15 => Ok(Some(*d as i64)),
            Some(_) => Err(self.error(field, "is not an integer")),
        }
    }

    pub(super) fn opt_date(&self, field: &str) -> Result<Option<Timestamp>, MappingError> {
        match self.get(field) {
            None => Ok(None),
            Some(Bson::DateTime(d)) => from_bson_date(*d)
                .map(Some)
                .ok_or_else(|| self.error(field, "is out of range")),
            Some(_) => Err(self.error(field, "is not a date")),
        }
    }

    pub(super) fn date(&self, field: &str) -> Result<Timestamp, MappingError> {
        self.opt_date(field)?
            .ok_or_else(|| self.error(field, "is missing"))
    }

    pub(super) fn opt_document(&self, field: &str) -> Result<Option<&'a Document>, MappingError> {
        match self.get(field) {
            None => Ok(None),
            Some(Bson::Document(d)) => Ok(Some(d)),
            Some(_) => Err(self.error(field, "is not a document")),
        }
    }

    pub(super) fn opt_array(&self, field: &str) -> Result<Option<&'a Vec<Bson>>, MappingError> {
        match self.get(field) {
            None => Ok(None),
            Some(Bson::Array(a)) => Ok(Some(a)),
            Some(_) => Err(self.error(field, "is not an array")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use time::macros::datetime;

    use super::*;

    #[test]
    fn dates_round_trip_at_millisecond_precision() {
        let t = datetime!(2026-03-01 12:34:56.789 UTC);
        assert_eq!(from_bson_date(to_bson_date(t)).unwrap(), t);
        let finer = datetime!(2026-03-01 12:34:56.789_999 UTC);
        assert_eq!(from_bson_date(to_bson_date(finer)).unwrap(), t);
        let before_epoch = datetime!(1969-12-31 23:59:59.999_5 UTC);
        assert_eq!(to_bson_date(before_epoch).timestamp_millis(), -1);
    }
}
