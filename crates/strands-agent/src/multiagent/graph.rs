//! [`Graph`]: agents, swarms and graphs wired by edges, as Python Strands' `Graph`.

mod input;
mod run;
mod state;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt;
use indexmap::{IndexMap, IndexSet};
use serde_json::{Map, Value};
use strands_core::{Message, Metrics, Usage};
use tokio::time::Instant;

use super::{
    MultiAgentBuildError, MultiAgentError, MultiAgentEvent, MultiAgentInput, MultiAgentResult,
    NodeResult, Status, Swarm,
};
use crate::Agent;
use crate::interrupts::InterruptState;
use crate::session::SessionManager;

/// Decides whether an edge is followed, from the graph's state when its source node finished.
pub type EdgeCondition = Arc<dyn Fn(&GraphState) -> bool + Send + Sync>;

/// What a graph node runs.
#[non_exhaustive]
pub enum NodeExecutor {
    /// An agent.
    Agent(Box<Agent>),
    /// A swarm.
    Swarm(Box<Swarm>),
    /// A graph.
    Graph(Box<Graph>),
}

impl fmt::Debug for NodeExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Agent(agent) => f.debug_tuple("Agent").field(&agent.name()).finish(),
            Self::Swarm(swarm) => f.debug_tuple("Swarm").field(&swarm.id()).finish(),
            Self::Graph(graph) => f.debug_tuple("Graph").field(&graph.id()).finish(),
        }
    }
}

impl NodeExecutor {
    /// The id a node gets when none is given: the agent's name, the swarm's or graph's id.
    fn default_id(&self) -> &str {
        match self {
            Self::Agent(agent) => agent.name(),
            Self::Swarm(swarm) => swarm.id(),
            Self::Graph(graph) => graph.id(),
        }
    }

    /// The agent, when the node runs one.
    pub fn as_agent(&self) -> Option<&Agent> {
        match self {
            Self::Agent(agent) => Some(agent),
            _ => None,
        }
    }
}

impl From<Agent> for NodeExecutor {
    fn from(agent: Agent) -> Self {
        Self::Agent(Box::new(agent))
    }
}

impl From<Swarm> for NodeExecutor {
    fn from(swarm: Swarm) -> Self {
        Self::Swarm(Box::new(swarm))
    }
}

impl From<Graph> for NodeExecutor {
    fn from(graph: Graph) -> Self {
        Self::Graph(Box::new(graph))
    }
}

/// A node and what it is reset to on a revisit (agents only).
struct GraphNode {
    executor: NodeExecutor,
    initial_messages: Vec<Message>,
    initial_state: Map<String, Value>,
}

impl GraphNode {
    fn new(executor: NodeExecutor) -> Self {
        let (initial_messages, initial_state) = match &executor {
            NodeExecutor::Agent(agent) => (agent.messages().to_vec(), agent.state().to_map()),
            _ => (Vec::new(), Map::new()),
        };
        Self {
            executor,
            initial_messages,
            initial_state,
        }
    }

    fn reset(&mut self) {
        if let NodeExecutor::Agent(agent) = &mut self.executor {
            agent.messages.clone_from(&self.initial_messages);
            agent.state().replace(self.initial_state.clone());
        }
    }
}

/// A directed edge, followed when its condition (if any) holds.
#[derive(Clone)]
struct GraphEdge {
    from: String,
    to: String,
    condition: Option<EdgeCondition>,
}

impl GraphEdge {
    fn traversable(&self, state: &GraphState) -> bool {
        self.condition.as_ref().is_none_or(|c| c(state))
    }
}

/// A graph run's progress, as edge conditions see it.
///
/// Python: `strands.multiagent.graph.GraphState`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GraphState {
    /// The task.
    pub task: MultiAgentInput,
    /// Where the run stands.
    pub status: Status,
    /// Nodes that completed (and were not revisited since, with reset on revisit).
    pub completed_nodes: IndexSet<String>,
    /// Nodes that failed.
    pub failed_nodes: IndexSet<String>,
    /// Nodes waiting for interrupt responses.
    pub interrupted_nodes: IndexSet<String>,
    /// Node runs that finished, in order (a node appears once per run).
    pub execution_order: Vec<String>,
    /// Each node's latest result.
    pub results: IndexMap<String, NodeResult>,
    /// Tokens used by the nodes that finished.
    pub accumulated_usage: Usage,
    /// Model latency of the nodes that finished.
    pub accumulated_metrics: Metrics,
    /// Node runs, counting those inside nested swarms and graphs.
    pub execution_count: u64,
    /// Time of the finished invocations.
    pub execution_time: Duration,
    active_since: Option<Instant>,
}

