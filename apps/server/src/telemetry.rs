//! Structured logs through `tracing`: readable in development, JSON in production.

use tracing_subscriber::{fmt, EnvFilter};

use crate::settings::{LogFormat, LogSettings};

/// Keeps actix's HTTP parser errors out of the logs (they are client garbage, not our errors).
const QUIET_PARSER: &str = "actix_http::h1::dispatcher=off";

/// Installs the global subscriber once; later calls (as in tests) are ignored.
/// `RUST_LOG`, when set, overrides the configured filter.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.level))
        .unwrap_or_else(|_| EnvFilter::new("info"))
        // actix logs every unparsable request at ERROR: anyone sending garbage could flood the
        // error log. Those requests get their 400 regardless.
        .add_directive(QUIET_PARSER.parse().unwrap_or_default());
    let builder = fmt().with_env_filter(filter).with_target(true);
    let _already_set = match settings.format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
