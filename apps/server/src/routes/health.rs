//! Liveness and readiness probes.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::json;

use altrion_domain::Readiness;
use altrion_web::{ApiError, ErrorResponse};

/// How long readiness waits for the database before reporting it down.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /api/health`: the process is up. Touches nothing else, so it stays cheap under load.
#[utoipa::path(
    get, path = "/api/health", tag = "probes",
    responses((status = 200, description = "`{\"status\":\"ok\"}`"))
)]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /api/ready`: the database answers a ping and every start-up migration has succeeded.
#[utoipa::path(
    get, path = "/api/ready", tag = "probes",
    responses(
        (status = 200, description = "`{\"status\":\"ready\"}`"),
        (status = 503, description = "`service_unavailable`: the database did not answer within 2 s, or the unique indexes are not in place yet (the message says which)", body = ErrorResponse),
    )
)]
pub async fn ready(readiness: web::Data<dyn Readiness>) -> Result<HttpResponse, ApiError> {
    match tokio::time::timeout(READY_TIMEOUT, readiness.ping()).await {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(json!({ "status": "ready" }))),
        Ok(Err(err)) => Err(ApiError::service_unavailable(err)),
        Err(elapsed) => Err(ApiError::service_unavailable(elapsed)),
    }
}
