//! [`Swarm`]: agents that hand a task to each other, as Python Strands' `Swarm`.

mod context;
mod handoff;
pub(super) mod state;

use std::fmt;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt;
use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use strands_core::{ContentBlock, Message, Metrics, StopReason, Usage};
use tokio::time::Instant;

use self::context::{Peer, node_context};
use self::handoff::{Coordination, HANDOFF_TOOL, Shared, handoff_tool, lock};
use super::{
    MultiAgentBuildError, MultiAgentError, MultiAgentEvent, MultiAgentInput, MultiAgentResult,
    NodeEvent, NodeOutput, NodeResult, NodeType, Status, error_chain,
};
use crate::interrupts::InterruptState;
use crate::session::SessionManager;
use crate::{Agent, AgentEvent, AgentInput, AgentResult};

/// A team of agents that pass a task between themselves.
///
/// Every agent gets a `handoff_to_agent` tool. The entry agent (the first, unless
/// [`SwarmBuilder::entry_point`] names another) runs on the task; when it hands off, the named
/// agent runs next with the handoff message, the task, who worked on it so far and what they
/// shared; when an agent ends its turn without handing off, the swarm is done. Each agent starts
/// every turn from the history and state it had when the swarm was built.
///
/// Limits end the run as [`Status::Failed`]: the number of node runs (`max_handoffs`,
/// `max_iterations`), the total time (`execution_timeout`, checked between nodes), one node's
/// time (`node_timeout`), and ping-pong between too few agents (repetitive-handoff detection).
///
/// ```
/// use strands_agent::Agent;
/// use strands_agent::multiagent::{Status, Swarm};
/// use strands_testkit::ScriptedModel;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let researcher = Agent::builder()
///     .name("researcher")
///     .description("Finds facts.")
///     .model(
///         ScriptedModel::builder()
///             .tool_use("h1", "handoff_to_agent", r#"{"agent_name": "writer", "message": "Write it up."}"#)
///             .text("Handed off.")
///             .build(),
///     )
///     .build()?;
/// let writer = Agent::builder()
///     .name("writer")
///     .model(ScriptedModel::builder().text("The Moon is 384,400 km away.").build())
///     .build()?;
/// let mut swarm = Swarm::builder().node(researcher).node(writer).build()?;
/// let result = swarm.invoke("How far is the Moon?").await?;
/// assert_eq!(result.status, Status::Completed);
/// assert_eq!(result.node_history, ["researcher", "writer"]);
/// assert_eq!(result.to_string(), "researcher: Handed off.\nwriter: The Moon is 384,400 km away.");
/// # Ok(())
/// # }
/// ```
///
/// Python: `strands.multiagent.Swarm`.
pub struct Swarm {
    id: String,
    nodes: IndexMap<String, SwarmNode>,
    entry_point: String,
    limits: SwarmLimits,
    shared: Shared,
    run: RunState,
    interrupts: InterruptState,
    session: Option<SessionManager>,
    /// The next invocation continues the run restored from the session.
    resume_from_session: bool,
}

impl fmt::Debug for Swarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Swarm")
            .field("id", &self.id)
            .field("nodes", &self.nodes.keys().collect::<Vec<_>>())
            .field("entry_point", &self.entry_point)
            .field("limits", &self.limits)
            .field("status", &self.run.status)
            .finish_non_exhaustive()
    }
}

/// An agent of the swarm and what it is reset to before each of its turns.
struct SwarmNode {
    agent: Agent,
    initial_messages: Vec<Message>,
    initial_state: Map<String, Value>,
}

impl SwarmNode {
    fn reset(&mut self) {
        self.agent.messages.clone_from(&self.initial_messages);
        self.agent.state().replace(self.initial_state.clone());
    }
}

#[derive(Debug, Clone, Copy)]
struct SwarmLimits {
    max_handoffs: usize,
    max_iterations: usize,
    execution_timeout: Duration,
    node_timeout: Duration,
    repetition_window: usize,
    repetition_min_unique: usize,
}

impl Default for SwarmLimits {
    fn default() -> Self {
        Self {
            max_handoffs: 20,
            max_iterations: 20,
            execution_timeout: Duration::from_secs(900),
            node_timeout: Duration::from_secs(300),
            repetition_window: 0,
            repetition_min_unique: 0,
        }
    }
}

