//! AgentCore Gateway's semantic tool search as a [`ToolLoader`]: each invocation offers the
//! model only the Gateway tools that match what the user wants (Python: bedrock-agentcore's
//! `AgentCoreToolSearchPlugin` and its intent providers).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Map, Value, json};
use strands_core::streaming::ContentBlockDelta;
use strands_core::{
    BoxFuture, ContentBlock, Message, Model, ModelRequest, Role, StreamEvent, SystemContentBlock,
    Tool, ToolContext, ToolEvent, ToolLoadRequest, ToolLoader, ToolResult, ToolResultContent,
    ToolResultStatus, ToolUse,
};

use crate::client::McpClient;
use crate::tool::McpTool;

/// The search tool of a Gateway created with semantic search (`{"query": "..."}`).
pub const GATEWAY_SEARCH_TOOL: &str = "x_amz_bedrock_agentcore_search";

/// Python's `INTENT_SYSTEM_PROMPT`: what [`ModelIntent`] asks the model.
pub const INTENT_SYSTEM_PROMPT: &str = "You are an intent classifier. Given the recent conversation messages, produce a concise one-sentence description of what the user is trying to accomplish. Focus on the type of task, not the specific details. Reply with ONLY the intent description, nothing else.";

/// The most tools one search may load.
const MAX_LOADED: usize = 200;
/// How long deriving the intent and searching may take together, by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Loads, for each invocation, the tools an MCP server's semantic search finds for the user's
/// intent: AgentCore Gateway's `x_amz_bedrock_agentcore_search` by default. The Gateway may
/// have hundreds of tools; the model sees only those that match, plus the agent's own.
///
/// On each invocation with new input, the [`IntentProvider`] states what the user wants
/// (by default [`ModelIntent`]: the agent's model, asked as Python asks it); the search tool is
/// called with it, and the tools it answers replace those loaded before. They are called on the
/// same connection, with the client's prefix, filters and timeout. A failed intent or search
/// loads no tools (Python's behaviour) and is logged; the invocation goes on.
///
/// ```no_run
/// use strands_agent::Agent;
/// use strands_mcp::{McpClient, McpTransport, ToolSearch};
/// # use strands_testkit::ScriptedModel;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let url = "https://gw-1.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp";
/// let gateway = McpClient::builder("gateway", McpTransport::http(url)).start();
/// let mut agent = Agent::builder()
///     # .model(ScriptedModel::builder().text("...").build())
///     .tool_loader(ToolSearch::new(gateway))
///     .build()?;
/// agent.invoke("Find me afternoon flights to New York").await?;
/// # Ok(())
/// # }
/// ```
///
/// Python: `AgentCoreToolSearchPlugin(mcp_client=...)`.
#[derive(Debug, Clone)]
pub struct ToolSearch {
    client: McpClient,
    tool: String,
    intent: Arc<dyn IntentProvider>,
    timeout: Duration,
}

