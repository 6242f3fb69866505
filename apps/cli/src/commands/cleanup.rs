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
    let question = format!(
        "Drop {} collection(s) from database {}? [y/N] ",
        plan.len(),
        db.name()
    );
    if !yes && !confirm(&question)? {
        output::line("Aborted; nothing was dropped.");
        return Ok(());
    }
    let dropped = maintenance::cleanup(db, &plan).await?;
    output::cleanup_done(&dropped);
    Ok(())
}

/// Asks on the terminal; only "y" or "yes" confirms. Without a terminal it refuses, so a
/// script never destroys data by accident: such callers pass `--yes`.
pub(super) fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing without confirmation: stdin is not a terminal. Re-run with --yes (or \
             --dry-run where there is one)."
        );
    }
    let mut stderr = std::io::stderr();
    stderr.write_all(question.as_bytes())?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}