/// One invocation's progress (Python's `SwarmState`).
#[derive(Debug)]
struct RunState {
    task: MultiAgentInput,
    status: Status,
    current: String,
    node_history: Vec<String>,
    results: IndexMap<String, NodeResult>,
    usage: Usage,
    latency_ms: u64,
    /// Time of the invocations before this one (an interrupted run resumes its clock).
    execution_time: Duration,
    /// When the running invocation started.
    active_since: Option<Instant>,
    /// The running node's turn is done and its handoff stands (Python's `_turn.outcome`).
    turn_committed: bool,
}

impl RunState {
    fn new(task: MultiAgentInput, current: String) -> Self {
        Self {
            task,
            status: Status::Pending,
            current,
            node_history: Vec::new(),
            results: IndexMap::new(),
            usage: Usage::default(),
            latency_ms: 0,
            execution_time: Duration::ZERO,
            active_since: None,
            turn_committed: false,
        }
    }

    /// Time of the finished invocations plus the running one's so far.
    fn elapsed(&self) -> Duration {
        self.execution_time + self.active_since.map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// Why the swarm must stop before running another node, if it must.
    fn stop_reason(&self, limits: &SwarmLimits) -> Option<String> {
        let runs = self.node_history.len();
        if runs >= limits.max_handoffs {
            return Some(format!("Max handoffs reached: {}", limits.max_handoffs));
        }
        if runs >= limits.max_iterations {
            return Some(format!("Max iterations reached: {}", limits.max_iterations));
        }
        if self.elapsed() > limits.execution_timeout {
            return Some(format!(
                "Execution timed out: {:?}",
                limits.execution_timeout
            ));
        }
        let window = limits.repetition_window;
        if window > 0 && runs >= window {
            let mut recent: Vec<&String> = self.node_history[runs - window..].iter().collect();
            recent.sort_unstable();
            recent.dedup();
            if recent.len() < limits.repetition_min_unique {
                return Some(format!(
                    "Repetitive handoff: {} unique nodes out of {window} recent iterations",
                    recent.len()
                ));
            }
        }
        None
    }

    fn record(&mut self, node_id: &str, result: NodeResult) {
        if result.status != Status::Failed {
            self.usage.accumulate(&result.accumulated_usage);
            self.latency_ms += result.accumulated_metrics.latency_ms;
        }
        self.results.insert(node_id.to_owned(), result);
    }
}

/// How a node's turn ended.
enum Turn {
    Finished(Box<AgentResult>),
    /// The agent's error, with its causes.
    Failed(String),
    TimedOut,
}

/// Restores the handoff state a node's turn found unless the turn commits (Python's
/// `_rollback_uncommitted_turn`): a failed, timed-out or abandoned turn hands off nothing.
struct TurnGuard {
    shared: Shared,
    saved: Option<HandoffSnapshot>,
}

/// The handoff state as a turn found it.
struct HandoffSnapshot {
    handoff: Option<String>,
    message: Option<String>,
    context: IndexMap<String, Map<String, Value>>,
}

impl TurnGuard {
    fn begin(shared: &Shared) -> Self {
        let state = lock(shared);
        let saved = HandoffSnapshot {
            handoff: state.handoff.clone(),
            message: state.handoff_message.clone(),
            context: state.shared_context.clone(),
        };
        drop(state);
        Self {
            shared: shared.clone(),
            saved: Some(saved),
        }
    }

    fn commit(mut self) {
        self.saved = None;
    }
}

impl Drop for TurnGuard {
    fn drop(&mut self) {
        if let Some(saved) = self.saved.take() {
            let mut state = lock(&self.shared);
            state.handoff = saved.handoff;
            state.handoff_message = saved.message;
            state.shared_context = saved.context;
        }
    }
}

impl Swarm {
    /// Starts building a swarm.
    pub fn builder() -> SwarmBuilder {
        SwarmBuilder::default()
    }

