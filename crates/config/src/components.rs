//! The options and settings each component is built from: storage's driver options, the mail
//! queue's, and auth's hasher, tokens, lockout, mailed links and OAuth clients.

use std::time::Duration;

use altrion_auth::{
    Argon2Settings, LockoutPolicy, MailPolicy, OAuthConfig, ProviderConfig, TokenSettings,
};
use secrecy::{ExposeSecret as _, SecretString};
use url::Url;

use super::{
    validate::named, AuthSettings, DatabaseSettings, GithubSettings, GoogleSettings, JwtSettings,
    MailSettings, OAuthSettings, PasswordSettings, RateLimitSettings, ServerSettings,
    SessionSettings, Settings, SettingsError,
};

/// Whole seconds in auth's and the session's unit, saturating.
fn seconds(secs: u64) -> time::Duration {
    time::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// `value` as a URL; validation has refused anything else, naming `key`.
fn url(key: &str, value: &str) -> Result<Url, SettingsError> {
    Url::parse(value.trim())
        .map_err(|e| SettingsError::Invalid(vec![format!("{} is not a URL: {e}", named(key))]))
}

impl DatabaseSettings {
    /// The driver options for `uri` (the resolved connection string) from these settings.
    pub fn mongo_options(&self, uri: String) -> altrion_storage::MongoOptions {
        let mut options = altrion_storage::MongoOptions::new(uri, self.name.clone());
        options.app_name = self.app_name.clone();
        options.connect_timeout = Duration::from_millis(self.connect_timeout_ms);
        options.server_selection_timeout = Duration::from_millis(self.server_selection_timeout_ms);
        options.retry_writes = self.retry_writes;
        options.operation_timeout = Duration::from_millis(self.operation_timeout_ms);
        options.coalesce_reads = self.coalesce_reads;
        // A readiness probe answers within the operation deadline too.
        options.ping_timeout = options.ping_timeout.min(options.operation_timeout);
        // Validated with the settings, so the fallback is never taken.
        options.write_concern = self.write_concern.parse().unwrap_or(options.write_concern);
        options
    }
}

impl MailSettings {
    /// The mail queue's options from these settings.
    pub fn mail_options(&self) -> altrion_mail::MailOptions {
        let set =
            |secret: &SecretString| (!secret.expose_secret().is_empty()).then(|| secret.clone());
        let mut options = altrion_mail::MailOptions::new(self.from.clone(), &self.outbox_dir);
        options.smtp_url = set(&self.smtp_url);
        options.username = set(&self.smtp_username);
        options.password = set(&self.smtp_password);
        options.timeout = Duration::from_secs(self.timeout_secs);
        options.queue_capacity = self.queue_capacity;
        options.max_attempts = self.max_attempts;
        options
    }
}

impl PasswordSettings {
    /// The hasher's settings (`max_concurrent = 0` is one per core, as auth reads it).
    pub fn argon2(&self) -> Argon2Settings {
        Argon2Settings {
            memory_kib: self.memory_kib,
            iterations: self.iterations,
            parallelism: self.parallelism,
            max_concurrent: self.max_concurrent,
        }
    }
}

impl JwtSettings {
    /// The access tokens' settings.
    pub fn tokens(&self) -> TokenSettings {
        TokenSettings {
            secret: self.secret.clone(),
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            ttl: seconds(self.ttl_secs),
            leeway_secs: self.leeway_secs,
        }
    }
}

impl RateLimitSettings {
    /// The per-account lockout.
    pub fn lockout(&self) -> LockoutPolicy {
        LockoutPolicy {
            threshold: self.lockout_threshold,
            base_delay: seconds(self.lockout_base_delay_secs),
            max_delay: seconds(self.lockout_max_delay_secs),
        }
    }
}

impl AuthSettings {
    /// How recent a sign-in must be to stand in for a password.
    pub fn reauth_window(&self) -> time::Duration {
        seconds(self.reauth_window_secs)
    }
}

impl SessionSettings {
    /// Idle lifetime of a session.
    pub fn ttl(&self) -> time::Duration {
        seconds(self.ttl_secs)
    }

    /// Absolute lifetime of a session.
    pub fn absolute_ttl(&self) -> time::Duration {
        seconds(self.absolute_ttl_secs)
    }

    /// How old a session's last write must be for a request to refresh its expiry.
    pub fn touch_after(&self) -> time::Duration {
        seconds(self.touch_after_secs)
    }
}

impl Settings {
    /// Where mailed links point, how long they work, how many an account receives.
    ///
    /// # Errors
    /// [`SettingsError::Invalid`] when `server.frontend_url` is not a URL.
    pub fn mail_policy(&self) -> Result<MailPolicy, SettingsError> {
        Ok(MailPolicy {
            reset_ttl: seconds(self.auth.reset_token_ttl_secs),
            verification_ttl: seconds(self.auth.verification_token_ttl_secs),
            per_account_per_hour: self.auth.mails_per_account_per_hour,
            ..MailPolicy::new(url("server.frontend_url", &self.server.frontend_url)?)
        })
    }
}

impl OAuthSettings {
    /// What both providers share: where a sign-in returns, the allow-list, the HTTP timeout.
    ///
    /// # Errors
    /// [`SettingsError::Invalid`] when the frontend URL or an allow-listed origin is not a URL.
    pub fn oauth_config(&self, server: &ServerSettings) -> Result<OAuthConfig, SettingsError> {
        Ok(OAuthConfig {
            frontend_url: url("server.frontend_url", &server.frontend_url)?,
            redirect_allowlist: self
                .allowlist()
                .map(|origin| url("oauth.redirect_allowlist", origin))
                .collect::<Result<_, _>>()?,
            http_timeout: Duration::from_secs(self.http_timeout_secs),
        })
    }

    /// The allow-listed origins, as written.
    pub(super) fn allowlist(&self) -> impl Iterator<Item = &str> {
        self.redirect_allowlist
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
    }
}

impl GoogleSettings {
    /// Google's client; the provider sends the browser back to `redirect_url`.
    pub fn provider(&self, redirect_url: String) -> ProviderConfig {
        ProviderConfig {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            auth_url: self.auth_url.clone(),
            token_url: self.token_url.clone(),
            profile_url: self.userinfo_url.clone(),
            redirect_url,
        }
    }
}

impl GithubSettings {
    /// GitHub's client; the provider sends the browser back to `redirect_url`.
    pub fn provider(&self, redirect_url: String) -> ProviderConfig {
        ProviderConfig {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            auth_url: self.auth_url.clone(),
            token_url: self.token_url.clone(),
            profile_url: self.api_url.clone(),
            redirect_url,
        }
    }
}
