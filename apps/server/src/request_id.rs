//! Gives every request an id (the caller's `x-request-id` when it is sane, else a new UUID),
//! runs the request inside a tracing span carrying it and the client's address (as the per-IP
//! limiter sees it, so every security event names it), echoes the id on the response, and logs
//! one line per request.

use std::time::Instant;

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::HeaderValue,
    middleware::Next,
    Error,
};
use tracing::Instrument;

use altrion_web::ClientIp;

use altrion_web::REQUEST_ID_HEADER;

/// Accepts a caller-supplied id only if it is short and harmless in logs and headers.
fn sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The middleware function; wrap it with `actix_web::middleware::from_fn`.
///
/// # Errors
/// An inner middleware's failure, as a JSON `503 service_unavailable` carrying the id.
pub async fn request_id<B: MessageBody + 'static>(
    client: ClientIp,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path(),
        client_ip = %client.of(&req),
    );
    let started = Instant::now();

    let mut response = match next.call(req).instrument(span.clone()).await {
        Ok(response) => response,
        // Handlers turn their errors into responses, so `Err` here comes from a middleware:
        // in practice the session store failing to reach the database. actix would answer an
        // empty 500; answer the JSON 503 instead (the cause is logged, never sent).
        Err(err) => {
            return Err(
                match span.in_scope(|| altrion_web::middleware_failure(&err)) {
                    Some(failure) => failure.with_request_id(id).into(),
                    None => err,
                },
            );
        }
    };
    crate::metrics::request(
        response.request().method().as_str(),
        || {
            response
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned())
        },
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request completed"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::sane;

    #[test]
    fn only_short_plain_ids_are_accepted() {
        assert!(sane("abc-123_x.y"));
        assert!(sane(&"a".repeat(64)));
        assert!(!sane(&"a".repeat(65)));
        assert!(!sane(""));
        assert!(!sane("evil\r\nheader"));
        assert!(!sane("with space"));
    }
}