    /// The swarm's id (default `"default_swarm"`), used by session persistence.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The node ids (the agents' names), in the order they were added.
    pub fn node_ids(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    /// The agent of node `node_id`.
    pub fn node(&self, node_id: &str) -> Option<&Agent> {
        self.nodes.get(node_id).map(|n| &n.agent)
    }

    /// How the last invocation ended (or stands, while it runs).
    pub fn status(&self) -> Status {
        self.run.status
    }

    /// The interrupts the swarm is paused on (empty unless the last result's status was
    /// [`Status::Interrupted`]). Resume with their responses as the next task.
    pub fn pending_interrupts(&self) -> Vec<strands_core::Interrupt> {
        self.interrupts.pending()
    }

    /// What the nodes shared through their handoffs, by node id. Kept from one invocation to
    /// the next, as in Python.
    pub fn shared_context(&self) -> IndexMap<String, Map<String, Value>> {
        lock(&self.shared).shared_context.clone()
    }

    /// Runs the swarm on `task` to the end.
    ///
    /// # Errors
    ///
    /// [`MultiAgentError::Resume`] when the swarm waits for interrupt responses and `task` is
    /// not those responses, or the other way round. Failures of nodes are not errors: they end
    /// the run with [`Status::Failed`].
    pub async fn invoke(
        &mut self,
        task: impl Into<MultiAgentInput>,
    ) -> Result<MultiAgentResult, MultiAgentError> {
        let mut events = pin!(self.stream(task));
        while let Some(event) = events.next().await {
            if let MultiAgentEvent::Result(result) = event? {
                return Ok(*result);
            }
        }
        Err(MultiAgentError::NoResult)
    }

    /// Runs the swarm on `task`, streaming node starts and stops, each agent's events, handoffs
    /// and, last, the result. Dropping the stream cancels the running node; a handoff it had
    /// requested is forgotten.
    pub fn stream(
        &mut self,
        task: impl Into<MultiAgentInput>,
    ) -> impl Stream<Item = Result<MultiAgentEvent, MultiAgentError>> + Send + '_ {
        let task = task.into();
        async_stream::stream! {
            if let Err(error) = self.load_session().await {
                yield Err(error);
                return;
            }
            if let Err(error) = self.begin(task) {
                yield Err(error);
                return;
            }
            let mut interrupts = Vec::new();
            while self.run.status == Status::Executing {
                if let Some(reason) = self.run.stop_reason(&self.limits) {
                    tracing::debug!(swarm = %self.id, %reason, "stopping the swarm");
                    self.run.status = Status::Failed;
                    break;
                }
                let node_id = self.run.current.clone();
                yield Ok(MultiAgentEvent::NodeStart { node_id: node_id.clone(), node_type: NodeType::Agent });
                let guard = TurnGuard::begin(&self.shared);
                let input = self.node_input(&node_id);
                let node_started = Instant::now();
                let deadline = node_started + self.limits.node_timeout;
                let mut turn = None;
                {
                    let Some(node) = self.nodes.get_mut(&node_id) else { break };
                    if !matches!(input, AgentInput::InterruptResponses(_)) {
                        node.reset();
                    }
                    let mut events = pin!(node.agent.stream(input));
                    loop {
                        let Ok(next) = tokio::time::timeout_at(deadline, events.next()).await else {
                            turn = Some(Turn::TimedOut);
                            break;
                        };
                        match next {
                            Some(Ok(AgentEvent::Result(result))) => {
                                turn = Some(Turn::Finished(result.clone()));
                                yield Ok(stream_event(&node_id, AgentEvent::Result(result)));
                            }
                            Some(Ok(event)) => yield Ok(stream_event(&node_id, event)),
                            Some(Err(error)) => {
                                turn = Some(Turn::Failed(error_chain(&error)));
                                break;
                            }
                            None => break,
                        }
                    }
                }
                let elapsed = node_started.elapsed();
                let result = match turn {
                    Some(Turn::TimedOut) => {
                        tracing::warn!(swarm = %self.id, node = %node_id, timeout = ?self.limits.node_timeout, "node timed out");
                        self.keep_resumable(&node_id);
                        self.run.status = Status::Failed;
                        break;
                    }
                    Some(Turn::Failed(message)) => {
                        tracing::warn!(swarm = %self.id, node = %node_id, error = %message, "node failed");
                        NodeResult::failed(message, elapsed)
                    }
                    None => NodeResult::failed(format!("Node '{node_id}' did not produce a result event"), elapsed),
                    Some(Turn::Finished(result)) => self.node_result(&node_id, result, elapsed),
                };
                let status = result.status;
                self.run.record(&node_id, result.clone());
                yield Ok(MultiAgentEvent::NodeStop { node_id: node_id.clone(), node_result: Box::new(result) });
                match status {
                    Status::Completed => {
                        self.interrupts.end_tool_cycle();
                        self.run.node_history.push(node_id.clone());
                        guard.commit();
                        self.run.turn_committed = true;
                        if let Err(error) = self.sync_session().await {
                            yield Err(error);
                            return;
                        }
                    }
                    Status::Interrupted => {
                        guard.commit();
                        self.run.turn_committed = true;
                        interrupts = self.activate_interrupt(&node_id);
                        yield Ok(MultiAgentEvent::NodeInterrupt { node_id, interrupts: interrupts.clone() });
                        break;
                    }
                    _ => {
                        drop(guard);
                        self.keep_resumable(&node_id);
                        self.run.status = Status::Failed;
                        break;
                    }
                }
                if let Some(event) = self.take_handoff(&node_id) {
                    yield Ok(event);
                } else {
                    self.run.status = Status::Completed;
                }
            }
            self.run.execution_time = self.run.elapsed();
            self.run.active_since = None;
            lock(&self.shared).executing = false;
            self.resume_from_session = false;
            if let Err(error) = self.sync_session().await {
                yield Err(error);
                return;
            }
            yield Ok(MultiAgentEvent::Result(Box::new(self.result(interrupts))));
        }
    }

