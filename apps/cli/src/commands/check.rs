use altrion_domain::{Clock, SystemClock};
use altrion_storage::{maintenance, Database};

use crate::output;

/// Prints the report; fails (exit status 1) when an index of `migrations/` is missing or
/// conflicting, since nothing then keeps emails and identities unique.
pub async fn run(db: &Database, json: bool) -> anyhow::Result<()> {
    let report = maintenance::check(db, SystemClock.now()).await?;
    if json {
        output::json(&report)?;
    } else {
        output::check(&report);
    }
    let indexes = &report.indexes;
    if indexes.is_complete() {
        return Ok(());
    }
    let mut problems: Vec<String> = indexes
        .missing
        .iter()
        .map(|name| format!("{name} missing (run `altrion db migrate`)"))
        .collect();
    problems.extend(
        indexes
            .conflicts
            .iter()
            .map(|c| format!("{}.{} conflicts ({})", c.collection, c.index, c.fix)),
    );
    if let Some(n) = report.duplicate_emails.filter(|n| *n > 0) {
        problems.push(format!("{n} email value(s) held by more than one account"));
    }
    anyhow::bail!(
        "the indexes are not in place, so uniqueness is not enforced: {}",
        problems.join("; ")
    )
}
