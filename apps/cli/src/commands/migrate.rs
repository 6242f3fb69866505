use altrion_storage::{migrations, Database};

use crate::output;

pub async fn run(db: &Database, json: bool) -> anyhow::Result<()> {
    let report = migrations::apply(db).await?;
    if json {
        output::json(&report)
    } else {
        output::migrate(db.name(), &report);
        Ok(())
    }
}
