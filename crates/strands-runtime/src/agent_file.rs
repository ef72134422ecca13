//! The agent file: the agent `strands-runtime serve --agent agent.json` serves.
//!
//! Python Strands' experimental agent configuration (`strands.experimental.config_to_agent`:
//! `name`, `model` as a Bedrock model id, `prompt`, `tools`) is accepted as it is, with tools
//! named as Python names them (`strands_tools.calculator`) or bare (`calculator`). It is
//! extended with the model's provider and settings, the conversation manager and session
//! storage. Unknown keys and bad values are errors that name the key and the fix; the file is
//! read and checked whole before the server starts (`strands-runtime check --agent`).
//!
//! ```json
//! {
//!   "name": "assistant",
//!   "model": {"provider": "bedrock", "model_id": "us.anthropic.claude-sonnet-4-20250514-v1:0", "max_tokens": 2048},
//!   "prompt": "You are a helpful assistant.",
//!   "tools": ["calculator", "strands_tools.current_time"],
//!   "conversation_manager": {"type": "sliding_window", "window_size": 40},
//!   "session": {"storage": "file", "directory": "/var/lib/agent/sessions"}
//! }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use strands_agent::conversation::{
    NullConversationManager, SlidingWindowConversationManager, SummarizingConversationManager,
};
use strands_agent::session::{FileSessionRepository, SessionManager};
use strands_agent::vended_tools::{HttpRequest, Shell};
use strands_agent::{AgentBuilder, OutputSchema};
use strands_core::session::SessionRepository;

use crate::mcp_servers::{self, McpServer};
use crate::provider::{ModelSettings, Provider, ProviderConfig};

/// The largest agent file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The built-in tools, by the name the model sees.
pub(crate) const BUILTIN_TOOLS: [&str; 7] = [
    "calculator",
    "current_time",
    "file_read",
    "file_editor",
    "http_request",
    "shell",
    "a2a_client",
];

/// The built-in tools that work on files, confined to `tool_settings.files.root`.
const FILE_TOOLS: [&str; 2] = ["file_read", "file_editor"];

/// Prefixes under which Python configurations name the same tools.
const PYTHON_TOOL_PREFIXES: [&str; 2] = ["strands_tools.", "strands.vended_tools."];

/// A parsed, checked agent file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgentFile {
    /// The agent's name (Python's `name`).
    #[serde(default)]
    name: Option<String>,
    /// A Bedrock model id (Python's form), or the provider and settings.
    #[serde(default)]
    model: Option<ModelField>,
    /// The system prompt (Python's `prompt`).
    #[serde(default)]
    prompt: Option<String>,
    /// Built-in tools by name.
    #[serde(default)]
    tools: Vec<String>,
    /// How the history is kept within the context window (default: a sliding window of 40).
    #[serde(default)]
    conversation_manager: Option<ConversationManagerSpec>,
    /// Where each AgentCore session's conversation is persisted (default: in memory only).
    #[serde(default)]
    session: Option<SessionSpec>,
    /// Settings of the built-in tools.
    #[serde(default)]
    tool_settings: ToolSettings,
    /// The JSON schema every answer follows (pydantic's `model_json_schema()` of the output
    /// model), as Python's `Agent(structured_output_model=...)`.
    #[serde(default)]
    structured_output_schema: Option<serde_json::Value>,
    /// That schema, checked.
    #[serde(skip)]
    output: Option<OutputSchema>,
    /// `http_request`, built once (its HTTP client is shared by every session).
    #[serde(skip)]
    http: Option<HttpRequest>,
    /// `shell`, built once.
    #[serde(skip)]
    shell: Option<Shell>,
    /// `a2a_client`, built once.
    #[serde(skip)]
    a2a_client: Option<std::sync::Arc<strands_agent::tools::FunctionTool>>,
    /// MCP servers whose tools the agent gets (Claude Desktop's and Python's `mcpServers`).
    #[serde(default, rename = "mcpServers")]
    mcp_servers: IndexMap<String, serde_json::Value>,
    /// Those servers, checked.
    #[serde(skip)]
    mcp: Vec<McpServer>,
}

/// `tool_settings`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolSettings {
    /// The file tools' directory.
    files: Option<FilesSettings>,
    /// What `http_request` may reach.
    http_request: Option<HttpSettings>,
    /// Whether and where `shell` runs.
    shell: Option<ShellSettings>,
    /// Which remote A2A agents `a2a_client` may call.
    a2a_client: Option<A2AClientSettings>,
}

/// `tool_settings.a2a_client`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct A2AClientSettings {
    /// The base URLs of the agents it may call (Python's `allowed_endpoints`).
    allowed_endpoints: Vec<String>,
    /// The longest a remote agent may stay silent (default 300, as Python's).
    timeout_seconds: Option<u64>,
}

/// `tool_settings.http_request`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpSettings {
    /// `api.example.com`, `*.example.com` or `*`.
    allowed_hosts: Vec<String>,
    /// Whether wildcard hosts may resolve to private addresses.
    #[serde(default)]
    allow_private_networks: bool,
    /// The longest a request may take (default 30).
    timeout_seconds: Option<u64>,
    /// The most body bytes read (default 1 MiB).
    max_body_bytes: Option<usize>,
}

/// `tool_settings.shell`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShellSettings {
    /// Must be `true` for `shell` to be served.
    #[serde(default)]
    enabled: bool,
    /// Where commands start (default: the server's working directory).
    directory: Option<PathBuf>,
    /// Variables of the server's environment passed to commands, beyond PATH, HOME, LANG,
    /// LC_ALL, TZ and TMPDIR.
    #[serde(default)]
    pass_env: Vec<String>,
    /// The longest a command may run (default 600).
    timeout_seconds: Option<u64>,
}

