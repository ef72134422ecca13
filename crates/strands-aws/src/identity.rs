//! Amazon Bedrock AgentCore Identity: OAuth2 access tokens and API keys from credential
//! providers, for the caller of an invocation, so tools reach third-party APIs as the user
//! (Python: `bedrock_agentcore.services.identity.IdentityClient` and the decorators of
//! `bedrock_agentcore.identity.auth`).
//!
//! AgentCore Runtime hands each invocation a *workload access token* (the `WorkloadAccessToken`
//! header); with it, [`AgentCoreIdentity`] asks the Identity data plane for:
//!
//! - an OAuth2 access token ([`AgentCoreIdentity::access_token`]): machine to machine, on
//!   behalf of the user (token exchange), or after the user's consent (`USER_FEDERATION`). When
//!   consent is needed, the authorization URL becomes a Strands interrupt the caller answers
//!   once the user has consented (or goes to a callback, and the tool waits, as in Python);
//! - an API key ([`AgentCoreIdentity::api_key`]).
//!
//! Access tokens that are JWTs are cached per caller until a minute before their `exp`; Python
//! asks the service every time. Outside AgentCore, [`AgentCoreIdentity::local_workload`] creates
//! a workload identity and a user id in `.agentcore.json`, as Python does for local development.
//!
//! The caller needs `bedrock-agentcore:GetResourceOauth2Token` / `GetResourceApiKey` (and for
//! local development `CreateWorkloadIdentity` and `GetWorkloadAccessTokenForUserId`). No token,
//! key or workload access token is ever logged or put in an error: [`Secret`] hides its value
//! from `Debug` and `Display`.

mod cache;
mod errors;
mod flow;
mod local;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_bedrockagentcore::Client;
use aws_sdk_bedrockagentcore::types::{
    Oauth2FlowType, SessionStatus, UserIdentifier as SdkUserIdentifier,
};
use aws_sdk_bedrockagentcorecontrol::Client as ControlClient;

pub use errors::IdentityError;
pub use flow::{Consent, DEFAULT_POLL_INTERVAL, DEFAULT_POLL_TIMEOUT};
pub use local::{DOCKER_CONTAINER_MESSAGE, LOCAL_CONFIG_FILE};

use cache::{Pending, TokenCache};
use errors::Call;

/// `BEDROCK_AGENTCORE_DP_ENDPOINT`: the data-plane endpoint, instead of the region's (Python
/// reads it too).
pub const DATA_PLANE_ENDPOINT_ENV: &str = "BEDROCK_AGENTCORE_DP_ENDPOINT";
/// `BEDROCK_AGENTCORE_CP_ENDPOINT`: the control-plane endpoint, instead of the region's.
pub const CONTROL_PLANE_ENDPOINT_ENV: &str = "BEDROCK_AGENTCORE_CP_ENDPOINT";
/// How long before its `exp` a cached access token is no longer used.
pub const DEFAULT_EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// A credential: a token, key or workload access token. `Debug` and `Display` print
/// `Secret(hidden)`; [`Secret::expose`] gives the value to whoever must send it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<Arc<str>>) -> Self {
        Self(value.into())
    }

    /// The value, to put in a request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(hidden)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(hidden)")
    }
}

/// Who a call is made for: the workload access token, and the key tokens are cached under.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Workload {
    /// The workload access token.
    pub token: Secret,
    /// Tokens are cached per principal: one per user (never shared between users).
    pub principal: String,
    /// Where the provider sends the user after consent (`resourceOauth2ReturnUrl`), unless the
    /// request names one: AgentCore's `OAuth2CallbackUrl` header.
    pub callback_url: Option<String>,
    /// The conversation (runtime session id) the call is made in: a consent session waiting for
    /// the user is remembered per conversation and interrupt, so the resuming request finds it
    /// whatever workload token it brings.
    pub conversation: Option<String>,
}

impl Workload {
    /// The workload `token` of `principal`.
    pub fn new(token: Secret, principal: impl Into<String>) -> Self {
        Self {
            token,
            principal: principal.into(),
            callback_url: None,
            conversation: None,
        }
    }

    /// The same workload in this conversation (the runtime session id).
    #[must_use]
    pub fn with_conversation(mut self, conversation: Option<String>) -> Self {
        self.conversation = conversation.filter(|c| !c.is_empty());
        self
    }

    /// The same workload with this default callback URL.
    #[must_use]
    pub fn with_callback_url(mut self, url: Option<String>) -> Self {
        self.callback_url = url;
        self
    }
}

