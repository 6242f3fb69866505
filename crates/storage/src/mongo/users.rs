use std::{collections::HashMap, time::Duration};

use altrion_domain::{
    ConflictKey, Email, Identity, LoginAttempt, MailKind, MailQuota, NewUser, PasswordHash,
    Provider, RepoError, Timestamp, Unlinked, User, UserId, UserRepository,
};
use async_trait::async_trait;
use mongodb::{
    bson::{doc, oid::ObjectId, Bson, Document},
    options::ReturnDocument,
    Collection, Database,
};

use super::{
    by_ids::{find_by_ids, query_failed},
    documents::{identity_document, new_user_document, to_bson_date, user_from_document},
    gate::{within, IndexGate},
    StoreLimits, USERS,
};
use crate::coalesce::{Answer, BatchLimits, BatchRead, Batcher, QueryFailed};

/// [`UserRepository`] over the `users` collection. Uniqueness of emails and identities is the
/// unique indexes' job (`migrations/0001_users_indexes.json`): apply migrations first.
/// With [`StoreLimits::coalesce_reads`], concurrent [`find_by_id`](UserRepository::find_by_id)
/// calls share queries: reads asked while one is running leave together in the next
/// (`_id: {$in: …}`), never answered by a query sent before they were asked.
#[derive(Debug, Clone)]
pub struct MongoUserRepository {
    users: Collection<Document>,
    by_id: Option<Batcher<UsersById>>,
    /// Deadline of every database call.
    timeout: Duration,
    /// Refuses writes that rely on a unique index until the indexes are in place.
    gate: IndexGate,
}

impl MongoUserRepository {
    /// The repository over `database.users`, with the default limits and no index gate.
    pub fn new(database: &Database) -> Self {
        Self::with_limits(database, &StoreLimits::default())
    }

    /// The repository over `database.users` under `limits`.
    pub fn with_limits(database: &Database, limits: &StoreLimits) -> Self {
        let users = database.collection(USERS);
        Self {
            by_id: limits.coalesce_reads.then(|| {
                Batcher::new(
                    UsersById {
                        users: users.clone(),
                    },
                    BatchLimits {
                        query_timeout: limits.operation_timeout,
                        ..BatchLimits::default()
                    },
                )
            }),
            users,
            timeout: limits.operation_timeout,
            gate: limits.gate.clone(),
        }
    }

    async fn find_one(&self, filter: Document) -> Result<Option<User>, RepoError> {
        let found = within(self.timeout, self.users.find_one(filter)).await?;
        Ok(found.as_ref().map(user_from_document).transpose()?)
    }

    /// `update` on the user `id`, returning the document after it; `NotFound` when absent.
    async fn modify(&self, id: &UserId, update: Document) -> Result<Document, RepoError> {
        let oid = object_id(id).ok_or(RepoError::NotFound)?;
        within(
            self.timeout,
            self.users
                .find_one_and_update(doc! {"_id": oid}, update)
                .return_document(ReturnDocument::After),
        )
        .await?
        .ok_or(RepoError::NotFound)
    }
}

/// Users by `_id`, many per query.
#[derive(Debug)]
struct UsersById {
    users: Collection<Document>,
}

#[async_trait]
impl BatchRead for UsersById {
    type Request = ObjectId;
    type Value = Option<User>;

    async fn read(&self, ids: &[ObjectId]) -> Result<Vec<Answer<Self>>, QueryFailed> {
        let ids_bson = ids.iter().map(|&id| Bson::ObjectId(id));
        let docs = find_by_ids(&self.users, ids_bson, doc! {})
            .await
            .map_err(query_failed)?;
        let by_id: HashMap<ObjectId, &Document> = docs
            .iter()
            .filter_map(|doc| doc.get_object_id("_id").ok().map(|id| (id, doc)))
            .collect();
        Ok(ids
            .iter()
            .map(|id| {
                by_id
                    .get(id)
                    .map(|doc| user_from_document(doc))
                    .transpose()
                    .map_err(RepoError::from)
            })
            .collect())
    }
}

/// Matches a user whose `tokenVersion` is `version` (0 may be stored as no field at all).
fn token_version_is(version: i64) -> Document {
    match version {
        0 => doc! {"$or": [{"tokenVersion": 0_i64}, {"tokenVersion": {"$exists": false}}]},
        n => doc! {"tokenVersion": n},
    }
}

