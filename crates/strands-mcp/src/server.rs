//! Any set of Strands tools served as an MCP server over stateless streamable HTTP: what the
//! AgentCore runtime's MCP protocol hosts (port 8000, `POST /mcp`).
//!
//! Each [`Tool`]'s spec becomes an MCP tool (name, description, input and output schemas,
//! annotations); a call runs the tool with a cancellation token the client's
//! `notifications/cancelled` (or a dropped request) cancels, its `tool_stream` events become
//! progress notifications when the client asked for progress, and its result maps back to MCP
//! content (text, JSON as text plus `structuredContent`, images, documents as embedded
//! resources), with `isError` for an error result.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use futures_util::StreamExt as _;
use rmcp::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData,
    Implementation, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ServerCapabilities, ServerConfig, Tool as McpToolDef, ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{Map, Value};
use strands_core::tools::{ToolResult, ToolResultContent, ToolResultStatus};
use strands_core::{Tool, ToolContext, ToolEvent, ToolUse};
use tokio_util::sync::CancellationToken;

/// The tower service that serves an [`McpToolServer`] over streamable HTTP: mount it at `/mcp`
/// (`axum::Router::nest_service("/mcp", service)`).
pub type McpHttpService = StreamableHttpService<McpToolServer, NeverSessionManager>;

/// Tools served over MCP.
///
/// ```
/// use strands_agent::vended_tools::calculator;
/// use strands_mcp::McpToolServer;
///
/// let server = McpToolServer::new("calculator", "1.0.0").tool(calculator);
/// let service = server.into_service(tokio_util::sync::CancellationToken::new());
/// let router: axum::Router = axum::Router::new().nest_service("/mcp", service);
/// # drop(router);
/// ```
///
/// Python: a `FastMCP`/`MCPServer` app with `stateless_http=True` (no Strands equivalent).
#[derive(Clone)]
pub struct McpToolServer {
    tools: Arc<HashMap<String, Arc<dyn Tool>>>,
    listed: Arc<[McpToolDef]>,
    more: Option<Arc<ToolSource>>,
    ready: Option<Arc<ReadyGate>>,
    info: Implementation,
    instructions: Option<String>,
    allowed_hosts: Vec<String>,
}

type ToolSource = dyn Fn() -> Vec<Arc<dyn Tool>> + Send + Sync;
type ReadyGate = dyn Fn() -> futures_util::future::BoxFuture<'static, ()> + Send + Sync;

impl fmt::Debug for McpToolServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpToolServer")
            .field("name", &self.info.name)
            .field(
                "tools",
                &self.listed.iter().map(|t| &t.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl McpToolServer {
    /// A server named `name` (its `serverInfo`) with no tools yet.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            tools: Arc::new(HashMap::new()),
            listed: Arc::from(Vec::new()),
            more: None,
            ready: None,
            info: Implementation::new(name.into(), version.into()),
            instructions: None,
            allowed_hosts: Vec::new(),
        }
    }

    /// Serves `tool` (a later tool with the same name replaces it).
    #[must_use]
    pub fn tool(self, tool: impl Tool + 'static) -> Self {
        self.shared_tool(Arc::new(tool))
    }

    /// Serves a shared tool.
    #[must_use]
    pub fn shared_tool(mut self, tool: Arc<dyn Tool>) -> Self {
        let name = tool.name().to_owned();
        let mut listed: Vec<McpToolDef> = self
            .listed
            .iter()
            .filter(|t| t.name != name)
            .cloned()
            .collect();
        listed.push(definition(&*tool));
        self.listed = listed.into();
        Arc::make_mut(&mut self.tools).insert(name, tool);
        self
    }

    /// Also serves the tools `source` returns when asked (e.g. an [`McpClient`](crate::McpClient)'s,
    /// which change when its server's do), after the fixed ones; a name already served is
    /// skipped.
    #[must_use]
    pub fn tools_from(
        mut self,
        source: impl Fn() -> Vec<Arc<dyn Tool>> + Send + Sync + 'static,
    ) -> Self {
        self.more = Some(Arc::new(source));
        self
    }

    /// Awaits `ready` before listing or calling tools (e.g. until the MCP servers whose tools
    /// are served have listed them). Once ready, awaiting it should cost nothing.
    #[must_use]
    pub fn ready_when<F, Fut>(mut self, ready: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.ready = Some(Arc::new(move || Box::pin(ready())));
        self
    }

    /// The tools `tools_from` adds now, without the names already served.
    fn more_tools(&self) -> Vec<Arc<dyn Tool>> {
        self.more.as_ref().map_or_else(Vec::new, |source| {
            source()
                .into_iter()
                .filter(|tool| !self.tools.contains_key(tool.name()))
                .collect()
        })
    }

    async fn wait_ready(&self) {
        if let Some(ready) = &self.ready {
            ready().await;
        }
    }

    /// Answers only requests whose `Host` is one of `hosts` (a name, or `name:port`), with 403
    /// otherwise: DNS-rebinding protection for a server on loopback, which a web page could
    /// otherwise reach through a hostile DNS name. Default: any host (AgentCore's endpoint
    /// names the server with its own host). Python's FastMCP turns this on for a localhost
    /// host too.
    #[must_use]
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// [`allowed_hosts`](Self::allowed_hosts) for a server on loopback: `localhost`,
    /// `127.0.0.1` and `::1`.
    #[must_use]
    pub fn loopback_only(self) -> Self {
        self.allowed_hosts(["localhost", "127.0.0.1", "::1"])
    }

    /// The instructions sent to clients in the handshake.
    #[must_use]
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// The names of the tools served, in the order added.
    pub fn tool_names(&self) -> Vec<&str> {
        self.listed.iter().map(|t| t.name.as_ref()).collect()
    }

    /// The stateless streamable HTTP service AgentCore's MCP protocol expects: POST only, JSON
    /// answers (server-sent events when a call sends progress), the `Host`s of
    /// [`allowed_hosts`](Self::allowed_hosts) (default any: AgentCore's endpoint is not
    /// localhost), a platform `Mcp-Session-Id` accepted and ignored. Requests in flight are
    /// cancelled when `shutdown` is.
    pub fn into_service(self, shutdown: CancellationToken) -> McpHttpService {
        let config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_allowed_hosts(self.allowed_hosts.clone())
            .with_cancellation_token(shutdown);
        StreamableHttpService::new(
            move || Ok(self.clone()),
            Arc::new(NeverSessionManager::default()),
            config,
        )
    }
}

