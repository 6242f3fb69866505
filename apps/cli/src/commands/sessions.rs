//! `altrion sessions list | revoke`.

use altrion_domain::{Clock as _, SystemClock};
use altrion_storage::{maintenance, Database};
use anyhow::bail;

use super::email;
use crate::{cli::SessionsCommand, output};

pub async fn run(db: &Database, command: SessionsCommand) -> anyhow::Result<()> {
    match command {
        SessionsCommand::List { user, json } => {
            let address = user.as_deref().map(email).transpose()?;
            let Some(sessions) =
                maintenance::list_sessions(db, address.as_ref(), SystemClock.now()).await?
            else {
                bail!("no user with email {}", user.unwrap_or_default());
            };
            if json {
                output::json(&sessions)
            } else {
                output::sessions(&sessions);
                Ok(())
            }
        }
        SessionsCommand::Revoke { id, user } => match (id, user) {
            (_, Some(raw)) => match maintenance::revoke_user_sessions(db, &email(&raw)?).await? {
                Some(n) => {
                    output::line(&format!("Ended {n} session(s) of {raw}."));
                    Ok(())
                }
                None => bail!("no user with email {raw}"),
            },
            (Some(id), None) => {
                if !maintenance::revoke_session(db, &id).await? {
                    bail!("no session with id {id}");
                }
                output::line(&format!("Ended session {id}."));
                Ok(())
            }
            (None, None) => bail!("give a session id, or --user EMAIL"),
        },
    }
}
