//! The A2A 0.3 wire types (what Python Strands 1.62's `A2AServer` and `A2AAgent` speak, through
//! `a2a-sdk` 0.3): camelCase fields, `kind` discriminators, lower-case states.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The agent card served at `/.well-known/agent-card.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AgentCard {
    /// What the agent can do.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Input media types (`["text"]`).
    #[serde(default)]
    pub default_input_modes: Vec<String>,
    /// Output media types (`["text"]`).
    #[serde(default)]
    pub default_output_modes: Vec<String>,
    /// What the agent is for.
    pub description: String,
    /// The agent's name.
    pub name: String,
    /// `"JSONRPC"`.
    #[serde(default = "jsonrpc")]
    pub preferred_transport: String,
    /// `"0.3.0"`.
    #[serde(default = "protocol_version")]
    pub protocol_version: String,
    /// One skill per tool, as Strands lists them.
    #[serde(default)]
    pub skills: Vec<AgentSkill>,
    /// Where JSON-RPC requests go.
    pub url: String,
    /// The agent's version.
    pub version: String,
}

fn jsonrpc() -> String {
    "JSONRPC".to_owned()
}

fn protocol_version() -> String {
    "0.3.0".to_owned()
}

/// An agent card's capabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Capabilities {
    /// Whether `message/stream` is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming: Option<bool>,
}

/// A skill in the agent card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentSkill {
    /// What it does.
    pub description: String,
    /// Its id (Strands: the tool name).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Tags (Strands: none).
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// The client.
    User,
    /// The agent.
    Agent,
}

/// One part of a message or artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Part {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// Structured data.
    Data {
        /// The data.
        data: Value,
    },
    /// A file, inline (`bytes`, base64) or by `uri`.
    File {
        /// The file.
        file: Value,
    },
}

/// A message between client and agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Message {
    /// Always `"message"`.
    #[serde(default = "message_kind")]
    pub kind: String,
    /// The message id.
    pub message_id: String,
    /// Who wrote it.
    pub role: Role,
    /// The content.
    pub parts: Vec<Part>,
    /// The conversation it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// The task it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Anything else the sender attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

fn message_kind() -> String {
    "message".to_owned()
}

impl Message {
    /// An agent message of the task.
    pub(crate) fn agent(parts: Vec<Part>, context_id: &str, task_id: &str) -> Self {
        Self {
            kind: message_kind(),
            message_id: uuid::Uuid::new_v4().to_string(),
            role: Role::Agent,
            parts,
            context_id: Some(context_id.to_owned()),
            task_id: Some(task_id.to_owned()),
            metadata: None,
        }
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TaskState {
    /// Received, not started.
    Submitted,
    /// Running.
    Working,
    /// Waiting for the client (an interrupt).
    InputRequired,
    /// Finished.
    Completed,
    /// Cancelled by the client.
    Canceled,
    /// Failed.
    Failed,
    /// Refused.
    Rejected,
    /// Waiting for authentication.
    AuthRequired,
    /// Unknown.
    Unknown,
}

impl TaskState {
    /// Whether the task can change no more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Canceled | Self::Failed | Self::Rejected
        )
    }

    /// The state as a2a-sdk names it in error texts (`TaskState.completed`).
    pub(crate) fn python_name(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Working => "working",
            Self::InputRequired => "input-required",
            Self::Completed => "completed",
            Self::Canceled => "canceled",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::AuthRequired => "auth-required",
            Self::Unknown => "unknown",
        }
    }
}

/// A task's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskStatus {
    /// The state.
    pub state: TaskState,
    /// What the agent says about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// When it was set (Python's `isoformat()`, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl TaskStatus {
    pub(crate) fn now(state: TaskState, message: Option<Message>) -> Self {
        Self {
            state,
            message,
            timestamp: Some(strands_core::time::now_iso8601()),
        }
    }
}

/// An output of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Artifact {
    /// Its id.
    pub artifact_id: String,
    /// Its name (Strands: `agent_response`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its content.
    pub parts: Vec<Part>,
}

/// A unit of work: the messages exchanged, its status and its outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Task {
    /// Always `"task"`.
    pub kind: String,
    /// The task id.
    pub id: String,
    /// The conversation.
    pub context_id: String,
    /// Where it stands.
    pub status: TaskStatus,
    /// Its outputs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
    /// The messages so far.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Message>,
}

/// A streamed change of a task's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskStatusUpdateEvent {
    /// Always `"status-update"`.
    pub kind: String,
    /// The task.
    pub task_id: String,
    /// The conversation.
    pub context_id: String,
    /// The new status.
    pub status: TaskStatus,
    /// Whether the stream ends with it.
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// A streamed artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskArtifactUpdateEvent {
    /// Always `"artifact-update"`.
    pub kind: String,
    /// The task.
    pub task_id: String,
    /// The conversation.
    pub context_id: String,
    /// The artifact.
    pub artifact: Artifact,
    /// Whether its parts extend the artifact with the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub append: Option<bool>,
    /// Whether it is the artifact's last chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_chunk: Option<bool>,
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RpcError {
    /// The code.
    pub code: i64,
    /// What went wrong.
    pub message: String,
}

impl RpcError {
    pub(crate) fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn parse(detail: impl std::fmt::Display) -> Self {
        Self::new(-32700, detail.to_string())
    }

    pub(crate) fn invalid_request() -> Self {
        Self::new(-32600, "Request payload validation error")
    }

    pub(crate) fn method_not_found() -> Self {
        Self::new(-32601, "Method not found")
    }

    pub(crate) fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(-32602, message)
    }

    pub(crate) fn task_not_found() -> Self {
        Self::new(-32001, "Task not found")
    }

    pub(crate) fn not_cancelable(state: TaskState) -> Self {
        Self::new(
            -32002,
            format!(
                "Task cannot be canceled - current state: TaskState.{}",
                state.python_name()
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_read_and_write_as_a2a_sdk_0_3() {
        let wire = json!({"kind": "message", "messageId": "m1", "role": "user",
            "parts": [{"kind": "text", "text": "hi"}, {"kind": "data", "data": {"a": 1}}],
            "contextId": "c1"});
        let message: Message =
            serde_json::from_value(wire.clone()).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(message.role, Role::User);
        assert_eq!(serde_json::to_value(&message).ok(), Some(wire));
    }

    #[test]
    fn states_are_kebab_case() {
        assert_eq!(
            serde_json::to_value(TaskState::InputRequired).ok(),
            Some(json!("input-required"))
        );
        assert!(TaskState::Canceled.is_terminal());
        assert!(!TaskState::InputRequired.is_terminal());
    }
}