impl ToolSearch {
    /// Searches the Gateway `client` is connected to, deriving the intent with [`ModelIntent`].
    pub fn new(client: McpClient) -> Self {
        Self {
            client,
            tool: GATEWAY_SEARCH_TOOL.to_owned(),
            intent: Arc::new(ModelIntent::new()),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// How the query is derived from the conversation.
    #[must_use]
    pub fn intent(mut self, intent: impl IntentProvider + 'static) -> Self {
        self.intent = Arc::new(intent);
        self
    }

    /// The server's search tool, when it is not [`GATEWAY_SEARCH_TOOL`]. It must take
    /// `{"query": "..."}` and answer `{"tools": [<MCP tool definitions>]}`, as structured
    /// content or as JSON text.
    #[must_use]
    pub fn search_tool(mut self, name: impl Into<String>) -> Self {
        self.tool = name.into();
        self
    }

    /// The longest deriving the intent and searching may take together (default 60 s); past
    /// it, the invocation goes on without the server's tools.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The tools the search finds for `intent`.
    ///
    /// # Errors
    ///
    /// The search tool failed or answered no tool list; the text says why.
    pub async fn search(&self, intent: &str) -> Result<Vec<Arc<dyn Tool>>, String> {
        let inner = self.client.inner.clone();
        let spec = rmcp::model::Tool::new(self.tool.clone(), "", Arc::new(Map::new()));
        let search = McpTool::new(inner, None, spec)
            .map_err(|name| format!("{name:?} is not a valid tool name"))?;
        let tool_use = ToolUse::new("intent-search", &self.tool, json!({"query": intent}));
        let mut events = search.stream(tool_use, ToolContext::default());
        let mut result = None;
        while let Some(event) = events.next().await {
            if let ToolEvent::Result(answer) = event {
                result = Some(answer);
            }
        }
        let result = result.ok_or("the search tool returned no result")?;
        if result.status == ToolResultStatus::Error {
            return Err(result_text(&result));
        }
        let definitions = tool_definitions(result).ok_or("the answer holds no \"tools\" list")?;
        Ok(definitions
            .iter()
            .filter_map(|definition| self.tool_for(definition))
            .take(MAX_LOADED)
            .collect())
    }

    /// The tool `definition` describes, unless it is malformed, invalid or filtered out.
    fn tool_for(&self, definition: &Value) -> Option<Arc<dyn Tool>> {
        let mut definition = definition.as_object()?.clone();
        let name = definition.get("name")?.as_str()?.to_owned();
        let inner = &self.client.inner;
        if !inner.filters.includes(&name) {
            return None;
        }
        if !definition.get("inputSchema").is_some_and(Value::is_object) {
            definition.insert(
                "inputSchema".to_owned(),
                json!({"type": "object", "properties": {}}),
            );
        }
        let tool: rmcp::model::Tool = match serde_json::from_value(Value::Object(definition)) {
            Ok(tool) => tool,
            Err(error) => {
                tracing::debug!(server = %inner.name, tool = %name, %error, "found tool skipped");
                return None;
            }
        };
        match McpTool::new(inner.clone(), inner.prefix.as_deref(), tool) {
            Ok(tool) => Some(Arc::new(tool) as Arc<dyn Tool>),
            Err(name) => {
                tracing::debug!(server = %inner.name, tool = %name, "found tool skipped: invalid name");
                None
            }
        }
    }

    async fn load_for(&self, request: ToolLoadRequest<'_>) -> Vec<Arc<dyn Tool>> {
        let server = self.client.name();
        let intent = self
            .intent
            .derive_intent(request.messages, request.model)
            .await;
        let intent = intent.trim();
        if intent.is_empty() {
            tracing::debug!(server, "no intent derived; no tools loaded");
            return Vec::new();
        }
        tracing::debug!(server, intent, "searching tools");
        match self.search(intent).await {
            Ok(tools) => {
                tracing::debug!(server, tools = tools.len(), "tools loaded");
                tools
            }
            Err(reason) => {
                tracing::warn!(server, %reason, "the MCP tool search failed; no tools loaded");
                Vec::new()
            }
        }
    }
}

impl ToolLoader for ToolSearch {
    /// Keeps the tools loaded before when the invocation brings no new input (continuing, or
    /// resuming from an interrupt), so a pending tool use still finds its tool.
    fn load<'a>(
        &'a self,
        request: ToolLoadRequest<'a>,
    ) -> BoxFuture<'a, Option<Vec<Arc<dyn Tool>>>> {
        Box::pin(async move {
            if request.messages.is_empty() {
                return None;
            }
            let loaded = tokio::time::timeout(self.timeout, self.load_for(request)).await;
            Some(loaded.unwrap_or_else(|_| {
                let server = self.client.name();
                let seconds = self.timeout.as_secs_f64();
                tracing::warn!(
                    server,
                    seconds,
                    "the MCP tool search timed out; no tools loaded"
                );
                Vec::new()
            }))
        })
    }
}

/// The tool definitions of a search answer: structured content `{"tools": [...]}`, else the
/// first text block holding that JSON (Python reads both).
fn tool_definitions(result: ToolResult) -> Option<Vec<Value>> {
    fn tools_of(value: Value) -> Option<Vec<Value>> {
        match value {
            Value::Object(mut map) => match map.remove("tools")? {
                Value::Array(tools) => Some(tools),
                _ => None,
            },
            _ => None,
        }
    }
    if let Some(tools) = result.structured_content.and_then(tools_of) {
        return Some(tools);
    }
    result.content.iter().find_map(|content| match content {
        ToolResultContent::Text(text) => serde_json::from_str(text).ok().and_then(tools_of),
        _ => None,
    })
}

/// The first text of the result, for errors.
fn result_text(result: &ToolResult) -> String {
    result
        .content
        .iter()
        .find_map(|c| match c {
            ToolResultContent::Text(text) => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "the search tool answered an error".to_owned())
}

/// States what the user wants, as the query of a tool search.
///
/// Python: `IntentProvider` (`derive_intent(messages, model)`).
pub trait IntentProvider: Send + Sync + fmt::Debug {
    /// The intent behind `messages` (the invocation's new input), or an empty string when none
    /// can be stated. `model` is the agent's.
    fn derive_intent<'a>(
        &'a self,
        messages: &'a [Message],
        model: &'a dyn Model,
    ) -> BoxFuture<'a, String>;
}

