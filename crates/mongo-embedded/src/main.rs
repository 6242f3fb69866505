//! `mongo-embedded` binary: a development MongoDB-compatible server.

use clap::Parser;
use mongo_embedded::{Server, ServerOptions};
use std::path::PathBuf;
use std::time::Duration;

/// Zero-setup MongoDB-wire-compatible server for development and CI (not for production).
#[derive(Parser, Debug)]
#[command(name = "mongo-embedded", version)]
struct Args {
    /// TCP port to listen on.
    #[arg(long, default_value_t = 27017)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Data directory (in-memory when absent).
    #[arg(long)]
    dbpath: Option<PathBuf>,
    /// Seconds between TTL passes.
    #[arg(long, default_value_t = 60)]
    ttl_interval: u64,
    /// Threads serving connections. One is the default: commands are short and share one data
    /// lock, so more threads mostly add cross-thread wake-ups (see PERFORMANCE.md); raise it
    /// for many clients sending large messages at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: u16,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match args.threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(usize::from(n))
            .enable_all()
            .build(),
    };
    match runtime {
        Ok(runtime) => runtime.block_on(serve(args)),
        Err(e) => {
            eprintln!("mongo-embedded: cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Install signal handlers before announcing readiness, so a supervisor
    // that signals right after "listening on" still gets a graceful stop.
    let shutdown = match Shutdown::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mongo-embedded: cannot install signal handlers: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut opts = ServerOptions::default()
        .bind(args.bind)
        .port(args.port)
        .ttl_interval(Duration::from_secs(args.ttl_interval));
    if let Some(d) = args.dbpath {
        opts = opts.dbpath(d);
    }
    let server = match Server::start(opts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mongo-embedded: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Machine-readable line so supervisors/tests can find the port.
    println!("listening on {}", server.local_addr());
    shutdown.wait().await;
    tracing::info!("signal received, shutting down");
    match server.shutdown().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mongo-embedded: shutdown failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// SIGINT/SIGTERM listeners.
struct Shutdown {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Shutdown {
    fn install() -> std::io::Result<Shutdown> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Shutdown {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Shutdown {})
        }
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = self.int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
