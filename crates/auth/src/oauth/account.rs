//! From a provider profile to a user: sign in, link, or create — never a silent merge.

use altrion_domain::{
    ConflictKey, DisplayName, Identity, NewUser, Provider, RepoError, Timestamp, User,
    UserRepository,
};

use super::{profile::Profile, LinkingUser, OAuthError, OAuthProvider, StateProblem};

/// The user the profile resolves to, and whether it was created or linked.
pub(crate) struct Resolved {
    pub(crate) user: User,
    pub(crate) created: bool,
    pub(crate) linked: bool,
    /// An unverified account with the profile's email was handed to this identity.
    pub(crate) taken_over: bool,
}

impl Resolved {
    fn signed_in(user: User) -> Self {
        Self {
            user,
            created: false,
            linked: false,
            taken_over: false,
        }
    }
}

/// The identity rules of the design (§7):
/// - a known identity signs its user in and changes nothing;
/// - with `linking`, an unknown identity is added to that user;
/// - otherwise a verified email is required; if it belongs to an account that verified it, the
///   sign-in is refused with `account_exists` (the owner can link while signed in); if that
///   account never verified it, the verified owner takes it over (GoTrue's rule: the
///   squatter's password, identities and tokens go);
/// - else a new account is created.
pub(crate) async fn resolve(
    users: &dyn UserRepository,
    provider: OAuthProvider,
    profile: Profile,
    linking: Option<LinkingUser>,
    now: Timestamp,
) -> Result<Resolved, OAuthError> {
    let provider = Provider::from(provider);
    if let Some(user) = users.find_by_identity(provider, &profile.subject).await? {
        return match linking {
            Some(linking) if linking.id != user.id => {
                // `finish` logs the outcome once; this says which kind of `account_exists`.
                tracing::debug!(%provider, user_id = %linking.id, "link refused: identity belongs to another user");
                Err(OAuthError::AccountExists)
            }
            _ => Ok(Resolved::signed_in(user)),
        };
    }
    let identity = Identity {
        provider,
        subject: profile.subject.clone(),
        email: profile.email.clone(),
        email_verified: profile.email_verified,
        linked_at: now,
    };
    if let Some(linking) = linking {
        return link(users, &linking, identity, now).await;
    }

    let Some(email) = profile.email.clone().filter(|_| profile.email_verified) else {
        return Err(OAuthError::EmailNotVerified);
    };
    if let Some(existing) = users.find_by_email(&email).await? {
        if !existing.email_verified {
            return take_over(users, &existing, &email, identity, now).await;
        }
        tracing::debug!(%provider, "sign-in refused: email belongs to a verified account");
        return Err(OAuthError::AccountExists);
    }
    let fallback = email
        .as_str()
        .split('@')
        .next()
        .unwrap_or("user")
        .to_owned();
    let new = NewUser {
        name: DisplayName::lenient(profile.name.as_deref().unwrap_or(""), &fallback),
        email,
        email_verified: true,
        password_hash: None,
        provider,
        identity: Some(identity),
        avatar_url: profile.avatar_url,
        created_at: now,
    };
    match users.create(new).await {
        Ok(user) => Ok(Resolved {
            created: true,
            ..Resolved::signed_in(user)
        }),
        // A concurrent callback for the same identity won the race: sign in as its user.
        Err(RepoError::Conflict(ConflictKey::Identity)) => {
            let user = users
                .find_by_identity(provider, &profile.subject)
                .await?
                .ok_or_else(|| OAuthError::internal("identity conflict without an owner"))?;
            Ok(Resolved::signed_in(user))
        }
        // A local sign-up with this email landed in between.
        Err(RepoError::Conflict(ConflictKey::Email)) => Err(OAuthError::AccountExists),
        Err(e) => Err(e.into()),
    }
}

async fn link(
    users: &dyn UserRepository,
    linking: &LinkingUser,
    identity: Identity,
    now: Timestamp,
) -> Result<Resolved, OAuthError> {
    match users
        .link_identity(&linking.id, identity, now, linking.token_version)
        .await
    {
        Ok(user) => Ok(Resolved {
            linked: true,
            ..Resolved::signed_in(user)
        }),
        Err(RepoError::Conflict(_)) => Err(OAuthError::AccountExists),
        // The user logged out everywhere (or was deleted) since the link started: the pending
        // link died with their tokens, decided by the write itself.
        Err(RepoError::NotFound) => Err(OAuthError::InvalidState(StateProblem::Revoked)),
        Err(e) => Err(e.into()),
    }
}

/// Hands the unverified account `existing` to the verified identity, in one conditional write.
/// When it does not match (verified meanwhile, or a concurrent callback of this identity took
/// it over first), the identity's user, if any, is signed in; otherwise `account_exists`.
async fn take_over(
    users: &dyn UserRepository,
    existing: &User,
    email: &altrion_domain::Email,
    identity: Identity,
    now: Timestamp,
) -> Result<Resolved, OAuthError> {
    let provider = identity.provider;
    let subject = identity.subject.clone();
    match users.take_over(&existing.id, email, identity, now).await {
        Ok(Some(user)) => {
            tracing::warn!(event = "account_taken_over", %provider, user_id = %user.id, "unverified account taken over by the verified owner of its email");
            return Ok(Resolved {
                linked: true,
                taken_over: true,
                ..Resolved::signed_in(user)
            });
        }
        Ok(None) | Err(RepoError::Conflict(ConflictKey::Identity)) => {}
        Err(e) => return Err(e.into()),
    }
    match users.find_by_identity(provider, &subject).await? {
        Some(user) => Ok(Resolved::signed_in(user)),
        None => Err(OAuthError::AccountExists),
    }
}