/// An OAuth2 flow (`oauth2Flow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuth2Flow {
    /// Client credentials: the agent's own token (`M2M`).
    M2m,
    /// Authorization code with the user's consent (`USER_FEDERATION`, "3LO").
    UserFederation,
    /// Token exchange on behalf of the user (`ON_BEHALF_OF_TOKEN_EXCHANGE`).
    OnBehalfOfTokenExchange,
}

impl OAuth2Flow {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::M2m => "M2M",
            Self::UserFederation => "USER_FEDERATION",
            Self::OnBehalfOfTokenExchange => "ON_BEHALF_OF_TOKEN_EXCHANGE",
        }
    }

    fn sdk(self) -> Oauth2FlowType {
        Oauth2FlowType::from(self.as_str())
    }
}

/// What to ask a credential provider for (Python: the arguments of `@requires_access_token`).
///
/// ```
/// use strands_aws::identity::{OAuth2Flow, OAuth2Request};
///
/// let github = OAuth2Request::user_federation("github", ["repo", "read:user"])
///     .custom_parameter("prompt", "consent");
/// assert_eq!(github.flow(), OAuth2Flow::UserFederation);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuth2Request {
    provider: String,
    flow: OAuth2Flow,
    scopes: Vec<String>,
    resources: Vec<String>,
    audiences: Vec<String>,
    callback_url: Option<String>,
    force_authentication: bool,
    custom_state: Option<String>,
    custom_parameters: BTreeMap<String, String>,
}

impl OAuth2Request {
    /// A token from the credential provider `provider` with `scopes`, by `flow`.
    pub fn new(
        provider: impl Into<String>,
        flow: OAuth2Flow,
        scopes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            provider: provider.into(),
            flow,
            scopes: scopes.into_iter().map(Into::into).collect(),
            resources: Vec::new(),
            audiences: Vec::new(),
            callback_url: None,
            force_authentication: false,
            custom_state: None,
            custom_parameters: BTreeMap::new(),
        }
    }

    /// The agent's own token (client credentials).
    pub fn m2m(
        provider: impl Into<String>,
        scopes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::new(provider, OAuth2Flow::M2m, scopes)
    }

    /// The user's token, after their consent.
    pub fn user_federation(
        provider: impl Into<String>,
        scopes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::new(provider, OAuth2Flow::UserFederation, scopes)
    }

    /// OAuth2 resources to request.
    #[must_use]
    pub fn resources(mut self, resources: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.resources = resources.into_iter().map(Into::into).collect();
        self
    }

    /// OAuth2 audiences to request.
    #[must_use]
    pub fn audiences(mut self, audiences: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// Where the user returns after consent (must be registered on the workload identity);
    /// default: the invocation's `OAuth2CallbackUrl`.
    #[must_use]
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// Asks for consent again even when the vault holds a token (and skips the cache).
    #[must_use]
    pub fn force_authentication(mut self, force: bool) -> Self {
        self.force_authentication = force;
        self
    }

    /// A value the callback receives back, to check it.
    #[must_use]
    pub fn custom_state(mut self, state: impl Into<String>) -> Self {
        self.custom_state = Some(state.into());
        self
    }

    /// An extra parameter of the provider's authorization request.
    #[must_use]
    pub fn custom_parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.custom_parameters.insert(name.into(), value.into());
        self
    }

    /// The credential provider.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The flow.
    pub fn flow(&self) -> OAuth2Flow {
        self.flow
    }

    /// The scopes.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// What identifies the token asked for, apart from the caller (JSON, so no two requests
    /// share a key).
    fn cache_key(&self) -> String {
        let sorted = |items: &[String]| {
            let mut items = items.to_vec();
            items.sort();
            items
        };
        serde_json::json!([
            self.provider,
            self.flow.as_str(),
            sorted(&self.scopes),
            sorted(&self.resources),
            sorted(&self.audiences),
            self.custom_parameters,
        ])
        .to_string()
    }
}

/// `value` unless it is empty (Python leaves falsy values out of the request).
fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// What one `GetResourceOauth2Token` call answered.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum OAuth2Outcome {
    /// The token.
    Token(AccessToken),
    /// The user has to consent at `authorization_url` first.
    AuthorizationRequired {
        /// The page to send the user to.
        authorization_url: String,
        /// The session to poll with, and to complete from the callback.
        session_uri: Option<String>,
    },
}

/// An OAuth2 access token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AccessToken {
    /// The token.
    pub secret: Secret,
    /// Its `exp`, when it is a JWT that has one.
    pub expires_at: Option<SystemTime>,
}

/// Who completes a user-consent session (`CompleteResourceTokenAuth`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum UserIdentifier {
    /// The user id the workload access token was issued for.
    UserId(String),
    /// The user's JWT the workload access token was issued for.
    UserToken(Secret),
}

