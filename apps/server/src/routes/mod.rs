//! Route table. Every resource answers unknown methods with `405 method_not_allowed`, and every
//! route is listed once, here: [`ROUTES`] is generated from the same table that registers them,
//! so the OpenAPI test can prove each one is documented.

mod auth;
mod health;
mod oauth;
pub(crate) mod openapi;
mod page;

use actix_governor::{Governor, GovernorConfig};
use actix_web::{web, Resource};

pub use auth::UserBody;

use crate::{client_ip::ClientIp, error};

/// A resource whose unmatched methods get the JSON 405.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(error::method_not_allowed))
}

/// The per-IP limiter shared by sign-up and login.
pub type IpLimit = GovernorConfig<
    ClientIp,
    actix_governor::governor::middleware::NoOpMiddleware<
        actix_governor::governor::clock::QuantaInstant,
    >,
>;

/// Declares the routes once: registers them in `configure` and lists them in `ROUTES`.
/// `limited` routes sit behind the per-IP rate limiter.
macro_rules! route_table {
    ($($method:ident $path:literal => $handler:path $(, $limited:ident)?;)+) => {
        /// Every registered route as (method, path).
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),+];

        /// Registers every route.
        pub fn configure(cfg: &mut web::ServiceConfig, ip_limit: &IpLimit) {
            $(
                let route = resource($path).route(web::$method().to($handler));
                $(
                    let _: &str = stringify!($limited);
                    let route = route.wrap(Governor::new(ip_limit));
                )?
                cfg.service(route);
            )+
        }
    };
}

route_table! {
    get "/" => page::index;
    get "/app.js" => page::app_js;
    get "/style.css" => page::style;
    get "/api/health" => health::health;
    get "/api/ready" => health::ready;
    get "/api/openapi.json" => openapi::document;
    post "/api/auth/signup" => auth::signup, limited;
    post "/api/auth/login" => auth::login, limited;
    get "/api/auth/me" => auth::me;
    post "/api/auth/logout" => auth::logout;
    post "/api/auth/logout-all" => auth::logout_all;
    get "/api/auth/{provider}" => oauth::start;
    get "/api/auth/{provider}/callback" => oauth::callback;
    post "/api/auth/{provider}/link" => oauth::link;
}
