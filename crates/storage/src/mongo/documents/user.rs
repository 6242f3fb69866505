//! `users`: `{ _id: ObjectId, name, email, emailVerified, password?, provider, identities: [ {
//! provider, subject, email?, emailVerified, linkedAt } ], avatarUrl?, tokenVersion,
//! failedLogins?, lockedUntil?, mailSent?: { passwordReset?: [Date], emailVerification?: [Date] },
//! createdAt, updatedAt, lastLoginAt? }`. A missing `emailVerified` (documents written before
//! verification existed) reads as `false` for `local` accounts and `true` for accounts created
//! through a provider, which only ever created them from a verified email.

use altrion_domain::{DisplayName, Email, Identity, NewUser, PasswordHash, Provider, User, UserId};
use mongodb::bson::{doc, oid::ObjectId, Bson, Document};

use super::{to_bson_date, Fields, MappingError};

const USERS: &str = "users";

/// The document `create` inserts.
pub(in crate::mongo) fn new_user_document(id: ObjectId, new: &NewUser) -> Document {
    let created = to_bson_date(new.created_at);
    let mut doc = doc! {
        "_id": id,
        "name": new.name.as_str(),
        "email": new.email.as_str(),
        "emailVerified": new.email_verified,
    };
    if let Some(hash) = &new.password_hash {
        doc.insert("password", hash.as_str());
    }
    doc.insert("provider", new.provider.as_str());
    let identities: Vec<Bson> = new
        .identity
        .iter()
        .map(|i| Bson::Document(identity_document(i)))
        .collect();
    doc.insert("identities", identities);
    if let Some(url) = &new.avatar_url {
        doc.insert("avatarUrl", url.as_str());
    }
    doc.insert("tokenVersion", 0_i64);
    doc.insert("createdAt", created);
    doc.insert("updatedAt", created);
    doc
}

/// One element of `identities`.
pub(in crate::mongo) fn identity_document(identity: &Identity) -> Document {
    let mut doc = doc! {
        "provider": identity.provider.as_str(),
        "subject": identity.subject.as_str(),
    };
    if let Some(email) = &identity.email {
        doc.insert("email", email.as_str());
    }
    doc.insert("emailVerified", identity.email_verified);
    doc.insert("linkedAt", to_bson_date(identity.linked_at));
    doc
}

fn provider(fields: &Fields<'_>, field: &str) -> Result<Provider, MappingError> {
    fields
        .str(field)?
        .parse()
        .map_err(|_| fields.error(field, "is not a known provider"))
}

fn email(fields: &Fields<'_>, field: &str, raw: &str) -> Result<Email, MappingError> {
    Email::parse(raw).map_err(|_| fields.error(field, "is not a valid email"))
}

fn identity_from(value: &Bson) -> Result<Identity, MappingError> {
    let Bson::Document(doc) = value else {
        return Err(MappingError::new(
            USERS,
            "identities",
            "holds a non-document",
        ));
    };
    let fields = Fields::new(USERS, doc);
    Ok(Identity {
        provider: provider(&fields, "provider")?,
        subject: fields.str("subject")?.to_owned(),
        email: match fields.opt_str("email")? {
            Some(raw) => Some(email(&fields, "identities.email", raw)?),
            None => None,
        },
        email_verified: fields.opt_bool("emailVerified")?.unwrap_or(false),
        linked_at: fields.date("linkedAt")?,
    })
}

