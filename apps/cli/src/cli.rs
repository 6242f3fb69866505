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
    /// Find, unlock and delete user accounts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// List and end signed-in sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Accounts, newest first.
    List {
        /// Only accounts created with this provider: local, google or github.
        #[arg(long)]
        provider: Option<altrion_domain::Provider>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// One account: identities, lockout state, session count (never the password hash).
    Show {
        email: String,
        #[arg(long)]
        json: bool,
    },
    /// Clear an account's failed logins and lock.
    Unlock { email: String },
    /// Delete an account and all its sessions.
    Delete {
        email: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Live sessions, newest first, with their public ids.
    List {
        /// Only this user's sessions.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// End one session by its public id, or every session of a user with --user.
    Revoke {
        /// The public id listed by `sessions list`.
        #[arg(required_unless_present = "user", conflicts_with = "user")]
        id: Option<String>,
        /// End every session of this user.
        #[arg(long)]
        user: Option<String>,
    },
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
