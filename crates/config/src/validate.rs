use secrecy::{ExposeSecret, SecretString};
use url::Url;

use altrion_auth::{MAX_LEEWAY_SECS, MIN_SECRET_BYTES, OWASP_ITERATIONS, OWASP_MEMORY_KIB};
use altrion_mail::MailConfigError;

use super::{load::variable_for, DatabaseUri, Environment, Settings, SettingsError};

/// `VARIABLE (section.key)`, how every problem names its setting.
pub(super) fn named(key: &str) -> String {
    format!("{} ({key})", variable_for(key))
}

impl Settings {
    /// Checks consistency in every profile, and safety in production.
    ///
    /// # Errors
    /// [`SettingsError::Invalid`] listing every problem, each naming its setting.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let mut problems = Vec::new();
        let production = self.env == Environment::Production;

        for (key, secret) in [
            ("jwt.secret", &self.jwt.secret),
            ("session.secret", &self.session.secret),
        ] {
            if let Some(problem) = secret_problem(secret, production) {
                problems.push(format!("{} {problem}", named(key)));
            }
        }
        // In every profile: one leaked key must not forge both tokens and cookies.
        if !self.jwt.secret.expose_secret().is_empty()
            && self.jwt.secret.expose_secret() == self.session.secret.expose_secret()
        {
            problems.push(format!(
                "{} must differ from {}",
                named("session.secret"),
                named("jwt.secret")
            ));
        }

        problems.extend(self.database_problems());

        if self.jwt.leeway_secs > MAX_LEEWAY_SECS {
            problems.push(format!(
                "{} must be at most {MAX_LEEWAY_SECS}",
                named("jwt.leeway_secs")
            ));
        }
        for (key, value) in [
            ("jwt.ttl_secs", self.jwt.ttl_secs),
            ("session.ttl_secs", self.session.ttl_secs),
            ("server.body_timeout_secs", self.server.body_timeout_secs),
            ("server.max_connections", self.server.max_connections as u64),
            (
                "database.operation_timeout_ms",
                self.database.operation_timeout_ms,
            ),
            (
                "server.body_limit_bytes",
                self.server.body_limit_bytes as u64,
            ),
            (
                "rate_limit.per_ip_per_minute",
                u64::from(self.rate_limit.per_ip_per_minute),
            ),
            (
                "rate_limit.per_ip_burst",
                u64::from(self.rate_limit.per_ip_burst),
            ),
            (
                "rate_limit.lockout_threshold",
                u64::from(self.rate_limit.lockout_threshold),
            ),
            ("password.iterations", u64::from(self.password.iterations)),
            ("password.parallelism", u64::from(self.password.parallelism)),
            ("mail.timeout_secs", self.mail.timeout_secs),
            ("mail.queue_capacity", self.mail.queue_capacity as u64),
            ("mail.max_attempts", u64::from(self.mail.max_attempts)),
            ("oauth.http_timeout_secs", self.oauth.http_timeout_secs),
        ] {
            if value == 0 {
                problems.push(format!("{} must be greater than 0", named(key)));
            }
        }
        if !(1..=128).contains(&self.rate_limit.ipv6_prefix_len) {
            problems.push(format!(
                "{} must be between 1 and 128",
                named("rate_limit.ipv6_prefix_len")
            ));
        }
        if self.session.absolute_ttl_secs < self.session.ttl_secs {
            problems.push(format!(
                "{} must be at least {}",
                named("session.absolute_ttl_secs"),
                named("session.ttl_secs")
            ));
        }
        for (key, value) in [
            ("auth.reauth_window_secs", self.auth.reauth_window_secs),
            ("auth.reset_token_ttl_secs", self.auth.reset_token_ttl_secs),
            (
                "auth.verification_token_ttl_secs",
                self.auth.verification_token_ttl_secs,
            ),
            (
                "auth.mails_per_account_per_hour",
                u64::from(self.auth.mails_per_account_per_hour),
            ),
        ] {
            if value == 0 {
                problems.push(format!("{} must be greater than 0", named(key)));
            }
        }
        if self.session.touch_after_secs >= self.session.ttl_secs {
            // A touch window as long as the session means no touch can ever happen: active
            // sessions would expire mid-use (connect-mongo #199).
            problems.push(format!(
                "{} must be less than {}",
                named("session.touch_after_secs"),
                named("session.ttl_secs")
            ));
        }
        if self.rate_limit.lockout_base_delay_secs > self.rate_limit.lockout_max_delay_secs {
            problems.push(format!(
                "{} must not exceed {}",
                named("rate_limit.lockout_base_delay_secs"),
                named("rate_limit.lockout_max_delay_secs")
            ));
        }
        if production
            && (self.password.memory_kib < OWASP_MEMORY_KIB
                || self.password.iterations < OWASP_ITERATIONS)
        {
            problems.push(format!(
                "{} and {} must be at least OWASP's {OWASP_MEMORY_KIB} KiB and {OWASP_ITERATIONS} iterations",
                named("password.memory_kib"),
                named("password.iterations")
            ));
        }

