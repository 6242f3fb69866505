//! The `UserRepository` contract.

use altrion_domain::{
    ConflictKey, LoginAttempt, MailKind, MailQuota, PasswordHash, Provider, RepoError, Unlinked,
    UserId,
};
use futures_util::future::join_all;
use time::Duration;

use crate::harness::{email, identity, local_user, oauth_user, Ctx};

contract!(all: [
    create_then_find_by_id_email_and_identity,
    emails_are_unique,
    identities_are_unique_but_subjects_may_repeat_across_providers,
    password_users_without_identities_do_not_collide,
    concurrent_creates_of_one_email_have_exactly_one_winner,
    login_attempts_are_claimed_against_the_count_read,
    concurrent_claims_on_one_read_have_exactly_one_winner,
    a_lock_in_force_refuses_every_claim,
    record_login_resets_failures_and_rehashes,
    unlinking_keeps_a_way_to_sign_in,
    replace_password_revokes_tokens_and_clears_the_lockout,
    delete_removes_only_that_user,
    concurrent_unlinks_never_remove_the_last_way_to_sign_in,
    bump_token_version_increments,
    link_identity_is_a_no_op_twice_and_conflicts_across_users,
    a_link_for_a_stale_token_version_writes_nothing,
    unknown_and_malformed_ids_are_not_found,
    concurrent_lookups_by_id_each_get_their_own_answer,
    the_mail_quota_is_a_sliding_window_per_kind,
    a_burst_of_mail_requests_counts_no_more_than_the_quota,
    an_email_is_verified_once,
    a_reset_lands_once_and_only_for_its_token_version,
    a_take_over_replaces_every_way_in_of_an_unverified_account_only,
]);

fn quota(now: time::OffsetDateTime, max: u32) -> MailQuota {
    MailQuota {
        now,
        window: Duration::hours(1),
        max,
    }
}

async fn the_mail_quota_is_a_sliding_window_per_kind(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let claim = |at, kind| {
        let users = ctx.users.clone();
        let id = user.id.clone();
        async move {
            users
                .claim_mail_quota(&id, kind, quota(at, 3))
                .await
                .unwrap()
        }
    };
    let reset = MailKind::PasswordReset;
    for minute in [0, 10, 20] {
        assert!(
            claim(now + Duration::minutes(minute), reset).await,
            "{minute}"
        );
    }
    assert!(!claim(now + Duration::minutes(30), reset).await);
    // Counted separately per kind.
    assert!(claim(now + Duration::minutes(30), MailKind::EmailVerification).await);
    // An hour after the first, one slot is free again; then full until the second leaves.
    assert!(!claim(now + Duration::minutes(59), reset).await);
    assert!(claim(now + Duration::minutes(60), reset).await);
    assert!(!claim(now + Duration::minutes(65), reset).await);
    assert!(claim(now + Duration::minutes(70), reset).await);
    // A missing user has no quota to spend.
    let nobody = ctx
        .users
        .claim_mail_quota(
            &UserId::new("ffffffffffffffffffffffff"),
            reset,
            quota(now, 3),
        )
        .await
        .unwrap();
    assert!(!nobody);
    assert!(!ctx
        .users
        .claim_mail_quota(&UserId::new("not-an-id"), reset, quota(now, 3))
        .await
        .unwrap());
}

async fn a_burst_of_mail_requests_counts_no_more_than_the_quota(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let claims = (0..30).map(|_| {
        let users = ctx.users.clone();
        let id = user.id.clone();
        async move {
            users
                .claim_mail_quota(&id, MailKind::PasswordReset, quota(now, 3))
                .await
                .unwrap()
        }
    });
    let granted = join_all(claims).await.into_iter().filter(|g| *g).count();
    assert_eq!(granted, 3);
}