/// `tool_settings.files`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilesSettings {
    /// The only directory `file_read` and `file_editor` reach.
    root: PathBuf,
}

/// `model`: a string (a Bedrock model id) or an object.
#[derive(Debug, Default)]
struct ModelField(ModelSpec);

/// The model's provider and settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelSpec {
    provider: Option<String>,
    model_id: Option<String>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    region: Option<String>,
    base_url: Option<String>,
}

impl<'de> Deserialize<'de> for ModelField {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ModelVisitor;
        impl<'de> Visitor<'de> for ModelVisitor {
            type Value = ModelField;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Bedrock model id, or an object such as {\"provider\": \"bedrock\", \"model_id\": \"...\"}")
            }

            fn visit_str<E: de::Error>(self, id: &str) -> Result<ModelField, E> {
                Ok(ModelField(ModelSpec {
                    model_id: Some(id.to_owned()),
                    ..ModelSpec::default()
                }))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ModelField, A::Error> {
                ModelSpec::deserialize(de::value::MapAccessDeserializer::new(map)).map(ModelField)
            }
        }
        deserializer.deserialize_any(ModelVisitor)
    }
}

/// `conversation_manager`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ConversationManagerSpec {
    /// Keeps the last `window_size` messages (Python's default manager).
    SlidingWindow {
        window_size: Option<usize>,
        should_truncate_results: Option<bool>,
    },
    /// Summarizes the oldest messages with the agent's model when the context overflows.
    Summarizing {
        summary_ratio: Option<f64>,
        preserve_recent_messages: Option<usize>,
    },
    /// Keeps everything.
    Null,
}

/// `session`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "storage", rename_all = "snake_case", deny_unknown_fields)]
enum SessionSpec {
    /// Python's `FileSessionManager` layout under `directory` (default `~/.strands/sessions`).
    File { directory: Option<PathBuf> },
    /// Python's `S3SessionManager` layout in `bucket` under `prefix`.
    S3 {
        bucket: String,
        #[serde(default)]
        prefix: String,
        region: Option<String>,
    },
    /// AgentCore Memory events in Python's `AgentCoreMemorySessionManager` format, one actor per
    /// caller (the user id header, else the payload field `actor_from_payload`, else `actor_id`).
    AgentcoreMemory {
        /// The memory id or ARN (default: `BEDROCK_AGENTCORE_MEMORY_ID`, as the toolkit sets).
        memory_id: Option<String>,
        region: Option<String>,
        /// The actor of requests that name none (default `default`).
        actor_id: Option<String>,
        /// The payload field naming the actor, when callers may act for any actor.
        actor_from_payload: Option<String>,
        /// Long-term memory put in front of each prompt, by namespace (Python's
        /// `retrieval_config`).
        #[serde(default)]
        retrieval_config: IndexMap<String, RetrievalSpec>,
        /// The tag around that context (default `user_context`).
        context_tag: Option<String>,
        /// Gives the agent a `search_memory` tool over the same namespaces.
        #[serde(default)]
        search_tool: bool,
        /// Messages written together in one event, at the end of each invocation or when this
        /// many are held (Python's `batch_size`, 1 to 100; default 1).
        batch_size: Option<usize>,
    },
}

/// One namespace of `session.retrieval_config` (Python's `RetrievalConfig`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetrievalSpec {
    top_k: Option<usize>,
    relevance_score: Option<f64>,
    strategy_id: Option<String>,
}

/// Long-term memory settings of an AgentCore Memory store.
#[derive(Debug, Clone, Default)]
#[cfg_attr(
    not(feature = "agentcore-memory"),
    allow(dead_code, reason = "read only with AgentCore Memory")
)]
pub(crate) struct LongTermSettings {
    retrievals: Vec<strands_agent::memory::Retrieval>,
    context_tag: Option<String>,
    search_tool: bool,
}

impl RetrievalSpec {
    /// The retrieval of `namespace`, Python's defaults where unset.
    fn retrieval(self, namespace: String) -> strands_agent::memory::Retrieval {
        let mut retrieval = strands_agent::memory::Retrieval::new(namespace);
        if let Some(top_k) = self.top_k {
            retrieval = retrieval.top_k(top_k);
        }
        if let Some(score) = self.relevance_score {
            retrieval = retrieval.relevance_score(score);
        }
        if let Some(strategy) = self.strategy_id {
            retrieval = retrieval.strategy_id(strategy);
        }
        retrieval
    }
}

/// Python's bounds on `AgentCoreMemoryConfig` and `RetrievalConfig`.
fn check_memory_settings(
    batch_size: Option<usize>,
    context_tag: Option<&str>,
    retrieval_config: &IndexMap<String, RetrievalSpec>,
) -> Result<(), String> {
    if let Some(size) = batch_size
        && !(1..=100).contains(&size)
    {
        return Err(format!("session.batch_size: {size} is not 1 to 100"));
    }
    if context_tag.is_some_and(|tag| tag.trim().is_empty()) {
        return Err("session.context_tag: must not be empty".to_owned());
    }
    for (namespace, spec) in retrieval_config {
        let key = format!("session.retrieval_config.{namespace}");
        if namespace.trim().is_empty() {
            return Err("session.retrieval_config: a namespace is empty".to_owned());
        }
        if let Some(top_k) = spec.top_k
            && !(1..=1000).contains(&top_k)
        {
            return Err(format!("{key}.top_k: {top_k} is not 1 to 1000"));
        }
        if let Some(score) = spec.relevance_score
            && !(0.0..=1.0).contains(&score)
        {
            return Err(format!(
                "{key}.relevance_score: {score} is not between 0 and 1"
            ));
        }
    }
    Ok(())
}

