//! Running a graph: batches of nodes, each node's stream, and what a finished node changes.

use std::pin::Pin;
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt;
use serde_json::{Value, json};
use strands_core::{Interrupt, StopReason};
use tokio::time::Instant;

use super::input::NodeInput;
use super::state::StateView;
use super::{Graph, GraphState, NodeExecutor};
use crate::interrupts::InterruptState;
use crate::multiagent::{
    MultiAgentError, MultiAgentEvent, MultiAgentInput, MultiAgentResult, NodeEvent, NodeOutput,
    NodeResult, NodeType, Status, error_chain,
};
use crate::{AgentEvent, AgentInput, AgentResult};

/// How a node's run ended.
enum Outcome {
    /// A result: completed, failed without an error (a cancelled agent, a failed nested run),
    /// or interrupted (with what the node needs to resume).
    Finished {
        result: NodeResult,
        interrupt_context: Option<Value>,
    },
    /// An error (Python's exception) after this long, which fails the graph.
    Failed(String, Duration),
    /// The node timeout passed, which fails the graph.
    TimedOut(Duration),
}

enum RunItem {
    Event(MultiAgentEvent),
    Done { node_id: String, outcome: Outcome },
}

type Boxed<'a, T> = Pin<Box<dyn Stream<Item = T> + Send + 'a>>;

/// One event of the executor a node runs.
enum Step {
    Event(NodeEvent),
    Error(String),
}

/// What the node's executor produced last.
enum Captured {
    Agent(Box<AgentResult>),
    MultiAgent(Box<MultiAgentResult>),
}

