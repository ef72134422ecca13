//! Conversation managers: keep the history within what the model accepts.
//!
//! The agent calls [`ConversationManager::apply_management`] at the end of every invocation
//! (also one that failed), and [`ConversationManager::reduce_context`] when the model reports
//! a context-window overflow, then retries the model call, as Python Strands does. The default
//! is [`SlidingWindowConversationManager`] with a 40-message window.
//!
//! Python: `strands.agent.conversation_manager`.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use strands_core::{BoxFuture, Message, Model, ModelError};

mod sliding_window;
mod summarizing;
mod trim;

pub use sliding_window::SlidingWindowConversationManager;
pub use summarizing::SummarizingConversationManager;

/// What [`ConversationManager::reduce_context`] works on.
#[derive(Debug)]
#[non_exhaustive]
pub struct ReduceContext<'a> {
    /// The agent's history, to shrink in place.
    pub messages: &'a mut Vec<Message>,
    /// The agent's model (a summarizing manager may use it).
    pub model: &'a Arc<dyn Model>,
    /// The overflow error that triggered the reduction; `None` for a proactive reduction.
    pub overflow: Option<&'a ModelError>,
}

impl<'a> ReduceContext<'a> {
    /// A context over `messages`.
    pub fn new(
        messages: &'a mut Vec<Message>,
        model: &'a Arc<dyn Model>,
        overflow: Option<&'a ModelError>,
    ) -> Self {
        Self {
            messages,
            model,
            overflow,
        }
    }
}

/// Why the context could not be reduced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReduceError {
    /// Nothing more can be removed without breaking the conversation.
    ///
    /// Python: `ContextWindowOverflowException("Unable to trim conversation context!")`.
    #[error(
        "unable to trim conversation context: nothing more can be removed; start a new conversation or use a model with a larger context window"
    )]
    CannotReduce,
    /// The summarization model call failed.
    #[error("summarizing the conversation failed: {0}")]
    Summarization(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Keeps an agent's history within bounds.
///
/// Implementations own their counters (how many messages they removed), which are persisted
/// with the session through [`state`](Self::state) and [`restore`](Self::restore).
pub trait ConversationManager: Send + Sync + fmt::Debug {
    /// Called after every invocation; may trim `messages`.
    fn apply_management(&mut self, messages: &mut Vec<Message>);

    /// Shrinks the history. With an overflow error it must remove something or fail with
    /// [`ReduceError::CannotReduce`].
    fn reduce_context<'a>(
        &'a mut self,
        context: ReduceContext<'a>,
    ) -> BoxFuture<'a, Result<(), ReduceError>>;

    /// How many messages of the persisted history the manager has removed from the front; a
    /// restored session skips that many.
    fn removed_message_count(&self) -> usize;

    /// The state persisted with the session (Python's `get_state()`):
    /// `{"__name__": <Python class name>, "removed_message_count": n, ...}`.
    fn state(&self) -> Map<String, Value>;

    /// Restores from [`state`](Self::state) and returns messages to put in front of the
    /// restored history (a summary, for example).
    ///
    /// # Errors
    ///
    /// The state was written by a different manager.
    fn restore(&mut self, state: &Map<String, Value>) -> Result<Vec<Message>, RestoreError>;
}

/// A session's conversation-manager state does not fit this manager.
#[derive(Debug, thiserror::Error)]
#[error(
    "the session was saved by conversation manager `{found}`, not `{expected}`; configure the agent with the same conversation manager"
)]
pub struct RestoreError {
    /// This manager's name.
    pub expected: &'static str,
    /// The name in the session.
    pub found: String,
}

/// Checks `state["__name__"]` and reads `removed_message_count`.
pub(crate) fn restore_common(
    expected: &'static str,
    state: &Map<String, Value>,
) -> Result<usize, RestoreError> {
    let found = state.get("__name__").and_then(Value::as_str).unwrap_or("");
    if found != expected {
        return Err(RestoreError {
            expected,
            found: found.to_owned(),
        });
    }
    Ok(state
        .get("removed_message_count")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0))
}

/// Keeps everything; a context overflow ends the invocation with an error.
///
/// Python: `NullConversationManager`.
#[derive(Debug, Default, Clone, Copy)]
#[non_exhaustive]
pub struct NullConversationManager;

impl NullConversationManager {
    /// The manager.
    pub fn new() -> Self {
        Self
    }
}

impl ConversationManager for NullConversationManager {
    fn apply_management(&mut self, _messages: &mut Vec<Message>) {}

    fn reduce_context<'a>(
        &'a mut self,
        _context: ReduceContext<'a>,
    ) -> BoxFuture<'a, Result<(), ReduceError>> {
        Box::pin(async { Err(ReduceError::CannotReduce) })
    }

    fn removed_message_count(&self) -> usize {
        0
    }

    fn state(&self) -> Map<String, Value> {
        let mut state = Map::new();
        state.insert("__name__".into(), "NullConversationManager".into());
        state.insert("removed_message_count".into(), 0.into());
        state
    }

    fn restore(&mut self, state: &Map<String, Value>) -> Result<Vec<Message>, RestoreError> {
        restore_common("NullConversationManager", state)?;
        Ok(Vec::new())
    }
}
