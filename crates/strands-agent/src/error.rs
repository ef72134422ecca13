//! Errors of the agent loop and of building an agent.

use strands_core::{Message, ModelError};

use crate::conversation::ReduceError;
use crate::interrupts::ResumeError;
use crate::session::SessionError;

/// Why an invocation ended without a result.
///
/// Tool failures are never errors: they become error tool results the model reads. Cancellation
/// is not an error either: the result's stop reason is `cancelled`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The model hit its output token limit. The partial message (tool uses replaced by an
    /// explanation) has been appended to the history, so calling the agent again continues.
    ///
    /// Python: `MaxTokensReachedException`.
    #[error(
        "model stopped generating due to maximum token limit; the partial message has been added to the conversation history and you can continue by calling the agent again, or raise the model's max_tokens"
    )]
    MaxTokensReached {
        /// The partial message as stored in history.
        message: Box<Message>,
    },
    /// The conversation does not fit the model's context window and could not be reduced.
    ///
    /// Python: `ContextWindowOverflowException`.
    #[error("the conversation does not fit the model's context window and could not be reduced")]
    ContextWindowOverflow(#[source] ModelError),
    /// The model call failed (after the retry strategy gave up, for retryable errors).
    #[error("the model call failed after {attempts} attempt(s)")]
    Model {
        /// How many times the call was tried.
        attempts: u32,
        /// The last failure.
        #[source]
        source: ModelError,
    },
    /// The conversation manager failed while reducing an overflowing context (e.g. the
    /// summarization call failed).
    #[error("reducing the conversation after a context-window overflow failed")]
    ContextReduction(#[source] ReduceError),
    /// Reading or writing the session failed. The conversation in memory is intact; fix the
    /// storage and call again.
    #[error("session persistence failed")]
    Session(#[from] SessionError),
    /// The input cannot resume (or must resume) an interrupted agent.
    #[error(transparent)]
    Resume(#[from] ResumeError),
    /// The model did not produce valid structured output.
    ///
    /// Python: `StructuredOutputException`.
    #[error("structured output `{tool_name}` was not produced: {reason}")]
    StructuredOutput {
        /// The output tool's name (the type's name).
        tool_name: String,
        /// What went wrong.
        reason: String,
    },
    /// The structured output was captured but does not deserialize into the requested type.
    #[error("the structured output does not match the requested type: {0}")]
    StructuredOutputType(#[source] serde_json::Error),
    /// The agent was invoked with no prompt and no history to continue from.
    #[error("no prompt was given and the conversation is empty; pass a prompt")]
    EmptyConversation,
}

impl AgentError {
    /// The model error behind this error, if any.
    pub fn model_error(&self) -> Option<&ModelError> {
        match self {
            Self::ContextWindowOverflow(source) | Self::Model { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Why [`AgentBuilder::build`](crate::AgentBuilder::build) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No model was configured.
    #[error("no model was configured; call `.model(...)` on the builder")]
    MissingModel,
    /// The session cannot be used, such as a session id that could escape its directory
    /// (from [`SessionManager::new`](crate::session::SessionManager::new), through `?` in an
    /// agent factory).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The agent id could escape a session directory.
    #[error(
        "agent id {agent_id:?} is invalid: use a non-empty id without path separators or control characters"
    )]
    InvalidAgentId {
        /// The rejected id.
        agent_id: String,
    },
    /// An agent that persists a session cannot be reset before each tool call.
    #[error(
        "agent `{agent}` has a session manager, so it cannot be reset before each call; use AgentTool::preserving_context"
    )]
    AgentToolWithSession {
        /// The agent's name.
        agent: String,
    },
    /// A tool name does not match `^[a-zA-Z0-9_\-]{1,64}$`.
    #[error("tool name `{name}` is invalid; use 1-64 characters from [a-zA-Z0-9_-]")]
    InvalidToolName {
        /// The rejected name.
        name: String,
    },
    /// Two tools share a name (names differing only by `-` versus `_` also clash, as in Python).
    #[error(
        "a tool named `{name}` is already registered (as `{existing}`); tool names must be unique"
    )]
    DuplicateToolName {
        /// The rejected name.
        name: String,
        /// The registered name it clashes with.
        existing: String,
    },
}
