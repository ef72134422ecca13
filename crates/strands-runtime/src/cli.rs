//! The command line of `strands-runtime` (clap): the subcommands, the flags that override the
//! environment, and the list of every environment variable the binary reads, shown by `--help`.

use std::ffi::OsString;
use std::fmt::Write as _;

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

/// `strands-runtime`: serves a Strands agent on the Amazon Bedrock AgentCore runtime contract.
#[derive(Debug, Parser)]
#[command(
    name = "strands-runtime",
    version,
    about = "Serves a Strands agent on the Amazon Bedrock AgentCore runtime contract: \
             GET /ping, POST /invocations (JSON or server-sent events) and /ws.",
    args_conflicts_with_subcommands = true
)]
pub(crate) struct Cli {
    /// What to run; `serve` when none is given.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// `serve`'s flags, also accepted without the subcommand.
    #[command(flatten)]
    pub(crate) serve: ServeArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand, PartialEq, Eq)]
pub(crate) enum Command {
    /// Serve the agent (the default).
    Serve(ServeArgs),
    /// Check an agent file and the configuration without serving: prints what would be served.
    Check(CheckArgs),
    /// Check the selected provider's configuration (for Bedrock: region, credentials, the
    /// credentials secret, the model id) and print what to fix.
    Doctor(DoctorArgs),
    /// Build the OCI image of a static strands-runtime binary (no Docker needed): write it as an
    /// OCI layout or push it (to ECR, signed in with the AWS credentials).
    #[cfg(feature = "deploy")]
    Image(ImageArgs),
    /// Build and push the image, create or update the AgentCore agent runtime, wait for READY
    /// (defaults from strands-deploy.json)
    #[cfg(feature = "deploy")]
    Deploy(DeployArgs),
    /// Show a deployed agent runtime's status, version and image
    #[cfg(feature = "deploy")]
    Status(TargetArgs),
    /// Delete a deployed agent runtime and wait until it is gone
    #[cfg(feature = "deploy")]
    Destroy(DestroyArgs),
    /// Invoke an agent (a local server, or a deployed runtime through InvokeAgentRuntime) and
    /// print the answer as it arrives
    #[cfg(feature = "deploy")]
    Invoke(InvokeArgs),
    /// Chat with an agent in the terminal: streamed answers, tools as they run, one session,
    /// line history; Ctrl-C cancels a turn, Ctrl-D ends
    #[cfg(feature = "deploy")]
    Chat(AgentTarget),
}

/// Which agent `invoke` and `chat` talk to, and in which session.
#[cfg(feature = "deploy")]
#[derive(Debug, Default, Args, PartialEq, Eq)]
pub(crate) struct AgentTarget {
    /// A local server [default: http://localhost:8080]
    #[arg(long, value_name = "URL", conflicts_with_all = ["arn", "name"])]
    pub(crate) url: Option<String>,
    /// A deployed agent runtime's ARN
    #[arg(long, value_name = "ARN", conflicts_with = "name")]
    pub(crate) arn: Option<String>,
    /// A deployed agent runtime's name (looked up with ListAgentRuntimes)
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// The runtime endpoint [default: DEFAULT]
    #[arg(long, value_name = "ENDPOINT")]
    pub(crate) qualifier: Option<String>,
    /// The AWS region for --name [default: AWS_REGION; --arn names its own]
    #[arg(long, value_name = "REGION")]
    pub(crate) region: Option<String>,
    /// Continue this session (33 to 256 characters) [default: a new one]
    #[arg(long, value_name = "ID")]
    pub(crate) session: Option<String>,
}

/// `invoke`'s flags.
#[cfg(feature = "deploy")]
#[derive(Debug, Default, Args, PartialEq, Eq)]
pub(crate) struct InvokeArgs {
    /// The payload: JSON, or a prompt (sent as {"prompt": ...})
    #[arg(value_name = "PAYLOAD")]
    pub(crate) payload: Option<String>,
    /// Which agent.
    #[command(flatten)]
    pub(crate) target: AgentTarget,
    /// Ask for a streamed answer ("stream": true in the payload)
    #[arg(long)]
    pub(crate) stream: bool,
}