impl Graph {
    pub(super) fn run(
        &mut self,
        task: MultiAgentInput,
    ) -> impl Stream<Item = Result<MultiAgentEvent, MultiAgentError>> + Send + '_ {
        async_stream::stream! {
            if let Err(error) = self.load_session().await {
                yield Err(error);
                return;
            }
            if let Err(error) = self.begin(task) {
                yield Err(error);
                return;
            }
            let mut ready = self.first_batch();
            let mut interrupts = Vec::new();
            let mut failure = None;
            while !ready.is_empty() {
                if let Some(reason) = self.limit_reached() {
                    tracing::debug!(graph = %self.id, %reason, "stopping the graph");
                    self.state.status = Status::Failed;
                    break;
                }
                let batch = std::mem::take(&mut ready);
                let mut inputs = self.prepare_batch(&batch);
                let timeout = self.limits.node_timeout;
                let runs: Vec<Boxed<'_, RunItem>> = self
                    .nodes
                    .iter_mut()
                    .filter_map(|(id, node)| {
                        let input = inputs.shift_remove(id)?;
                        Some(run_node(id.clone(), &mut node.executor, input, timeout))
                    })
                    .collect();
                let mut merged = futures_util::stream::select_all(runs);
                while let Some(item) = merged.next().await {
                    let (node_id, outcome) = match item {
                        RunItem::Event(event) => {
                            yield Ok(event);
                            continue;
                        }
                        RunItem::Done { node_id, outcome } => (node_id, outcome),
                    };
                    let finished = finish_node(&mut self.state, &mut self.statuses, &mut self.interrupts, &node_id, outcome);
                    interrupts.extend(finished.interrupts);
                    yield Ok(finished.event);
                    if finished.stored {
                        let view = StateView::of(&self.id, &self.node_ids, &self.statuses, &self.edges, &self.state, &self.interrupts);
                        if let Err(error) = sync(self.session.as_ref(), &self.id, &view).await {
                            yield Err(error);
                            return;
                        }
                    }
                    if let Some(message) = finished.failure {
                        failure = Some((node_id, message));
                        break;
                    }
                }
                drop(merged);
                if let Some((node_id, _)) = &failure {
                    self.keep_resumable(node_id);
                    break;
                }
                if self.state.status == Status::Interrupted {
                    let completed: Vec<&String> = batch
                        .iter()
                        .filter(|id| self.statuses.get(*id) == Some(&Status::Completed))
                        .collect();
                    self.interrupts.context.insert("completed_nodes".to_owned(), json!(completed));
                    break;
                }
                self.interrupts.end_tool_cycle();
                let next = self.newly_ready(&batch);
                if !next.is_empty() {
                    yield Ok(MultiAgentEvent::Handoff { from_node_ids: batch, to_node_ids: next.clone(), message: None });
                }
                ready = next;
            }
            if failure.is_some() {
                self.state.status = Status::Failed;
            } else if self.state.status == Status::Interrupted {
            } else if !self.state.failed_nodes.is_empty() {
                self.state.status = Status::Failed;
            } else if self.state.status == Status::Executing {
                self.state.status = Status::Completed;
            }
            self.state.execution_time = self.state.elapsed();
            self.state.active_since = None;
            self.resume_from_session = false;
            self.resume_next.clear();
            let view = StateView::of(&self.id, &self.node_ids, &self.statuses, &self.edges, &self.state, &self.interrupts);
            if let Err(error) = sync(self.session.as_ref(), &self.id, &view).await {
                yield Err(error);
                return;
            }
            match failure {
                Some((node_id, message)) => yield Err(MultiAgentError::NodeFailed { node_id, message }),
                None => yield Ok(MultiAgentEvent::Result(Box::new(self.result(interrupts)))),
            }
        }
    }

    /// Starts a fresh run, resumes an interrupted one with the responses in `task`, or continues
    /// the one restored from the session.
    fn begin(&mut self, task: MultiAgentInput) -> Result<(), MultiAgentError> {
        let resuming = crate::multiagent::resume_interrupts(&mut self.interrupts, &task)?;
        if !resuming && !self.resume_from_session {
            self.state = GraphState {
                task,
                ..GraphState::default()
            };
        }
        self.state.status = Status::Executing;
        self.state.active_since = Some(Instant::now());
        Ok(())
    }

    /// A node that failed while resuming from its interrupt stays interrupted, back where it
    /// paused, so that the same answers resume it again (the graph stays paused on them, as
    /// Python's).
    fn keep_resumable(&mut self, node_id: &str) {
        if !self.interrupts.activated || !self.interrupts.context.contains_key(node_id) {
            return;
        }
        self.statuses
            .insert(node_id.to_owned(), Status::Interrupted);
        self.state.interrupted_nodes.insert(node_id.to_owned());
        if let Err(reason) = self.restore_paused_node(node_id) {
            tracing::warn!(graph = %self.id, node = %node_id, %reason, "the node cannot go back to its interrupt");
        }
    }

    /// The first batch: the interrupted nodes and their finished batch-mates, the nodes the
    /// session says run next, or the entry points.
    fn first_batch(&mut self) -> Vec<String> {
        if self.interrupts.activated {
            let mut batch: Vec<String> = self
                .interrupts
                .context
                .get("completed_nodes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|id| self.nodes.contains_key(*id))
                .map(str::to_owned)
                .collect();
            batch.extend(self.state.interrupted_nodes.drain(..));
            return batch;
        }
        if self.resume_from_session {
            return std::mem::take(&mut self.resume_next);
        }
        self.entry_points.clone()
    }

    fn limit_reached(&self) -> Option<String> {
        if let Some(max) = self.limits.max_node_executions
            && self.state.execution_order.len() >= max
        {
            return Some(format!("Max node executions reached: {max}"));
        }
        if let Some(timeout) = self.limits.execution_timeout
            && self.state.elapsed() > timeout
        {
            return Some(format!("Execution timed out: {timeout:?}"));
        }
        None
    }

    /// The inputs of the batch's nodes that run (on resume, only the interrupted ones), after
    /// resetting revisited nodes when asked to.
    fn prepare_batch(&mut self, batch: &[String]) -> indexmap::IndexMap<String, NodeInput> {
        let resuming = self.interrupts.activated;
        let mut inputs = indexmap::IndexMap::new();
        for node_id in batch {
            if resuming && self.statuses.get(node_id) != Some(&Status::Interrupted) {
                continue;
            }
            if self.reset_on_revisit && self.state.completed_nodes.shift_remove(node_id) {
                tracing::debug!(graph = %self.id, node = %node_id, "resetting node state for revisit");
                if let Some(node) = self.nodes.get_mut(node_id) {
                    node.reset();
                }
            }
            self.statuses.insert(node_id.clone(), Status::Executing);
            inputs.insert(node_id.clone(), self.node_input(node_id));
        }
        inputs
    }

    /// The nodes a finished batch leads to: targets of edges from its nodes that did not fail,
    /// over at least one edge whose condition holds.
    fn newly_ready(&self, batch: &[String]) -> Vec<String> {
        let done: Vec<&String> = batch
            .iter()
            .filter(|id| self.statuses.get(*id) != Some(&Status::Failed))
            .collect();
        let mut ready: Vec<String> = Vec::new();
        for edge in self.edges.iter().filter(|e| done.contains(&&e.from)) {
            if ready.contains(&edge.to) {
                continue;
            }
            let satisfied = self
                .edges
                .iter()
                .filter(|e| e.to == edge.to && done.contains(&&e.from))
                .any(|e| e.traversable(&self.state));
            if satisfied {
                ready.push(edge.to.clone());
            }
        }
        ready
    }
}

