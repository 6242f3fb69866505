//! `altrion`: the admin CLI. Loads the same configuration as the server (`.env`, environment,
//! `config/`), then runs `db check`, `db cleanup` or `db migrate` against its database.
//!
//! It talks to MongoDB only through `altrion-storage`; it must not depend on HTTP crates beyond
//! what `altrion-server`'s settings module pulls in.

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
