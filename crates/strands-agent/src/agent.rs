//! The [`Agent`] and its builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use serde_json::{Map, Value};
use strands_core::{
    AgentState, ContentBlock, Interrupt, Message, Model, SystemContentBlock, Tool, ToolLoader,
};

use crate::cancel::CancelHandle;
use crate::conversation::{ConversationManager, SlidingWindowConversationManager};
use crate::error::{AgentError, BuildError};
use crate::hooks::{HookAgent, HookEvent, HookProvider, HookRegistry};
use crate::interrupts::{InterruptResponse, InterruptState};
use crate::metrics::EventLoopMetrics;
use crate::retry::{ModelRetryStrategy, ModelTimeouts};
use crate::session::SessionManager;
use crate::session::manager::AgentParts;
use crate::structured_output::OutputSchema;
use crate::telemetry::Telemetry;
use crate::tools::registry::ToolRegistry;

/// An agent: a model, a system prompt, tools and the conversation so far.
///
/// Each call to [`Agent::invoke`] or [`Agent::stream`] runs the Strands event loop: call the
/// model; if it asks for tools, run them all concurrently, append their results and call the
/// model again; stop when it ends its turn. The history carries over between calls.
///
/// ```
/// use strands_agent::{tool, Agent};
/// use strands_testkit::ScriptedModel;
///
/// /// Add two integers.
/// #[tool]
/// async fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = ScriptedModel::builder()
///     .tool_use("t1", "add", r#"{"a": 2, "b": 3}"#)
///     .text("2 + 3 = 5")
///     .build();
/// let mut agent = Agent::builder()
///     .model(model)
///     .system_prompt("You are a calculator.")
///     .tool(add)
///     .build()?;
/// let result = agent.invoke("what is 2+3?").await?;
/// assert_eq!(result.to_string(), "2 + 3 = 5\n");
/// assert_eq!(agent.messages().len(), 4); // prompt, tool use, tool result, answer
/// # Ok(())
/// # }
/// ```
///
/// Python: `strands.Agent`.
pub struct Agent {
    pub(crate) model: Arc<dyn Model>,
    pub(crate) messages: Vec<Message>,
    pub(crate) system_prompt: Option<String>,
    pub(crate) system_prompt_content: Vec<SystemContentBlock>,
    /// The tools offered to the model: the agent's own, plus those its loader chose.
    pub(crate) tools: Arc<ToolRegistry>,
    /// Tools chosen per invocation, when the agent has a loader.
    pub(crate) tool_loading: Option<ToolLoading>,
    pub(crate) retry: ModelRetryStrategy,
    pub(crate) timeouts: ModelTimeouts,
    pub(crate) cancel: CancelHandle,
    pub(crate) metrics: EventLoopMetrics,
    pub(crate) hooks: Arc<HookRegistry>,
    pub(crate) conversation: Box<dyn ConversationManager>,
    pub(crate) session: Option<SessionManager>,
    pub(crate) interrupts: InterruptState,
    /// The structured output every invocation returns unless the call asks for another.
    pub(crate) structured_output: Option<OutputSchema>,
    /// The agent's name, id and state (what hook events carry, so shared, not copied).
    pub(crate) hook_agent: HookAgent,
    description: Option<String>,
    /// Where spans and metrics go; `None` records nothing.
    pub(crate) telemetry: Option<Telemetry>,
    /// Attributes added to every span of the agent (Python's `trace_attributes`).
    pub(crate) trace_attributes: Arc<[KeyValue]>,
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("name", &self.hook_agent.name)
            .field("agent_id", &self.hook_agent.agent_id)
            .field("model", &self.model.model_id())
            .field("tools", &self.tools)
            .field("messages", &self.messages.len())
            .field("conversation_manager", &self.conversation)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// Starts building an agent.
    pub fn builder() -> AgentBuilder {
        AgentBuilder::default()
    }

    /// Loads the session now (restoring history, state and interrupts from it, or creating it),
    /// instead of at the first invocation. Does nothing without a session manager or when done.
    ///
    /// # Errors
    ///
    /// [`AgentError::Session`] when the repository cannot be read or written.
    pub async fn load_session(&mut self) -> Result<(), AgentError> {
        self.ensure_session_loaded().await
    }

