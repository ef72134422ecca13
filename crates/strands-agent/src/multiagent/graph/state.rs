//! A graph's state as Python persists it (`Graph.serialize_state()` / `deserialize_state()`).

use std::collections::HashSet;
use std::time::Duration;

use indexmap::{IndexMap, IndexSet};
use serde_json::{Value, json};
use strands_core::Metrics;

use super::{Graph, GraphEdge, GraphState};
use crate::interrupts::InterruptState;
use crate::multiagent::result::millis;
use crate::multiagent::swarm::state::{
    StateError, invalid, restore_paused_agent, strings, task, usage,
};
use crate::multiagent::{NodeResult, Status};

/// What serializing a graph's state reads: every part but the nodes' executors, which running
/// nodes borrow.
pub(super) struct StateView<'a> {
    id: &'a str,
    node_ids: &'a [String],
    statuses: &'a IndexMap<String, Status>,
    edges: &'a [GraphEdge],
    state: &'a GraphState,
    interrupts: &'a InterruptState,
}

impl<'a> StateView<'a> {
    pub(super) fn of(
        id: &'a str,
        node_ids: &'a [String],
        statuses: &'a IndexMap<String, Status>,
        edges: &'a [GraphEdge],
        state: &'a GraphState,
        interrupts: &'a InterruptState,
    ) -> Self {
        Self {
            id,
            node_ids,
            statuses,
            edges,
            state,
            interrupts,
        }
    }

    /// Python's `Graph.serialize_state()`.
    pub(super) fn serialize(&self) -> Value {
        let state = self.state;
        json!({
            "type": "graph",
            "id": self.id,
            "status": state.status,
            "completed_nodes": state.completed_nodes,
            "failed_nodes": state.failed_nodes,
            "interrupted_nodes": state.interrupted_nodes,
            "node_results": state.results,
            "next_nodes_to_execute": self.ready_for_resume(),
            "current_task": state.task,
            "execution_order": state.execution_order,
            "accumulated_usage": state.accumulated_usage,
            "accumulated_metrics": state.accumulated_metrics,
            "execution_count": state.execution_count,
            "execution_time": millis(state.elapsed()),
            "_internal_state": {"interrupt_state": self.interrupts.to_value()},
        })
    }

    /// The nodes a resumed run starts with (Python's `_compute_ready_nodes_for_resume`): each
    /// node not completed whose traversable incoming edges from live sources all come from
    /// completed nodes, or that has no incoming edge at all.
    fn ready_for_resume(&self) -> Vec<&'a str> {
        if self.state.status == Status::Pending {
            return Vec::new();
        }
        let completed = &self.state.completed_nodes;
        let pending = self.pending_sources();
        self.node_ids
            .iter()
            .filter(|id| !completed.contains(*id))
            .filter(|id| {
                let incoming: Vec<&GraphEdge> =
                    self.edges.iter().filter(|e| &e.to == *id).collect();
                incoming.is_empty() || self.ready_on_resume(&incoming, &pending)
            })
            .map(String::as_str)
            .collect()
    }

    /// Not-yet-completed nodes that will run on resume: those in flight, and everything
    /// reachable from completed or in-flight nodes over traversable edges.
    fn pending_sources(&self) -> HashSet<&'a str> {
        let in_flight: Vec<&'a str> = self
            .statuses
            .iter()
            .filter(|(_, s)| matches!(s, Status::Executing | Status::Dispatched))
            .map(|(id, _)| id.as_str())
            .collect();
        let mut pending: HashSet<&'a str> = in_flight.iter().copied().collect();
        let mut visited: HashSet<&'a str> = self
            .state
            .completed_nodes
            .iter()
            .map(String::as_str)
            .chain(in_flight)
            .collect();
        let mut frontier: Vec<&'a str> = visited.iter().copied().collect();
        while let Some(source) = frontier.pop() {
            for edge in self.edges.iter().filter(|e| e.from == source) {
                let target = edge.to.as_str();
                if visited.contains(target) || !edge.traversable(self.state) {
                    continue;
                }
                visited.insert(target);
                pending.insert(target);
                frontier.push(target);
            }
        }
        pending
    }

    fn ready_on_resume(&self, incoming: &[&GraphEdge], pending: &HashSet<&str>) -> bool {
        let state = self.state;
        let live = |id: &str| {
            state.completed_nodes.contains(id)
                || state.interrupted_nodes.contains(id)
                || state.failed_nodes.contains(id)
                || pending.contains(id)
        };
        let relevant: Vec<&&GraphEdge> = incoming
            .iter()
            .filter(|e| e.traversable(state) && live(&e.from))
            .collect();
        !relevant.is_empty()
            && relevant
                .iter()
                .all(|e| state.completed_nodes.contains(&e.from))
    }
}

