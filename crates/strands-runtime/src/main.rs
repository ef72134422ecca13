//! `strands-runtime`: serves a Strands agent on the Amazon Bedrock AgentCore runtime contract
//! (`GET /ping`, `POST /invocations`, `/ws`) on port 8080.
//!
//! ```text
//! strands-runtime [serve] [--provider NAME] [--model-id ID] [--host IP] [--port PORT]
//! strands-runtime doctor [--provider NAME] [--model-id ID] [--call-model]
//! strands-runtime image [--binary PATH]... [--agent FILE] [--output PATH] [--push REFERENCE]
//! strands-runtime deploy [--name NAME] [--role-arn ARN] [--binary PATH] [--agent FILE] [--dry-run]
//! strands-runtime status|destroy [--name NAME]
//! strands-runtime invoke [--url URL | --arn ARN | --name NAME] [--session ID] [--stream] PAYLOAD
//! strands-runtime chat [--url URL | --arn ARN | --name NAME] [--session ID]
//! strands-runtime --help | --version
//! ```
//!
//! `--help` lists every environment variable it reads (`cli::ENVIRONMENT`). Exit status: 0 done,
//! 1 a runtime or configuration error, 2 a usage error; errors are one line on stderr.

mod agent_file;
#[cfg(feature = "deploy")]
mod chat_command;
mod cli;
#[cfg(feature = "deploy")]
mod deploy_command;
mod doctor;
#[cfg(feature = "deploy")]
mod image_command;
#[cfg(feature = "deploy")]
mod invoke_command;
mod mcp_servers;
mod provider;

use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use strands_agent::{Agent, ModelRetryStrategy};
use strands_core::Model;
use strands_runtime::{
    AgentCoreApp, AgentEntrypoint, DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE, HandlerError,
    ServeConfig, logging, shutdown_signal,
};

use crate::agent_file::AgentFile;
use crate::cli::{CheckArgs, Command, ModelArgs, Parsed, ServeArgs};
use crate::mcp_servers::McpServers;
use crate::provider::ProviderConfig;

#[tokio::main]
async fn main() -> ExitCode {
    let command = match cli::parse(std::env::args_os()) {
        Parsed::Run(command) => *command,
        Parsed::Print(text) => {
            #[allow(
                clippy::print_stdout,
                reason = "help and version are the command's output"
            )]
            {
                print!("{text}");
            }
            return ExitCode::SUCCESS;
        }
        Parsed::Usage(message) => return fail(2, &message),
    };
    if let Err(error) = logging::init_from_env() {
        return fail(1, &error);
    }
    let outcome = match command {
        Command::Doctor(args) => run_doctor(&args.model, args.call_model).await,
        Command::Check(args) => check(&args),
        // Boxed: the server's future is large and lives for the whole process.
        Command::Serve(args) => Box::pin(serve(args)).await.map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "deploy")]
        Command::Image(args) => image_command::run(&args).await.map(|report| {
            #[allow(clippy::print_stdout, reason = "the report is the command's output")]
            {
                print!("{report}");
            }
            ExitCode::SUCCESS
        }),
        #[cfg(feature = "deploy")]
        Command::Deploy(args) => deploy_command::deploy(&args)
            .await
            .map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "deploy")]
        Command::Status(args) => deploy_command::status(&args)
            .await
            .map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "deploy")]
        Command::Destroy(args) => {
            deploy_command::destroy(&args.target, args.dry_run, args.wait_timeout)
                .await
                .map(|()| ExitCode::SUCCESS)
        }
        #[cfg(feature = "deploy")]
        Command::Invoke(args) => invoke_command::run(&args).await.map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "deploy")]
        Command::Chat(args) => chat_command::run(&args).await.map(|()| ExitCode::SUCCESS),
    };
    outcome.unwrap_or_else(|message| fail(1, &message))
}

/// Prints `strands-runtime: <message>` on stderr: the one line a failed command leaves.
fn fail(code: u8, message: &str) -> ExitCode {
    #[allow(clippy::print_stderr, reason = "a failed command says why on stderr")]
    {
        eprintln!("strands-runtime: {message}");
    }
    ExitCode::from(code)
}

