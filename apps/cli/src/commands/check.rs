use altrion_domain::{Clock, SystemClock};
use altrion_storage::{maintenance, Database};

use crate::output;

pub async fn run(db: &Database, json: bool) -> anyhow::Result<()> {
    let report = maintenance::check(db, SystemClock.now()).await?;
    if json {
        output::json(&report)
    } else {
        output::check(&report);
        Ok(())
    }
}