async fn an_email_is_verified_once(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    assert!(!user.email_verified);
    let other_email = ctx
        .users
        .mark_email_verified(&user.id, &email("eve@example.com"), now)
        .await
        .unwrap();
    assert!(other_email.is_none());
    let at = now + Duration::seconds(1);
    let verified = ctx
        .users
        .mark_email_verified(&user.id, &user.email, at)
        .await
        .unwrap()
        .unwrap();
    assert!(verified.email_verified);
    assert_eq!(verified.updated_at, at);
    assert_eq!(
        ctx.users.find_by_id(&user.id).await.unwrap().unwrap(),
        verified
    );
    // The second use of the link matches nothing.
    assert!(ctx
        .users
        .mark_email_verified(&user.id, &user.email, at)
        .await
        .unwrap()
        .is_none());
    assert!(ctx
        .users
        .mark_email_verified(&UserId::new("not-an-id"), &user.email, at)
        .await
        .unwrap()
        .is_none());
}

async fn a_reset_lands_once_and_only_for_its_token_version(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let locking = LoginAttempt {
        lock_until: Some(now + Duration::minutes(5)),
        ..attempt(0, now)
    };
    assert!(ctx
        .users
        .claim_login_attempt(&user.id, locking)
        .await
        .unwrap());
    let hash = |n: usize| PasswordHash::new(format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${n}"));
    // Eight concurrent uses of one reset token (one token version): exactly one lands.
    let resets = (0..8).map(|n| {
        let users = ctx.users.clone();
        let id = user.id.clone();
        async move {
            users
                .reset_password(&id, hash(n), now, user.token_version)
                .await
                .unwrap()
        }
    });
    let landed: Vec<_> = join_all(resets).await.into_iter().flatten().collect();
    assert_eq!(landed.len(), 1);
    let after = &landed[0];
    assert_eq!(after.token_version, user.token_version + 1);
    assert!(after.email_verified);
    assert_eq!((after.failed_logins, after.locked_until), (0, None));
    assert_eq!(
        &ctx.users.find_by_id(&user.id).await.unwrap().unwrap(),
        after
    );
    // A version moved by "log out everywhere" voids it as well.
    let version = ctx.users.bump_token_version(&user.id, now).await.unwrap();
    assert!(ctx
        .users
        .reset_password(&user.id, hash(9), now, version - 1)
        .await
        .unwrap()
        .is_none());
    assert!(ctx
        .users
        .reset_password(&user.id, hash(9), now, version)
        .await
        .unwrap()
        .is_some());

    // A squatter's account: unverified, with the squatter's GitHub linked. The owner's reset
    // (the link reached their inbox) takes the identities away; a verified account keeps its.
    let squatted = ctx
        .users
        .create(local_user("grace@example.com", now))
        .await
        .unwrap();
    ctx.users
        .link_identity(&squatted.id, identity(Provider::Github, "666", now), now, 0)
        .await
        .unwrap();
    let reset = ctx
        .users
        .reset_password(&squatted.id, hash(1), now, 0)
        .await
        .unwrap()
        .unwrap();
    assert!(reset.identities.is_empty(), "{:?}", reset.identities);
    assert!(ctx
        .users
        .find_by_identity(Provider::Github, "666")
        .await
        .unwrap()
        .is_none());
    ctx.users
        .link_identity(&squatted.id, identity(Provider::Github, "7", now), now, 1)
        .await
        .unwrap();
    let again = ctx
        .users
        .reset_password(&squatted.id, hash(2), now, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.identities.len(), 1, "verified now: identities stay");
}

async fn a_take_over_replaces_every_way_in_of_an_unverified_account_only(ctx: Ctx) {
    let now = ctx.now();
    let squatted = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    // The squatter linked an account of their own.
    let squatter_github = identity(Provider::Github, "666", now);
    ctx.users
        .link_identity(&squatted.id, squatter_github, now, 0)
        .await
        .unwrap();
    let owner = identity(Provider::Google, "ada-sub", now);
    let wrong_email = ctx
        .users
        .take_over(&squatted.id, &email("eve@example.com"), owner.clone(), now)
        .await
        .unwrap();
    assert!(wrong_email.is_none());
    let at = now + Duration::seconds(1);
    let taken = ctx
        .users
        .take_over(&squatted.id, &squatted.email, owner.clone(), at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.password_hash, None);
    assert_eq!(taken.identities, vec![owner.clone()]);
    assert!(taken.email_verified);
    assert_eq!(taken.token_version, squatted.token_version + 1);
    assert!(ctx
        .users
        .find_by_identity(Provider::Github, "666")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        ctx.users.find_by_id(&squatted.id).await.unwrap().unwrap(),
        taken
    );
    // Verified now: a second take-over matches nothing.
    assert!(ctx
        .users
        .take_over(
            &squatted.id,
            &squatted.email,
            identity(Provider::Github, "1", at),
            at
        )
        .await
        .unwrap()
        .is_none());

    // An identity another user holds is a conflict, and nothing changes.
    let grace = ctx
        .users
        .create(local_user("grace@example.com", now))
        .await
        .unwrap();
    let conflict = ctx
        .users
        .take_over(&grace.id, &grace.email, owner, at)
        .await;
    assert!(
        matches!(conflict, Err(RepoError::Conflict(ConflictKey::Identity))),
        "{conflict:?}"
    );
    assert_eq!(
        ctx.users.find_by_id(&grace.id).await.unwrap().unwrap(),
        grace
    );
}

async fn create_then_find_by_id_email_and_identity(ctx: Ctx) {
    let now = ctx.now();
    let local = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let oauth = ctx
        .users
        .create(oauth_user(
            "grace@example.com",
            Provider::Github,
            "583231",
            now,
        ))
        .await
        .unwrap();

    assert_ne!(local.id, oauth.id);
    assert_eq!(local.token_version, 0);
    assert_eq!(local.failed_logins, 0);
    assert_eq!((local.created_at, local.updated_at), (now, now));
    assert!(local.identities.is_empty());
    assert_eq!(oauth.identities.len(), 1);
    assert!(oauth.password_hash.is_none());

    let by_id = ctx.users.find_by_id(&local.id).await.unwrap();
    assert_eq!(by_id.as_ref(), Some(&local));
    let by_email = ctx
        .users
        .find_by_email(&email("grace@example.com"))
        .await
        .unwrap();
    assert_eq!(by_email.as_ref(), Some(&oauth));
    let by_identity = ctx
        .users
        .find_by_identity(Provider::Github, "583231")
        .await
        .unwrap();
    assert_eq!(by_identity.as_ref(), Some(&oauth));
    assert_eq!(oauth.providers(), vec![Provider::Github]);
}

async fn emails_are_unique(ctx: Ctx) {
    let now = ctx.now();
    ctx.users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();

    let again = ctx.users.create(local_user("ada@example.com", now)).await;
    assert!(
        matches!(again, Err(RepoError::Conflict(ConflictKey::Email))),
        "{again:?}"
    );
    let via_oauth = ctx
        .users
        .create(oauth_user("ada@example.com", Provider::Google, "g-1", now))
        .await;
    assert!(
        matches!(via_oauth, Err(RepoError::Conflict(ConflictKey::Email))),
        "{via_oauth:?}"
    );
    // Nothing was written by the refused creates.
    assert!(ctx
        .users
        .find_by_identity(Provider::Google, "g-1")
        .await
        .unwrap()
        .is_none());
}

async fn identities_are_unique_but_subjects_may_repeat_across_providers(ctx: Ctx) {
    let now = ctx.now();
    ctx.users
        .create(oauth_user("one@example.com", Provider::Github, "42", now))
        .await
        .unwrap();

    let taken = ctx
        .users
        .create(oauth_user("two@example.com", Provider::Github, "42", now))
        .await;
    assert!(
        matches!(taken, Err(RepoError::Conflict(ConflictKey::Identity))),
        "{taken:?}"
    );
    assert!(ctx
        .users
        .find_by_email(&email("two@example.com"))
        .await
        .unwrap()
        .is_none());

    let other_provider = ctx
        .users
        .create(oauth_user("three@example.com", Provider::Google, "42", now))
        .await
        .unwrap();
    let found = ctx
        .users
        .find_by_identity(Provider::Google, "42")
        .await
        .unwrap();
    assert_eq!(found.map(|u| u.id), Some(other_provider.id.clone()));
    assert!(ctx
        .users
        .find_by_identity(Provider::Google, "43")
        .await
        .unwrap()
        .is_none());

    // Uniqueness is per (provider, subject) of one element, not across elements: a user with
    // google:42 and github:43 does not hold google:43.
    let linked = ctx
        .users
        .link_identity(
            &other_provider.id,
            identity(Provider::Github, "43", now),
            now,
            0,
        )
        .await
        .unwrap();
    assert_eq!(linked.identities.len(), 2);
    let crossed = ctx
        .users
        .create(oauth_user("four@example.com", Provider::Google, "43", now))
        .await
        .unwrap();
    let found = ctx
        .users
        .find_by_identity(Provider::Google, "43")
        .await
        .unwrap();
    assert_eq!(found.map(|u| u.id), Some(crossed.id));
}

async fn password_users_without_identities_do_not_collide(ctx: Ctx) {
    let now = ctx.now();
    for n in 0..3 {
        ctx.users
            .create(local_user(&format!("user{n}@example.com"), now))
            .await
            .unwrap();
    }
    assert!(ctx
        .users
        .find_by_email(&email("user2@example.com"))
        .await
        .unwrap()
        .is_some());
}

async fn concurrent_creates_of_one_email_have_exactly_one_winner(ctx: Ctx) {
    let now = ctx.now();
    let attempts = (0..8).map(|_| {
        let users = ctx.users.clone();
        async move { users.create(local_user("race@example.com", now)).await }
    });
    let results = join_all(attempts).await;

    let winners = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(RepoError::Conflict(ConflictKey::Email))))
        .count();
    assert_eq!((winners, conflicts), (1, 7), "{results:?}");
}

