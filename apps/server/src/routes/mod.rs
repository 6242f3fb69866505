//! Route table. Every resource answers unknown methods with `405 method_not_allowed`, and every
//! route is listed once, here: [`ROUTES`] is generated from the same table that registers them,
//! so the OpenAPI test can prove each one is documented.

mod health;
pub(crate) mod openapi;
mod page;

use actix_governor::Governor;
use actix_web::{web, Resource};

use altrion_web::{handlers, handlers::oauth, IpLimit, SessionMount};

/// A resource whose unmatched methods get the JSON 405, with `Allow` naming `method`.
fn resource(path: &str, method: &str) -> Resource {
    let allow = method.to_ascii_uppercase();
    web::resource(path).default_service(web::to(move || {
        let allow = allow.clone();
        async move { altrion_web::method_not_allowed(&allow) }
    }))
}

/// The per-IP limiters, each with buckets of its own: the requests that present a credential
/// (`credentials`: sign-up, login, the reset and the verification token), the OAuth start and
/// callback (`oauth`), and the requests that send mail (`mail`).
#[derive(Clone)]
pub struct Limits {
    pub credentials: IpLimit,
    pub oauth: IpLimit,
    pub mail: IpLimit,
}

/// Declares the routes once: registers them in `configure` and lists them in `ROUTES`.
/// `limited(name)` routes sit behind that per-IP rate limiter of [`Limits`]. Only the routes
/// under `with_session` run inside the session middleware: the page, its assets and the probes
/// never load a session (no database read, no `503` in an outage).
macro_rules! route_table {
    (
        without_session { $($m1:ident $p1:literal => $h1:path $(, limited($l1:ident))?;)+ }
        with_session { $($m2:ident $p2:literal => $h2:path $(, limited($l2:ident))?;)+ }
    ) => {
        /// Every registered route as (method, path).
        pub const ROUTES: &[(&str, &str)] =
            &[$((stringify!($m1), $p1),)+ $((stringify!($m2), $p2),)+];

        /// Registers every route; `sessions` wraps the ones that use the session.
        pub fn configure(cfg: &mut web::ServiceConfig, limits: &Limits, sessions: SessionMount) {
            $(
                let route = resource($p1, stringify!($m1)).route(web::$m1().to($h1));
                $( let route = route.wrap(Governor::new(&limits.$l1)); )?
                cfg.service(route);
            )+
            let mut scope = web::scope("");
            $(
                let route = resource($p2, stringify!($m2)).route(web::$m2().to($h2));
                $( let route = route.wrap(Governor::new(&limits.$l2)); )?
                scope = scope.service(route);
            )+
            cfg.service(scope.wrap(sessions));
        }
    };
}

route_table! {
without_session {
    get "/" => page::index;
    // The pages the mailed links open.
    get "/reset-password" => page::reset_password;
    get "/verify-email" => page::verify_email;
    get "/app.js" => page::app_js;
    get "/style.css" => page::style;
    get "/api/health" => health::health;
    get "/api/ready" => health::ready;
    get "/api/openapi.json" => openapi::document;
}
with_session {
    post "/api/auth/signup" => handlers::signup, limited(credentials);
    post "/api/auth/login" => handlers::login, limited(credentials);
    get "/api/auth/me" => handlers::me;
    post "/api/auth/logout" => handlers::logout;
    post "/api/auth/logout-all" => handlers::logout_all;
    // Before `/api/auth/{provider}`, which would otherwise match these paths.
    get "/api/auth/sessions" => handlers::account::sessions;
    delete "/api/auth/sessions/{id}" => handlers::account::revoke_session;
    post "/api/auth/password" => handlers::account::change_password;
    post "/api/auth/password/forgot" => handlers::recovery::forgot, limited(mail);
    post "/api/auth/password/reset" => handlers::recovery::reset, limited(credentials);
    post "/api/auth/email/verify" => handlers::recovery::verify, limited(credentials);
    post "/api/auth/email/resend" => handlers::recovery::resend, limited(mail);
    delete "/api/auth/account" => handlers::account::delete_account;
    delete "/api/auth/identities/{provider}" => oauth::unlink;
    get "/api/auth/{provider}" => oauth::start, limited(oauth);
    get "/api/auth/{provider}/callback" => oauth::callback, limited(oauth);
    post "/api/auth/{provider}/link" => oauth::link;
}
}
