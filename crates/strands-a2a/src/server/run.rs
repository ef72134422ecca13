//! Running a message: the task it belongs to, and the agent's stream turned into task updates,
//! on a task of its own so that a client that goes away neither stops it nor leaves its task
//! `working`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use strands_agent::{Agent, AgentEvent, AgentInput, AgentResult, InterruptResponse};
use strands_core::{ContentBlock, StopReason};
use tokio::sync::{OwnedMutexGuard, mpsc};
use tokio::task::JoinHandle;

use super::Shared;
use super::store::{agent_text, push_history};
use crate::types::{
    Artifact, Message, Part, RpcError, Task, TaskArtifactUpdateEvent, TaskState, TaskStatus,
    TaskStatusUpdateEvent,
};

/// One step of a task, as `message/stream` sends it.
pub(super) enum Update {
    Task(Task),
    Status(TaskStatusUpdateEvent),
    Artifact(TaskArtifactUpdateEvent),
}

/// A message accepted for running: its task, its conversation's agent (locked), its input.
pub(super) struct Prepared {
    task: Task,
    agent: OwnedMutexGuard<Agent>,
    input: AgentInput,
}

/// What a message asks of the agent.
enum Request {
    Content(Vec<ContentBlock>),
    Resume(Vec<InterruptResponse>),
}

/// Finds or makes the message's task and agent, and checks the message can run: the checks that
/// depend on the agent are made once it is locked, so what they saw still holds when it runs.
pub(super) async fn prepare(shared: &Shared, mut message: Message) -> Result<Prepared, RpcError> {
    let request = request(&message.parts)?;
    let task = match &message.task_id {
        Some(task_id) => open_task(shared, task_id)?,
        None => new_task(message.context_id.clone()),
    };
    let agent = shared
        .store
        .agent(&task.context_id, || (shared.factory)())
        .map_err(|e| RpcError::new(-32603, format!("the agent could not be built: {e}")))?;
    let agent = tokio::time::timeout(shared.queue_timeout, agent.lock_owned())
        .await
        .map_err(|_| {
            RpcError::new(
                -32603,
                "The conversation is busy with another message; try again later",
            )
        })?;
    // The task may have moved on while this waited for the agent.
    let mut task = match &message.task_id {
        Some(task_id) => open_task(shared, task_id)?,
        None => task,
    };
    let input = match request {
        Request::Resume(responses) => {
            check_resume(&agent, &responses)?;
            AgentInput::InterruptResponses(responses)
        }
        Request::Content(_) if !agent.pending_interrupts().is_empty() => {
            return Err(RpcError::invalid_params(
                "Task is awaiting an interrupt response and cannot accept a new message",
            ));
        }
        Request::Content(content) => AgentInput::Content(content),
    };
    message.context_id = Some(task.context_id.clone());
    message.task_id = Some(task.id.clone());
    push_history(&mut task, message);
    task.status = TaskStatus {
        state: TaskState::Submitted,
        message: None,
        timestamp: None,
    };
    if !shared.store.save(&task) {
        return Err(terminal(&task.id, TaskState::Canceled));
    }
    Ok(Prepared { task, agent, input })
}

/// The task a message continues, when it can still take one.
fn open_task(shared: &Shared, task_id: &str) -> Result<Task, RpcError> {
    let task = shared
        .store
        .task(task_id)
        .ok_or_else(RpcError::task_not_found)?;
    if task.status.state.is_terminal() {
        return Err(terminal(task_id, task.status.state));
    }
    Ok(task)
}

fn terminal(task_id: &str, state: TaskState) -> RpcError {
    RpcError::invalid_params(format!(
        "Task {task_id} is in terminal state: {}",
        state.python_name()
    ))
}

fn new_task(context_id: Option<String>) -> Task {
    Task {
        kind: "task".to_owned(),
        id: uuid::Uuid::new_v4().to_string(),
        context_id: context_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        status: TaskStatus {
            state: TaskState::Submitted,
            message: None,
            timestamp: None,
        },
        artifacts: Vec::new(),
        history: Vec::new(),
    }
}

/// What the parts ask: answers to interrupts (`{"interruptResponse": ...}` data parts, and
/// nothing else), or content. Malformed answers are refused as Python Strands refuses them.
fn request(parts: &[Part]) -> Result<Request, RpcError> {
    let mut responses: Vec<InterruptResponse> = Vec::new();
    let mut other = 0;
    for part in parts {
        let Some(response) = (match part {
            Part::Data { data } => data.get("interruptResponse"),
            _ => None,
        }) else {
            other += 1;
            continue;
        };
        let response = interrupt_response(response)?;
        if responses
            .iter()
            .any(|r| r.interrupt_id == response.interrupt_id)
        {
            return Err(RpcError::invalid_params(format!(
                "Duplicate interrupt response for '{}'",
                response.interrupt_id
            )));
        }
        responses.push(response);
    }
    if responses.is_empty() {
        let content = content(parts);
        if content.is_empty() {
            return Err(RpcError::new(
                -32603,
                "No valid content found in request message parts",
            ));
        }
        return Ok(Request::Content(content));
    }
    if other > 0 {
        return Err(RpcError::invalid_params(
            "A message carrying interrupt responses must not contain other content parts",
        ));
    }
    Ok(Request::Resume(responses))
}

