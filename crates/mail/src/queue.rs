//! The bounded queue in front of the delivery task, and its graceful shutdown.

use futures_util::FutureExt as _;
use std::{
    fmt,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use altrion_domain::{MailError, Mailer, OutgoingMail};
use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use crate::{
    deliver::{Delivery, Outcome},
    options::{MailConfigError, MailOptions},
};

/// The [`Mailer`] the application holds: `send` queues the message and returns at once.
#[derive(Clone)]
pub struct MailQueue {
    sender: mpsc::Sender<OutgoingMail>,
    counts: Arc<Counts>,
}

/// The delivery task; [`MailWorker::shutdown`] drains it.
pub struct MailWorker {
    task: tokio::task::JoinHandle<()>,
    stop: oneshot::Sender<()>,
    counts: Arc<Counts>,
}

/// What the queue did over its life, as [`MailWorker::shutdown`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MailReport {
    /// Messages the server (or the outbox) accepted.
    pub sent: u64,
    /// Messages given up on: permanent refusal, or attempts exhausted.
    pub failed: u64,
    /// Messages `send` refused (queue full or closed).
    pub dropped: u64,
    /// Messages still queued or in delivery when the shutdown deadline passed.
    pub abandoned: u64,
}

#[derive(Default)]
struct Counts {
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    /// Accepted by `send`, not yet sent or failed.
    pending: AtomicUsize,
}

impl MailQueue {
    /// Checks `options`, prepares the transport and spawns the delivery task.
    ///
    /// # Errors
    /// A [`MailConfigError`] for a bad URL, sender or limit, an unwritable outbox, or when
    /// called outside a Tokio runtime.
    pub fn start(options: MailOptions) -> Result<(Self, MailWorker), MailConfigError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| MailConfigError::NoRuntime)?;
        let delivery = Delivery::new(&options)?;
        let (sender, receiver) = mpsc::channel(options.queue_capacity);
        let (stop, stopped) = oneshot::channel();
        let counts = Arc::new(Counts::default());
        let task = runtime.spawn(run(delivery, receiver, stopped, Arc::clone(&counts)));
        let worker = MailWorker {
            task,
            stop,
            counts: Arc::clone(&counts),
        };
        Ok((Self { sender, counts }, worker))
    }

    fn dropped(&self, reason: &'static str, error: MailError) -> MailError {
        self.counts.pending.fetch_sub(1, Ordering::Relaxed);
        self.counts.dropped.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("altrion_mail_dropped_total", "reason" => reason).increment(1);
        tracing::warn!(reason, "mail dropped");
        error
    }
}

#[async_trait]
impl Mailer for MailQueue {
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        self.counts.pending.fetch_add(1, Ordering::Relaxed);
        match self.sender.try_send(mail) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                Err(self.dropped("queue_full", MailError::QueueFull))
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                Err(self.dropped("closed", MailError::Closed))
            }
        }
    }
}

impl fmt::Debug for MailQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailQueue")
            .field("capacity", &self.sender.max_capacity())
            .field("pending", &self.counts.pending.load(Ordering::Relaxed))
            .finish()
    }
}

impl MailWorker {
    /// Stops accepting mail (`send` answers `Closed`), delivers what is queued, and gives up on
    /// the rest once `deadline` has passed.
    pub async fn shutdown(mut self, deadline: Duration) -> MailReport {
        // The task may already be gone; then there is nothing left to stop.
        let _ = self.stop.send(());
        let abandoned = match tokio::time::timeout(deadline, &mut self.task).await {
            Ok(_) => 0,
            Err(_) => {
                self.task.abort();
                let left = self.counts.pending.load(Ordering::Relaxed) as u64;
                metrics::counter!("altrion_mail_dropped_total", "reason" => "shutdown")
                    .increment(left);
                tracing::warn!(
                    abandoned = left,
                    "mail delivery stopped at the shutdown deadline"
                );
                left
            }
        };
        MailReport {
            sent: self.counts.sent.load(Ordering::Relaxed),
            failed: self.counts.failed.load(Ordering::Relaxed),
            dropped: self.counts.dropped.load(Ordering::Relaxed),
            abandoned,
        }
    }
}

impl fmt::Debug for MailWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailWorker")
            .field("finished", &self.task.is_finished())
            .finish()
    }
}

/// Delivers one message at a time until stopped and drained (or until every queue is dropped).
async fn run(
    delivery: Delivery,
    mut receiver: mpsc::Receiver<OutgoingMail>,
    mut stopped: oneshot::Receiver<()>,
    counts: Arc<Counts>,
) {
    // A worker dropped without `shutdown` leaves the task serving the queues still held.
    let mut stopping = false;
    loop {
        let mail = tokio::select! {
            mail = receiver.recv() => mail,
            signal = &mut stopped, if !stopping => {
                stopping = true;
                if signal.is_ok() {
                    // Refuses new mail; `recv` still yields what is queued, then `None`.
                    receiver.close();
                }
                continue;
            }
        };
        let Some(mail) = mail else { break };
        // A panic while delivering one message (a bug in a transport) fails that message, not
        // the queue: every later message would otherwise be refused as `Closed`.
        let outcome = std::panic::AssertUnwindSafe(delivery.deliver(mail))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| {
                tracing::error!("mail not sent: delivery panicked");
                Outcome::Failed
            });
        match outcome {
            Outcome::Sent => {
                counts.sent.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("altrion_mail_sent_total").increment(1);
            }
            Outcome::Failed => {
                counts.failed.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("altrion_mail_failed_total").increment(1);
            }
        }
        counts.pending.fetch_sub(1, Ordering::Relaxed);
    }
}