    pub(crate) async fn ensure_session_loaded(&mut self) -> Result<(), AgentError> {
        let Some(session) = self.session.as_mut().filter(|s| !s.is_loaded()) else {
            return Ok(());
        };
        session
            .load(AgentParts {
                agent_id: &self.hook_agent.agent_id,
                messages: &mut self.messages,
                state: &self.hook_agent.state,
                conversation: self.conversation.as_mut(),
                interrupts: &mut self.interrupts,
            })
            .await?;
        Ok(())
    }

    /// Writes the agent record if anything in it changed.
    /// Writes the session's batched messages, then the agent record: the end of an invocation.
    pub(crate) async fn finish_session(&mut self) -> Result<(), AgentError> {
        if let Some(session) = self.session.as_ref().filter(|s| s.is_loaded()) {
            session.flush().await?;
        }
        self.sync_session().await
    }

    /// Writes the agent record if it changed since the last write.
    pub(crate) async fn sync_session(&mut self) -> Result<(), AgentError> {
        let Some(session) = self.session.as_mut().filter(|s| s.is_loaded()) else {
            return Ok(());
        };
        session
            .sync_agent(AgentParts {
                agent_id: &self.hook_agent.agent_id,
                messages: &mut self.messages,
                state: &self.hook_agent.state,
                conversation: self.conversation.as_mut(),
                interrupts: &mut self.interrupts,
            })
            .await?;
        Ok(())
    }

    /// The agent's key-value state (persisted with the session, never sent to the model).
    pub fn state(&self) -> &AgentState {
        &self.hook_agent.state
    }

    /// The conversation manager.
    pub fn conversation_manager(&self) -> &dyn ConversationManager {
        self.conversation.as_ref()
    }

    /// The session manager, if any.
    pub fn session_manager(&self) -> Option<&SessionManager> {
        self.session.as_ref()
    }

    /// The interrupts the agent is paused on (empty unless the last result's stop reason was
    /// `interrupt`).
    pub fn pending_interrupts(&self) -> Vec<Interrupt> {
        self.interrupts.pending()
    }

    /// The agent's description (used when it becomes a tool).
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The conversation history.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The conversation history, to edit between invocations.
    pub fn messages_mut(&mut self) -> &mut Vec<Message> {
        &mut self.messages
    }

    /// The system prompt.
    pub fn system_prompt(&self) -> Option<&str> {
        self.system_prompt.as_deref()
    }

    /// The model.
    pub fn model(&self) -> &Arc<dyn Model> {
        &self.model
    }

    /// The names of the registered tools, in registration order.
    pub fn tool_names(&self) -> impl Iterator<Item = &str> {
        self.tools.names()
    }

    /// The registered tools, in registration order (e.g. to serve them over MCP), followed by
    /// those a [`ToolLoader`] loaded for the last invocation.
    ///
    /// Python: `agent.tool_registry.registry.values()`.
    pub fn tools(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.tools.iter()
    }

    /// Lifetime metrics: cycles, token usage, per-tool counters.
    pub fn metrics(&self) -> &EventLoopMetrics {
        &self.metrics
    }

    /// A handle that cancels the running invocation from another task.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// Registers one more tool (a swarm's coordination tool).
    pub(crate) fn add_tool(&mut self, tool: Arc<dyn Tool>) -> Result<(), BuildError> {
        // With a loader, `tools` may hold last invocation's loaded tools: extend the agent's own.
        let own = self.tool_loading.as_ref().map_or(&self.tools, |l| &l.own);
        let mut tools = (**own).clone();
        tools.register(tool)?;
        let tools = Arc::new(tools);
        if let Some(loading) = &mut self.tool_loading {
            loading.own = tools.clone();
        }
        self.tools = tools;
        Ok(())
    }

    /// The agent's name (default `"Strands Agents"`).
    pub fn name(&self) -> &str {
        &self.hook_agent.name
    }

    /// The agent's id (default `"default"`), used by session persistence.
    pub fn agent_id(&self) -> &str {
        &self.hook_agent.agent_id
    }
}