    /// Restores the run from the session (or creates its record) now, instead of at the first
    /// invocation: Python's `initialize_multi_agent`, which runs when a swarm is constructed.
    /// Does nothing without a session manager or when done.
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
        tracing::debug!(swarm = %self.id, "restoring swarm from session");
        self.restore_state(&stored)
            .map_err(|reason| MultiAgentError::InvalidState {
                id: self.id.clone(),
                reason,
            })
    }

    /// Writes the state record (Python's `sync_multi_agent`, after each node and invocation).
    async fn sync_session(&self) -> Result<(), MultiAgentError> {
        let Some(session) = self.session.as_ref() else {
            return Ok(());
        };
        session
            .sync_multi_agent(&self.id, &self.serialize_state())
            .await?;
        Ok(())
    }

    /// Starts a fresh run, resumes an interrupted one with the responses in `task`, or continues
    /// the one restored from the session.
    fn begin(&mut self, task: MultiAgentInput) -> Result<(), MultiAgentError> {
        let resuming = super::resume_interrupts(&mut self.interrupts, &task)?;
        if !resuming && !self.resume_from_session {
            self.run = RunState::new(task, self.entry_point.clone());
            let mut shared = lock(&self.shared);
            shared.handoff = None;
            shared.handoff_message = None;
        }
        self.run.status = Status::Executing;
        self.run.turn_committed = false;
        self.run.active_since = Some(Instant::now());
        let mut shared = lock(&self.shared);
        shared.executing = true;
        shared.current.clone_from(&self.run.current);
        Ok(())
    }

    /// What the node runs on: the interrupt responses when it resumes, else its context and the
    /// task's blocks. Clears the handoff message it consumed.
    fn node_input(&self, node_id: &str) -> AgentInput {
        if self.interrupts.activated && self.node_was_interrupted(node_id) {
            let responses = self.interrupt_responses();
            return AgentInput::InterruptResponses(responses);
        }
        let peers: Vec<Peer<'_>> = self
            .nodes
            .iter()
            .map(|(id, node)| Peer {
                id,
                description: node.agent.description(),
            })
            .collect();
        let mut shared = lock(&self.shared);
        shared.current = node_id.to_owned();
        let text = node_context(
            node_id,
            &self.run.task,
            &self.run.node_history,
            &shared,
            &peers,
        );
        shared.handoff_message = None;
        let mut blocks = vec![ContentBlock::Text(text)];
        blocks.extend_from_slice(self.run.task.blocks());
        AgentInput::Content(blocks)
    }

    /// A node that failed while resuming from its interrupt goes back to where it paused, so
    /// that the same answers resume it again (the swarm stays paused on them, as Python's).
    fn keep_resumable(&mut self, node_id: &str) {
        if !(self.interrupts.activated && self.node_was_interrupted(node_id)) {
            return;
        }
        let (Some(node), Some(saved)) = (
            self.nodes.get_mut(node_id),
            self.interrupts.context.get(node_id),
        ) else {
            return;
        };
        if let Err(reason) = state::restore_paused_agent(&mut node.agent, saved) {
            tracing::warn!(swarm = %self.id, node = %node_id, %reason, "the node cannot go back to its interrupt");
        }
    }

