//! One message's way out: building it, then sending it with retries, or writing it to the outbox.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use altrion_domain::OutgoingMail;
use lettre::{
    message::{
        header::{ContentTransferEncoding, ContentType},
        Body, Mailbox,
    },
    transport::smtp::{self, authentication::Credentials},
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
};
use secrecy::ExposeSecret as _;

use crate::options::{endpoint, smtp_url, MailConfigError, MailOptions};

/// The longest wait between two attempts, however many there are.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

enum Transport {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// `scheme://host:port`, for logs.
        endpoint: String,
    },
    Outbox {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
}

/// Builds and delivers messages; owned by the delivery task.
pub(crate) struct Delivery {
    transport: Transport,
    from: Mailbox,
    timeout: Duration,
    max_attempts: u32,
    retry_backoff: Duration,
}

/// How one message ended.
pub(crate) enum Outcome {
    Sent,
    Failed,
}

enum AttemptError {
    Smtp(smtp::Error),
    Outbox(lettre::transport::file::Error),
    TimedOut,
}

impl AttemptError {
    /// 4xx replies, timeouts and connection failures may pass; 5xx, TLS and local errors will not.
    fn is_transient(&self) -> bool {
        match self {
            Self::TimedOut => true,
            Self::Outbox(_) => false,
            Self::Smtp(err) => {
                err.is_transient()
                    || err.is_timeout()
                    || !(err.is_permanent() || err.is_response() || err.is_client() || err.is_tls())
            }
        }
    }
}

impl std::fmt::Display for AttemptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp(err) => err.fmt(f),
            Self::Outbox(err) => err.fmt(f),
            Self::TimedOut => f.write_str("no answer within the SMTP timeout"),
        }
    }
}

impl Delivery {
    /// Checks `options` and builds the transport; creates the outbox directory when used.
    pub(crate) fn new(options: &MailOptions) -> Result<Self, MailConfigError> {
        options.validate()?;
        let transport = match &options.smtp_url {
            Some(url) => {
                let parsed = smtp_url(url)?;
                let mut builder =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                        .map_err(|err| MailConfigError::Transport(err.to_string()))?
                        .timeout(Some(options.timeout));
                if let (true, Some(user), Some(password)) = (
                    parsed.username().is_empty(),
                    &options.username,
                    &options.password,
                ) {
                    builder = builder.credentials(Credentials::new(
                        user.expose_secret().to_owned(),
                        password.expose_secret().to_owned(),
                    ));
                }
                Transport::Smtp {
                    transport: builder.build(),
                    endpoint: endpoint(&parsed),
                }
            }
            None => {
                prepare_outbox(&options.outbox_dir)?;
                Transport::Outbox {
                    transport: AsyncFileTransport::new(&options.outbox_dir),
                    dir: options.outbox_dir.clone(),
                }
            }
        };
        Ok(Self {
            transport,
            from: options.mailbox()?,
            timeout: options.timeout,
            max_attempts: options.max_attempts,
            retry_backoff: options.retry_backoff,
        })
    }

