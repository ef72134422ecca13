//! Errors a model provider reports.
//!
//! Python: `strands.types.exceptions`.

use std::time::Duration;

/// A boxed error used as the `source` of provider errors.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a model call failed.
///
/// The agent retries [`ModelError::Throttled`] with backoff and hands
/// [`ModelError::ContextWindowOverflow`] to the conversation manager; everything else (including
/// [`ModelError::Timeout`]) ends the invocation. Providers map their wire errors onto these
/// variants.
///
/// ```
/// use strands_core::ModelError;
///
/// let err = ModelError::throttled("Rate exceeded");
/// assert!(err.is_retryable());
/// assert_eq!(err.to_string(), "the model throttled the request: Rate exceeded");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The provider rate-limited the call. Retried by the agent.
    ///
    /// Python: `ModelThrottledException`.
    #[error("the model throttled the request: {message}")]
    Throttled {
        /// The provider's message.
        message: String,
        /// How long the provider asked callers to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The request does not fit the model's context window.
    ///
    /// Python: `ContextWindowOverflowException`.
    #[error(
        "the conversation does not fit the model's context window: {message}; reduce the history (a conversation manager does this) or use a model with a larger window"
    )]
    ContextWindowOverflow {
        /// The provider's message.
        message: String,
    },
    /// The model id names a model that cannot be invoked on demand; an inference profile is
    /// required (Bedrock: "... with on-demand throughput isn't supported").
    #[error(
        "model id `{model_id}` cannot be invoked with on-demand throughput; use an inference profile such as `{suggestion}` (set MODEL_ID to it)"
    )]
    InferenceProfileRequired {
        /// The rejected model id.
        model_id: String,
        /// An inference profile id for the same model.
        suggestion: String,
    },
    /// The account or role may not use the model.
    #[error(
        "access to the model was denied: {message}; enable access to the model for this account and region (Bedrock console, Model access) and allow bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream in the IAM policy"
    )]
    AccessDenied {
        /// The provider's message.
        message: String,
    },
    /// No credentials could be found, or the provider rejected them (expired, unknown or badly
    /// signed).
    #[error(
        "the credentials for the model provider are missing or were rejected: {message}; provide credentials (environment, profile or role) or refresh and rotate them (an expired session token is a common cause)"
    )]
    Credentials {
        /// The provider's message.
        message: String,
    },
    /// The provider rejected the request as invalid.
    #[error("the model rejected the request: {message}")]
    InvalidRequest {
        /// The provider's message.
        message: String,
    },
    /// The response stream broke or could not be decoded.
    #[error("the model's response stream failed: {message}")]
    Stream {
        /// What went wrong.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The model stayed silent longer than a configured timeout (the agent's first-event or idle
    /// timeout, or a provider's own). Not retried by the agent: a model that hangs once usually
    /// hangs again, and the point of a timeout is to fail fast. An `AfterModelCallEvent` hook may
    /// still ask for another call.
    #[error("the model call timed out: {message}")]
    Timeout {
        /// Which timeout fired, after how long, and how to change it.
        message: String,
        /// The timeout that fired.
        after: Duration,
    },
    /// Any other provider failure.
    #[error("the model provider failed: {message}")]
    Provider {
        /// What went wrong.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
}

impl ModelError {
    /// The same kind of error with the same message, without its source (for code that had to
    /// share an error and needs an owned one back).
    #[must_use]
    pub fn duplicate(&self) -> Self {
        match self {
            Self::Throttled {
                message,
                retry_after,
            } => Self::Throttled {
                message: message.clone(),
                retry_after: *retry_after,
            },
            Self::ContextWindowOverflow { message } => Self::ContextWindowOverflow {
                message: message.clone(),
            },
            Self::InferenceProfileRequired {
                model_id,
                suggestion,
            } => Self::InferenceProfileRequired {
                model_id: model_id.clone(),
                suggestion: suggestion.clone(),
            },
            Self::AccessDenied { message } => Self::AccessDenied {
                message: message.clone(),
            },
            Self::Credentials { message } => Self::Credentials {
                message: message.clone(),
            },
            Self::InvalidRequest { message } => Self::InvalidRequest {
                message: message.clone(),
            },
            Self::Timeout { message, after } => Self::Timeout {
                message: message.clone(),
                after: *after,
            },
            Self::Stream { message, .. } => Self::Stream {
                message: message.clone(),
                source: None,
            },
            Self::Provider { message, .. } => Self::Provider {
                message: message.clone(),
                source: None,
            },
        }
    }

    /// A throttling error.
    pub fn throttled(message: impl Into<String>) -> Self {
        Self::Throttled {
            message: message.into(),
            retry_after: None,
        }
    }

    /// A context-window overflow.
    pub fn context_window_overflow(message: impl Into<String>) -> Self {
        Self::ContextWindowOverflow {
            message: message.into(),
        }
    }

    /// A credentials error.
    pub fn credentials(message: impl Into<String>) -> Self {
        Self::Credentials {
            message: message.into(),
        }
    }

    /// An access-denied error.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::AccessDenied {
            message: message.into(),
        }
    }

    /// An invalid-request error.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            message: message.into(),
        }
    }

    /// A broken stream.
    pub fn stream(message: impl Into<String>, source: Option<BoxError>) -> Self {
        Self::Stream {
            message: message.into(),
            source,
        }
    }

    /// A timeout: `message` says which timeout fired and how to change it.
    pub fn timeout(message: impl Into<String>, after: Duration) -> Self {
        Self::Timeout {
            message: message.into(),
            after,
        }
    }

    /// Any other provider failure.
    pub fn provider(message: impl Into<String>, source: Option<BoxError>) -> Self {
        Self::Provider {
            message: message.into(),
            source,
        }
    }

    /// Whether the agent's retry strategy retries this error by default (throttling only, as in
    /// Python).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Throttled { .. })
    }

    /// Whether this is a context-window overflow.
    pub fn is_context_window_overflow(&self) -> bool {
        matches!(self, Self::ContextWindowOverflow { .. })
    }

    /// How long the provider asked callers to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// An error and its causes as one line, `: `-separated, skipping causes whose text the line
/// already holds. This is how errors are printed at the edges (logs, HTTP bodies, CLI).
///
/// ```
/// let error = std::io::Error::other("disk full");
/// assert_eq!(strands_core::error_chain(&error), "disk full");
/// ```
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
