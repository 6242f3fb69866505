//! Self-service: the sessions a user is signed in with, changing the password, deleting the
//! account.

use actix_web::{web, HttpRequest, HttpResponse};
use altrion_session::AuthSession;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use altrion_auth::AuthService;

use crate::{ApiError, Authenticated, ErrorCode, ErrorResponse, TokenBody};

/// One signed-in session (browser) of the caller.
#[derive(Serialize, ToSchema)]
pub struct SessionBody {
    /// An opaque handle for `DELETE /api/auth/sessions/{id}`; useless as a cookie.
    id: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: time::OffsetDateTime,
    /// When the session was last used (refreshed at most once per lazy-touch window).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    last_seen_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: time::OffsetDateTime,
    /// As the browser sent it at sign-in, at most 256 bytes.
    user_agent: Option<String>,
    /// The client address at sign-in.
    ip: Option<String>,
    /// This request's own session.
    current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionsBody {
    sessions: Vec<SessionBody>,
}

/// `GET /api/auth/sessions`: where the caller is signed in (server-side sessions, newest first).
#[utoipa::path(
    get, path = "/api/auth/sessions", tag = "self-service",
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "The caller's live sessions", body = SessionsBody),
        (status = 401, description = "`unauthorized`", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn sessions(
    auth: web::Data<AuthService>,
    caller: Authenticated,
    session: AuthSession,
) -> Result<HttpResponse, ApiError> {
    let records = auth.sessions_of(&caller.user.id).await?;
    let mine = session.public_id();
    let sessions = records
        .iter()
        .filter_map(|record| {
            let id = record.public_id()?.to_owned();
            Some(SessionBody {
                current: mine.as_deref() == Some(id.as_str()),
                id,
                created_at: record.created_at,
                last_seen_at: record.last_modified,
                expires_at: record.expires,
                user_agent: record.user_agent().map(str::to_owned),
                ip: record.ip().map(str::to_owned),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(SessionsBody { sessions }))
}

/// `DELETE /api/auth/sessions/{id}`: ends one of the caller's sessions; its cookie signs no one
/// in from the next request on.
#[utoipa::path(
    delete, path = "/api/auth/sessions/{id}", tag = "self-service",
    params(("id" = String, Path, description = "The `id` listed by `GET /api/auth/sessions`")),
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 204, description = "The session is gone"),
        (status = 401, description = "`unauthorized`", body = ErrorResponse),
        (status = 403, description = "`forbidden_origin`", body = ErrorResponse),
        (status = 404, description = "`not_found`: no such session of the caller (another user's id answers the same)", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn revoke_session(
    auth: web::Data<AuthService>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !auth.revoke_session(&caller.user.id, &id).await? {
        return Err(ApiError::from(ErrorCode::NotFound));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/auth/password` input.
#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    /// Required when the account has a password. An account without one (OAuth only) may set
    /// one within 10 minutes of signing in.
    current_password: Option<String>,
    /// 8..=128 characters, not the email, not easily guessed.
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
}

/// `POST /api/auth/password`: changes (or sets) the password. Every other JWT and session
/// ends; a session-cookie caller stays signed in under a new session id. Answers a new token.
#[utoipa::path(
    post, path = "/api/auth/password", tag = "self-service", request_body = PasswordBody,
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "Changed; a new token (as login)", body = TokenBody),
        (status = 400, description = "`malformed_json`", body = ErrorResponse),
        (status = 401, description = "`unauthorized`", body = ErrorResponse),
        (status = 403, description = "`reauthentication_required` (wrong or missing current password; it counts towards the lockout) or `forbidden_origin`", body = ErrorResponse),
        (status = 422, description = "`validation_failed` (`fields[].field = new_password`)", body = ErrorResponse),
        (status = 429, description = "`rate_limited`: the account is locked", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn change_password(
    auth: web::Data<AuthService>,
    req: HttpRequest,
    caller: Authenticated,
    session: AuthSession,
    body: web::Json<PasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let PasswordBody {
        current_password,
        new_password,
    } = body.into_inner();
    let changed = auth
        .change_password(
            &caller.user,
            caller.reauthentication(current_password.as_deref()),
            new_password,
        )
        .await?;
    // Every session was deleted; the browser that asked stays signed in, under a new id — only
    // if its session is the caller's own (a Bearer request may carry another user's cookie).
    if matches!(session.current_user(), Ok(Some(id)) if id == caller.user.id) {
        crate::log_in(&session, &req, &changed.user)?;
    }
    Ok(HttpResponse::Ok().json(TokenBody::from(changed)))
}

/// `DELETE /api/auth/account` input.
#[derive(Default, Deserialize, ToSchema)]
pub struct DeleteAccountBody {
    /// Required when the account has a password.
    password: Option<String>,
}

/// `DELETE /api/auth/account`: deletes the caller's account and all their sessions.
#[utoipa::path(
    delete, path = "/api/auth/account", tag = "self-service", request_body = DeleteAccountBody,
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 204, description = "The user and every session are deleted; the cookie is cleared"),
        (status = 400, description = "`malformed_json`", body = ErrorResponse),
        (status = 401, description = "`unauthorized`", body = ErrorResponse),
        (status = 403, description = "`reauthentication_required` or `forbidden_origin`", body = ErrorResponse),
        (status = 429, description = "`rate_limited`: the account is locked", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn delete_account(
    auth: web::Data<AuthService>,
    caller: Authenticated,
    session: AuthSession,
    body: web::Json<DeleteAccountBody>,
) -> Result<HttpResponse, ApiError> {
    auth.delete_account(
        &caller.user,
        caller.reauthentication(body.password.as_deref()),
    )
    .await?;
    session.log_out();
    Ok(HttpResponse::NoContent().finish())
}
