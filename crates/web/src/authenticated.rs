//! The authenticated-user extractor: a Bearer JWT or the session cookie, judged by the
//! [`AuthService`] registered as `web::Data<AuthService>` (see [`crate::api`]).

use std::{future::Future, pin::Pin};

use actix_session::SessionExt;
use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use altrion_auth::{AuthError, AuthService, Reauthentication};
use altrion_domain::{Timestamp, User};
use altrion_session::AuthSession;

use crate::error::{ApiError, ErrorCode};

/// The signed-in user of this request. Handlers that take it answer `401 unauthorized`
/// to anonymous callers.
///
/// The rules, in order:
/// - `Authorization: Bearer <jwt>` (the scheme in any case, the token trimmed) wins; a header
///   that is not a usable Bearer token is `401`, never a fallback to the cookie.
/// - Otherwise the session cookie: an undecodable session is no session; a session whose user
///   is gone, or whose user's token version has moved on since it signed in (log out
///   everywhere, a password change or reset, a take-over), is deleted and answers `401`.
/// - With [`require_verified_email`](altrion_auth::AuthServiceBuilder::require_verified_email),
///   an unverified account gets `403 email_not_verified` ([`MaybeUnverified`] lets it in).
/// - A store outage is `503 service_unavailable`.
#[derive(Debug)]
pub struct Authenticated {
    pub user: User,
    /// When that credential was obtained (the JWT's `iat`, the session's sign-in), for recent
    /// sign-in checks; `None` for a session signed in before this was recorded.
    pub signed_in_at: Option<Timestamp>,
}

impl Authenticated {
    /// The proof of identity this request offers for a sensitive change, with `password` if
    /// the body carried one.
    pub fn reauthentication<'a>(&self, password: Option<&'a str>) -> Reauthentication<'a> {
        Reauthentication {
            password,
            signed_in_at: self.signed_in_at,
        }
    }
}

/// The Bearer token, if the request carries an `Authorization: Bearer …` header.
fn bearer(req: &HttpRequest) -> Option<Result<String, ApiError>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(token)
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ErrorCode::Unauthorized.into());
    Some(token)
}

/// The signed-in user, whether or not their email is verified: for the few routes an
/// unverified account keeps when the service requires verified emails
/// ([`require_verified_email`](altrion_auth::AuthServiceBuilder::require_verified_email)): asking for a new
/// verification link, logging out everywhere).
#[derive(Debug)]
pub struct MaybeUnverified(pub Authenticated);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    /// When the service requires verified emails, an unverified account gets `403
    /// email_not_verified` here, on every route that takes this extractor.
    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let authenticating = authenticate(req);
        Box::pin(async move {
            let (caller, auth) = authenticating.await?;
            auth.ensure_verified(&caller.user)?;
            Ok(caller)
        })
    }
}

impl FromRequest for MaybeUnverified {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let authenticating = authenticate(req);
        Box::pin(async move { Ok(Self(authenticating.await?.0)) })
    }
}

/// The caller of `req` by Bearer JWT or session cookie, and the service that judged it.
fn authenticate(
    req: &HttpRequest,
) -> impl Future<Output = Result<(Authenticated, web::Data<AuthService>), ApiError>> {
    let auth = req.app_data::<web::Data<AuthService>>().cloned();
    let bearer = bearer(req);
    let session = AuthSession::new(req.get_session());
    async move {
        let auth = auth.ok_or_else(|| {
            ApiError::internal("no web::Data<AuthService> registered (altrion_web::api)")
        })?;
        if let Some(token) = bearer {
            let caller = auth.authenticate_token(&token?).await?;
            let user = Authenticated {
                user: caller.user,
                signed_in_at: Some(caller.issued_at),
            };
            return Ok((user, auth));
        }
        // An undecodable session is treated as no session.
        let Ok(Some(user_id)) = session.current_user() else {
            return Err(ErrorCode::Unauthorized.into());
        };
        match auth.current_user(&user_id).await {
            // Signed in before the user's token version moved on (log out everywhere, a
            // password change or reset, a take-over): void, even if its deletion failed.
            Ok(user)
                if session
                    .token_version()
                    .is_some_and(|v| v != user.token_version) =>
            {
                session.log_out();
                Err(ErrorCode::Unauthorized.into())
            }
            Ok(user) => {
                let user = Authenticated {
                    user,
                    signed_in_at: session.signed_in_at(),
                };
                Ok((user, auth))
            }
            Err(AuthError::Unauthorized) => {
                // The user is gone: drop the orphaned session.
                session.log_out();
                Err(ErrorCode::Unauthorized.into())
            }
            Err(err) => Err(err.into()),
        }
    }
}