impl Default for GraphState {
    fn default() -> Self {
        Self {
            task: MultiAgentInput::Text(String::new()),
            status: Status::Pending,
            completed_nodes: IndexSet::new(),
            failed_nodes: IndexSet::new(),
            interrupted_nodes: IndexSet::new(),
            execution_order: Vec::new(),
            results: IndexMap::new(),
            accumulated_usage: Usage::default(),
            accumulated_metrics: Metrics::default(),
            execution_count: 0,
            execution_time: Duration::ZERO,
            active_since: None,
        }
    }
}

impl GraphState {
    /// Time of the finished invocations plus the running one's so far.
    fn elapsed(&self) -> Duration {
        self.execution_time + self.active_since.map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// Records a node that finished (completed, or failed without an error), as Python's
    /// `_execute_node` does after the node's result. A node that completes is no longer failed:
    /// a run resumed after a failure completes when the failed node succeeds (Python keeps the
    /// node in `failed_nodes` and reports the resumed run as failed).
    fn record(&mut self, node_id: &str, result: NodeResult) {
        if result.status == Status::Failed {
            self.failed_nodes.insert(node_id.to_owned());
        } else {
            self.failed_nodes.shift_remove(node_id);
            self.completed_nodes.insert(node_id.to_owned());
        }
        self.accumulated_usage.accumulate(&result.accumulated_usage);
        self.accumulated_metrics.latency_ms += result.accumulated_metrics.latency_ms;
        self.execution_count += result.execution_count;
        self.execution_order.push(node_id.to_owned());
        self.results.insert(node_id.to_owned(), result);
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct GraphLimits {
    max_node_executions: Option<usize>,
    execution_timeout: Option<Duration>,
    node_timeout: Option<Duration>,
}

/// Agents (or swarms, or graphs) run in the order their edges give.
///
/// The entry points run first, on the task. When a batch of nodes has finished, every node one
/// of them points to, over an edge whose condition holds, is the next batch (any one satisfied
/// edge is enough), and its nodes run concurrently; each receives the task and the results of
/// the nodes it depends on. Cycles are allowed: bound them with
/// [`GraphBuilder::max_node_executions`] or [`GraphBuilder::execution_timeout`]. A node that
/// fails stops the run with [`MultiAgentError::NodeFailed`]; an interrupt inside a node pauses
/// the run until the next invocation answers it.
///
/// ```
/// use strands_agent::Agent;
/// use strands_agent::multiagent::{Graph, Status};
/// use strands_testkit::ScriptedModel;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let agent = |name: &str, answer: &str| {
///     Agent::builder()
///         .name(name)
///         .model(ScriptedModel::builder().text(answer).build())
///         .build()
/// };
/// let mut graph = Graph::builder()
///     .node(agent("research", "The Moon is 384,400 km away.")?)
///     .node(agent("report", "Report: the Moon is far.")?)
///     .edge("research", "report")
///     .max_node_executions(10)
///     .build()?;
/// let result = graph.invoke("How far is the Moon?").await?;
/// assert_eq!(result.status, Status::Completed);
/// assert_eq!(result.node_history, ["research", "report"]);
/// # Ok(())
/// # }
/// ```
///
/// Python: `strands.multiagent.Graph` (built with `GraphBuilder`).
pub struct Graph {
    id: String,
    nodes: IndexMap<String, GraphNode>,
    /// Node ids in order (kept apart from the nodes, which running nodes borrow).
    node_ids: Vec<String>,
    /// Each node's execution status.
    statuses: IndexMap<String, Status>,
    edges: Vec<GraphEdge>,
    entry_points: Vec<String>,
    limits: GraphLimits,
    reset_on_revisit: bool,
    state: GraphState,
    interrupts: InterruptState,
    session: Option<SessionManager>,
    resume_from_session: bool,
    resume_next: Vec<String>,
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("id", &self.id)
            .field(
                "nodes",
                &self
                    .nodes
                    .iter()
                    .map(|(id, n)| (id, &n.executor))
                    .collect::<Vec<_>>(),
            )
            .field(
                "edges",
                &self
                    .edges
                    .iter()
                    .map(|e| (&e.from, &e.to))
                    .collect::<Vec<_>>(),
            )
            .field("entry_points", &self.entry_points)
            .field("status", &self.state.status)
            .finish_non_exhaustive()
    }
}

impl Graph {
    /// Starts building a graph.
    pub fn builder() -> GraphBuilder {
        GraphBuilder::default()
    }

    /// The graph's id (default `"default_graph"`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The node ids, in the order they were added.
    pub fn node_ids(&self) -> impl Iterator<Item = &str> {
        self.node_ids.iter().map(String::as_str)
    }

    /// What node `node_id` runs.
    pub fn node(&self, node_id: &str) -> Option<&NodeExecutor> {
        self.nodes.get(node_id).map(|n| &n.executor)
    }

    /// The run's state (that of the last invocation, once it ended).
    pub fn state(&self) -> &GraphState {
        &self.state
    }

    /// The interrupts the graph is paused on (empty unless the last result's status was
    /// [`Status::Interrupted`]). Resume with their responses as the next task.
    pub fn pending_interrupts(&self) -> Vec<strands_core::Interrupt> {
        self.interrupts.pending()
    }

    /// Runs the graph on `task` to the end.
    ///
    /// # Errors
    ///
    /// [`MultiAgentError::NodeFailed`] when a node fails or times out (Python raises its
    /// exception), [`MultiAgentError::Resume`] for a task that does not fit the interrupt
    /// state, [`MultiAgentError::Session`] when the session cannot be written.
    pub async fn invoke(
        &mut self,
        task: impl Into<MultiAgentInput>,
    ) -> Result<MultiAgentResult, MultiAgentError> {
        let mut events = std::pin::pin!(self.stream(task));
        while let Some(event) = events.next().await {
            if let MultiAgentEvent::Result(result) = event? {
                return Ok(*result);
            }
        }
        Err(MultiAgentError::NoResult)
    }

    /// Runs the graph on `task`, streaming node starts and stops, the nodes' own events
    /// (interleaved when nodes run concurrently), batch transitions and, last, the result.
    /// Dropping the stream cancels the running nodes.
    pub fn stream(
        &mut self,
        task: impl Into<MultiAgentInput>,
    ) -> impl Stream<Item = Result<MultiAgentEvent, MultiAgentError>> + Send + '_ {
        self.run(task.into())
    }

    /// Restores the run from the session (or creates its record) now, instead of at the first
    /// invocation. Does nothing without a session manager or when done.
    ///
    /// # Errors
    ///
    /// [`MultiAgentError::Session`] when the session cannot be read or written,
    /// [`MultiAgentError::InvalidState`] when the stored state is malformed.
    pub async fn load_session(&mut self) -> Result<(), MultiAgentError> {
        if self.session.as_ref().is_none_or(SessionManager::is_loaded) {
            return Ok(());
        }
        let initial = self.serialize_state();
        let Some(session) = self.session.as_mut() else {
            return Ok(());
        };
        let Some(stored) = session.load_multi_agent(&self.id, &initial).await? else {
            return Ok(());
        };
        tracing::debug!(graph = %self.id, "restoring graph from session");
        self.restore_state(&stored)
            .map_err(|reason| MultiAgentError::InvalidState {
                id: self.id.clone(),
                reason,
            })
    }

    fn result(&self, interrupts: Vec<strands_core::Interrupt>) -> MultiAgentResult {
        let state = &self.state;
        MultiAgentResult {
            status: state.status,
            results: state.results.clone(),
            accumulated_usage: state.accumulated_usage,
            accumulated_metrics: state.accumulated_metrics,
            execution_count: state.execution_count,
            execution_time: state.elapsed(),
            interrupts,
            node_history: state.execution_order.clone(),
            graph: Some(super::GraphSummary {
                total_nodes: self.nodes.len(),
                completed_nodes: state.completed_nodes.len(),
                failed_nodes: state.failed_nodes.len(),
                interrupted_nodes: state.interrupted_nodes.len(),
                edges: self
                    .edges
                    .iter()
                    .map(|e| (e.from.clone(), e.to.clone()))
                    .collect(),
                entry_points: self.entry_points.clone(),
            }),
        }
    }
}

/// Builds a [`Graph`].
///
/// Python: `strands.multiagent.GraphBuilder`.
#[derive(Default)]
#[must_use]
pub struct GraphBuilder {
    nodes: Vec<(Option<String>, NodeExecutor)>,
    edges: Vec<(String, String, Option<EdgeCondition>)>,
    entry_points: Vec<String>,
    limits: GraphLimits,
    reset_on_revisit: bool,
    id: Option<String>,
    session: Option<SessionManager>,
}

impl fmt::Debug for GraphBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphBuilder")
            .field("nodes", &self.nodes)
            .field(
                "edges",
                &self
                    .edges
                    .iter()
                    .map(|(a, b, _)| (a, b))
                    .collect::<Vec<_>>(),
            )
            .field("entry_points", &self.entry_points)
            .finish_non_exhaustive()
    }
}

