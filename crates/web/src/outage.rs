//! Middleware failures as the error contract. A middleware that fails returns `Err`, which
//! actix answers with an empty `500`; the one that fails in practice is the session middleware
//! when its store cannot reach the database, which the contract says is a `503`.

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    Error,
};

use crate::error::ApiError;

/// `err`, returned by a middleware, as the JSON `503 service_unavailable` (with
/// `Retry-After`); the cause is logged, never sent.
pub fn middleware_failure(err: &Error) -> ApiError {
    tracing::error!(cause = %err, detail = ?err, "middleware failed");
    ApiError::service_unavailable(err.to_string())
}

/// Turns the failure of every middleware inside it into [`middleware_failure`]: wrap it with
/// `actix_web::middleware::from_fn` outside the session middleware. actix renders the
/// returned error as its JSON body; middlewares outside this one do not see a response (so
/// put it inside the others, or outermost as Altrion's request-id middleware is).
///
/// # Errors
/// The [`ApiError`] of any failure inside it.
pub async fn middleware_errors_as_json<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    next.call(req)
        .await
        .map_err(|err| middleware_failure(&err).into())
}
