//! The Rust twin of the Python benchmark server (`shared/bench/python-baseline/app.py`): the real
//! [`AgentCoreApp`] serving a Strands [`Agent`] with the baseline's canned fake model
//! (`strands_testkit::canned`, byte-identical model output) and its one tool, `add(a, b)`.
//!
//! `BENCH_MODE` picks the entrypoint, as in `app.py`:
//!
//! | mode | entrypoint | Python twin |
//! |---|---|---|
//! | `fresh` (default; `sync-fresh`, `async-fresh` are aliases) | a fresh agent per request, `{"result": str(result)}` | `sync-fresh`, `async-fresh` |
//! | `stream` | a fresh agent per request, one SSE `data:` frame per agent event | `stream` |
//! | `entrypoint` | [`AgentEntrypoint`], exactly what the `strands-runtime` binary serves | — |
//!
//! It listens on `HOST:PORT` (default `127.0.0.1:8080`) and logs like the binary: one JSON line
//! per invocation on stderr (`LOG_LEVEL`, default `INFO`). With `OTEL_EXPORTER_OTLP_ENDPOINT`
//! (or the other variables of `TelemetryConfig`) it exports spans and metrics as the binary does
//! (`scripts/bench-telemetry`), flushed when it stops. `scripts/bench` drives it, and
//! `scripts/soak` (with `BENCH_STATS_MS`, which prints the live task count that often).
//!
//! Run: `BENCH_MODE=stream cargo run --release -p strands-runtime --example bench_server`
#![allow(
    clippy::print_stderr,
    reason = "an example binary reports start-up failures"
)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::{Value, json};
use strands_agent::{Agent, BuildError, tool};
use strands_core::Model;
use strands_runtime::{AgentCoreApp, AgentEntrypoint, HandlerError, Reply, logging};
use strands_testkit::ScriptedModel;
use strands_testkit::canned::python_baseline;

/// Add two integers.
///
/// Args:
///     a: first addend
///     b: second addend
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// `fake_model.make_agent()`: the shared fake model, the `add` tool, no system prompt.
fn make_agent(model: &Arc<dyn Model>) -> Result<Agent, BuildError> {
    Agent::builder()
        .shared_model(model.clone())
        .tool(add)
        .build()
}

/// `payload.get("prompt", "hi")`.
fn prompt_of(payload: &Value) -> String {
    payload
        .get("prompt")
        .and_then(Value::as_str)
        .unwrap_or("hi")
        .to_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Fresh,
    Stream,
    Entrypoint,
}

fn parse_mode(name: &str) -> Option<Mode> {
    match name {
        "fresh" | "sync-fresh" | "async-fresh" => Some(Mode::Fresh),
        "stream" => Some(Mode::Stream),
        "entrypoint" => Some(Mode::Entrypoint),
        _ => None,
    }
}

fn app(mode: Mode, model: Arc<dyn Model>) -> AgentCoreApp {
    match mode {
        Mode::Fresh => AgentCoreApp::new().entrypoint(move |payload: Value, _context| {
            let agent = make_agent(&model);
            async move {
                let mut agent = agent
                    .map_err(|e| HandlerError::new(format!("could not build the agent: {e}")))?;
                let result = agent.invoke(prompt_of(&payload)).await?;
                Ok::<_, HandlerError>(Reply::Json(json!({"result": result.to_string()})))
            }
        }),
        Mode::Stream => AgentCoreApp::new().entrypoint(move |payload: Value, _context| {
            let agent = make_agent(&model);
            async move {
                let mut agent = agent
                    .map_err(|e| HandlerError::new(format!("could not build the agent: {e}")))?;
                let prompt = prompt_of(&payload);
                Ok::<_, HandlerError>(Reply::stream(async_stream::stream! {
                    let mut events = std::pin::pin!(agent.stream(prompt));
                    while let Some(event) = events.next().await {
                        match event {
                            // Serialized once, straight into its `data:` frame.
                            Ok(event) => yield Ok(event),
                            Err(error) => {
                                yield Err(HandlerError::from(error));
                                break;
                            }
                        }
                    }
                }))
            }
        }),
        Mode::Entrypoint => {
            AgentEntrypoint::new(move || make_agent(&model)).install(AgentCoreApp::new())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let level = std::env::var("LOG_LEVEL").unwrap_or_else(|_| "INFO".to_owned());
    if let Err(error) = logging::init(&level) {
        eprintln!("bench_server: could not install the logger: {error}");
        return ExitCode::FAILURE;
    }
    let mode_name = std::env::var("BENCH_MODE").unwrap_or_else(|_| "fresh".to_owned());
    let Some(mode) = parse_mode(&mode_name) else {
        eprintln!("bench_server: unknown BENCH_MODE={mode_name:?} (fresh, stream, entrypoint)");
        return ExitCode::FAILURE;
    };
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".to_owned());
    let address: SocketAddr = match format!("{host}:{port}").parse() {
        Ok(address) => address,
        Err(error) => {
            eprintln!("bench_server: HOST/PORT ({host}:{port}) is not a socket address: {error}");
            return ExitCode::FAILURE;
        }
    };
    let canned = match python_baseline() {
        Ok(canned) => canned,
        Err(error) => {
            eprintln!("bench_server: the canned streams do not parse: {error}");
            return ExitCode::FAILURE;
        }
    };
    let model: Arc<dyn Model> = Arc::new(ScriptedModel::python_baseline(canned));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("bench_server: could not listen on {address}: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("Starting bench_server on {address} (BENCH_MODE={mode_name})");
    if let Some(every) = std::env::var("BENCH_STATS_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
    {
        tokio::spawn(report_tasks(std::time::Duration::from_millis(every)));
    }
    // Telemetry as the binary installs it, before any agent is built.
    let telemetry = match strands_runtime::telemetry::TelemetryConfig::from_env().install(None) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("bench_server: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Served exactly as the `strands-runtime` binary serves: its server, its timeouts.
    let served = strands_runtime::Server::new(app(mode, model))
        .serve(listener, shutdown())
        .await;
    if let Some(telemetry) = telemetry {
        telemetry.shutdown(std::time::Duration::from_secs(3)).await;
    }
    if let Err(error) = served {
        eprintln!("bench_server: the server stopped with an error: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// With `BENCH_STATS_MS` set (the soak, `scripts/soak`), prints the runtime's live task count
/// on stderr that often: `bench_server stats: alive_tasks=N`.
async fn report_tasks(every: std::time::Duration) {
    let metrics = tokio::runtime::Handle::current().metrics();
    loop {
        tokio::time::sleep(every).await;
        eprintln!(
            "bench_server stats: alive_tasks={}",
            metrics.num_alive_tasks()
        );
    }
}

/// Resolves on Ctrl-C or SIGTERM (the harness stops servers with SIGTERM).
async fn shutdown() {
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
