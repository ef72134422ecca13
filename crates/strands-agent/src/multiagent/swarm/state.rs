//! A swarm's state as Python persists it (`Swarm.serialize_state()` / `deserialize_state()`),
//! so a session moves between the stacks.

use std::time::Duration;

use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use strands_core::{ContentBlock, Message, Metrics, Usage};

use super::handoff::lock;
use super::{RunState, Swarm};
use crate::Agent;
use crate::interrupts::InterruptState;
use crate::multiagent::result::millis;
use crate::multiagent::{MultiAgentInput, NodeResult, Status};

/// Why a stored state cannot be restored.
pub(crate) type StateError = String;

pub(crate) fn invalid(what: impl std::fmt::Display) -> StateError {
    what.to_string()
}

impl Swarm {
    /// The state record Python's `serialize_state()` writes: where the run stands, what each
    /// node produced, which node runs next, the shared context and the interrupt state.
    pub fn serialize_state(&self) -> Value {
        let run = &self.run;
        let shared = lock(&self.shared);
        // Only a committed turn gives its handoff target the frontier; a handoff standing
        // mid-turn was inherited.
        let mut carries_handoff = false;
        let next: Vec<&str> = match run.status {
            Status::Executing if run.turn_committed => match &shared.handoff {
                Some(target) => {
                    carries_handoff = true;
                    vec![target]
                }
                None => Vec::new(),
            },
            Status::Executing | Status::Interrupted => vec![run.current.as_str()],
            _ => Vec::new(),
        };
        json!({
            "type": "swarm",
            "id": self.id,
            "status": run.status,
            "node_history": run.node_history,
            "node_results": run.results,
            "next_nodes_to_execute": next,
            "current_task": run.task,
            "accumulated_usage": run.usage,
            "accumulated_metrics": Metrics::new(run.latency_ms),
            "execution_time": millis(run.elapsed()),
            "context": {
                "shared_context": shared.shared_context,
                "handoff_node": if carries_handoff { None } else { shared.handoff.as_deref() },
                "handoff_message": shared.handoff_message,
            },
            "_internal_state": {"interrupt_state": self.interrupts.to_value()},
        })
    }

    /// Python's `deserialize_state()`: resumes from the stored frontier, or, when there is none
    /// (the run finished) or it names a node this swarm lacks, starts the next invocation afresh.
    ///
    /// Fails with what is malformed in the record.
    pub(crate) fn restore_state(&mut self, state: &Value) -> Result<(), StateError> {
        if let Some(interrupts) = state.pointer("/_internal_state/interrupt_state") {
            self.interrupts = InterruptState::from_session(interrupts.clone()).map_err(invalid)?;
        }
        let next = state["next_nodes_to_execute"]
            .as_array()
            .and_then(|n| n.first())
            .and_then(Value::as_str)
            .filter(|id| self.nodes.contains_key(*id))
            .map(str::to_owned);
        let Some(next) = next else {
            self.reset_for_fresh_run();
            return Ok(());
        };
        self.run = self.restored_run(state, next)?;
        self.restore_context(&state["context"]);
        self.restore_interrupted_nodes()?;
        self.resume_from_session = true;
        Ok(())
    }

    fn reset_for_fresh_run(&mut self) {
        self.interrupts = InterruptState::default();
        for node in self.nodes.values_mut() {
            node.reset();
        }
        lock(&self.shared).shared_context.clear();
        self.run = RunState::new(
            MultiAgentInput::Text(String::new()),
            self.entry_point.clone(),
        );
        self.resume_from_session = false;
    }

    fn restored_run(&self, state: &Value, current: String) -> Result<RunState, StateError> {
        let status: Status = serde_json::from_value(state["status"].clone()).map_err(invalid)?;
        let mut run = RunState::new(task(&state["current_task"])?, current);
        run.status = status;
        run.node_history = strings(&state["node_history"])
            .filter(|id| self.nodes.contains_key(*id))
            .map(str::to_owned)
            .collect();
        for (id, result) in state["node_results"].as_object().into_iter().flatten() {
            if self.nodes.contains_key(id) {
                run.results
                    .insert(id.clone(), NodeResult::from_python(result)?);
            }
        }
        run.usage = usage(&state["accumulated_usage"]);
        run.latency_ms = state["accumulated_metrics"]["latencyMs"]
            .as_u64()
            .unwrap_or(0);
        run.execution_time = Duration::from_millis(state["execution_time"].as_u64().unwrap_or(0));
        Ok(run)
    }

    /// The shared context, handoff target and message, for nodes this swarm still has.
    fn restore_context(&mut self, context: &Value) {
        let mut shared = lock(&self.shared);
        shared.shared_context = context["shared_context"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(id, _)| self.nodes.contains_key(*id))
            .filter_map(|(id, entries)| Some((id.clone(), entries.as_object()?.clone())))
            .collect::<IndexMap<String, Map<String, Value>>>();
        let handoff = context["handoff_node"].as_str();
        shared.handoff = handoff
            .filter(|id| self.nodes.contains_key(*id))
            .map(str::to_owned);
        let vanished = handoff.is_some() && shared.handoff.is_none();
        shared.handoff_message = context["handoff_message"]
            .as_str()
            .filter(|_| !vanished)
            .map(str::to_owned);
    }

    /// Gives each interrupted node's agent back the history, state and interrupt state it paused
    /// with (Python restores them when the node runs again).
    fn restore_interrupted_nodes(&mut self) -> Result<(), StateError> {
        if !self.interrupts.activated {
            return Ok(());
        }
        for (id, saved) in &self.interrupts.context {
            if let Some(node) = self.nodes.get_mut(id) {
                restore_paused_agent(&mut node.agent, saved)?;
            }
        }
        Ok(())
    }
}

/// Gives `agent` back the history, state and interrupt state it paused with, as the swarm or
/// graph saved them when the interrupt was raised (Python's `reset_executor_state` on resume).
pub(crate) fn restore_paused_agent(agent: &mut Agent, saved: &Value) -> Result<(), StateError> {
    agent.messages =
        serde_json::from_value::<Vec<Message>>(saved["messages"].clone()).map_err(invalid)?;
    if let Some(state) = saved["state"].as_object() {
        agent.state().replace(state.clone());
    }
    agent.interrupts =
        InterruptState::from_session(saved["interrupt_state"].clone()).map_err(invalid)?;
    Ok(())
}

pub(crate) fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

pub(crate) fn task(value: &Value) -> Result<MultiAgentInput, StateError> {
    match value {
        Value::String(text) => Ok(MultiAgentInput::Text(text.clone())),
        Value::Array(_) => serde_json::from_value::<Vec<ContentBlock>>(value.clone())
            .map(MultiAgentInput::Content)
            .map_err(invalid),
        _ => Ok(MultiAgentInput::Text(String::new())),
    }
}

pub(crate) fn usage(value: &Value) -> Usage {
    serde_json::from_value(value.clone()).unwrap_or_default()
}
