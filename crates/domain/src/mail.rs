//! The outbound mail port: what the use cases hand over, never how it travels.

use std::fmt;

use async_trait::async_trait;

use crate::Email;

/// A plain-text message to one recipient. Its body may carry a single-use link, so `Debug`
/// shows only the recipient and subject.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: Email,
    pub subject: String,
    /// UTF-8 plain text.
    pub text: String,
}

impl fmt::Debug for OutgoingMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingMail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("text", &"<redacted>")
            .finish()
    }
}

/// Why a message was not accepted for delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The delivery queue is full (the mail server is slow or down); the message is dropped.
    #[error("mail queue full")]
    QueueFull,
    /// The delivery worker has stopped (the process is shutting down).
    #[error("mail delivery stopped")]
    Closed,
}

/// Hands messages over for delivery.
///
/// `send` returns as soon as the message is accepted — queued, or written to a local outbox —
/// and never waits for a mail server: a slow or unreachable server must not hold up the request
/// that asked for the mail. Delivery failures after acceptance are the implementation's to log
/// and retry.
#[async_trait]
pub trait Mailer: Send + Sync + fmt::Debug {
    /// Accepts `mail` for delivery.
    ///
    /// # Errors
    /// [`MailError::QueueFull`] or [`MailError::Closed`]; the message is not sent then.
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError>;
}
