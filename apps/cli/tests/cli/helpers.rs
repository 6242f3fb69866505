//! A database per test and a way to run the built binary against it.

use std::{
    path::PathBuf,
    process::{Command, Output, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use mongo_embedded::{Server, ServerHandle, ServerOptions};
use mongodb::{bson::Document, Client, Database};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A running `mongo-embedded`, a fresh database name on it, and a driver handle to it.
pub struct TestDb {
    pub server: ServerHandle,
    pub name: String,
    pub db: Database,
}

impl TestDb {
    pub async fn start() -> Self {
        let server = Server::start(
            ServerOptions::default()
                .bind("127.0.0.1")
                .port(0)
                .ttl_interval(Duration::from_secs(24 * 3600)),
        )
        .await
        .unwrap();
        let name = format!(
            "cli_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let client = Client::with_uri_str(server.uri()).await.unwrap();
        let db = client.database(&name);
        Self { server, name, db }
    }

    /// `altrion <args>` with `MONGODB_URI` / `MONGODB_DB` pointing at this database.
    pub async fn altrion(&self, args: &[&str]) -> Run {
        let env = [
            ("MONGODB_URI", self.server.uri()),
            ("MONGODB_DB", self.name.clone()),
        ];
        altrion(args, &env).await
    }

    pub async fn collections(&self) -> Vec<String> {
        let mut names = self.db.list_collection_names().await.unwrap();
        names.sort();
        names
    }

    pub async fn add_junk(&self, name: &str) {
        self.db
            .collection::<Document>(name)
            .insert_one(mongodb::bson::doc! {"junk": true})
            .await
            .unwrap();
    }

    pub async fn stop(self) {
        self.db.drop().await.unwrap();
        self.server.shutdown().await.unwrap();
    }
}

/// A finished `altrion` run.
#[derive(Debug)]
pub struct Run {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// An empty working directory, so no stray `.env` or `config/` leaks into the settings.
fn workdir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("altrion-cli-cwd");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the built binary with a clean environment plus `env`, stdin closed (not a terminal).
pub async fn altrion(args: &[&str], env: &[(&str, String)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_altrion"));
    command
        .args(args)
        .env_clear()
        .env("APP_ENV", "test")
        // No secret ships with the repository; the CLI validates settings like the server.
        .env(
            "JWT_SECRET",
            "cli-test-jwt-secret-of-at-least-32-bytes-0123456789",
        )
        .env(
            "SESSION_SECRET",
            "cli-test-session-secret-of-at-least-32-bytes-012345",
        )
        .current_dir(workdir())
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let started = std::time::Instant::now();
    let output: Output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    Run {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}