/// Which deployed agent runtime.
#[cfg(feature = "deploy")]
#[derive(Debug, Default, Args, PartialEq, Eq)]
pub(crate) struct TargetArgs {
    /// The project file [default: strands-deploy.json when present]
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<String>,
    /// The agent runtime's name ([a-zA-Z][a-zA-Z0-9_]{0,47})
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// The AWS region [default: AWS_REGION or the profile's]
    #[arg(long, value_name = "REGION")]
    pub(crate) region: Option<String>,
}

/// `deploy`'s flags; each overrides strands-deploy.json.
#[cfg(feature = "deploy")]
#[derive(Debug, Default, Args, PartialEq, Eq)]
pub(crate) struct DeployArgs {
    /// Which runtime.
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// The execution role the agent runs as
    #[arg(long, value_name = "ARN")]
    pub(crate) role_arn: Option<String>,
    /// Where the image goes [default: <account>.dkr.ecr.<region>.amazonaws.com/strands/<name>]
    #[arg(long, value_name = "REFERENCE")]
    pub(crate) repository: Option<String>,
    /// The static linux/arm64 strands-runtime binary [default: this binary]
    #[arg(long, value_name = "PATH")]
    pub(crate) binary: Option<String>,
    /// The agent file to serve
    #[arg(long, value_name = "FILE")]
    pub(crate) agent: Option<String>,
    /// The CA certificates (PEM) the image trusts [default: /etc/ssl/certs/ca-certificates.crt]
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_certificates: Option<String>,
    /// The protocol: http, mcp or a2a [default: http]
    #[arg(long, value_name = "PROTOCOL")]
    pub(crate) protocol: Option<String>,
    /// An environment variable of the runtime (repeatable)
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) env: Vec<String>,
    /// Run in this subnet of your VPC (repeatable; with --security-group) [default: public]
    #[arg(long, value_name = "ID")]
    pub(crate) subnet: Vec<String>,
    /// With --subnet: this security group (repeatable)
    #[arg(long, value_name = "ID")]
    pub(crate) security_group: Vec<String>,
    /// Seconds a session may stay idle (60 to 1209600)
    #[arg(long, value_name = "SECONDS")]
    pub(crate) idle_timeout: Option<u32>,
    /// Seconds a session may live (60 to 1209600)
    #[arg(long, value_name = "SECONDS")]
    pub(crate) max_lifetime: Option<u32>,
    /// A request header passed to the agent (repeatable, at most 20)
    #[arg(long, value_name = "NAME")]
    pub(crate) request_header: Vec<String>,
    /// A description of the runtime
    #[arg(long, value_name = "TEXT")]
    pub(crate) description: Option<String>,
    /// Reach the registry at this URL (as image --registry-endpoint)
    #[arg(long, value_name = "URL")]
    pub(crate) registry_endpoint: Option<String>,
    /// Print every call that would be made, and make none
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Seconds to wait for READY
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub(crate) wait_timeout: u64,
}

/// `destroy`'s flags.
#[cfg(feature = "deploy")]
#[derive(Debug, Default, Args, PartialEq, Eq)]
pub(crate) struct DestroyArgs {
    /// Which runtime.
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// Print the calls that would be made, and make none
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Seconds to wait until it is gone
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub(crate) wait_timeout: u64,
}

