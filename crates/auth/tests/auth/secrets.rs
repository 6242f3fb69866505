use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use tracing_subscriber::fmt::MakeWriter;

use crate::helpers::{TestApp, PASSWORD};

/// A log sink for assertions on what was written.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Runs on the current thread so the thread-local subscriber sees every event.
#[tokio::test(flavor = "current_thread")]
async fn logs_and_debug_output_never_contain_passwords_or_tokens() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = TestApp::new();

    let signed_up = app.ada().await;
    let logged_in = app.login("ada@example.com", PASSWORD).await.unwrap();
    let wrong = app.login("ada@example.com", "wrong-horse-battery").await;
    let unknown = app.login("nobody@example.com", PASSWORD).await;
    let taken = app.signup("Ada", "ada@example.com", PASSWORD).await;
    app.service
        .authenticate_token(&logged_in.token.token)
        .await
        .unwrap();
    let _ = app.service.authenticate_token("garbage.token.value").await;

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("logged in"), "nothing was logged:\n{logs}");
    assert!(logs.contains("login failed"));
    let debug = format!("{signed_up:?} {logged_in:?} {wrong:?} {unknown:?} {taken:?}");
    for secret in [
        PASSWORD,
        "wrong-horse-battery",
        signed_up.token.token.as_str(),
        logged_in.token.token.as_str(),
        "$argon2id$",
    ] {
        assert!(!logs.contains(secret), "log contains {secret:?}");
        assert!(!debug.contains(secret), "Debug contains {secret:?}");
    }
}
