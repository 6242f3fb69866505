//! Altrion's outbound mail: the domain [`Mailer`](altrion_domain::Mailer) port over a bounded
//! queue and one delivery task using `lettre`.
//!
//! - [`MailQueue`] is the `Mailer` the app holds: `send` queues the message and returns at once
//!   (`QueueFull` when the server is too slow to keep up), so no request waits for SMTP.
//! - The delivery task sends over `smtp://` / `smtps://` with a per-attempt timeout and retries
//!   transient failures with exponential back-off; without an SMTP URL it writes `.eml` files
//!   to an outbox directory (development). Bodies carry single-use links: never logged.
//! - [`MailWorker::shutdown`] drains the queue within a deadline.
//! - `testing::CapturingMailer` (feature `testing`) records messages for other crates' tests.
//!
//! Using it from your own service (`AuthService::builder(..).mail(..)`): `docs/library.md` in
//! the repository.
//!
//! This crate knows the domain port and lettre only: it must not depend on actix, `mongodb`,
//! `bson`, or the storage, auth, session and server crates.
//!
//! ```
//! use std::time::Duration;
//!
//! use altrion_domain::{Email, Mailer as _, OutgoingMail};
//! use altrion_mail::{MailOptions, MailQueue};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let outbox = std::env::temp_dir().join(format!("altrion-mail-doctest-{}", std::process::id()));
//! let mut options = MailOptions::new("Altrion <no-reply@example.com>", &outbox);
//! // Some("smtp://127.0.0.1:1025") delivers to a local catcher; `None` writes the outbox.
//! options.smtp_url = None;
//! let (mailer, worker) = MailQueue::start(options)?;
//!
//! mailer
//!     .send(OutgoingMail {
//!         to: Email::parse("ada@example.com")?,
//!         subject: "Verify your email".into(),
//!         text: "https://app.example.com/verify?token=…".into(),
//!     })
//!     .await?;
//!
//! let report = worker.shutdown(Duration::from_secs(10)).await;
//! assert_eq!((report.sent, report.abandoned), (1, 0));
//! # std::fs::remove_dir_all(&outbox)?;
//! # Ok(())
//! # }
//! ```

mod deliver;
mod options;
mod queue;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use options::{MailConfigError, MailOptions};
pub use queue::{MailQueue, MailReport, MailWorker};
