//! The agent file's `mcpServers`: MCP servers whose tools the served agent gets.
//!
//! The format is the one Claude Desktop, Python Strands' `MCPClient.load_servers` and the MCP
//! examples use: a map from a server's name to `command`/`args`/`env`/`cwd` (a child process
//! over stdio) or `url`/`headers` (streamable HTTP), with Python's per-server keys (`transport`,
//! `disabled`, `continue_on_error`, `prefix`, `tool_filters`, `startup_timeout`,
//! `application_name`, `application_version`). `${VAR}` and `${env:VAR}` in any string take
//! the variable's value, so tokens stay out of the file, and `~` in `command` and `cwd` is the
//! home directory, as in Python. Two keys extend it: `"auth": "sigv4"` signs every request with
//! the runtime's AWS credentials (AgentCore Gateway with IAM authorization), and
//! `call_timeout_seconds` bounds each tool call.
//!
//! ```json
//! "mcpServers": {
//!   "docs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"]},
//!   "gateway": {"url": "https://gw-1.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp", "auth": "sigv4",
//!               "prefix": "gw", "tool_filters": {"rejected": ["^admin"]}}
//! }
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;
use strands_core::Tool;
use strands_mcp::search::{ModelIntent, UserTextIntent};
use strands_mcp::{
    ClientCredentials, McpClient, McpTransport, SigV4Signer, ToolFilters, ToolSearch,
};

/// The most MCP servers one agent file may name.
const MAX_SERVERS: usize = 32;

/// One `mcpServers` entry, after `${VAR}` interpolation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSpec {
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    cwd: Option<String>,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// `stdio` or `streamable-http` (`http`; also the key `type`, as other MCP configs name it).
    #[serde(alias = "type")]
    transport: Option<String>,
    auth: Option<Value>,
    #[serde(default)]
    #[allow(dead_code, reason = "read from the raw entry, before interpolation")]
    disabled: bool,
    #[serde(default)]
    continue_on_error: bool,
    prefix: Option<String>,
    tool_filters: Option<FilterSpec>,
    startup_timeout: Option<u64>,
    application_name: Option<String>,
    application_version: Option<String>,
    call_timeout_seconds: Option<u64>,
    tool_search: Option<Value>,
}

/// `tool_search` as an object: how AgentCore Gateway's semantic search picks each
/// invocation's tools.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchFields {
    /// `model` (default: the agent's model states the intent, as in Python) or `user_text`.
    intent: Option<String>,
    /// How many of the latest messages are read (default 5 with `model`, 1 with `user_text`).
    window: Option<usize>,
    system_prompt: Option<String>,
    /// The search tool (default `x_amz_bedrock_agentcore_search`).
    tool: Option<String>,
    timeout_seconds: Option<u64>,
}

/// `tool_filters`: regular expressions matched from the start of a tool's MCP name (Python's
/// `re.match`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterSpec {
    allowed: Option<Vec<String>>,
    rejected: Option<Vec<String>>,
}

/// A checked server entry, ready to start.
#[derive(Debug)]
pub(crate) struct McpServer {
    name: String,
    transport: McpTransport,
    sigv4: Option<SigV4Spec>,
    oauth: Option<ClientCredentials>,
    continue_on_error: bool,
    prefix: Option<String>,
    filters: ToolFilters,
    startup_timeout: Duration,
    call_timeout: Option<Duration>,
    client_info: (String, String),
    search: Option<SearchSpec>,
}

/// A checked `tool_search`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SearchSpec {
    /// Ask the model for the intent (else: the user's text).
    model_intent: bool,
    window: Option<usize>,
    system_prompt: Option<String>,
    tool: Option<String>,
    timeout: Option<Duration>,
}

/// `"auth": "sigv4"` or `{"type": "sigv4", "region": ..., "service": ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SigV4Spec {
    /// Default: the region in an AgentCore Gateway URL, else the runtime's region.
    pub(crate) region: Option<String>,
    /// Default `bedrock-agentcore`.
    pub(crate) service: String,
}