/// The agent file named by `--agent`, else by `STRANDS_AGENT_FILE`, read and checked.
fn agent_file(flag: Option<&str>) -> Result<Option<AgentFile>, String> {
    let path = flag.map(str::to_owned).or_else(|| {
        std::env::var("STRANDS_AGENT_FILE")
            .ok()
            .filter(|p| !p.trim().is_empty())
    });
    path.map(|path| agent_file::load(&path)).transpose()
}

/// The provider and model: the environment, then the agent file, then the flags.
fn provider_config(args: &ModelArgs, file: Option<&AgentFile>) -> Result<ProviderConfig, String> {
    let mut config = ProviderConfig::from_env().map_err(|e| e.to_string())?;
    if let Some(file) = file {
        file.apply_model(&mut config);
    }
    if let Some(name) = &args.provider {
        config.provider = name
            .parse()
            .map_err(|e: provider::ProviderError| e.to_string())?;
    }
    if let Some(model_id) = &args.model_id {
        config = config.with_model_id(model_id.clone());
    }
    Ok(config)
}

/// `strands-runtime doctor`: prints the report; fails when a check failed.
async fn run_doctor(args: &ModelArgs, call_model: bool) -> Result<ExitCode, String> {
    let config = provider_config(args, None)?;
    let report = doctor::run(&config, call_model).await;
    #[allow(
        clippy::print_stdout,
        reason = "the doctor's report is the command's output"
    )]
    {
        print!("{}", report.render());
    }
    Ok(if report.has_failures() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `strands-runtime [serve]`: serves until SIGTERM or Ctrl-C, the way
/// [`strands_runtime::serve`] does, with the model built after the port is bound.
async fn serve(args: ServeArgs) -> Result<(), String> {
    let file = agent_file(args.agent.as_deref())?;
    let provider = provider_config(&args.model, file.as_ref())?;
    let protocol = protocol(args.protocol.as_deref())?;
    let mut config = ServeConfig::from_env().map_err(|e| e.to_string())?;
    let port_set = std::env::var("PORT").is_ok_and(|p| !p.trim().is_empty());
    if !port_set {
        match protocol {
            Protocol::Mcp => config.port = strands_runtime::MCP_PORT,
            Protocol::A2a => config.port = strands_runtime::A2A_PORT,
            Protocol::Http => {}
        }
    }
    if let Some(host) = args.host {
        config.host = host;
    }
    if let Some(port) = args.port {
        config.port = port;
    }
    let mut agent_settings = AgentSettings::from_env()?;
    // Bind first so /ping answers as early as possible; the model client is built after.
    let listener = config.bind().await.map_err(|e| e.to_string())?;
    // Before any agent is built: agents take the process's telemetry when they are built.
    #[cfg(feature = "otel")]
    let telemetry = install_telemetry().await?;
    let model = provider.build().await.map_err(|e| e.to_string())?;
    if let Some(file) = file {
        // Connected in the background: /ping does not wait for them; new agents do.
        agent_settings.mcp = mcp_servers::start(file.mcp_servers()).await?;
        agent_settings.sessions = file.session_store().await?;
        agent_settings.file = Some(Arc::new(file));
    }
    let mcp = agent_settings.mcp.clone();
    tracing::info!(
        "Starting strands-runtime on {}:{} (provider: {}, model: {})",
        config.host,
        config.port,
        provider.provider,
        model.model_id()
    );
    let app = match protocol {
        Protocol::Mcp => AgentCoreApp::new().mcp_server(agent_settings.mcp_server(model)?),
        Protocol::A2a => {
            let url = strands_runtime::a2a_card_url(
                |name| std::env::var(name).ok(),
                &config.host,
                config.port,
            );
            AgentCoreApp::new().a2a_server(agent_settings.a2a_server(model, url).await?)
        }
        Protocol::Http => agent_settings
            .entrypoint(model)
            .install(AgentCoreApp::new()),
    };
    let served = config
        .serve(app, listener, shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    // MCP servers run as child processes are ended and reaped.
    mcp.stop().await;
    // What the batch exporters still hold goes out before the process ends (AgentCore's
    // SIGKILL follows SIGTERM after 30 s; the server's drain takes at most its grace).
    #[cfg(feature = "otel")]
    if let Some(telemetry) = telemetry {
        telemetry.shutdown(TELEMETRY_FLUSH).await;
    }
    served
}

/// How long the telemetry flush at shutdown may take, per signal.
#[cfg(feature = "otel")]
const TELEMETRY_FLUSH: std::time::Duration = std::time::Duration::from_secs(3);

/// Installs the telemetry pipeline the environment asks for, signing with the default
/// credential chain when it goes to AWS.
#[cfg(feature = "otel")]
async fn install_telemetry() -> Result<Option<strands_runtime::telemetry::TelemetryGuard>, String> {
    use strands_runtime::telemetry::{Signal, TelemetryConfig};
    let config = TelemetryConfig::from_env();
    let signed = [config.traces(), config.metrics(), config.logs()]
        .iter()
        .any(|s| {
            matches!(
                s,
                Signal::Otlp {
                    signing: Some(_),
                    ..
                }
            )
        });
    let credentials = if signed {
        strands_aws::sdk_config().await.credentials_provider()
    } else {
        None
    };
    for line in config.describe() {
        tracing::info!("telemetry {line}");
    }
    config
        .install(credentials.as_ref())
        .map_err(|e| e.to_string())
}

/// What `--protocol` (or `STRANDS_PROTOCOL`) asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Http,
    Mcp,
    A2a,
}

fn protocol(flag: Option<&str>) -> Result<Protocol, String> {
    let value = flag.map(str::to_owned).or_else(|| {
        std::env::var("STRANDS_PROTOCOL")
            .ok()
            .filter(|p| !p.trim().is_empty())
    });
    match value
        .as_deref()
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("http") => Ok(Protocol::Http),
        Some("mcp") => Ok(Protocol::Mcp),
        Some("a2a") => Ok(Protocol::A2a),
        Some(other) => Err(format!(
            "protocol {other:?} is not served; use http, mcp or a2a"
        )),
    }
}

