//! The task as the client sees it, built from the events (a2a-sdk's `ClientTaskManager`), and
//! the result Python's `A2AAgent` makes of the last event that ends a call.

use strands_core::{ContentBlock, Role, StopReason};

use super::{A2AEvent, A2AResult};
use crate::types::{Part, Task, TaskState, TaskStatus};

#[derive(Default)]
pub(super) struct Tracker {
    task: Option<Task>,
    /// The last event that ends a call, else the last event.
    last: Option<A2AEvent>,
    last_is_complete: bool,
}

/// Whether `event` ends a call (Python's `_is_complete_event`).
fn is_complete(event: &A2AEvent) -> bool {
    match event {
        A2AEvent::Message(_) | A2AEvent::Task(_) => true,
        A2AEvent::Artifact(update) => update.last_chunk == Some(true),
        A2AEvent::Status(update) => matches!(
            update.status.state,
            TaskState::Completed
                | TaskState::Failed
                | TaskState::Canceled
                | TaskState::Rejected
                | TaskState::InputRequired
                | TaskState::AuthRequired
        ),
    }
}

impl Tracker {
    pub(super) fn apply(&mut self, event: &A2AEvent) {
        match event {
            A2AEvent::Message(_) => {}
            A2AEvent::Task(task) => self.task = Some(task.clone()),
            A2AEvent::Status(update) => {
                self.task_of(&update.task_id, &update.context_id).status = update.status.clone();
            }
            A2AEvent::Artifact(update) => {
                let task = self.task_of(&update.task_id, &update.context_id);
                let artifact = &update.artifact;
                let existing = task
                    .artifacts
                    .iter_mut()
                    .find(|a| a.artifact_id == artifact.artifact_id);
                match existing {
                    Some(existing) if update.append == Some(true) => {
                        existing.parts.extend(artifact.parts.iter().cloned());
                    }
                    Some(existing) => *existing = artifact.clone(),
                    None => task.artifacts.push(artifact.clone()),
                }
            }
        }
        let complete = is_complete(event);
        if complete || !self.last_is_complete {
            self.last = Some(event.clone());
            self.last_is_complete = complete;
        }
    }

    fn task_of(&mut self, task_id: &str, context_id: &str) -> &mut Task {
        self.task.get_or_insert_with(|| Task {
            kind: "task".to_owned(),
            id: task_id.to_owned(),
            context_id: context_id.to_owned(),
            status: TaskStatus {
                state: TaskState::Unknown,
                message: None,
                timestamp: None,
            },
            artifacts: Vec::new(),
            history: Vec::new(),
        })
    }

    /// The result: the text parts of the deciding event, else of the task's artifacts, else of
    /// its status message.
    pub(super) fn result(self) -> Option<A2AResult> {
        let last = self.last?;
        let task = self.task;
        let (mut texts, state) = match &last {
            A2AEvent::Message(message) => (text_parts(&message.parts), None),
            A2AEvent::Artifact(update) => (text_parts(&update.artifact.parts), None),
            A2AEvent::Status(update) => (
                update
                    .status
                    .message
                    .as_ref()
                    .map(|m| text_parts(&m.parts))
                    .unwrap_or_default(),
                Some(update.status.state),
            ),
            // Python leaves the state out here; we give it, so a failed task reads as failed.
            A2AEvent::Task(task) => (Vec::new(), Some(task.status.state)),
        };
        if let Some(task) = task
            .as_ref()
            .filter(|_| texts.is_empty() && !matches!(last, A2AEvent::Message(_)))
        {
            texts = task
                .artifacts
                .iter()
                .flat_map(|a| texts_of(&a.parts))
                .collect();
            if texts.is_empty() {
                texts = task
                    .status
                    .message
                    .as_ref()
                    .map(|m| text_parts(&m.parts))
                    .unwrap_or_default();
            }
        }
        let stop_reason = match state {
            Some(TaskState::InputRequired | TaskState::AuthRequired) => StopReason::Interrupt,
            _ => StopReason::EndTurn,
        };
        Some(A2AResult {
            stop_reason,
            message: strands_core::Message::new(
                Role::Assistant,
                texts.into_iter().map(ContentBlock::Text).collect(),
            ),
            task_state: state,
            task,
        })
    }
}

fn text_parts(parts: &[Part]) -> Vec<String> {
    texts_of(parts).collect()
}

fn texts_of(parts: &[Part]) -> impl Iterator<Item = String> + '_ {
    parts.iter().filter_map(|part| match part {
        Part::Text { text } => Some(text.clone()),
        _ => None,
    })
}