/// `image`'s flags.
#[cfg(feature = "deploy")]
#[derive(Debug, Default, Args, PartialEq, Eq)]
pub(crate) struct ImageArgs {
    /// A static strands-runtime binary for linux/arm64 (AgentCore's) or linux/amd64; give two for
    /// a multi-platform image [default: this binary]
    #[arg(long, value_name = "PATH")]
    pub(crate) binary: Vec<String>,
    /// An agent file to serve, checked first and placed at /app/agent.json
    #[arg(long, value_name = "FILE")]
    pub(crate) agent: Option<String>,
    /// The protocol served: http (port 8080), mcp (port 8000) or a2a (port 9000) [default: http]
    #[arg(long, value_name = "PROTOCOL")]
    pub(crate) protocol: Option<String>,
    /// An environment variable of the container (repeatable)
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) env: Vec<String>,
    /// The CA certificates (PEM) to trust [default: /etc/ssl/certs/ca-certificates.crt]
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_certificates: Option<String>,
    /// Write an OCI image layout: a directory, or one file when the name ends in .tar
    #[arg(long, value_name = "PATH")]
    pub(crate) output: Option<String>,
    /// The tag written with --output when not pushing
    #[arg(long, value_name = "TAG", default_value = "latest")]
    pub(crate) tag: String,
    /// Push to REGISTRY/REPOSITORY[:TAG]; ECR repositories are created when missing
    #[arg(long, value_name = "REFERENCE")]
    pub(crate) push: Option<String>,
    /// Reach the registry at this URL instead of https://REGISTRY (an emulator or a proxy)
    /// [env: STRANDS_REGISTRY_ENDPOINT]
    #[arg(long, value_name = "URL")]
    pub(crate) registry_endpoint: Option<String>,
}

/// Which model the agent uses; each flag overrides its environment variable.
#[derive(Debug, Default, Args, PartialEq, Eq)]
pub(crate) struct ModelArgs {
    /// The model provider: bedrock, anthropic, openai (also ollama) or local [env: MODEL_PROVIDER]
    #[arg(long, value_name = "NAME")]
    pub(crate) provider: Option<String>,
    /// The model: a Bedrock model or inference profile id, an Anthropic or OpenAI-compatible
    /// model name, or a GGUF path for local [env: MODEL_ID]
    #[arg(long, value_name = "ID")]
    pub(crate) model_id: Option<String>,
}

/// `serve`'s flags.
#[derive(Debug, Default, Args, PartialEq, Eq)]
pub(crate) struct ServeArgs {
    /// The agent file: model, prompt, tools, conversation manager, session storage
    /// (docs/agent-file.md) [env: STRANDS_AGENT_FILE]
    #[arg(long, value_name = "FILE")]
    pub(crate) agent: Option<String>,
    /// The model.
    #[command(flatten)]
    pub(crate) model: ModelArgs,
    /// The IP address to listen on [env: HOST] [default: 0.0.0.0]
    #[arg(long, value_name = "IP")]
    pub(crate) host: Option<String>,
    /// The port to listen on [env: PORT] [default: 8080, 8000 with --protocol mcp, 9000 with a2a]
    #[arg(long, value_name = "PORT")]
    pub(crate) port: Option<u16>,
    /// The AgentCore protocol: `http` (/invocations, /ws), `mcp` (the agent's tools and the
    /// agent itself as MCP tools at /mcp) or `a2a` (the agent over A2A at /) [env:
    /// STRANDS_PROTOCOL] [default: http]
    #[arg(long, value_name = "PROTOCOL")]
    pub(crate) protocol: Option<String>,
}

/// `check`'s flags.
#[derive(Debug, Default, Args, PartialEq, Eq)]
pub(crate) struct CheckArgs {
    /// The agent file to check [env: STRANDS_AGENT_FILE]
    #[arg(long, value_name = "FILE")]
    pub(crate) agent: Option<String>,
    /// The model.
    #[command(flatten)]
    pub(crate) model: ModelArgs,
}

/// `doctor`'s flags.
#[derive(Debug, Default, Args, PartialEq, Eq)]
pub(crate) struct DoctorArgs {
    /// The model to check.
    #[command(flatten)]
    pub(crate) model: ModelArgs,
    /// Also make one small call to the model.
    #[arg(long)]
    pub(crate) call_model: bool,
}

