//! Altrion's typed, layered configuration — one home for every setting of the server and the
//! `altrion` CLI: built-in defaults < `config/{default,<APP_ENV>}.toml` < `.env` < environment
//! (conventional names such as `JWT_SECRET`, then `APP__SECTION__KEY`), validation that names
//! each bad setting, and the options each component is built from.
//!
//! A service of your own built on the other crates does not need it (`docs/library.md`).
//!
//! Depends on the storage, mail and auth crates (it builds their options and settings) and on
//! no web framework, the session crate or the server, so the CLI links no web server.

mod components;
mod load;
mod uri;
mod validate;

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

pub use load::{dev_secrets, load, load_database, load_from, ENV_ALIASES};
pub use uri::DatabaseUri;

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A source could not be read or a value has the wrong type; config's message names the key.
    #[error("configuration error: {0}")]
    Load(#[from] config::ConfigError),
    /// `.env` exists but cannot be parsed.
    #[error("cannot read .env: {0}")]
    DotEnv(#[from] dotenvy::Error),
    /// The development secrets under `var/` cannot be read or written.
    #[error("development secrets: {0}")]
    DevSecrets(String),
    /// `APP_ENV` is not one of development, test, production.
    #[error("APP_ENV must be development, test or production, not {0:?}")]
    UnknownEnvironment(String),
    /// Values that load but are unsafe or inconsistent; each line names the setting.
    #[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

/// The deployment profile, from `APP_ENV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Test,
    Production,
}

impl Environment {
    /// The profile's name, as in `APP_ENV` and the profile file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

/// Every setting of the server and the CLI.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub env: Environment,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub jwt: JwtSettings,
    pub session: SessionSettings,
    pub auth: AuthSettings,
    pub password: PasswordSettings,
    pub rate_limit: RateLimitSettings,
    pub oauth: OAuthSettings,
    pub mail: MailSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// The server's public origin; OAuth redirect URIs are built from it.
    pub public_url: String,
    /// Where the browser goes after an OAuth login; also the CORS origin.
    pub frontend_url: String,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    pub shutdown_timeout_secs: u64,
    /// Largest request body accepted on the auth routes.
    pub body_limit_bytes: usize,
    /// Where `GET /metrics` listens (Prometheus text); empty = no metrics listener.
    pub metrics_addr: String,
    /// A body not fully arrived this long after its request's head gets 408 and the connection
    /// is closed.
    pub body_timeout_secs: u64,
    /// Connections one worker serves at once; more wait in the listen backlog.
    pub max_connections: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `mongodb://…`, `mongodb+srv://…`, `embedded:<dir>`, `embedded:` or `memory:`; see
    /// [`DatabaseUri`] and [`DatabaseSettings::target`]. Secret because connection strings carry
    /// credentials.
    pub uri: SecretString,
    pub name: String,
    /// Port of the in-process embedded server; 0 picks a free port.
    pub embedded_port: u16,
    pub app_name: String,
    pub connect_timeout_ms: u64,
    pub server_selection_timeout_ms: u64,
    /// Deadline of every database call; past it the request answers 503.
    pub operation_timeout_ms: u64,
    /// Concurrent reads of one user or session by id share one query.
    pub coalesce_reads: bool,
    pub retry_writes: bool,
    /// `majority`, or a number of nodes such as `1`.
    pub write_concern: String,
    /// Apply `migrations/` when the server starts.
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSettings {
    /// HMAC key for HS256; at least [`altrion_auth::MIN_SECRET_BYTES`].
    pub secret: SecretString,
    pub issuer: String,
    pub audience: String,
    pub ttl_secs: u64,
    /// Clock skew tolerated when checking `exp`/`nbf`; at most [`altrion_auth::MAX_LEEWAY_SECS`].
    pub leeway_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// Signs the session cookie; at least [`altrion_auth::MIN_SECRET_BYTES`].
    pub secret: SecretString,
    /// Idle lifetime: a session unused this long expires.
    pub ttl_secs: u64,
    /// Absolute lifetime: however active, a session ends this long after sign-in.
    pub absolute_ttl_secs: u64,
    /// A request refreshes the session's expiry only when it was last written longer ago.
    pub touch_after_secs: u64,
    /// Secure cookies with the `__Host-` prefix; production requires it.
    pub cookie_secure: bool,
}

impl SessionSettings {
    /// `__Host-altrion.sid` for secure cookies (the prefix requires Secure), else `altrion.sid`.
    pub fn cookie_name(&self) -> &'static str {
        if self.cookie_secure {
            "__Host-altrion.sid"
        } else {
            "altrion.sid"
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// How recent a sign-in must be to stand in for the password of an account without one
    /// when linking or unlinking a provider.
    pub reauth_window_secs: u64,
    /// How long a mailed password-reset link works.
    pub reset_token_ttl_secs: u64,
    /// How long a mailed email-verification link works.
    pub verification_token_ttl_secs: u64,
    /// Mails of each kind one account receives per hour at most.
    pub mails_per_account_per_hour: u32,
    /// Login and every authenticated route but resend and logout-all refuse unverified accounts.
    pub require_verified_email: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSettings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashes computed at once; 0 means one per core.
    pub max_concurrent: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub per_ip_per_minute: u32,
    pub per_ip_burst: u32,
    /// Reverse proxies in front of the server whose `X-Forwarded-For` entries are trusted.
    pub trusted_proxy_hops: usize,
    /// Leading bits of an IPv6 client address that share one per-IP bucket (1 to 128).
    pub ipv6_prefix_len: u8,
    pub lockout_threshold: u32,
    pub lockout_base_delay_secs: u64,
    pub lockout_max_delay_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSettings {
    /// Comma-separated origins a login may return to besides `FRONTEND_URL`.
    pub redirect_allowlist: String,
    pub http_timeout_secs: u64,
    pub google: GoogleSettings,
    pub github: GithubSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleSettings {
    pub client_id: String,
    pub client_secret: SecretString,
    pub auth_url: String,
    pub token_url: String,
    pub userinfo_url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubSettings {
    pub client_id: String,
    pub client_secret: SecretString,
    pub auth_url: String,
    pub token_url: String,
    /// Base of `/user` and `/user/emails`.
    pub api_url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// `smtp://host:port` (plain), `smtp://…?tls=required` (STARTTLS) or `smtps://…`; may
    /// carry `user:pass@`. Empty: messages are `.eml` files in `outbox_dir`.
    pub smtp_url: SecretString,
    /// Used when `smtp_url` carries no credentials; empty = none.
    pub smtp_username: SecretString,
    pub smtp_password: SecretString,
    /// The sender mailbox, such as `Altrion <no-reply@example.com>`.
    pub from: String,
    pub outbox_dir: PathBuf,
    /// Deadline of one SMTP attempt.
    pub timeout_secs: u64,
    /// Messages waiting for delivery; more are dropped (and counted).
    pub queue_capacity: usize,
    /// Attempts per message; only transient failures are retried.
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// A `tracing` filter such as `info,altrion=debug`; `RUST_LOG` overrides it.
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[cfg(test)]
mod tests;