/// Matches a user whose email is not verified; a missing flag is unverified only on `local`
/// accounts (see the document module).
fn email_unverified() -> Document {
    doc! {"$or": [
        {"emailVerified": false},
        {"emailVerified": {"$exists": false}, "provider": Provider::Local.as_str()},
    ]}
}

/// The ObjectId a user id names; ids that are not one belong to no stored user.
fn object_id(id: &UserId) -> Option<ObjectId> {
    ObjectId::parse_str(id.as_str()).ok()
}

/// Matches a user holding this identity. The extra `identities.subject` equality makes the
/// query imply the partial index's filter, so MongoDB can use that index; `$elemMatch` makes
/// provider and subject match in the same element.
fn identity_filter(provider: Provider, subject: &str) -> Document {
    doc! {
        "identities.subject": subject,
        "identities": {"$elemMatch": {"provider": provider.as_str(), "subject": subject}},
    }
}

#[async_trait]
impl UserRepository for MongoUserRepository {
    async fn create(&self, new: NewUser) -> Result<User, RepoError> {
        // Only the unique index keeps emails unique: refused until it is in place.
        self.gate.check()?;
        let doc = new_user_document(ObjectId::new(), &new);
        within(self.timeout, self.users.insert_one(&doc)).await?;
        Ok(user_from_document(&doc)?)
    }