/// The memory id the AgentCore starter toolkit gives its containers.
const MEMORY_ID_VARIABLE: &str = "BEDROCK_AGENTCORE_MEMORY_ID";

/// Where an agent file's sessions are kept, built.
#[derive(Clone)]
pub(crate) enum SessionStore {
    /// One repository for every caller (files, S3).
    Shared(Arc<dyn SessionRepository>),
    /// AgentCore Memory, a repository per actor.
    #[cfg(feature = "agentcore-memory")]
    Memory {
        memory: strands_aws::AgentCoreMemory,
        default_actor: String,
        batch_size: usize,
        long_term: LongTermSettings,
    },
}

impl SessionStore {
    /// The session manager of `caller`'s session, `None` without a session id.
    pub(crate) fn session_manager(
        &self,
        caller: &strands_runtime::Caller<'_>,
    ) -> Result<Option<SessionManager>, strands_agent::BuildError> {
        let Some(session_id) = caller.session_id else {
            return Ok(None);
        };
        let repository: Arc<dyn SessionRepository> = match self {
            Self::Shared(repository) => repository.clone(),
            #[cfg(feature = "agentcore-memory")]
            Self::Memory {
                memory,
                default_actor,
                batch_size,
                ..
            } => {
                strands_aws::AgentCoreMemory::check_session_id(session_id)?;
                let actor = caller.actor_id.unwrap_or(default_actor);
                Arc::new(memory.for_actor(actor)?.with_batch_size(*batch_size))
            }
        };
        Ok(Some(SessionManager::with_shared_repository(
            session_id, repository,
        )?))
    }

    /// The actor of requests that name none, when storage is per actor.
    pub(crate) fn default_actor(&self) -> Option<&str> {
        match self {
            Self::Shared(_) => None,
            #[cfg(feature = "agentcore-memory")]
            Self::Memory { default_actor, .. } => Some(default_actor),
        }
    }

    /// Long-term memory for `caller`'s prompts, and its search tool if the file asks for it.
    #[cfg_attr(
        not(feature = "agentcore-memory"),
        allow(unused_variables, reason = "only AgentCore Memory is per caller")
    )]
    pub(crate) fn configure(
        &self,
        builder: AgentBuilder,
        caller: &strands_runtime::Caller<'_>,
    ) -> AgentBuilder {
        match self {
            Self::Shared(_) => builder,
            #[cfg(feature = "agentcore-memory")]
            Self::Memory {
                memory,
                default_actor,
                long_term,
                ..
            } => long_term.configure(
                builder,
                memory,
                caller.actor_id.unwrap_or(default_actor),
                caller.session_id,
            ),
        }
    }
}

#[cfg(feature = "agentcore-memory")]
impl LongTermSettings {
    /// Adds the long-term memory of `actor` in `session` (nothing without a namespace; without
    /// a session, the namespaces that name `{sessionId}` are left out).
    fn configure(
        &self,
        mut builder: AgentBuilder,
        memory: &strands_aws::AgentCoreMemory,
        actor: &str,
        session: Option<&str>,
    ) -> AgentBuilder {
        let retrievals: Vec<_> = self
            .retrievals
            .iter()
            .filter(|r| session.is_some() || !r.namespace.contains("{sessionId}"))
            .collect();
        if retrievals.is_empty() {
            return builder;
        }
        let mut ltm = strands_agent::memory::LongTermMemory::new(
            Arc::new(memory.clone()),
            actor,
            session.unwrap_or_default(),
        );
        for retrieval in retrievals {
            ltm = ltm.retrieval(retrieval.clone());
        }
        if let Some(tag) = &self.context_tag {
            ltm = ltm.context_tag(tag.as_str());
        }
        if self.search_tool {
            builder = builder.tool(ltm.search_tool());
        }
        builder.hooks(ltm)
    }
}

/// Reads and checks the agent file at `path` (a `file://` prefix is accepted, as in Python).
///
/// # Errors
///
/// One line naming the file, the key and the fix.
pub(crate) fn load(path: &str) -> Result<AgentFile, String> {
    let path = Path::new(path.strip_prefix("file://").unwrap_or(path));
    let shown = path.display();
    let size = std::fs::metadata(path)
        .map_err(|error| format!("agent file {shown}: {error}"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "agent file {shown}: {size} bytes; an agent file may have at most {MAX_FILE_BYTES}"
        ));
    }
    let text =
        std::fs::read_to_string(path).map_err(|error| format!("agent file {shown}: {error}"))?;
    parse(&text).map_err(|error| format!("agent file {shown}: {error}"))
}

/// Parses and checks an agent file's text.
///
/// # Errors
///
/// The key and what is wrong with it.
pub(crate) fn parse(text: &str) -> Result<AgentFile, String> {
    let deserializer = &mut serde_json::Deserializer::from_str(text);
    let mut file: AgentFile = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let mut path = error.path().to_string();
        let inner = error.into_inner();
        if inner.to_string().starts_with("unknown field") {
            // The path ends with the unknown key itself, which the message names.
            path = path
                .rsplit_once('.')
                .map_or_else(String::new, |(parent, _)| parent.to_owned());
        }
        if path == "." || path.is_empty() {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })?;
    file.check()?;
    file.build_tools()?;
    file.mcp = mcp_servers::parse(&file.mcp_servers, &|name| std::env::var(name).ok())?;
    if let Some(schema) = file.structured_output_schema.take() {
        let schema = OutputSchema::new(schema)
            .map_err(|error| format!("structured_output_schema: {error}"))?;
        if file.tool_names().contains(&schema.name()) {
            return Err(format!(
                "structured_output_schema.title: {:?} is also the name of a tool; rename the output",
                schema.name()
            ));
        }
        file.output = Some(schema);
    }
    Ok(file)
}