fn attempt(expected_failures: u32, now: time::OffsetDateTime) -> LoginAttempt {
    LoginAttempt {
        expected_failures,
        now,
        lock_until: None,
    }
}

async fn login_attempts_are_claimed_against_the_count_read(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();

    for n in 0..3 {
        let at = now + Duration::seconds(i64::from(n));
        assert!(ctx
            .users
            .claim_login_attempt(&user.id, attempt(n, at))
            .await
            .unwrap());
        // A second claim on the same (now stale) read matches nothing.
        assert!(!ctx
            .users
            .claim_login_attempt(&user.id, attempt(n, at))
            .await
            .unwrap());
    }
    let until = now + Duration::minutes(15);
    let locking = LoginAttempt {
        lock_until: Some(until),
        ..attempt(3, now + Duration::seconds(3))
    };
    assert!(ctx
        .users
        .claim_login_attempt(&user.id, locking)
        .await
        .unwrap());
    let stored = ctx.users.find_by_id(&user.id).await.unwrap().unwrap();
    assert_eq!(stored.failed_logins, 4);
    assert_eq!(stored.locked_until, Some(until));
    assert_eq!(stored.updated_at, now + Duration::seconds(3));

    let missing = UserId::new("ffffffffffffffffffffffff");
    assert!(!ctx
        .users
        .claim_login_attempt(&missing, attempt(0, now))
        .await
        .unwrap());
}

