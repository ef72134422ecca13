//! Interrupts: a tool or hook pauses the agent for human input; the caller resumes it with
//! responses.
//!
//! Python: `strands.interrupt`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Interrupt id → the human's response, shared by every scope of one resumed tool batch.
pub type InterruptResponses = Arc<HashMap<String, Value>>;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A request for human input raised by a tool or hook.
///
/// The agent stops with stop reason `interrupt` and lists its interrupts in the result; the
/// caller answers each [`id`](Self::id) to resume. Serializes as Python's `Interrupt` dataclass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Interrupt {
    /// Opaque id to answer with; deterministic for a given tool use and name.
    pub id: String,
    /// The name given by whoever raised it.
    pub name: String,
    /// Why input is needed (any JSON).
    #[serde(default)]
    pub reason: Value,
    /// The human's answer, once resumed.
    #[serde(default)]
    pub response: Option<Value>,
}

impl Interrupt {
    /// An unanswered interrupt.
    pub fn new(id: impl Into<String>, name: impl Into<String>, reason: Value) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            reason,
            response: None,
        }
    }

    /// Python's deterministic id: `v1:<scope>:<toolUseId>:<uuid5(NAMESPACE_OID, name)>`, where
    /// scope is `tool_call` (from a tool) or `before_tool_call` (from a hook).
    pub fn id_for(scope: &str, tool_use_id: &str, name: &str) -> String {
        let name_uuid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes());
        format!("v1:{scope}:{tool_use_id}:{name_uuid}")
    }
}

/// Returned by [`ToolContext::interrupt`](crate::ToolContext::interrupt) when the interrupt has
/// no response yet: return it (`?`) from the tool; the agent pauses and the tool runs again
/// when the caller resumes with a response.
#[derive(Debug, Clone, thiserror::Error)]
#[error("interrupt `{}` raised; the agent pauses until the caller responds to {}", .interrupt.name, .interrupt.id)]
pub struct InterruptRaised {
    interrupt: Box<Interrupt>,
}

impl InterruptRaised {
    /// Wraps the raised interrupt.
    pub fn new(interrupt: Interrupt) -> Self {
        Self {
            interrupt: Box::new(interrupt),
        }
    }

    /// The interrupt.
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }
}

/// Interrupt bookkeeping shared between the agent and one running tool (or hook).
#[derive(Debug, Default)]
pub struct InterruptScope {
    scope: &'static str,
    tool_use_id: String,
    responses: InterruptResponses,
    raised: Mutex<Vec<Interrupt>>,
}

impl InterruptScope {
    /// A scope for `tool_use_id` answering from `responses` (interrupt id → response).
    pub fn new(
        scope: &'static str,
        tool_use_id: impl Into<String>,
        responses: InterruptResponses,
    ) -> Arc<Self> {
        Arc::new(Self {
            scope,
            tool_use_id: tool_use_id.into(),
            responses,
            raised: Mutex::new(Vec::new()),
        })
    }

    /// The id an interrupt named `name` has in this scope.
    pub fn id(&self, name: &str) -> String {
        Interrupt::id_for(self.scope, &self.tool_use_id, name)
    }

    /// The stored response to `name`, if the agent was resumed with one; raises nothing.
    pub fn response(&self, name: &str) -> Option<&Value> {
        self.responses
            .get(&Interrupt::id_for(self.scope, &self.tool_use_id, name))
    }

    /// The stored response to `name`, or the raised interrupt to pause on.
    ///
    /// # Errors
    ///
    /// [`InterruptRaised`] when there is no response yet.
    pub fn interrupt(&self, name: &str, reason: Value) -> Result<Value, InterruptRaised> {
        let id = Interrupt::id_for(self.scope, &self.tool_use_id, name);
        if let Some(response) = self.responses.get(&id) {
            return Ok(response.clone());
        }
        let interrupt = Interrupt::new(id, name, reason);
        let mut raised = self.raised.lock().unwrap_or_else(PoisonError::into_inner);
        raised.retain(|r| r.id != interrupt.id);
        raised.push(interrupt.clone());
        Err(InterruptRaised::new(interrupt))
    }

    /// Raises interrupts whose ids the caller chose (an agent used as a tool passes up those of
    /// the agent it wraps, under a prefix of its own). The agent pauses on them when the tool
    /// ends.
    pub fn raise(&self, interrupts: impl IntoIterator<Item = Interrupt>) {
        let mut raised = self.raised.lock().unwrap_or_else(PoisonError::into_inner);
        for interrupt in interrupts {
            raised.retain(|r| r.id != interrupt.id);
            raised.push(interrupt);
        }
    }

    /// The responses whose interrupt id starts with `prefix`, as `(id, response)` sorted by id.
    pub fn responses_with_prefix(&self, prefix: &str) -> Vec<(String, Value)> {
        let mut found: Vec<(String, Value)> = self
            .responses
            .iter()
            .filter(|(id, _)| id.starts_with(prefix))
            .map(|(id, response)| (id.clone(), response.clone()))
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }

    /// The interrupts raised in this scope, in the order they were raised.
    pub fn take_raised(&self) -> Vec<Interrupt> {
        std::mem::take(&mut *self.raised.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_python() {
        // f"v1:tool_call:t1:{uuid.uuid5(uuid.NAMESPACE_OID, 'approve')}"
        assert_eq!(
            Interrupt::id_for("tool_call", "t1", "approve"),
            "v1:tool_call:t1:5cf56bed-067e-5438-a1ef-dbfa3405e45d"
        );
    }
}
