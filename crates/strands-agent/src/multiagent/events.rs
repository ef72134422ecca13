//! Events a swarm or graph streams while it runs.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use strands_core::Interrupt;

use super::{MultiAgentResult, NodeResult};
use crate::AgentEvent;

/// What kind of executor a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum NodeType {
    /// An [`Agent`](crate::Agent): `"agent"`.
    Agent,
    /// A nested swarm or graph: `"multiagent"`.
    MultiAgent,
}

/// An event of the executor a node runs, forwarded in [`MultiAgentEvent::NodeStream`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum NodeEvent {
    /// An agent's event.
    Agent(AgentEvent),
    /// A nested swarm's or graph's event.
    MultiAgent(MultiAgentEvent),
}

/// One event of a swarm's or graph's stream.
///
/// Each variant serializes to the dict Python Strands' multi-agent `stream_async` yields, keyed
/// by `"type"`: `multiagent_node_start`, `multiagent_node_stream` (an agent's event, nested under
/// `"event"`; a nested swarm's or graph's events nest the same way), `multiagent_node_stop`, `multiagent_handoff`, `multiagent_node_cancel`,
/// `multiagent_node_interrupt` and, always last, `multiagent_result`.
///
/// ```
/// use strands_agent::multiagent::MultiAgentEvent;
///
/// let event = MultiAgentEvent::Handoff {
///     from_node_ids: vec!["researcher".into()],
///     to_node_ids: vec!["writer".into()],
///     message: Some("Write it up.".into()),
/// };
/// assert_eq!(
///     serde_json::to_string(&event).unwrap(),
///     r#"{"type":"multiagent_handoff","from_node_ids":["researcher"],"to_node_ids":["writer"],"message":"Write it up."}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MultiAgentEvent {
    /// A node starts.
    NodeStart {
        /// The node.
        node_id: String,
        /// What it runs.
        node_type: NodeType,
    },
    /// An event of the agent (or nested swarm or graph) a node runs.
    NodeStream {
        /// The node.
        node_id: String,
        /// The executor's event.
        event: Box<NodeEvent>,
    },
    /// A node finished (completed, failed or interrupted).
    NodeStop {
        /// The node.
        node_id: String,
        /// Its result.
        node_result: Box<NodeResult>,
    },
    /// Control passes between nodes: a swarm handoff, or a graph's next batch.
    Handoff {
        /// The nodes that finished.
        from_node_ids: Vec<String>,
        /// The nodes that start next.
        to_node_ids: Vec<String>,
        /// The handoff message (swarm).
        message: Option<String>,
    },
    /// A hook cancelled the node before it ran.
    NodeCancel {
        /// The node.
        node_id: String,
        /// Why.
        message: String,
    },
    /// A node paused for human input.
    NodeInterrupt {
        /// The node.
        node_id: String,
        /// What it waits for.
        interrupts: Vec<Interrupt>,
    },
    /// The run's result, always last.
    Result(Box<MultiAgentResult>),
}

const _: () = assert!(
    std::mem::size_of::<MultiAgentEvent>() <= 80,
    "MultiAgentEvent grew: box the new large payload"
);

impl Serialize for MultiAgentEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            Self::NodeStart { node_id, node_type } => {
                map.serialize_entry("type", "multiagent_node_start")?;
                map.serialize_entry("node_id", node_id)?;
                map.serialize_entry("node_type", node_type)?;
            }
            Self::NodeStream { node_id, event } => {
                map.serialize_entry("type", "multiagent_node_stream")?;
                map.serialize_entry("node_id", node_id)?;
                map.serialize_entry("event", event)?;
            }
            Self::NodeStop {
                node_id,
                node_result,
            } => {
                map.serialize_entry("type", "multiagent_node_stop")?;
                map.serialize_entry("node_id", node_id)?;
                map.serialize_entry("node_result", node_result)?;
            }
            Self::Handoff {
                from_node_ids,
                to_node_ids,
                message,
            } => {
                map.serialize_entry("type", "multiagent_handoff")?;
                map.serialize_entry("from_node_ids", from_node_ids)?;
                map.serialize_entry("to_node_ids", to_node_ids)?;
                if let Some(message) = message {
                    map.serialize_entry("message", message)?;
                }
            }
            Self::NodeCancel { node_id, message } => {
                map.serialize_entry("type", "multiagent_node_cancel")?;
                map.serialize_entry("node_id", node_id)?;
                map.serialize_entry("message", message)?;
            }
            Self::NodeInterrupt {
                node_id,
                interrupts,
            } => {
                map.serialize_entry("type", "multiagent_node_interrupt")?;
                map.serialize_entry("node_id", node_id)?;
                map.serialize_entry("interrupts", interrupts)?;
            }
            Self::Result(result) => {
                map.serialize_entry("type", "multiagent_result")?;
                map.serialize_entry("result", result)?;
            }
        }
        map.end()
    }
}
