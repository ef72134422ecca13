//! `strands-runtime`: serves a Strands agent on the Amazon Bedrock AgentCore runtime contract
//! (`GET /ping`, `POST /invocations`, `/ws`) on port 8080.
//!
//! ```text
//! strands-runtime [serve] [--provider bedrock|anthropic|openai|local] [--model-id ID] [--host H] [--port N]
//! strands-runtime doctor [--call-model]
//! ```
//!
//! Configuration (flags win over the environment): `MODEL_PROVIDER` (default `bedrock`),
//! `MODEL_ID`, `AWS_REGION`, `SYSTEM_PROMPT`, `PORT` (default 8080), `HOST` (default 0.0.0.0),
//! `LOG_LEVEL` (default INFO), `MAX_SESSIONS`, `SESSION_IDLE_SECONDS`, `SHUTDOWN_GRACE_SECONDS`
//! (default 25), `IDLE_TIMEOUT_SECONDS`, `HEADER_READ_TIMEOUT_SECONDS`, `BODY_READ_TIMEOUT_SECONDS`,
//! `MAX_BODY_BYTES_IN_FLIGHT`, `MODEL_FIRST_EVENT_TIMEOUT_SECONDS`, `MODEL_IDLE_TIMEOUT_SECONDS`,
//! `MODEL_RETRY_MAX_SECONDS`, `BEDROCK_CREDENTIALS_SECRET`, `BEDROCK_CREDENTIALS_REFRESH_SECONDS` (default
//! 300), `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`, `OPENAI_API_KEY`, `OPENAI_BASE_URL`,
//! `STRANDS_LOCAL_MODEL_PATH`.
//!
//! `strands-runtime doctor [--call-model]` checks the region, credential sources, the credentials
//! secret and the model id, and prints what to fix.

mod cli;
mod doctor;
mod provider;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use strands_agent::{Agent, ModelRetryStrategy};
use strands_core::Model;
use strands_runtime::{
    AgentCoreApp, AgentEntrypoint, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BODY_BYTES_IN_FLIGHT, DEFAULT_MAX_SESSIONS,
    DEFAULT_SESSION_IDLE, DEFAULT_SHUTDOWN_GRACE, Server, logging,
};
use tokio::net::TcpListener;

use crate::cli::{Command, ServeArgs, USAGE};
use crate::provider::{Provider, ProviderConfig};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> ExitCode {
    let level = std::env::var("LOG_LEVEL").unwrap_or_else(|_| "INFO".to_owned());
    if let Err(error) = logging::init(&level) {
        #[allow(clippy::print_stderr, reason = "logging is not available yet")]
        {
            eprintln!("strands-runtime: could not install the logger: {error}");
        }
        return ExitCode::FAILURE;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args) {
        Ok(Command::Help) => {
            #[allow(clippy::print_stdout, reason = "usage is the command's output")]
            {
                print!("{USAGE}");
            }
            ExitCode::SUCCESS
        }
        Ok(Command::Doctor { call_model }) => run_doctor(call_model).await,
        Ok(Command::Serve(serve_args)) => serve(serve_args).await,
        Err(error) => {
            #[allow(
                clippy::print_stderr,
                reason = "command-line misuse is reported on the terminal"
            )]
            {
                eprint!("strands-runtime: {error}\n{USAGE}");
            }
            ExitCode::from(2)
        }
    }
}

/// `strands-runtime doctor`: prints the report; fails when a check failed.
async fn run_doctor(call_model: bool) -> ExitCode {
    let report = doctor::run(call_model).await;
    #[allow(
        clippy::print_stdout,
        reason = "the doctor's report is the command's output"
    )]
    {
        print!("{}", report.render());
    }
    if report.has_failures() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `strands-runtime [serve]`: serves until SIGTERM or Ctrl-C.
