//! [`AgentTool`]: an agent another agent can call as a tool.

use std::fmt;
use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use strands_core::{
    Message, StopReason, Tool, ToolContext, ToolEvent, ToolResult, ToolResultContent, ToolSpec,
    ToolStream, ToolUse,
};
use tokio::sync::Mutex;

use crate::interrupts::InterruptState;
use crate::{Agent, AgentEvent, BuildError};

/// An [`Agent`] exposed as a tool: the model passes an `input` string, the agent runs on it,
/// and its answer is the tool result.
///
/// [`AgentTool::new`] starts each call from the agent's history and state as they were when the
/// tool was made (Python's default, `preserve_context=False`);
/// [`AgentTool::preserving_context`] lets the conversation carry over between calls. A call made
/// while the agent is still busy with another gets an error result. When the calling agent is
/// cancelled its running tools are dropped, and the wrapped agent's invocation with them.
///
/// ```
/// use strands_agent::{Agent, AgentTool};
/// use strands_testkit::ScriptedModel;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let researcher = Agent::builder()
///     .name("researcher")
///     .description("Finds facts.")
///     .model(ScriptedModel::builder().text("The Moon is 384,400 km away.").build())
///     .build()?;
/// let writer_model = ScriptedModel::builder()
///     .tool_use("t1", "researcher", r#"{"input": "How far is the Moon?"}"#)
///     .text("About 384,400 km.")
///     .build();
/// let mut writer = Agent::builder()
///     .model(writer_model)
///     .tool(AgentTool::new(researcher)?)
///     .build()?;
/// writer.invoke("How far is the Moon?").await?;
/// let result = writer.messages()[2].content[0].as_tool_result().unwrap();
/// assert_eq!(result.content[0].as_text(), Some("The Moon is 384,400 km away.\n"));
/// # Ok(())
/// # }
/// ```
///
/// Python: `agent.as_tool()`. Interrupts raised inside the wrapped agent are reported to the
/// model as an error result rather than forwarded to the caller.
pub struct AgentTool {
    agent: Arc<Mutex<Agent>>,
    /// Builds a fresh agent for each call ([`AgentTool::per_call`]).
    factory: Option<Arc<AgentFactory>>,
    spec: ToolSpec,
    preserve_context: bool,
    initial_messages: Vec<Message>,
    initial_state: Map<String, Value>,
}

type AgentFactory = dyn Fn() -> Result<Agent, BuildError> + Send + Sync;

impl fmt::Debug for AgentTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentTool")
            .field("name", &self.spec.name)
            .field("preserve_context", &self.preserve_context)
            .finish_non_exhaustive()
    }
}

impl AgentTool {
    /// Wraps `agent`, resetting it to its current history and state before every call. The tool
    /// is named after the agent and described by its description.
    ///
    /// # Errors
    ///
    /// [`BuildError::AgentToolWithSession`] when the agent persists a session: resetting it
    /// would contradict what is stored. Use [`AgentTool::preserving_context`] for such agents.
    pub fn new(agent: Agent) -> Result<Self, BuildError> {
        if agent.session_manager().is_some() {
            return Err(BuildError::AgentToolWithSession {
                agent: agent.name().to_owned(),
            });
        }
        Ok(Self::wrap(agent, false))
    }

    /// Builds an agent with `factory` for every call, so calls run at once instead of one at a
    /// time (e.g. an agent served over MCP). The tool is named and described after the agent
    /// `factory` builds now.
    ///
    /// # Errors
    ///
    /// The factory's error, or [`BuildError::AgentToolWithSession`] for an agent that persists
    /// a session.
    pub fn per_call(
        factory: impl Fn() -> Result<Agent, BuildError> + Send + Sync + 'static,
    ) -> Result<Self, BuildError> {
        let mut tool = Self::new(factory()?)?;
        tool.factory = Some(Arc::new(factory));
        Ok(tool)
    }

    /// Wraps `agent`, keeping its conversation from one call to the next.
    pub fn preserving_context(agent: Agent) -> Self {
        Self::wrap(agent, true)
    }

