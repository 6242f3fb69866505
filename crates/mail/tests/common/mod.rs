//! Helpers both test binaries share: options, a message, an `.eml` reader, captured logs.
#![allow(dead_code)] // each test binary uses its own share of these

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use altrion_domain::{Email, OutgoingMail};
use altrion_mail::MailOptions;

pub const FROM: &str = "Altrion <no-reply@example.com>";
/// The secret part of every test body: it must reach the recipient and no log.
/// As long as a real mailed JWT (~400 characters), so the link line is far over 76.
pub const TOKEN: &str = concat!(
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI2YjBmNjYwMDE5MDI5MjBlNmNhZjQyODgiLCJwdXJwb3Nl",
    "IjoiZW1haWxfdmVyaWZpY2F0aW9uIiwidHYiOjAsImVtYWlsIjoid2FsazNAZXhhbXBsZS5jb20iLCJpYXQiOjE3OTYx",
    "NzEyNjQsImV4cCI6MTc5NjI1NzY2NCwiaXNzIjoiYWx0cmlvbiIsImF1ZCI6ImFsdHJpb24tbWFpbCIsImp0aSI6IjdkNjEy",
    "MTMxLWNhYTYtNGQ4Ny05ZGE0LTk5ZTk5NDFhNDdhZSJ9.gwHzqi2K48vVw64Drnh8zQ2cRADukdNg3TAACZ04L1s"
);

/// Options for `smtp_url` (`None`: the outbox in `outbox_dir`) with test-sized limits.
pub fn options(smtp_url: Option<String>, outbox_dir: &std::path::Path) -> MailOptions {
    let mut options = MailOptions::new(FROM, outbox_dir);
    options.smtp_url = smtp_url.map(Into::into);
    options.timeout = Duration::from_secs(10);
    options.retry_backoff = Duration::from_millis(1);
    options
}

/// A verification message to `to` whose body carries [`TOKEN`] and non-ASCII text.
pub fn mail(to: &str, subject: &str) -> OutgoingMail {
    OutgoingMail {
        to: Email::parse(to).unwrap(),
        subject: subject.into(),
        text: body(),
    }
}

pub fn body() -> String {
    format!(
        "Hello Ada,\n\nConfirm your address: https://app.example.com/verify?token={TOKEN}\n\nGrüße, Altrion\n"
    )
}

/// A message as it travels: unfolded headers and the decoded text body.
pub struct Eml {
    headers: Vec<(String, String)>,
    pub body: String,
}

impl Eml {
    pub fn parse(raw: &str) -> Self {
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .expect("headers end with a blank line");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut().expect("a continuation follows a header");
                last.1.push_str(line);
            } else {
                let (name, value) = line.split_once(':').expect("a header line has a colon");
                headers.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        let mut eml = Self {
            headers,
            body: String::new(),
        };
        let body = body.trim_end_matches("\r\n");
        eml.body = match eml.header("Content-Transfer-Encoding") {
            Some("quoted-printable") => decode_quoted_printable(body),
            Some("7bit" | "8bit") | None => body.to_owned(),
            Some(other) => panic!("unexpected transfer encoding {other}"),
        }
        .replace("\r\n", "\n");
        eml
    }

    /// The value of the header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Asserts the parts of a delivered verification message: sender, recipient, subject, dates,
/// Message-ID in the sender's domain, UTF-8 plain text, and the body intact.
pub fn assert_message(raw: &str, to: &str, subject: &str) {
    let eml = Eml::parse(raw);
    assert_eq!(eml.header("From"), Some(FROM), "{raw}");
    assert_eq!(eml.header("To"), Some(to), "{raw}");
    assert_eq!(eml.header("Subject"), Some(subject), "{raw}");
    assert!(eml.header("Date").is_some_and(|d| !d.is_empty()), "{raw}");
    let id = eml.header("Message-ID").unwrap();
    assert!(id.starts_with('<') && id.ends_with("@example.com>"), "{id}");
    assert_eq!(
        eml.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    // 8bit: the link stays as written, readable in a raw `.eml` (no quoted-printable `=3D`).
    assert_eq!(
        eml.header("Content-Transfer-Encoding"),
        Some("8bit"),
        "{raw}"
    );
    assert!(raw.contains(&format!("verify?token={TOKEN}")), "{raw}");
    // SMTP framing may add a final line end; the text itself must arrive intact.
    assert_eq!(eml.body.trim_end(), body().trim_end());
}

/// Everything logged while the returned guard lives, on this thread (a current-thread runtime
/// runs the delivery task here too).
pub fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(logs.clone())
        .finish();
    (logs.clone(), tracing::subscriber::set_default(subscriber))
}

#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// Asserts that nothing of a message body was logged.
    pub fn assert_no_body(&self) {
        let text = self.text();
        assert!(
            !text.contains(TOKEN) && !text.contains("Hello Ada"),
            "{text}"
        );
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Polls `future` once: `Some` when it completed without waiting on anything.
pub fn poll_once<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}
