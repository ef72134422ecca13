//! Tools that act for the caller: OAuth2 tokens and API keys from AgentCore Identity, for the
//! invocation running the tool (Python: `@requires_access_token`, `@requires_api_key` and
//! `@requires_wat` of `bedrock_agentcore.identity`).
//!
//! The invocation's workload access token (the `WorkloadAccessToken` or
//! `X-Amz-Bedrock-AgentCore-Identity-WAT` header) says who the caller is; without one, local
//! development creates a workload identity and user in `./.agentcore.json` as Python does, and
//! inside a container (`DOCKER_CONTAINER=1`) the error says which header to send.
//!
//! ```no_run
//! use std::sync::LazyLock;
//! use strands_agent::tool;
//! use strands_core::ToolContext;
//! use strands_runtime::identity::{IdentityError, OAuth2Request, RequiresAccessToken};
//!
//! static GITHUB: LazyLock<RequiresAccessToken> = LazyLock::new(|| {
//!     RequiresAccessToken::new(OAuth2Request::user_federation("github-provider", ["repo"]))
//! });
//!
//! /// List the caller's GitHub repositories.
//! #[tool]
//! async fn list_repos(context: ToolContext) -> Result<String, IdentityError> {
//!     // The first time, the user must consent: the agent stops with an interrupt whose reason
//!     // holds the authorization URL, and this tool runs again when the caller answers it.
//!     let token = GITHUB.get(&context).await?;
//!     Ok(format!("would call the GitHub API with a token of {} bytes", token.expose().len()))
//! }
//! # let _agent = strands_agent::Agent::builder().tool(list_repos);
//! ```

use sha2::{Digest, Sha256};
use strands_core::ToolContext;
use tokio::sync::OnceCell;

use crate::RequestContext;

#[doc(inline)]
pub use strands_aws::identity::{
    AgentCoreIdentity, Consent, IdentityError, OAuth2Flow, OAuth2Request, Secret, UserIdentifier,
    Workload,
};

/// Python's error when a tool needs the workload access token and there is none.
pub const NO_WORKLOAD_TOKEN_MESSAGE: &str = "No workload access token available in context. Ensure the agent is running on AgentCore runtime.";

static SHARED: OnceCell<AgentCoreIdentity> = OnceCell::const_new();

/// The process's Identity client, made on first use from the runtime's AWS configuration
/// (`BEDROCK_AGENTCORE_DP_ENDPOINT` / `BEDROCK_AGENTCORE_CP_ENDPOINT` honoured).
pub async fn shared_identity() -> &'static AgentCoreIdentity {
    SHARED
        .get_or_init(|| async { AgentCoreIdentity::from_conf(&strands_aws::sdk_config().await) })
        .await
}

/// The caller of the invocation running on this task: its workload access token, or local
/// development's (see the module docs).
///
/// # Errors
///
/// No token in a container, or local development failed.
pub async fn current_workload(identity: &AgentCoreIdentity) -> Result<Workload, IdentityError> {
    let context = RequestContext::current();
    let callback = context.as_ref().and_then(|c| c.oauth2_callback_url.clone());
    if let Some(context) = &context
        && let Some(token) = &context.workload_access_token
    {
        return Ok(Workload::new(Secret::new(token.as_str()), principal(token))
            .with_callback_url(callback)
            .with_conversation(context.session_id.clone()));
    }
    let workload = identity.workload_without_invocation_token().await?;
    let conversation = context.and_then(|c| c.session_id.clone());
    Ok(workload
        .with_callback_url(callback)
        .with_conversation(conversation))
}

/// Whom tokens are cached for: a digest of the workload access token itself. Not the user id
/// header, which a caller of a server outside AgentCore can set to anything: a token is served
/// from the cache only to a request bearing the very workload token it was issued for.
fn principal(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("token:{hex}")
}

/// An OAuth2 access token a tool needs (Python: `@requires_access_token`): build it once, call
/// [`RequiresAccessToken::get`] in the tool.
#[derive(Debug, Clone)]
pub struct RequiresAccessToken {
    request: OAuth2Request,
    consent: Consent,
    identity: Option<AgentCoreIdentity>,
}

impl RequiresAccessToken {
    /// A token as `request` describes it; user consent becomes an interrupt.
    pub fn new(request: OAuth2Request) -> Self {
        Self {
            request,
            consent: Consent::default(),
            identity: None,
        }
    }

    /// What happens when the user must consent (for example Python's `on_auth_url` and
    /// polling).
    #[must_use]
    pub fn consent(mut self, consent: Consent) -> Self {
        self.consent = consent;
        self
    }

    /// Uses this client instead of [`shared_identity`].
    #[must_use]
    pub fn identity(mut self, identity: AgentCoreIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// The token, for the invocation running the tool with `context`.
    ///
    /// # Errors
    ///
    /// [`IdentityError::Interrupted`] when the user must consent: return it (`?`), the agent
    /// stops with the interrupt. Otherwise what [`AgentCoreIdentity::access_token`] and
    /// [`current_workload`] report.
    pub async fn get(&self, context: &ToolContext) -> Result<Secret, IdentityError> {
        let identity = match &self.identity {
            Some(identity) => identity,
            None => shared_identity().await,
        };
        let workload = current_workload(identity).await?;
        identity
            .access_token(context, &workload, &self.request, &self.consent)
            .await
    }
}

/// An API key a tool needs (Python: `@requires_api_key`).
#[derive(Debug, Clone)]
pub struct RequiresApiKey {
    provider: String,
    identity: Option<AgentCoreIdentity>,
}

impl RequiresApiKey {
    /// The key of the API key credential provider `provider`.
    pub fn new(provider: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            identity: None,
        }
    }

    /// Uses this client instead of [`shared_identity`].
    #[must_use]
    pub fn identity(mut self, identity: AgentCoreIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// The key, for the invocation running the tool.
    ///
    /// # Errors
    ///
    /// What [`AgentCoreIdentity::api_key`] and [`current_workload`] report.
    pub async fn get(&self) -> Result<Secret, IdentityError> {
        let identity = match &self.identity {
            Some(identity) => identity,
            None => shared_identity().await,
        };
        let workload = current_workload(identity).await?;
        identity.api_key(&workload, &self.provider).await
    }
}

/// The invocation's workload access token, to pass on to another AgentCore runtime or gateway
/// (Python: `@requires_wat`).
///
/// # Errors
///
/// [`IdentityError::NoWorkloadToken`] outside an invocation that brought one.
pub fn workload_access_token() -> Result<Secret, IdentityError> {
    RequestContext::current()
        .and_then(|context| context.workload_access_token.as_deref().map(Secret::new))
        .ok_or_else(|| IdentityError::NoWorkloadToken(NO_WORKLOAD_TOKEN_MESSAGE.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn tokens_are_cached_per_workload_token() {
        let first = principal("wat-1");
        assert!(
            first.starts_with("token:") && first.len() == 6 + 64,
            "{first}"
        );
        assert_eq!(first, principal("wat-1"));
        assert_ne!(first, principal("wat-2"));
        assert!(!first.contains("wat-1"));
    }

    #[test]
    fn outside_an_invocation_there_is_no_workload_token() {
        let error = workload_access_token().unwrap_err();
        assert_eq!(error.to_string(), NO_WORKLOAD_TOKEN_MESSAGE);
    }
}
