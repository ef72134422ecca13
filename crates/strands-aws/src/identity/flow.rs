//! Getting a token for a tool: the cache, then the service, then (when the user must consent)
//! an interrupt the caller answers, or Python's callback and polling.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use strands_core::ToolContext;
use tokio::time::Instant;

use super::{AgentCoreIdentity, IdentityError, OAuth2Outcome, OAuth2Request, Secret, Workload};

/// How often a consent session is polled (Python's `DEFAULT_POLLING_INTERVAL_SECONDS`).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// How long a consent session is polled (Python's `DEFAULT_POLLING_TIMEOUT_SECONDS`).
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(600);

type Notify = Arc<dyn Fn(&str) + Send + Sync>;

/// What happens when the user must consent.
///
/// By default the authorization URL becomes a Strands interrupt named
/// `agentcore_identity_oauth2:<provider>`, whose reason is
/// `{"type": "oauth2_authorization", "provider", "authorizationUrl", "sessionUri"}`; the caller
/// sends the user there and answers the interrupt (any value but `false`) once they consented.
/// The tool then runs again and polls the session until the token is there. With
/// [`Consent::on_auth_url`] the URL goes to a function instead, and the tool polls at once
/// (Python's `on_auth_url`).
#[derive(Clone)]
pub struct Consent {
    on_auth_url: Option<Notify>,
    interval: Duration,
    timeout: Duration,
}

impl Default for Consent {
    fn default() -> Self {
        Self {
            on_auth_url: None,
            interval: DEFAULT_POLL_INTERVAL,
            timeout: DEFAULT_POLL_TIMEOUT,
        }
    }
}

impl fmt::Debug for Consent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consent")
            .field("on_auth_url", &self.on_auth_url.as_ref().map(|_| "fn"))
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Consent {
    /// Sends the authorization URL to `notify` and waits for the token in the tool, instead of
    /// interrupting the agent.
    #[must_use]
    pub fn on_auth_url(mut self, notify: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_auth_url = Some(Arc::new(notify));
        self
    }

    /// Polls every `interval` for at most `timeout` (defaults: 5 s and 600 s, as Python).
    #[must_use]
    pub fn polling(mut self, interval: Duration, timeout: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(10));
        self.timeout = timeout;
        self
    }
}

/// The interrupt a consent raises for `provider`.
pub(super) fn interrupt_name(provider: &str) -> String {
    format!("agentcore_identity_oauth2:{provider}")
}

impl AgentCoreIdentity {
    /// An OAuth2 access token for the tool running with `context`, for `workload`'s caller
    /// (Python: `@requires_access_token`): from the cache while it is valid, else from the
    /// service; when the user must consent, as `consent` says.
    ///
    /// ```no_run
    /// use strands_aws::identity::{AgentCoreIdentity, Consent, IdentityError, OAuth2Request, Workload};
    /// use strands_core::ToolContext;
    ///
    /// async fn repos(
    ///     identity: &AgentCoreIdentity,
    ///     workload: &Workload,
    ///     context: &ToolContext,
    /// ) -> Result<String, IdentityError> {
    ///     let request = OAuth2Request::user_federation("github", ["repo"]);
    ///     let token = identity.access_token(context, workload, &request, &Consent::default()).await?;
    ///     Ok(format!("calling GitHub with a token of {} bytes", token.expose().len()))
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`IdentityError::Interrupted`] when the user must consent (return it); the caller's
    /// `false` ([`IdentityError::Declined`]); no token within the polling timeout; the service's
    /// refusals.
    pub async fn access_token(
        &self,
        context: &ToolContext,
        workload: &Workload,
        request: &OAuth2Request,
        consent: &Consent,
    ) -> Result<Secret, IdentityError> {
        let key = request.cache_key();
        let name = interrupt_name(&request.provider);
        if let Some(answer) = context.interrupt_response(&name) {
            if *answer == Value::Bool(false) {
                return Err(IdentityError::Declined {
                    provider: request.provider.clone(),
                });
            }
            let session = self.pending.get(&workload.principal, &key);
            return self
                .poll(context, workload, request, &key, session, consent, false)
                .await;
        }
        if !request.force_authentication
            && let Some(token) = self.cache.get(&workload.principal, &key)
        {
            return Ok(token);
        }
        match self.oauth2_token(workload, request, None).await? {
            OAuth2Outcome::Token(token) => {
                self.cache.put(&workload.principal, &key, &token);
                Ok(token.secret)
            }
            OAuth2Outcome::AuthorizationRequired {
                authorization_url,
                session_uri,
            } => {
                if let Some(notify) = &consent.on_auth_url {
                    notify(&authorization_url);
                    return self
                        .poll(context, workload, request, &key, session_uri, consent, true)
                        .await;
                }
                let reason = json!({
                    "type": "oauth2_authorization",
                    "provider": request.provider,
                    "authorizationUrl": authorization_url,
                    "sessionUri": session_uri,
                });
                if let Some(uri) = session_uri.clone() {
                    self.pending.put(&workload.principal, &key, uri);
                }
                match context.interrupt(&name, reason) {
                    Err(raised) => Err(IdentityError::Interrupted(raised)),
                    Ok(_) => {
                        self.poll(
                            context,
                            workload,
                            request,
                            &key,
                            session_uri,
                            consent,
                            false,
                        )
                        .await
                    }
                }
            }
        }
    }

    /// Asks again (with the session, if known) every interval until a token comes, the timeout
    /// passes or the agent is cancelled.
    #[allow(
        clippy::too_many_arguments,
        reason = "one private step of access_token, taking its locals"
    )]
    async fn poll(
        &self,
        context: &ToolContext,
        workload: &Workload,
        request: &OAuth2Request,
        key: &str,
        mut session: Option<String>,
        consent: &Consent,
        wait_first: bool,
    ) -> Result<Secret, IdentityError> {
        let deadline = Instant::now() + consent.timeout;
        let mut wait = wait_first;
        loop {
            if wait {
                if Instant::now() + consent.interval > deadline {
                    return Err(IdentityError::ConsentTimedOut {
                        provider: request.provider.clone(),
                        waited: consent.timeout,
                    });
                }
                tokio::select! {
                    () = tokio::time::sleep(consent.interval) => {}
                    () = context.cancellation_token().cancelled() => {
                        return Err(IdentityError::Cancelled { provider: request.provider.clone() });
                    }
                }
            }
            wait = true;
            tracing::debug!(provider = %request.provider, "polling AgentCore Identity for the consented token");
            match self
                .request_token(workload, request, session.as_deref(), false)
                .await?
            {
                OAuth2Outcome::Token(token) => {
                    self.pending.done(&workload.principal, key);
                    self.cache.put(&workload.principal, key, &token);
                    return Ok(token.secret);
                }
                OAuth2Outcome::AuthorizationRequired { session_uri, .. } => {
                    if session_uri.is_some() {
                        session = session_uri;
                    }
                }
            }
        }
    }
}