async fn serve(serve_args: ServeArgs) -> ExitCode {
    let mut config = match ProviderConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(name) = &serve_args.provider {
        match name.parse::<Provider>() {
            Ok(provider) => config.provider = provider,
            Err(error) => {
                tracing::error!("{error}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(model_id) = serve_args.model_id {
        config = config.with_model_id(model_id);
    }
    let host: String = serve_args
        .host
        .unwrap_or_else(|| env_or("HOST", "0.0.0.0".to_owned()));
    let port: u16 = match serve_args.port.as_deref().map(str::parse) {
        Some(Ok(port)) => port,
        Some(Err(error)) => {
            tracing::error!("--port is not a port number: {error}");
            return ExitCode::FAILURE;
        }
        None => env_or("PORT", 8080),
    };
    let address: SocketAddr = match format!("{host}:{port}").parse() {
        Ok(address) => address,
        Err(error) => {
            tracing::error!(
                "HOST/PORT do not form a socket address ({host}:{port}): {error}; set HOST to an IP address such as 0.0.0.0"
            );
            return ExitCode::FAILURE;
        }
    };
    // Bind first so /ping answers as early as possible; the model client is built after.
    let listener = match TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(
                "could not listen on {address}: {error}; is another process using the port? set PORT to change it"
            );
            return ExitCode::FAILURE;
        }
    };

    let model: Arc<dyn Model> = match config.build().await {
        Ok(model) => model,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "Starting strands-runtime on {address} (provider: {}, model: {})",
        config.provider,
        model.model_id()
    );
    let entrypoint = agent_entrypoint(model.clone());
    let app = entrypoint.install(AgentCoreApp::new());

    let seconds =
        |name: &str, default: Duration| Duration::from_secs(env_or(name, default.as_secs()));
    let app = app
        .body_read_timeout(seconds(
            "BODY_READ_TIMEOUT_SECONDS",
            DEFAULT_BODY_READ_TIMEOUT,
        ))
        .max_body_bytes_in_flight(env_or(
            "MAX_BODY_BYTES_IN_FLIGHT",
            DEFAULT_MAX_BODY_BYTES_IN_FLIGHT,
        ));
    let server = Server::new(app)
        .idle_timeout(seconds("IDLE_TIMEOUT_SECONDS", DEFAULT_IDLE_TIMEOUT))
        .header_read_timeout(seconds(
            "HEADER_READ_TIMEOUT_SECONDS",
            DEFAULT_HEADER_READ_TIMEOUT,
        ))
        .shutdown_grace(seconds("SHUTDOWN_GRACE_SECONDS", DEFAULT_SHUTDOWN_GRACE));
    if let Err(error) = server.serve(listener, shutdown_signal()).await {
        tracing::error!("the server stopped with an error: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Default time the model may take to send its first stream event (`MODEL_FIRST_EVENT_TIMEOUT_SECONDS`).
const DEFAULT_MODEL_FIRST_EVENT_TIMEOUT: Duration = Duration::from_secs(120);
/// Default longest silence between two stream events (`MODEL_IDLE_TIMEOUT_SECONDS`).
const DEFAULT_MODEL_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Default total time spent retrying a throttled model (`MODEL_RETRY_MAX_SECONDS`).
const DEFAULT_MODEL_RETRY_MAX: Duration = Duration::from_secs(30);

/// A duration in seconds from the environment; `0` turns the bound off.
fn env_bound(name: &str, default: Duration) -> Option<Duration> {
    let seconds = env_or(name, default.as_secs());
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

/// One agent per session, each with the system prompt and the model's time bounds.
fn agent_entrypoint(model: Arc<dyn Model>) -> AgentEntrypoint {
    let system_prompt = std::env::var("SYSTEM_PROMPT")
        .ok()
        .filter(|p| !p.trim().is_empty());
    let first_event = env_bound(
        "MODEL_FIRST_EVENT_TIMEOUT_SECONDS",
        DEFAULT_MODEL_FIRST_EVENT_TIMEOUT,
    );
    let idle = env_bound("MODEL_IDLE_TIMEOUT_SECONDS", DEFAULT_MODEL_IDLE_TIMEOUT);
    let mut retry = ModelRetryStrategy::default();
    if let Some(budget) = env_bound("MODEL_RETRY_MAX_SECONDS", DEFAULT_MODEL_RETRY_MAX) {
        retry = retry.with_max_elapsed_time(budget);
    }
    AgentEntrypoint::new(move || {
        let mut builder = Agent::builder()
            .shared_model(model.clone())
            .retry_strategy(retry);
        if let Some(prompt) = &system_prompt {
            builder = builder.system_prompt(prompt.clone());
        }
        if let Some(timeout) = first_event {
            builder = builder.model_first_event_timeout(timeout);
        }
        if let Some(timeout) = idle {
            builder = builder.model_idle_timeout(timeout);
        }
        builder.build()
    })
    .with_limits(
        env_or("MAX_SESSIONS", DEFAULT_MAX_SESSIONS),
        Duration::from_secs(env_or(
            "SESSION_IDLE_SECONDS",
            DEFAULT_SESSION_IDLE.as_secs(),
        )),
    )
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