/// A tool's MCP definition, from its spec.
fn definition(tool: &dyn Tool) -> McpToolDef {
    let spec = tool.spec();
    let input = match &spec.input_schema.json {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let mut definition = McpToolDef::new(spec.name.clone(), spec.description.clone(), input);
    if let Some(Value::Object(output)) = spec.output_schema.as_ref().map(|s| &s.json) {
        definition = definition.with_raw_output_schema(Arc::new(output.clone()));
    }
    if let Some(annotations) = spec
        .annotations
        .clone()
        .and_then(|a| serde_json::from_value::<ToolAnnotations>(a).ok())
    {
        definition = definition.with_annotations(annotations);
    }
    definition
}

impl ServerHandler for McpToolServer {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(self.info.clone());
        if let Some(instructions) = &self.instructions {
            info = info.with_instructions(instructions.clone());
        }
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        self.wait_ready().await;
        let mut listed = self.listed.to_vec();
        listed.extend(self.more_tools().iter().map(|tool| definition(&**tool)));
        Ok(ListToolsResult::with_all_items(listed))
    }

    fn get_tool(&self, name: &str) -> Option<McpToolDef> {
        self.listed
            .iter()
            .find(|t| t.name == name)
            .cloned()
            .or_else(|| {
                self.more_tools()
                    .iter()
                    .find(|tool| tool.name() == name)
                    .map(|tool| definition(&**tool))
            })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.wait_ready().await;
        let found = self.tools.get(request.name.as_ref()).cloned().or_else(|| {
            self.more_tools()
                .into_iter()
                .find(|tool| tool.name() == request.name.as_ref())
        });
        let Some(tool) = found else {
            return Err(ErrorData::invalid_params(
                format!("Unknown tool: {}", request.name),
                None,
            ));
        };
        let input = Value::Object(request.arguments.unwrap_or_default());
        let id = format!("mcp-{}", context.id);
        let progress = context.meta.get_progress_token();
        let mut stream = tool.stream(
            ToolUse::new(id.clone(), request.name.to_string(), input),
            ToolContext::new(context.ct.clone()),
        );
        let mut steps = 0.0;
        let mut result = None;
        while let Some(event) = stream.next().await {
            match event {
                ToolEvent::Result(r) => result = Some(r),
                ToolEvent::Stream(value) => {
                    if let Some(token) = &progress {
                        steps += 1.0;
                        let message = match value {
                            Value::String(text) => text,
                            other => other.to_string(),
                        };
                        let note = ProgressNotificationParam::new(token.clone(), steps)
                            .with_message(message);
                        let _ = context.peer.notify_progress(note).await;
                    }
                }
                _ => {}
            }
        }
        let result = result.unwrap_or_else(|| {
            if context.ct.is_cancelled() {
                ToolResult::error(id, "Tool execution cancelled")
            } else {
                ToolResult::error(id, "the tool ended without a result")
            }
        });
        Ok(call_result(result).into())
    }
}

/// A Strands tool result as an MCP `CallToolResult`.
fn call_result(result: ToolResult) -> CallToolResult {
    let mut structured = None;
    let content: Vec<ContentBlock> = result
        .content
        .into_iter()
        .filter_map(|block| match block {
            ToolResultContent::Text(text) => Some(ContentBlock::text(text)),
            ToolResultContent::Json(value) => {
                let text = value.to_string();
                if value.is_object() && structured.is_none() {
                    structured = Some(value);
                }
                Some(ContentBlock::text(text))
            }
            ToolResultContent::Image(image) => {
                let bytes = image.source.bytes?;
                let data = base64::engine::general_purpose::STANDARD.encode(bytes.as_bytes());
                Some(ContentBlock::image(data, image.format.mime_type()))
            }
            ToolResultContent::Document(document) => {
                let bytes = document.source.bytes?;
                let blob = base64::engine::general_purpose::STANDARD.encode(bytes.as_bytes());
                let uri = format!("document:///{}", document.name);
                Some(ContentBlock::resource(
                    rmcp::model::ResourceContents::BlobResourceContents {
                        uri,
                        mime_type: Some(document.format.mime_type().to_owned()),
                        blob,
                        meta: None,
                    },
                ))
            }
            _ => None,
        })
        .collect();
    let mut answer = if result.status == ToolResultStatus::Error {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    };
    answer.structured_content = result.structured_content.or(structured);
    answer
}
