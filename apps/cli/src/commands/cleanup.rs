use std::io::{BufRead, IsTerminal, Write};

use altrion_storage::{maintenance, Database};
use anyhow::bail;

use crate::output;

pub async fn run(db: &Database, yes: bool, dry_run: bool) -> anyhow::Result<()> {
    let plan = maintenance::cleanup_plan(db).await?;
    output::cleanup_plan(db.name(), &plan, dry_run);
    if plan.is_empty() || dry_run {
        return Ok(());
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "refusing to drop {} collection(s) without confirmation: stdin is not a terminal. \
                 Re-run with --yes to drop them, or --dry-run to only list them.",
                plan.len()
            );
        }
        if !confirm(&format!(
            "Drop {} collection(s) from database {}? [y/N] ",
            plan.len(),
            db.name()
        ))? {
            output::line("Aborted; nothing was dropped.");
            return Ok(());
        }
    }
    let dropped = maintenance::cleanup(db, &plan).await?;
    output::cleanup_done(&dropped);
    Ok(())
}

/// Asks on the terminal; only "y" or "yes" confirms.
fn confirm(question: &str) -> anyhow::Result<bool> {
    let mut stderr = std::io::stderr();
    stderr.write_all(question.as_bytes())?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}