/// A stored user as the domain sees it; missing optional counters read as zero.
pub(in crate::mongo) fn user_from_document(doc: &Document) -> Result<User, MappingError> {
    let fields = Fields::new(USERS, doc);
    let id = match fields.raw("_id") {
        Some(Bson::ObjectId(oid)) => oid.to_hex(),
        _ => return Err(fields.error("_id", "is not an ObjectId")),
    };
    let failed_logins = fields.opt_int("failedLogins")?.unwrap_or(0);
    let provider_field = provider(&fields, "provider")?;
    Ok(User {
        id: UserId::new(id),
        name: DisplayName::parse(fields.str("name")?)
            .map_err(|_| fields.error("name", "is not a valid display name"))?,
        email: email(&fields, "email", fields.str("email")?)?,
        email_verified: fields
            .opt_bool("emailVerified")?
            .unwrap_or(provider_field != Provider::Local),
        password_hash: fields.opt_str("password")?.map(PasswordHash::new),
        provider: provider_field,
        identities: fields
            .opt_array("identities")?
            .map(|items| items.iter().map(identity_from).collect())
            .transpose()?
            .unwrap_or_default(),
        avatar_url: fields.opt_str("avatarUrl")?.map(str::to_owned),
        token_version: fields.opt_int("tokenVersion")?.unwrap_or(0),
        failed_logins: u32::try_from(failed_logins.max(0)).unwrap_or(u32::MAX),
        locked_until: fields.opt_date("lockedUntil")?,
        created_at: fields.date("createdAt")?,
        updated_at: fields.date("updatedAt")?,
        last_login_at: fields.opt_date("lastLoginAt")?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use time::macros::datetime;

    use super::*;

    fn new_user() -> NewUser {
        let at = datetime!(2026-01-02 03:04:05.678 UTC);
        NewUser {
            name: DisplayName::parse("Ada Lovelace").unwrap(),
            email: Email::parse("ada@example.com").unwrap(),
            email_verified: true,
            password_hash: None,
            provider: Provider::Github,
            identity: Some(Identity {
                provider: Provider::Github,
                subject: "583231".into(),
                email: Some(Email::parse("ada@example.com").unwrap()),
                email_verified: true,
                linked_at: at,
            }),
            avatar_url: Some("https://avatars.example/ada.png".into()),
            created_at: at,
        }
    }

    #[test]
    fn a_new_user_maps_back_to_the_same_user() {
        let new = new_user();
        let oid = ObjectId::new();
        let doc = new_user_document(oid, &new);
        assert!(!doc.contains_key("password"));
        assert!(!doc.contains_key("failedLogins"));
        let user = user_from_document(&doc).unwrap();
        assert_eq!(user.id.as_str(), oid.to_hex());
        assert_eq!(user.email, new.email);
        assert_eq!(user.identities, vec![new.identity.clone().unwrap()]);
        assert_eq!(user.avatar_url, new.avatar_url);
        assert_eq!(user.token_version, 0);
        assert_eq!(user.failed_logins, 0);
        assert_eq!(user.created_at, new.created_at);
        assert_eq!(user.updated_at, new.created_at);
    }

    #[test]
    fn malformed_documents_name_the_field() {
        let mut doc = new_user_document(ObjectId::new(), &new_user());
        doc.insert("provider", "myspace");
        let err = user_from_document(&doc).unwrap_err();
        assert!(err.to_string().contains("`provider`"), "{err}");
        doc.insert("provider", "local");
        doc.insert("createdAt", "yesterday");
        let err = user_from_document(&doc).unwrap_err();
        assert!(err.to_string().contains("`createdAt`"), "{err}");
    }

    #[test]
    fn integer_counters_accept_any_numeric_type() {
        let mut doc = new_user_document(ObjectId::new(), &new_user());
        doc.insert("failedLogins", 3_i32);
        doc.insert("tokenVersion", 4.0_f64);
        let user = user_from_document(&doc).unwrap();
        assert_eq!((user.failed_logins, user.token_version), (3, 4));
    }

    #[test]
    fn documents_from_before_verification_read_as_their_provider_asserted() {
        let mut doc = new_user_document(ObjectId::new(), &new_user());
        doc.remove("emailVerified");
        assert!(user_from_document(&doc).unwrap().email_verified);
        doc.insert("provider", "local");
        assert!(!user_from_document(&doc).unwrap().email_verified);
        doc.insert("emailVerified", true);
        assert!(user_from_document(&doc).unwrap().email_verified);
    }
}
