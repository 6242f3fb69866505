use std::{net::TcpListener, time::Duration};

use altrion_domain::{MailError, Mailer as _};
use altrion_mail::{MailConfigError, MailQueue, MailReport};

use crate::common::{capture_logs, mail, options, poll_once};

#[tokio::test]
async fn with_no_server_listening_send_succeeds_and_the_failure_is_logged_not_returned() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let (logs, _guard) = capture_logs();
    let mut options = options(Some(format!("smtp://127.0.0.1:{port}")), "unused".as_ref());
    options.max_attempts = 2;
    let (queue, worker) = MailQueue::start(options).unwrap();

    let sent = poll_once(queue.send(mail("ada@example.com", "Verify your email")));
    let report = worker.shutdown(Duration::from_secs(30)).await;

    assert_eq!(sent, Some(Ok(())), "queued at once");
    assert_eq!(
        report,
        MailReport {
            failed: 1,
            ..MailReport::default()
        }
    );
    let text = logs.text();
    assert_eq!(
        text.matches("mail delivery failed; retrying").count(),
        1,
        "{text}"
    );
    assert!(text.contains("mail not delivered"), "{text}");
    assert!(text.contains("recipient_domain=example.com"), "{text}");
    assert!(
        text.contains(&format!("server=smtp://127.0.0.1:{port}")),
        "{text}"
    );
    logs.assert_no_body();
}

#[tokio::test]
async fn after_shutdown_send_answers_closed() {
    let dir = std::env::temp_dir().join(format!("altrion-mail-closed-{}", std::process::id()));
    let (queue, worker) = MailQueue::start(options(None, &dir)).unwrap();
    let first = worker.shutdown(Duration::from_secs(30)).await;
    assert_eq!(first, MailReport::default());

    let refused = queue.send(mail("ada@example.com", "Too late")).await;

    assert_eq!(refused, Err(MailError::Closed));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn start_outside_a_tokio_runtime_is_refused() {
    let dir = std::env::temp_dir().join("altrion-mail-no-runtime");
    let refused = MailQueue::start(options(None, &dir)).unwrap_err();
    assert_eq!(refused, MailConfigError::NoRuntime);
}

#[tokio::test]
async fn start_refuses_a_bad_sender_and_a_bad_scheme() {
    let mut bad_from = options(None, "unused".as_ref());
    bad_from.from = "no-reply at example".into();
    assert!(matches!(
        MailQueue::start(bad_from).unwrap_err(),
        MailConfigError::From(_)
    ));

    let scheme = options(Some("http://127.0.0.1:25".into()), "unused".as_ref());
    assert_eq!(
        MailQueue::start(scheme).unwrap_err(),
        MailConfigError::UrlScheme("http".into())
    );
}

#[tokio::test]
async fn start_builds_starttls_and_implicit_tls_transports() {
    for url in [
        "smtp://user:pass@smtp.example.com:587?tls=required",
        "smtps://smtp.example.com",
    ] {
        let (_queue, worker) = MailQueue::start(options(Some(url.into()), "unused".as_ref()))
            .unwrap_or_else(|err| panic!("{url}: {err}"));
        assert_eq!(
            worker.shutdown(Duration::from_secs(30)).await,
            MailReport::default()
        );
    }
}
