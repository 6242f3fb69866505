//! Builds the server: binds the listener, assembles the app, runs until a signal arrives.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{dev::Server, middleware::from_fn, web, App, HttpServer};
use altrion_auth::{
    AuthService, ConfigError, OAuthProvider, OAuthService, PasswordHasher, TokenService,
};
use altrion_domain::{Clock, Mailer, SystemClock};
use altrion_mail::{MailQueue, MailWorker};
use altrion_storage::MongoConnector;

use altrion_web::{handlers::oauth::callback_url, ClientIp, IpLimit, OriginPolicy, SessionLayer};

use crate::{
    database::Database,
    request_id, routes,
    settings::Settings,
    state::{AppState, Stores},
};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Database(String),
    #[error("invalid security configuration: {0}")]
    Security(String),
    #[error("mail: {0}")]
    Mail(#[from] altrion_mail::MailConfigError),
    #[error("sessions: {0}")]
    Sessions(#[from] altrion_web::SetupError),
    #[error(transparent)]
    Settings(#[from] altrion_config::SettingsError),
}

impl From<ConfigError> for StartupError {
    fn from(err: ConfigError) -> Self {
        Self::Security(err.to_string())
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    /// `GET /metrics` on `METRICS_ADDR`, when set, and its port.
    metrics: Option<(Server, u16)>,
    database: Option<Database>,
    /// The mail delivery task, drained at shutdown; `None` when the caller passed a mailer.
    mail: Option<MailWorker>,
}

/// How long shutdown waits for queued mail to go out.
const MAIL_DRAIN: Duration = Duration::from_secs(10);

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Connects the stores named by `settings.database.uri` and binds the listener.
    ///
    /// # Errors
    /// [`StartupError`] when the database cannot be opened or the port cannot be bound.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let database = Database::open(&settings).await?;
        let (mailer, worker) = mail_queue(&settings)?;
        let mut app = Self::build_over(
            settings,
            database.stores.clone(),
            database.connector.clone(),
            mailer,
        )?;
        app.database = Some(database);
        app.mail = Some(worker);
        Ok(app)
    }

    /// Binds the listener over the given stores (tests pass in-memory fakes), sending mail as
    /// the settings say.
    ///
    /// # Errors
    /// [`StartupError`] when a security or mail setting is unusable or the address cannot be
    /// bound.
    pub fn build_with(settings: Settings, stores: Stores) -> Result<Self, StartupError> {
        let (mailer, worker) = mail_queue(&settings)?;
        let mut app = Self::build_over(settings, stores, None, mailer)?;
        app.mail = Some(worker);
        Ok(app)
    }

    /// As [`build_with`](Self::build_with), handing mail to `mailer` (tests capture it).
    ///
    /// # Errors
    /// As [`build_with`](Self::build_with).
    pub fn build_with_mailer(
        settings: Settings,
        stores: Stores,
        mailer: Arc<dyn Mailer>,
    ) -> Result<Self, StartupError> {
        Self::build_over(settings, stores, None, mailer)
    }

    /// Binds the listener over `stores`; with a `connector`, each worker serves over a database
    /// client of its own instead (see [`MongoConnector`]).
    fn build_over(
        settings: Settings,
        stores: Stores,
        connector: Option<MongoConnector>,
        mailer: Arc<dyn Mailer>,
    ) -> Result<Self, StartupError> {
        raise_file_limit();
        let state = state(&settings, mailer, stores)?;
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                address: address.clone(),
                source,
            })?
            .port();
        let metrics = metrics_server(&settings)?;
        let server = run(listener, &settings, state, connector)?;
        Ok(Self {
            port,
            server,
            metrics,
            database: None,
            mail: None,
        })
    }

    /// The port of the metrics listener, when `METRICS_ADDR` is set (useful with port 0).
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    /// A handle that can stop the server (what SIGTERM does), for tests and embedding.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests.
    ///
    /// # Errors
    /// The I/O error that stopped the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(server, _)| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        let served = self.server.await;
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        if let Some(mail) = self.mail {
            let report = mail.shutdown(MAIL_DRAIN).await;
            tracing::info!(?report, "mail queue drained");
        }
        if let Some(database) = self.database {
            database.close().await;
        }
        served
    }
}

