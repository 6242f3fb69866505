//! What the queue is built from, and why it may refuse to start.

use std::{fmt, path::PathBuf, time::Duration};

use lettre::message::Mailbox;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// How mail travels: over SMTP when `smtp_url` is set, else as `.eml` files in `outbox_dir`.
#[derive(Clone)]
pub struct MailOptions {
    /// `smtp://host:port` (plain, as local catchers speak it), `smtp://…?tls=required`
    /// (STARTTLS) or `smtps://…` (implicit TLS); may carry `user:pass@`. A path names the
    /// EHLO host (`smtp://relay:587/app.example.com`).
    pub smtp_url: Option<SecretString>,
    /// Used when the URL carries no credentials.
    pub username: Option<SecretString>,
    pub password: Option<SecretString>,
    /// The sender, such as `Altrion <no-reply@example.com>`.
    pub from: String,
    /// Where messages go without `smtp_url`; created (mode 0700) if missing.
    pub outbox_dir: PathBuf,
    /// Deadline of one SMTP attempt, connection included.
    pub timeout: Duration,
    /// Messages waiting for delivery; beyond it `send` answers `QueueFull`.
    pub queue_capacity: usize,
    /// Attempts per message, the first included; only transient failures are retried.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled before each further one.
    pub retry_backoff: Duration,
}

impl MailOptions {
    /// Outbox delivery from `from`, with the default limits (10 s, 1000 queued, 3 attempts).
    pub fn new(from: impl Into<String>, outbox_dir: impl Into<PathBuf>) -> Self {
        Self {
            smtp_url: None,
            username: None,
            password: None,
            from: from.into(),
            outbox_dir: outbox_dir.into(),
            timeout: Duration::from_secs(10),
            queue_capacity: 1000,
            max_attempts: 3,
            retry_backoff: Duration::from_secs(1),
        }
    }

    /// Checks everything but the outbox directory, which [`crate::MailQueue::start`] creates.
    ///
    /// # Errors
    /// The first problem found, as a [`MailConfigError`].
    pub fn validate(&self) -> Result<(), MailConfigError> {
        if let Some(url) = &self.smtp_url {
            smtp_url(url)?;
        }
        self.mailbox()?;
        if self.queue_capacity == 0 {
            return Err(MailConfigError::ZeroCapacity);
        }
        if self.max_attempts == 0 {
            return Err(MailConfigError::ZeroAttempts);
        }
        Ok(())
    }

    pub(crate) fn mailbox(&self) -> Result<Mailbox, MailConfigError> {
        self.from
            .parse()
            .map_err(|err: lettre::address::AddressError| MailConfigError::From(err.to_string()))
    }
}

/// Parses and checks an SMTP URL. Errors never quote it: it may carry a password.
pub(crate) fn smtp_url(url: &SecretString) -> Result<Url, MailConfigError> {
    let url =
        Url::parse(url.expose_secret()).map_err(|err| MailConfigError::Url(err.to_string()))?;
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Err(MailConfigError::UrlScheme(url.scheme().to_owned()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(MailConfigError::Url("no host".into()));
    }
    let tls = url.query_pairs().find(|(key, _)| key == "tls");
    if url.scheme() == "smtp"
        && tls.is_some_and(|(_, value)| !matches!(&*value, "required" | "opportunistic"))
    {
        return Err(MailConfigError::Url(
            "tls= must be required or opportunistic".into(),
        ));
    }
    Ok(url)
}

/// `scheme://host:port` of an SMTP URL, without credentials, path or query.
pub(crate) fn endpoint(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

impl fmt::Debug for MailOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |set: &Option<SecretString>| set.as_ref().map(|_| "<redacted>");
        let smtp = self.smtp_url.as_ref().map(|url| match smtp_url(url) {
            Ok(url) => endpoint(&url),
            Err(_) => "<invalid>".to_owned(),
        });
        f.debug_struct("MailOptions")
            .field("smtp_url", &smtp)
            .field("username", &redacted(&self.username))
            .field("password", &redacted(&self.password))
            .field("from", &self.from)
            .field("outbox_dir", &self.outbox_dir)
            .field("timeout", &self.timeout)
            .field("queue_capacity", &self.queue_capacity)
            .field("max_attempts", &self.max_attempts)
            .field("retry_backoff", &self.retry_backoff)
            .finish()
    }
}

/// Why the mail queue cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailConfigError {
    #[error("the SMTP URL is not a URL: {0}")]
    Url(String),
    #[error("the SMTP URL must start with smtp:// or smtps://, not {0}://")]
    UrlScheme(String),
    /// lettre refused the URL (for example an unknown `tls=` value).
    #[error("the SMTP URL cannot be used: {0}")]
    Transport(String),
    #[error("the sender is not a mailbox such as `Altrion <no-reply@example.com>`: {0}")]
    From(String),
    #[error("the mail queue capacity must be greater than 0")]
    ZeroCapacity,
    #[error("the number of delivery attempts must be greater than 0")]
    ZeroAttempts,
    #[error("the outbox directory {dir} is not writable: {reason}")]
    Outbox { dir: PathBuf, reason: String },
    #[error("the mail queue must be started inside a Tokio runtime")]
    NoRuntime,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn with_url(url: &str) -> MailOptions {
        let mut options = MailOptions::new("Altrion <no-reply@example.com>", "var/outbox");
        options.smtp_url = Some(url.into());
        options
    }

    #[test]
    fn debug_shows_the_endpoint_but_no_credentials() {
        let mut options = with_url("smtps://mailer:hunter2hunter2@mail.example.com:465/ehlo?tls=x");
        options.username = Some("separate-user".into());
        options.password = Some("separate-password".into());
        let debug = format!("{options:?}");
        assert!(debug.contains("smtps://mail.example.com:465"), "{debug}");
        for secret in [
            "mailer",
            "hunter2hunter2",
            "separate-user",
            "separate-password",
        ] {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
    }

    #[test]
    fn debug_of_an_unparsable_url_quotes_nothing_of_it() {
        let debug = format!("{:?}", with_url("smtp://user:p%ss w0rd@[bad"));
        assert!(
            debug.contains("<invalid>") && !debug.contains("w0rd"),
            "{debug}"
        );
    }

    #[test]
    fn only_smtp_and_smtps_urls_are_accepted() {
        for good in [
            "smtp://127.0.0.1:1025",
            "smtp://relay.example.com:587?tls=required",
            "smtps://user:pass@mail.example.com",
        ] {
            assert_eq!(with_url(good).validate(), Ok(()), "{good}");
        }
        assert_eq!(
            with_url("https://mail.example.com").validate(),
            Err(MailConfigError::UrlScheme("https".into()))
        );
        for bad in ["not a url", "smtp://mail.example.com?tls=sometimes"] {
            assert!(
                matches!(with_url(bad).validate(), Err(MailConfigError::Url(_))),
                "{bad}"
            );
        }
        let refused = with_url("smtp://user:hunter2@").validate().unwrap_err();
        assert!(!refused.to_string().contains("hunter2"), "{refused}");
    }

    #[test]
    fn the_sender_and_the_limits_are_checked() {
        let mut options = MailOptions::new("not a mailbox", "var/outbox");
        assert!(matches!(options.validate(), Err(MailConfigError::From(_))));
        options.from = "Altrion <no-reply@example.com>".into();
        options.queue_capacity = 0;
        assert_eq!(options.validate(), Err(MailConfigError::ZeroCapacity));
        options.queue_capacity = 1;
        options.max_attempts = 0;
        assert_eq!(options.validate(), Err(MailConfigError::ZeroAttempts));
    }
}