/// The name a tool string refers to, if it is a built-in tool.
fn builtin_name(tool: &str) -> Option<&'static str> {
    let bare = PYTHON_TOOL_PREFIXES
        .iter()
        .find_map(|prefix| tool.strip_prefix(prefix))
        .unwrap_or(tool);
    // strands_tools' editor and the SDK's bash are file_editor's and shell's former names.
    let bare = match bare {
        "editor" => "file_editor",
        "bash" => "shell",
        other => other,
    };
    BUILTIN_TOOLS.into_iter().find(|name| *name == bare)
}

impl AgentFile {
    /// The checks serde's types cannot express.
    fn check(&self) -> Result<(), String> {
        let mut seen = Vec::new();
        for (index, tool) in self.tools.iter().enumerate() {
            let Some(name) = builtin_name(tool) else {
                return Err(format!(
                    "tools[{index}]: unknown tool {tool:?}; the built-in tools are {}",
                    BUILTIN_TOOLS.join(", ")
                ));
            };
            if seen.contains(&name) {
                return Err(format!("tools[{index}]: {tool:?} is listed twice"));
            }
            if FILE_TOOLS.contains(&name) {
                let Some(files) = &self.tool_settings.files else {
                    return Err(format!(
                        "tools[{index}]: {name} needs the directory it may reach: add \"tool_settings\": {{\"files\": {{\"root\": \"/path\"}}}}"
                    ));
                };
                if !files.root.is_dir() {
                    return Err(format!(
                        "tool_settings.files.root: {} is not a directory",
                        files.root.display()
                    ));
                }
            }
            seen.push(name);
        }
        let model = self.model_spec();
        if let Some(provider) = &model.provider {
            provider
                .parse::<Provider>()
                .map_err(|error| format!("model.provider: {error}"))?;
        }
        if model.max_tokens == Some(0) {
            return Err("model.max_tokens: must be at least 1".to_owned());
        }
        if model.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
            return Err("model.temperature: must be between 0 and 2".to_owned());
        }
        if model.top_p.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            return Err("model.top_p: must be between 0 and 1".to_owned());
        }
        match &self.conversation_manager {
            Some(ConversationManagerSpec::SlidingWindow {
                window_size: Some(0),
                ..
            }) => Err("conversation_manager.window_size: must be at least 1".to_owned()),
            Some(ConversationManagerSpec::Summarizing {
                summary_ratio: Some(ratio),
                ..
            }) if !(0.1..=0.8).contains(ratio) => Err(
                "conversation_manager.summary_ratio: must be between 0.1 and 0.8 (Python's bounds)"
                    .to_owned(),
            ),
            _ => self.check_session(),
        }
    }

    /// Builds the tools that are built once, with their settings checked.
    fn build_tools(&mut self) -> Result<(), String> {
        let names = self.tool_names();
        if names.contains(&"http_request") {
            let Some(settings) = &self.tool_settings.http_request else {
                return Err("http_request needs the hosts it may reach: add \"tool_settings\": {\"http_request\": {\"allowed_hosts\": [\"api.example.com\"]}}".to_owned());
            };
            let mut tool = HttpRequest::new(&settings.allowed_hosts)
                .map_err(|e| format!("tool_settings.http_request.allowed_hosts: {e}"))?;
            if settings.allow_private_networks {
                tool = tool
                    .allow_private_networks()
                    .map_err(|e| format!("tool_settings.http_request: {e}"))?;
            }
            let timeout = match settings.timeout_seconds {
                Some(0) => {
                    return Err(
                        "tool_settings.http_request.timeout_seconds: must be at least 1".to_owned(),
                    );
                }
                Some(seconds) => Duration::from_secs(seconds),
                None => Duration::from_secs(30),
            };
            let max_body = settings.max_body_bytes.unwrap_or(1024 * 1024);
            self.http = Some(tool.with_limits(timeout, max_body));
        }
        if names.contains(&"a2a_client") {
            self.a2a_client = Some(self.build_a2a_client()?);
        }
        if names.contains(&"shell") {
            let Some(settings) = self.tool_settings.shell.as_ref().filter(|s| s.enabled) else {
                return Err("shell runs any command the model writes, so it is off unless enabled: add \"tool_settings\": {\"shell\": {\"enabled\": true}}, and serve it only in a sandbox".to_owned());
            };
            let directory = settings
                .directory
                .clone()
                .unwrap_or_else(|| PathBuf::from("."));
            let mut shell = Shell::new(&directory).map_err(|e| {
                format!(
                    "tool_settings.shell.directory: {}: {e}",
                    directory.display()
                )
            })?;
            for name in &settings.pass_env {
                shell = shell.pass_env(name.clone());
            }
            let timeout = match settings.timeout_seconds {
                Some(0) => {
                    return Err(
                        "tool_settings.shell.timeout_seconds: must be at least 1".to_owned()
                    );
                }
                Some(seconds) => Duration::from_secs(seconds),
                None => Duration::from_secs(600),
            };
            self.shell = Some(shell.with_limits(timeout, 1024 * 1024));
        }
        Ok(())
    }

    /// `a2a_client`, limited to the endpoints of `tool_settings.a2a_client`.
    fn build_a2a_client(
        &self,
    ) -> Result<std::sync::Arc<strands_agent::tools::FunctionTool>, String> {
        let settings = self.tool_settings.a2a_client.as_ref().filter(|s| !s.allowed_endpoints.is_empty()).ok_or_else(|| {
            "a2a_client needs the agents it may call: add \"tool_settings\": {\"a2a_client\": {\"allowed_endpoints\": [\"http://agent.internal:9000/\"]}}".to_owned()
        })?;
        let timeout = match settings.timeout_seconds {
            Some(0) => {
                return Err(
                    "tool_settings.a2a_client.timeout_seconds: must be at least 1".to_owned(),
                );
            }
            Some(seconds) => Duration::from_secs(seconds),
            None => Duration::from_secs(300),
        };
        let mut builder = strands_a2a::A2AClientTool::builder();
        for (index, endpoint) in settings.allowed_endpoints.iter().enumerate() {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(format!(
                    "tool_settings.a2a_client.allowed_endpoints[{index}]: {endpoint:?} is not an http(s) URL"
                ));
            }
            builder = builder.agent(strands_a2a::A2AAgent::builder(endpoint).timeout(timeout));
        }
        let tool = builder
            .build()
            .map_err(|e| format!("tool_settings.a2a_client: {e}"))?;
        Ok(std::sync::Arc::new(tool))
    }

    fn check_session(&self) -> Result<(), String> {
        match &self.session {
            Some(SessionSpec::S3 { bucket, .. }) if bucket.trim().is_empty() => {
                Err("session.bucket: must name the S3 bucket".to_owned())
            }
            Some(SessionSpec::S3 { .. }) if !cfg!(feature = "s3-sessions") => Err(
                "session: this binary was built without S3 sessions; rebuild with `--features s3-sessions`, or use {\"storage\": \"file\"}"
                    .to_owned(),
            ),
            Some(SessionSpec::AgentcoreMemory { .. }) if !cfg!(feature = "agentcore-memory") => Err(
                "session: this binary was built without AgentCore Memory; rebuild with `--features agentcore-memory`, or use {\"storage\": \"file\"}"
                    .to_owned(),
            ),
            Some(SessionSpec::AgentcoreMemory { memory_id, .. })
                if memory_id.is_none() && std::env::var_os(MEMORY_ID_VARIABLE).is_none() =>
            {
                Err(format!(
                    "session.memory_id: name the AgentCore Memory (its id or ARN), or set {MEMORY_ID_VARIABLE}"
                ))
            }
            Some(SessionSpec::AgentcoreMemory {
                batch_size,
                context_tag,
                retrieval_config,
                ..
            }) => check_memory_settings(*batch_size, context_tag.as_deref(), retrieval_config),
            _ => Ok(()),
        }
    }

    fn model_spec(&self) -> &ModelSpec {
        static DEFAULT: ModelSpec = ModelSpec {
            provider: None,
            model_id: None,
            max_tokens: None,
            temperature: None,
            top_p: None,
            region: None,
            base_url: None,
        };
        self.model.as_ref().map_or(&DEFAULT, |field| &field.0)
    }

    /// Applies the file's model to `config` (read from the environment): what the file sets
    /// wins over the environment.
    pub(crate) fn apply_model(&self, config: &mut ProviderConfig) {
        let model = self.model_spec();
        if let Some(provider) = model.provider.as_deref().and_then(|p| p.parse().ok()) {
            config.provider = provider;
        }
        if let Some(id) = &model.model_id {
            *config = config.clone().with_model_id(id.clone());
        }
        config.settings = ModelSettings {
            max_tokens: model.max_tokens,
            temperature: model.temperature,
            top_p: model.top_p,
            region: model.region.clone(),
            base_url: model.base_url.clone(),
        };
    }

    /// The agent's name, if the file sets one.
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The system prompt, if the file sets one.
    pub(crate) fn prompt(&self) -> Option<&str> {
        self.prompt.as_deref()
    }

    /// The MCP servers to start, in the file's order (disabled ones left out).
    pub(crate) fn mcp_servers(&self) -> &[McpServer] {
        &self.mcp
    }

    /// The built-in tools' names, in the file's order.
    pub(crate) fn tool_names(&self) -> Vec<&'static str> {
        self.tools.iter().filter_map(|t| builtin_name(t)).collect()
    }

    /// Adds the file's name, tools and conversation manager to `builder`.
    pub(crate) fn configure(&self, mut builder: AgentBuilder) -> AgentBuilder {
        use strands_agent::vended_tools::{FileEditor, FileRead, calculator, current_time};

        if let Some(name) = &self.name {
            builder = builder.name(name.clone());
        }
        if let Some(schema) = &self.output {
            builder = builder.structured_output(schema.clone());
        }
        let root = self.tool_settings.files.as_ref().map(|f| f.root.as_path());
        for name in self.tool_names() {
            builder = match (name, root) {
                ("calculator", _) => builder.tool(calculator),
                ("current_time", _) => builder.tool(current_time),
                // The root was checked when the file was read; a root removed since then leaves
                // the tool out rather than failing every session.
                ("file_read", Some(root)) => match FileRead::new(root) {
                    Ok(tool) => builder.tool(tool),
                    Err(error) => {
                        tracing::error!("file_read is unavailable: {}: {error}", root.display());
                        builder
                    }
                },
                ("file_editor", Some(root)) => match FileEditor::new(root) {
                    Ok(tool) => builder.tool(tool),
                    Err(error) => {
                        tracing::error!("file_editor is unavailable: {}: {error}", root.display());
                        builder
                    }
                },
                ("http_request", _) => match &self.http {
                    Some(tool) => builder.tool(tool.clone()),
                    None => builder,
                },
                ("shell", _) => match &self.shell {
                    Some(tool) => builder.tool(tool.clone()),
                    None => builder,
                },
                ("a2a_client", _) => match &self.a2a_client {
                    Some(tool) => {
                        builder.shared_tool(tool.clone() as std::sync::Arc<dyn strands_core::Tool>)
                    }
                    None => builder,
                },
                _ => builder,
            };
        }
        match self.conversation_manager.clone() {
            None => builder,
            Some(ConversationManagerSpec::Null) => {
                builder.conversation_manager(NullConversationManager::new())
            }
            Some(ConversationManagerSpec::SlidingWindow {
                window_size,
                should_truncate_results,
            }) => {
                let mut manager = SlidingWindowConversationManager::new();
                if let Some(size) = window_size {
                    manager = manager.window_size(size);
                }
                if let Some(truncate) = should_truncate_results {
                    manager = manager.should_truncate_results(truncate);
                }
                builder.conversation_manager(manager)
            }
            Some(ConversationManagerSpec::Summarizing {
                summary_ratio,
                preserve_recent_messages,
            }) => {
                let mut manager = SummarizingConversationManager::new();
                if let Some(ratio) = summary_ratio {
                    manager = manager.summary_ratio(ratio);
                }
                if let Some(count) = preserve_recent_messages {
                    manager = manager.preserve_recent_messages(count);
                }
                builder.conversation_manager(manager)
            }
        }
    }

    /// The session storage the file names, built (an S3 or AgentCore client needs the AWS
    /// configuration).
    ///
    /// # Errors
    ///
    /// A memory id AgentCore cannot name.
    pub(crate) async fn session_store(&self) -> Result<Option<SessionStore>, String> {
        let Some(spec) = self.session.clone() else {
            return Ok(None);
        };
        Ok(match spec {
            SessionSpec::File { directory } => {
                Some(SessionStore::Shared(Arc::new(FileSessionRepository::new(
                    directory.unwrap_or_else(FileSessionRepository::default_dir),
                ))))
            }
            SessionSpec::S3 {
                bucket,
                prefix,
                region,
            } => s3_repository(bucket, prefix, region)
                .await
                .map(SessionStore::Shared),
            SessionSpec::AgentcoreMemory {
                memory_id,
                region,
                actor_id,
                retrieval_config,
                context_tag,
                search_tool,
                batch_size,
                ..
            } => {
                let long_term = LongTermSettings {
                    retrievals: retrieval_config
                        .into_iter()
                        .map(|(namespace, spec)| spec.retrieval(namespace))
                        .collect(),
                    context_tag,
                    search_tool,
                };
                let batch_size = batch_size.unwrap_or(1);
                memory_store(memory_id, region, actor_id, batch_size, long_term).await?
            }
        })
    }

    /// The payload field naming the actor, if the file allows one.
    pub(crate) fn actor_field(&self) -> Option<&str> {
        match &self.session {
            Some(SessionSpec::AgentcoreMemory {
                actor_from_payload, ..
            }) => actor_from_payload.as_deref(),
            _ => None,
        }
    }
}

