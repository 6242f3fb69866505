//! Password recovery and email verification by mail.
//!
//! Mail goes through the [`Mailer`] port, and links point at the frontend:
//! `{frontend}/reset-password?token=…` and `{frontend}/verify-email?token=…`. A request for a
//! reset answers the same, at once, whatever the email: the lookup, the per-account quota and
//! the mail happen in a background job the caller does not wait for.

use std::{fmt, sync::Arc};

use altrion_domain::{
    Email, MailKind, MailQuota, Mailer, OutgoingMail, Password, RepoError, User, UserId,
};
use time::Duration;
use tokio::sync::Semaphore;
use url::Url;

use super::{signup::strong_enough, AuthService, Authenticated};
use crate::{token::Purpose, AuthError, ConfigError, FieldError};

/// How recovery and verification mails are made and limited.
#[derive(Debug, Clone)]
pub struct MailPolicy {
    /// Where mailed links point: the frontend's origin (and base path).
    pub frontend_url: Url,
    /// How long a reset link works.
    pub reset_ttl: Duration,
    /// How long a verification link works.
    pub verification_ttl: Duration,
    /// Mails of each kind one account receives per hour at most.
    pub per_account_per_hour: u32,
    /// Reset requests worked on at once in the background; more are refused with
    /// [`AuthError::Busy`]. One limit per built service, shared by its clones and by every
    /// [`AuthService::with_stores`] of it.
    pub max_pending_jobs: usize,
}

impl MailPolicy {
    /// The defaults: reset links for 30 minutes, verification links for 24 hours, 3 mails of
    /// each kind per account per hour, 64 background jobs.
    pub fn new(frontend_url: Url) -> Self {
        Self {
            frontend_url,
            reset_ttl: Duration::minutes(30),
            verification_ttl: Duration::hours(24),
            per_account_per_hour: 3,
            max_pending_jobs: 64,
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.frontend_url.scheme(), "http" | "https") {
            return Err(ConfigError::invalid(
                "frontend_url",
                "must be an http(s) URL",
            ));
        }
        for (setting, ttl) in [
            ("reset_ttl", self.reset_ttl),
            ("verification_ttl", self.verification_ttl),
        ] {
            if ttl <= Duration::ZERO {
                return Err(ConfigError::invalid(setting, "must be positive"));
            }
        }
        for (setting, value) in [
            ("per_account_per_hour", self.per_account_per_hour as usize),
            ("max_pending_jobs", self.max_pending_jobs),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(setting, "must be at least 1"));
            }
        }
        // The job limit is a semaphore, which panics past its maximum.
        if self.max_pending_jobs > Semaphore::MAX_PERMITS {
            return Err(ConfigError::invalid(
                "max_pending_jobs",
                format!("must be at most {}", Semaphore::MAX_PERMITS),
            ));
        }
        Ok(())
    }

    /// `{frontend}/{page}?token=…`, keeping the frontend's base path.
    fn link(&self, page: &str, token: &str) -> Result<Url, AuthError> {
        let mut base = self.frontend_url.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let mut link = base
            .join(page)
            .map_err(|e| AuthError::Internal(Box::new(e)))?;
        link.query_pairs_mut().clear().append_pair("token", token);
        Ok(link)
    }
}

/// The mail side of an [`AuthService`].
#[derive(Clone)]
pub(super) struct MailSetup {
    mailer: Arc<dyn Mailer>,
    policy: MailPolicy,
    jobs: Arc<Semaphore>,
}

impl MailSetup {
    /// `mailer` under a checked `policy`.
    pub(super) fn new(mailer: Arc<dyn Mailer>, policy: MailPolicy) -> Result<Self, ConfigError> {
        policy.validate()?;
        Ok(Self {
            mailer,
            jobs: Arc::new(Semaphore::new(policy.max_pending_jobs)),
            policy,
        })
    }
}

impl fmt::Debug for MailSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSetup")
            .field("mailer", &self.mailer)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// A reset request accepted for background processing. Dropping it detaches the job;
/// [`finished`](Self::finished) waits for it (tests, graceful shutdown).
#[derive(Debug)]
pub struct ResetRequested(tokio::task::JoinHandle<()>);