/// Every environment variable the binary reads, with what it sets; `--help` lists them.
pub(crate) const ENVIRONMENT: [(&str, &str); 74] = [
    (
        "STRANDS_AGENT_FILE",
        "the agent file (as --agent); what it sets wins over the variables below",
    ),
    (
        "MODEL_PROVIDER",
        "bedrock (default), anthropic, openai (also ollama) or local",
    ),
    (
        "MODEL_ID",
        "the model (default per provider; see docs/runtime.md)",
    ),
    ("SYSTEM_PROMPT", "the agent's system prompt"),
    ("HOST", "the IP address to listen on (default 0.0.0.0)"),
    (
        "PORT",
        "the port to listen on (default 8080, or 8000 with --protocol mcp, 9000 with a2a)",
    ),
    (
        "STRANDS_PROTOCOL",
        "the AgentCore protocol served: http (default), mcp (port 8000, /mcp) or a2a (port 9000)",
    ),
    (
        "AGENTCORE_RUNTIME_URL",
        "--protocol a2a: the URL the agent card publishes (default http://localhost:9000/)",
    ),
    (
        "STRANDS_REGISTRY_ENDPOINT",
        "image --push: reach the registry at this URL (as --registry-endpoint)",
    ),
    (
        "SOURCE_DATE_EPOCH",
        "image: the creation time recorded, in seconds since the epoch (default 0: reproducible)",
    ),
    (
        "LOG_LEVEL",
        "DEBUG, INFO (default), WARNING, ERROR, or a filter such as info,strands_agent=debug",
    ),
    (
        "LOG_FORMAT",
        "json or text (default: text on a terminal, JSON in Python's format otherwise)",
    ),
    (
        "MAX_SESSIONS",
        "agents kept at once, least recently used idle ones dropped first (default 1000)",
    ),
    (
        "SESSION_IDLE_SECONDS",
        "an idle session's agent is dropped after this (default 900)",
    ),
    (
        "SHUTDOWN_GRACE_SECONDS",
        "on SIGTERM, in-flight requests get this long to finish (default 25)",
    ),
    (
        "IDLE_TIMEOUT_SECONDS",
        "a connection with no request in progress closes after this (default 5)",
    ),
    (
        "HEADER_READ_TIMEOUT_SECONDS",
        "a request's headers must arrive within this (default 30)",
    ),
    (
        "BODY_READ_TIMEOUT_SECONDS",
        "a request body must arrive within this, else 408 (default 60)",
    ),
    (
        "MAX_BODY_BYTES_IN_FLIGHT",
        "request-body bytes held at once across requests (default 268435456)",
    ),
    (
        "MODEL_FIRST_EVENT_TIMEOUT_SECONDS",
        "a model call with no stream event within this fails; 0: no bound (default 120)",
    ),
    (
        "MODEL_IDLE_TIMEOUT_SECONDS",
        "a model stream silent this long fails; 0: no bound (default 120)",
    ),
    (
        "MODEL_RETRY_MAX_SECONDS",
        "total time spent retrying a throttled model; 0: Python's ~124 s schedule (default 30)",
    ),
    (
        "AWS_REGION",
        "Bedrock's region (also AWS_DEFAULT_REGION; default: the profile's, else us-west-2)",
    ),
    (
        "AWS_DEFAULT_REGION",
        "Bedrock's region when AWS_REGION is not set",
    ),
    (
        "AWS_ACCESS_KEY_ID",
        "with AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN: static credentials",
    ),
    ("AWS_SECRET_ACCESS_KEY", "see AWS_ACCESS_KEY_ID"),
    ("AWS_SESSION_TOKEN", "see AWS_ACCESS_KEY_ID"),
    (
        "AWS_PROFILE",
        "a profile of ~/.aws/config and ~/.aws/credentials",
    ),
    (
        "AWS_ROLE_ARN",
        "with AWS_WEB_IDENTITY_TOKEN_FILE: a role assumed with a web identity token",
    ),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", "see AWS_ROLE_ARN"),
    (
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "a container credentials endpoint (set by the platform)",
    ),
    (
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "the ECS credentials endpoint's path (set by the platform)",
    ),
    (
        "AWS_EC2_METADATA_DISABLED",
        "true: never ask the metadata service for credentials",
    ),
    (
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "another metadata service endpoint",
    ),
    (
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        "IPv4 (default) or IPv6 metadata service endpoint",
    ),
    (
        "AWS_BEARER_TOKEN_BEDROCK",
        "a Bedrock API key, used instead of SigV4 credentials",
    ),
    (
        "BEDROCK_CREDENTIALS_SECRET",
        "a Secrets Manager secret holding the keys that sign Bedrock calls",
    ),
    (
        "BEDROCK_CREDENTIALS_REFRESH_SECONDS",
        "how often that secret is re-read (default 300)",
    ),
    (
        "BEDROCK_AGENTCORE_DP_ENDPOINT",
        "the AgentCore data-plane endpoint for Identity, instead of the region's (as Python)",
    ),
    (
        "BEDROCK_AGENTCORE_CP_ENDPOINT",
        "the AgentCore control-plane endpoint for Identity's local development, instead of the region's",
    ),
    (
        "DOCKER_CONTAINER",
        "1 inside a container: Identity tools then require the invocation's workload access token instead of local development",
    ),
    (
        "BEDROCK_AGENTCORE_MEMORY_ID",
        "the AgentCore Memory of an agent file's {\"storage\": \"agentcore_memory\"} sessions",
    ),
    ("ANTHROPIC_API_KEY", "the anthropic provider's key"),
    (
        "ANTHROPIC_BASE_URL",
        "another Anthropic Messages API endpoint",
    ),
    (
        "OPENAI_API_KEY",
        "the openai provider's key, when the server needs one",
    ),
    (
        "OPENAI_BASE_URL",
        "the OpenAI-compatible server (e.g. http://localhost:11434/v1 for Ollama)",
    ),
    (
        "STRANDS_LOCAL_MODEL_PATH",
        "the local provider's GGUF file (default: Qwen2.5-Coder-0.5B-Instruct, downloaded once)",
    ),
    (
        "STRANDS_MODEL_CACHE",
        "where downloaded weights are cached (default $XDG_CACHE_HOME/strands, else ~/.cache/strands)",
    ),
    ("XDG_CACHE_HOME", "see STRANDS_MODEL_CACHE"),
    (
        "DEFAULT_TIMEZONE",
        "the current_time tool's zone when the model names none (default UTC)",
    ),
    ("HOME", "see STRANDS_MODEL_CACHE"),
    (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "send spans and metrics over OTLP (http/protobuf) to this collector (docs/telemetry.md)",
    ),
    (
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "the spans' full OTLP URL (wins over the above)",
    ),
    (
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "the metrics' full OTLP URL (wins over the above)",
    ),
    (
        "OTEL_EXPORTER_OTLP_HEADERS",
        "k=v,k=v headers on every export request (values never logged)",
    ),
    (
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "headers of span exports only",
    ),
    (
        "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
        "headers of metric exports only",
    ),
    (
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "http/protobuf (the only one spoken)",
    ),
    (
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "see OTEL_EXPORTER_OTLP_PROTOCOL",
    ),
    (
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        "see OTEL_EXPORTER_OTLP_PROTOCOL",
    ),
    (
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "ms per export request (default 10000, at most 60000)",
    ),
    ("OTEL_TRACES_EXPORTER", "otlp (default) or none"),
    ("OTEL_METRICS_EXPORTER", "otlp (default) or none"),
    ("OTEL_SDK_DISABLED", "true: no telemetry at all"),
    (
        "OTEL_SERVICE_NAME",
        "the service name on exported telemetry (default strands-agents)",
    ),
    (
        "OTEL_RESOURCE_ATTRIBUTES",
        "k=v,k=v resource attributes (AgentCore sets them)",
    ),
    (
        "AGENT_OBSERVABILITY_ENABLED",
        "true (AgentCore): spans go to the region's X-Ray OTLP endpoint, SigV4-signed",
    ),
    (
        "DISABLE_ADOT_OBSERVABILITY",
        "true: ignore AGENT_OBSERVABILITY_ENABLED",
    ),
    (
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "the log lines' full OTLP URL (exported as log records)",
    ),
    (
        "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        "headers of log exports (on AgentCore: x-aws-log-group, x-aws-log-stream)",
    ),
    (
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
        "see OTEL_EXPORTER_OTLP_PROTOCOL",
    ),
    ("OTEL_LOGS_EXPORTER", "otlp (default) or none"),
    (
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
        "another CloudWatch Logs endpoint for those log records",
    ),
    (
        "AWS_ENDPOINT_URL_XRAY",
        "another X-Ray endpoint for those spans",
    ),
];

