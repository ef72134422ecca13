//! AWS Signature Version 4 on every streamable HTTP request: AgentCore Gateway with IAM
//! authorization (service `bedrock-agentcore`), as Python's `aws_iam_streamablehttp_client`
//! signs it.
//!
//! rmcp's reqwest client does the HTTP work (response limits, SSE, sessions); this wrapper
//! computes each request's signature from the exact bytes it will send and adds the headers.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use futures_util::stream::BoxStream;
use http::{HeaderName, HeaderValue};
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};
use sse_stream::{Error as SseError, Sse};

/// The signing name of AgentCore (Gateway and runtimes).
pub const AGENTCORE_SERVICE: &str = "bedrock-agentcore";

/// Credentials without an expiry are resolved again after this long, so rotated keys are
/// picked up.
const REUSE_UNEXPIRING: Duration = Duration::from_secs(5 * 60);
/// Expiring credentials are resolved again this long before they expire.
const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Signs an [`McpClient`](crate::McpClient)'s HTTP requests with AWS credentials.
///
/// ```
/// use aws_credential_types::Credentials;
/// use strands_mcp::{McpClient, McpTransport, SigV4Signer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "example");
/// let signer = SigV4Signer::agentcore(credentials, "us-east-1");
/// let gateway = McpClient::builder(
///     "gateway",
///     McpTransport::http("https://gw-1.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp"),
/// )
/// .sigv4(signer)
/// .start();
/// # gateway.stop().await;
/// # }
/// ```
#[derive(Clone)]
pub struct SigV4Signer {
    provider: SharedCredentialsProvider,
    region: String,
    service: String,
    cached: Arc<Mutex<Option<(Credentials, Instant)>>>,
}

impl fmt::Debug for SigV4Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Signer")
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl SigV4Signer {
    /// Signs for `service` in `region` with credentials from `provider` (resolved when needed,
    /// kept until 5 minutes before they expire, or for 5 minutes when they do not expire).
    pub fn new(
        provider: impl ProvideCredentials + 'static,
        region: impl Into<String>,
        service: impl Into<String>,
    ) -> Self {
        Self {
            provider: SharedCredentialsProvider::new(provider),
            region: region.into(),
            service: service.into(),
            cached: Arc::new(Mutex::new(None)),
        }
    }

    /// Signs for AgentCore (`bedrock-agentcore`) in `region`.
    pub fn agentcore(
        provider: impl ProvideCredentials + 'static,
        region: impl Into<String>,
    ) -> Self {
        Self::new(provider, region, AGENTCORE_SERVICE)
    }

    /// The region of an AgentCore Gateway URL
    /// (`https://<id>.gateway.bedrock-agentcore.<region>.amazonaws.com/mcp`), if it is one.
    pub fn region_of_gateway_url(url: &str) -> Option<&str> {
        let host = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest)
            .split(['/', ':', '?'])
            .next()?;
        let (_, rest) = host.split_once(".bedrock-agentcore.")?;
        let region = rest.strip_suffix(".amazonaws.com")?;
        (!region.is_empty() && !region.contains('.')).then_some(region)
    }

    /// The credentials to sign with: the cached ones while fresh, else resolved again.
    async fn credentials(&self) -> Result<Credentials, String> {
        let now = Instant::now();
        if let Some((credentials, resolved)) = &*self.lock() {
            let fresh = match credentials.expiry() {
                Some(expiry) => expiry
                    .duration_since(SystemTime::now())
                    .is_ok_and(|left| left > EXPIRY_MARGIN),
                None => now.duration_since(*resolved) < REUSE_UNEXPIRING,
            };
            if fresh {
                return Ok(credentials.clone());
            }
        }
        let credentials = self
            .provider
            .provide_credentials()
            .await
            .map_err(|error| format!("no AWS credentials to sign the request: {error}"))?;
        *self.lock() = Some((credentials.clone(), now));
        Ok(credentials)
    }

    /// Forgets the cached credentials (the server refused them: they may have been rotated).
    fn invalidate(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Credentials, Instant)>> {
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The headers that sign `method uri` with `body`: `authorization`, `x-amz-date`, and
    /// `x-amz-security-token` for temporary credentials. Only the host (from `uri`) and these
    /// headers are signed, so the caller may add others.
    ///
    /// # Errors
    ///
    /// No credentials could be resolved, or the request cannot be signed (an invalid URI).
    pub async fn signed_headers(
        &self,
        method: &str,
        uri: &str,
        body: &[u8],
    ) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
        self.headers(method, uri, body).await
    }

    async fn headers(
        &self,
        method: &str,
        uri: &str,
        body: &[u8],
    ) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
        let credentials = self.credentials().await?;
        let identity = Identity::from(credentials);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|error| format!("the request could not be signed: {error}"))?
            .into();
        // Only the host (taken from the URI) and the x-amz-* headers are signed: rmcp adds the
        // others (accept, content-type, mcp-session-id) itself.
        let signable = SignableRequest::new(
            method,
            uri,
            std::iter::empty::<(&str, &str)>(),
            SignableBody::Bytes(body),
        )
        .map_err(|error| format!("the request could not be signed: {error}"))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|error| format!("the request could not be signed: {error}"))?
            .into_parts();
        instructions
            .headers()
            .map(|(name, value)| {
                Ok((
                    HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?,
                    HeaderValue::from_str(value).map_err(|e| e.to_string())?,
                ))
            })
            .collect()
    }
}