impl GraphBuilder {
    /// Adds a node: an [`Agent`] (its id is its name), a [`Swarm`] or a [`Graph`] (their id).
    pub fn node(mut self, executor: impl Into<NodeExecutor>) -> Self {
        self.nodes.push((None, executor.into()));
        self
    }

    /// Adds a node with the id `node_id`.
    pub fn node_with_id(
        mut self,
        node_id: impl Into<String>,
        executor: impl Into<NodeExecutor>,
    ) -> Self {
        self.nodes.push((Some(node_id.into()), executor.into()));
        self
    }

    /// An edge from `from` to `to`, always followed.
    pub fn edge(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.edges.push((from.into(), to.into(), None));
        self
    }

    /// An edge followed when `condition` holds for the graph's state.
    ///
    /// ```
    /// use strands_agent::multiagent::{Graph, GraphBuilder, GraphState};
    ///
    /// fn route(builder: GraphBuilder) -> GraphBuilder {
    ///     builder.conditional_edge("classify", "technical", |state: &GraphState| {
    ///         state.results.get("classify").is_some_and(|r| r.to_string().contains("technical"))
    ///     })
    /// }
    /// # let _ = route(Graph::builder());
    /// ```
    pub fn conditional_edge(
        mut self,
        from: impl Into<String>,
        to: impl Into<String>,
        condition: impl Fn(&GraphState) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.edges
            .push((from.into(), to.into(), Some(Arc::new(condition))));
        self
    }