    /// Delivers `mail`, retrying transient failures; logs the outcome, never the body.
    pub(crate) async fn deliver(&self, mail: OutgoingMail) -> Outcome {
        let recipient_domain = mail
            .to
            .as_str()
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_owned();
        let message = match self.build(mail) {
            Ok(message) => message,
            Err(err) => {
                tracing::error!(%recipient_domain, error = %err, "mail not sent: cannot build the message");
                return Outcome::Failed;
            }
        };
        let raw = message.formatted();
        let mut backoff = self.retry_backoff;
        let mut attempt = 1;
        loop {
            let err = match self.attempt(message.envelope(), &raw).await {
                Ok(()) => return Outcome::Sent,
                Err(err) => err,
            };
            if !err.is_transient() || attempt >= self.max_attempts {
                tracing::error!(
                    %recipient_domain,
                    server = %self.server(),
                    attempts = attempt,
                    error = %err,
                    "mail not delivered"
                );
                return Outcome::Failed;
            }
            tracing::warn!(
                %recipient_domain,
                server = %self.server(),
                attempt,
                retry_in_ms = backoff.as_millis(),
                error = %err,
                "mail delivery failed; retrying"
            );
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        envelope: &lettre::address::Envelope,
        raw: &[u8],
    ) -> Result<(), AttemptError> {
        match &self.transport {
            Transport::Smtp { transport, .. } => {
                match tokio::time::timeout(self.timeout, transport.send_raw(envelope, raw)).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(err)) => Err(AttemptError::Smtp(err)),
                    Err(_) => Err(AttemptError::TimedOut),
                }
            }
            Transport::Outbox { transport, dir } => {
                let id = transport
                    .send_raw(envelope, raw)
                    .await
                    .map_err(AttemptError::Outbox)?;
                let file = dir.join(format!("{id}.eml"));
                tracing::info!(file = %file.display(), "mail written to the outbox");
                Ok(())
            }
        }
    }

    fn build(&self, mail: OutgoingMail) -> Result<Message, String> {
        let to: Mailbox = mail.to.as_str().parse().map_err(|err| format!("{err}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .date_now()
            .message_id(Some(message_id(self.from.email.domain())))
            .header(ContentType::TEXT_PLAIN)
            .body(text_body(mail.text))
            .map_err(|err| err.to_string())
    }

    fn server(&self) -> String {
        match &self.transport {
            Transport::Smtp { endpoint, .. } => endpoint.clone(),
            Transport::Outbox { dir, .. } => format!("outbox {}", dir.display()),
        }
    }
}

/// A Message-ID in the sender's domain, unique to this process and moment.
fn message_id(domain: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("<{nanos:x}.{:x}.{n:x}@{domain}>", std::process::id())
}

/// The longest line RFC 5322 allows, line end excluded.
const MAX_LINE_BYTES: usize = 998;

/// The text as 7-bit ASCII or 8-bit UTF-8 with CRLF line ends, so the body reads as written — links unbroken —
/// in an `.eml` file and on the wire. lettre would choose quoted-printable for any line over 76
/// characters (every mailed link is longer), which turns `token=` into `token=3D` and wraps the
/// link. Text that 8bit cannot carry (a line over 998 bytes, NUL, a bare CR) gets lettre's own
/// choice instead.
fn text_body(text: String) -> Body {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let fits = crlf
        .split("\r\n")
        .all(|line| line.len() <= MAX_LINE_BYTES && !line.contains(['\r', '\0']));
    if fits {
        // 7bit when it is ASCII (every SMTP server takes it), 8bit (8BITMIME) only otherwise.
        let encoding = if crlf.is_ascii() {
            ContentTransferEncoding::SevenBit
        } else {
            ContentTransferEncoding::EightBit
        };
        Body::dangerous_pre_encoded(crlf.into_bytes(), encoding)
    } else {
        Body::new(text)
    }
}

/// Creates `dir` (mode 0700 on unix) if missing and proves it writable.
fn prepare_outbox(dir: &std::path::Path) -> Result<(), MailConfigError> {
    let fail = |err: std::io::Error| MailConfigError::Outbox {
        dir: dir.to_path_buf(),
        reason: err.to_string(),
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(fail)?;
    // Unique per call: queues started concurrently in one process must not share a probe.
    static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let probe = dir.join(format!(".altrion-write-test-{}-{n}", std::process::id()));
    std::fs::write(&probe, b"").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)
}

#[cfg(test)]
mod body_tests {
    use super::*;

    /// What the mailed links look like: a non-ASCII name and a ~500-character link line.
    #[test]
    fn long_link_lines_travel_as_written_in_8bit() {
        let link = format!(
            "http://localhost:8080/reset-password?token={}",
            "e".repeat(450)
        );
        let body = text_body(format!("Hello Zoë,\n\n{link}\n"));
        assert_eq!(body.encoding(), ContentTransferEncoding::EightBit);
        let raw = String::from_utf8(body.into_vec()).unwrap_or_default();
        assert_eq!(raw, format!("Hello Zoë,\r\n\r\n{link}\r\n"));
    }

    #[test]
    fn what_8bit_cannot_carry_gets_an_encoding() {
        for text in [
            "x".repeat(MAX_LINE_BYTES + 1),
            "a\rb".to_owned(),
            "a\0b".to_owned(),
        ] {
            let body = text_body(text.clone());
            assert_ne!(
                body.encoding(),
                ContentTransferEncoding::EightBit,
                "{text:?}"
            );
        }
        assert_eq!(
            text_body("x".repeat(MAX_LINE_BYTES)).encoding(),
            ContentTransferEncoding::SevenBit,
            "ASCII goes as 7bit"
        );
    }
}
