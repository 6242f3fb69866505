//! `altrion users list | show | unlock | delete`.

use altrion_domain::{Clock as _, SystemClock};
use altrion_storage::{maintenance, Database};
use anyhow::bail;

use super::{cleanup::confirm, email};
use crate::{cli::UsersCommand, output};

pub async fn run(db: &Database, command: UsersCommand) -> anyhow::Result<()> {
    let now = SystemClock.now();
    match command {
        UsersCommand::List {
            provider,
            limit,
            json,
        } => {
            let users = maintenance::list_users(db, provider, i64::from(limit), now).await?;
            if json {
                output::json(&users)
            } else {
                output::users(&users);
                Ok(())
            }
        }
        UsersCommand::Show { email: raw, json } => {
            let Some(user) = maintenance::show_user(db, &email(&raw)?, now).await? else {
                bail!("no user with email {raw}");
            };
            if json {
                output::json(&user)
            } else {
                output::user(&user);
                Ok(())
            }
        }
        UsersCommand::Unlock { email: raw } => {
            if !maintenance::unlock_user(db, &email(&raw)?).await? {
                bail!("no user with email {raw}");
            }
            output::line(&format!("Unlocked {raw}: failed logins cleared."));
            Ok(())
        }
        UsersCommand::Delete { email: raw, yes } => {
            let address = email(&raw)?;
            if maintenance::show_user(db, &address, now).await?.is_none() {
                bail!("no user with email {raw}");
            }
            if !yes
                && !confirm(&format!(
                    "Delete the account {raw} and all its sessions? [y/N] "
                ))?
            {
                output::line("Aborted; nothing was deleted.");
                return Ok(());
            }
            match maintenance::delete_user(db, &address).await? {
                Some(sessions) => {
                    output::line(&format!("Deleted {raw} and {sessions} session(s)."));
                    Ok(())
                }
                None => bail!("no user with email {raw}"),
            }
        }
    }
}
