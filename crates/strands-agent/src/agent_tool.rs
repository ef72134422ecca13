//! [`AgentTool`]: an agent another agent can call as a tool.

use std::fmt;
use std::sync::{Arc, PoisonError};

use futures_util::StreamExt;
use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use strands_core::{
    Interrupt, Message, StopReason, Tool, ToolContext, ToolEvent, ToolResult, ToolResultContent,
    ToolSpec, ToolStream, ToolUse,
};
use tokio::sync::Mutex;

use crate::interrupts::InterruptState;
use crate::{Agent, AgentEvent, AgentInput, BuildError, InterruptResponse};

/// Interrupted turns kept for resuming (oldest dropped first): each is a paused call whose
/// caller has not answered yet.
const MAX_PAUSED_TURNS: usize = 64;

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
/// An interrupt raised inside the wrapped agent pauses the calling agent too, under the id
/// `v1:agent_as_tool:<tool use id>:<the wrapped agent's interrupt id>`; when the caller is
/// resumed with the answer, the wrapped agent resumes where it paused (its paused turn is kept
/// by the tool, for up to 64 calls at once).
///
/// Python: `agent.as_tool()`.
pub struct AgentTool {
    agent: Arc<Mutex<Agent>>,
    /// Builds a fresh agent for each call ([`AgentTool::per_call`]).
    factory: Option<Arc<AgentFactory>>,
    spec: ToolSpec,
    preserve_context: bool,
    initial_messages: Vec<Message>,
    initial_state: Map<String, Value>,
    /// Calls paused on an interrupt, by tool use id, with the wrapped agent's paused turn (`None`
    /// when preserving context: the agent itself stays paused then).
    paused: std::sync::Mutex<IndexMap<String, Option<PausedTurn>>>,
}

/// What the wrapped agent needs to resume a paused call.
struct PausedTurn {
    messages: Vec<Message>,
    state: Map<String, Value>,
    interrupts: InterruptState,
}

impl PausedTurn {
    fn of(agent: &Agent) -> Self {
        Self {
            messages: agent.messages.clone(),
            state: agent.state().to_map(),
            interrupts: agent.interrupts.clone(),
        }
    }

    fn restore(self, agent: &mut Agent) {
        agent.messages = self.messages;
        agent.state().replace(self.state);
        agent.interrupts = self.interrupts;
    }
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
            paused: std::sync::Mutex::new(IndexMap::new()),
        }
    }

    fn keep_paused(&self, tool_use_id: &str, turn: Option<PausedTurn>) {
        let mut paused = self.paused.lock().unwrap_or_else(PoisonError::into_inner);
        paused.insert(tool_use_id.to_owned(), turn);
        while paused.len() > MAX_PAUSED_TURNS {
            paused.shift_remove_index(0);
        }
    }

    fn take_paused(&self, tool_use_id: &str) -> Option<Option<PausedTurn>> {
        self.paused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .shift_remove(tool_use_id)
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

/// Python's namespace for a call's passed-up interrupts:
/// `v1:agent_as_tool:<quote(tool_use_id, safe='')>:`.
fn interrupt_prefix(tool_use_id: &str) -> String {
    format!(
        "v1:agent_as_tool:{}:",
        strands_core::url::quote(tool_use_id)
    )
}

/// The text of the result when a resumed call finds no paused turn (Python's).
fn lost_turn_text(name: &str) -> String {
    format!(
        "Agent '{name}' did NOT run and the human's response was NOT applied: its interrupted turn is not available. Do not report the requested action as completed; tell the user it failed and ask them to respond again."
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
            let prefix = interrupt_prefix(&id);
            let responses: Vec<InterruptResponse> = context
                .responses_with_prefix(&prefix)
                .into_iter()
                .map(|(full, response)| InterruptResponse::new(&full[prefix.len()..], response))
                .collect();
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
            // A paused call is resumed even without answers of its own (the caller's other
            // interrupts were answered): its interrupts are then raised again, as Python does.
            let paused = self.take_paused(&id);
            let input = if !responses.is_empty() || paused.is_some() {
                if let Some(Some(turn)) = paused {
                    turn.restore(&mut agent);
                }
                if !agent.interrupts.activated {
                    tracing::error!(tool_name = name, tool_use_id = %id, "cannot resume: the interrupted turn is not available");
                    yield ToolEvent::Result(ToolResult::error(id, lost_turn_text(name)));
                    return;
                }
                tracing::debug!(tool_name = name, tool_use_id = %id, "resuming the agent from its interrupt");
                AgentInput::InterruptResponses(responses)
            } else {
                if !self.preserve_context && self.factory.is_none() {
                    agent.messages_mut().clone_from(&self.initial_messages);
                    agent.state().replace(self.initial_state.clone());
                }
                // A new call never finds the agent paused by an earlier one.
                agent.interrupts = InterruptState::default();
                AgentInput::Text(prompt(&tool_use.input))
            };
            let handle = agent.cancel_handle();
            let parent = context.cancellation_token().clone();
            let mut result = None;
            let mut failure = None;
            {
                let mut events = std::pin::pin!(agent.stream(input));
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
            if let (None, Some(r)) = (&failure, &result)
                && r.stop_reason == StopReason::Interrupt
            {
                let raised: Vec<Interrupt> = r
                    .interrupts
                    .iter()
                    .map(|i| Interrupt::new(format!("{prefix}{}", i.id), i.name.clone(), i.reason.clone()))
                    .collect();
                self.keep_paused(&id, (!self.preserve_context).then(|| PausedTurn::of(&agent)));
                if context.raise_interrupts(raised) {
                    return;
                }
                yield ToolEvent::Result(ToolResult::error(
                    id,
                    format!("Agent '{name}' paused for human input, which needs a calling agent to pass it to"),
                ));
                return;
            }
            yield ToolEvent::Result(final_result(id, name, failure, result, parent.is_cancelled()));
        })
    }
}

/// The prompt the model passed: the `input` argument (or the whole input, if it is not an
/// object).
fn prompt(input: &Value) -> String {
    match input {
        Value::Object(map) => map
            .get("input")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The tool result of a call that did not pause.
fn final_result(
    id: String,
    name: &str,
    failure: Option<crate::AgentError>,
    result: Option<Box<crate::AgentResult>>,
    parent_cancelled: bool,
) -> ToolResult {
    match (failure, result) {
        (Some(error), _) => {
            tracing::warn!(tool_name = name, %error, "agent invocation failed");
            ToolResult::error(id, format!("Agent error: {error}"))
        }
        (None, None) => ToolResult::error(id, "Agent did not produce a result"),
        (None, Some(r)) if r.stop_reason == StopReason::Cancelled && parent_cancelled => {
            ToolResult::error(id, format!("Agent '{name}' cancelled"))
        }
        (None, Some(r)) => match r.structured_output {
            Some(value) => ToolResult::new(
                id,
                strands_core::ToolResultStatus::Success,
                vec![ToolResultContent::Json(value)],
            ),
            None => ToolResult::success(id, r.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::interrupt_prefix;

    #[test]
    fn prefixes_quote_the_tool_use_id_as_python_does() {
        assert_eq!(interrupt_prefix("t1"), "v1:agent_as_tool:t1:");
        assert_eq!(
            interrupt_prefix("tooluse_a:b/c d"),
            "v1:agent_as_tool:tooluse_a%3Ab%2Fc%20d:"
        );
    }
}
