//! The authenticated-user extractor: a Bearer JWT or the session cookie.

use std::{future::Future, pin::Pin};

use actix_session::SessionExt;
use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use altrion_auth::{AuthError, Reauthentication};
use altrion_domain::{Timestamp, User};
use altrion_session::AuthSession;

use crate::{
    error::{ApiError, ErrorCode},
    state::AppState,
};

/// The signed-in user of this request. Handlers that take it answer `401 unauthorized`
/// to anonymous callers.
#[derive(Debug)]
pub struct AuthenticatedUser {
    pub user: User,
    /// When that credential was obtained (the JWT's `iat`, the session's sign-in), for recent
    /// sign-in checks; `None` for a session signed in before this was recorded.
    pub signed_in_at: Option<Timestamp>,
}

impl AuthenticatedUser {
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
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ErrorCode::Unauthorized.into());
    Some(token)
}

/// The signed-in user, whether or not their email is verified: for the few routes an
/// unverified account keeps when `APP__AUTH__REQUIRE_VERIFIED_EMAIL` is on (asking for a new
/// verification link, logging out everywhere).
#[derive(Debug)]
pub struct MaybeUnverified(pub AuthenticatedUser);

impl FromRequest for AuthenticatedUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    /// With `APP__AUTH__REQUIRE_VERIFIED_EMAIL`, an unverified account gets `403
    /// email_not_verified` here, on every route that takes this extractor.
    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let authenticating = authenticate(req);
        Box::pin(async move {
            let (caller, state) = authenticating.await?;
            state.auth.ensure_verified(&caller.user)?;
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

/// The caller of `req` by Bearer JWT or session cookie, and the state it was judged with.
fn authenticate(
    req: &HttpRequest,
) -> impl Future<Output = Result<(AuthenticatedUser, web::Data<AppState>), ApiError>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let bearer = bearer(req);
    let session = AuthSession::new(req.get_session());
    async move {
        let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
        if let Some(token) = bearer {
            let caller = state.auth.authenticate_token(&token?).await?;
            let user = AuthenticatedUser {
                user: caller.user,
                signed_in_at: Some(caller.issued_at),
            };
            return Ok((user, state));
        }
        // An undecodable session is treated as no session.
        let Ok(Some(user_id)) = session.current_user() else {
            return Err(ErrorCode::Unauthorized.into());
        };
        match state.auth.current_user(&user_id).await {
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
                let user = AuthenticatedUser {
                    user,
                    signed_in_at: session.signed_in_at(),
                };
                Ok((user, state))
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