async fn sync(
    session: Option<&crate::session::SessionManager>,
    id: &str,
    view: &StateView<'_>,
) -> Result<(), MultiAgentError> {
    if let Some(session) = session {
        session.sync_multi_agent(id, &view.serialize()).await?;
    }
    Ok(())
}

/// What a finished node changed.
struct Finished {
    event: MultiAgentEvent,
    interrupts: Vec<Interrupt>,
    /// The node's result was recorded (Python's `AfterNodeCallEvent` writes the session then).
    stored: bool,
    failure: Option<String>,
}

/// Records a node's outcome in the graph's state, as Python's `_execute_node` does.
fn finish_node(
    state: &mut GraphState,
    statuses: &mut indexmap::IndexMap<String, Status>,
    interrupt_state: &mut InterruptState,
    node_id: &str,
    outcome: Outcome,
) -> Finished {
    let (result, failure) = match outcome {
        Outcome::Finished {
            result,
            interrupt_context: Some(context),
        } => {
            statuses.insert(node_id.to_owned(), Status::Interrupted);
            state.status = Status::Interrupted;
            state.interrupted_nodes.insert(node_id.to_owned());
            for interrupt in &result.interrupts {
                interrupt_state
                    .interrupts
                    .insert(interrupt.id.clone(), interrupt.clone());
            }
            interrupt_state.activated = true;
            interrupt_state.version += 1;
            interrupt_state.context.insert(node_id.to_owned(), context);
            let interrupts = result.interrupts;
            return Finished {
                event: MultiAgentEvent::NodeInterrupt {
                    node_id: node_id.to_owned(),
                    interrupts: interrupts.clone(),
                },
                interrupts,
                stored: false,
                failure: None,
            };
        }
        Outcome::Finished { result, .. } => {
            let status = result.status;
            statuses.insert(node_id.to_owned(), status);
            state.record(node_id, result.clone());
            (result, None)
        }
        Outcome::Failed(message, elapsed) => {
            tracing::warn!(node = %node_id, error = %message, "graph node failed");
            (NodeResult::failed(message.clone(), elapsed), Some(message))
        }
        Outcome::TimedOut(timeout) => {
            let message = format!(
                "Node '{node_id}' execution timed out after {}s",
                crate::pydantic::float_repr(timeout.as_secs_f64())
            );
            tracing::warn!(node = %node_id, "graph node timed out");
            (NodeResult::failed(message.clone(), timeout), Some(message))
        }
    };
    if failure.is_some() {
        statuses.insert(node_id.to_owned(), Status::Failed);
        state.failed_nodes.insert(node_id.to_owned());
        state.results.insert(node_id.to_owned(), result.clone());
    }
    Finished {
        event: MultiAgentEvent::NodeStop {
            node_id: node_id.to_owned(),
            node_result: Box::new(result),
        },
        interrupts: Vec::new(),
        stored: true,
        failure,
    }
}

/// A node's run: its start event, its executor's events (wrapped with the node id), then how
/// it ended.
fn run_node<'a>(
    node_id: String,
    executor: &'a mut NodeExecutor,
    input: NodeInput,
    timeout: Option<Duration>,
) -> Boxed<'a, RunItem> {
    Box::pin(async_stream::stream! {
        let started = Instant::now();
        let deadline = timeout.map(|t| started + t);
        let node_type = match executor {
            NodeExecutor::Agent(_) => NodeType::Agent,
            _ => NodeType::MultiAgent,
        };
        yield RunItem::Event(MultiAgentEvent::NodeStart { node_id: node_id.clone(), node_type });
        let mut captured = None;
        let mut error = None;
        let mut timed_out = false;
        {
            let mut steps = steps(executor, input);
            loop {
                let next = match deadline {
                    Some(deadline) => match tokio::time::timeout_at(deadline, steps.next()).await {
                        Ok(next) => next,
                        Err(_) => {
                            timed_out = true;
                            break;
                        }
                    },
                    None => steps.next().await,
                };
                match next {
                    None => break,
                    Some(Step::Error(message)) => {
                        error = Some(message);
                        break;
                    }
                    Some(Step::Event(event)) => {
                        match &event {
                            NodeEvent::Agent(AgentEvent::Result(result)) => captured = Some(Captured::Agent(result.clone())),
                            NodeEvent::MultiAgent(MultiAgentEvent::Result(result)) => captured = Some(Captured::MultiAgent(result.clone())),
                            _ => {}
                        }
                        yield RunItem::Event(MultiAgentEvent::NodeStream { node_id: node_id.clone(), event: Box::new(event) });
                    }
                }
            }
        }
        let outcome = match (timeout, timed_out, error, captured) {
            (Some(timeout), true, _, _) => Outcome::TimedOut(timeout),
            (_, _, Some(message), _) => Outcome::Failed(message, started.elapsed()),
            (_, _, None, None) => Outcome::Failed(format!("Node '{node_id}' did not produce a result event"), started.elapsed()),
            (_, _, None, Some(Captured::Agent(result))) => agent_outcome(executor, result, started.elapsed()),
            (_, _, None, Some(Captured::MultiAgent(result))) => multi_agent_outcome(*result),
        };
        yield RunItem::Done { node_id, outcome };
    })
}

