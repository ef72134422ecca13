//! What a multi-agent run returns: per-node results and the run's totals, serialized as Python's
//! `NodeResult.to_dict()` / `MultiAgentResult.to_dict()`.

use std::fmt;
use std::time::Duration;

use indexmap::IndexMap;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use strands_core::{Interrupt, Message, Metrics, Usage};

use crate::AgentResult;

/// Where a multi-agent run or one of its nodes stands.
///
/// Python: `strands.multiagent.base.Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Status {
    /// Not started.
    Pending,
    /// Scheduled, not yet running.
    Dispatched,
    /// Running.
    Executing,
    /// Finished.
    Completed,
    /// Stopped on an error, a limit or a timeout.
    Failed,
    /// Paused for human input.
    Interrupted,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pending => "pending",
            Self::Dispatched => "dispatched",
            Self::Executing => "executing",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        })
    }
}

/// What one node produced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NodeOutput {
    /// An agent's result.
    Agent(Box<AgentResult>),
    /// A nested swarm's or graph's result.
    MultiAgent(Box<MultiAgentResult>),
    /// The node failed with this error.
    Failed {
        /// The error's message.
        message: String,
    },
}

impl fmt::Display for NodeOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Agent(result) => result.fmt(f),
            Self::MultiAgent(result) => result.fmt(f),
            Self::Failed { message } => f.write_str(message),
        }
    }
}

/// Python's `AgentResult.to_dict()`, `MultiAgentResult.to_dict()` or an exception's record.
impl Serialize for NodeOutput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Agent(result) => {
                let mut map = serializer.serialize_map(Some(4))?;
                map.serialize_entry("type", "agent_result")?;
                map.serialize_entry("message", &result.message)?;
                map.serialize_entry("stop_reason", &result.stop_reason)?;
                map.serialize_entry("checkpoint", &())?;
                map.end()
            }
            Self::MultiAgent(result) => PythonDict(result).serialize(serializer),
            Self::Failed { message } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("type", "exception")?;
                map.serialize_entry("message", message)?;
                map.end()
            }
        }
    }
}

/// One node's outcome: what it produced, its status, time and cost.
///
/// Python: `strands.multiagent.base.NodeResult`. Its usage and latency are the agent's lifetime
/// totals, as in Python (a node that runs twice reports both runs the second time).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NodeResult {
    /// What the node produced.
    pub result: NodeOutput,
    /// How long the node ran (serialized in whole milliseconds).
    pub execution_time: Duration,
    /// How the node ended.
    pub status: Status,
    /// Tokens used by the node's agent.
    pub accumulated_usage: Usage,
    /// Model latency of the node's agent.
    pub accumulated_metrics: Metrics,
    /// How many times the node ran (1 for an agent node).
    pub execution_count: u64,
    /// What the node waits for, when it was interrupted.
    pub interrupts: Vec<Interrupt>,
}

impl NodeResult {
    /// A failed node's result (Python's usage is zero and its latency the wall time).
    pub(crate) fn failed(message: String, execution_time: Duration) -> Self {
        Self {
            result: NodeOutput::Failed { message },
            execution_time,
            status: Status::Failed,
            accumulated_usage: Usage::default(),
            accumulated_metrics: Metrics::new(millis(execution_time)),
            execution_count: 1,
            interrupts: Vec::new(),
        }
    }
}

impl NodeResult {
    /// Python's `NodeResult.from_dict`: a node result as a session stores it.
    pub(crate) fn from_python(value: &Value) -> Result<Self, String> {
        let raw = &value["result"];
        let result = match raw["type"].as_str() {
            Some("agent_result") => {
                let message: Message =
                    serde_json::from_value(raw["message"].clone()).map_err(|e| e.to_string())?;
                let stop_reason = serde_json::from_value(raw["stop_reason"].clone())
                    .map_err(|e| e.to_string())?;
                NodeOutput::Agent(Box::new(AgentResult {
                    stop_reason,
                    message,
                    usage: Usage::default(),
                    cycle_count: 0,
                    interrupts: Vec::new(),
                    structured_output: None,
                }))
            }
            Some("multiagent_result") => {
                NodeOutput::MultiAgent(Box::new(MultiAgentResult::from_python(raw)?))
            }
            Some("exception") => NodeOutput::Failed {
                message: raw["message"].as_str().unwrap_or("node failed").to_owned(),
            },
            other => return Err(format!("unsupported node result type {other:?}")),
        };
        Ok(Self {
            result,
            execution_time: Duration::from_millis(value["execution_time"].as_u64().unwrap_or(0)),
            status: serde_json::from_value(value["status"].clone()).unwrap_or(Status::Pending),
            accumulated_usage: serde_json::from_value(value["accumulated_usage"].clone())
                .unwrap_or_default(),
            accumulated_metrics: latency(value),
            execution_count: value["execution_count"].as_u64().unwrap_or(0),
            interrupts: serde_json::from_value(value["interrupts"].clone()).unwrap_or_default(),
        })
    }