    /// A node that runs first (default: every node without an incoming edge).
    pub fn entry_point(mut self, node_id: impl Into<String>) -> Self {
        self.entry_points.push(node_id.into());
        self
    }

    /// Resets an agent node to its initial history and state each time it runs again.
    pub fn reset_on_revisit(mut self, enabled: bool) -> Self {
        self.reset_on_revisit = enabled;
        self
    }

    /// Node runs after which the graph stops as failed (default: none).
    pub fn max_node_executions(mut self, max: usize) -> Self {
        self.limits.max_node_executions = Some(max);
        self
    }

    /// Total time after which no further batch starts (default: none).
    pub fn execution_timeout(mut self, timeout: Duration) -> Self {
        self.limits.execution_timeout = Some(timeout);
        self
    }

    /// Time after which a node fails the graph (default: none).
    pub fn node_timeout(mut self, timeout: Duration) -> Self {
        self.limits.node_timeout = Some(timeout);
        self
    }

    /// The graph's id (default `"default_graph"`).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Persists the graph's state in a session, in Python's layout, as
    /// [`SwarmBuilder::session_manager`](super::SwarmBuilder::session_manager) does.
    pub fn session_manager(mut self, session: SessionManager) -> Self {
        self.session = Some(session);
        self
    }

    /// Builds the graph.
    ///
    /// # Errors
    ///
    /// [`MultiAgentBuildError`] for no nodes, duplicate ids, an edge or entry point naming no
    /// node, no entry point (every node has an incoming edge), or an agent that persists its own
    /// session.
    pub fn build(self) -> Result<Graph, MultiAgentBuildError> {
        let id = self.id.unwrap_or_else(|| "default_graph".to_owned());
        crate::session::validate_id("multi-agent", &id)
            .map_err(|_| MultiAgentBuildError::InvalidId { id: id.clone() })?;
        let nodes = nodes(self.nodes)?;
        let edges = edges(self.edges, &nodes)?;
        let entry_points = entry_points(self.entry_points, &nodes, &edges)?;
        if self.limits.max_node_executions.is_none() && self.limits.execution_timeout.is_none() {
            tracing::warn!(graph = %id, "graph has no max_node_executions or execution_timeout set; execution is unbounded");
        }
        let node_ids: Vec<String> = nodes.keys().cloned().collect();
        Ok(Graph {
            id,
            statuses: node_ids
                .iter()
                .map(|id| (id.clone(), Status::Pending))
                .collect(),
            node_ids,
            nodes,
            edges,
            entry_points,
            limits: self.limits,
            reset_on_revisit: self.reset_on_revisit,
            state: GraphState::default(),
            interrupts: InterruptState::default(),
            session: self.session,
            resume_from_session: false,
            resume_next: Vec::new(),
        })
    }
}