    fn wrap(agent: Agent, preserve_context: bool) -> Self {
        let name = agent.name().to_owned();
        let description = agent.description().map_or_else(
            || format!("Use the {name} agent as a tool by providing a natural language input"),
            str::to_owned,
        );
        let initial_messages = agent.messages().to_vec();
        let initial_state = agent.state().to_map();
        Self {
            spec: spec(name, description),
            agent: Arc::new(Mutex::new(agent)),
            factory: None,
            preserve_context,
            initial_messages,
            initial_state,
        }
    }

    /// Names the tool (default: the agent's name, which must then be a valid tool name).
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.spec.name = name.into();
        self
    }

    /// Describes the tool to the model.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.spec.description = description.into();
        self
    }

    /// The wrapped agent (lock it to inspect its history between calls).
    pub fn agent(&self) -> &Arc<Mutex<Agent>> {
        &self.agent
    }
}

fn spec(name: String, description: String) -> ToolSpec {
    ToolSpec::new(
        name,
        description,
        json!({
            "type": "object",
            "properties": {
                "input": {"type": "string", "description": "The input to send to the agent tool."}
            },
            "required": ["input"]
        }),
    )
}

impl Tool for AgentTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn stream(&self, tool_use: ToolUse, context: ToolContext) -> ToolStream<'_> {
        Box::pin(async_stream::stream! {
            let id = tool_use.tool_use_id.clone();
            let name = self.spec.name.as_str();
            let prompt = match &tool_use.input {
                Value::Object(map) => map.get("input").and_then(Value::as_str).unwrap_or("").to_owned(),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let shared = match &self.factory {
                None => self.agent.clone(),
                Some(factory) => match factory() {
                    Ok(agent) => Arc::new(Mutex::new(agent)),
                    Err(error) => {
                        yield ToolEvent::Result(ToolResult::error(id, format!("Agent error: {error}")));
                        return;
                    }
                },
            };
            let Ok(mut agent) = shared.try_lock_owned() else {
                tracing::warn!(tool_name = name, tool_use_id = %id, "agent is already processing a request");
                yield ToolEvent::Result(ToolResult::error(id, format!("Agent '{name}' is already processing a request")));
                return;
            };
            if !self.preserve_context && self.factory.is_none() {
                agent.messages_mut().clone_from(&self.initial_messages);
                agent.state().replace(self.initial_state.clone());
            }
            // Interrupts inside the wrapped agent are not forwarded; never leave it paused.
            agent.interrupts = InterruptState::default();
            let handle = agent.cancel_handle();
            let parent = context.cancellation_token().clone();
            let mut result = None;
            let mut failure = None;
            {
                let mut events = std::pin::pin!(agent.stream(prompt));
                let mut forwarded = false;
                loop {
                    let next = tokio::select! {
                        () = parent.cancelled(), if !forwarded => {
                            forwarded = true;
                            handle.cancel();
                            continue;
                        }
                        next = events.next() => next,
                    };
                    match next {
                        None => break,
                        Some(Ok(AgentEvent::Result(r))) => result = Some(r),
                        Some(Ok(event)) => {
                            if let Ok(value) = serde_json::to_value(&event) {
                                yield ToolEvent::Stream(value);
                            }
                        }
                        Some(Err(error)) => {
                            failure = Some(error);
                            break;
                        }
                    }
                }
            }
            let result = match (failure, result) {
                (Some(error), _) => {
                    tracing::warn!(tool_name = name, %error, "agent invocation failed");
                    ToolResult::error(id, format!("Agent error: {error}"))
                }
                (None, None) => ToolResult::error(id, "Agent did not produce a result"),
                (None, Some(r)) if r.stop_reason == StopReason::Interrupt => ToolResult::error(
                    id,
                    format!("Agent '{name}' paused for human input, which is not supported inside a tool call"),
                ),
                (None, Some(r)) if r.stop_reason == StopReason::Cancelled && parent.is_cancelled() => {
                    ToolResult::error(id, format!("Agent '{name}' cancelled"))
                }
                (None, Some(r)) => match r.structured_output {
                    Some(value) => ToolResult::new(id, strands_core::ToolResultStatus::Success, vec![ToolResultContent::Json(value)]),
                    None => ToolResult::success(id, r.to_string()),
                },
            };
            yield ToolEvent::Result(result);
        })
    }
}