fn interrupt_response(value: &Value) -> Result<InterruptResponse, RpcError> {
    let Value::Object(response) = value else {
        return Err(RpcError::invalid_params(
            "'interruptResponse' must be an object with 'interruptId' and 'response'",
        ));
    };
    let id = match response.get("interruptId") {
        Some(Value::String(id)) if !id.is_empty() => id,
        _ => {
            return Err(RpcError::invalid_params(
                "Interrupt response is missing a non-empty 'interruptId'",
            ));
        }
    };
    match response.get("response") {
        None | Some(Value::Null) => Err(RpcError::invalid_params(format!(
            "Interrupt response for '{id}' must provide a non-null 'response'"
        ))),
        Some(answer) => Ok(InterruptResponse::new(id.clone(), answer.clone())),
    }
}

/// The answers must name interrupts the agent is paused on.
fn check_resume(agent: &Agent, responses: &[InterruptResponse]) -> Result<(), RpcError> {
    let pending = agent.pending_interrupts();
    if pending.is_empty() {
        return Err(RpcError::invalid_params(
            "Received interrupt responses but no interrupt is pending",
        ));
    }
    let mut unknown: Vec<&str> = responses
        .iter()
        .map(|r| r.interrupt_id.as_str())
        .filter(|id| !pending.iter().any(|i| i.id == *id))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort_unstable();
    Err(RpcError::invalid_params(format!(
        "No pending interrupt matches id(s): {}",
        unknown.join(", ")
    )))
}

/// The agent's input: text as text, data as Strands writes it (`[Structured Data]` and the
/// JSON), a file as a note naming it.
fn content(parts: &[Part]) -> Vec<ContentBlock> {
    parts
        .iter()
        .map(|part| match part {
            Part::Text { text } => ContentBlock::Text(text.clone()),
            Part::Data { data } => ContentBlock::Text(format!(
                "[Structured Data]\n{}",
                serde_json::to_string_pretty(data).unwrap_or_default()
            )),
            Part::File { file } => {
                let name = file
                    .get("name")
                    .or_else(|| file.get("uri"))
                    .and_then(Value::as_str)
                    .unwrap_or("unnamed");
                ContentBlock::Text(format!("[File: {name}]"))
            }
        })
        .collect()
}

/// A run under way: its updates (at most this many wait for a slow reader; a reader that
/// leaves does not stop the run) and its end, the task as stored.
pub(super) struct Running {
    pub(super) updates: mpsc::Receiver<Update>,
    pub(super) done: JoinHandle<Task>,
}

const UPDATE_BUFFER: usize = 64;

/// How long the run waits for a reader whose buffer is full before it stops sending to it
/// (the run goes on for `tasks/get`).
const SLOW_READER: Duration = Duration::from_secs(10);

/// Starts running the agent on its own task.
pub(super) fn start(shared: Arc<Shared>, prepared: Prepared) -> Running {
    let (sender, updates) = mpsc::channel(UPDATE_BUFFER);
    let done = tokio::spawn(run(shared, prepared, Updates(Some(sender))));
    Running { updates, done }
}

/// Where a run's updates go, while the reader keeps up.
struct Updates(Option<mpsc::Sender<Update>>);

impl Updates {
    async fn send(&mut self, update: Update) {
        let Some(sender) = &self.0 else { return };
        if !matches!(
            tokio::time::timeout(SLOW_READER, sender.send(update)).await,
            Ok(Ok(()))
        ) {
            // Gone, or not reading: the run goes on without it.
            self.0 = None;
        }
    }
}

/// Ends the run's bookkeeping however the run ends: a run that did not finish (it panicked, or
/// the runtime shut down) fails its task.
struct RunGuard {
    shared: Arc<Shared>,
    task_id: String,
    run: u64,
    finished: bool,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.shared.store.finished(&self.task_id, self.run);
        if !self.finished {
            self.shared.store.fail(&self.task_id);
        }
    }
}