        for key in ["server.public_url", "server.frontend_url"] {
            let value = match key {
                "server.public_url" => &self.server.public_url,
                _ => &self.server.frontend_url,
            };
            match Url::parse(value) {
                Ok(url) if production && url.scheme() != "https" => {
                    problems.push(format!("{} must use https in production", named(key)));
                }
                Ok(url) if !matches!(url.scheme(), "http" | "https") => {
                    problems.push(format!("{} must be an http(s) URL", named(key)));
                }
                Ok(_) => {}
                Err(err) => problems.push(format!("{} is not a URL: {err}", named(key))),
            }
        }
        for origin in self.oauth.allowlist() {
            if !Url::parse(origin).is_ok_and(|url| matches!(url.scheme(), "http" | "https")) {
                problems.push(format!(
                    "{} has an entry that is not an http(s) URL: {origin:?}",
                    named("oauth.redirect_allowlist")
                ));
            }
        }
        for (key, value) in [
            ("oauth.google.auth_url", &self.oauth.google.auth_url),
            ("oauth.google.token_url", &self.oauth.google.token_url),
            ("oauth.google.userinfo_url", &self.oauth.google.userinfo_url),
            ("oauth.github.auth_url", &self.oauth.github.auth_url),
            ("oauth.github.token_url", &self.oauth.github.token_url),
            ("oauth.github.api_url", &self.oauth.github.api_url),
        ] {
            if Url::parse(value).is_err() {
                problems.push(format!("{} is not a URL", named(key)));
            }
        }

        problems.extend(self.mail_problems());

        if production && !self.session.cookie_secure {
            problems.push(format!(
                "{} must be true in production",
                named("session.cookie_secure")
            ));
        }

        if problems.is_empty() {
            Ok(())
        } else {
            Err(SettingsError::Invalid(problems))
        }
    }
}

impl Settings {
    /// The problems of the database settings alone (what the CLI needs).
    pub(super) fn database_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let production = self.env == Environment::Production;
        match self.database.parse_uri() {
            Err(problem) => problems.push(problem),
            Ok(uri) if production && !matches!(uri, DatabaseUri::Mongo(_)) => {
                problems.push(format!(
                    "{} must point at a MongoDB deployment in production, not {:?}",
                    named("database.uri"),
                    if let DatabaseUri::Memory = uri {
                        "memory"
                    } else {
                        "embedded"
                    }
                ));
            }
            Ok(_) => {}
        }
        if self.database.name.is_empty() || self.database.name.contains(['/', '.', ' ', '$']) {
            problems.push(format!(
                "{} is not a valid database name",
                named("database.name")
            ));
        }
        if self.database.write_concern != "majority"
            && self.database.write_concern.parse::<u32>().is_err()
        {
            problems.push(format!(
                "{} must be \"majority\" or a number of nodes",
                named("database.write_concern")
            ));
        }

        problems
    }
}

impl Settings {
    /// The mail settings' problems, but their zero limits (checked with the others).
    fn mail_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let production = self.env == Environment::Production;
        match self.mail.mail_options().validate() {
            Err(err @ (MailConfigError::Url(_) | MailConfigError::UrlScheme(_))) => {
                problems.push(format!("{} is invalid: {err}", named("mail.smtp_url")));
            }
            Err(err @ MailConfigError::From(_)) => {
                problems.push(format!("{} is invalid: {err}", named("mail.from")));
            }
            _ => {}
        }
        if production && self.mail.smtp_url.expose_secret().trim().is_empty() {
            problems.push(format!(
                "{} is not set: production sends mail over SMTP, not to an outbox directory",
                named("mail.smtp_url")
            ));
        }
        let sender = self
            .mail
            .from
            .trim()
            .trim_end_matches('>')
            .to_ascii_lowercase();
        if production && sender.ends_with("@localhost") {
            problems.push(format!(
                "{} must be a sender address in a real domain in production, not @localhost",
                named("mail.from")
            ));
        }
        problems
    }
}

/// Marks of the example values this repository once published; a secret holding one is known
/// to the world and refused in every profile.
const PUBLISHED: [&str; 3] = ["dev-only", "test-only", "change-me"];

/// What is wrong with a signing secret, if anything.
fn secret_problem(secret: &SecretString, production: bool) -> Option<String> {
    let value = secret.expose_secret();
    let distinct = || {
        value
            .chars()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    let problem = if value.is_empty() {
        "is not set"
    } else if value.len() < MIN_SECRET_BYTES {
        return Some(format!("must be at least {MIN_SECRET_BYTES} bytes"));
    } else if PUBLISHED.iter().any(|mark| value.contains(mark)) {
        "is a published example value; generate one with `openssl rand -base64 48`"
    } else if production && distinct() < 12 {
        "is too predictable (too few distinct characters)"
    } else {
        return None;
    };
    Some(problem.to_owned())
}