async fn concurrent_claims_on_one_read_have_exactly_one_winner(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let claims = (0..40).map(|_| {
        let users = ctx.users.clone();
        let id = user.id.clone();
        async move {
            users
                .claim_login_attempt(&id, attempt(0, now))
                .await
                .unwrap()
        }
    });
    let won = join_all(claims)
        .await
        .into_iter()
        .filter(|won| *won)
        .count();
    assert_eq!(won, 1);
    let stored = ctx.users.find_by_id(&user.id).await.unwrap().unwrap();
    assert_eq!(stored.failed_logins, 1);
}

async fn a_lock_in_force_refuses_every_claim(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let until = now + Duration::seconds(2);
    let locking = LoginAttempt {
        lock_until: Some(until),
        ..attempt(0, now)
    };
    assert!(ctx
        .users
        .claim_login_attempt(&user.id, locking)
        .await
        .unwrap());
    for at in [now, until - Duration::milliseconds(1)] {
        assert!(!ctx
            .users
            .claim_login_attempt(&user.id, attempt(1, at))
            .await
            .unwrap());
    }
    // At the instant the lock ends, the next attempt may be claimed.
    assert!(ctx
        .users
        .claim_login_attempt(&user.id, attempt(1, until))
        .await
        .unwrap());
}

async fn record_login_resets_failures_and_rehashes(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let locking = LoginAttempt {
        lock_until: Some(now + Duration::minutes(1)),
        ..attempt(0, now)
    };
    assert!(ctx
        .users
        .claim_login_attempt(&user.id, locking)
        .await
        .unwrap());

    let at = now + Duration::minutes(2);
    let returned = ctx
        .users
        .record_login(&user.id, at, None, user.token_version)
        .await
        .unwrap();
    let after = ctx.users.find_by_id(&user.id).await.unwrap().unwrap();
    assert_eq!(returned, after, "the write returns the stored user");
    assert_eq!(after.failed_logins, 0);
    assert_eq!(after.locked_until, None);
    assert_eq!(after.last_login_at, Some(at));
    assert_eq!(after.updated_at, at);
    assert_eq!(after.password_hash, user.password_hash);
    // Counting starts again from zero.
    assert!(ctx
        .users
        .claim_login_attempt(&user.id, attempt(0, at))
        .await
        .unwrap());

    let rehashed = PasswordHash::new("$argon2id$v=19$m=65536,t=3,p=1$bmV3$bmV3aGFzaA");
    let returned = ctx
        .users
        .record_login(&user.id, at, Some(rehashed.clone()), user.token_version)
        .await
        .unwrap();
    assert_eq!(returned.password_hash, Some(rehashed.clone()));

    // A reset (or any revocation) landed while the password was being verified: the login,
    // and its re-hash of the old password, write nothing.
    let version = ctx.users.bump_token_version(&user.id, at).await.unwrap();
    let stale = ctx
        .users
        .record_login(&user.id, at, Some(PasswordHash::new("old")), version - 1)
        .await;
    assert!(matches!(stale, Err(RepoError::NotFound)), "{stale:?}");
    let stored = ctx.users.find_by_id(&user.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, Some(rehashed));
}