/// Binds `METRICS_ADDR` and installs the recorder, when the setting is not empty.
fn metrics_server(settings: &Settings) -> Result<Option<(Server, u16)>, StartupError> {
    let address = settings.server.metrics_addr.trim();
    if address.is_empty() {
        return Ok(None);
    }
    let bind_error = |source| StartupError::Bind {
        address: address.to_owned(),
        source,
    };
    let listener = TcpListener::bind(address).map_err(bind_error)?;
    let port = listener.local_addr().map_err(bind_error)?.port();
    if crate::metrics::handle().is_none() {
        return Ok(None);
    }
    let server = crate::metrics::serve(listener).map_err(bind_error)?;
    tracing::info!(address, port, "metrics at /metrics");
    Ok(Some((server, port)))
}

/// The mail queue: SMTP when `SMTP_URL` is set, else `.eml` files in the outbox directory.
fn mail_queue(settings: &Settings) -> Result<(Arc<dyn Mailer>, MailWorker), StartupError> {
    let options = settings.mail.mail_options();
    match &options.smtp_url {
        Some(_) => tracing::info!(?options, "mail over SMTP"),
        None => {
            tracing::info!(outbox = %options.outbox_dir.display(), "no SMTP_URL: mail is written to the outbox")
        }
    }
    let (queue, worker) = MailQueue::start(options)?;
    Ok((Arc::new(queue), worker))
}

/// The use cases over `stores`, built from the settings: the one place an [`AppState`] is
/// assembled (a worker with a database client of its own gets
/// [`AppState::with_stores`] of it).
fn state(
    settings: &Settings,
    mailer: Arc<dyn Mailer>,
    stores: Stores,
) -> Result<AppState, StartupError> {
    let oauth = &settings.oauth;
    let public_url = &settings.server.public_url;
    let google = oauth
        .google
        .provider(callback_url(public_url, OAuthProvider::Google));
    let github = oauth
        .github
        .provider(callback_url(public_url, OAuthProvider::Github));
    for (name, provider) in [("Google", &google), ("GitHub", &github)] {
        if !provider.is_complete() {
            tracing::info!(
                provider = name,
                "login disabled: no client id and secret configured"
            );
        }
    }
    // The test profile may hash below the production floor (tests opt into speed); every
    // other profile gets the constructor that refuses it.
    let hasher = match settings.env {
        crate::settings::Environment::Test => {
            PasswordHasher::insecure_fast(&settings.password.argon2())?
        }
        _ => PasswordHasher::new(&settings.password.argon2())?,
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let auth = AuthService::builder(
        stores.users.clone(),
        stores.sessions.clone(),
        TokenService::new(&settings.jwt.tokens())?,
    )
    .clock(clock.clone())
    .hasher(hasher)
    .lockout(settings.rate_limit.lockout())
    .reauth_window(settings.auth.reauth_window())
    .require_verified_email(settings.auth.require_verified_email)
    .mail(mailer, settings.mail_policy()?)
    .build()?;
    // A provider without client id and secret is disabled.
    let oauth = OAuthService::builder(
        stores.users.clone(),
        stores.sessions.clone(),
        oauth.oauth_config(&settings.server)?,
    )
    .clock(clock)
    .google(google)
    .github(github)
    .build()?;
    Ok(AppState {
        stores,
        auth,
        oauth,
    })
}

/// Raises the soft limit on open files to the hard one: every connection is a descriptor, and
/// the usual soft default (1,024) would let a few thousand slow clients starve `accept`.
fn raise_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(err) => tracing::warn!(error = %err, "cannot raise the open-file limit"),
    }
}

