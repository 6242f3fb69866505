//! Prometheus metrics on a listener of their own (`METRICS_ADDR`, off when unset, so they are
//! never public by accident). The crates record through the `metrics` facade; this module
//! installs the Prometheus recorder once per process and serves `GET /metrics`.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `altrion_http_requests_total` | counter | `method`, `route` (the route pattern), `status` |
//! | `altrion_http_request_duration_seconds` | histogram | `method`, `route` |
//! | `altrion_signups_total` | counter | — |
//! | `altrion_logins_total` | counter | `outcome`: `success`, `invalid` (unknown email or wrong password), `locked` (account lockout) |
//! | `altrion_rate_limited_total` | counter | — (per-IP limiter refusals; by route in `altrion_http_requests_total{status="429"}`) |
//! | `altrion_sessions_created_total`, `altrion_sessions_deleted_total` | counter | — |
//! | `altrion_database_errors_total` | counter | `kind`: `unavailable`, `other` |
//! | `altrion_database_timeouts_total` | counter | — |
//! | `altrion_password_hash_queue_seconds` | histogram | — (wait for an argon2 slot) |

use std::{
    net::TcpListener,
    sync::{
        atomic::{AtomicBool, Ordering},
        OnceLock,
    },
};

use actix_web::{dev::Server, web, App, HttpResponse, HttpServer};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Seconds; from a cached `/me` to a slow argon2 queue.
const BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Whether this process serves metrics: without, requests skip building their labels.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// The process's recorder, installed on first use; `None` when another recorder was installed
/// first (an embedding application's own).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new().set_buckets(BUCKETS).ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    ENABLED.store(true, Ordering::Relaxed);
                    Some(handle)
                }
                Err(err) => {
                    tracing::warn!(error = %err, "metrics recorder not installed; /metrics is off");
                    None
                }
            }
        })
        .as_ref()
}

async fn scrape() -> HttpResponse {
    match handle() {
        Some(handle) => {
            handle.run_upkeep();
            HttpResponse::Ok()
                .content_type("text/plain; version=0.0.4")
                .body(handle.render())
        }
        None => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// Serves `GET /metrics` on `listener` with one worker.
///
/// # Errors
/// The I/O error of taking over the listener.
pub fn serve(listener: TcpListener) -> std::io::Result<Server> {
    Ok(
        HttpServer::new(|| App::new().route("/metrics", web::get().to(scrape)))
            .workers(1)
            .disable_signals()
            .listen(listener)?
            .run(),
    )
}

/// Records one answered request, when metrics are served (`route` is only computed then).
pub fn request(method: &str, route: impl FnOnce() -> String, status: u16, seconds: f64) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let route = route();
    metrics::counter!(
        "altrion_http_requests_total",
        "method" => method.to_owned(),
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        "altrion_http_request_duration_seconds",
        "method" => method.to_owned(),
        "route" => route
    )
    .record(seconds);
}
