//! Slow request bodies are cut off: a body not fully arrived within the configured time fails
//! its extractor with a timed-out payload error, which answers `408 request_timeout` and closes
//! the connection (see [`crate::error::json_error`]). Bounds how long a slow-body client holds
//! a connection and its buffers.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use actix_web::{
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    error::PayloadError,
    middleware::Next,
    web::Bytes,
    HttpMessage,
};
use futures_util::Stream;
use tokio::time::{sleep, Sleep};

/// The message of the I/O error a cut-off body fails with.
pub const TIMED_OUT: &str = "the request body did not arrive in time";

/// The request's payload, failing once `deadline` has passed before its end.
struct Deadline {
    inner: Payload,
    deadline: Pin<Box<Sleep>>,
    done: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            if item.is_none() {
                self.done = true;
            }
            return Poll::Ready(item);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.done = true;
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    TIMED_OUT,
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Middleware: the body must have arrived within `limit` of the request's head.
pub async fn cut_off_slow_bodies(
    limit: Duration,
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let inner = req.take_payload();
    let timed = Deadline {
        inner,
        deadline: Box::pin(sleep(limit)),
        done: false,
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(timed),
    });
    next.call(req).await
}

/// Whether `err` is a body cut off by [`cut_off_slow_bodies`].
pub fn is_timed_out(err: &PayloadError) -> bool {
    matches!(err, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}
