//! The SMTP sink child process, read line by line: no polling, no sleeps. Shared with
//! `apps/server/tests/smtp` (included by path).

use std::{process::Stdio, time::Duration};

use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt as _, BufReader, Lines},
    process::{Child, ChildStdin, ChildStdout, Command},
};

/// How long any one line from the sink may take; generous, it only bounds a broken run.
const DEADLINE: Duration = Duration::from_secs(30);

/// A running `smtp_sink.py`, killed when dropped.
pub struct Sink {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
    pub port: u16,
}

impl Sink {
    /// Starts the sink with `args` (`--fail-with 451 --times 2`, `--reject 550`, `--stall`).
    pub async fn start(args: &[&str]) -> Self {
        // Two levels below the workspace root, as the server's test that shares this file is.
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../crates/mail/tests/smtp_sink.py"
        );
        let mut child = Command::new("python3")
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs (make smtp needs python3 with aiosmtpd)");
        let stdin = child.stdin.take();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = next_line(&mut lines)
            .await
            .expect("the sink prints its port");
        let port = first
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("expected PORT <n>, got {first:?}"));
        Self {
            child,
            stdin,
            lines,
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The next event the sink reports (one DATA answered, or a connection when stalled).
    pub async fn next_event(&mut self) -> Value {
        let line = next_line(&mut self.lines)
            .await
            .expect("the sink reports an event");
        serde_json::from_str(&line).unwrap()
    }

    /// Stops the sink and returns the events it reported after those already read.
    pub async fn finish(mut self) -> Vec<Value> {
        drop(self.stdin.take());
        let mut rest = Vec::new();
        while let Some(line) = next_line(&mut self.lines).await {
            rest.push(serde_json::from_str(&line).unwrap());
        }
        let status = tokio::time::timeout(DEADLINE, self.child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "the sink failed: {status}");
        rest
    }
}

async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> Option<String> {
    tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .expect("the sink answered within the deadline")
        .unwrap()
}