/// What an invocation starts from.
///
/// Text or content blocks become one user message; messages are appended as they are;
/// [`AgentInput::Continue`] adds nothing and continues the conversation (running a pending tool
/// use if the last message holds one).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AgentInput {
    /// A user prompt.
    Text(String),
    /// A user message with these blocks.
    Content(Vec<ContentBlock>),
    /// Messages appended to the history.
    Messages(Vec<Message>),
    /// No new input.
    Continue,
    /// Answers to the interrupts an agent paused on; resumes the paused tool batch.
    InterruptResponses(Vec<InterruptResponse>),
}

impl From<Vec<InterruptResponse>> for AgentInput {
    fn from(responses: Vec<InterruptResponse>) -> Self {
        Self::InterruptResponses(responses)
    }
}

impl From<&str> for AgentInput {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for AgentInput {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&String> for AgentInput {
    fn from(text: &String) -> Self {
        Self::Text(text.clone())
    }
}

impl From<Vec<ContentBlock>> for AgentInput {
    fn from(content: Vec<ContentBlock>) -> Self {
        Self::Content(content)
    }
}

impl From<Vec<Message>> for AgentInput {
    fn from(messages: Vec<Message>) -> Self {
        Self::Messages(messages)
    }
}

impl From<Message> for AgentInput {
    fn from(message: Message) -> Self {
        Self::Messages(vec![message])
    }
}

impl From<()> for AgentInput {
    fn from((): ()) -> Self {
        Self::Continue
    }
}

/// Builds an [`Agent`].
///
/// Python: the `Agent(...)` constructor arguments.
#[derive(Default)]
#[must_use]
pub struct AgentBuilder {
    model: Option<Arc<dyn Model>>,
    system_prompt: Option<String>,
    tools: Vec<Arc<dyn Tool>>,
    messages: Vec<Message>,
    retry: Option<ModelRetryStrategy>,
    timeouts: ModelTimeouts,
    name: Option<String>,
    description: Option<String>,
    agent_id: Option<String>,
    hooks: HookRegistry,
    conversation: Option<Box<dyn ConversationManager>>,
    state: Map<String, Value>,
    session: Option<SessionManager>,
    structured_output: Option<OutputSchema>,
    tool_loader: Option<Arc<dyn ToolLoader>>,
    telemetry: Option<Telemetry>,
    trace_attributes: Vec<KeyValue>,
}

/// An agent's [`ToolLoader`] and the tools it has without it.
#[derive(Debug, Clone)]
pub(crate) struct ToolLoading {
    pub(crate) loader: Arc<dyn ToolLoader>,
    pub(crate) own: Arc<ToolRegistry>,
}

impl fmt::Debug for AgentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentBuilder")
            .field(
                "model",
                &self.model.as_ref().map(|m| m.model_id().to_owned()),
            )
            .field(
                "tools",
                &self
                    .tools
                    .iter()
                    .map(|t| t.name().to_owned())
                    .collect::<Vec<_>>(),
            )
            .field("tool_loader", &self.tool_loader)
            .finish_non_exhaustive()
    }
}

impl AgentBuilder {
    /// The model (required).
    pub fn model(mut self, model: impl Model + 'static) -> Self {
        self.model = Some(Arc::new(model));
        self
    }

    /// A model shared with other agents.
    pub fn shared_model(mut self, model: Arc<dyn Model>) -> Self {
        self.model = Some(model);
        self
    }

    /// The system prompt.
    pub fn system_prompt(mut self, system_prompt: impl Into<String>) -> Self {
        self.system_prompt = Some(system_prompt.into());
        self
    }

    /// Adds a tool.
    pub fn tool(mut self, tool: impl Tool + 'static) -> Self {
        self.tools.push(Arc::new(tool));
        self
    }

    /// Adds a tool shared with other agents.
    pub fn shared_tool(mut self, tool: Arc<dyn Tool>) -> Self {
        self.tools.push(tool);
        self
    }

    /// Chooses more tools for each invocation (e.g. strands-mcp's `ToolSearch`, AgentCore
    /// Gateway's semantic search); see [`ToolLoader`]. Python: a plugin that registers tools
    /// in a `BeforeInvocationEvent` hook, like `AgentCoreToolSearchPlugin`.
    pub fn tool_loader(mut self, loader: impl ToolLoader + 'static) -> Self {
        self.tool_loader = Some(Arc::new(loader));
        self
    }