impl UserIdentifier {
    fn sdk(&self) -> SdkUserIdentifier {
        match self {
            Self::UserId(id) => SdkUserIdentifier::UserId(id.clone()),
            Self::UserToken(token) => SdkUserIdentifier::UserToken(token.expose().to_owned()),
        }
    }
}

/// The AgentCore Identity client of a process: both planes, the token cache and the consent
/// sessions in progress. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct AgentCoreIdentity {
    data: Client,
    control: ControlClient,
    cache: Arc<TokenCache>,
    pending: Arc<Pending>,
}

impl AgentCoreIdentity {
    /// A client over these SDK clients.
    pub fn new(data: Client, control: ControlClient) -> Self {
        Self {
            data,
            control,
            cache: Arc::new(TokenCache::new(DEFAULT_EXPIRY_MARGIN)),
            pending: Arc::new(Pending::default()),
        }
    }

    /// A client from the AWS configuration, with the endpoints of
    /// `BEDROCK_AGENTCORE_DP_ENDPOINT` / `BEDROCK_AGENTCORE_CP_ENDPOINT` when set (as Python),
    /// bounded timeouts, and the app name `strands-agents`.
    pub fn from_conf(config: &aws_config::SdkConfig) -> Self {
        let endpoint = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self::from_conf_with_endpoints(
            config,
            endpoint(DATA_PLANE_ENDPOINT_ENV).as_deref(),
            endpoint(CONTROL_PLANE_ENDPOINT_ENV).as_deref(),
        )
    }

    /// A client from the AWS configuration with these endpoints (`None`: the region's).
    pub fn from_conf_with_endpoints(
        config: &aws_config::SdkConfig,
        data_plane: Option<&str>,
        control_plane: Option<&str>,
    ) -> Self {
        let mut data = crate::agentcore::data_plane_config(config);
        if let Some(url) = data_plane {
            data = data.endpoint_url(url);
        }
        let mut control = aws_sdk_bedrockagentcorecontrol::config::Builder::from(config)
            .timeout_config(crate::agentcore::timeouts(config));
        if let Some(url) = control_plane {
            control = control.endpoint_url(url);
        }
        Self::new(
            Client::from_conf(data.build()),
            ControlClient::from_conf(control.build()),
        )
    }

    /// The same client keeping tokens until `margin` before they expire (default one minute).
    #[must_use]
    pub fn with_expiry_margin(mut self, margin: Duration) -> Self {
        self.cache = Arc::new(TokenCache::new(margin));
        self
    }

    /// One `GetResourceOauth2Token` call, uncached: `session_uri` continues a consent session.
    ///
    /// # Errors
    ///
    /// The service refused (the error names the permission, provider or setting to fix) or
    /// answered with neither a token nor an authorization URL.
    pub async fn oauth2_token(
        &self,
        workload: &Workload,
        request: &OAuth2Request,
        session_uri: Option<&str>,
    ) -> Result<OAuth2Outcome, IdentityError> {
        let force = request.force_authentication && session_uri.is_none();
        self.request_token(workload, request, session_uri, force)
            .await
    }

    /// `GetResourceOauth2Token`; only a first request forces authentication (as Python).
    async fn request_token(
        &self,
        workload: &Workload,
        request: &OAuth2Request,
        session_uri: Option<&str>,
        force: bool,
    ) -> Result<OAuth2Outcome, IdentityError> {
        let call = Call::provider("GetResourceOauth2Token", &request.provider)
            .hiding(workload.token.expose());
        let callback = non_empty(request.callback_url.as_deref())
            .or(non_empty(workload.callback_url.as_deref()));
        let mut builder = self
            .data
            .get_resource_oauth2_token()
            .workload_identity_token(workload.token.expose())
            .resource_credential_provider_name(&request.provider)
            .set_scopes(Some(request.scopes.clone()))
            .oauth2_flow(request.flow.sdk())
            .set_resource_oauth2_return_url(callback.map(str::to_owned))
            .set_session_uri(session_uri.map(str::to_owned))
            .set_custom_state(non_empty(request.custom_state.as_deref()).map(str::to_owned));
        if force {
            builder = builder.force_authentication(true);
        }
        if !request.resources.is_empty() {
            builder = builder.set_resources(Some(request.resources.clone()));
        }
        if !request.audiences.is_empty() {
            builder = builder.set_audiences(Some(request.audiences.clone()));
        }
        if !request.custom_parameters.is_empty() {
            builder = builder.set_custom_parameters(Some(
                request.custom_parameters.clone().into_iter().collect(),
            ));
        }
        let output = builder.send().await.map_err(|e| call.error(&e))?;
        if let Some(token) = output.access_token() {
            return Ok(OAuth2Outcome::Token(AccessToken {
                secret: Secret::new(token),
                expires_at: cache::jwt_expiry(token),
            }));
        }
        if output.session_status() == Some(&SessionStatus::Failed) {
            return Err(IdentityError::AuthorizationFailed {
                provider: request.provider.clone(),
            });
        }
        match output.authorization_url() {
            Some(url) => Ok(OAuth2Outcome::AuthorizationRequired {
                authorization_url: url.to_owned(),
                session_uri: output.session_uri().map(str::to_owned),
            }),
            None => Err(IdentityError::EmptyAnswer {
                operation: call.operation,
            }),
        }
    }