/// Runs the agent and stores the task's end; the agent stays locked until then, so the next
/// message of the conversation sees the task as it ended.
async fn run(shared: Arc<Shared>, prepared: Prepared, mut updates: Updates) -> Task {
    let Prepared {
        mut task,
        mut agent,
        input,
    } = prepared;
    let mut guard = RunGuard {
        run: shared.store.started(&task.id, agent.cancel_handle()),
        shared: shared.clone(),
        task_id: task.id.clone(),
        finished: false,
    };
    updates.send(Update::Task(task.clone())).await;
    // A cancel that came before the run started: the agent does not run.
    let outcome = if shared.store.has_ended(&task.id) {
        None
    } else {
        stream_agent(&shared, &mut agent, input, &mut task, &mut updates).await
    };
    let mut artifact_update = None;
    if let Some(artifact) = conclude(&mut task, outcome) {
        task.artifacts.push(artifact.clone());
        if shared.store.save(&task) {
            artifact_update = Some(TaskArtifactUpdateEvent {
                kind: "artifact-update".to_owned(),
                task_id: task.id.clone(),
                context_id: task.context_id.clone(),
                artifact,
                append: None,
                last_chunk: None,
            });
        }
        task.status = TaskStatus::now(TaskState::Completed, None);
    }
    if !shared.store.save(&task) {
        // Cancelled meanwhile: the stored task is the truth.
        task = shared.store.task(&task.id).unwrap_or(task);
    }
    guard.finished = true;
    drop(guard);
    drop(agent);
    if let Some(update) = artifact_update {
        updates.send(Update::Artifact(update)).await;
    }
    updates
        .send(Update::Status(status_event(&task, true)))
        .await;
    task
}

/// Streams the agent, each text chunk a `working` status; the result or the error. At its first
/// event the agent is cancelled again if the task was (the invocation's start clears a cancel
/// that came just before it; later ones reach the agent through its handle).
async fn stream_agent(
    shared: &Shared,
    agent: &mut Agent,
    input: AgentInput,
    task: &mut Task,
    updates: &mut Updates,
) -> Option<Result<Box<AgentResult>, strands_agent::AgentError>> {
    use futures_util::StreamExt;
    let cancel = agent.cancel_handle();
    let mut outcome = None;
    let mut first = true;
    let mut events = std::pin::pin!(agent.stream(input));
    while let Some(item) = events.next().await {
        if std::mem::take(&mut first) && shared.store.has_ended(&task.id) {
            cancel.cancel();
        }
        match item {
            Ok(AgentEvent::TextDelta { text }) => {
                let message = Message::agent(vec![Part::Text { text }], &task.context_id, &task.id);
                push_history(task, message.clone());
                task.status = TaskStatus::now(TaskState::Working, Some(message));
                if shared.store.save(task) {
                    updates
                        .send(Update::Status(status_event(task, false)))
                        .await;
                }
            }
            Ok(AgentEvent::Result(result)) => outcome = Some(Ok(result)),
            Ok(_) => {}
            Err(error) => outcome = Some(Err(error)),
        }
    }
    outcome
}

/// The task's final status from the agent's outcome; the answer's artifact when it completed
/// (the status is then set once the artifact is out).
fn conclude(
    task: &mut Task,
    outcome: Option<Result<Box<AgentResult>, strands_agent::AgentError>>,
) -> Option<Artifact> {
    let (state, message) = match outcome {
        Some(Ok(result)) if result.stop_reason == StopReason::Interrupt => {
            (TaskState::InputRequired, interrupt_message(task, &result))
        }
        Some(Ok(result)) if result.stop_reason == StopReason::Cancelled => (
            TaskState::Canceled,
            agent_text(task, "Task cancelled by client request"),
        ),
        Some(Ok(result)) => {
            return Some(Artifact {
                artifact_id: uuid::Uuid::new_v4().to_string(),
                name: Some("agent_response".to_owned()),
                parts: vec![Part::Text {
                    text: result.to_string(),
                }],
            });
        }
        failed => {
            if let Some(Err(error)) = failed {
                tracing::warn!(task_id = %task.id, %error, "A2A task failed");
            }
            (
                TaskState::Failed,
                agent_text(task, "Agent execution failed"),
            )
        }
    };
    task.status = TaskStatus::now(state, Some(message));
    None
}

fn status_event(task: &Task, is_final: bool) -> TaskStatusUpdateEvent {
    TaskStatusUpdateEvent {
        kind: "status-update".to_owned(),
        task_id: task.id.clone(),
        context_id: task.context_id.clone(),
        status: task.status.clone(),
        is_final,
    }
}

/// Strands' `input-required` message: a line per interrupt (`- name`, and `: reason` when the
/// reason is truthy, as Python's `str`), and the interrupts as data.
fn interrupt_message(task: &Task, result: &AgentResult) -> Message {
    if result.interrupts.is_empty() {
        return agent_text(task, "Agent requires additional input to continue");
    }
    let mut text = String::from("Agent requires input:");
    for interrupt in &result.interrupts {
        text.push_str("\n- ");
        text.push_str(&interrupt.name);
        if truthy(&interrupt.reason) {
            text.push_str(": ");
            match &interrupt.reason {
                Value::String(reason) => text.push_str(reason),
                reason => text.push_str(&strands_core::json::to_python_repr(reason)),
            }
        }
    }
    let interrupts: Vec<Value> = result
        .interrupts
        .iter()
        .map(|i| json!({"interruptId": i.id, "name": i.name, "reason": i.reason}))
        .collect();
    Message::agent(
        vec![
            Part::Text { text },
            Part::Data {
                data: json!({"interrupts": interrupts}),
            },
        ],
        &task.context_id,
        &task.id,
    )
}

/// Python's truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}