async fn unlinking_keeps_a_way_to_sign_in(ctx: Ctx) {
    let now = ctx.now();
    let oauth = ctx
        .users
        .create(oauth_user("octo@example.com", Provider::Github, "1", now))
        .await
        .unwrap();
    assert_eq!(
        ctx.users
            .unlink_provider(&oauth.id, Provider::Github, now, 0)
            .await
            .unwrap(),
        Unlinked::LastSignInMethod
    );
    assert_eq!(
        ctx.users
            .unlink_provider(&oauth.id, Provider::Google, now, 0)
            .await
            .unwrap(),
        Unlinked::NotLinked
    );
    ctx.users
        .link_identity(&oauth.id, identity(Provider::Google, "g1", now), now, 0)
        .await
        .unwrap();
    let at = now + Duration::seconds(5);
    // An unlink authorised by a credential revoked meanwhile ("log out everywhere", a reset)
    // writes nothing.
    let version = ctx.users.bump_token_version(&oauth.id, now).await.unwrap();
    assert!(matches!(
        ctx.users
            .unlink_provider(&oauth.id, Provider::Github, at, version - 1)
            .await,
        Err(RepoError::NotFound)
    ));
    let Unlinked::Removed(after) = ctx
        .users
        .unlink_provider(&oauth.id, Provider::Github, at, version)
        .await
        .unwrap()
    else {
        panic!("the GitHub identity is removed while Google remains");
    };
    assert_eq!(after.identities.len(), 1);
    assert_eq!(after.identities[0].provider, Provider::Google);
    assert_eq!(after.updated_at, at);
    assert_eq!(
        ctx.users.find_by_id(&oauth.id).await.unwrap().unwrap(),
        *after
    );

    // A password is a way to sign in too.
    let local = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    ctx.users
        .link_identity(&local.id, identity(Provider::Github, "2", now), now, 0)
        .await
        .unwrap();
    assert!(matches!(
        ctx.users.unlink_provider(&local.id, Provider::Github, now, 0).await.unwrap(),
        Unlinked::Removed(user) if user.identities.is_empty()
    ));
    assert!(matches!(
        ctx.users
            .unlink_provider(
                &UserId::new("ffffffffffffffffffffffff"),
                Provider::Github,
                now,
                0
            )
            .await,
        Err(RepoError::NotFound)
    ));
}