    /// The API key of the credential provider `provider` (`GetResourceApiKey`), uncached as in
    /// Python, so a key rotated in the vault is used at once.
    ///
    /// # Errors
    ///
    /// The service refused; the error names what to fix.
    pub async fn api_key(
        &self,
        workload: &Workload,
        provider: &str,
    ) -> Result<Secret, IdentityError> {
        let call = Call::provider("GetResourceApiKey", provider).hiding(workload.token.expose());
        let output = self
            .data
            .get_resource_api_key()
            .workload_identity_token(workload.token.expose())
            .resource_credential_provider_name(provider)
            .send()
            .await
            .map_err(|e| call.error(&e))?;
        Ok(Secret::new(output.api_key()))
    }

    /// Completes a user-consent session for `user` (`CompleteResourceTokenAuth`): what the
    /// application's callback does with the `session_id` AgentCore sends the browser back with.
    ///
    /// # Errors
    ///
    /// The service refused (the session is another user's, or not consented yet).
    pub async fn complete_resource_token_auth(
        &self,
        session_uri: &str,
        user: &UserIdentifier,
    ) -> Result<(), IdentityError> {
        self.data
            .complete_resource_token_auth()
            .session_uri(session_uri)
            .user_identifier(user.sdk())
            .send()
            .await
            .map_err(|e| {
                let call = Call::plain("CompleteResourceTokenAuth");
                match user {
                    UserIdentifier::UserToken(token) => call.hiding(token.expose()).error(&e),
                    UserIdentifier::UserId(_) => call.error(&e),
                }
            })?;
        Ok(())
    }

    /// A workload access token for the workload identity `workload_name`, for `user` if given
    /// (`GetWorkloadAccessToken[ForUserId|ForJWT]`). Runtime-managed workload identities cannot
    /// get one this way: inside AgentCore the invocation brings it.
    ///
    /// # Errors
    ///
    /// The service refused; the error names what to fix.
    pub async fn workload_access_token(
        &self,
        workload_name: &str,
        user: Option<&UserIdentifier>,
    ) -> Result<Secret, IdentityError> {
        let token = match user {
            None => {
                self.data
                    .get_workload_access_token()
                    .workload_name(workload_name)
                    .send()
                    .await
                    .map_err(|e| Call::plain("GetWorkloadAccessToken").error(&e))?
                    .workload_access_token
            }
            Some(UserIdentifier::UserId(id)) => {
                self.data
                    .get_workload_access_token_for_user_id()
                    .workload_name(workload_name)
                    .user_id(id)
                    .send()
                    .await
                    .map_err(|e| Call::plain("GetWorkloadAccessTokenForUserId").error(&e))?
                    .workload_access_token
            }
            Some(UserIdentifier::UserToken(jwt)) => {
                self.data
                    .get_workload_access_token_for_jwt()
                    .workload_name(workload_name)
                    .user_token(jwt.expose())
                    .send()
                    .await
                    .map_err(|e| {
                        Call::plain("GetWorkloadAccessTokenForJWT")
                            .hiding(jwt.expose())
                            .error(&e)
                    })?
                    .workload_access_token
            }
        };
        Ok(Secret::new(token))
    }

    /// Creates a workload identity (`CreateWorkloadIdentity`); Python names it
    /// `workload-<8 hex digits>`. Returns its name.
    ///
    /// # Errors
    ///
    /// The service refused; the error names what to fix.
    pub async fn create_workload_identity(
        &self,
        name: &str,
        allowed_return_urls: &[String],
    ) -> Result<String, IdentityError> {
        let output = self
            .control
            .create_workload_identity()
            .name(name)
            .set_allowed_resource_oauth2_return_urls(Some(allowed_return_urls.to_vec()))
            .send()
            .await
            .map_err(|e| Call::plain("CreateWorkloadIdentity").error(&e))?;
        Ok(output.name().to_owned())
    }
}