/// The executor's events, whatever it is.
fn steps(executor: &mut NodeExecutor, input: NodeInput) -> Boxed<'_, Step> {
    match executor {
        NodeExecutor::Agent(agent) => {
            let input = match input {
                NodeInput::Blocks(blocks) => AgentInput::Content(blocks),
                NodeInput::Responses(responses) => AgentInput::InterruptResponses(responses),
            };
            Box::pin(agent.stream(input).map(|item| match item {
                Ok(event) => Step::Event(NodeEvent::Agent(event)),
                Err(error) => Step::Error(error_chain(&error)),
            }))
        }
        NodeExecutor::Swarm(swarm) => {
            Box::pin(swarm.stream(multi_agent_input(input)).map(multi_agent_step))
        }
        NodeExecutor::Graph(graph) => {
            let events: Boxed<'_, Result<MultiAgentEvent, MultiAgentError>> =
                Box::pin(graph.run(multi_agent_input(input)));
            Box::pin(events.map(multi_agent_step))
        }
    }
}

fn multi_agent_input(input: NodeInput) -> MultiAgentInput {
    match input {
        NodeInput::Blocks(blocks) => MultiAgentInput::Content(blocks),
        NodeInput::Responses(responses) => MultiAgentInput::InterruptResponses(responses),
    }
}

fn multi_agent_step(item: Result<MultiAgentEvent, MultiAgentError>) -> Step {
    match item {
        Ok(event) => Step::Event(NodeEvent::MultiAgent(event)),
        Err(error) => Step::Error(error_chain(&error)),
    }
}

/// An agent node's result: completed, failed when the agent was cancelled, or interrupted.
fn agent_outcome(executor: &NodeExecutor, result: Box<AgentResult>, elapsed: Duration) -> Outcome {
    let NodeExecutor::Agent(agent) = executor else {
        return Outcome::Failed("the node's executor changed".to_owned(), elapsed);
    };
    let status = match result.stop_reason {
        StopReason::Interrupt => Status::Interrupted,
        StopReason::Cancelled => Status::Failed,
        _ => Status::Completed,
    };
    let metrics = agent.metrics();
    let interrupt_context = (status == Status::Interrupted).then(|| {
        json!({
            "from_hook": false,
            "interrupt_ids": result.interrupts.iter().map(|i| &i.id).collect::<Vec<_>>(),
            "interrupt_state": agent.interrupts.to_value(),
            "state": agent.state().to_map(),
            "messages": agent.messages(),
            "model_state": {},
        })
    });
    Outcome::Finished {
        result: NodeResult {
            interrupts: result.interrupts.clone(),
            result: NodeOutput::Agent(result),
            execution_time: elapsed,
            status,
            accumulated_usage: metrics.accumulated_usage,
            accumulated_metrics: strands_core::Metrics::new(metrics.accumulated_latency_ms),
            execution_count: 1,
        },
        interrupt_context,
    }
}

/// A nested swarm's or graph's result, with its status, totals and interrupts.
fn multi_agent_outcome(result: MultiAgentResult) -> Outcome {
    let interrupt_context = (result.status == Status::Interrupted).then(|| {
        json!({
            "from_hook": false,
            "interrupt_ids": result.interrupts.iter().map(|i| &i.id).collect::<Vec<_>>(),
        })
    });
    Outcome::Finished {
        result: NodeResult {
            execution_time: result.execution_time,
            status: result.status,
            accumulated_usage: result.accumulated_usage,
            accumulated_metrics: result.accumulated_metrics,
            execution_count: result.execution_count,
            interrupts: result.interrupts.clone(),
            result: NodeOutput::MultiAgent(Box::new(result)),
        },
        interrupt_context,
    }
}
