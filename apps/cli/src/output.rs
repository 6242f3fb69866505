//! Everything the CLI prints: results on stdout (human or JSON), errors and prompts on stderr.
#![allow(clippy::print_stdout)]

use altrion_storage::{
    maintenance::{CheckReport, SessionSummary, UserSummary},
    migrations::{IndexStatus, MigrationReport},
};
use serde::Serialize;

pub fn line(text: &str) {
    println!("{text}");
}

pub fn json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `error: …` with the cause chain, one cause per line.
pub fn error(err: &anyhow::Error) {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

pub fn check(report: &CheckReport) {
    println!(
        "Database {} (checked at {})",
        report.database, report.checked_at
    );
    println!();
    let width = report
        .collections
        .iter()
        .map(|c| c.name.len())
        .chain([10])
        .max()
        .unwrap_or(10);
    println!("{:<width$}  {:>9}  INDEXES", "COLLECTION", "DOCUMENTS");
    for collection in &report.collections {
        let note = if report.unexpected_collections.contains(&collection.name) {
            "  (not Altrion's: `altrion db cleanup` drops it)"
        } else {
            ""
        };
        println!(
            "{:<width$}  {:>9}  {}{note}",
            collection.name,
            collection.documents,
            collection.indexes.join(", ")
        );
    }
    for missing in &report.missing_collections {
        println!("{missing:<width$}  {:>9}  (missing: created by `altrion db migrate` or the first write)", "-");
    }
    println!();
    println!(
        "Sessions: {} active (signed in), {} anonymous, {} expired awaiting removal by the TTL monitor",
        report.sessions.active, report.sessions.anonymous, report.sessions.expired_awaiting_removal
    );
    let providers: Vec<String> = report
        .users_by_provider
        .iter()
        .map(|(provider, n)| format!("{provider} {n}"))
        .collect();
    let total: u64 = report.users_by_provider.values().sum();
    if providers.is_empty() {
        println!("Users: none");
    } else {
        println!("Users: {total} ({})", providers.join(", "));
    }
    if report.indexes.is_complete() {
        println!("Indexes: as in migrations/");
    } else {
        if let Some(n) = report.duplicate_emails.filter(|n| *n > 0) {
            println!(
                "Duplicate emails: {n} value(s) held by more than one account; users.email_1 cannot be built until they are merged or removed (see docs/operations.md)"
            );
        }
        if !report.indexes.missing.is_empty() {
            println!(
                "Indexes missing (run `altrion db migrate`): {}",
                report.indexes.missing.join(", ")
            );
        }
        for conflict in &report.indexes.conflicts {
            println!("Index conflict: {conflict}");
        }
    }
}

pub fn cleanup_plan(database: &str, plan: &[String], dry_run: bool) {
    if plan.is_empty() {
        println!("Nothing to clean up: database {database} holds only users and sessions.");
        return;
    }
    let verb = if dry_run { "Would drop" } else { "Will drop" };
    println!(
        "{verb} {} collection(s) from database {database}:",
        plan.len()
    );
    for name in plan {
        println!("  {name}");
    }
    if dry_run {
        println!("Dry run: nothing was dropped.");
    }
}

pub fn cleanup_done(dropped: &[String]) {
    println!(
        "Dropped {} collection(s): {}",
        dropped.len(),
        dropped.join(", ")
    );
}

pub fn migrate(database: &str, report: &MigrationReport) {
    println!("Database {database}:");
    for migration in &report.migrations {
        println!("  {}", migration.id);
        for index in &migration.indexes {
            let status = match &index.status {
                IndexStatus::Created => "created".to_owned(),
                IndexStatus::Present => "present".to_owned(),
                IndexStatus::PresentAs(name) => format!("present as {name}"),
            };
            println!("    {}.{}: {status}", index.collection, index.name);
        }
    }
    let created = report.created();
    if created.is_empty() {
        println!("All indexes already exist; nothing to do.");
    } else {
        println!("Created {} index(es).", created.len());
    }
}

pub fn users(users: &[UserSummary]) {
    if users.is_empty() {
        println!("No users.");
        return;
    }
    println!(
        "{:<32}  {:<9}  {:<20}  {:>8}  LOCKED",
        "EMAIL", "PROVIDER", "CREATED", "SESSIONS"
    );
    for user in users {
        println!(
            "{:<32}  {:<9}  {:<20}  {:>8}  {}",
            user.email,
            user.provider,
            user.created_at.get(..19).unwrap_or(&user.created_at),
            user.sessions,
            user.locked_until.as_deref().unwrap_or("no")
        );
    }
}

pub fn user(user: &UserSummary) {
    println!("{} <{}>", user.name, user.email);
    println!("  id:            {}", user.id);
    println!("  created with:  {}", user.provider);
    println!("  signs in with: {}", user.providers.join(", "));
    if !user.identities.is_empty() {
        println!("  identities:    {}", user.identities.join(", "));
    }
    println!("  created:       {}", user.created_at);
    println!(
        "  last login:    {}",
        user.last_login_at
            .as_deref()
            .unwrap_or("never (by password)")
    );
    println!(
        "  lockout:       {} failed login(s), {}",
        user.failed_logins,
        user.locked_until
            .as_deref()
            .map_or_else(|| "not locked".to_owned(), |u| format!("locked until {u}"))
    );
    println!("  sessions:      {} live", user.sessions);
}

pub fn sessions(sessions: &[SessionSummary]) {
    if sessions.is_empty() {
        println!("No live sessions.");
        return;
    }
    println!(
        "{:<32}  {:<24}  {:<20}  {:<15}  USER AGENT",
        "ID", "USER", "LAST SEEN", "IP"
    );
    for session in sessions {
        println!(
            "{:<32}  {:<24}  {:<20}  {:<15}  {}",
            session.id.as_deref().unwrap_or("-"),
            session.user_id.as_deref().unwrap_or("-"),
            session
                .last_seen_at
                .get(..19)
                .unwrap_or(&session.last_seen_at),
            session.ip.as_deref().unwrap_or("-"),
            session.user_agent.as_deref().unwrap_or("-")
        );
    }
}
