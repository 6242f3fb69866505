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
        // empty 500; answer the JSON 503 instead, rendered (and its cause logged, never sent)
        // inside the request's span.
        Err(err) => {
            return Err(match altrion_web::middleware_failure(&err) {
                Some(failure) => span.in_scope(|| failure.with_request_id(id).rendered()),
                None => err,
            });
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
    use std::sync::{Arc, Mutex};

    use actix_web::{error, middleware::from_fn, test as actix_test, web, App, HttpResponse};
    use altrion_web::ClientIp;

    use super::{request_id, sane};

    /// A middleware's failure (the session store down) is logged inside the request's span, so
    /// the line names the request, and it answers the JSON 503 with the request's id.
    #[actix_web::test]
    async fn a_middleware_failure_is_logged_in_the_request_span() {
        let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Writer(writer.clone()))
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = actix_test::init_service(
            App::new()
                .wrap(from_fn(store_down))
                .wrap(from_fn(|req, next| {
                    request_id(ClientIp::default(), req, next)
                }))
                .route("/x", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let req = actix_test::TestRequest::get()
            .uri("/x")
            .insert_header(("x-request-id", "rid-42"))
            .to_request();
        let err = actix_test::try_call_service(&app, req)
            .await
            .expect_err("the inner middleware fails");
        let response = err.error_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers().get("x-request-id").unwrap(), "rid-42");

        let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
        let line = logs
            .lines()
            .find(|l| l.contains("request failed"))
            .unwrap_or_else(|| panic!("no failure logged: {logs}"));
        assert!(line.contains("request_id=rid-42"), "{line}");
        assert!(line.contains("path=/x"), "{line}");
        assert!(line.contains("session store load failed"), "{line}");
    }

    /// The session middleware when its store cannot reach the database.
    async fn store_down<B: actix_web::body::MessageBody>(
        _req: actix_web::dev::ServiceRequest,
        _next: actix_web::middleware::Next<B>,
    ) -> Result<actix_web::dev::ServiceResponse<B>, actix_web::Error> {
        Err(error::ErrorInternalServerError("session store load failed"))
    }

    struct Writer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

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
