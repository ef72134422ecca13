//! Several agents on one task, as in Python Strands' `strands.multiagent`: a [`Swarm`] (agents
//! hand the task to each other) or a [`Graph`] (agents, swarms and graphs wired by edges).
//!
//! A run streams [`MultiAgentEvent`]s (node starts and stops, each agent's own events wrapped
//! with its node id, handoffs) and ends with a [`MultiAgentResult`]: a [`NodeResult`] per node,
//! the run's [`Status`], usage and time. Both serialize as Python's dicts do.

mod events;
mod graph;
mod input;
mod result;
mod swarm;

pub use events::{MultiAgentEvent, NodeEvent, NodeType};
pub use graph::{EdgeCondition, Graph, GraphBuilder, GraphState, NodeExecutor};
pub use input::MultiAgentInput;
pub use result::{GraphSummary, MultiAgentResult, NodeOutput, NodeResult, Status};
pub use swarm::{Swarm, SwarmBuilder};

use crate::session::SessionError;
use crate::{BuildError, ResumeError};

/// Why a swarm or graph could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MultiAgentBuildError {
    /// No node was added.
    #[error("a multi-agent system needs at least one node; add one with `.node(agent)`")]
    NoNodes,
    /// Two nodes share an id (an agent's name).
    #[error("node id `{node_id}` is not unique; give each agent a unique name")]
    DuplicateNodeId {
        /// The repeated id.
        node_id: String,
    },
    /// The entry point names no node.
    #[error("entry point `{node_id}` is not a node; the nodes are {available:?}")]
    UnknownEntryPoint {
        /// The name given.
        node_id: String,
        /// The node ids.
        available: Vec<String>,
    },
    /// The id could escape a session directory.
    #[error(
        "multi-agent id {id:?} is invalid: use a non-empty id without path separators or control characters"
    )]
    InvalidId {
        /// The rejected id.
        id: String,
    },
    /// A node's agent persists its own session; the swarm resets it before each turn.
    #[error(
        "agent `{node_id}` has a session manager; swarm nodes cannot persist their own sessions, give the swarm one instead"
    )]
    NodeWithSession {
        /// The node.
        node_id: String,
    },
    /// A node's agent already has a tool with a name the swarm needs.
    #[error(
        "agent `{node_id}` already has a tool named `{tool}`, which the swarm adds for coordination; rename that tool"
    )]
    ReservedToolName {
        /// The node.
        node_id: String,
        /// The tool name.
        tool: &'static str,
    },
    /// An edge names a node the graph does not have.
    #[error("edge node `{node_id}` is not a node of the graph; add it with `.node(...)` first")]
    UnknownNode {
        /// The name given.
        node_id: String,
    },
    /// Every node has an incoming edge, so none can start.
    #[error(
        "no entry points found: every node has an incoming edge; name one with `.entry_point(...)`"
    )]
    NoEntryPoints,
    /// A node's agent refused the coordination tool.
    #[error("agent `{node_id}` cannot take the coordination tool")]
    Agent {
        /// The node.
        node_id: String,
        /// Why.
        #[source]
        source: BuildError,
    },
}

/// Why a swarm or graph invocation could not run.
///
/// Failures inside the run (a node's error, a limit, a timeout) are not errors: the result's
/// [`Status`] is [`Status::Failed`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MultiAgentError {
    /// The input does not fit the interrupt state: responses are required, not expected, or
    /// name an unknown interrupt.
    #[error(transparent)]
    Resume(#[from] ResumeError),
    /// The session could not be read or written.
    #[error("multi-agent session persistence failed")]
    Session(#[from] SessionError),
    /// The stored state cannot be restored.
    #[error("the stored state of {id:?} cannot be restored: {reason}")]
    InvalidState {
        /// The swarm's or graph's id.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A graph node failed or timed out, which fails the graph (Python raises the node's
    /// exception). The graph's state, and its session, hold the failed node's result.
    #[error("graph node `{node_id}` failed: {message}")]
    NodeFailed {
        /// The node.
        node_id: String,
        /// Its error.
        message: String,
    },
    /// The stream ended without a result (it was not polled to the end).
    #[error("the multi-agent stream ended without a result")]
    NoResult,
}

/// An error and its causes, `outer: inner: root`.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Checks `task` against the interrupt state of a swarm or graph: a paused run takes only the
/// answers (stored here), and answers are refused when nothing is paused. Returns whether the
/// run resumes from its interrupts.
pub(crate) fn resume_interrupts(
    interrupts: &mut crate::interrupts::InterruptState,
    task: &MultiAgentInput,
) -> Result<bool, MultiAgentError> {
    if interrupts.activated {
        let MultiAgentInput::InterruptResponses(responses) = task else {
            return Err(ResumeError::ResponsesRequired(interrupts.open_ids()).into());
        };
        interrupts.resume(responses)?;
        return Ok(true);
    }
    if matches!(task, MultiAgentInput::InterruptResponses(_)) {
        return Err(ResumeError::NotInterrupted.into());
    }
    Ok(false)
}
