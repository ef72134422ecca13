//! Running a message: the task it belongs to, the agent's stream turned into task updates.

use std::sync::Arc;

use futures_core::Stream;
use futures_util::StreamExt;
use serde_json::{Value, json};
use strands_agent::{Agent, AgentEvent, AgentInput, AgentResult, InterruptResponse};
use strands_core::{ContentBlock, StopReason};
use tokio::sync::OwnedMutexGuard;

use super::Shared;
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

/// Finds or makes the message's task and agent, and checks the message can run.
pub(super) async fn prepare(shared: &Shared, mut message: Message) -> Result<Prepared, RpcError> {
    let responses = interrupt_responses(&message.parts);
    let mut task = match &message.task_id {
        Some(task_id) => {
            let task = shared
                .store
                .task(task_id)
                .ok_or_else(RpcError::task_not_found)?;
            if task.status.state.is_terminal() {
                return Err(RpcError::invalid_params(format!(
                    "Task {task_id} is in terminal state: {}",
                    task.status.state.python_name()
                )));
            }
            task
        }
        None => new_task(message.context_id.clone()),
    };
    message.context_id = Some(task.context_id.clone());
    message.task_id = Some(task.id.clone());
    let agent = shared
        .store
        .agent(&task.context_id, || (shared.factory)())
        .map_err(|e| RpcError::new(-32603, format!("the agent could not be built: {e}")))?;
    let agent = agent.lock_owned().await;
    let input = match responses {
        Some(responses) => {
            if agent.pending_interrupts().is_empty() {
                return Err(RpcError::invalid_params(
                    "Received interrupt responses but no interrupt is pending",
                ));
            }
            AgentInput::InterruptResponses(responses)
        }
        None => AgentInput::Content(content(&message.parts)),
    };
    task.history.push(message);
    task.status = TaskStatus {
        state: TaskState::Submitted,
        message: None,
        timestamp: None,
    };
    shared.store.save(&task);
    Ok(Prepared { task, agent, input })
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

/// The answers a message carries, when every part is `{"interruptResponse": ...}` data.
fn interrupt_responses(parts: &[Part]) -> Option<Vec<InterruptResponse>> {
    let mut responses = Vec::new();
    for part in parts {
        let Part::Data { data } = part else {
            return None;
        };
        let response = data.get("interruptResponse")?;
        let id = response.get("interruptId")?.as_str()?;
        responses.push(InterruptResponse::new(
            id,
            response.get("response").cloned().unwrap_or(Value::Null),
        ));
    }
    (!responses.is_empty()).then_some(responses)
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

/// Runs the agent, turning its stream into task updates; the store follows every step.
pub(super) fn execute(
    shared: Arc<Shared>,
    prepared: Prepared,
) -> impl Stream<Item = Update> + Send {
    async_stream::stream! {
        let Prepared { mut task, mut agent, input } = prepared;
        yield Update::Task(task.clone());
        shared.store.started(&task.id, agent.cancel_handle());
        let mut outcome = None;
        {
            let mut events = std::pin::pin!(agent.stream(input));
            while let Some(item) = events.next().await {
                match item {
                    Ok(AgentEvent::TextDelta { text }) => {
                        let message = Message::agent(vec![Part::Text { text }], &task.context_id, &task.id);
                        task.history.push(message.clone());
                        task.status = TaskStatus::now(TaskState::Working, Some(message));
                        shared.store.save(&task);
                        yield Update::Status(status_event(&task, false));
                    }
                    Ok(AgentEvent::Result(result)) => outcome = Some(Ok(result)),
                    Ok(_) => {}
                    Err(error) => outcome = Some(Err(error)),
                }
            }
        }
        shared.store.finished(&task.id);
        match outcome {
            Some(Ok(result)) if result.stop_reason == StopReason::Interrupt => {
                task.status = TaskStatus::now(TaskState::InputRequired, Some(interrupt_message(&task, &result)));
            }
            Some(Ok(result)) if result.stop_reason == StopReason::Cancelled => {
                let message = Message::agent(vec![Part::Text { text: "Task cancelled by client request".to_owned() }], &task.context_id, &task.id);
                task.status = TaskStatus::now(TaskState::Canceled, Some(message));
            }
            Some(Ok(result)) => {
                let artifact = Artifact {
                    artifact_id: uuid::Uuid::new_v4().to_string(),
                    name: Some("agent_response".to_owned()),
                    parts: vec![Part::Text { text: result.to_string() }],
                };
                task.artifacts.push(artifact.clone());
                shared.store.save(&task);
                yield Update::Artifact(TaskArtifactUpdateEvent {
                    kind: "artifact-update".to_owned(),
                    task_id: task.id.clone(),
                    context_id: task.context_id.clone(),
                    artifact,
                });
                task.status = TaskStatus::now(TaskState::Completed, None);
            }
            failed => {
                if let Some(Err(error)) = failed {
                    tracing::warn!(task_id = %task.id, %error, "A2A task failed");
                }
                let message = Message::agent(vec![Part::Text { text: "Agent execution failed".to_owned() }], &task.context_id, &task.id);
                task.status = TaskStatus::now(TaskState::Failed, Some(message));
            }
        }
        shared.store.save(&task);
        yield Update::Status(status_event(&task, true));
    }
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

/// Strands' `input-required` message: a line per interrupt, and the interrupts as data.
fn interrupt_message(task: &Task, result: &AgentResult) -> Message {
    let mut text = String::from("Agent requires input:");
    for interrupt in &result.interrupts {
        text.push_str(&format!(
            "\n- {}: {}",
            interrupt.name,
            strands_core::json::to_python_repr(&interrupt.reason)
        ));
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