async fn concurrent_unlinks_never_remove_the_last_way_to_sign_in(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(oauth_user("octo@example.com", Provider::Github, "1", now))
        .await
        .unwrap();
    ctx.users
        .link_identity(&user.id, identity(Provider::Google, "g1", now), now, 0)
        .await
        .unwrap();
    let unlinks = [
        Provider::Github,
        Provider::Google,
        Provider::Github,
        Provider::Google,
    ]
    .into_iter()
    .map(|provider| {
        let users = ctx.users.clone();
        let id = user.id.clone();
        async move { users.unlink_provider(&id, provider, now, 0).await.unwrap() }
    });
    let outcomes = join_all(unlinks).await;
    let removed = outcomes
        .iter()
        .filter(|o| matches!(o, Unlinked::Removed(_)))
        .count();
    assert_eq!(removed, 1, "{outcomes:?}");
    let left = ctx.users.find_by_id(&user.id).await.unwrap().unwrap();
    assert_eq!(left.identities.len(), 1);
}

async fn bump_token_version_increments(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    assert_eq!(
        ctx.users.bump_token_version(&user.id, now).await.unwrap(),
        1
    );
    let later = now + Duration::hours(1);
    assert_eq!(
        ctx.users.bump_token_version(&user.id, later).await.unwrap(),
        2
    );
    let stored = ctx.users.find_by_id(&user.id).await.unwrap().unwrap();
    assert_eq!((stored.token_version, stored.updated_at), (2, later));
}

async fn link_identity_is_a_no_op_twice_and_conflicts_across_users(ctx: Ctx) {
    let now = ctx.now();
    let ada = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let grace = ctx
        .users
        .create(oauth_user(
            "grace@example.com",
            Provider::Google,
            "g-7",
            now,
        ))
        .await
        .unwrap();

    let at = now + Duration::minutes(5);
    let linked = ctx
        .users
        .link_identity(&ada.id, identity(Provider::Github, "99", at), at, 0)
        .await
        .unwrap();
    assert_eq!(
        linked.identities,
        vec![identity(Provider::Github, "99", at)]
    );
    assert_eq!(linked.updated_at, at);
    assert_eq!(linked.providers(), vec![Provider::Local, Provider::Github]);

    let later = at + Duration::minutes(5);
    let again = ctx
        .users
        .link_identity(&ada.id, identity(Provider::Github, "99", later), later, 0)
        .await
        .unwrap();
    assert_eq!(again, linked, "linking twice changes nothing");

    let stolen = ctx
        .users
        .link_identity(&ada.id, identity(Provider::Google, "g-7", later), later, 0)
        .await;
    assert!(
        matches!(stolen, Err(RepoError::Conflict(ConflictKey::Identity))),
        "{stolen:?}"
    );
    let found = ctx
        .users
        .find_by_identity(Provider::Google, "g-7")
        .await
        .unwrap();
    assert_eq!(found.map(|u| u.id), Some(grace.id));
    let ada_now = ctx.users.find_by_id(&ada.id).await.unwrap().unwrap();
    assert_eq!(ada_now, linked);
    let found = ctx
        .users
        .find_by_identity(Provider::Github, "99")
        .await
        .unwrap();
    assert_eq!(found.map(|u| u.id), Some(ada.id));
}

