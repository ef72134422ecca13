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
        // Where the consent session is remembered between the pause and the resume: the
        // conversation and interrupt (stable across the resume, whatever workload token the
        // resuming request brings), else the caller and request. The service checks that a
        // session is the caller's either way.
        let (owner, pending) = match (&workload.conversation, context.interrupt_id(&name)) {
            (Some(conversation), Some(id)) => (format!("conversation:{conversation}"), id),
            _ => (workload.principal.clone(), key.clone()),
        };
        let poll = Poll {
            context,
            workload,
            request,
            key: &key,
        };
        if let Some(answer) = context.interrupt_response(&name) {
            if *answer == Value::Bool(false) {
                return Err(IdentityError::Declined {
                    provider: request.provider.clone(),
                });
            }
            let session = self.pending.get(&owner, &pending);
            let wait = consent.timeout.min(RESUME_WAIT);
            let token = poll
                .run(self, session, consent.interval, wait, false)
                .await?;
            self.pending.done(&owner, &pending);
            return Ok(token);
        }
        if !request.force_authentication
            && let Some(token) = self.cache.get(&workload.principal, &key)
        {
            return Ok(token);
        }
        let (authorization_url, session_uri) =
            match self.oauth2_token(workload, request, None).await? {
                OAuth2Outcome::Token(token) => {
                    self.cache.put(&workload.principal, &key, &token);
                    return Ok(token.secret);
                }
                OAuth2Outcome::AuthorizationRequired {
                    authorization_url,
                    session_uri,
                } => (authorization_url, session_uri),
            };
        if let Some(notify) = &consent.on_auth_url {
            notify(&authorization_url);
            return poll
                .run(self, session_uri, consent.interval, consent.timeout, true)
                .await;
        }
        if let Some(uri) = session_uri.clone() {
            self.pending.put(&owner, &pending, uri);
        }
        let reason = json!({
            "type": "oauth2_authorization",
            "provider": request.provider,
            "authorizationUrl": authorization_url,
            "sessionUri": session_uri,
        });
        match context.interrupt(&name, reason) {
            Err(raised) => Err(IdentityError::Interrupted(raised)),
            Ok(_) => {
                poll.run(self, session_uri, consent.interval, RESUME_WAIT, false)
                    .await
            }
        }
    }
}

/// How long a resumed tool waits for the token: the caller said the user consented, so it
/// should be there at once; this only covers the callback still completing.
pub(super) const RESUME_WAIT: Duration = Duration::from_secs(30);

/// One token being waited for.
struct Poll<'a> {
    context: &'a ToolContext,
    workload: &'a Workload,
    request: &'a OAuth2Request,
    key: &'a str,
}

impl Poll<'_> {
    /// Asks again with the first session (as Python) every `interval` until a token comes,
    /// `timeout` passes or the agent is cancelled; each call is bounded by both too.
    async fn run(
        &self,
        identity: &AgentCoreIdentity,
        session: Option<String>,
        interval: Duration,
        timeout: Duration,
        wait_first: bool,
    ) -> Result<Secret, IdentityError> {
        let provider = &self.request.provider;
        let deadline = Instant::now() + timeout;
        let mut wait = wait_first;
        loop {
            if wait {
                if Instant::now() + interval > deadline {
                    return Err(IdentityError::ConsentTimedOut {
                        provider: provider.clone(),
                        waited: timeout,
                    });
                }
                self.bounded(tokio::time::sleep(interval), deadline, timeout)
                    .await?;
            }
            wait = true;
            tracing::debug!(provider = %provider, "polling AgentCore Identity for the consented token");
            let call =
                identity.request_token(self.workload, self.request, session.as_deref(), false);
            match self.bounded(call, deadline, timeout).await? {
                Ok(OAuth2Outcome::Token(token)) => {
                    identity
                        .cache
                        .put(&self.workload.principal, self.key, &token);
                    return Ok(token.secret);
                }
                // Not yet (Python's poller treats an answer without a token the same way).
                Ok(OAuth2Outcome::AuthorizationRequired { .. })
                | Err(IdentityError::EmptyAnswer { .. }) => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// `future`, unless the agent is cancelled or the deadline (of a `timeout` wait) passes
    /// first.
    async fn bounded<T>(
        &self,
        future: impl std::future::Future<Output = T>,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<T, IdentityError> {
        let provider = &self.request.provider;
        tokio::select! {
            value = future => Ok(value),
            () = self.context.cancellation_token().cancelled() => {
                Err(IdentityError::Cancelled { provider: provider.clone() })
            }
            () = tokio::time::sleep_until(deadline) => Err(IdentityError::ConsentTimedOut {
                provider: provider.clone(),
                waited: timeout,
            }),
        }
    }
}
