//! The outcome of one invocation.

use std::fmt;

use serde::Serialize;
use serde_json::Value;
use strands_core::{Interrupt, Message, StopReason, Usage};

/// What [`Agent::invoke`](crate::Agent::invoke) returns: the last message, why the loop stopped,
/// and what this invocation cost.
///
/// `Display` renders the text the way Python's `str(AgentResult)` does: each text block followed
/// by a newline.
///
/// Python: `strands.agent.AgentResult` (whose `metrics` are the agent's lifetime metrics; here
/// those are [`Agent::metrics`](crate::Agent::metrics) and the result holds this invocation's).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AgentResult {
    /// Why the loop stopped.
    pub stop_reason: StopReason,
    /// The last message: the model's final answer, or the message the loop stopped on.
    pub message: Message,
    /// Tokens used by this invocation's model calls.
    pub usage: Usage,
    /// Event-loop cycles this invocation ran.
    pub cycle_count: u64,
    /// With stop reason `interrupt`: what the agent waits for. Resume with
    /// [`AgentInput::InterruptResponses`](crate::AgentInput::InterruptResponses).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interrupts: Vec<Interrupt>,
    /// The validated structured output, when one was requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured_output: Option<Value>,
}

impl AgentResult {
    /// The final text, as `str(result)` in Python.
    pub fn text(&self) -> String {
        self.message.text()
    }
}

/// Python's `str(AgentResult)`: the interrupts if any (as Python prints a list of their dicts),
/// else the structured output as JSON, else the text.
impl fmt::Display for AgentResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.interrupts.is_empty() {
            let json = serde_json::to_value(&self.interrupts).map_err(|_| fmt::Error)?;
            return f.write_str(&crate::pydantic::python_repr(&json));
        }
        if let Some(value) = &self.structured_output {
            return write!(f, "{value}");
        }
        f.write_str(&self.message.text())
    }
}
