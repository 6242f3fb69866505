//! Login with Google and GitHub: start the flow, finish it on the callback; link and unlink a
//! provider with re-authentication. Besides `web::Data<AuthService>` ([`crate::api`]) they need
//! the `OAuthService` and the flow cookie, which [`crate::oauth_api`] registers. Route them at
//! `/api/auth/{provider}`, `…/callback`, `…/link` and `/api/auth/identities/{provider}` (the
//! paths in their OpenAPI descriptions) or at your own, as long as each path names the
//! provider in a `{provider}` segment (other parameters may come with it), with the callback
//! at the redirect URL the providers were configured with.
//!
//! Mount them inside the session middleware ([`crate::SessionLayer::middleware`]): outside it
//! no session cookie can be set, so the callback answers `500 internal` (and logs why) before
//! it exchanges the code, rather than redirecting as signed in.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use altrion_auth::{AuthService, OAuthError, OAuthProvider, OAuthService};
use altrion_session::AuthSession;
use serde::{Deserialize, Serialize};

use crate::{ApiError, Authenticated, ErrorCode, ErrorResponse, FlowCookie};

/// The route's `{provider}` segment: `google` or `github`; anything else, or a route without
/// that segment, is not found. Read by name, so the routes may sit under scopes with
/// parameters of their own.
fn provider(req: &HttpRequest) -> Result<OAuthProvider, ApiError> {
    req.match_info()
        .get("provider")
        .and_then(|name| name.parse().ok())
        .ok_or_else(|| ErrorCode::NotFound.into())
}

/// Where `provider` sends the browser back when the callback is routed at Altrion's path:
/// `{public_url}/api/auth/{provider}/callback`, keeping a path prefix of `public_url` and
/// dropping a trailing slash. The `redirect_url` of that provider's `ProviderConfig`.
pub fn callback_url(public_url: &str, provider: OAuthProvider) -> String {
    let base = public_url.trim().trim_end_matches('/');
    format!("{base}/api/auth/{provider}/callback")
}

fn found(location: &str) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Found();
    response.insert_header((header::LOCATION, location));
    response
}

/// `GET /api/auth/{provider}` query. Failures before anything was sent to the provider are the
/// caller's: plain JSON errors.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StartQuery {
    /// Where to return after the login: a path, or a URL on the frontend's origin or an
    /// allow-listed one.
    redirect_to: Option<String>,
}

/// `GET /api/auth/{provider}?redirect_to=…`: keeps a single-use `state`, the PKCE verifier and
/// the return target in a short-lived encrypted cookie and sends the browser to the provider.
/// Always a sign-in, never a link (a link needs `POST …/link` with re-authentication); writes
/// nothing to the database.
#[utoipa::path(
    get, path = "/api/auth/{provider}", tag = "oauth",
    params(("provider" = String, Path, description = "`google` or `github`"), StartQuery),
    responses(
        (status = 302, description = "To the provider's consent page; sets the flow cookie (`__Host-altrion.oauth`, or `altrion.oauth` over plain HTTP; 10 min)"),
        (status = 404, description = "`provider_disabled` (no client id and secret) or `not_found` (unknown provider)", body = ErrorResponse),
        (status = 422, description = "`invalid_redirect`", body = ErrorResponse),
        (status = 429, description = "`rate_limited`: too many starts from this address", body = ErrorResponse),
    )
)]
pub async fn start(
    oauth: web::Data<OAuthService>,
    flows: web::Data<FlowCookie>,
    req: HttpRequest,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, ApiError> {
    let provider = provider(&req)?;
    let (authorize, pending) = oauth.start(provider, query.redirect_to.as_deref(), None)?;
    let cookie = flows.carrying(&pending).map_err(ApiError::internal)?;
    Ok(found(authorize.as_str()).cookie(cookie).finish())
}

/// `POST /api/auth/{provider}/link` input.
#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct LinkBody {
    /// The current password; required when the account has one. An account without a password
    /// must have signed in less than 10 minutes ago instead.
    password: Option<String>,
    /// Where to return after linking.
    redirect_to: Option<String>,
}

/// `POST /api/auth/{provider}/link` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LinkResponse {
    /// Send the browser here.
    authorize_url: String,
}

/// `POST /api/auth/{provider}/link`: for a signed-in user (Bearer or cookie) who proves their
/// identity again, prepares the flow that links this provider and returns the URL to send the
/// browser to. The pending link is bound to the user's token version: "log out everywhere"
/// cancels it.
#[utoipa::path(
    post, path = "/api/auth/{provider}/link", tag = "oauth",
    params(("provider" = String, Path, description = "`google` or `github`")),
    request_body = LinkBody,
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "The provider URL to send the browser to; sets the flow cookie", body = LinkResponse),
        (status = 400, description = "`malformed_json`", body = ErrorResponse),
        (status = 401, description = "`unauthorized`", body = ErrorResponse),
        (status = 403, description = "`reauthentication_required`: no, or a wrong, current password; or, without a password, a sign-in older than 10 minutes. `forbidden_origin` for a cookie request from a foreign origin", body = ErrorResponse),
        (status = 404, description = "`provider_disabled` or `not_found`", body = ErrorResponse),
        (status = 422, description = "`invalid_redirect`, `validation_failed`", body = ErrorResponse),
        (status = 429, description = "`rate_limited`: the account is locked after wrong passwords", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn link(
    auth: web::Data<AuthService>,
    oauth: web::Data<OAuthService>,
    flows: web::Data<FlowCookie>,
    req: HttpRequest,
    caller: Authenticated,
    body: web::Json<LinkBody>,
) -> Result<HttpResponse, ApiError> {
    let provider = provider(&req)?;
    let body = body.into_inner();
    // Checked before the password so a typo in the URL costs no lockout attempt.
    if !oauth.enabled(provider) {
        return Err(OAuthError::ProviderDisabled(provider).into());
    }
    auth.reauthenticate(
        &caller.user,
        caller.reauthentication(body.password.as_deref()),
    )
    .await?;
    let (authorize, pending) =
        oauth.start(provider, body.redirect_to.as_deref(), Some(&caller.user))?;
    let cookie = flows.carrying(&pending).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().cookie(cookie).json(LinkResponse {
        authorize_url: authorize.into(),
    }))
}