async fn unknown_and_malformed_ids_are_not_found(ctx: Ctx) {
    let now = ctx.now();
    ctx.users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    for id in [
        UserId::new("ffffffffffffffffffffffff"),
        UserId::new("not-an-id"),
    ] {
        assert!(ctx.users.find_by_id(&id).await.unwrap().is_none());
        assert!(!ctx
            .users
            .claim_login_attempt(&id, attempt(0, now))
            .await
            .unwrap());
        assert!(matches!(
            ctx.users.record_login(&id, now, None, 0).await,
            Err(RepoError::NotFound)
        ));
        assert!(matches!(
            ctx.users.bump_token_version(&id, now).await,
            Err(RepoError::NotFound)
        ));
        assert!(matches!(
            ctx.users
                .link_identity(&id, identity(Provider::Github, "1", now), now, 0)
                .await,
            Err(RepoError::NotFound)
        ));
    }
    assert!(ctx
        .users
        .find_by_email(&email("nobody@example.com"))
        .await
        .unwrap()
        .is_none());
    assert!(ctx
        .users
        .find_by_identity(Provider::Github, "1")
        .await
        .unwrap()
        .is_none());
}

/// Many lookups at once (the MongoDB adapter answers them with shared queries): each caller
/// gets the user it named, `None` for unknown or malformed ids, and a write that completed before
/// the lookups began is seen by all of them.
async fn concurrent_lookups_by_id_each_get_their_own_answer(ctx: Ctx) {
    let now = ctx.now();
    let mut users = Vec::new();
    for n in 0..3 {
        let user = ctx
            .users
            .create(local_user(&format!("user{n}@example.com"), now))
            .await
            .unwrap();
        users.push(user);
    }
    let bumped = ctx
        .users
        .bump_token_version(&users[1].id, now)
        .await
        .unwrap();
    let unknown = UserId::new("65f0c0ffee0ddba11c0ffee0");
    let malformed = UserId::new("not-an-object-id");
    let asked: Vec<UserId> = (0..40)
        .map(|n| match n % 5 {
            3 => unknown.clone(),
            4 => malformed.clone(),
            k => users[k].id.clone(),
        })
        .collect();
    let answers = join_all(asked.iter().map(|id| ctx.users.find_by_id(id))).await;
    for (id, answer) in asked.iter().zip(answers) {
        let found = answer.unwrap();
        match users.iter().find(|u| &u.id == id) {
            Some(user) => {
                let found = found.expect("a known id is found");
                assert_eq!(found.id, user.id);
                assert_eq!(found.email, user.email);
                if user.id == users[1].id {
                    assert_eq!(found.token_version, bumped, "the earlier write is seen");
                }
            }
            None => assert!(found.is_none(), "{id:?} names no user"),
        }
    }
}