    /// Starts from an existing conversation.
    pub fn messages(mut self, messages: Vec<Message>) -> Self {
        self.messages = messages;
        self
    }

    /// The structured output every invocation returns (in [`AgentResult::structured_output`],
    /// and as its text) unless the call asks for another: [`OutputSchema::of`] a Rust type, or
    /// [`OutputSchema::new`] from a JSON schema.
    ///
    /// Python: `Agent(structured_output_model=Model)`.
    ///
    /// [`AgentResult::structured_output`]: crate::AgentResult::structured_output
    pub fn structured_output(mut self, schema: OutputSchema) -> Self {
        self.structured_output = Some(schema);
        self
    }

    /// How throttled model calls are retried (default: 6 attempts, 4 s doubling, 240 s cap, no
    /// total budget; see [`ModelRetryStrategy::with_max_elapsed_time`]).
    pub fn retry_strategy(mut self, retry: ModelRetryStrategy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Fails a model call whose stream sends no event within `timeout` of the request (counted
    /// per attempt, after the `BeforeModelCallEvent` hooks), with
    /// [`ModelError::Timeout`](strands_core::ModelError::Timeout) in [`AgentError::Model`].
    /// The agent does not retry a timeout. Off by default, as in Python, where only the
    /// provider's read timeout (600 s for Bedrock) bounds a hung model.
    ///
    /// ```
    /// use std::time::Duration;
    /// use strands_agent::{Agent, ModelRetryStrategy};
    /// use strands_testkit::ScriptedModel;
    ///
    /// # fn main() -> Result<(), strands_agent::BuildError> {
    /// let agent = Agent::builder()
    ///     .model(ScriptedModel::builder().text("hi").build())
    ///     // Fail fast on a hung model...
    ///     .model_first_event_timeout(Duration::from_secs(30))
    ///     .model_idle_timeout(Duration::from_secs(60))
    ///     // ...and keep retries of a throttling one within a minute.
    ///     .retry_strategy(
    ///         ModelRetryStrategy::default().with_max_elapsed_time(Duration::from_secs(60)),
    ///     )
    ///     .build()?;
    /// # drop(agent);
    /// # Ok(())
    /// # }
    /// ```
    pub fn model_first_event_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.first_event = Some(timeout);
        self
    }

    /// Fails a model call whose stream, once it has sent its first event, stays silent for
    /// longer than `timeout` (between two events, or before it ends), with
    /// [`ModelError::Timeout`](strands_core::ModelError::Timeout) in [`AgentError::Model`].
    /// The wait for the first event is bounded by
    /// [`model_first_event_timeout`](Self::model_first_event_timeout) instead; time the agent
    /// spends handing events to a slow stream consumer does not count. The agent does not retry
    /// a timeout. Off by default, as in Python.
    pub fn model_idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.idle = Some(timeout);
        self
    }

    /// The agent's name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The agent's id, used by session persistence (default `"default"`).
    pub fn agent_id(mut self, agent_id: impl Into<String>) -> Self {
        self.agent_id = Some(agent_id.into());
        self
    }

