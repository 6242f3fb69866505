use std::process::ExitCode;

use altrion_server::{settings, telemetry, Application};

#[actix_web::main]
async fn main() -> ExitCode {
    let settings = match settings::load() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("altrion-server: {err}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(&settings.log);
    let env = settings.env.as_str();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(error = %err, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port = app.port(), env, "listening");
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "server stopped with an error");
            ExitCode::FAILURE
        }
    }
}
