//! `mock-oauth`: serves mock Google and GitHub OAuth endpoints on loopback.

use std::{net::SocketAddr, process::ExitCode};

use altrion_mock_oauth::{start_with, MockConfig, DEFAULT_PORT};
use clap::Parser;

/// Mock Google and GitHub OAuth providers for trying Altrion's sign-in locally.
#[derive(Debug, Parser)]
#[command(name = "mock-oauth", version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, env = "MOCK_OAUTH_PORT", default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Email pre-filled on the sign-in form (a `login_hint` overrides it).
    #[arg(long, default_value = "ada@example.com")]
    email: String,
    /// Name pre-filled on the sign-in form.
    #[arg(long, default_value = "Ada Lovelace")]
    name: String,
    #[arg(long, default_value = "mock-google-client-id")]
    google_client_id: String,
    #[arg(long, default_value = "mock-google-client-secret")]
    google_client_secret: String,
    #[arg(long, default_value = "mock-github-client-id")]
    github_client_id: String,
    #[arg(long, default_value = "mock-github-client-secret")]
    github_client_secret: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = MockConfig {
        google_client_id: args.google_client_id,
        google_client_secret: args.google_client_secret,
        github_client_id: args.github_client_id,
        github_client_secret: args.github_client_secret,
        default_email: args.email,
        default_name: args.name,
    };
    let mock = match start_with(SocketAddr::from(([127, 0, 0, 1], args.port)), config).await {
        Ok(mock) => mock,
        Err(err) => {
            eprintln!(
                "mock-oauth: cannot listen on 127.0.0.1:{}: {err}",
                args.port
            );
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "mock-oauth: Google and GitHub mocks on {}\nmock-oauth: start the server with:\n",
        mock.base_url()
    );
    for (key, value) in mock.server_env() {
        eprintln!("  {key}={value}");
    }
    if let Err(err) = tokio::signal::ctrl_c().await {
        eprintln!("mock-oauth: cannot wait for Ctrl-C: {err}");
    }
    mock.stop().await;
    ExitCode::SUCCESS
}