/// The user's words in the last `window` messages, one line per message, without a model call:
/// no added latency or cost, for searches that work on the request itself.
#[derive(Debug, Clone)]
pub struct UserTextIntent {
    window: usize,
}

impl UserTextIntent {
    /// The user's text of the last message.
    pub fn new() -> Self {
        Self { window: 1 }
    }

    /// How many of the latest messages are read (default 1).
    #[must_use]
    pub fn window(mut self, messages: usize) -> Self {
        self.window = messages;
        self
    }
}

impl Default for UserTextIntent {
    fn default() -> Self {
        Self::new()
    }
}

impl IntentProvider for UserTextIntent {
    fn derive_intent<'a>(
        &'a self,
        messages: &'a [Message],
        _model: &'a dyn Model,
    ) -> BoxFuture<'a, String> {
        Box::pin(async move { user_text(messages, self.window) })
    }
}

/// A model states the intent in one sentence from the user's text in the last `window`
/// messages (default 5), with Python's [`INTENT_SYSTEM_PROMPT`], no tools, and by default the
/// agent's own model. Only user text is sent, never tool results or the assistant's answers.
///
/// Python: `StrandsIntentProvider`.
#[derive(Debug, Clone)]
pub struct ModelIntent {
    window: usize,
    system_prompt: String,
    model: Option<Arc<dyn Model>>,
}

impl ModelIntent {
    /// Python's defaults: five messages, its system prompt, the agent's model.
    pub fn new() -> Self {
        Self {
            window: 5,
            system_prompt: INTENT_SYSTEM_PROMPT.to_owned(),
            model: None,
        }
    }

    /// How many of the latest messages are read (default 5).
    #[must_use]
    pub fn window(mut self, messages: usize) -> Self {
        self.window = messages;
        self
    }

    /// The instructions the model gets instead of [`INTENT_SYSTEM_PROMPT`].
    #[must_use]
    pub fn system_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.system_prompt = prompt.into();
        self
    }

    /// Another model than the agent's (e.g. a smaller, faster one).
    #[must_use]
    pub fn model(mut self, model: Arc<dyn Model>) -> Self {
        self.model = Some(model);
        self
    }

    /// The model's answer to `prompt`: its text blocks, one per line, trimmed.
    async fn ask(&self, model: &dyn Model, prompt: String) -> Result<String, String> {
        let messages = [Message::user(prompt)];
        let system = [SystemContentBlock::Text(self.system_prompt.clone())];
        let request = ModelRequest::new(&messages).with_system_prompt(&self.system_prompt, &system);
        let mut stream = model.stream(request);
        let mut text = String::new();
        let mut block = String::new();
        while let Some(event) = stream.next().await {
            match event.map_err(|error| error.to_string())? {
                StreamEvent::ContentBlockDelta(delta) => {
                    if let ContentBlockDelta::Text(piece) = delta.delta {
                        block.push_str(&piece);
                    }
                }
                StreamEvent::ContentBlockStop(_) if !block.is_empty() => {
                    text.push_str(&block);
                    text.push('\n');
                    block.clear();
                }
                _ => {}
            }
        }
        text.push_str(&block);
        Ok(text.trim().to_owned())
    }
}

impl Default for ModelIntent {
    fn default() -> Self {
        Self::new()
    }
}

impl IntentProvider for ModelIntent {
    fn derive_intent<'a>(
        &'a self,
        messages: &'a [Message],
        model: &'a dyn Model,
    ) -> BoxFuture<'a, String> {
        Box::pin(async move {
            let prompt = user_text(messages, self.window);
            if prompt.is_empty() {
                return String::new();
            }
            let model = self.model.as_deref().unwrap_or(model);
            self.ask(model, prompt).await.unwrap_or_else(|reason| {
                tracing::warn!(%reason, "deriving the intent failed");
                String::new()
            })
        })
    }
}

/// Python's `_format_messages_for_prompt` over the last `window` messages: each user message's
/// text blocks joined by spaces and trimmed, one non-empty line per message.
fn user_text(messages: &[Message], window: usize) -> String {
    let recent = &messages[messages.len().saturating_sub(window)..];
    let mut lines = Vec::new();
    for message in recent.iter().filter(|m| m.role == Role::User) {
        let texts: Vec<&str> = message
            .content
            .iter()
            .filter_map(|block| match block {
                ContentBlock::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let line = texts.join(" ");
        let line = line.trim();
        if !line.is_empty() {
            lines.push(line.to_owned());
        }
    }
    lines.join("\n")
}
