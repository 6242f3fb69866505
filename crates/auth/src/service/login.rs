use altrion_domain::{Email, LoginAttempt, PasswordHash, RepoError, User, UserId};
use time::Duration;

use super::{AuthService, Authenticated, LoginRequest};
use crate::{AuthError, LockoutStatus, Verified};

/// Longer passwords are refused at login without hashing them (sign-up allows at most 128
/// characters, i.e. at most 512 bytes), bounding the work one request can cause.
pub const MAX_LOGIN_PASSWORD_BYTES: usize = 1024;

/// How often one attempt re-reads and re-claims when concurrent attempts keep claiming first.
/// Every lost claim means another attempt was counted, so past the threshold the account is
/// locked and the loop ends long before this; the bound only stops a pathological livelock,
/// which is then refused as rate-limited (never evaluated).
const MAX_CLAIMS: usize = 64;

/// A password check that went through the lockout: the user as last read, the verdict, and
/// the consecutive failures counted with this attempt.
pub(crate) struct Checked {
    pub(crate) user: User,
    pub(crate) verified: Verified,
    pub(crate) failures: u32,
}

impl AuthService {
    /// Checks an email and password and issues a token. Writes no session.
    ///
    /// Every refusal that could tell an attacker whether the email has an account (malformed
    /// or unknown email, OAuth-only account, wrong or over-long password) is
    /// [`AuthError::InvalidCredentials`] after exactly one password verification, a dummy one
    /// where there is nothing real to check.
    ///
    /// # Errors
    /// [`AuthError::InvalidCredentials`] as above; [`AuthError::Locked`] while the account is
    /// locked by the [`LockoutPolicy`](crate::LockoutPolicy) (the password is not checked and
    /// the attempt is not counted); [`AuthError::Unavailable`] / [`AuthError::Internal`].
    #[tracing::instrument(name = "auth.login", skip_all)]
    pub async fn login(&self, request: LoginRequest) -> Result<Authenticated, AuthError> {
        let LoginRequest { email, password } = request;
        let Ok(email) = Email::parse(&email) else {
            return self
                .refuse_without_account(&password, "malformed_email")
                .await;
        };
        let Some(user) = self.users.find_by_email(&email).await? else {
            return self
                .refuse_without_account(&password, "unknown_email")
                .await;
        };
        let checked = self.check_password(user, &password).await?;
        match checked.verified {
            Verified::Valid { needs_rehash } => {
                self.succeed(checked.user, &password, needs_rehash).await
            }
            Verified::Invalid => {
                let reason = if checked.user.password_hash.is_some() {
                    "wrong_password"
                } else {
                    "no_password"
                };
                metrics::counter!("altrion_logins_total", "outcome" => "invalid").increment(1);
                tracing::info!(
                    event = "login_failed",
                    user_id = %checked.user.id,
                    reason,
                    failures = checked.failures,
                    "login failed"
                );
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// Checks `password` against `user` under the lockout policy. The attempt is claimed in the
    /// store — counted as a failure, and locking the account if it reaches the threshold —
    /// *before* its verdict is used, so concurrent guesses from any number of addresses and
    /// instances are evaluated one claim at a time and never more than the policy allows. The
    /// claim runs while argon2 verifies, so a wrong password costs what an unknown email costs
    /// (one verification). A success must be settled with `record_login`.
    ///
    /// # Errors
    /// [`AuthError::Locked`] while the account is locked (nothing is counted, and the verdict,
    /// if computed, is thrown away); store and hasher errors.
    pub(crate) async fn check_password(
        &self,
        mut user: User,
        password: &str,
    ) -> Result<Checked, AuthError> {
        let mut verdict: Option<(Option<PasswordHash>, Verified)> = None;
        for _ in 0..MAX_CLAIMS {
            let now = self.clock.now();
            if let LockoutStatus::Locked { retry_after } =
                self.lockout.status(user.locked_until, now)
            {
                tracing::info!(event = "login_locked", user_id = %user.id, "attempt refused: account locked");
                metrics::counter!("altrion_logins_total", "outcome" => "locked").increment(1);
                return Err(AuthError::Locked { retry_after });
            }
            let failures = user.failed_logins.saturating_add(1);
            let attempt = LoginAttempt {
                expected_failures: user.failed_logins,
                now,
                lock_until: self.lockout.lock_until(failures, now),
            };
            let claim = self.users.claim_login_attempt(&user.id, attempt);
            let claimed = match &verdict {
                Some((hash, _)) if *hash == user.password_hash => claim.await?,
                _ => {
                    let (claimed, verified) = tokio::join!(claim, self.verify(&user, password));
                    verdict = Some((user.password_hash.clone(), verified?));
                    claimed?
                }
            };
            if claimed {
                let verified = verdict.map_or(Verified::Invalid, |(_, v)| v);
                if let (Verified::Invalid, Some(until)) = (verified, attempt.lock_until) {
                    tracing::warn!(
                        event = "account_locked",
                        user_id = %user.id,
                        failures,
                        locked_for_secs = (until - now).whole_seconds(),
                        "account locked after repeated failures"
                    );
                }
                return Ok(Checked {
                    user,
                    verified,
                    failures,
                });
            }
            // Another attempt was counted first: judge this one on the state it left.
            user = self
                .users
                .find_by_id(&user.id)
                .await?
                .ok_or(AuthError::InvalidCredentials)?;
        }
        tracing::warn!(user_id = %user.id, "login attempts kept colliding; refusing this one");
        Err(AuthError::Locked {
            retry_after: Duration::seconds(1),
        })
    }

    /// One verification against the user's hash, or a dummy one when there is none or the
    /// password is absurdly long.
    async fn verify(&self, user: &User, password: &str) -> Result<Verified, AuthError> {
        match &user.password_hash {
            Some(hash) if password.len() <= MAX_LOGIN_PASSWORD_BYTES => {
                self.hasher.verify(password, hash).await
            }
            _ => {
                self.hasher.verify_dummy(dummy_input(password)).await?;
                Ok(Verified::Invalid)
            }
        }
    }

    /// The refusal when there is no account to check: a dummy verification, alongside a claim
    /// that matches no user — the same round trip a real attempt makes while argon2 runs, so
    /// the answer takes as long as a wrong password's.
    async fn refuse_without_account(
        &self,
        password: &str,
        reason: &'static str,
    ) -> Result<Authenticated, AuthError> {
        let nobody = UserId::new(format!("{:024x}", rand::random::<u128>() >> 32));
        let attempt = LoginAttempt {
            expected_failures: 0,
            now: self.clock.now(),
            lock_until: None,
        };
        let (verified, _) = tokio::join!(
            self.hasher.verify_dummy(dummy_input(password)),
            self.users.claim_login_attempt(&nobody, attempt)
        );
        verified?;
        metrics::counter!("altrion_logins_total", "outcome" => "invalid").increment(1);
        tracing::info!(event = "login_failed", reason, "login failed");
        Err(AuthError::InvalidCredentials)
    }

    /// Settles a successful check: clears the failures and the lock (and stores a re-hash).
    pub(crate) async fn settle_success(
        &self,
        user: &User,
        password: &str,
        needs_rehash: bool,
    ) -> Result<User, AuthError> {
        let rehashed = if needs_rehash {
            self.rehash(user, password).await
        } else {
            None
        };
        match self
            .users
            .record_login(&user.id, self.clock.now(), rehashed, user.token_version)
            .await
        {
            Ok(user) => Ok(user),
            // Deleted, or revoked (reset, password change, take-over, log out everywhere) while
            // the password was being verified: as if the check had failed.
            Err(RepoError::NotFound) => Err(AuthError::InvalidCredentials),
            Err(e) => Err(e.into()),
        }
    }

    async fn succeed(
        &self,
        user: User,
        password: &str,
        needs_rehash: bool,
    ) -> Result<Authenticated, AuthError> {
        let user = self.settle_success(&user, password, needs_rehash).await?;
        // Judged only after the password: an unverified account is no easier to probe.
        if let Err(err) = self.ensure_verified(&user) {
            tracing::info!(event = "login_failed", user_id = %user.id, reason = "email_not_verified", "login refused: email not verified");
            return Err(err);
        }
        let token = self.issue(&user)?;
        metrics::counter!("altrion_logins_total", "outcome" => "success").increment(1);
        tracing::info!(event = "login_succeeded", user_id = %user.id, method = "password", rehashed = needs_rehash, "logged in");
        Ok(Authenticated { user, token })
    }

    /// A failed re-hash must not fail the login: the old hash still works.
    async fn rehash(&self, user: &User, password: &str) -> Option<PasswordHash> {
        match self.hasher.hash_plaintext(password).await {
            Ok(hash) => Some(hash),
            Err(error) => {
                tracing::warn!(user_id = %user.id, %error, "password re-hash failed");
                None
            }
        }
    }
}

/// What a dummy verification hashes: the password when reasonable, else nothing of it (argon2's
/// cost does not depend on the input's length, so the timing is unchanged).
fn dummy_input(password: &str) -> &str {
    if password.len() <= MAX_LOGIN_PASSWORD_BYTES {
        password
    } else {
        ""
    }
}
