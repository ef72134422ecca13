//! AgentCore Memory failures as [`SessionError`]s that say what failed and what fixes it.

use aws_sdk_bedrockagentcore::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;
use strands_core::session::SessionError;

/// One AgentCore Memory call: its name (`CreateEvent`) and what it acted on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    pub(crate) operation: &'static str,
    pub(crate) memory_id: &'a str,
    /// The actor and session, for event operations.
    pub(crate) session: Option<(&'a str, &'a str)>,
}

impl Call<'_> {
    /// A [`SessionError::Backend`] for `error`: a denial names the permission to grant, a missing
    /// memory says so, throttling says the SDK's retries ran out and nothing stored was lost.
    pub(crate) fn error<E, R>(&self, error: SdkError<E, R>) -> SessionError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let Self {
            operation,
            memory_id,
            session,
        } = *self;
        let what = match session {
            Some((actor_id, session_id)) => format!(
                "AgentCore Memory {operation} (memory {memory_id}, actor {actor_id}, session {session_id})"
            ),
            None => format!("AgentCore Memory {operation} (memory {memory_id})"),
        };
        let reason = match (error.code(), error.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => DisplayErrorContext(&error).to_string(),
        };
        let message = match error.code().unwrap_or_default() {
            "AccessDeniedException" => format!(
                "{what} was denied ({reason}); grant the caller bedrock-agentcore:{operation} on the memory"
            ),
            "ResourceNotFoundException" => format!(
                "{what} failed: the memory does not exist ({reason}); check the memory id and the region"
            ),
            "ThrottlingException" => format!(
                "{what} was throttled and the retries ran out ({reason}); what was stored before is kept, retry later or raise the quota"
            ),
            "ServiceQuotaExceededException" => format!(
                "{what} exceeded a service quota ({reason}); what was stored before is kept, raise the quota"
            ),
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "IncompleteSignature"
            | "MissingAuthenticationToken" => {
                format!("{what} failed: the credentials were rejected ({reason})")
            }
            "ValidationException" => format!("{what} was refused as invalid ({reason})"),
            _ => match &error {
                SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => format!(
                    "{what} failed: could not reach the AgentCore endpoint ({})",
                    DisplayErrorContext(&error)
                ),
                _ => format!("{what} failed ({reason})"),
            },
        };
        let source: Box<dyn std::error::Error + Send + Sync> = match error {
            SdkError::ServiceError(context) => Box::new(context.into_err()),
            other => Box::new(other),
        };
        SessionError::Backend {
            message,
            source: Some(source),
        }
    }
}