/// `strands-runtime check`: reads the agent file and the configuration as `serve` would, and
/// prints what would be served.
fn check(args: &CheckArgs) -> Result<ExitCode, String> {
    let Some(file) = agent_file(args.agent.as_deref())? else {
        return Err(
            "check needs an agent file: --agent FILE, or set STRANDS_AGENT_FILE".to_owned(),
        );
    };
    let provider = provider_config(&args.model, Some(&file))?;
    provider.check().map_err(|e| e.to_string())?;
    ServeConfig::from_env().map_err(|e| e.to_string())?;
    AgentSettings::from_env()?;
    let tools = file.tool_names();
    let servers: Vec<String> = file
        .mcp_servers()
        .iter()
        .map(|s| format!("{} ({})", s.name(), s.describe()))
        .collect();
    #[allow(
        clippy::print_stdout,
        reason = "the check's summary is the command's output"
    )]
    {
        println!(
            "ok: provider {}, model {}, tools: {}",
            provider.provider,
            provider.model_id().unwrap_or("(the provider's default)"),
            if tools.is_empty() {
                "none".to_owned()
            } else {
                tools.join(", ")
            },
        );
        if !servers.is_empty() {
            println!("mcp servers: {}", servers.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Default time the model may take to send its first stream event (`MODEL_FIRST_EVENT_TIMEOUT_SECONDS`).
const DEFAULT_MODEL_FIRST_EVENT_TIMEOUT: Duration = Duration::from_secs(120);
/// Default longest silence between two stream events (`MODEL_IDLE_TIMEOUT_SECONDS`).
const DEFAULT_MODEL_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Default total time spent retrying a throttled model (`MODEL_RETRY_MAX_SECONDS`).
const DEFAULT_MODEL_RETRY_MAX: Duration = Duration::from_secs(30);

/// Builds a session's agent (`None`: an agent that is not kept).
type AgentFactory =
    dyn Fn(&strands_runtime::Caller<'_>) -> Result<Agent, strands_agent::BuildError> + Send + Sync;

/// How each session's agent is built, from the environment.
struct AgentSettings {
    system_prompt: Option<String>,
    first_event_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    retry: ModelRetryStrategy,
    max_sessions: usize,
    session_idle: Duration,
    /// The agent file's name, prompt, tools and conversation manager.
    file: Option<Arc<AgentFile>>,
    /// Where sessions are persisted, by the agent file.
    sessions: Option<agent_file::SessionStore>,
    /// The agent file's MCP servers, shared by every session.
    mcp: McpServers,
}

impl AgentSettings {
    /// Reads `SYSTEM_PROMPT`, the model bounds and the session limits.
    fn from_env() -> Result<Self, String> {
        let system_prompt = std::env::var("SYSTEM_PROMPT")
            .ok()
            .filter(|p| !p.trim().is_empty());
        let mut retry = ModelRetryStrategy::default();
        if let Some(budget) = bound("MODEL_RETRY_MAX_SECONDS", DEFAULT_MODEL_RETRY_MAX)? {
            retry = retry.with_max_elapsed_time(budget);
        }
        Ok(Self {
            system_prompt,
            first_event_timeout: bound(
                "MODEL_FIRST_EVENT_TIMEOUT_SECONDS",
                DEFAULT_MODEL_FIRST_EVENT_TIMEOUT,
            )?,
            idle_timeout: bound("MODEL_IDLE_TIMEOUT_SECONDS", DEFAULT_MODEL_IDLE_TIMEOUT)?,
            retry,
            max_sessions: parsed("MAX_SESSIONS", "a number of sessions")?
                .unwrap_or(DEFAULT_MAX_SESSIONS),
            session_idle: parsed("SESSION_IDLE_SECONDS", "a whole number of seconds")?
                .map_or(DEFAULT_SESSION_IDLE, Duration::from_secs),
            file: None,
            sessions: None,
            mcp: McpServers::default(),
        })
    }

    /// The agent's tools and the agent itself (a fresh agent per call, without a session) as
    /// MCP tools; MCP servers of the agent file are waited for before listing.
    fn mcp_server(
        self,
        model: Arc<dyn Model>,
    ) -> Result<strands_runtime::mcp::McpToolServer, String> {
        let mcp = self.mcp.clone();
        let name = self
            .file
            .as_ref()
            .and_then(|f| f.name().map(str::to_owned))
            .filter(|n| strands_core::tools::is_valid_tool_name(n))
            .unwrap_or_else(|| "invoke_agent".to_owned());
        let factory = self.factory(model);
        let template = factory(&strands_runtime::Caller::new(None, None))
            .map_err(|e| format!("the agent could not be built: {e}"))?;
        let from_mcp: Vec<String> = mcp.tools().map(|t| t.name().to_owned()).collect();
        let mut server =
            strands_runtime::mcp::McpToolServer::new(name.clone(), env!("CARGO_PKG_VERSION"));
        // The built-in tools now; MCP servers' tools as they list them.
        for tool in template
            .tools()
            .filter(|t| !from_mcp.iter().any(|n| n == t.name()))
        {
            server = server.shared_tool(tool.clone());
        }
        let agent = strands_agent::AgentTool::per_call(move || {
            factory(&strands_runtime::Caller::new(None, None))
        })
        .map_err(|e| format!("the agent could not be built: {e}"))?
        .name(name);
        server = server.tool(agent);
        if mcp.is_empty() {
            return Ok(server);
        }
        let listed = mcp.clone();
        Ok(server
            .tools_from(move || listed.tools().collect())
            .ready_when(move || {
                let mcp = mcp.clone();
                async move {
                    if let Err(error) = mcp.started().await {
                        tracing::warn!("{error}; its tools are not served");
                    }
                }
            }))
    }

    /// The agent served over A2A: one agent per A2A conversation, without a session of its own.
    /// The MCP servers are waited for first: the card lists their tools, as Python's does.
    async fn a2a_server(
        self,
        model: Arc<dyn Model>,
        url: String,
    ) -> Result<strands_runtime::a2a::A2AServer, String> {
        self.mcp
            .started()
            .await
            .map_err(|error| error.to_string())?;
        let factory = self.factory(model);
        let template = factory(&strands_runtime::Caller::new(None, None))
            .map_err(|e| format!("the agent could not be built: {e}"))?;
        let description = template.description().map_or_else(
            || format!("{}, served by strands-runtime", template.name()),
            str::to_owned,
        );
        strands_runtime::a2a::A2AServer::builder(move || {
            factory(&strands_runtime::Caller::new(None, None))
        })
        .url(url)
        .description(description)
        // The app reads bodies under its own limits (100 MiB, as /invocations).
        .max_body_bytes(strands_runtime::DEFAULT_MAX_BODY_BYTES)
        .build()
        .map_err(|e| format!("the A2A server could not be built: {e}"))
    }

    /// Builds the agent of a session (`None`: an agent that is not kept) with the system prompt,
    /// the agent file's settings, the MCP servers' tools, the model's time bounds, and its
    /// session persisted where the agent file says.
    fn factory(&self, model: Arc<dyn Model>) -> Arc<AgentFactory> {
        let Self {
            system_prompt,
            first_event_timeout,
            idle_timeout,
            retry,
            file,
            sessions,
            mcp,
            ..
        } = self;
        let (system_prompt, first_event_timeout, idle_timeout, retry) = (
            system_prompt.clone(),
            *first_event_timeout,
            *idle_timeout,
            *retry,
        );
        let (file, sessions, tools) = (file.clone(), sessions.clone(), mcp.clone());
        let system_prompt = file
            .as_ref()
            .and_then(|f| f.prompt().map(str::to_owned))
            .or(system_prompt);
        Arc::new(move |caller: &strands_runtime::Caller<'_>| {
            let mut builder = Agent::builder()
                .shared_model(model.clone())
                .retry_strategy(retry);
            if let Some(prompt) = &system_prompt {
                builder = builder.system_prompt(prompt.clone());
            }
            if let Some(file) = &file {
                builder = file.configure(builder);
            }
            for tool in tools.tools() {
                builder = builder.shared_tool(tool);
            }
            if let Some(search) = tools.tool_search() {
                builder = builder.tool_loader(search);
            }
            if let Some(store) = &sessions {
                if let Some(manager) = store.session_manager(caller)? {
                    builder = builder.session_manager(manager);
                }
                builder = store.configure(builder, caller);
            }
            if let Some(timeout) = first_event_timeout {
                builder = builder.model_first_event_timeout(timeout);
            }
            if let Some(timeout) = idle_timeout {
                builder = builder.model_idle_timeout(timeout);
            }
            builder.build()
        })
    }

    /// One agent per session, built by [`factory`](Self::factory).
    fn entrypoint(self, model: Arc<dyn Model>) -> AgentEntrypoint {
        let factory = self.factory(model);
        let mcp = self.mcp.clone();
        // Agents are kept per actor only when storage is per actor (AgentCore Memory).
        let per_actor = self.sessions.as_ref().and_then(|s| s.default_actor());
        let mut entrypoint = match per_actor {
            Some(actor) => {
                AgentEntrypoint::per_caller(move |caller| factory(caller)).default_actor(actor)
            }
            None => AgentEntrypoint::per_session(move |session_id| {
                factory(&strands_runtime::Caller::new(session_id, None))
            }),
        }
        .with_limits(self.max_sessions, self.session_idle);
        if let Some(field) = self.file.as_ref().and_then(|file| file.actor_field()) {
            entrypoint = entrypoint.actor_from_payload(field);
        }
        if mcp.is_empty() {
            return entrypoint;
        }
        entrypoint.before_new_agent(move || {
            let mcp = mcp.clone();
            async move {
                mcp.started().await.map_err(|error| {
                    HandlerError::http(http::StatusCode::SERVICE_UNAVAILABLE, error.to_string())
                })
            }
        })
    }
}

/// A variable's value, parsed; `None` when unset or blank.
fn parsed<T: FromStr>(name: &str, expected: &str) -> Result<Option<T>, String> {
    let Some(value) = std::env::var(name).ok().filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    value.trim().parse().map(Some).map_err(|_| {
        let shown: String = value.chars().take(64).collect();
        format!("{name}={shown:?} is not valid: set it to {expected}")
    })
}

/// A duration in seconds from the environment; `0` turns the bound off.
fn bound(name: &str, default: Duration) -> Result<Option<Duration>, String> {
    let seconds =
        parsed(name, "a whole number of seconds (0: no bound)")?.unwrap_or(default.as_secs());
    Ok((seconds > 0).then(|| Duration::from_secs(seconds)))
}
