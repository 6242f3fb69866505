//! Headless Chromium driven over WebDriver: each `Browser` starts its own chromedriver on a free
//! loopback port (`--port=0`, the port read from its banner; started again when that port turns
//! out to be taken on `[::1]`) with a fresh profile directory, and
//! stops both when closed or dropped, then checks that no Chromium process of that profile is
//! left. Every wait is bounded; nothing sleeps for timing.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, OnceLock,
    },
    thread,
    time::{Duration, Instant},
};

use fantoccini::{elements::Element, wd::Capabilities, Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::sync::{Semaphore, SemaphorePermit};

/// How long any single wait (driver start, page state, element) may take.
pub const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

/// The flags this machine's Chromium needs (headless as root, no network beyond loopback).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1000,820",
    "--lang=en-US",
];

/// At most two browsers at once: the machines have two cores.
fn browser_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(2))
}

fn program(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

/// A Chromium session. Close it with [`Browser::close`]; dropping it also cleans up.
pub struct Browser {
    client: Option<Client>,
    session_id: Option<String>,
    driver: Child,
    driver_port: u16,
    profile: PathBuf,
    _slot: SemaphorePermit<'static>,
}

impl Browser {
    /// Starts chromedriver (`$CHROMEDRIVER`, default `/usr/bin/chromedriver`) and a headless
    /// Chromium (`$CHROMIUM`, default `/usr/bin/chromium`).
    pub async fn launch() -> Self {
        let slot = browser_slots().acquire().await.unwrap();
        static PROFILES: AtomicUsize = AtomicUsize::new(0);
        let profile = std::env::temp_dir().join(format!(
            "altrion-e2e-{}-{}",
            std::process::id(),
            PROFILES.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();

        let (driver, driver_port) = start_driver();

        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".to_owned(),
            json!({ "binary": program("CHROMIUM", "/usr/bin/chromium"), "args": args }),
        );
        caps.insert("goog:loggingPrefs".to_owned(), json!({ "browser": "ALL" }));
        let mut browser = Self {
            client: None,
            session_id: None,
            driver,
            driver_port,
            profile,
            _slot: slot,
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .expect("chromedriver starts a Chromium session");
        browser.session_id = client.session_id().await.unwrap();
        browser.client = Some(client);
        browser
    }

    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("browser is open")
    }

    pub async fn goto(&self, url: &str) {
        self.client().goto(url).await.unwrap();
    }

    pub async fn reload(&self) {
        self.client().refresh().await.unwrap();
    }

    pub async fn current_url(&self) -> String {
        self.client().current_url().await.unwrap().to_string()
    }

    /// Waits until an element matches the CSS selector.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.client()
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element matched {css:?} within {WAIT:?}: {e}"))
    }

    /// Waits until the page shows `state` (`loading`, `signed-out`, `signed-in`).
    pub async fn wait_for_state(&self, state: &str) {
        self.wait_for(&format!(r#"body[data-state="{state}"]"#))
            .await;
    }

    /// Waits until the message banner shows the text for `code`, and returns that text.
    pub async fn wait_for_message(&self, code: &str) -> String {
        let banner = self
            .wait_for(&format!(r#"#message[data-code="{code}"]:not([hidden])"#))
            .await;
        banner.text().await.unwrap()
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client().find(Locator::Css(css)).await.unwrap()
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    pub async fn is_displayed(&self, css: &str) -> bool {
        self.find(css).await.is_displayed().await.unwrap()
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.unwrap()
    }

    /// Replaces the value of the input `css` with `value`, typing it.
    pub async fn fill(&self, css: &str, value: &str) {
        let input = self.find(css).await;
        input.clear().await.unwrap();
        if !value.is_empty() {
            input.send_keys(value).await.unwrap();
        }
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Runs `script` in the page and returns its result.
    pub async fn eval(&self, script: &str) -> Value {
        self.client().execute(script, Vec::new()).await.unwrap()
    }

    /// The JWT the page keeps in localStorage, if any.
    pub async fn stored_token(&self) -> Option<String> {
        self.eval("return window.localStorage.getItem('altrion.token');")
            .await
            .as_str()
            .map(str::to_owned)
    }

    /// The cookie `name` the browser holds for the current page, as a `name=value` pair
    /// (WebDriver reads `HttpOnly` cookies too).
    pub async fn cookie(&self, name: &str) -> Option<String> {
        self.client()
            .get_all_cookies()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.name() == name)
            .map(|c| format!("{}={}", c.name(), c.value()))
    }

    /// The browser console entries since the last call (chromedriver's log endpoint).
    pub async fn console(&self) -> Vec<Value> {
        let id = self.session_id.as_deref().expect("session is open");
        let url = format!("http://127.0.0.1:{}/session/{id}/se/log", self.driver_port);
        let body: Value = reqwest::Client::new()
            .post(url)
            .json(&json!({ "type": "browser" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["value"].as_array().cloned().unwrap_or_default()
    }

    /// Asserts the page logged no script error, CSP violation or warning; the only errors
    /// allowed are the browser's own notes on non-2xx API answers the page handles.
    pub async fn assert_clean_console(&self) {
        let unexpected: Vec<Value> = self
            .console()
            .await
            .into_iter()
            .filter(|entry| {
                let message = entry["message"].as_str().unwrap_or_default();
                let level = entry["level"].as_str().unwrap_or_default();
                (level == "SEVERE" || level == "WARNING")
                    && !message
                        .contains("Failed to load resource: the server responded with a status of")
            })
            .collect();
        assert!(unexpected.is_empty(), "console: {unexpected:#?}");
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        self.client().screenshot().await.unwrap()
    }

    /// Ends the session (Chromium quits), stops chromedriver, and checks nothing is left.
    pub async fn close(mut self) {
        self.assert_clean_console().await;
        if let Some(client) = self.client.take() {
            client.close().await.unwrap();
            self.session_id = None;
        }
        self.stop();
        assert!(
            self.wait_until_no_chromium(),
            "Chromium processes of {} outlived the session",
            self.profile.display()
        );
    }

    /// Stops chromedriver (and with it any browser it still runs); idempotent.
    fn stop(&mut self) {
        if let Some(id) = self.session_id.take() {
            let _ = raw_request(self.driver_port, "DELETE", &format!("/session/{id}"));
        }
        if matches!(self.driver.try_wait(), Ok(None)) {
            let _ = raw_request(self.driver_port, "GET", "/shutdown");
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.driver.try_wait(), Ok(None)) && Instant::now() < deadline {
                thread::sleep(POLL);
            }
            let _ = self.driver.kill();
        }
        let _ = self.driver.wait();
    }

    /// Polls until no process runs with this browser's profile directory (bounded).
    fn wait_until_no_chromium(&self) -> bool {
        let marker = format!("--user-data-dir={}", self.profile.display());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if !process_running_with(&marker) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(POLL);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed test lands here without `close`: end the session over a plain socket (the
        // async client may have no runtime left to run on), then stop chromedriver.
        drop(self.client.take());
        self.stop();
        let _ = self.wait_until_no_chromium();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// How many times chromedriver is started before giving up when the port it was given is taken.
const DRIVER_STARTS: usize = 5;

/// Starts chromedriver on a free port and returns it with that port.
///
/// With `--port=0` the kernel picks a free IPv4 port, and chromedriver then also binds that port
/// on `[::1]`; when another program holds it there, chromedriver prints "IPv6 port not
/// available. Exiting..." and quits (as it does with "IPv4 port not available" when the port is
/// taken there first). Those exits, and only those, are retried: each start draws a new port.
/// Any other failure panics with what chromedriver printed.
fn start_driver() -> (Child, u16) {
    let mut outputs = Vec::new();
    for _ in 0..DRIVER_STARTS {
        let mut driver = Command::new(program("CHROMEDRIVER", "/usr/bin/chromedriver"))
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver (apt-get install chromium chromium-driver)");
        match driver_port(&mut driver) {
            Ok(port) => return (driver, port),
            Err(output) => {
                let _ = driver.kill();
                let _ = driver.wait();
                let port_taken = output.contains("port not available");
                outputs.push(output);
                if !port_taken {
                    break;
                }
            }
        }
    }
    panic!(
        "chromedriver did not start ({} attempts) and printed:\n{}",
        outputs.len(),
        outputs.join("\n---\n")
    );
}

/// Reads chromedriver's banner ("… started successfully on port N.") for its port, then keeps
/// draining its output in a thread so it never blocks on a full pipe. When chromedriver exits
/// first, or stays silent for [`WAIT`], returns what it printed.
fn driver_port(driver: &mut Child) -> Result<u16, String> {
    let stdout = driver.stdout.take().expect("chromedriver stdout is piped");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut lines = reader.by_ref().lines();
        for line in lines.by_ref().map_while(Result::ok) {
            let port = line
                .split("on port ")
                .nth(1)
                .filter(|_| line.contains("started successfully"))
                .and_then(|rest| {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    digits.parse::<u16>().ok()
                });
            let found = port.is_some();
            if tx.send((line, port)).is_err() || found {
                break;
            }
        }
        // Keep draining, as bytes (a line that is not UTF-8 must not stop it), so chromedriver
        // never blocks on a full pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let deadline = Instant::now() + WAIT;
    let mut printed = Vec::new();
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((_, Some(port))) => return Ok(port),
            Ok((line, None)) => printed.push(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                printed.push("(chromedriver exited)".to_owned());
                return Err(printed.join("\n"));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                printed.push(format!("(no port within {WAIT:?})"));
                return Err(printed.join("\n"));
            }
        }
    }
}

/// One HTTP/1.1 request to chromedriver over a plain socket, with timeouts; returns the
/// status line. Reads exactly the announced body (chromedriver keeps connections open).
fn raw_request(port: u16, method: &str, path: &str) -> std::io::Result<String> {
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        &stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(status.trim().to_owned())
}

/// Whether any process's command line contains `marker`.
fn process_running_with(marker: &str) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let is_pid = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        is_pid
            && std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(marker))
    })
}
