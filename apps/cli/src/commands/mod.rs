//! One module per `db` subcommand.

mod check;
mod cleanup;
mod migrate;

use crate::{
    cli::{Cli, Command, DbCommand},
    connect,
};

/// Loads the settings, connects, and runs the command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = altrion_server::settings::load()?;
    match cli.command {
        Command::Db(command) => {
            let target = connect::Target::from_settings(&settings.database)?;
            let db = connect::connect(&target, &settings.database).await?;
            match command {
                DbCommand::Check { json } => check::run(&db, json).await,
                DbCommand::Cleanup { yes, dry_run } => cleanup::run(&db, yes, dry_run).await,
                DbCommand::Migrate { json } => migrate::run(&db, json).await,
            }
        }
    }
}