/// The state one worker serves with: over a database client of its own when there is a
/// connector (opened here, on the worker's runtime), else the shared state.
fn worker_state(shared: &AppState, connector: Option<&MongoConnector>) -> AppState {
    let Some(connector) = connector else {
        return shared.clone();
    };
    match connector.open() {
        Ok(stores) => shared.with_stores(stores.into()),
        Err(error) => {
            tracing::warn!(%error, "no database client of its own for this worker; sharing the main one");
            shared.clone()
        }
    }
}

/// A per-IP limiter with the configured quota and buckets of its own.
fn ip_limit(settings: &Settings, client_ip: ClientIp) -> Result<IpLimit, StartupError> {
    let limits = &settings.rate_limit;
    altrion_web::ip_limit(limits.per_ip_per_minute, limits.per_ip_burst, client_ip).map_err(|_| {
        StartupError::Security(
            "APP__RATE_LIMIT__PER_IP_PER_MINUTE and APP__RATE_LIMIT__PER_IP_BURST must be \
             greater than 0"
                .to_owned(),
        )
    })
}

fn run(
    listener: TcpListener,
    settings: &Settings,
    state: AppState,
    connector: Option<MongoConnector>,
) -> Result<Server, StartupError> {
    let mut sessions =
        SessionLayer::builder(state.stores.sessions.clone(), &settings.session.secret)
            .cookie_name(settings.session.cookie_name())
            .ttl(settings.session.ttl())
            .touch_after(settings.session.touch_after())
            .absolute_ttl(settings.session.absolute_ttl());
    // Config refuses a non-Secure cookie in production.
    if !settings.session.cookie_secure {
        sessions = sessions.insecure_development();
    }
    let sessions = sessions.build(&state.auth)?;
    let client_ip = ClientIp {
        trusted_hops: settings.rate_limit.trusted_proxy_hops,
        ipv6_prefix_len: settings.rate_limit.ipv6_prefix_len,
    };
    let limits = routes::Limits {
        credentials: ip_limit(settings, client_ip)?,
        oauth: ip_limit(settings, client_ip)?,
        mail: ip_limit(settings, client_ip)?,
    };
    let flows = sessions.flow_cookie();
    let origins = OriginPolicy::new(
        [
            settings.server.frontend_url.as_str(),
            settings.server.public_url.as_str(),
        ],
        sessions.cookie_name(),
    )
    .map_err(|e| StartupError::Security(e.to_string()))?;
    let frontend_url = settings.server.frontend_url.clone();
    let body_limit = settings.server.body_limit_bytes;
    let body_timeout = Duration::from_secs(settings.server.body_timeout_secs);
    let mut server = HttpServer::new(move || {
        let state = worker_state(&state, connector.as_ref());
        let sessions = sessions.with_store(state.stores.sessions.clone());
        App::new()
            .configure(altrion_web::api_with_limit(state.auth, body_limit))
            .configure(altrion_web::oauth_api(state.oauth, flows.clone()))
            .app_data(web::Data::from(state.stores.readiness))
            .app_data(web::Data::new(client_ip))
            .configure(|cfg| {
                routes::configure(cfg, &limits, sessions.middleware());
            })
            .default_service(web::to(altrion_web::not_found))
            .wrap(origins.clone())
            .wrap(altrion_web::cors(&frontend_url))
            .wrap(altrion_web::security_headers())
            .wrap(from_fn(move |req, next| {
                request_id::request_id(client_ip, req, next)
            }))
            .wrap(from_fn(move |req, next| {
                altrion_web::cut_off_slow_bodies(body_timeout, req, next)
            }))
    })
    .listen(listener)
    .map_err(|source| StartupError::Bind {
        address: "listener".to_owned(),
        source,
    })?
    .shutdown_timeout(settings.server.shutdown_timeout_secs)
    .max_connections(settings.server.max_connections);
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}