/// `DELETE /api/auth/identities/{provider}` input.
#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct UnlinkBody {
    /// The current password; required when the account has one.
    password: Option<String>,
}

/// `DELETE /api/auth/identities/{provider}`: removes a linked provider after re-authentication,
/// never the last way to sign in.
#[utoipa::path(
    delete, path = "/api/auth/identities/{provider}", tag = "oauth",
    params(("provider" = String, Path, description = "`google` or `github`")),
    request_body = UnlinkBody,
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 204, description = "The provider's identities are no longer linked"),
        (status = 400, description = "`malformed_json`", body = ErrorResponse),
        (status = 401, description = "`unauthorized`", body = ErrorResponse),
        (status = 403, description = "`reauthentication_required` or `forbidden_origin`", body = ErrorResponse),
        (status = 404, description = "`not_found`: no such provider, or none of its identities is linked", body = ErrorResponse),
        (status = 409, description = "`last_sign_in_method`: the account would have no way to sign in left", body = ErrorResponse),
        (status = 429, description = "`rate_limited`: the account is locked after wrong passwords", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn unlink(
    auth: web::Data<AuthService>,
    req: HttpRequest,
    caller: Authenticated,
    body: web::Json<UnlinkBody>,
) -> Result<HttpResponse, ApiError> {
    let provider = provider(&req)?;
    auth.reauthenticate(
        &caller.user,
        caller.reauthentication(body.password.as_deref()),
    )
    .await?;
    auth.unlink(&caller.user, provider.into()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/auth/{provider}/callback?code&state`: checks the flow, signs in through the
/// session (a new id, replacing any session the browser had) and returns to the frontend —
/// with `?error=<code>` on any failure, leaving no user and no session behind.
#[utoipa::path(
    get, path = "/api/auth/{provider}/callback", tag = "oauth",
    params(
        ("provider" = String, Path, description = "`google` or `github`"),
        ("code" = Option<String>, Query, description = "Authorization code"),
        ("state" = Option<String>, Query, description = "The state sent to the provider"),
        ("error" = Option<String>, Query, description = "The provider's error, e.g. `access_denied`"),
    ),
    responses(
        (status = 302, description = "To the frontend (`redirect_to` or `FRONTEND_URL`), signed in with a new session id; on failure with `?error=` one of `access_denied`, `invalid_state`, `provider_disabled`, `provider_error`, `timeout`, `email_not_verified`, `account_exists`, `unavailable`, `internal`"),
        (status = 404, description = "`not_found` (unknown provider)", body = ErrorResponse),
        (status = 429, description = "`rate_limited`: too many callbacks from this address", body = ErrorResponse),
    )
)]
pub async fn callback(
    oauth: web::Data<OAuthService>,
    flows: web::Data<FlowCookie>,
    req: HttpRequest,
    query: web::Query<altrion_auth::CallbackQuery>,
    session: AuthSession,
) -> Result<HttpResponse, ApiError> {
    let provider = provider(&req)?;
    // Before the code is exchanged and an account created or linked.
    crate::sessions::ensure_mounted(&req)?;
    // Removing the cookie makes the flow single-use in the browser; an undecodable one counts
    // as none.
    let pending = flows.read(&req);
    let target = pending.as_ref().map(|p| p.redirect_to().clone());
    // `finish` logs every outcome.
    match oauth.finish(provider, query.into_inner(), pending).await {
        Ok(signed_in) => {
            crate::log_in(&session, &req, &signed_in.user)?;
            Ok(found(signed_in.redirect_to.as_str())
                .cookie(flows.removal())
                .finish())
        }
        Err(err) => {
            let to = oauth.error_redirect(err.code(), target.as_ref());
            Ok(found(to.as_str()).cookie(flows.removal()).finish())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_provider_is_read_by_name_beside_other_parameters() {
        let req = actix_web::test::TestRequest::default()
            .param("tenant", "acme")
            .param("provider", "github")
            .to_http_request();
        assert_eq!(provider(&req).unwrap(), OAuthProvider::Github);
        let unknown = actix_web::test::TestRequest::default()
            .param("provider", "gitlab")
            .to_http_request();
        assert!(provider(&unknown).is_err());
        let missing = actix_web::test::TestRequest::default()
            .param("tenant", "github")
            .to_http_request();
        assert!(provider(&missing).is_err(), "only `{{provider}}` names it");
    }

    #[test]
    fn callback_urls_are_absolute_and_keep_a_path_prefix() {
        assert_eq!(
            callback_url("https://api.example.com/", OAuthProvider::Google),
            "https://api.example.com/api/auth/google/callback"
        );
        assert_eq!(
            callback_url("https://example.com/backend", OAuthProvider::Github),
            "https://example.com/backend/api/auth/github/callback"
        );
    }
}