/// The text `--help` shows below the flags.
fn environment_help() -> String {
    let width = ENVIRONMENT
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    let mut text =
        String::from("Environment (flags win; the whole list with defaults: docs/runtime.md):\n");
    for (name, meaning) in ENVIRONMENT {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "  {name:<width$}  {meaning}");
    }
    text.push_str("\nExit status: 0 done, 1 a runtime or configuration error, 2 a usage error.");
    text
}

/// What the process should do after reading its arguments.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// Run this.
    Run(Box<Command>),
    /// Print this on stdout and exit 0 (`--help`, `--version`).
    Print(String),
    /// A usage error: print this one line on stderr and exit 2.
    Usage(String),
}

/// Reads the command line (the program's name first).
pub(crate) fn parse(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> Parsed {
    let command = Cli::command().after_help(environment_help());
    let cli = command
        .try_get_matches_from(args)
        .and_then(|mut matches| Cli::from_arg_matches_mut(&mut matches));
    match cli {
        Ok(cli) => Parsed::Run(Box::new(cli.command.unwrap_or(Command::Serve(cli.serve)))),
        Err(error) => match error.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                Parsed::Print(error.render().to_string())
            }
            _ => Parsed::Usage(usage_line(&error)),
        },
    }
}

/// clap's error as one line: its first line, without the `error: ` prefix.
fn usage_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    format!("{first} (see strands-runtime --help)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Parsed {
        parse(std::iter::once("strands-runtime").chain(line.split_whitespace()))
    }

    fn run(line: &str) -> Command {
        match parse_line(line) {
            Parsed::Run(command) => *command,
            other => panic!("{line:?} parsed as {other:?}"),
        }
    }

    fn usage(line: &str) -> String {
        match parse_line(line) {
            Parsed::Usage(message) => message,
            other => panic!("{line:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn no_arguments_serve_with_the_environment() {
        assert_eq!(run(""), Command::Serve(ServeArgs::default()));
        assert_eq!(run("serve"), Command::Serve(ServeArgs::default()));
    }

    #[test]
    fn serve_flags_work_with_and_without_the_subcommand() {
        let expected = ServeArgs {
            agent: None,
            model: ModelArgs {
                provider: Some("openai".to_owned()),
                model_id: Some("llama3.2".to_owned()),
            },
            host: Some("127.0.0.1".to_owned()),
            port: Some(9000),
            protocol: Some("mcp".to_owned()),
        };
        let line =
            "--provider openai --model-id=llama3.2 --host 127.0.0.1 --port=9000 --protocol mcp";
        assert_eq!(run(line), Command::Serve(expected));
        assert!(
            matches!(run(&format!("serve {line}")), Command::Serve(args) if args.port == Some(9000))
        );
    }

    #[test]
    fn doctor_takes_the_model_flags() {
        let Command::Doctor(args) = run("doctor --provider local --call-model") else {
            panic!("not doctor");
        };
        assert!(args.call_model);
        assert_eq!(args.model.provider.as_deref(), Some("local"));
    }

    #[test]
    fn misuse_is_one_line_naming_the_problem() {
        assert_eq!(
            usage("--verbose"),
            "unexpected argument '--verbose' found (see strands-runtime --help)"
        );
        assert!(usage("serve --port").contains("'--port <PORT>'"));
        assert!(usage("--port eighty").contains("invalid value 'eighty'"));
        assert!(usage("doctor --port 1").contains("'--port'"));
        for line in ["--verbose", "--port", "--port 99999", "frobnicate"] {
            assert!(!usage(line).contains('\n'), "{line}");
        }
    }

    /// Upper-case string literals in the sources that are not environment variables.
    const NOT_VARIABLES: [&str; 57] = [
        // Deploying (strands-deploy and the deploy commands): protocols, statuses, registry
        // error codes, and the value names of flags.
        "A2A",
        "HTTP",
        "MCP",
        "PUBLIC",
        "VPC",
        "READY",
        "DELETE_FAILED",
        "DENIED",
        "UNAUTHORIZED",
        "NAME_UNKNOWN",
        "ECR",
        "ARN",
        "ENDPOINT",
        "PAYLOAD",
        "REFERENCE",
        "REGION",
        "SECONDS",
        "TAG",
        "TEXT",
        "URL",
        // AgentCore Identity's OAuth2 flows (strands-aws identity).
        "M2M",
        "ON_BEHALF_OF_TOKEN_EXCHANGE",
        "USER_FEDERATION",
        // AgentCore Memory's roles and state types (strands-aws memory).
        "AGENT",
        "ASSISTANT",
        "SESSION",
        "USER",
        // HTTP methods (http_request).
        "DELETE",
        "GET",
        "HEAD",
        "OPTIONS",
        "PATCH",
        "PUT",
        // Passed through to shell commands (and a doc example's), not settings of the binary.
        "GIT_AUTHOR_NAME",
        "LANG",
        "LC_ALL",
        "PATH",
        "TMPDIR",
        "TZ",
        "BLOCKED",
        "CARGO_PKG_VERSION",
        "CRITICAL",
        "DEBUG",
        "ERROR",
        "FATAL",
        "FILE",
        "ID",
        "IMDS",
        "INFO",
        "IP",
        "NAME",
        "PI",
        "POST",
        "PROTOCOL",
        "TRACE",
        "UTC",
        "WARNING",
    ];

    /// Every upper-case string literal outside the tests of the crates the binary is built from.
    fn literals_in(dir: &std::path::Path, found: &mut std::collections::BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                literals_in(&path, found);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            // Quotes that do not open or close a string literal.
            let code = code
                .replace("'\\\"'", "")
                .replace("'\"'", "")
                .replace("\\\"", "");
            for literal in code.split('"').skip(1).step_by(2) {
                let looks_like_a_name = literal.len() > 1
                    && literal.starts_with(|c: char| c.is_ascii_uppercase())
                    && literal
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if looks_like_a_name {
                    found.insert(literal.to_owned());
                }
            }
        }
    }

    #[test]
    fn every_variable_read_by_the_sources_is_listed() {
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut found = std::collections::BTreeSet::new();
        for dir in [
            "strands-runtime/src",
            "strands-deploy/src",
            "strands-models/src",
            "strands-aws/src",
            "strands-agent/src/vended_tools",
        ] {
            literals_in(&crates.join(dir), &mut found);
        }
        let listed: Vec<&str> = ENVIRONMENT.iter().map(|(name, _)| *name).collect();
        let missing: Vec<&String> = found
            .iter()
            .filter(|name| {
                !listed.contains(&name.as_str()) && !NOT_VARIABLES.contains(&name.as_str())
            })
            .collect();
        assert!(
            missing.is_empty(),
            "read but not in cli::ENVIRONMENT (or NOT_VARIABLES): {missing:?}"
        );
        assert!(found.len() > 30, "the scan found too little: {found:?}");
    }

    #[test]
    fn help_lists_every_variable_and_version_prints_the_version() {
        let Parsed::Print(help) = parse_line("--help") else {
            panic!("no help");
        };
        for (name, _) in ENVIRONMENT {
            assert!(help.contains(name), "{name} missing from --help");
        }
        let Parsed::Print(version) = parse_line("--version") else {
            panic!("no version");
        };
        assert_eq!(
            version.trim(),
            format!("strands-runtime {}", env!("CARGO_PKG_VERSION"))
        );
    }
}