    /// The agent results of this node, nested results flattened in order (Python's
    /// `get_agent_results()`).
    pub fn agent_results(&self) -> Vec<&AgentResult> {
        match &self.result {
            NodeOutput::Agent(result) => vec![result],
            NodeOutput::MultiAgent(result) => result
                .results
                .values()
                .flat_map(NodeResult::agent_results)
                .collect(),
            NodeOutput::Failed { .. } => Vec::new(),
        }
    }
}

impl fmt::Display for NodeResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.result.fmt(f)
    }
}

impl Serialize for NodeResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(7))?;
        map.serialize_entry("result", &self.result)?;
        map.serialize_entry("execution_time", &millis(self.execution_time))?;
        map.serialize_entry("status", &self.status)?;
        map.serialize_entry("accumulated_usage", &self.accumulated_usage)?;
        map.serialize_entry("accumulated_metrics", &self.accumulated_metrics)?;
        map.serialize_entry("execution_count", &self.execution_count)?;
        map.serialize_entry("interrupts", &self.interrupts)?;
        map.end()
    }
}

/// The outcome of a swarm or graph run.
///
/// `Display` renders Python's `str(result)`: the interrupts if any, else one `node: text` line
/// per node that produced text. Serializes as Python's `to_dict()`, plus `node_history` for a
/// swarm.
///
/// Python: `strands.multiagent.base.MultiAgentResult` (and `SwarmResult`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MultiAgentResult {
    /// How the run ended.
    pub status: Status,
    /// Each node's latest result, in the order the nodes first ran.
    pub results: IndexMap<String, NodeResult>,
    /// Tokens used by the nodes that completed.
    pub accumulated_usage: Usage,
    /// Model latency of the nodes that completed.
    pub accumulated_metrics: Metrics,
    /// Node runs that completed.
    pub execution_count: u64,
    /// How long the run took, over all of its invocations.
    pub execution_time: Duration,
    /// What the run waits for, when it was interrupted.
    pub interrupts: Vec<Interrupt>,
    /// The nodes that completed, in the order they ran (a swarm's `node_history`, a graph's
    /// `execution_order`).
    pub node_history: Vec<String>,
    /// What only a graph's result has.
    pub graph: Option<GraphSummary>,
}

/// The graph-only part of a [`MultiAgentResult`] (Python's `GraphResult` fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct GraphSummary {
    /// Nodes in the graph.
    pub total_nodes: usize,
    /// Nodes that completed.
    pub completed_nodes: usize,
    /// Nodes that failed.
    pub failed_nodes: usize,
    /// Nodes waiting for interrupt responses.
    pub interrupted_nodes: usize,
    /// The edges, as `(from, to)` node ids.
    pub edges: Vec<(String, String)>,
    /// The nodes that run first.
    pub entry_points: Vec<String>,
}

impl MultiAgentResult {
    /// Python's `MultiAgentResult.from_dict` (a nested swarm's or graph's result in a session).
    pub(crate) fn from_python(value: &Value) -> Result<Self, String> {
        let mut results = IndexMap::new();
        for (id, result) in value["results"].as_object().into_iter().flatten() {
            results.insert(id.clone(), NodeResult::from_python(result)?);
        }
        Ok(Self {
            status: serde_json::from_value(value["status"].clone()).map_err(|e| e.to_string())?,
            results,
            accumulated_usage: serde_json::from_value(value["accumulated_usage"].clone())
                .unwrap_or_default(),
            accumulated_metrics: latency(value),
            execution_count: value["execution_count"].as_u64().unwrap_or(0),
            execution_time: Duration::from_millis(value["execution_time"].as_u64().unwrap_or(0)),
            interrupts: serde_json::from_value(value["interrupts"].clone()).unwrap_or_default(),
            node_history: Vec::new(),
            graph: None,
        })
    }