impl Graph {
    /// The state record Python's `serialize_state()` writes: the run's status, which nodes
    /// completed, failed or wait, their results, which nodes run next, the task and totals, and
    /// the interrupt state.
    pub fn serialize_state(&self) -> Value {
        StateView::of(
            &self.id,
            &self.node_ids,
            &self.statuses,
            &self.edges,
            &self.state,
            &self.interrupts,
        )
        .serialize()
    }

    /// Python's `deserialize_state()`: resumes from the stored next nodes, or, when there are
    /// none, resets every node and starts the next invocation afresh.
    pub(super) fn restore_state(&mut self, stored: &Value) -> Result<(), StateError> {
        if let Some(interrupts) = stored.pointer("/_internal_state/interrupt_state") {
            self.interrupts = InterruptState::from_session(interrupts.clone()).map_err(invalid)?;
        }
        let next: Vec<String> = strings(&stored["next_nodes_to_execute"])
            .filter(|id| self.nodes.contains_key(*id))
            .map(str::to_owned)
            .collect();
        if next.is_empty() {
            for node in self.nodes.values_mut() {
                node.reset();
            }
            self.statuses
                .values_mut()
                .for_each(|s| *s = Status::Pending);
            self.state = GraphState::default();
            self.resume_from_session = false;
            return Ok(());
        }
        self.state = self.restored_state(stored)?;
        for (ids, status) in [
            (&self.state.failed_nodes, Status::Failed),
            (&self.state.interrupted_nodes, Status::Interrupted),
            (&self.state.completed_nodes, Status::Completed),
        ] {
            for id in ids {
                self.statuses.insert(id.clone(), status);
            }
        }
        self.restore_interrupted_agents()?;
        self.resume_next = next;
        self.resume_from_session = true;
        Ok(())
    }

    fn restored_state(&self, stored: &Value) -> Result<GraphState, StateError> {
        let known = |key: &str| -> IndexSet<String> {
            strings(&stored[key])
                .filter(|id| self.nodes.contains_key(*id))
                .map(str::to_owned)
                .collect()
        };
        let mut results = IndexMap::new();
        for (id, result) in stored["node_results"].as_object().into_iter().flatten() {
            if self.nodes.contains_key(id) {
                results.insert(id.clone(), NodeResult::from_python(result)?);
            }
        }
        Ok(GraphState {
            task: task(&stored["current_task"])?,
            status: serde_json::from_value(stored["status"].clone()).map_err(invalid)?,
            completed_nodes: known("completed_nodes"),
            failed_nodes: known("failed_nodes"),
            interrupted_nodes: known("interrupted_nodes"),
            execution_order: strings(&stored["execution_order"])
                .filter(|id| self.nodes.contains_key(*id))
                .map(str::to_owned)
                .collect(),
            results,
            accumulated_usage: usage(&stored["accumulated_usage"]),
            accumulated_metrics: Metrics::new(
                stored["accumulated_metrics"]["latencyMs"]
                    .as_u64()
                    .unwrap_or(0),
            ),
            execution_count: stored["execution_count"].as_u64().unwrap_or(0),
            execution_time: Duration::from_millis(stored["execution_time"].as_u64().unwrap_or(0)),
            active_since: None,
        })
    }

    /// Gives each interrupted agent node back the history, state and interrupt state it paused
    /// with (Python restores them when building the node's input on resume).
    fn restore_interrupted_agents(&mut self) -> Result<(), StateError> {
        if !self.interrupts.activated {
            return Ok(());
        }
        let ids: Vec<String> = self.interrupts.context.keys().cloned().collect();
        for id in ids {
            self.restore_paused_node(&id)?;
        }
        Ok(())
    }

    /// Gives an interrupted agent node back what it paused with; nothing for other nodes.
    pub(super) fn restore_paused_node(&mut self, node_id: &str) -> Result<(), StateError> {
        let Some(saved) = self.interrupts.context.get(node_id) else {
            return Ok(());
        };
        let Some(super::NodeExecutor::Agent(agent)) =
            self.nodes.get_mut(node_id).map(|n| &mut n.executor)
        else {
            return Ok(());
        };
        if saved.get("messages").is_none() {
            return Ok(());
        }
        restore_paused_agent(agent, saved)
    }
}
