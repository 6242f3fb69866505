//! `altrion`: the admin CLI. Loads the same configuration as the server (`.env`, environment,
//! `config/`), then runs `db check`, `db cleanup` or `db migrate` against its database.
//!
//! It reads the settings through `altrion-config` and talks to MongoDB only through
//! `altrion-storage`; it must not depend on actix-web or the server (`make check-layers`).

mod cli;
mod commands;
mod connect;
mod output;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            output::error(&err);
            ExitCode::FAILURE
        }
    }
}