    /// What the agent does; used as the tool description when the agent becomes a tool.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Registers a [`HookProvider`]'s callbacks.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "providers are usually built inline; taking them by value keeps call sites clean"
    )]
    pub fn hooks(mut self, provider: impl HookProvider) -> Self {
        self.hooks.add_provider(&provider);
        self
    }

    /// Registers one hook callback; the event type is that of its argument.
    pub fn hook<E: HookEvent>(mut self, callback: impl Fn(&mut E) + Send + Sync + 'static) -> Self {
        self.hooks.add_callback(callback);
        self
    }

    /// How the history is kept within bounds (default: a 40-message sliding window).
    pub fn conversation_manager(mut self, manager: impl ConversationManager + 'static) -> Self {
        self.conversation = Some(Box::new(manager));
        self
    }

    /// Initial state values.
    pub fn state(mut self, state: Map<String, Value>) -> Self {
        self.state = state;
        self
    }

    /// Records the agent's spans and metrics with `telemetry` (see [`crate::telemetry`]).
    /// Without this, the agent uses the process default
    /// ([`Telemetry::set_default`]) if one was set when it is built, and records nothing
    /// otherwise.
    pub fn telemetry(mut self, telemetry: Telemetry) -> Self {
        self.telemetry = Some(telemetry);
        self
    }

    /// Attributes added to every span the agent records (its invocations, cycles, model and
    /// tool calls), such as `session.id` or `user.id`.
    ///
    /// ```
    /// use opentelemetry::KeyValue;
    /// use strands_agent::Agent;
    /// use strands_testkit::ScriptedModel;
    ///
    /// let agent = Agent::builder()
    ///     .model(ScriptedModel::builder().text("Hello!").build())
    ///     .trace_attributes([KeyValue::new("session.id", "s-1"), KeyValue::new("tries", 3)])
    ///     .build();
    /// assert!(agent.is_ok());
    /// ```
    ///
    /// Python: `Agent(trace_attributes={...})`.
    pub fn trace_attributes(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        self.trace_attributes.extend(attributes);
        self
    }

    /// Persists the agent in a session (restored before the first invocation).
    pub fn session_manager(mut self, session: SessionManager) -> Self {
        self.session = Some(session);
        self
    }

    /// Builds the agent.
    ///
    /// # Errors
    ///
    /// [`BuildError::MissingModel`] without a model; [`BuildError::InvalidToolName`] or
    /// [`BuildError::DuplicateToolName`] for bad tool registrations.
    pub fn build(self) -> Result<Agent, BuildError> {
        let model = self.model.ok_or(BuildError::MissingModel)?;
        let agent_id = self.agent_id.unwrap_or_else(|| "default".to_owned());
        crate::session::validate_id("agent", &agent_id).map_err(|_| {
            BuildError::InvalidAgentId {
                agent_id: agent_id.clone(),
            }
        })?;
        let name = self.name.unwrap_or_else(|| "Strands Agents".to_owned());
        let mut tools = ToolRegistry::default();
        for tool in self.tools {
            tools.register(tool)?;
        }
        if let Some(schema) = &self.structured_output
            && tools.specs().iter().any(|s| s.name == schema.name())
        {
            return Err(BuildError::DuplicateToolName {
                name: schema.name().to_owned(),
                existing: schema.name().to_owned(),
            });
        }
        let system_prompt_content = self
            .system_prompt
            .iter()
            .map(|p| SystemContentBlock::Text(p.clone()))
            .collect();
        let tools = Arc::new(tools);
        Ok(Agent {
            model,
            messages: self.messages,
            system_prompt: self.system_prompt,
            system_prompt_content,
            tool_loading: self.tool_loader.map(|loader| ToolLoading {
                loader,
                own: tools.clone(),
            }),
            tools,
            retry: self.retry.unwrap_or_default(),
            timeouts: self.timeouts,
            cancel: CancelHandle::default(),
            metrics: EventLoopMetrics::default(),
            hooks: Arc::new(self.hooks),
            conversation: self
                .conversation
                .unwrap_or_else(|| Box::new(SlidingWindowConversationManager::default())),
            hook_agent: HookAgent {
                name: Arc::from(name),
                agent_id: Arc::from(agent_id),
                state: AgentState::from_map(self.state),
            },
            session: self.session,
            interrupts: InterruptState::default(),
            structured_output: self.structured_output,
            description: self.description,
            telemetry: self.telemetry.or_else(|| {
                Telemetry::default_is_set()
                    .then(Telemetry::default_for_process)
                    .flatten()
            }),
            trace_attributes: trace_attributes(self.trace_attributes),
        })
    }
}

/// The agent's trace attributes; agents without any share one empty list (no allocation per
/// agent, which the runtime may build per request).
fn trace_attributes(attributes: Vec<KeyValue>) -> Arc<[KeyValue]> {
    static NONE: std::sync::OnceLock<Arc<[KeyValue]>> = std::sync::OnceLock::new();
    if attributes.is_empty() {
        return NONE.get_or_init(|| Arc::from(Vec::new())).clone();
    }
    attributes.into()
}