    async fn find_by_id(&self, id: &UserId) -> Result<Option<User>, RepoError> {
        let Some(oid) = object_id(id) else {
            return Ok(None);
        };
        if let Some(by_id) = &self.by_id {
            // `None`: the runtime is shutting down under the batch; read directly.
            if let Some(answer) = by_id.read(oid).await {
                return answer;
            }
        }
        self.find_one(doc! {"_id": oid}).await
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError> {
        self.find_one(doc! {"email": email.as_str()}).await
    }

    async fn find_by_identity(
        &self,
        provider: Provider,
        subject: &str,
    ) -> Result<Option<User>, RepoError> {
        self.find_one(identity_filter(provider, subject)).await
    }

    async fn claim_login_attempt(
        &self,
        id: &UserId,
        attempt: LoginAttempt,
    ) -> Result<bool, RepoError> {
        let Some(oid) = object_id(id) else {
            return Ok(false);
        };
        let now = to_bson_date(attempt.now);
        // A count of zero is stored as no field at all.
        let failures = match attempt.expected_failures {
            0 => doc! {"$or": [{"failedLogins": {"$exists": false}}, {"failedLogins": 0_i32}]},
            n => doc! {"failedLogins": i64::from(n)},
        };
        let unlocked = doc! {"$or": [
            {"lockedUntil": {"$exists": false}},
            {"lockedUntil": {"$lte": now}},
        ]};
        let mut set = doc! {
            "failedLogins": i64::from(attempt.expected_failures) + 1,
            "updatedAt": now,
        };
        if let Some(until) = attempt.lock_until {
            set.insert("lockedUntil", to_bson_date(until));
        }
        let result = within(
            self.timeout,
            self.users.update_one(
                doc! {"_id": oid, "$and": [failures, unlocked]},
                doc! {"$set": set},
            ),
        )
        .await?;
        Ok(result.matched_count == 1)
    }

    async fn record_login(
        &self,
        id: &UserId,
        at: Timestamp,
        rehashed: Option<PasswordHash>,
        expected_token_version: i64,
    ) -> Result<User, RepoError> {
        let oid = object_id(id).ok_or(RepoError::NotFound)?;
        let at = to_bson_date(at);
        let mut set = doc! {"lastLoginAt": at, "updatedAt": at};
        if let Some(hash) = rehashed {
            set.insert("password", hash.as_str());
        }
        self.modify_where(
            doc! {"_id": oid, "$and": [token_version_is(expected_token_version)]},
            doc! {"$set": set, "$unset": {"failedLogins": "", "lockedUntil": ""}},
        )
        .await?
        .ok_or(RepoError::NotFound)
    }

    async fn bump_token_version(&self, id: &UserId, at: Timestamp) -> Result<i64, RepoError> {
        let after = self
            .modify(
                id,
                doc! {"$inc": {"tokenVersion": 1_i64}, "$set": {"updatedAt": to_bson_date(at)}},
            )
            .await?;
        Ok(user_from_document(&after)?.token_version)
    }

    async fn link_identity(
        &self,
        id: &UserId,
        identity: Identity,
        at: Timestamp,
        token_version: i64,
    ) -> Result<User, RepoError> {
        // Only the unique index keeps an identity on one account: refused until it is in place.
        self.gate.check()?;
        let Some(oid) = object_id(id) else {
            return self.missing_user_or_conflict(&identity).await;
        };
        // Pushes only when this user lacks the identity and still has the token version; the
        // unique index refuses it when another user has it.
        let filter = doc! {
            "_id": oid,
            "identities": {"$not": {"$elemMatch": {
                "provider": identity.provider.as_str(),
                "subject": identity.subject.as_str(),
            }}},
            "$and": [token_version_is(token_version)],
        };
        let pushed = within(
            self.timeout,
            self.users
                .find_one_and_update(
                    filter,
                    doc! {
                        "$push": {"identities": Bson::Document(identity_document(&identity))},
                        "$set": {"updatedAt": to_bson_date(at)},
                    },
                )
                .return_document(ReturnDocument::After),
        )
        .await?;
        match pushed {
            Some(doc) => Ok(user_from_document(&doc)?),
            // The user already has it (a no-op), has logged out everywhere since, or is gone.
            None => match self.find_one(doc! {"_id": oid}).await? {
                Some(user) if user.token_version == token_version => Ok(user),
                Some(_) => Err(RepoError::NotFound),
                None => self.missing_user_or_conflict(&identity).await,
            },
        }
    }

    async fn unlink_provider(
        &self,
        id: &UserId,
        provider: Provider,
        at: Timestamp,
        expected_token_version: i64,
    ) -> Result<Unlinked, RepoError> {
        let oid = object_id(id).ok_or(RepoError::NotFound)?;
        let name = provider.as_str();
        let removed = within(
            self.timeout,
            self.users
                .find_one_and_update(
                    doc! {
                        "_id": oid,
                        "identities.provider": name,
                        "$and": [
                            token_version_is(expected_token_version),
                            {"$or": [
                                {"password": {"$exists": true}},
                                {"identities": {"$elemMatch": {"provider": {"$ne": name}}}},
                            ]},
                        ],
                    },
                    doc! {
                        "$pull": {"identities": {"provider": name}},
                        "$set": {"updatedAt": to_bson_date(at)},
                    },
                )
                .return_document(ReturnDocument::After),
        )
        .await?;
        if let Some(doc) = removed {
            return Ok(Unlinked::Removed(Box::new(user_from_document(&doc)?)));
        }
        // Nothing matched: say why, from the user as it is now.
        let user = self
            .find_one(doc! {"_id": oid})
            .await?
            .filter(|u| u.token_version == expected_token_version)
            .ok_or(RepoError::NotFound)?;
        Ok(if user.identities.iter().any(|i| i.provider == provider) {
            Unlinked::LastSignInMethod
        } else {
            Unlinked::NotLinked
        })
    }

    async fn replace_password(
        &self,
        id: &UserId,
        hash: PasswordHash,
        at: Timestamp,
        expected_token_version: i64,
    ) -> Result<User, RepoError> {
        let oid = object_id(id).ok_or(RepoError::NotFound)?;
        let filter = doc! {"_id": oid, "$and": [token_version_is(expected_token_version)]};
        let update = doc! {
            "$set": {"password": hash.as_str(), "updatedAt": to_bson_date(at)},
            "$inc": {"tokenVersion": 1_i64},
            "$unset": {"failedLogins": "", "lockedUntil": ""},
        };
        self.modify_where(filter, update)
            .await?
            .ok_or(RepoError::NotFound)
    }

    async fn delete(&self, id: &UserId, expected_token_version: i64) -> Result<bool, RepoError> {
        let Some(oid) = object_id(id) else {
            return Ok(false);
        };
        let filter = doc! {"_id": oid, "$and": [token_version_is(expected_token_version)]};
        let result = within(self.timeout, self.users.delete_one(filter)).await?;
        Ok(result.deleted_count == 1)
    }

    async fn claim_mail_quota(
        &self,
        id: &UserId,
        kind: MailKind,
        quota: MailQuota,
    ) -> Result<bool, RepoError> {
        let Some(oid) = object_id(id) else {
            return Ok(false);
        };
        // `mailSent.<kind>` holds the latest `max` instants, newest first: the mail may go when
        // the max-th newest is missing or has left the window. One conditional write, so no
        // number of concurrent requests counts more than `max`.
        let max = quota.max.max(1);
        let field = format!("mailSent.{}", kind.as_str());
        let cutoff = to_bson_date(quota.now - quota.window);
        let oldest_counted = format!("{field}.{}", max - 1);
        let result = within(
            self.timeout,
            self.users.update_one(
                doc! {
                    "_id": oid,
                    "$or": [
                        {&oldest_counted: {"$exists": false}},
                        {&oldest_counted: {"$lte": cutoff}},
                    ],
                },
                doc! {"$push": {&field: {
                    "$each": [to_bson_date(quota.now)],
                    "$position": 0_i32,
                    "$slice": i64::from(max),
                }}},
            ),
        )
        .await?;
        Ok(result.matched_count == 1)
    }

    async fn mark_email_verified(
        &self,
        id: &UserId,
        email: &Email,
        at: Timestamp,
    ) -> Result<Option<User>, RepoError> {
        let Some(oid) = object_id(id) else {
            return Ok(None);
        };
        let filter = doc! {"_id": oid, "email": email.as_str(), "$and": [email_unverified()]};
        let update = doc! {"$set": {"emailVerified": true, "updatedAt": to_bson_date(at)}};
        self.modify_where(filter, update).await
    }

    async fn reset_password(
        &self,
        id: &UserId,
        hash: PasswordHash,
        at: Timestamp,
        expected_token_version: i64,
    ) -> Result<Option<User>, RepoError> {
        let Some(oid) = object_id(id) else {
            return Ok(None);
        };
        let update = |clear_identities: bool| {
            let mut set = doc! {
                "password": hash.as_str(),
                "emailVerified": true,
                "updatedAt": to_bson_date(at),
            };
            if clear_identities {
                set.insert("identities", Vec::<Bson>::new());
            }
            doc! {
                "$set": set,
                "$inc": {"tokenVersion": 1_i64},
                "$unset": {"failedLogins": "", "lockedUntil": ""},
            }
        };
        // Unverified until now: its identities go too. Each attempt is one conditional write
        // on the token version, so at most one of them (and one use of the link) lands.
        let unverified = doc! {
            "_id": oid,
            "$and": [token_version_is(expected_token_version), email_unverified()],
        };
        if let Some(user) = self.modify_where(unverified, update(true)).await? {
            return Ok(Some(user));
        }
        let filter = doc! {"_id": oid, "$and": [token_version_is(expected_token_version)]};
        self.modify_where(filter, update(false)).await
    }

    async fn take_over(
        &self,
        id: &UserId,
        email: &Email,
        identity: Identity,
        at: Timestamp,
    ) -> Result<Option<User>, RepoError> {
        // Only the unique index keeps an identity on one account: refused until it is in place.
        self.gate.check()?;
        let Some(oid) = object_id(id) else {
            return Ok(None);
        };
        let filter = doc! {"_id": oid, "email": email.as_str(), "$and": [email_unverified()]};
        let update = doc! {
            "$set": {
                "identities": [Bson::Document(identity_document(&identity))],
                "emailVerified": true,
                "updatedAt": to_bson_date(at),
            },
            "$inc": {"tokenVersion": 1_i64},
            "$unset": {"password": "", "failedLogins": "", "lockedUntil": ""},
        };
        self.modify_where(filter, update).await
    }
}

impl MongoUserRepository {
    /// `update` on the user matching `filter`, returning it as stored afterwards.
    async fn modify_where(
        &self,
        filter: Document,
        update: Document,
    ) -> Result<Option<User>, RepoError> {
        let after = within(
            self.timeout,
            self.users
                .find_one_and_update(filter, update)
                .return_document(ReturnDocument::After),
        )
        .await?;
        Ok(after.as_ref().map(user_from_document).transpose()?)
    }

    /// The error for linking to a missing user: `Conflict` when someone else has the identity
    /// (checked first, as the fake does), else `NotFound`.
    async fn missing_user_or_conflict(&self, identity: &Identity) -> Result<User, RepoError> {
        match self
            .find_by_identity(identity.provider, &identity.subject)
            .await?
        {
            Some(_) => Err(RepoError::Conflict(ConflictKey::Identity)),
            None => Err(RepoError::NotFound),
        }
    }
}