    /// The result of the node `node_id`.
    pub fn node(&self, node_id: &str) -> Option<&NodeResult> {
        self.results.get(node_id)
    }
}

impl fmt::Display for MultiAgentResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.interrupts.is_empty() {
            let json = serde_json::to_value(&self.interrupts).map_err(|_| fmt::Error)?;
            return f.write_str(&crate::pydantic::python_repr(&json));
        }
        let mut first = true;
        for (node_id, result) in &self.results {
            let text = result.to_string();
            let text = text.strip_suffix('\n').unwrap_or(&text);
            if text.is_empty() {
                continue;
            }
            if !first {
                f.write_str("\n")?;
            }
            first = false;
            write!(f, "{node_id}: {text}")?;
        }
        Ok(())
    }
}

/// Exactly Python's `MultiAgentResult.to_dict()`: how a nested result is stored.
struct PythonDict<'a>(&'a MultiAgentResult);

impl PythonDict<'_> {
    fn entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        let result = self.0;
        map.serialize_entry("type", "multiagent_result")?;
        map.serialize_entry("status", &result.status)?;
        map.serialize_entry("results", &result.results)?;
        map.serialize_entry("accumulated_usage", &result.accumulated_usage)?;
        map.serialize_entry("accumulated_metrics", &result.accumulated_metrics)?;
        map.serialize_entry("execution_count", &result.execution_count)?;
        map.serialize_entry("execution_time", &millis(result.execution_time))?;
        map.serialize_entry("interrupts", &result.interrupts)
    }
}

impl Serialize for PythonDict<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(8))?;
        self.entries(&mut map)?;
        map.end()
    }
}

/// Python's `to_dict()`, followed by what a swarm's (`node_history`) or a graph's result
/// (`execution_order`, the node counts, edges and entry points) holds besides.
impl Serialize for MultiAgentResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        PythonDict(self).entries(&mut map)?;
        match &self.graph {
            None => map.serialize_entry("node_history", &self.node_history)?,
            Some(graph) => {
                map.serialize_entry("execution_order", &self.node_history)?;
                map.serialize_entry("total_nodes", &graph.total_nodes)?;
                map.serialize_entry("completed_nodes", &graph.completed_nodes)?;
                map.serialize_entry("failed_nodes", &graph.failed_nodes)?;
                map.serialize_entry("interrupted_nodes", &graph.interrupted_nodes)?;
                map.serialize_entry("edges", &graph.edges)?;
                map.serialize_entry("entry_points", &graph.entry_points)?;
            }
        }
        map.end()
    }
}

fn latency(value: &Value) -> Metrics {
    Metrics::new(
        value["accumulated_metrics"]["latencyMs"]
            .as_u64()
            .unwrap_or(0),
    )
}

/// Whole milliseconds, rounded as Python's `round(seconds * 1000)`.
pub(crate) fn millis(duration: Duration) -> u64 {
    let millis = duration.as_secs_f64() * 1000.0;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a non-negative duration in ms fits u64"
    )]
    let rounded = millis.round_ties_even() as u64;
    rounded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_serializes_as_python_values() {
        assert_eq!(
            serde_json::to_string(&Status::Interrupted).ok().as_deref(),
            Some("\"interrupted\"")
        );
        assert_eq!(Status::Failed.to_string(), "failed");
    }

    #[test]
    fn display_skips_empty_nodes_and_one_trailing_newline() {
        let mut results = IndexMap::new();
        results.insert(
            "a".to_owned(),
            NodeResult::failed("boom\n\n".to_owned(), Duration::ZERO),
        );
        results.insert(
            "b".to_owned(),
            NodeResult::failed(String::new(), Duration::ZERO),
        );
        let result = MultiAgentResult {
            status: Status::Failed,
            results,
            accumulated_usage: Usage::default(),
            accumulated_metrics: Metrics::default(),
            execution_count: 0,
            execution_time: Duration::ZERO,
            interrupts: Vec::new(),
            node_history: Vec::new(),
            graph: None,
        };
        assert_eq!(result.to_string(), "a: boom\n");
    }

    #[test]
    fn millis_round_like_python() {
        assert_eq!(millis(Duration::from_micros(1_500)), 2);
        assert_eq!(millis(Duration::from_micros(2_500)), 2);
        assert_eq!(millis(Duration::from_micros(2_600)), 3);
    }
}
