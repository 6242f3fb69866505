//! Where the CLI finds the database, and a fail-fast connection to it.
//!
//! `embedded:<dir>` databases live inside the running server (`make run`), which holds the
//! directory's lock file and serves it on `127.0.0.1:MONGODB_EMBEDDED_PORT`; the CLI connects
//! there like `mongosh` would instead of opening the directory itself, so one process owns
//! the data and the CLI never needs the database engine.

use std::{
    net::{Ipv4Addr, SocketAddr, TcpStream},
    time::Duration,
};

use altrion_config::{DatabaseSettings, DatabaseUri};
use altrion_domain::Readiness;
use altrion_storage::{mongo::MongoReadiness, Database};
use anyhow::{bail, Context};
use secrecy::ExposeSecret;

/// The CLI waits at most this long for a server, whatever the server's own timeouts are.
const MAX_WAIT: Duration = Duration::from_secs(3);

/// `scheme://hosts` of a connection string, without credentials, path or options.
fn describe(uri: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap_or(("mongodb", uri));
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let hosts = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{hosts}")
}

/// Connects and pings, so an unreachable database fails here, clearly and within seconds.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<Database> {
    let uri = match settings.target()? {
        DatabaseUri::Mongo(uri) => uri.expose_secret().to_owned(),
        DatabaseUri::Embedded(_) => embedded(settings).await?,
        DatabaseUri::Memory => bail!(
            "MONGODB_URI=memory: runs the server on in-memory stores; there is no database \
             for the CLI. Set MONGODB_URI to a MongoDB deployment."
        ),
    };

    // The server's options, with a short wait: an operator should hear about an unreachable
    // database within seconds.
    let mut options = settings.mongo_options(uri.clone());
    options.app_name = format!("{}-cli", settings.app_name);
    options.connect_timeout = options.connect_timeout.min(MAX_WAIT);
    options.server_selection_timeout = options.server_selection_timeout.min(MAX_WAIT);
    let wait = options.server_selection_timeout + Duration::from_secs(1);

    let db = altrion_storage::mongo::connect(&options).await?;
    MongoReadiness::new(&db, wait)
        .ping()
        .await
        .with_context(|| {
            format!(
            "cannot reach MongoDB at {} (database {}) within {} s; check MONGODB_URI and that the \
             database is running",
            describe(&uri),
            settings.name,
            wait.as_secs()
        )
        })?;
    Ok(db)
}

/// The running server's embedded database, on its fixed loopback port.
async fn embedded(settings: &DatabaseSettings) -> anyhow::Result<String> {
    // An `embedded:` URI names a directory, never credentials.
    let uri = settings.uri.expose_secret();
    let port = settings.embedded_port;
    if port == 0 {
        bail!(
            "MONGODB_URI={uri} with MONGODB_EMBEDDED_PORT=0: the server's embedded database \
             listens on a random port the CLI cannot know. Set MONGODB_EMBEDDED_PORT to a \
             fixed port for both, or set MONGODB_URI to a MongoDB deployment."
        );
    }
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listening = tokio::task::spawn_blocking(move || {
        TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok()
    })
    .await
    .unwrap_or(false);
    if !listening {
        bail!(
            "nothing listens on 127.0.0.1:{port}, where the server's embedded database \
             (MONGODB_URI={uri}) would be: start the server with `make run`, or set \
             MONGODB_URI to a MongoDB deployment"
        );
    }
    Ok(format!("mongodb://127.0.0.1:{port}/?directConnection=true"))
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn descriptions_hide_credentials_and_options() {
        assert_eq!(
            describe("mongodb+srv://admin:hunter2@cluster0.example.net/altrion?retryWrites=true"),
            "mongodb+srv://cluster0.example.net"
        );
        assert_eq!(
            describe("mongodb://a:1,b:2/?replicaSet=rs0"),
            "mongodb://a:1,b:2"
        );
    }
}
