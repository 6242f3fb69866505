use std::time::Duration;

use altrion_domain::{MailError, Mailer as _};
use altrion_mail::{MailQueue, MailReport};

use crate::{
    common::{assert_message, capture_logs, mail, options, poll_once},
    sink::Sink,
};

const DRAIN: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_queued_message_arrives_with_its_sender_recipient_subject_and_body() {
    let mut sink = Sink::start(&[]).await;
    let (logs, _guard) = capture_logs();
    let (queue, worker) = MailQueue::start(options(Some(sink.url()), "unused".as_ref())).unwrap();

    queue
        .send(mail("ada@example.com", "Verify your email"))
        .await
        .unwrap();
    let event = sink.next_event().await;
    let report = worker.shutdown(DRAIN).await;

    assert_eq!(event["mail_from"], "no-reply@example.com");
    assert_eq!(event["rcpt_tos"], serde_json::json!(["ada@example.com"]));
    assert!(event["reply"].as_str().unwrap().starts_with("250"));
    assert_message(
        event["data"].as_str().unwrap(),
        "ada@example.com",
        "Verify your email",
    );
    assert_eq!(
        report,
        MailReport {
            sent: 1,
            ..MailReport::default()
        }
    );
    logs.assert_no_body();
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn a_transient_451_is_retried_then_delivered() {
    let mut sink = Sink::start(&["--fail-with", "451", "--times", "2"]).await;
    let (queue, worker) = MailQueue::start(options(Some(sink.url()), "unused".as_ref())).unwrap();

    queue
        .send(mail("ada@example.com", "Verify your email"))
        .await
        .unwrap();
    let mut replies = Vec::new();
    for _ in 0..3 {
        replies.push(sink.next_event().await["reply"].as_str().unwrap()[..3].to_owned());
    }
    let report = worker.shutdown(DRAIN).await;

    assert_eq!(replies, ["451", "451", "250"]);
    assert_eq!(
        report,
        MailReport {
            sent: 1,
            ..MailReport::default()
        }
    );
    assert!(sink.finish().await.is_empty(), "no attempt after delivery");
}

#[tokio::test]
async fn a_permanent_550_is_not_retried_and_counts_as_failed() {
    let mut sink = Sink::start(&["--reject", "550"]).await;
    let (logs, _guard) = capture_logs();
    let (queue, worker) = MailQueue::start(options(Some(sink.url()), "unused".as_ref())).unwrap();

    queue
        .send(mail("ada@example.com", "Verify your email"))
        .await
        .unwrap();
    let first = sink.next_event().await;
    let report = worker.shutdown(DRAIN).await;

    assert!(first["reply"].as_str().unwrap().starts_with("550"));
    assert_eq!(
        report,
        MailReport {
            failed: 1,
            ..MailReport::default()
        }
    );
    assert!(sink.finish().await.is_empty(), "exactly one attempt");
    let text = logs.text();
    assert!(
        text.contains("mail not delivered") && text.contains("attempts=1"),
        "{text}"
    );
    assert!(!text.contains("retrying"), "{text}");
    logs.assert_no_body();
}

#[tokio::test]
async fn a_stalled_server_times_out_while_send_returned_at_once() {
    let mut sink = Sink::start(&["--stall"]).await;
    let (logs, _guard) = capture_logs();
    let mut options = options(Some(sink.url()), "unused".as_ref());
    options.timeout = Duration::from_millis(300);
    options.max_attempts = 1;
    let (queue, worker) = MailQueue::start(options).unwrap();

    let sent = poll_once(queue.send(mail("ada@example.com", "Verify your email")));
    assert_eq!(
        sent,
        Some(Ok(())),
        "send completes without waiting for the server"
    );
    assert_eq!(sink.next_event().await["event"], "connect");
    // The server never answers: only the 300 ms timeout lets the worker finish in time.
    let report = worker.shutdown(DRAIN).await;

    assert_eq!(
        report,
        MailReport {
            failed: 1,
            ..MailReport::default()
        }
    );
    assert!(
        logs.text().contains("mail not delivered"),
        "{}",
        logs.text()
    );
    sink.finish().await;
}

#[tokio::test]
async fn a_full_queue_refuses_at_once_and_counts_the_drop() {
    let mut sink = Sink::start(&["--stall"]).await;
    let mut options = options(Some(sink.url()), "unused".as_ref());
    options.timeout = Duration::from_secs(60);
    options.queue_capacity = 1;
    let (queue, worker) = MailQueue::start(options).unwrap();

    queue
        .send(mail("ada@example.com", "in delivery"))
        .await
        .unwrap();
    assert_eq!(
        sink.next_event().await["event"],
        "connect",
        "the worker holds the first"
    );
    queue.send(mail("ada@example.com", "queued")).await.unwrap();
    let full = poll_once(queue.send(mail("ada@example.com", "dropped")));
    let report = worker.shutdown(Duration::ZERO).await;

    assert_eq!(
        full,
        Some(Err(MailError::QueueFull)),
        "refused without blocking"
    );
    assert_eq!(
        report,
        MailReport {
            dropped: 1,
            abandoned: 2,
            ..MailReport::default()
        }
    );
    sink.finish().await;
}