/// The AWS configuration of the runtime, in `region` if given.
#[cfg(any(feature = "s3-sessions", feature = "agentcore-memory"))]
async fn aws_config_in(region: Option<String>) -> aws_config::SdkConfig {
    let config = strands_aws::sdk_config().await;
    match region {
        Some(region) => config
            .into_builder()
            .region(aws_config::Region::new(region))
            .build(),
        None => config,
    }
}

#[cfg(feature = "agentcore-memory")]
async fn memory_store(
    memory_id: Option<String>,
    region: Option<String>,
    actor_id: Option<String>,
    batch_size: usize,
    long_term: LongTermSettings,
) -> Result<Option<SessionStore>, String> {
    let memory_id = memory_id
        .or_else(|| std::env::var(MEMORY_ID_VARIABLE).ok())
        .unwrap_or_default();
    let config = aws_config_in(region).await;
    let memory = strands_aws::AgentCoreMemory::from_conf(&config, memory_id)
        .map_err(|error| format!("session.memory_id: {error}"))?;
    let default_actor = actor_id.unwrap_or_else(|| "default".to_owned());
    memory
        .for_actor(default_actor.as_str())
        .map_err(|error| format!("session.actor_id: {error}"))?;
    Ok(Some(SessionStore::Memory {
        memory,
        default_actor,
        batch_size,
        long_term,
    }))
}

