use std::{path::PathBuf, time::Duration};

use altrion_domain::Mailer as _;
use altrion_mail::{MailConfigError, MailQueue, MailReport};

use crate::common::{assert_message, capture_logs, mail, options};

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("altrion-mail-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn the_outbox_holds_one_parsable_eml_per_message_and_the_log_names_only_its_file() {
    let dir = fresh_dir("outbox").join("nested");
    let (logs, _guard) = capture_logs();
    let (queue, worker) = MailQueue::start(options(None, &dir)).unwrap();

    queue
        .send(mail("ada@example.com", "Verify your email"))
        .await
        .unwrap();
    queue
        .send(mail("bob@example.org", "Reset your password"))
        .await
        .unwrap();
    let report = worker.shutdown(Duration::from_secs(30)).await;

    assert_eq!(
        report,
        MailReport {
            sent: 2,
            ..MailReport::default()
        }
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let mut seen = Vec::new();
    for file in &files {
        assert_eq!(file.extension().and_then(|e| e.to_str()), Some("eml"));
        let raw = std::fs::read_to_string(file).unwrap();
        let to = if raw.contains("To: ada@") {
            "ada@example.com"
        } else {
            "bob@example.org"
        };
        let subject = if to.starts_with("ada") {
            "Verify your email"
        } else {
            "Reset your password"
        };
        assert_message(&raw, to, subject);
        seen.push(to);
        assert!(
            logs.text().contains(&file.display().to_string()),
            "{}",
            logs.text()
        );
    }
    seen.sort();
    assert_eq!(seen, ["ada@example.com", "bob@example.org"]);
    logs.assert_no_body();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn an_outbox_that_cannot_be_created_is_refused_at_start() {
    let dir = fresh_dir("not-a-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("file");
    std::fs::write(&file, b"").unwrap();

    let refused = MailQueue::start(options(None, &file.join("outbox"))).unwrap_err();

    assert!(
        matches!(refused, MailConfigError::Outbox { .. }),
        "{refused}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
