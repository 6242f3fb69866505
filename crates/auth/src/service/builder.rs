//! How an [`AuthService`] is put together: its ports and policies, each with a safe default,
//! checked once in [`AuthServiceBuilder::build`].

use std::sync::Arc;

use altrion_domain::{Clock, Mailer, SessionRepository, SystemClock, UserRepository};
use time::Duration;

use super::{
    recovery::{MailPolicy, MailSetup},
    AuthService, DEFAULT_REAUTH_WINDOW,
};
use crate::{Argon2Settings, ConfigError, LockoutPolicy, PasswordHasher, TokenService};

/// Collects what an [`AuthService`] needs; made by [`AuthService::builder`].
#[derive(Debug, Clone)]
pub struct AuthServiceBuilder {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    tokens: TokenService,
    clock: Arc<dyn Clock>,
    hasher: Option<PasswordHasher>,
    lockout: LockoutPolicy,
    reauth_window: Duration,
    require_verified_email: bool,
    mail: Option<(Arc<dyn Mailer>, MailPolicy)>,
}

impl AuthService {
    /// Starts a service over the stores and the access-token keys. Everything else has a
    /// default: the system clock, OWASP-floor argon2id, the default lockout, a
    /// [`DEFAULT_REAUTH_WINDOW`], unverified emails allowed, and no mail (so no recovery).
    #[must_use]
    pub fn builder(
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
        tokens: TokenService,
    ) -> AuthServiceBuilder {
        AuthServiceBuilder {
            users,
            sessions,
            tokens,
            clock: Arc::new(SystemClock),
            hasher: None,
            lockout: LockoutPolicy::default(),
            reauth_window: DEFAULT_REAUTH_WINDOW,
            require_verified_email: false,
            mail: None,
        }
    }
}

impl AuthServiceBuilder {
    /// The clock every "now" comes from ([`SystemClock`] by default).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The password hasher (by default one with [`Argon2Settings::default`], made by
    /// [`build`](Self::build)). Share one hasher between the services of a process: clones
    /// share its concurrency cap.
    #[must_use]
    pub fn hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = Some(hasher);
        self
    }

    /// The per-account lockout ([`LockoutPolicy::default`] by default).
    #[must_use]
    pub fn lockout(mut self, lockout: LockoutPolicy) -> Self {
        self.lockout = lockout;
        self
    }

    /// How recent a sign-in must be to stand in for the password of an account that has none
    /// ([`DEFAULT_REAUTH_WINDOW`] by default).
    #[must_use]
    pub fn reauth_window(mut self, window: Duration) -> Self {
        self.reauth_window = window;
        self
    }

    /// Makes [`login`](AuthService::login) and
    /// [`ensure_verified`](AuthService::ensure_verified) refuse accounts whose email is not
    /// verified (off by default).
    #[must_use]
    pub fn require_verified_email(mut self, required: bool) -> Self {
        self.require_verified_email = required;
        self
    }

    /// Enables mail: password recovery, and verification mails at sign-up and on request.
    /// Without it a sign-up mails nothing, and asking for a reset or a verification mail fails
    /// with [`AuthError::Internal`](crate::AuthError::Internal).
    #[must_use]
    pub fn mail(mut self, mailer: Arc<dyn Mailer>, policy: MailPolicy) -> Self {
        self.mail = Some((mailer, policy));
        self
    }

    /// Checks the policies and makes the service; the default hasher, when none was given, is
    /// made here (one hash's worth of work: call this at start-up).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for an unusable lockout policy, or a mail policy with a
    /// non-http(s) frontend URL, a non-positive link lifetime or a zero quota; and the default
    /// hasher's error, should making it fail.
    pub fn build(self) -> Result<AuthService, ConfigError> {
        self.lockout.validate()?;
        let mail = self
            .mail
            .map(|(mailer, policy)| MailSetup::new(mailer, policy))
            .transpose()?;
        let hasher = match self.hasher {
            Some(hasher) => hasher,
            None => PasswordHasher::new(&Argon2Settings::default())?,
        };
        Ok(AuthService {
            users: self.users,
            sessions: self.sessions,
            clock: self.clock,
            hasher,
            tokens: self.tokens,
            lockout: self.lockout,
            reauth_window: self.reauth_window,
            mail,
            require_verified_email: self.require_verified_email,
        })
    }
}
