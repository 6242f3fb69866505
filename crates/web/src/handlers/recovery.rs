//! Password recovery and email verification: the mailed links' endpoints.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use altrion_auth::AuthService;

use crate::{ApiError, ErrorResponse, MaybeUnverified, MeBody, TokenBody};

/// What a request for mail answers, whatever happened to the mail.
#[derive(Serialize, ToSchema)]
pub struct AcceptedBody {
    #[schema(example = "accepted")]
    status: &'static str,
}

fn accepted() -> HttpResponse {
    HttpResponse::Accepted().json(AcceptedBody { status: "accepted" })
}

/// `POST /api/auth/password/forgot` input.
#[derive(Deserialize, ToSchema)]
pub struct ForgotBody {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    email: String,
}

/// Mails a reset link if the email has an account (at most 3 an hour per account). The answer
/// is the same, and as quick, whether or not it has: the lookup and the mail happen after it.
#[utoipa::path(
    post, path = "/api/auth/password/forgot", tag = "recovery", request_body = ForgotBody,
    responses(
        (status = 202, description = "Accepted — the same for every well-formed email", body = AcceptedBody),
        (status = 400, description = "`malformed_json`", body = ErrorResponse),
        (status = 422, description = "`validation_failed`: not an email address", body = ErrorResponse),
        (status = 429, description = "`rate_limited`: per client address (see `Retry-After`)", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`: too many requests pending", body = ErrorResponse),
    )
)]
pub async fn forgot(
    auth: web::Data<AuthService>,
    body: web::Json<ForgotBody>,
) -> Result<HttpResponse, ApiError> {
    // The job is detached: its outcome must not shape this answer.
    drop(auth.request_password_reset(&body.email)?);
    Ok(accepted())
}

/// `POST /api/auth/password/reset` input.
#[derive(Deserialize, ToSchema)]
pub struct ResetBody {
    /// The `token` of the mailed link.
    token: String,
    /// 8..=128 characters, not the email, not easily guessed (zxcvbn ≥ 2).
    #[schema(example = "correct horse battery", min_length = 8, max_length = 128)]
    password: String,
}

/// Sets a new password from a reset link and signs in (as login). Every JWT, session and other
/// reset link of the user dies; the lockout is cleared; the email counts as verified.
#[utoipa::path(
    post, path = "/api/auth/password/reset", tag = "recovery", request_body = ResetBody,
    responses(
        (status = 200, description = "Password set; a new token (as login)", body = TokenBody),
        (status = 400, description = "`invalid_token` (malformed, tampered, expired, of another purpose, or used) or `malformed_json`", body = ErrorResponse),
        (status = 422, description = "`validation_failed` (`fields[].field = password`); the link stays usable", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn reset(
    auth: web::Data<AuthService>,
    body: web::Json<ResetBody>,
) -> Result<HttpResponse, ApiError> {
    let ResetBody { token, password } = body.into_inner();
    let signed_in = auth.reset_password(&token, password).await?;
    Ok(HttpResponse::Ok().json(TokenBody::from(signed_in)))
}

/// `POST /api/auth/email/verify` input.
#[derive(Deserialize, ToSchema)]
pub struct VerifyBody {
    /// The `token` of the mailed link.
    token: String,
}

/// Marks the address of a verification link verified; the link works once.
#[utoipa::path(
    post, path = "/api/auth/email/verify", tag = "recovery", request_body = VerifyBody,
    responses(
        (status = 200, description = "Verified; the user", body = MeBody),
        (status = 400, description = "`invalid_token` or `malformed_json`", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn verify(
    auth: web::Data<AuthService>,
    body: web::Json<VerifyBody>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.verify_email(&body.token).await?;
    Ok(HttpResponse::Ok().json(MeBody::of(&user)))
}

/// Mails the caller a new verification link (at most 3 an hour, counting the sign-up's).
#[utoipa::path(
    post, path = "/api/auth/email/resend", tag = "recovery",
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 202, description = "A new link is on its way", body = AcceptedBody),
        (status = 401, description = "`unauthorized`", body = ErrorResponse),
        (status = 403, description = "`forbidden_origin`", body = ErrorResponse),
        (status = 409, description = "`email_already_verified`", body = ErrorResponse),
        (status = 429, description = "`rate_limited`: per client address or per account (see `Retry-After`)", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn resend(
    auth: web::Data<AuthService>,
    MaybeUnverified(caller): MaybeUnverified,
) -> Result<HttpResponse, ApiError> {
    auth.resend_verification(&caller.user).await?;
    Ok(accepted())
}
