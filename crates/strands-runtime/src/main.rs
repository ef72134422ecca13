//! `strands-runtime`: serves a Strands agent on the Amazon Bedrock AgentCore runtime contract
//! (`GET /ping`, `POST /invocations`, `/ws`) on port 8080.
//!
//! Configuration (environment): `MODEL_ID` (Bedrock model or inference profile), `AWS_REGION`,
//! `SYSTEM_PROMPT`, `PORT` (default 8080), `HOST` (default 0.0.0.0), `LOG_LEVEL` (default INFO),
//! `MAX_SESSIONS`, `SESSION_IDLE_SECONDS`, `SHUTDOWN_GRACE_SECONDS` (default 25),
//! `BEDROCK_CREDENTIALS_SECRET`, `BEDROCK_CREDENTIALS_REFRESH_SECONDS` (default 300).
//!
//! `strands-runtime doctor [--call-model]` checks the region, credential sources, the credentials
//! secret and the model id, and prints what to fix.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use strands_agent::Agent;
use strands_core::{Model, ModelError};
use strands_models::bedrock::BedrockModel;
use strands_runtime::{
    AgentCoreApp, AgentEntrypoint, DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE, LazyModel, logging,
};
use tokio::net::TcpListener;

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
    if std::env::args().nth(1).as_deref() == Some("doctor") {
        let call = std::env::args().any(|a| a == "--call-model");
        let report = strands_runtime::doctor::run(call).await;
        #[allow(
            clippy::print_stdout,
            reason = "the doctor's report is the command's output"
        )]
        {
            print!("{}", report.render());
        }
        return if report.has_failures() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    let host: String = env_or("HOST", "0.0.0.0".to_owned());
    let port: u16 = env_or("PORT", 8080);
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

    let model: Arc<dyn Model> = bedrock_model().await;
    let system_prompt = std::env::var("SYSTEM_PROMPT")
        .ok()
        .filter(|p| !p.trim().is_empty());
    tracing::info!(
        "Starting strands-runtime on {address} (provider: bedrock, model: {})",
        model.model_id()
    );
    let factory_model = model.clone();
    let entrypoint = AgentEntrypoint::new(move || {
        let mut builder = Agent::builder().shared_model(factory_model.clone());
        if let Some(prompt) = &system_prompt {
            builder = builder.system_prompt(prompt.clone());
        }
        builder.build()
    })
    .with_limits(
        env_or("MAX_SESSIONS", DEFAULT_MAX_SESSIONS),
        Duration::from_secs(env_or(
            "SESSION_IDLE_SECONDS",
            DEFAULT_SESSION_IDLE.as_secs(),
        )),
    );
    let app = entrypoint.install(AgentCoreApp::new());

    let grace = Duration::from_secs(env_or("SHUTDOWN_GRACE_SECONDS", 25));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, app.into_router()).with_graceful_shutdown({
        let mut stop_rx = stop_rx.clone();
        async move {
            // Resolves once a shutdown signal has been seen.
            let _ = stop_rx.wait_for(|stop| *stop).await;
        }
    });
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!(
            "shutdown requested; finishing in-flight requests for up to {}s",
            grace.as_secs()
        );
        let _ = stop_tx.send(true);
    });
    let mut deadline_rx = stop_rx;
    let deadline = async move {
        let _ = deadline_rx.wait_for(|stop| *stop).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => {
            if let Err(error) = result {
                tracing::error!("the server stopped with an error: {error}");
                return ExitCode::FAILURE;
            }
            tracing::info!("server stopped");
        }
        () = deadline => tracing::warn!("in-flight requests did not finish within {}s; exiting", grace.as_secs()),
    }
    ExitCode::SUCCESS
}

/// Bedrock with the project's credentials chain (SDK default chain, then the metadata service
/// with the IMDSv1 fallback AgentCore needs), or with keys from the Secrets Manager secret named by
/// `BEDROCK_CREDENTIALS_SECRET` (read with the chain's credentials, re-read on rotation; a region
/// in the secret is used for Bedrock). Nothing here waits on the network: credentials resolve at
/// the first call, so `/ping` answers whatever their state.
async fn bedrock_model() -> Arc<dyn Model> {
    strands_aws::log_credential_env();
    let base = strands_aws::sdk_config().await;
    let Some(secret_id) = std::env::var("BEDROCK_CREDENTIALS_SECRET")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
    else {
        tracing::info!("Bedrock credentials come from the credentials chain");
        if let Some(provider) = base.credentials_provider() {
            // Resolve once in the background so the log names the source (or the problem).
            tokio::spawn(async move {
                use aws_credential_types::provider::ProvideCredentials as _;
                if let Err(error) = provider.provide_credentials().await {
                    tracing::error!(
                        "no AWS credentials found ({error}); inside AgentCore the execution role comes from the metadata service, elsewhere set AWS credentials, AWS_PROFILE or BEDROCK_CREDENTIALS_SECRET (run `strands-runtime doctor`)"
                    );
                }
            });
        }
        return Arc::new(BedrockModel::from_env().sdk_config(base).build().await);
    };

    let refresh = Duration::from_secs(env_or("BEDROCK_CREDENTIALS_REFRESH_SECONDS", 300));
    let reader = aws_sdk_secretsmanager::Client::new(&base);
    let credentials =
        strands_aws::SecretsManagerCredentials::with_refresh_interval(reader, &secret_id, refresh);
    tracing::info!(
        secret_id = %secret_id,
        refresh_seconds = refresh.as_secs(),
        "Bedrock credentials come from a Secrets Manager secret, read with the credentials chain"
    );
    // Read the secret once in the background: problems show up in the log at start-up with
    // their fix, without delaying /ping.
    let check = credentials.clone();
    tokio::spawn(async move {
        if let Err(error) = check.current().await {
            tracing::error!("Bedrock credentials are unavailable: {error}");
        }
    });
    let model_id = BedrockModel::from_env().configured_model_id().to_owned();
    Arc::new(LazyModel::new(model_id, move || {
        let (base, credentials) = (base.clone(), credentials.clone());
        Box::pin(async move {
            // The secret may name the region its keys are for; it wins over AWS_REGION.
            let keys = credentials
                .current()
                .await
                .map_err(|e| ModelError::credentials(e.to_string()))?;
            let mut builder = BedrockModel::from_env().sdk_config(base);
            if let Some(region) = &keys.region {
                tracing::info!(region = %region, "using the region named by the credentials secret");
                builder = builder.region(region.clone());
            }
            let refresher = credentials.clone();
            let model = builder
                .credentials_provider(credentials)
                .on_credentials_rejected(move || refresher.invalidate())
                .build()
                .await;
            Ok(Arc::new(model) as Arc<dyn Model>)
        })
    }))
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