impl ResetRequested {
    /// Waits until the job has looked the email up and, if it has an account within its quota,
    /// handed the mail to the mailer.
    pub async fn finished(self) {
        if let Err(err) = self.0.await {
            tracing::error!(error = %err, "password reset job failed");
        }
    }
}

impl AuthService {
    /// `Err(EmailNotVerified)` when verification is required and `user` has not verified.
    ///
    /// # Errors
    /// [`AuthError::EmailNotVerified`].
    pub fn ensure_verified(&self, user: &User) -> Result<(), AuthError> {
        if self.require_verified_email && !user.email_verified {
            return Err(AuthError::EmailNotVerified);
        }
        Ok(())
    }

    fn mail_setup(&self) -> Result<&MailSetup, AuthError> {
        self.mail
            .as_ref()
            .ok_or_else(|| AuthError::internal("no mailer configured (AuthServiceBuilder::mail)"))
    }

    /// "Forgot password": accepts the request and returns at once, the same for every
    /// well-formed email. In the background, if the email has an account and the account's
    /// hourly quota allows, a reset link is mailed (to accounts without a password too: it
    /// lets them set one). Nothing about the account reaches the caller, not even by timing.
    ///
    /// # Errors
    /// [`AuthError::Validation`] (field `email`) for a malformed email; [`AuthError::Busy`]
    /// when too many reset jobs are pending.
    pub fn request_password_reset(&self, email: &str) -> Result<ResetRequested, AuthError> {
        let setup = self.mail_setup()?;
        let email = Email::parse(email).map_err(|e| {
            AuthError::Validation(vec![FieldError {
                field: "email",
                message: e.to_string(),
            }])
        })?;
        let permit = Arc::clone(&setup.jobs)
            .try_acquire_owned()
            .map_err(|_| AuthError::Busy)?;
        let service = self.clone();
        Ok(ResetRequested(tokio::spawn(async move {
            let _permit = permit;
            if let Err(err) = service.mail_reset_link(&email).await {
                tracing::warn!(error = %err, "password reset mail not sent");
            }
        })))
    }

    async fn mail_reset_link(&self, email: &Email) -> Result<(), AuthError> {
        let Some(user) = self.users.find_by_email(email).await? else {
            tracing::info!(
                event = "password_reset_requested",
                outcome = "unknown_email",
                "password reset asked for an unknown email"
            );
            return Ok(());
        };
        let setup = self.mail_setup()?;
        if !self
            .claim_quota(&user.id, MailKind::PasswordReset, setup)
            .await?
        {
            tracing::info!(event = "password_reset_requested", user_id = %user.id, outcome = "quota_spent", "password reset mail withheld: hourly quota spent");
            return Ok(());
        }
        let token = self.mail_token(Purpose::PasswordReset, &user, setup.policy.reset_ttl)?;
        let link = setup.policy.link("reset-password", &token)?;
        let mail = reset_mail(&user, &link, setup.policy.reset_ttl);
        self.deliver(setup, mail, &user.id, "password_reset").await;
        tracing::info!(event = "password_reset_requested", user_id = %user.id, outcome = "mailed", "password reset link mailed");
        Ok(())
    }