    fn node_was_interrupted(&self, node_id: &str) -> bool {
        self.interrupts
            .context
            .get(node_id)
            .and_then(|c| c.get("activated"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The responses the swarm was resumed with, for the interrupted node's agent.
    fn interrupt_responses(&self) -> Vec<crate::InterruptResponse> {
        self.interrupts
            .interrupts
            .values()
            .filter_map(|i| {
                let response = i.response.clone()?;
                Some(crate::InterruptResponse::new(i.id.clone(), response))
            })
            .collect()
    }

    fn node_result(
        &self,
        node_id: &str,
        result: Box<AgentResult>,
        execution_time: Duration,
    ) -> NodeResult {
        let metrics = self.nodes.get(node_id).map(|n| n.agent.metrics());
        let status = if result.stop_reason == StopReason::Interrupt {
            Status::Interrupted
        } else {
            Status::Completed
        };
        NodeResult {
            interrupts: result.interrupts.clone(),
            result: NodeOutput::Agent(result),
            execution_time,
            status,
            accumulated_usage: metrics.map(|m| m.accumulated_usage).unwrap_or_default(),
            accumulated_metrics: Metrics::new(metrics.map_or(0, |m| m.accumulated_latency_ms)),
            execution_count: 1,
        }
    }

    /// Pauses the swarm on the node's interrupts, keeping what the node needs to resume
    /// (Python's `_activate_interrupt`).
    fn activate_interrupt(&mut self, node_id: &str) -> Vec<strands_core::Interrupt> {
        self.run.status = Status::Interrupted;
        let Some(node) = self.nodes.get(node_id) else {
            return Vec::new();
        };
        let agent = &node.agent;
        let raised = agent.pending_interrupts();
        self.interrupts.context.insert(
            node_id.to_owned(),
            json!({
                "activated": agent.interrupts.activated,
                "interrupt_state": agent.interrupts.to_value(),
                "state": agent.state().to_map(),
                "messages": agent.messages(),
                "model_state": {},
            }),
        );
        for interrupt in &raised {
            self.interrupts
                .interrupts
                .insert(interrupt.id.clone(), interrupt.clone());
        }
        self.interrupts.activated = true;
        self.interrupts.version += 1;
        raised
    }

    /// Applies a handoff the node requested: the event, and the next node.
    fn take_handoff(&mut self, from: &str) -> Option<MultiAgentEvent> {
        let mut shared = lock(&self.shared);
        let next = shared.handoff.take()?;
        let message = shared
            .handoff_message
            .clone()
            .unwrap_or_else(|| "Agent handoff occurred".to_owned());
        shared.current.clone_from(&next);
        drop(shared);
        self.run.current.clone_from(&next);
        self.run.turn_committed = false;
        Some(MultiAgentEvent::Handoff {
            from_node_ids: vec![from.to_owned()],
            to_node_ids: vec![next],
            message: Some(message),
        })
    }

    fn result(&self, interrupts: Vec<strands_core::Interrupt>) -> MultiAgentResult {
        MultiAgentResult {
            status: self.run.status,
            results: self.run.results.clone(),
            accumulated_usage: self.run.usage,
            accumulated_metrics: Metrics::new(self.run.latency_ms),
            execution_count: self.run.node_history.len() as u64,
            execution_time: self.run.execution_time,
            interrupts,
            node_history: self.run.node_history.clone(),
            graph: None,
        }
    }
}

fn stream_event(node_id: &str, event: AgentEvent) -> MultiAgentEvent {
    MultiAgentEvent::NodeStream {
        node_id: node_id.to_owned(),
        event: Box::new(NodeEvent::Agent(event)),
    }
}

/// Builds a [`Swarm`].
///
/// Python: the `Swarm(...)` constructor arguments.
#[derive(Default)]
#[must_use]
pub struct SwarmBuilder {
    nodes: Vec<Agent>,
    entry_point: Option<String>,
    limits: SwarmLimits,
    id: Option<String>,
    session: Option<SessionManager>,
}

impl fmt::Debug for SwarmBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SwarmBuilder")
            .field(
                "nodes",
                &self.nodes.iter().map(Agent::name).collect::<Vec<_>>(),
            )
            .field("entry_point", &self.entry_point)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl SwarmBuilder {
    /// Adds an agent; its name is its node id and must be unique in the swarm.
    pub fn node(mut self, agent: Agent) -> Self {
        self.nodes.push(agent);
        self
    }

    /// Adds agents.
    pub fn nodes(mut self, agents: impl IntoIterator<Item = Agent>) -> Self {
        self.nodes.extend(agents);
        self
    }

    /// The agent that runs first, by name (default: the first node).
    pub fn entry_point(mut self, node_id: impl Into<String>) -> Self {
        self.entry_point = Some(node_id.into());
        self
    }

    /// Node runs after which the swarm stops as failed (default 20).
    pub fn max_handoffs(mut self, max: usize) -> Self {
        self.limits.max_handoffs = max;
        self
    }

    /// Node runs after which the swarm stops as failed (default 20); Python keeps this apart
    /// from `max_handoffs` and applies both to the same count.
    pub fn max_iterations(mut self, max: usize) -> Self {
        self.limits.max_iterations = max;
        self
    }

    /// Total time after which no further node starts (default 900 s).
    pub fn execution_timeout(mut self, timeout: Duration) -> Self {
        self.limits.execution_timeout = timeout;
        self
    }

    /// Time after which a node's turn is abandoned and the swarm fails (default 300 s).
    pub fn node_timeout(mut self, timeout: Duration) -> Self {
        self.limits.node_timeout = timeout;
        self
    }

    /// Fails the swarm when the last `window` node runs involve fewer than `min_unique` agents
    /// (off by default).
    pub fn repetitive_handoff_detection(mut self, window: usize, min_unique: usize) -> Self {
        self.limits.repetition_window = window;
        self.limits.repetition_min_unique = min_unique;
        self
    }

    /// Persists the swarm's state in a session (Python's layout:
    /// `multi_agents/multi_agent_<id>/multi_agent.json`), written after each node and each
    /// invocation. Before its first invocation the swarm restores a stored run: an interrupted
    /// one waits for its responses, one stopped mid-way continues where it stopped, a finished
    /// one is started afresh by the next task.
    pub fn session_manager(mut self, session: SessionManager) -> Self {
        self.session = Some(session);
        self
    }

    /// The swarm's id (default `"default_swarm"`).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Builds the swarm, giving each agent the `handoff_to_agent` tool.
    ///
    /// # Errors
    ///
    /// [`MultiAgentBuildError`] for no nodes, duplicate names, an unknown entry point, an agent
    /// that persists its own session, or one that already has a tool named `handoff_to_agent`.
    pub fn build(self) -> Result<Swarm, MultiAgentBuildError> {
        let id = self.id.unwrap_or_else(|| "default_swarm".to_owned());
        crate::session::validate_id("multi-agent", &id)
            .map_err(|_| MultiAgentBuildError::InvalidId { id: id.clone() })?;
        let node_ids: Vec<String> = self.nodes.iter().map(|a| a.name().to_owned()).collect();
        let shared: Shared = Arc::new(Mutex::new(Coordination {
            node_ids: Arc::from(node_ids),
            ..Coordination::default()
        }));
        let mut nodes = IndexMap::new();
        for mut agent in self.nodes {
            let node_id = agent.name().to_owned();
            if agent.session_manager().is_some() {
                return Err(MultiAgentBuildError::NodeWithSession { node_id });
            }
            if agent.tool_names().any(|t| t == HANDOFF_TOOL) {
                return Err(MultiAgentBuildError::ReservedToolName {
                    node_id,
                    tool: HANDOFF_TOOL,
                });
            }
            agent
                .add_tool(Arc::new(handoff_tool(shared.clone())))
                .map_err(|source| MultiAgentBuildError::Agent {
                    node_id: node_id.clone(),
                    source,
                })?;
            let node = SwarmNode {
                initial_messages: agent.messages().to_vec(),
                initial_state: agent.state().to_map(),
                agent,
            };
            if nodes.insert(node_id.clone(), node).is_some() {
                return Err(MultiAgentBuildError::DuplicateNodeId { node_id });
            }
        }
        let entry_point = match self.entry_point {
            Some(entry) if nodes.contains_key(&entry) => entry,
            Some(entry) => {
                return Err(MultiAgentBuildError::UnknownEntryPoint {
                    node_id: entry,
                    available: nodes.keys().cloned().collect(),
                });
            }
            None => nodes
                .keys()
                .next()
                .cloned()
                .ok_or(MultiAgentBuildError::NoNodes)?,
        };
        Ok(Swarm {
            id,
            run: RunState::new(MultiAgentInput::Text(String::new()), entry_point.clone()),
            entry_point,
            nodes,
            limits: self.limits,
            shared,
            interrupts: InterruptState::default(),
            session: self.session,
            resume_from_session: false,
        })
    }
}
