//! The outcome of one invocation.

use std::fmt;

use serde::Serialize;
use strands_core::{Message, StopReason, Usage};

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
}

impl AgentResult {
    /// The final text, as `str(result)` in Python.
    pub fn text(&self) -> String {
        self.message.text()
    }
}

impl fmt::Display for AgentResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message.text())
    }
}
