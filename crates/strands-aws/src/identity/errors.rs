//! AgentCore Identity failures that say what failed and what fixes it, never with a credential
//! in them.

use std::time::Duration;

use aws_sdk_bedrockagentcore::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;
use strands_core::InterruptRaised;

/// Why a token or key could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The service refused or could not be reached.
    #[error("{message}")]
    Service {
        /// `GetResourceOauth2Token`, `GetResourceApiKey`, ...
        operation: &'static str,
        /// The AWS error code, if the service answered.
        code: Option<String>,
        /// What failed and what fixes it.
        message: String,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The service answered with neither a token nor an authorization URL.
    #[error(
        "AgentCore Identity {operation} answered with neither a token nor an authorization URL"
    )]
    EmptyAnswer {
        /// The operation.
        operation: &'static str,
    },
    /// The user has to consent first: the tool returns this (`?`); the agent stops with the
    /// interrupt, whose reason holds the authorization URL, and runs the tool again when the
    /// caller answers it.
    #[error(transparent)]
    Interrupted(#[from] InterruptRaised),
    /// The caller answered the consent interrupt with `false`.
    #[error("the user declined to authorize access to {provider}")]
    Declined {
        /// The credential provider.
        provider: String,
    },
    /// The user did not complete the consent in time.
    #[error(
        "polling for the {provider} token timed out after {} seconds: the user may not have completed the authorization",
        .waited.as_secs()
    )]
    ConsentTimedOut {
        /// The credential provider.
        provider: String,
        /// How long the tool waited.
        waited: Duration,
    },
    /// The service reports the consent session failed (`sessionStatus: FAILED`).
    #[error("the authorization for {provider} failed; ask the user to start again")]
    AuthorizationFailed {
        /// The credential provider.
        provider: String,
    },
    /// The agent was cancelled while waiting for the user.
    #[error("cancelled while waiting for the authorization for {provider}")]
    Cancelled {
        /// The credential provider.
        provider: String,
    },
    /// No workload access token: outside AgentCore without local development, or inside it
    /// without one (the message says what to send).
    #[error("{0}")]
    NoWorkloadToken(String),
    /// The local development file (`.agentcore.json`) could not be read or written.
    #[error("{message}")]
    Local {
        /// What failed, with the path.
        message: String,
        /// The I/O or JSON error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl IdentityError {
    /// The raised interrupt, when this is one.
    pub fn interrupt(&self) -> Option<&InterruptRaised> {
        match self {
            Self::Interrupted(raised) => Some(raised),
            _ => None,
        }
    }
}

/// One Identity call: its name and the credential provider it is about.
#[derive(Debug, Clone, Copy)]
pub(super) struct Call<'a> {
    pub(super) operation: &'static str,
    provider: Option<&'a str>,
    /// A credential the request carried, blanked out of whatever the service answers.
    hidden: Option<&'a str>,
}

/// The text of an SDK failure with the request's credential blanked out: kept as the source
/// instead of the SDK error, whose `Debug` holds the raw response (a token, when a success
/// failed to parse).
#[derive(Debug)]
struct Scrubbed(String);

impl std::fmt::Display for Scrubbed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Scrubbed {}

impl<'a> Call<'a> {
    pub(super) fn provider(operation: &'static str, provider: &'a str) -> Self {
        Self {
            operation,
            provider: Some(provider),
            hidden: None,
        }
    }

    pub(super) fn plain(operation: &'static str) -> Self {
        Self {
            operation,
            provider: None,
            hidden: None,
        }
    }

    /// The same call, blanking `secret` out of error texts (AWS validation messages may quote
    /// the value they refused).
    pub(super) fn hiding(mut self, secret: &'a str) -> Self {
        self.hidden = Some(secret).filter(|s| !s.is_empty());
        self
    }

    fn scrub(&self, text: String) -> String {
        match self.hidden {
            Some(secret) => text.replace(secret, "(hidden)"),
            None => text,
        }
    }

    /// An [`IdentityError::Service`] for `error`: a denial names the permission, a missing
    /// provider says so, a rejected workload token says where it comes from.
    pub(super) fn error<E, R>(&self, error: &SdkError<E, R>) -> IdentityError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let operation = self.operation;
        let what = match self.provider {
            Some(provider) => {
                format!("AgentCore Identity {operation} (credential provider {provider})")
            }
            None => format!("AgentCore Identity {operation}"),
        };
        let code = error.code().map(str::to_owned);
        let reason = match (error.code(), error.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => DisplayErrorContext(error).to_string(),
        };
        let message = match error.code().unwrap_or_default() {
            "AccessDeniedException" => format!(
                "{what} was denied ({reason}); the execution role needs bedrock-agentcore:{operation}, and the workload access token must be the invocation's"
            ),
            "ResourceNotFoundException" => format!(
                "{what} failed: not found ({reason}); check the credential provider or workload identity name and the region"
            ),
            "ThrottlingException" => {
                format!("{what} was throttled ({reason}); retry later or raise the quota")
            }
            "UnauthorizedException" => {
                format!("{what} was refused: the workload access token is not valid ({reason})")
            }
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "IncompleteSignature"
            | "IncompleteSignatureException"
            | "MissingAuthenticationTokenException" => {
                format!("{what} failed: the AWS credentials were rejected ({reason})")
            }
            "ValidationException" => format!("{what} was refused as invalid ({reason})"),
            _ => match error {
                SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => format!(
                    "{what} failed: could not reach the AgentCore endpoint ({})",
                    DisplayErrorContext(error)
                ),
                _ => format!("{what} failed ({reason})"),
            },
        };
        let source = Box::new(Scrubbed(self.scrub(DisplayErrorContext(error).to_string())));
        IdentityError::Service {
            operation,
            code,
            message: self.scrub(message),
            source,
        }
    }
}