/// Reads the `mcpServers` map: each server checked, disabled ones left out, one whose variables
/// are missing left out too when it may fail (`continue_on_error`).
///
/// # Errors
///
/// `mcpServers.<name>.<key>: what is wrong and the fix`.
pub(crate) fn parse(
    servers: &IndexMap<String, Value>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<McpServer>, String> {
    if servers.len() > MAX_SERVERS {
        return Err(format!(
            "mcpServers: {} servers; an agent file may name at most {MAX_SERVERS}",
            servers.len()
        ));
    }
    let mut parsed = Vec::new();
    for (name, entry) in servers {
        let at = format!("mcpServers.{name}");
        if !entry.is_object() {
            return Err(format!(
                "{at}: must be an object, e.g. {{\"command\": \"npx\", \"args\": [...]}} or {{\"url\": \"https://...\"}}"
            ));
        }
        if entry.get("disabled").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let may_fail = entry.get("continue_on_error").and_then(Value::as_bool) == Some(true);
        let server = interpolate(entry, env)
            .map_err(|error| format!("{at}: {error}"))
            .and_then(|entry| {
                let spec: ServerSpec = serde_path_to_error::deserialize(entry).map_err(|e| {
                    let path = e.path().to_string();
                    let inner = e.into_inner();
                    if path == "." || inner.to_string().starts_with("unknown field") {
                        format!("{at}: {inner}")
                    } else {
                        format!("{at}.{path}: {inner}")
                    }
                })?;
                server(name, spec, env).map_err(|error| format!("{at}.{error}"))
            });
        let server = server.and_then(|server| {
            let searched = parsed.iter().find(|s: &&McpServer| s.search.is_some());
            match searched {
                Some(first) if server.search.is_some() => Err(format!(
                    "{at}.tool_search: {} already searches its tools; only one server may",
                    first.name
                )),
                _ => Ok(server),
            }
        });
        match server {
            Ok(server) => parsed.push(server),
            Err(error) if may_fail => {
                tracing::warn!("{error}; the server is left out (continue_on_error)");
            }
            Err(error) => return Err(error),
        }
    }
    Ok(parsed)
}

/// Replaces `${VAR}` and `${env:VAR}` in every string of `value` (Python's
/// `_interpolate_env_vars`).
fn interpolate(value: &Value, env: &dyn Fn(&str) -> Option<String>) -> Result<Value, String> {
    Ok(match value {
        Value::String(text) => Value::String(interpolate_str(text, env)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| interpolate(item, env))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| Ok((key.clone(), interpolate(item, env)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

fn interpolate_str(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        let inner = &after[2..];
        let name_of = |body: &str| body.strip_prefix("env:").unwrap_or(body).to_owned();
        match inner.find('}') {
            Some(end) if is_variable(&name_of(&inner[..end])) => {
                let variable = name_of(&inner[..end]);
                let value = env(&variable)
                    .ok_or_else(|| format!("environment variable '{variable}' is not set"))?;
                out.push_str(&value);
                rest = &inner[end + 1..];
            }
            // Not a reference (`${`, then no name): kept as written, as Python's pattern does.
            _ => {
                out.push_str("${");
                rest = inner;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
fn is_variable(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `~` or `~/...` as the home directory (Python's `os.path.expanduser`).
fn expand_home(path: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    match (path.strip_prefix('~'), env("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => path.to_owned(),
    }
}

/// Checks one entry; errors start with the key (the caller adds `mcpServers.<name>.`).
fn server(
    name: &str,
    spec: ServerSpec,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<McpServer, String> {
    let transport = transport(&spec, env)?;
    let (sigv4, oauth) = match &spec.auth {
        None => (None, None),
        Some(_) if !matches!(transport, McpTransport::Http { .. }) => {
            return Err("auth: only a streamable HTTP server (\"url\") takes auth".to_owned());
        }
        Some(Value::Object(map)) if !map.contains_key("type") => (None, Some(oauth(map)?)),
        Some(auth) => (Some(sigv4(auth)?), None),
    };
    let mut filters = ToolFilters::new();
    if let Some(spec) = &spec.tool_filters {
        for (index, pattern) in spec.allowed.iter().flatten().enumerate() {
            filters = filters.allow_regex(pattern).map_err(|e| {
                format!("tool_filters.allowed[{index}]: invalid regex {pattern:?}: {e}")
            })?;
        }
        if spec.allowed.as_ref().is_some_and(Vec::is_empty) {
            filters = filters.allow_none();
        }
        for (index, pattern) in spec.rejected.iter().flatten().enumerate() {
            filters = filters.reject_regex(pattern).map_err(|e| {
                format!("tool_filters.rejected[{index}]: invalid regex {pattern:?}: {e}")
            })?;
        }
    }
    if let Some(prefix) = &spec.prefix
        && !prefix.is_empty()
        && !strands_core::tools::is_valid_tool_name(prefix)
    {
        return Err(format!(
            "prefix: {prefix:?} cannot start a tool name; use letters, digits, _ and -"
        ));
    }
    let startup_timeout = match spec.startup_timeout {
        Some(0) => return Err("startup_timeout: must be at least 1 (seconds)".to_owned()),
        Some(seconds) => Duration::from_secs(seconds),
        None => Duration::from_secs(30),
    };
    let call_timeout = match spec.call_timeout_seconds {
        Some(0) => return Err("call_timeout_seconds: must be at least 1".to_owned()),
        seconds => seconds.map(Duration::from_secs),
    };
    // Python's load_servers names the client after the server unless told otherwise.
    let client_info = (
        spec.application_name.unwrap_or_else(|| name.to_owned()),
        spec.application_version
            .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
    );
    let search = spec.tool_search.as_ref().map(search).transpose()?.flatten();
    Ok(McpServer {
        name: name.to_owned(),
        transport,
        sigv4,
        oauth,
        continue_on_error: spec.continue_on_error,
        prefix: spec.prefix.filter(|p| !p.is_empty()),
        filters,
        startup_timeout,
        call_timeout,
        client_info,
        search,
    })
}

/// `"tool_search": true`, `false`, or `{"intent", "window", "system_prompt", "tool",
/// "timeout_seconds"}`.
fn search(value: &Value) -> Result<Option<SearchSpec>, String> {
    let fields = match value {
        Value::Bool(false) => return Ok(None),
        Value::Bool(true) => SearchFields::default(),
        Value::Object(_) => {
            serde_json::from_value(value.clone()).map_err(|e| format!("tool_search: {e}"))?
        }
        _ => {
            return Err(
                "tool_search: use true, or an object such as {\"intent\": \"user_text\"}"
                    .to_owned(),
            );
        }
    };
    let model_intent = match fields.intent.as_deref() {
        None | Some("model") => true,
        Some("user_text") => false,
        Some(other) => {
            return Err(format!(
                "tool_search.intent: {other:?} is not an intent provider; use \"model\" or \"user_text\""
            ));
        }
    };
    if fields.system_prompt.is_some() && !model_intent {
        return Err(
            "tool_search.system_prompt: only the \"model\" intent takes a system prompt".to_owned(),
        );
    }
    if fields.window == Some(0) {
        return Err("tool_search.window: must be at least 1 (messages)".to_owned());
    }
    let timeout = match fields.timeout_seconds {
        Some(0) => return Err("tool_search.timeout_seconds: must be at least 1".to_owned()),
        seconds => seconds.map(Duration::from_secs),
    };
    Ok(Some(SearchSpec {
        model_intent,
        window: fields.window,
        system_prompt: fields.system_prompt,
        tool: fields.tool,
        timeout,
    }))
}

impl SearchSpec {
    /// The loader searching `client`'s server.
    fn loader(&self, client: McpClient) -> ToolSearch {
        let mut search = ToolSearch::new(client);
        if self.model_intent {
            let mut intent = ModelIntent::new();
            if let Some(window) = self.window {
                intent = intent.window(window);
            }
            if let Some(prompt) = &self.system_prompt {
                intent = intent.system_prompt(prompt.clone());
            }
            search = search.intent(intent);
        } else {
            search = search.intent(UserTextIntent::new().window(self.window.unwrap_or(1)));
        }
        if let Some(tool) = &self.tool {
            search = search.search_tool(tool.clone());
        }
        if let Some(timeout) = self.timeout {
            search = search.timeout(timeout);
        }
        search
    }
}

/// `command` (stdio) or `url` (streamable HTTP), told apart as Python does.
fn transport(
    spec: &ServerSpec,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<McpTransport, String> {
    let has_command = spec.command.as_deref().is_some_and(|c| !c.is_empty());
    let has_url = spec.url.as_deref().is_some_and(|u| !u.is_empty());
    let kind = match spec.transport.as_deref() {
        Some(kind) => kind,
        None if has_command && has_url => {
            return Err("transport: the server has both \"command\" and \"url\"; set \"transport\" (\"stdio\" or \"streamable-http\") or remove one".to_owned());
        }
        None if has_command => "stdio",
        None if has_url => "streamable-http",
        None => {
            return Err("command: a server needs \"command\" (a child process over stdio) or \"url\" (streamable HTTP)".to_owned());
        }
    };
    match kind {
        "stdio" => {
            let Some(command) = spec.command.as_deref().filter(|_| has_command) else {
                return Err("command: the stdio transport needs \"command\"".to_owned());
            };
            let mut transport = McpTransport::stdio(expand_home(command, env), spec.args.clone());
            for (name, value) in &spec.env {
                transport = transport.env(name.clone(), value.clone());
            }
            if let Some(cwd) = &spec.cwd {
                transport = transport.cwd(PathBuf::from(expand_home(cwd, env)));
            }
            Ok(transport)
        }
        "streamable-http" | "http" | "streamableHttp" => {
            let Some(url) = spec.url.as_deref().filter(|_| has_url) else {
                return Err("url: the streamable-http transport needs \"url\"".to_owned());
            };
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!("url: {url:?} is not an http:// or https:// URL"));
            }
            let mut transport = McpTransport::http(url);
            for (name, value) in &spec.headers {
                if ["accept", "mcp-session-id", "last-event-id"]
                    .contains(&name.to_ascii_lowercase().as_str())
                {
                    return Err(format!(
                        "headers.{name}: the MCP client sets this header itself; remove it"
                    ));
                }
                transport = transport.header(name.clone(), value.clone());
            }
            Ok(transport)
        }
        "sse" => Err("transport: the SSE transport (replaced by streamable HTTP in MCP 2025-03-26) is not supported; use \"streamable-http\"".to_owned()),
        other => Err(format!(
            "transport: {other:?} is not a transport; use \"stdio\" or \"streamable-http\""
        )),
    }
}

/// `"sigv4"` or `{"type": "sigv4", "region"?, "service"?}`.
fn sigv4(auth: &Value) -> Result<SigV4Spec, String> {
    const DEFAULT_SERVICE: &str = "bedrock-agentcore";
    match auth {
        Value::String(kind) if kind.eq_ignore_ascii_case("sigv4") => Ok(SigV4Spec {
            region: None,
            service: DEFAULT_SERVICE.to_owned(),
        }),
        Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("sigv4") => {
            let text = |key: &str| -> Result<Option<String>, String> {
                match map.get(key) {
                    None => Ok(None),
                    Some(Value::String(text)) if !text.is_empty() => Ok(Some(text.clone())),
                    Some(_) => Err(format!("auth.{key}: must be a non-empty string")),
                }
            };
            if let Some(key) = map
                .keys()
                .find(|k| !["type", "region", "service"].contains(&k.as_str()))
            {
                return Err(format!(
                    "auth: unknown field `{key}`, expected one of `type`, `region`, `service`"
                ));
            }
            Ok(SigV4Spec {
                region: text("region")?,
                service: text("service")?.unwrap_or_else(|| DEFAULT_SERVICE.to_owned()),
            })
        }
        _ => Err("auth: use \"sigv4\" (AWS credentials; AgentCore Gateway with IAM authorization), OAuth client credentials {\"client_id\", \"client_secret\", \"scopes\"}, or a token in \"headers\"".to_owned()),
    }
}

/// Python's `MCPClientCredentials`: `{"client_id", "client_secret", "scopes"?}`.
fn oauth(map: &serde_json::Map<String, Value>) -> Result<ClientCredentials, String> {
    if let Some(key) = map
        .keys()
        .find(|k| !["client_id", "client_secret", "scopes"].contains(&k.as_str()))
    {
        return Err(format!(
            "auth: unknown field `{key}`, expected `client_id`, `client_secret` and `scopes` (OAuth client credentials) or `type` (\"sigv4\")"
        ));
    }
    let text = |key: &str| match map.get(key) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(_) => Err(format!("auth.{key}: must be a non-empty string")),
        None => Err(format!(
            "auth.{key}: OAuth client credentials need `client_id` and `client_secret`"
        )),
    };
    let scopes = match map.get("scopes") {
        None => Vec::new(),
        Some(Value::Array(scopes)) => scopes
            .iter()
            .map(|s| s.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or("auth.scopes: must be a list of strings")?,
        Some(_) => return Err("auth.scopes: must be a list of strings".to_owned()),
    };
    Ok(ClientCredentials::new(text("client_id")?, text("client_secret")?).scopes(scopes))
}

impl McpServer {
    /// The server's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// How the server is reached, for `check`.
    pub(crate) fn describe(&self) -> String {
        let search = if self.search.is_some() {
            ", tool search"
        } else {
            ""
        };
        match &self.transport {
            McpTransport::Http { url, .. } if self.sigv4.is_some() => {
                format!("{url} (SigV4){search}")
            }
            McpTransport::Http { url, .. } if self.oauth.is_some() => {
                format!("{url} (OAuth){search}")
            }
            McpTransport::Http { url, .. } => format!("{url}{search}"),
            McpTransport::Stdio { command, .. } => format!("{command} (stdio){search}"),
            _ => "?".to_owned(),
        }
    }

    /// Starts the client in the background (needs a Tokio runtime).
    fn start(&self, signer: Option<SigV4Signer>) -> StartedServer {
        let mut builder = McpClient::builder(self.name.clone(), self.transport.clone())
            .filters(self.filters.clone())
            .startup_timeout(self.startup_timeout)
            .client_info(self.client_info.0.clone(), self.client_info.1.clone());
        if let Some(prefix) = &self.prefix {
            builder = builder.prefix(prefix.clone());
        }
        if let Some(timeout) = self.call_timeout {
            builder = builder.call_timeout(timeout);
        }
        if let Some(signer) = signer {
            builder = builder.sigv4(signer);
        }
        if let Some(credentials) = &self.oauth {
            builder = builder.oauth(credentials.clone());
        }
        let client = builder.start();
        StartedServer {
            search: self.search.as_ref().map(|spec| spec.loader(client.clone())),
            client,
            continue_on_error: self.continue_on_error,
        }
    }
}

/// Starts every server's client in the background. Servers with `"auth": "sigv4"` sign with
/// the runtime's AWS credentials chain (the execution role inside AgentCore), in the region
/// the entry names, else the Gateway URL's, else the runtime's.
///
/// # Errors
///
/// A SigV4 server whose region is unknown.
pub(crate) async fn start(servers: &[McpServer]) -> Result<McpServers, String> {
    let mut aws = None;
    let mut started = Vec::with_capacity(servers.len());
    for server in servers {
        let signer = match &server.sigv4 {
            None => None,
            Some(spec) => {
                if aws.is_none() {
                    aws = Some(strands_aws::sdk_config().await);
                }
                let config = aws.as_ref();
                let url = match &server.transport {
                    McpTransport::Http { url, .. } => url.as_str(),
                    _ => "",
                };
                let region = spec
                    .region
                    .clone()
                    .or_else(|| SigV4Signer::region_of_gateway_url(url).map(str::to_owned))
                    .or_else(|| config.and_then(|c| c.region()).map(|r| r.to_string()))
                    .ok_or_else(|| format!("mcpServers.{}: the SigV4 region is unknown; set \"auth\": {{\"type\": \"sigv4\", \"region\": \"us-east-1\"}} or AWS_REGION", server.name))?;
                let Some(credentials) = config.and_then(|c| c.credentials_provider()) else {
                    return Err(format!(
                        "mcpServers.{}: no AWS credentials provider",
                        server.name
                    ));
                };
                Some(SigV4Signer::new(credentials, region, spec.service.clone()))
            }
        };
        started.push(server.start(signer));
    }
    Ok(McpServers::new(started))
}

/// A running client and whether the agent may do without it.
#[derive(Debug, Clone)]
pub(crate) struct StartedServer {
    client: McpClient,
    continue_on_error: bool,
    /// Set with `tool_search`: the server's tools are found per invocation, not all offered.
    search: Option<ToolSearch>,
}

/// The agent file's MCP servers, started once for the process and shared by every session.
#[derive(Debug, Clone, Default)]
pub(crate) struct McpServers {
    servers: Arc<[StartedServer]>,
}

impl McpServers {
    pub(crate) fn new(servers: Vec<StartedServer>) -> Self {
        Self {
            servers: servers.into(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// Waits for every server's first connection attempt (at once afterwards).
    ///
    /// # Errors
    ///
    /// The first server the agent needs (`continue_on_error` unset, Python's default) whose
    /// tools were never listed.
    pub(crate) async fn started(&self) -> Result<(), strands_mcp::McpError> {
        let outcomes =
            futures_util::future::join_all(self.servers.iter().map(|s| s.client.started())).await;
        for (server, outcome) in self.servers.iter().zip(outcomes) {
            match outcome {
                Err(error) if !server.continue_on_error => return Err(error),
                _ => {}
            }
        }
        Ok(())
    }

    /// Every server's tools as last listed, in the file's order, except those of a server
    /// searched per invocation ([`McpServers::tool_search`]).
    pub(crate) fn tools(&self) -> impl Iterator<Item = Arc<dyn Tool>> + '_ {
        self.servers
            .iter()
            .filter(|s| s.search.is_none())
            .flat_map(|s| s.client.tools())
    }

    /// The server with `tool_search`, as the agents' tool loader.
    pub(crate) fn tool_search(&self) -> Option<ToolSearch> {
        self.servers.iter().find_map(|s| s.search.clone())
    }

    /// Stops every client: child processes are ended and reaped.
    pub(crate) async fn stop(&self) {
        futures_util::future::join_all(self.servers.iter().map(|s| s.client.stop())).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use serde_json::json;

    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cr3t".to_owned()),
            "SECRET" => Some("secret-value".to_owned()),
            "HOME" => Some("/home/agent".to_owned()),
            _ => None,
        }
    }

    fn parse_one(entry: Value) -> Result<Vec<McpServer>, String> {
        let mut map = IndexMap::new();
        map.insert("srv".to_owned(), entry);
        parse(&map, &env)
    }

    fn error(entry: Value) -> String {
        parse_one(entry).unwrap_err()
    }

    #[test]
    fn claude_desktop_and_python_entries_are_read_with_variables_and_home() {
        let servers = parse_one(json!({
            "command": "~/bin/server", "args": ["--token", "${env:TOKEN}"], "env": {"KEY": "${TOKEN}"},
            "cwd": "~", "prefix": "docs", "tool_filters": {"allowed": ["get_", "^echo$"], "rejected": ["get_secret"]},
            "startup_timeout": 5, "application_name": "my-agent"
        }))
        .unwrap();
        let server = &servers[0];
        assert_eq!(
            server.transport,
            McpTransport::stdio("/home/agent/bin/server", ["--token", "s3cr3t"])
                .env("KEY", "s3cr3t")
                .cwd(PathBuf::from("/home/agent"))
        );
        assert_eq!(server.prefix.as_deref(), Some("docs"));
        assert!(server.filters.includes("get_time") && server.filters.includes("echo"));
        assert!(!server.filters.includes("get_secret") && !server.filters.includes("echoes"));
        assert_eq!(server.startup_timeout, Duration::from_secs(5));
        assert_eq!(server.client_info.0, "my-agent");
        assert_eq!(server.describe(), "/home/agent/bin/server (stdio)");

        let servers = parse_one(json!({"url": "https://gw.example.com/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}, "type": "http"})).unwrap();
        assert_eq!(
            servers[0].transport,
            McpTransport::http("https://gw.example.com/mcp")
                .header("Authorization", "Bearer s3cr3t")
        );
        // Python names the client after the server.
        assert_eq!(servers[0].client_info.0, "srv");
        assert_eq!(servers[0].sigv4.as_ref(), None);
    }

    #[test]
    fn sigv4_takes_the_defaults_or_a_region_and_service() {
        let servers =
            parse_one(json!({"url": "https://gw.example.com/mcp", "auth": "sigv4"})).unwrap();
        assert_eq!(
            servers[0].sigv4.as_ref(),
            Some(&SigV4Spec {
                region: None,
                service: "bedrock-agentcore".to_owned()
            })
        );
        assert_eq!(servers[0].describe(), "https://gw.example.com/mcp (SigV4)");
        let servers = parse_one(json!({"url": "https://x/mcp", "auth": {"type": "sigv4", "region": "eu-west-1", "service": "execute-api"}})).unwrap();
        assert_eq!(
            servers[0].sigv4.as_ref(),
            Some(&SigV4Spec {
                region: Some("eu-west-1".to_owned()),
                service: "execute-api".to_owned()
            })
        );
    }

    #[test]
    fn disabled_servers_are_skipped_and_failing_ones_may_be() {
        assert!(
            parse_one(json!({"disabled": true, "command": 3}))
                .unwrap()
                .is_empty()
        );
        assert!(
            parse_one(json!({"continue_on_error": true, "command": "x", "args": ["${MISSING}"]}))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            error(json!({"command": "x", "args": ["${MISSING}"]})),
            "mcpServers.srv: environment variable 'MISSING' is not set"
        );
    }

    #[test]
    fn bad_entries_name_the_key_and_the_fix() {
        let cases = [
            (
                json!("npx"),
                "mcpServers.srv: must be an object, e.g. {\"command\": \"npx\", \"args\": [...]} or {\"url\": \"https://...\"}",
            ),
            (
                json!({}),
                "mcpServers.srv.command: a server needs \"command\" (a child process over stdio) or \"url\" (streamable HTTP)",
            ),
            (
                json!({"command": "a", "url": "http://b"}),
                "mcpServers.srv.transport: the server has both \"command\" and \"url\"; set \"transport\" (\"stdio\" or \"streamable-http\") or remove one",
            ),
            (
                json!({"url": "http://b", "transport": "sse"}),
                "mcpServers.srv.transport: the SSE transport (replaced by streamable HTTP in MCP 2025-03-26) is not supported; use \"streamable-http\"",
            ),
            (
                json!({"url": "ftp://b"}),
                "mcpServers.srv.url: \"ftp://b\" is not an http:// or https:// URL",
            ),
            (
                json!({"command": "a", "auth": "sigv4"}),
                "mcpServers.srv.auth: only a streamable HTTP server (\"url\") takes auth",
            ),
            (
                json!({"url": "http://b", "auth": {"client_id": "i"}}),
                "mcpServers.srv.auth.client_secret: OAuth client credentials need `client_id` and `client_secret`",
            ),
            (
                json!({"url": "http://b", "auth": {"client_id": "i", "client_secret": "s", "scopes": "a b"}}),
                "mcpServers.srv.auth.scopes: must be a list of strings",
            ),
            (
                json!({"url": "http://b", "auth": {"client_id": "i", "client_secret": "s", "audience": "x"}}),
                "mcpServers.srv.auth: unknown field `audience`, expected `client_id`, `client_secret` and `scopes` (OAuth client credentials) or `type` (\"sigv4\")",
            ),
            (
                json!({"url": "http://b", "auth": "oauth"}),
                "mcpServers.srv.auth: use \"sigv4\" (AWS credentials; AgentCore Gateway with IAM authorization), OAuth client credentials {\"client_id\", \"client_secret\", \"scopes\"}, or a token in \"headers\"",
            ),
            (
                json!({"url": "http://b", "auth": {"type": "sigv4", "regoin": "x"}}),
                "mcpServers.srv.auth: unknown field `regoin`, expected one of `type`, `region`, `service`",
            ),
            (
                json!({"command": "a", "tool_filters": {"allowed": ["("]}}),
                "mcpServers.srv.tool_filters.allowed[0]: invalid regex \"(\": regex parse error:",
            ),
            (
                json!({"command": "a", "prefix": "a b"}),
                "mcpServers.srv.prefix: \"a b\" cannot start a tool name; use letters, digits, _ and -",
            ),
            (
                json!({"command": "a", "startup_timeout": 0}),
                "mcpServers.srv.startup_timeout: must be at least 1 (seconds)",
            ),
            (
                json!({"command": "a", "args": "x"}),
                "mcpServers.srv.args: invalid type: string \"x\", expected a sequence",
            ),
            (
                json!({"command": "a", "comand": "x"}),
                "mcpServers.srv: unknown field `comand`, expected one of",
            ),
        ];
        for (entry, expected) in cases {
            let got = error(entry.clone());
            assert!(
                got.starts_with(expected),
                "{entry}\n got: {got}\nwant: {expected}"
            );
        }
    }

    #[test]
    fn an_empty_allow_list_takes_no_tool_as_in_python() {
        let servers = parse_one(json!({"command": "a", "tool_filters": {"allowed": []}})).unwrap();
        assert!(!servers[0].filters.includes("anything"));
    }

    #[test]
    fn interpolation_keeps_text_that_is_not_a_reference() {
        assert_eq!(
            interpolate_str("a ${ b } $x ${1X} ${TOKEN}", &env).unwrap(),
            "a ${ b } $x ${1X} s3cr3t"
        );
        assert_eq!(interpolate_str("${", &env).unwrap(), "${");
    }

    #[test]
    fn tool_search_takes_true_or_settings_and_only_one_server() {
        let on = parse_one(json!({"url": "http://g", "tool_search": true})).unwrap();
        assert_eq!(
            on[0].search,
            Some(SearchSpec {
                model_intent: true,
                window: None,
                system_prompt: None,
                tool: None,
                timeout: None,
            })
        );
        assert!(on[0].describe().ends_with(", tool search"));
        let off = parse_one(json!({"url": "http://g", "tool_search": false})).unwrap();
        assert_eq!(off[0].search, None);
        let set = parse_one(json!({"url": "http://g", "tool_search": {
            "intent": "user_text", "window": 2, "tool": "find_tools", "timeout_seconds": 9
        }}))
        .unwrap();
        assert_eq!(
            set[0].search,
            Some(SearchSpec {
                model_intent: false,
                window: Some(2),
                system_prompt: None,
                tool: Some("find_tools".to_owned()),
                timeout: Some(Duration::from_secs(9)),
            })
        );
        let cases = [
            (
                json!("yes"),
                "mcpServers.srv.tool_search: use true, or an object such as {\"intent\": \"user_text\"}",
            ),
            (
                json!({"intent": "guess"}),
                "mcpServers.srv.tool_search.intent: \"guess\" is not an intent provider; use \"model\" or \"user_text\"",
            ),
            (
                json!({"intent": "user_text", "system_prompt": "x"}),
                "mcpServers.srv.tool_search.system_prompt: only the \"model\" intent takes a system prompt",
            ),
            (
                json!({"window": 0}),
                "mcpServers.srv.tool_search.window: must be at least 1 (messages)",
            ),
            (
                json!({"timeout_seconds": 0}),
                "mcpServers.srv.tool_search.timeout_seconds: must be at least 1",
            ),
        ];
        for (search, expected) in cases {
            assert_eq!(
                error(json!({"url": "http://g", "tool_search": search})),
                expected
            );
        }
        let unknown = error(json!({"url": "http://g", "tool_search": {"top_k": 3}}));
        assert!(
            unknown.starts_with("mcpServers.srv.tool_search: unknown field `top_k`"),
            "{unknown}"
        );
        let mut two = IndexMap::new();
        two.insert(
            "a".to_owned(),
            json!({"url": "http://a", "tool_search": true}),
        );
        two.insert(
            "b".to_owned(),
            json!({"url": "http://b", "tool_search": true}),
        );
        assert_eq!(
            parse(&two, &env).unwrap_err(),
            "mcpServers.b.tool_search: a already searches its tools; only one server may"
        );
    }

    #[test]
    fn oauth_client_credentials_are_read_as_python_writes_them() {
        let servers = parse_one(json!({"url": "https://mcp.example.com/mcp", "auth": {
            "client_id": "agent", "client_secret": "${SECRET}", "scopes": ["tools:read"]
        }}))
        .unwrap();
        assert_eq!(servers[0].describe(), "https://mcp.example.com/mcp (OAuth)");
        let debug = format!("{:?}", servers[0]);
        assert!(
            debug.contains("agent") && debug.contains("tools:read"),
            "{debug}"
        );
        assert!(!debug.contains("secret-value"), "{debug}");
        assert!(servers[0].sigv4.is_none());
    }
}