/// rmcp's reqwest client with every request signed.
#[derive(Clone)]
pub(crate) struct SigningClient {
    pub(crate) inner: reqwest::Client,
    pub(crate) signer: SigV4Signer,
}

type HttpError = StreamableHttpError<reqwest::Error>;

impl SigningClient {
    async fn signed(
        &self,
        method: &str,
        uri: &str,
        body: &[u8],
        mut headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<HashMap<HeaderName, HeaderValue>, HttpError> {
        let signature = self
            .signer
            .headers(method, uri, body)
            .await
            .map_err(|reason| StreamableHttpError::UnexpectedServerResponse(reason.into()))?;
        headers.extend(signature);
        Ok(headers)
    }

    /// A refusal of the credentials (rmcp reports an unchallenged 401 or 403 as
    /// `HTTP 403 ...`) makes the next request resolve them again.
    fn observe<T>(&self, result: Result<T, HttpError>) -> Result<T, HttpError> {
        let refused = match &result {
            Err(StreamableHttpError::UnexpectedServerResponse(text)) => {
                text.starts_with("HTTP 401") || text.starts_with("HTTP 403")
            }
            Err(
                StreamableHttpError::AuthRequired(_) | StreamableHttpError::InsufficientScope(_),
            ) => true,
            _ => false,
        };
        if refused {
            self.signer.invalidate();
        }
        result
    }
}

impl StreamableHttpClient for SigningClient {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        // The bytes reqwest's `.json(&message)` sends: the signature covers them.
        let body = serde_json::to_vec(&message)?;
        let headers = self.signed("POST", &uri, &body, custom_headers).await?;
        let result = self
            .inner
            .post_message_with_response_limits(
                uri,
                message,
                session_id,
                auth_header,
                headers,
                limits,
            )
            .await;
        self.observe(result)
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), HttpError> {
        let headers = self.signed("DELETE", &uri, b"", custom_headers).await?;
        let result = self
            .inner
            .delete_session(uri, session_id, auth_header, headers)
            .await;
        self.observe(result)
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, HttpError> {
        let headers = self.signed("GET", &uri, b"", custom_headers).await?;
        let result = self
            .inner
            .get_stream(uri, session_id, last_event_id, auth_header, headers)
            .await;
        self.observe(result)
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, HttpError> {
        let headers = self.signed("GET", &uri, b"", custom_headers).await?;
        let result = self
            .inner
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                auth_header,
                headers,
                max_sse_event_size,
            )
            .await;
        self.observe(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_is_read_from_a_gateway_url() {
        for (url, region) in [
            (
                "https://gw-1a2b.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp",
                Some("us-east-1"),
            ),
            (
                "https://gw.gateway.bedrock-agentcore.eu-west-3.amazonaws.com:443/mcp?x=1",
                Some("eu-west-3"),
            ),
            ("https://example.com/mcp", None),
            ("https://x.bedrock-agentcore..amazonaws.com/mcp", None),
            ("http://127.0.0.1:8080/mcp", None),
        ] {
            assert_eq!(SigV4Signer::region_of_gateway_url(url), region, "{url}");
        }
    }
}