    /// Sets a new password from a reset link, signing the user in. In one conditional write the
    /// hash is replaced, the email marked verified (the link proved it), the token version
    /// bumped (every JWT and every other outstanding reset link dies) and the lockout cleared;
    /// then every session of the user is deleted.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for a malformed, tampered, expired, wrong-purpose or used
    /// token; [`AuthError::Validation`] (field `password`) under the sign-up rules (the token
    /// is not spent then); store and hasher errors.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: String,
    ) -> Result<Authenticated, AuthError> {
        let claims = self.check_mail_token(Purpose::PasswordReset, token)?;
        let user = self
            .users
            .find_by_id(&UserId::new(claims.sub))
            .await?
            .filter(|user| user.token_version == claims.tv)
            .ok_or_else(|| {
                tracing::info!(
                    event = "password_reset_failed",
                    reason = "token_used",
                    "reset refused: link already used or voided"
                );
                AuthError::InvalidToken
            })?;
        let password = Password::new(new_password, &user.email)
            .map_err(|e| e.to_string())
            .and_then(|p| strong_enough(p, &user.email, user.name.as_str()))
            .map_err(|message| {
                AuthError::Validation(vec![FieldError {
                    field: "password",
                    message,
                }])
            })?;
        let hash = self.hasher.hash(&password).await?;
        let Some(user) = self
            .users
            .reset_password(&user.id, hash, self.clock.now(), claims.tv)
            .await?
        else {
            tracing::info!(event = "password_reset_failed", user_id = %user.id, reason = "token_used", "reset refused: a concurrent use won");
            return Err(AuthError::InvalidToken);
        };
        let sessions = self.sessions.delete_for_user(&user.id).await?;
        tracing::info!(event = "password_reset", user_id = %user.id, sessions, "password reset by mailed link");
        let token = self.issue(&user)?;
        Ok(Authenticated { user, token })
    }

    /// Marks the email of a verification link verified.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for a malformed, tampered, expired, wrong-purpose or used
    /// token, or one whose address is no longer the account's; store errors.
    pub async fn verify_email(&self, token: &str) -> Result<User, AuthError> {
        let claims = self.check_mail_token(Purpose::EmailVerification, token)?;
        let email = Email::parse(&claims.email).map_err(|_| AuthError::InvalidToken)?;
        let id = UserId::new(claims.sub);
        match self
            .users
            .mark_email_verified(&id, &email, self.clock.now())
            .await?
        {
            Some(user) => {
                tracing::info!(event = "email_verified", user_id = %user.id, "email verified");
                Ok(user)
            }
            None => {
                tracing::info!(event = "email_verification_failed", user_id = %id, reason = "token_used", "verification refused: used, or the account changed");
                Err(AuthError::InvalidToken)
            }
        }
    }

    /// Mails `user` a new verification link, within the account's hourly quota.
    ///
    /// # Errors
    /// [`AuthError::EmailAlreadyVerified`]; [`AuthError::MailQuotaExceeded`]; store errors.
    /// A full mail queue is logged, not returned.
    pub async fn resend_verification(&self, user: &User) -> Result<(), AuthError> {
        if user.email_verified {
            return Err(AuthError::EmailAlreadyVerified);
        }
        let setup = self.mail_setup()?;
        if !self
            .claim_quota(&user.id, MailKind::EmailVerification, setup)
            .await?
        {
            return Err(AuthError::MailQuotaExceeded {
                retry_after: QUOTA_WINDOW,
            });
        }
        self.mail_verification_link(user, setup).await
    }

    /// The verification mail of a new sign-up, if mail is enabled. Never fails the sign-up:
    /// problems are logged.
    pub(super) async fn welcome(&self, user: &User) {
        let Some(setup) = self.mail.as_ref() else {
            return;
        };
        let sent = async {
            if self
                .claim_quota(&user.id, MailKind::EmailVerification, setup)
                .await?
            {
                self.mail_verification_link(user, setup).await?;
            }
            Ok::<_, AuthError>(())
        };
        if let Err(err) = sent.await {
            tracing::warn!(user_id = %user.id, error = %err, "verification mail not sent at sign-up");
        }
    }

    async fn mail_verification_link(
        &self,
        user: &User,
        setup: &MailSetup,
    ) -> Result<(), AuthError> {
        let ttl = setup.policy.verification_ttl;
        let token = self.mail_token(Purpose::EmailVerification, user, ttl)?;
        let link = setup.policy.link("verify-email", &token)?;
        self.deliver(
            setup,
            verification_mail(user, &link, ttl),
            &user.id,
            "email_verification",
        )
        .await;
        Ok(())
    }

    async fn claim_quota(
        &self,
        id: &UserId,
        kind: MailKind,
        setup: &MailSetup,
    ) -> Result<bool, AuthError> {
        let quota = MailQuota {
            now: self.clock.now(),
            window: QUOTA_WINDOW,
            max: setup.policy.per_account_per_hour,
        };
        match self.users.claim_mail_quota(id, kind, quota).await {
            Ok(granted) => Ok(granted),
            Err(RepoError::NotFound) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn mail_token(
        &self,
        purpose: Purpose,
        user: &User,
        ttl: Duration,
    ) -> Result<String, AuthError> {
        self.tokens
            .issue_mail_token(purpose, user, self.clock.now(), ttl)
            .map_err(|e| AuthError::Internal(Box::new(e)))
    }

    fn check_mail_token(
        &self,
        purpose: Purpose,
        token: &str,
    ) -> Result<crate::token::MailClaims, AuthError> {
        self.tokens.verify_mail_token(purpose, token.trim()).map_err(|reason| {
            tracing::info!(event = "mail_token_refused", ?purpose, %reason, "mailed token refused");
            AuthError::InvalidToken
        })
    }

    /// Hands `mail` to the mailer; a refusal (full queue, shutting down) is logged, never
    /// returned: the request that asked for the mail does not fail because of it.
    async fn deliver(&self, setup: &MailSetup, mail: OutgoingMail, user: &UserId, kind: &str) {
        if let Err(err) = setup.mailer.send(mail).await {
            tracing::warn!(user_id = %user, kind, error = %err, "mail dropped");
        }
    }
}

/// The window of the per-account mail quota.
const QUOTA_WINDOW: Duration = Duration::hours(1);

fn lifetime(ttl: Duration) -> String {
    let minutes = ttl.whole_minutes();
    match minutes {
        m if m < 120 => format!("{m} minutes"),
        m => format!("{} hours", m / 60),
    }
}

fn reset_mail(user: &User, link: &Url, ttl: Duration) -> OutgoingMail {
    OutgoingMail {
        to: user.email.clone(),
        subject: "Reset your Altrion password".to_owned(),
        // No display name: whoever signs up chooses it, and it must not put their words into
        // mail Altrion sends to someone else's address.
        text: format!(
            "Hello,\n\n\
             someone asked to reset the password of the Altrion account for {email}.\n\
             To choose a new password, open this link within {ttl}:\n\n\
             {link}\n\n\
             The link works once. If you did not ask for it, ignore this mail: your password \
             stays as it is.\n",
            email = user.email.as_str(),
            ttl = lifetime(ttl),
        ),
    }
}

fn verification_mail(user: &User, link: &Url, ttl: Duration) -> OutgoingMail {
    OutgoingMail {
        to: user.email.clone(),
        subject: "Confirm your email address for Altrion".to_owned(),
        text: format!(
            "Hello,\n\n\
             please confirm that {email} is your address by opening this link within {ttl}:\n\n\
             {link}\n\n\
             If you did not create an Altrion account, ignore this mail.\n",
            email = user.email.as_str(),
            ttl = lifetime(ttl),
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn links_keep_the_frontend_base_path_and_encode_the_token() {
        let policy = MailPolicy::new(Url::parse("https://app.example.com/portal").unwrap());
        let link = policy.link("reset-password", "a.b+c").unwrap();
        assert_eq!(
            link.as_str(),
            "https://app.example.com/portal/reset-password?token=a.b%2Bc"
        );
        let root = MailPolicy::new(Url::parse("http://localhost:8080").unwrap());
        assert_eq!(
            root.link("verify-email", "t").unwrap().as_str(),
            "http://localhost:8080/verify-email?token=t"
        );
    }

    #[test]
    fn unusable_policies_are_refused() {
        let ok = MailPolicy::new(Url::parse("https://app.example.com").unwrap());
        assert!(ok.validate().is_ok());
        let mut bad = ok.clone();
        bad.reset_ttl = Duration::ZERO;
        assert!(bad.validate().is_err());
        let mut bad = ok.clone();
        bad.per_account_per_hour = 0;
        assert!(bad.validate().is_err());
        let mut bad = ok;
        bad.frontend_url = Url::parse("ftp://app.example.com").unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn lifetimes_read_naturally() {
        assert_eq!(lifetime(Duration::minutes(30)), "30 minutes");
        assert_eq!(lifetime(Duration::hours(24)), "24 hours");
    }
}
