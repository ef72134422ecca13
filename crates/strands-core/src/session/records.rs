//! The records a [`SessionRepository`](super::SessionRepository) stores, in Python Strands'
//! JSON shape (`strands.types.session`), and the id rule that keeps them in their namespace.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::SessionError;
use crate::Message;
use crate::time::now_iso8601;

/// The kind of a session. Python: `SessionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SessionType {
    /// A session holding single agents.
    #[serde(rename = "AGENT")]
    Agent,
}

/// A session: `session_<id>/session.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// The session id.
    pub session_id: String,
    /// Always [`SessionType::Agent`] for now.
    pub session_type: SessionType,
    /// ISO 8601 creation time.
    pub created_at: String,
    /// ISO 8601 last update time.
    pub updated_at: String,
}

impl Session {
    /// A new agent session created now.
    pub fn new(session_id: impl Into<String>) -> Self {
        Self {
            session_id: session_id.into(),
            session_type: SessionType::Agent,
            created_at: now_iso8601(),
            updated_at: now_iso8601(),
        }
    }
}

/// An agent in a session: `agents/agent_<id>/agent.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionAgent {
    /// The agent id, unique in its session.
    pub agent_id: String,
    /// The agent's [`AgentState`](crate::AgentState).
    #[serde(default)]
    pub state: Map<String, Value>,
    /// The conversation manager's state (`{"__name__": ..., "removed_message_count": ...}`).
    #[serde(default)]
    pub conversation_manager_state: Map<String, Value>,
    /// State Strands manages itself: `interrupt_state` and `model_state`.
    #[serde(rename = "_internal_state", default)]
    pub internal_state: Map<String, Value>,
    /// ISO 8601 creation time.
    pub created_at: String,
    /// ISO 8601 last update time.
    pub updated_at: String,
}

impl SessionAgent {
    /// A record for `agent_id` created now.
    pub fn new(
        agent_id: impl Into<String>,
        state: Map<String, Value>,
        conversation_manager_state: Map<String, Value>,
        internal_state: Map<String, Value>,
    ) -> Self {
        Self {
            agent_id: agent_id.into(),
            state,
            conversation_manager_state,
            internal_state,
            created_at: now_iso8601(),
            updated_at: now_iso8601(),
        }
    }
}

/// One message of an agent: `messages/message_<message_id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionMessage {
    /// The message as it was appended.
    pub message: Message,
    /// Its 0-based index in the agent's history (counting messages a conversation manager has
    /// since removed).
    pub message_id: u64,
    /// When a guardrail redacted the message, what the conversation holds instead.
    #[serde(default)]
    pub redact_message: Option<Message>,
    /// ISO 8601 creation time.
    pub created_at: String,
    /// ISO 8601 last update time.
    pub updated_at: String,
}

impl SessionMessage {
    /// A record for `message` at `message_id`, created now.
    pub fn new(message: Message, message_id: u64) -> Self {
        Self {
            message,
            message_id,
            redact_message: None,
            created_at: now_iso8601(),
            updated_at: now_iso8601(),
        }
    }

    /// The message the conversation holds: the redacted one if any.
    pub fn to_message(&self) -> Message {
        self.redact_message
            .clone()
            .unwrap_or_else(|| self.message.clone())
    }
}

/// Checks that a session or agent id can name a directory or key segment without escaping it:
/// non-empty, at most 256 bytes, no `/`, `\`, NUL or other control characters, and not `.` or
/// `..` (ids are used behind a prefix, `session_<id>`, so `a..b` is a plain name, as in Python).
///
/// # Errors
///
/// [`SessionError::InvalidId`] naming `kind` (`"session"` or `"agent"`).
///
/// ```
/// use strands_core::session::validate_id;
///
/// assert!(validate_id("session", "user-42").is_ok());
/// assert!(validate_id("session", "v1..2").is_ok()); // Python accepts it, and it stays a name
/// assert!(validate_id("session", "../etc").is_err());
/// assert!(validate_id("agent", "a/b").is_err());
/// ```
pub fn validate_id(kind: &'static str, id: &str) -> Result<(), SessionError> {
    let bad = id.is_empty()
        || id.len() > 256
        || id == "."
        || id == ".."
        || id.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        return Err(SessionError::InvalidId {
            kind,
            id: id.to_owned(),
            rule: "ids must be non-empty and contain no path separators, `..` or control characters",
        });
    }
    Ok(())
}
