use clap::{Parser, Subcommand};

/// Altrion's admin CLI. Reads the server's configuration: `.env`, the environment
/// (`MONGODB_URI`, `MONGODB_DB`, `APP_ENV`, …) and `config/`.
#[derive(Debug, Parser)]
#[command(name = "altrion", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect and maintain the database.
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Collections with document counts and indexes, sessions (active / expired), users by
    /// provider.
    Check {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Drop every collection except `users` and `sessions` (and MongoDB's `system.*`).
    Cleanup {
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Only list what would be dropped.
        #[arg(long)]
        dry_run: bool,
    },
    /// Create the indexes of `migrations/` that are missing (idempotent).
    Migrate {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}
