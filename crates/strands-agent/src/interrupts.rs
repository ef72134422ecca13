//! The agent's interrupt state: which interrupts are open and the tool batch to resume.
//!
//! Serialized exactly as Python's `_InterruptState.to_dict()`, so it persists in a session's
//! `_internal_state.interrupt_state` and moves between the stacks.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use strands_core::{Interrupt, Message, ToolResult};

/// The answer to one [`Interrupt`], passed back to resume the agent.
///
/// Serializes as Python's `{"interruptResponse": {"interruptId": ..., "response": ...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InterruptResponse {
    /// The [`Interrupt::id`] answered.
    pub interrupt_id: String,
    /// The answer (any JSON).
    pub response: Value,
}

impl InterruptResponse {
    /// An answer to `interrupt_id`.
    pub fn new(interrupt_id: impl Into<String>, response: impl Into<Value>) -> Self {
        Self {
            interrupt_id: interrupt_id.into(),
            response: response.into(),
        }
    }

    fn to_python(&self) -> Value {
        serde_json::json!({"interruptResponse": {"interruptId": self.interrupt_id, "response": self.response}})
    }
}

/// A tool batch paused by an interrupt: the assistant message holding the tool uses and the
/// results already produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PendingToolExecution {
    pub(crate) assistant_message: Message,
    pub(crate) completed_tool_results: Vec<ToolResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct InterruptState {
    #[serde(default)]
    pub(crate) interrupts: IndexMap<String, Interrupt>,
    #[serde(default)]
    pub(crate) context: Map<String, Value>,
    #[serde(default)]
    pub(crate) activated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pending_tool_execution: Option<PendingToolExecution>,
    #[serde(skip)]
    pub(crate) version: u64,
}

/// Why the responses passed to resume an interrupted agent are not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResumeError {
    /// The agent is paused on interrupts; only responses can resume it.
    #[error(
        "the agent is waiting for responses to its interrupts ({0}); resume it with AgentInput::InterruptResponses"
    )]
    ResponsesRequired(String),
    /// Responses were given but the agent is not interrupted.
    #[error("interrupt responses were given but the agent is not interrupted")]
    NotInterrupted,
    /// A response names an interrupt the agent does not have.
    #[error("no interrupt with id {0:?}; answer one of the ids in AgentResult::interrupts")]
    UnknownInterrupt(String),
}

impl InterruptState {
    pub(crate) fn open_ids(&self) -> String {
        self.interrupts
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The interrupts still waiting for an answer (none unless paused).
    pub(crate) fn pending(&self) -> Vec<Interrupt> {
        if !self.activated {
            return Vec::new();
        }
        self.interrupts
            .values()
            .filter(|i| i.response.is_none())
            .cloned()
            .collect()
    }

    /// Stores the responses (Python's `resume`).
    pub(crate) fn resume(&mut self, responses: &[InterruptResponse]) -> Result<(), ResumeError> {
        if !self.activated {
            return Err(ResumeError::NotInterrupted);
        }
        for response in responses {
            let Some(interrupt) = self.interrupts.get_mut(&response.interrupt_id) else {
                return Err(ResumeError::UnknownInterrupt(response.interrupt_id.clone()));
            };
            interrupt.response = Some(response.response.clone());
        }
        self.context.insert(
            "responses".to_owned(),
            Value::Array(responses.iter().map(InterruptResponse::to_python).collect()),
        );
        self.version += 1;
        Ok(())
    }

    /// Interrupt id → response, for tools and hooks re-run on resume.
    pub(crate) fn responses(&self) -> HashMap<String, Value> {
        self.interrupts
            .iter()
            .filter_map(|(id, i)| i.response.clone().map(|r| (id.clone(), r)))
            .collect()
    }

    /// Pauses on `interrupts` with the batch's state.
    pub(crate) fn activate(
        &mut self,
        interrupts: &[Interrupt],
        assistant_message: Message,
        completed_tool_results: Vec<ToolResult>,
    ) {
        for interrupt in interrupts {
            self.interrupts
                .insert(interrupt.id.clone(), interrupt.clone());
        }
        self.activated = true;
        self.pending_tool_execution = Some(PendingToolExecution {
            assistant_message,
            completed_tool_results,
        });
        self.version += 1;
    }

    /// The batch completed: clear everything (Python's `end_tool_cycle`).
    pub(crate) fn end_tool_cycle(&mut self) {
        if *self == Self::default() {
            return;
        }
        *self = Self {
            version: self.version + 1,
            ..Self::default()
        };
    }

    /// Reads a session's `interrupt_state`, migrating Python's legacy form (the paused batch in
    /// `context.tool_use_message` / `context.tool_results`) as Python's `from_dict` does.
    pub(crate) fn from_session(value: Value) -> Result<Self, serde_json::Error> {
        let mut state: Self = serde_json::from_value(value)?;
        if state.pending_tool_execution.is_none()
            && let Some(message) = state.context.shift_remove("tool_use_message")
        {
            let results = state
                .context
                .shift_remove("tool_results")
                .unwrap_or(Value::Array(Vec::new()));
            state.pending_tool_execution = Some(PendingToolExecution {
                assistant_message: serde_json::from_value(message)?,
                completed_tool_results: serde_json::from_value(results)?,
            });
        }
        Ok(state)
    }

    pub(crate) fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_like_python_to_dict() {
        let mut state = InterruptState::default();
        assert_eq!(
            state.to_value(),
            json!({"interrupts": {}, "context": {}, "activated": false})
        );
        state.activate(
            &[Interrupt::new("v1:tool_call:t1:x", "approve", json!("why"))],
            Message::assistant("hi"),
            vec![],
        );
        let value = state.to_value();
        assert_eq!(
            value["interrupts"]["v1:tool_call:t1:x"],
            json!({"id": "v1:tool_call:t1:x", "name": "approve", "reason": "why", "response": null})
        );
        assert_eq!(
            value["pending_tool_execution"]["completed_tool_results"],
            json!([])
        );
        let back: InterruptState = serde_json::from_value(value).unwrap_or_default();
        assert!(back.activated);
    }

    #[test]
    fn migrates_pythons_legacy_context() {
        let legacy = json!({
            "interrupts": {}, "activated": true,
            "context": {
                "tool_use_message": {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "a", "input": {}}}]},
                "tool_results": [{"toolUseId": "t0", "status": "success", "content": [{"text": "ok"}]}],
                "responses": []
            }
        });
        let state = InterruptState::from_session(legacy).unwrap_or_default();
        let Some(pending) = state.pending_tool_execution else {
            unreachable!("the legacy batch was migrated")
        };
        assert_eq!(pending.completed_tool_results.len(), 1);
        assert!(pending.assistant_message.has_tool_use());
        assert_eq!(state.context.len(), 1);
    }
}
