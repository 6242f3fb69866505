//! Middleware failures as the error contract. A middleware that fails returns `Err`, which
//! actix answers with that error's response: an empty `500` for the one that fails in practice,
//! the session middleware when its store cannot reach the database, which the contract says is
//! a `503`.

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    Error,
};

use crate::error::ApiError;

/// The error contract's answer to `err`, returned by a middleware, when it is a server error
/// (the session store cannot reach the database): the JSON `503 service_unavailable` with
/// `Retry-After`, its cause logged and never sent. `None` for any other error, which answers
/// as it is.
pub fn middleware_failure(err: &Error) -> Option<ApiError> {
    if !err.as_response_error().status_code().is_server_error() {
        return None;
    }
    // Logged once, with its cause, when the answer is rendered ([`ApiError::rendered`] does it
    // in the failing request's span).
    Some(ApiError::service_unavailable(format!(
        "middleware failed: {err}"
    )))
}

/// Passes the failure of every middleware inside it through [`middleware_failure`]: wrap it with
/// `actix_web::middleware::from_fn` outside the session middleware. actix renders the returned
/// error as the response, which carries the JSON body and the [`security_headers`]; the
/// middlewares outside this one see an error, not a response, so a CORS middleware adds nothing
/// to it (a cross-origin frontend sees a failed request rather than the `503`).
///
/// [`security_headers`]: crate::security_headers
///
/// # Errors
/// The mapped failure of any middleware inside it.
pub async fn middleware_errors_as_json<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    next.call(req)
        .await
        .map_err(|err| middleware_failure(&err).map_or(err, ApiError::rendered))
}

#[cfg(test)]
mod tests {
    use actix_web::error;

    use super::*;

    #[test]
    fn only_server_errors_become_the_503() {
        let store_down = error::ErrorInternalServerError("session store load failed");
        let mapped = middleware_failure(&store_down).map(|e| e.code());
        assert_eq!(mapped, Some("service_unavailable"));
        let refused = error::ErrorUnauthorized("no");
        assert!(middleware_failure(&refused).is_none());
    }
}