/// Refused by [`AgentFile::check`] before this is reached.
#[cfg(not(feature = "agentcore-memory"))]
async fn memory_store(
    _: Option<String>,
    _: Option<String>,
    _: Option<String>,
    _: usize,
    _: LongTermSettings,
) -> Result<Option<SessionStore>, String> {
    Ok(None)
}

#[cfg(feature = "s3-sessions")]
async fn s3_repository(
    bucket: String,
    prefix: String,
    region: Option<String>,
) -> Option<Arc<dyn SessionRepository>> {
    let config = aws_config_in(region).await;
    Some(Arc::new(strands_aws::S3SessionRepository::from_conf(
        &config, bucket, prefix,
    )))
}

/// Refused by [`AgentFile::check`] before this is reached.
#[cfg(not(feature = "s3-sessions"))]
async fn s3_repository(
    _: String,
    _: String,
    _: Option<String>,
) -> Option<Arc<dyn SessionRepository>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse(text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"))
    }

    #[test]
    fn agentcore_memory_sessions_need_a_memory() {
        let file = parse(
            r#"{"session": {"storage": "agentcore_memory", "memory_id": "m-0123456789", "actor_from_payload": "actor_id"}}"#,
        );
        if cfg!(feature = "agentcore-memory") {
            assert_eq!(file.unwrap().actor_field(), Some("actor_id"));
            if std::env::var_os(MEMORY_ID_VARIABLE).is_none() {
                let message = error(r#"{"session": {"storage": "agentcore_memory"}}"#);
                assert!(message.contains(MEMORY_ID_VARIABLE), "{message}");
            }
        } else {
            assert!(file.unwrap_err().contains("--features agentcore-memory"));
        }
        let message = error(r#"{"session": {"storage": "agentcore_memory", "actor": "x"}}"#);
        assert!(message.contains("unknown field `actor`"), "{message}");
        let message = error(
            r#"{"session": {"storage": "agentcore_memory", "retrieval_config": {"/u/{actorId}": {"topk": 3}}}}"#,
        );
        assert!(message.contains("unknown field `topk`"), "{message}");
        if cfg!(feature = "agentcore-memory") {
            parse(
                r#"{"session": {"storage": "agentcore_memory", "memory_id": "m-0123456789", "search_tool": true, "context_tag": "memory",
                    "retrieval_config": {"/users/{actorId}/facts": {"top_k": 3, "relevance_score": 0.5, "strategy_id": "s-1"}}}}"#,
            )
            .unwrap();
        }
    }

    #[test]
    fn memory_settings_have_pythons_bounds() {
        if !cfg!(feature = "agentcore-memory") {
            return;
        }
        let with = |settings: &str| {
            format!(
                r#"{{"session": {{"storage": "agentcore_memory", "memory_id": "m-0123456789", {settings}}}}}"#
            )
        };
        for (settings, expected) in [
            (
                r#""batch_size": 0"#,
                "session.batch_size: 0 is not 1 to 100",
            ),
            (
                r#""batch_size": 101"#,
                "session.batch_size: 101 is not 1 to 100",
            ),
            (
                r#""context_tag": " ""#,
                "session.context_tag: must not be empty",
            ),
            (
                r#""retrieval_config": {"/f/{actorId}": {"relevance_score": 1.5}}"#,
                "session.retrieval_config./f/{actorId}.relevance_score: 1.5 is not between 0 and 1",
            ),
            (
                r#""retrieval_config": {"/f/{actorId}": {"top_k": 0}}"#,
                "session.retrieval_config./f/{actorId}.top_k: 0 is not 1 to 1000",
            ),
        ] {
            assert_eq!(error(&with(settings)), expected, "{settings}");
        }
        parse(&with(
            r#""batch_size": 100, "retrieval_config": {"/f": {"relevance_score": 0.0}}"#,
        ))
        .unwrap();
    }

    #[tokio::test]
    async fn a2a_client_calls_only_the_endpoints_allowed() {
        let file = parse(
            r#"{"tools": ["strands.vended_tools.a2a_client"], "tool_settings": {"a2a_client": {"allowed_endpoints": ["http://calculator.internal:9000/"], "timeout_seconds": 30}}}"#,
        )
        .unwrap();
        let agent = file
            .configure(
                strands_agent::Agent::builder()
                    .model(strands_testkit::ScriptedModel::builder().build()),
            )
            .build()
            .unwrap();
        let tool = agent.tools().find(|t| t.name() == "a2a_client").unwrap();
        assert!(
            tool.spec()
                .description
                .ends_with("Permitted endpoints: http://calculator.internal:9000/."),
            "{}",
            tool.spec().description
        );
        let tool_use = strands_core::ToolUse::new(
            "t1",
            "a2a_client",
            serde_json::json!({"operation": "discover", "endpoint": "http://elsewhere.internal/"}),
        );
        let mut events = tool.stream(tool_use, strands_core::ToolContext::default());
        let mut result = None;
        while let Some(event) = futures_util::StreamExt::next(&mut events).await {
            if let strands_core::ToolEvent::Result(r) = event {
                result = Some(r);
            }
        }
        let result = serde_json::to_value(result.unwrap()).unwrap();
        assert_eq!(result["status"], "error");
        assert_eq!(
            result["content"][0]["text"],
            "Error: A2AClientError - Endpoint 'http://elsewhere.internal/' is not in the allowed endpoints list. Permitted endpoints: ['http://calculator.internal:9000/']"
        );
    }

    #[test]
    fn pythons_config_is_accepted_as_it_is() {
        let file = parse(
            r#"{"name": "TestAgent", "model": "us.anthropic.claude-sonnet-4-20250514-v1:0",
                "prompt": "Test prompt", "tools": ["strands_tools.calculator", "strands.vended_tools.current_time"]}"#,
        )
        .unwrap();
        assert_eq!(file.prompt(), Some("Test prompt"));
        assert_eq!(file.tool_names(), ["calculator", "current_time"]);
        let mut config = ProviderConfig::default();
        file.apply_model(&mut config);
        assert_eq!(config.provider, Provider::Bedrock);
        assert_eq!(
            config.model_id(),
            Some("us.anthropic.claude-sonnet-4-20250514-v1:0")
        );
        assert!(parse("{}").is_ok());
        assert!(parse(r#"{"name": null, "model": null, "prompt": null}"#).is_ok());
    }

    #[test]
    fn the_extended_form_sets_provider_settings_manager_and_session() {
        let file = parse(
            r#"{"model": {"provider": "openai", "model_id": "llama3.2", "max_tokens": 256,
                          "temperature": 0.2, "top_p": 0.9, "base_url": "http://localhost:11434/v1"},
                "conversation_manager": {"type": "summarizing", "summary_ratio": 0.5},
                "session": {"storage": "file", "directory": "/tmp/sessions"}}"#,
        )
        .unwrap();
        let mut config = ProviderConfig::default();
        file.apply_model(&mut config);
        assert_eq!(config.provider, Provider::OpenAi);
        assert_eq!(config.settings.max_tokens, Some(256));
        assert_eq!(
            config.settings.base_url.as_deref(),
            Some("http://localhost:11434/v1")
        );
        assert!(matches!(
            file.conversation_manager,
            Some(ConversationManagerSpec::Summarizing { .. })
        ));
    }

    #[test]
    fn unknown_keys_name_the_key_and_the_keys_allowed() {
        let message = error(r#"{"modle": "x"}"#);
        assert!(
            message.starts_with("unknown field `modle`, expected one of `name`, `model`"),
            "{message}"
        );
        let message = error(r#"{"model": {"provider": "bedrock", "temprature": 1}}"#);
        assert!(
            message.starts_with("model: unknown field `temprature`"),
            "{message}"
        );
        let message = error(r#"{"conversation_manager": {"type": "sliding_window", "size": 3}}"#);
        assert!(message.contains("unknown field `size`"), "{message}");
    }

    #[test]
    fn bad_values_name_the_key_and_the_fix() {
        let cases = [
            (
                r#"{"tools": "calculator"}"#,
                "tools: invalid type: string \"calculator\", expected a sequence",
            ),
            (
                r#"{"tools": ["calculator", 5]}"#,
                "tools[1]: invalid type: integer `5`, expected a string",
            ),
            (
                r#"{"tools": ["shovel"]}"#,
                "tools[0]: unknown tool \"shovel\"; the built-in tools are calculator, current_time",
            ),
            (
                r#"{"tools": ["http_request"]}"#,
                "http_request needs the hosts it may reach: add \"tool_settings\": {\"http_request\": {\"allowed_hosts\": [\"api.example.com\"]}}",
            ),
            (
                r#"{"tools": ["a2a_client"]}"#,
                "a2a_client needs the agents it may call: add \"tool_settings\": {\"a2a_client\": {\"allowed_endpoints\": [\"http://agent.internal:9000/\"]}}",
            ),
            (
                r#"{"tools": ["a2a_client"], "tool_settings": {"a2a_client": {"allowed_endpoints": ["agent.internal"]}}}"#,
                "tool_settings.a2a_client.allowed_endpoints[0]: \"agent.internal\" is not an http(s) URL",
            ),
            (
                r#"{"tools": ["http_request"], "tool_settings": {"http_request": {"allowed_hosts": ["https://x.com"]}}}"#,
                "tool_settings.http_request.allowed_hosts: \"https://x.com\" is not a host name, *.domain or *",
            ),
            (
                r#"{"tools": ["strands_tools.shell"]}"#,
                "shell runs any command the model writes, so it is off unless enabled",
            ),
            (
                r#"{"tools": ["shell"], "tool_settings": {"shell": {"enabled": false}}}"#,
                "shell runs any command the model writes, so it is off unless enabled",
            ),
            (
                r#"{"tools": ["shell"], "tool_settings": {"shell": {"enabled": true, "directory": "/no/such/dir"}}}"#,
                "tool_settings.shell.directory: /no/such/dir: No such file",
            ),
            (
                r#"{"tools": ["calculator", "strands_tools.calculator"]}"#,
                "tools[1]: \"strands_tools.calculator\" is listed twice",
            ),
            (
                r#"{"model": 5}"#,
                "model: invalid type: integer `5`, expected a Bedrock model id, or an object",
            ),
            (
                r#"{"model": {"provider": "watson"}}"#,
                "model.provider: unknown model provider \"watson\"",
            ),
            (
                r#"{"model": {"temperature": "hot"}}"#,
                "model.temperature: invalid type: string \"hot\", expected f32",
            ),
            (
                r#"{"model": {"temperature": 3}}"#,
                "model.temperature: must be between 0 and 2",
            ),
            (
                r#"{"model": {"max_tokens": -1}}"#,
                "model.max_tokens: invalid value: integer `-1`, expected u32",
            ),
            (
                r#"{"conversation_manager": {"type": "forgetful"}}"#,
                "conversation_manager.type: unknown variant `forgetful`, expected one of `sliding_window`, `summarizing`, `null`",
            ),
            (
                r#"{"conversation_manager": {"type": "sliding_window", "window_size": 0}}"#,
                "conversation_manager.window_size: must be at least 1",
            ),
            (
                r#"{"session": {"storage": "s3"}}"#,
                "session: missing field `bucket`",
            ),
            (r#"{"model": "x",}"#, "trailing comma"),
            (
                r#"{"structured_output_schema": {"type": "object", "properties": {}}}"#,
                "structured_output_schema: title: missing; it names the tool the model calls",
            ),
            (
                r#"{"structured_output_schema": "Person"}"#,
                "structured_output_schema: the schema must be a JSON object",
            ),
            (
                r#"{"tools": ["calculator"], "structured_output_schema": {"title": "calculator", "type": "object", "properties": {}}}"#,
                "structured_output_schema.title: \"calculator\" is also the name of a tool",
            ),
        ];
        for (text, expected) in cases {
            let message = error(text);
            assert!(
                message.starts_with(expected) || message.contains(expected),
                "{text}\n  got: {message}\n  want: {expected}"
            );
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn files_are_read_with_a_size_bound_and_named_in_errors() {
        let dir = std::env::temp_dir().join(format!("strands-agent-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("agent.json");
        std::fs::write(&path, r#"{"tools": ["calculator"]}"#).unwrap();
        let shown = path.display().to_string();
        assert!(load(&format!("file://{shown}")).is_ok());
        std::fs::write(&path, r#"{"tools": 1}"#).unwrap();
        assert!(
            load(&shown)
                .unwrap_err()
                .starts_with(&format!("agent file {shown}: tools: "))
        );
        std::fs::write(&path, vec![b' '; 2 * 1024 * 1024]).unwrap();
        assert!(load(&shown).unwrap_err().contains("at most 1048576"));
        assert!(
            load(&dir.join("missing.json").display().to_string())
                .unwrap_err()
                .contains("No such file")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
