//! The `handoff_to_agent` tool every swarm node gets, and the state it shares with the swarm.

use std::sync::{Arc, Mutex, PoisonError};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};
use strands_core::ToolResult;

use crate::tools::FunctionTool;

/// The handoff tool's name (reserved in every node).
pub(crate) const HANDOFF_TOOL: &str = "handoff_to_agent";

/// Python's docstring, which becomes the tool's description.
const DESCRIPTION: &str = "Transfer control to another agent in the swarm for specialized help.\n\nReturns:\n    Confirmation of handoff initiation";

/// The part of a swarm's state its handoff tools write while a node runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Coordination {
    /// Every node id of the swarm.
    pub(crate) node_ids: Arc<[String]>,
    /// Handoffs are only taken while the swarm executes.
    pub(crate) executing: bool,
    /// The node running now (whose context a handoff records).
    pub(crate) current: String,
    /// The node to run next.
    pub(crate) handoff: Option<String>,
    /// The message for it.
    pub(crate) handoff_message: Option<String>,
    /// What nodes shared, by node id (kept across invocations, as in Python).
    pub(crate) shared_context: IndexMap<String, Map<String, Value>>,
}

/// The swarm's coordination state, shared with the handoff tool of each node.
pub(crate) type Shared = Arc<Mutex<Coordination>>;

pub(crate) fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Coordination> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Deserialize, JsonSchema)]
struct HandoffArgs {
    /// Name of the agent to hand off to
    agent_name: String,
    /// Message explaining what needs to be done and why you're handing off
    message: String,
    /// Additional context to share with the next agent
    #[serde(default)]
    context: Option<Map<String, Value>>,
}

/// Python's `handoff_to_agent`, bound to one swarm.
pub(crate) fn handoff_tool(shared: Shared) -> FunctionTool {
    FunctionTool::new(HANDOFF_TOOL, DESCRIPTION, move |args: HandoffArgs| {
        let result = hand_off(&shared, &args);
        async move { result }
    })
}

fn hand_off(shared: &Shared, args: &HandoffArgs) -> ToolResult {
    let mut state = lock(shared);
    if !state.node_ids.contains(&args.agent_name) {
        return ToolResult::error(
            "",
            format!("Error: Agent '{}' not found in swarm", args.agent_name),
        );
    }
    if !state.executing {
        tracing::debug!("ignoring handoff request: the swarm is not executing");
    } else if let Err(error) = record(&mut state, args) {
        return ToolResult::error("", format!("Error in handoff: {error}"));
    }
    ToolResult::success(
        "",
        format!("Handing off to {}: {}", args.agent_name, args.message),
    )
}

/// Sets the next node, then adds the context key by key; a blank key stops there, as Python's
/// `SharedContext.add_context` raises after the handoff is recorded.
fn record(state: &mut Coordination, args: &HandoffArgs) -> Result<(), &'static str> {
    tracing::debug!(from_node = %state.current, to_node = %args.agent_name, "handing off");
    state.handoff = Some(args.agent_name.clone());
    state.handoff_message = Some(args.message.clone());
    for (key, value) in args.context.iter().flatten() {
        if key.trim().is_empty() {
            return Err("Key cannot be empty");
        }
        let current = state.current.clone();
        state
            .shared_context
            .entry(current)
            .or_default()
            .insert(key.clone(), value.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shared() -> Shared {
        Arc::new(Mutex::new(Coordination {
            node_ids: Arc::from(vec!["a".to_owned(), "b".to_owned()]),
            executing: true,
            current: "a".to_owned(),
            ..Coordination::default()
        }))
    }

    fn args(value: Value) -> HandoffArgs {
        serde_json::from_value(value).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn records_the_handoff_and_its_context() {
        let shared = shared();
        let result = hand_off(
            &shared,
            &args(json!({"agent_name": "b", "message": "go", "context": {"k": 1}})),
        );
        assert!(!result.is_error());
        assert_eq!(result.content[0].as_text(), Some("Handing off to b: go"));
        let state = lock(&shared);
        assert_eq!(state.handoff.as_deref(), Some("b"));
        assert_eq!(state.shared_context["a"]["k"], json!(1));
    }

    #[test]
    fn unknown_agents_and_blank_keys_are_errors() {
        let shared = shared();
        let result = hand_off(&shared, &args(json!({"agent_name": "z", "message": "go"})));
        assert_eq!(
            result.content[0].as_text(),
            Some("Error: Agent 'z' not found in swarm")
        );
        assert_eq!(lock(&shared).handoff, None);
        let result = hand_off(
            &shared,
            &args(json!({"agent_name": "b", "message": "go", "context": {" ": 1}})),
        );
        assert_eq!(
            result.content[0].as_text(),
            Some("Error in handoff: Key cannot be empty")
        );
        assert_eq!(lock(&shared).handoff.as_deref(), Some("b"));
    }

    #[test]
    fn ignored_when_not_executing() {
        let shared = shared();
        lock(&shared).executing = false;
        let result = hand_off(&shared, &args(json!({"agent_name": "b", "message": "go"})));
        assert!(!result.is_error());
        assert_eq!(lock(&shared).handoff, None);
    }
}