async fn replace_password_revokes_tokens_and_clears_the_lockout(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let locking = LoginAttempt {
        lock_until: Some(now + Duration::minutes(5)),
        ..attempt(0, now)
    };
    assert!(ctx
        .users
        .claim_login_attempt(&user.id, locking)
        .await
        .unwrap());
    let hash = PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3aGFzaA");
    let at = now + Duration::seconds(1);
    let after = ctx
        .users
        .replace_password(&user.id, hash.clone(), at, user.token_version)
        .await
        .unwrap();
    assert_eq!(after.password_hash, Some(hash));
    assert_eq!(after.token_version, user.token_version + 1);
    assert_eq!((after.failed_logins, after.locked_until), (0, None));
    assert_eq!(after.updated_at, at);
    assert_eq!(
        ctx.users.find_by_id(&user.id).await.unwrap().unwrap(),
        after
    );
    assert!(matches!(
        ctx.users
            .replace_password(
                &UserId::new("ffffffffffffffffffffffff"),
                PasswordHash::new("x"),
                at,
                0
            )
            .await,
        Err(RepoError::NotFound)
    ));
    // Authorised by a credential of the version before: it lost a race and writes nothing.
    let stale = ctx
        .users
        .replace_password(&user.id, PasswordHash::new("stale"), at, user.token_version)
        .await;
    assert!(matches!(stale, Err(RepoError::NotFound)), "{stale:?}");
    assert_eq!(
        ctx.users.find_by_id(&user.id).await.unwrap().unwrap(),
        after
    );
}

async fn delete_removes_only_that_user(ctx: Ctx) {
    let now = ctx.now();
    let ada = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let grace = ctx
        .users
        .create(local_user("grace@example.com", now))
        .await
        .unwrap();
    // A deletion authorised by a credential revoked meanwhile deletes nothing.
    let version = ctx.users.bump_token_version(&ada.id, now).await.unwrap();
    assert!(!ctx.users.delete(&ada.id, version - 1).await.unwrap());
    assert!(ctx.users.find_by_id(&ada.id).await.unwrap().is_some());
    assert!(ctx.users.delete(&ada.id, version).await.unwrap());
    assert!(!ctx.users.delete(&ada.id, version).await.unwrap());
    assert!(!ctx
        .users
        .delete(&UserId::new("not-an-id"), 0)
        .await
        .unwrap());
    assert!(ctx.users.find_by_id(&ada.id).await.unwrap().is_none());
    assert!(ctx.users.find_by_id(&grace.id).await.unwrap().is_some());
    // The email is free again.
    ctx.users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
}

/// The pending link of a user who logged out everywhere since it started: the version check is
/// part of the write itself, so no interleaving of the two can link the identity.
async fn a_link_for_a_stale_token_version_writes_nothing(ctx: Ctx) {
    let now = ctx.now();
    let ada = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let version = ctx.users.bump_token_version(&ada.id, now).await.unwrap();
    let stale = ctx
        .users
        .link_identity(
            &ada.id,
            identity(Provider::Github, "7", now),
            now,
            version - 1,
        )
        .await;
    assert!(matches!(stale, Err(RepoError::NotFound)), "{stale:?}");
    assert!(ctx
        .users
        .find_by_identity(Provider::Github, "7")
        .await
        .unwrap()
        .is_none());
    let current = ctx
        .users
        .link_identity(&ada.id, identity(Provider::Github, "7", now), now, version)
        .await
        .unwrap();
    assert_eq!(current.identities.len(), 1);

    // A burst of log-outs-everywhere racing links started at one version: whatever the
    // interleaving, no link lands after the version moved.
    let grace = ctx
        .users
        .create(local_user("grace@example.com", now))
        .await
        .unwrap();
    let links = (0..8).map(|n| {
        let users = ctx.users.clone();
        let id = grace.id.clone();
        async move {
            users
                .link_identity(
                    &id,
                    identity(Provider::Google, &format!("g{n}"), now),
                    now,
                    0,
                )
                .await
        }
    });
    let bumps = (0..8).map(|_| {
        let users = ctx.users.clone();
        let id = grace.id.clone();
        async move { users.bump_token_version(&id, now).await.map(drop) }
    });
    let (linked, _) = futures_util::future::join(join_all(links), join_all(bumps)).await;
    let stored = ctx.users.find_by_id(&grace.id).await.unwrap().unwrap();
    let succeeded = linked.iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        stored.identities.len(),
        succeeded,
        "every link that answered Ok is stored"
    );
    for result in &linked {
        assert!(
            matches!(result, Ok(_) | Err(RepoError::NotFound)),
            "{result:?}"
        );
    }
    assert_eq!(stored.token_version, 8);
}