fn nodes(
    added: Vec<(Option<String>, NodeExecutor)>,
) -> Result<IndexMap<String, GraphNode>, MultiAgentBuildError> {
    if added.is_empty() {
        return Err(MultiAgentBuildError::NoNodes);
    }
    let mut nodes = IndexMap::new();
    for (node_id, executor) in added {
        let node_id = node_id.unwrap_or_else(|| executor.default_id().to_owned());
        if let NodeExecutor::Agent(agent) = &executor
            && agent.session_manager().is_some()
        {
            return Err(MultiAgentBuildError::NodeWithSession { node_id });
        }
        if nodes.contains_key(&node_id) {
            return Err(MultiAgentBuildError::DuplicateNodeId { node_id });
        }
        nodes.insert(node_id, GraphNode::new(executor));
    }
    Ok(nodes)
}

/// The edges, each pair once (the first condition given wins, as in Python's edge set).
fn edges(
    added: Vec<(String, String, Option<EdgeCondition>)>,
    nodes: &IndexMap<String, GraphNode>,
) -> Result<Vec<GraphEdge>, MultiAgentBuildError> {
    let mut edges: Vec<GraphEdge> = Vec::new();
    for (from, to, condition) in added {
        for node_id in [&from, &to] {
            if !nodes.contains_key(node_id) {
                return Err(MultiAgentBuildError::UnknownNode {
                    node_id: node_id.clone(),
                });
            }
        }
        if !edges.iter().any(|e| e.from == from && e.to == to) {
            edges.push(GraphEdge {
                from,
                to,
                condition,
            });
        }
    }
    Ok(edges)
}

fn entry_points(
    given: Vec<String>,
    nodes: &IndexMap<String, GraphNode>,
    edges: &[GraphEdge],
) -> Result<Vec<String>, MultiAgentBuildError> {
    let mut entry_points: Vec<String> = Vec::new();
    for node_id in given {
        if !nodes.contains_key(&node_id) {
            return Err(MultiAgentBuildError::UnknownEntryPoint {
                node_id,
                available: nodes.keys().cloned().collect(),
            });
        }
        if !entry_points.contains(&node_id) {
            entry_points.push(node_id);
        }
    }
    if entry_points.is_empty() {
        entry_points = nodes
            .keys()
            .filter(|id| !edges.iter().any(|e| &e.to == *id))
            .cloned()
            .collect();
    }
    if entry_points.is_empty() {
        return Err(MultiAgentBuildError::NoEntryPoints);
    }
    Ok(entry_points)
}
