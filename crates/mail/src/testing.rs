//! Test doubles for the crates whose use cases send mail (feature `testing`).

use std::sync::{Arc, Mutex, PoisonError};

use altrion_domain::{MailError, Mailer, OutgoingMail};
use async_trait::async_trait;
use tokio::sync::Notify;

/// Records every message it is handed, or refuses them all with the error set by
/// [`CapturingMailer::fail_with`]. Clones share the record.
#[derive(Debug, Clone, Default)]
pub struct CapturingMailer {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    state: Mutex<State>,
    arrived: Notify,
}

#[derive(Debug, Default)]
struct State {
    sent: Vec<OutgoingMail>,
    /// How many of `sent` [`CapturingMailer::next`] has handed out.
    taken: usize,
    failure: Option<MailError>,
}

impl CapturingMailer {
    pub fn new() -> Self {
        Self::default()
    }

    /// A mailer that refuses every message with `error`, as a full or stopped queue does.
    pub fn failing(error: MailError) -> Self {
        let mailer = Self::new();
        mailer.fail_with(error);
        mailer
    }

    /// Refuses every later message with `error`.
    pub fn fail_with(&self, error: MailError) {
        self.state().failure = Some(error);
    }

    /// Accepts messages again after [`CapturingMailer::fail_with`].
    pub fn clear_failure(&self) {
        self.state().failure = None;
    }

    /// Every message accepted so far, oldest first.
    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.state().sent.clone()
    }

    /// The oldest accepted message `next` has not returned yet, waiting for one if need be.
    pub async fn next(&self) -> OutgoingMail {
        loop {
            let arrived = self.inner.arrived.notified();
            {
                let mut state = self.state();
                if let Some(mail) = state.sent.get(state.taken).cloned() {
                    state.taken += 1;
                    return mail;
                }
            }
            arrived.await;
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A test that panicked while holding the lock leaves a record still worth reading.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Mailer for CapturingMailer {
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        {
            let mut state = self.state();
            if let Some(error) = &state.failure {
                return Err(error.clone());
            }
            state.sent.push(mail);
        }
        self.inner.arrived.notify_waiters();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use altrion_domain::Email;

    use super::*;

    fn mail(subject: &str) -> OutgoingMail {
        OutgoingMail {
            to: Email::parse("ada@example.com").unwrap(),
            subject: subject.into(),
            text: "body".into(),
        }
    }

    #[tokio::test]
    async fn next_waits_for_a_message_sent_later_and_returns_each_once() {
        let mailer = CapturingMailer::new();
        let waiting = tokio::spawn({
            let mailer = mailer.clone();
            async move { (mailer.next().await, mailer.next().await) }
        });
        // Let the task run until it waits for the first message (one thread: it runs now).
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "next() waits while nothing was sent"
        );
        mailer.send(mail("first")).await.unwrap();
        mailer.send(mail("second")).await.unwrap();
        let (first, second) = waiting.await.unwrap();
        assert_eq!(
            (first.subject.as_str(), second.subject.as_str()),
            ("first", "second")
        );
        assert_eq!(mailer.sent(), vec![mail("first"), mail("second")]);
    }

    #[tokio::test]
    async fn a_failing_mailer_refuses_and_records_nothing_until_cleared() {
        let mailer = CapturingMailer::failing(MailError::QueueFull);
        assert_eq!(
            mailer.send(mail("dropped")).await,
            Err(MailError::QueueFull)
        );
        mailer.fail_with(MailError::Closed);
        assert_eq!(mailer.send(mail("dropped")).await, Err(MailError::Closed));
        assert!(mailer.sent().is_empty());
        mailer.clear_failure();
        mailer.send(mail("kept")).await.unwrap();
        assert_eq!(mailer.next().await.subject, "kept");
    }
}
