//! One module per `db` subcommand.

mod check;
mod cleanup;
mod migrate;
mod sessions;
mod users;

use crate::{
    cli::{Cli, Command, DbCommand},
    connect,
};

/// A refusal the CLI reports as an error (non-zero exit): `what` named by `email` does not
/// exist, or an argument is malformed.
pub(crate) fn email(raw: &str) -> anyhow::Result<altrion_domain::Email> {
    altrion_domain::Email::parse(raw).map_err(|e| anyhow::anyhow!("{raw:?} is not an email: {e}"))
}

/// Loads the settings, connects, and runs the command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // Only the database settings: the CLI needs no secret.
    let database = altrion_config::load_database()?;
    let db = connect::connect(&database).await?;
    match cli.command {
        Command::Db(command) => match command {
            DbCommand::Check { json } => check::run(&db, json).await,
            DbCommand::Cleanup { yes, dry_run } => cleanup::run(&db, yes, dry_run).await,
            DbCommand::Migrate { json } => migrate::run(&db, json).await,
        },
        Command::Users(command) => users::run(&db, command).await,
        Command::Sessions(command) => sessions::run(&db, command).await,
    }
}
