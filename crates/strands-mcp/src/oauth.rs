//! OAuth 2.0 client credentials (machine to machine) on streamable HTTP, as Python Strands'
//! `MCPClient(auth={"client_id", "client_secret", "scopes"})` does it with the MCP SDK's
//! `ClientCredentialsOAuthProvider`.
//!
//! The first request goes out without a token. When the server answers 401, its challenge
//! starts discovery as the MCP authorization spec orders it: the protected resource metadata
//! (RFC 9728: the challenge's `resource_metadata`, then the path-based and root well-known
//! URLs), then the authorization server's metadata (RFC 8414 and OpenID discovery, path-aware),
//! then a `client_credentials` grant at its token endpoint with the `resource` (RFC 8707) and
//! the scope the challenge, the resource or the configuration names. The token is kept until
//! shortly before it expires, and fetched again when the server refuses it.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::stream::BoxStream;
use http::{HeaderName, HeaderValue};
use reqwest::Url;
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};
use serde_json::Value;
use sse_stream::{Error as SseError, Sse};

/// The longest metadata document or token response read.
const MAX_BODY: usize = 64 * 1024;
/// How long one discovery or token request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A token is fetched again this long before it expires (at most half its life).
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// OAuth client credentials for an MCP server over streamable HTTP: the `client_credentials`
/// grant, with the token endpoint discovered from the server (MCP authorization spec).
///
/// ```
/// use strands_mcp::{ClientCredentials, McpClient, McpTransport};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let credentials = ClientCredentials::new("my-client", "my-secret").scopes(["tools:read"]);
/// let client = McpClient::builder("tickets", McpTransport::http("https://mcp.example.com/mcp"))
///     .oauth(credentials)
///     .start();
/// # client.stop().await;
/// # }
/// ```
///
/// Python: `MCPClientCredentials` (`auth=` of `MCPClient` and of `load_servers` entries).
#[derive(Clone)]
pub struct ClientCredentials {
    client_id: String,
    client_secret: String,
    scopes: Vec<String>,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl ClientCredentials {
    /// The client's id and secret, as registered with the authorization server.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scopes: Vec::new(),
        }
    }

    /// The scopes to ask for when neither the server's challenge nor its resource metadata
    /// names any (Python: advisory, the server's list wins).
    #[must_use]
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

/// A token and when to stop using it.
#[derive(Clone)]
struct Token {
    value: String,
    renew_at: Option<Instant>,
    /// Counts the tokens fetched, so concurrent refusals fetch one new token, not one each.
    generation: u64,
}

/// Where and how tokens are asked for, once discovered.
#[derive(Debug, Clone)]
struct Endpoint {
    token_url: Url,
    resource: String,
    scope: Option<String>,
    basic: bool,
}

/// The OAuth state of one client, shared by its connections.
#[derive(Clone)]
pub(crate) struct OAuth {
    credentials: Arc<ClientCredentials>,
    token: Arc<RwLock<Option<Token>>>,
    /// Held while discovering or fetching a token; holds what discovery found.
    endpoint: Arc<tokio::sync::Mutex<Option<Endpoint>>>,
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl OAuth {
    pub(crate) fn new(credentials: ClientCredentials) -> Self {
        Self {
            credentials: Arc::new(credentials),
            token: Arc::default(),
            endpoint: Arc::default(),
        }
    }

    fn current(&self) -> Option<Token> {
        self.token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The token for the next request: the one held while it is fresh, a new one when it is
    /// due and the endpoint is known, none before the server has asked for one.
    async fn token(&self, http: &reqwest::Client) -> Result<Option<Token>, String> {
        match self.current() {
            Some(token) if token.renew_at.is_none_or(|at| Instant::now() < at) => Ok(Some(token)),
            Some(token) => self
                .authorize(http, None, None, Some(token.generation))
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    /// Fetches a token, after discovering the endpoint when it is not known yet or a challenge
    /// names new metadata. `refused` is the generation of the token the server refused (none:
    /// it got no token): when another request has fetched a newer one meanwhile, that one is
    /// used.
    async fn authorize(
        &self,
        http: &reqwest::Client,
        server: Option<&str>,
        challenge: Option<&str>,
        refused: Option<u64>,
    ) -> Result<Token, String> {
        let mut endpoint = self.endpoint.lock().await;
        if let Some(token) = self.current()
            && Some(token.generation) != refused
            && token.renew_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(token);
        }
        let rediscover =
            challenge.is_some_and(|c| challenge_field(c, "resource_metadata").is_some());
        let known = match endpoint.as_mut() {
            Some(known) if !rediscover => {
                // A refusal asking for more scope (step-up): ask for both.
                if let Some(wanted) = challenge.and_then(|c| challenge_field(c, "scope")) {
                    known.scope = Some(union_scopes(known.scope.as_deref(), wanted));
                }
                known.clone()
            }
            _ => {
                let server = server.ok_or("the MCP server has not asked for OAuth yet")?;
                let found = discover(http, &self.credentials, server, challenge).await?;
                *endpoint = Some(found.clone());
                found
            }
        };
        let (value, expires_in) = request_token(http, &self.credentials, &known).await?;
        let generation = self.current().map_or(1, |t| t.generation + 1);
        let renew_at = expires_in.map(|life| Instant::now() + life - EXPIRY_MARGIN.min(life / 2));
        let token = Token {
            value,
            renew_at,
            generation,
        };
        *self.token.write().unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
        Ok(token)
    }
}

/// The scopes of `held` followed by those of `wanted` it lacks (Python's `union_scopes`).
fn union_scopes(held: Option<&str>, wanted: &str) -> String {
    let mut scopes: Vec<&str> = held.unwrap_or_default().split_whitespace().collect();
    for scope in wanted.split_whitespace() {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes.join(" ")
}

/// A parameter of a `WWW-Authenticate` challenge (`name="value"` or `name=value`).
fn challenge_field<'a>(challenge: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = challenge;
    while let Some(at) = rest.find(name) {
        let before = rest.get(..at).and_then(|b| b.chars().next_back());
        let after = rest.get(at + name.len()..).unwrap_or_default();
        rest = after;
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        return match value.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next(),
            None => value.split([' ', ',']).next(),
        }
        .filter(|v| !v.is_empty());
    }
    None
}

/// The discovery of where tokens come from, as the MCP authorization spec orders it.
async fn discover(
    http: &reqwest::Client,
    credentials: &ClientCredentials,
    server: &str,
    challenge: Option<&str>,
) -> Result<Endpoint, String> {
    let server = Url::parse(server).map_err(|e| format!("{server:?} is not a URL: {e}"))?;
    let origin = server.origin().ascii_serialization();
    let resource_metadata = protected_resource_metadata(http, &server, challenge).await;
    let resource = resource_of(&server, resource_metadata.as_ref().map(|(d, _)| d))?;
    let issuer = resource_metadata
        .as_ref()
        .map(|(_, issuer)| issuer.as_str());
    let server_metadata = authorization_server_metadata(http, issuer, &origin).await?;
    let token_url = match server_metadata
        .as_ref()
        .and_then(|m| m["token_endpoint"].as_str())
    {
        Some(url) => url.to_owned(),
        None => format!("{origin}/token"),
    };
    let token_url = Url::parse(&token_url)
        .map_err(|e| format!("the token endpoint {token_url:?} is not a URL: {e}"))?;
    let methods = server_metadata
        .as_ref()
        .and_then(|m| m["token_endpoint_auth_methods_supported"].as_array());
    let offers = |method: &str| methods.is_some_and(|m| m.iter().any(|v| v == method));
    // RFC 8414: no list means client_secret_basic; Python always sends Basic.
    let basic = offers("client_secret_basic") || !offers("client_secret_post");
    let scope = scope_for(
        challenge,
        resource_metadata.as_ref().map(|(d, _)| d),
        &credentials.scopes,
        server_metadata.as_ref(),
    );
    if token_url.scheme() == "http" && !is_loopback(&token_url) {
        tracing::warn!(url = %token_url, "sending OAuth client credentials over plain HTTP");
    }
    Ok(Endpoint {
        token_url,
        resource,
        scope,
        basic,
    })
}

/// The protected resource metadata (RFC 9728) and the first authorization server it names:
/// at the challenge's `resource_metadata`, then the path-based and the root well-known URLs.
async fn protected_resource_metadata(
    http: &reqwest::Client,
    server: &Url,
    challenge: Option<&str>,
) -> Option<(Value, String)> {
    let origin = server.origin().ascii_serialization();
    let path = server.path().trim_end_matches('/');
    let mut candidates: Vec<String> = challenge
        .and_then(|c| challenge_field(c, "resource_metadata"))
        .map(str::to_owned)
        .into_iter()
        .collect();
    if !path.is_empty() {
        candidates.push(format!(
            "{origin}/.well-known/oauth-protected-resource{path}"
        ));
    }
    candidates.push(format!("{origin}/.well-known/oauth-protected-resource"));
    for url in &candidates {
        if let Fetched::Document(document) = fetch_json(http, url).await
            && let Some(issuer) = first_string(&document, "authorization_servers")
        {
            let issuer = issuer.to_owned();
            return Some((document, issuer));
        }
    }
    None
}

/// The RFC 8707 resource: the one the metadata declares when it covers the server's URL (an
/// error when it does not: the metadata is another server's), else the server's URL.
fn resource_of(server: &Url, metadata: Option<&Value>) -> Result<String, String> {
    let canonical = canonical_resource(server);
    match metadata.and_then(|d| d["resource"].as_str()) {
        Some(declared) if covers(declared, &canonical) => Ok(declared.to_owned()),
        Some(declared) => Err(format!(
            "the protected resource metadata names the resource {declared:?}, not {canonical:?}"
        )),
        None => Ok(canonical),
    }
}

/// The scope to ask for: the challenge's, else the resource's `scopes_supported`, else the
/// configured scopes, else the authorization server's `scopes_supported`, else none.
fn scope_for(
    challenge: Option<&str>,
    resource_metadata: Option<&Value>,
    configured: &[String],
    server_metadata: Option<&Value>,
) -> Option<String> {
    let scopes_of = |document: Option<&Value>| {
        document
            .and_then(|d| d["scopes_supported"].as_array())
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|s| !s.is_empty())
    };
    challenge
        .and_then(|c| challenge_field(c, "scope"))
        .map(str::to_owned)
        .or_else(|| scopes_of(resource_metadata))
        .or_else(|| (!configured.is_empty()).then(|| configured.join(" ")))
        .or_else(|| scopes_of(server_metadata))
}

/// The authorization server's metadata (RFC 8414, then OpenID discovery, path-aware); without
/// resource metadata, the MCP 2025-03-26 location at the server's origin. `None` when there is
/// none: the token endpoint is then `/token` at the server's origin.
async fn authorization_server_metadata(
    http: &reqwest::Client,
    issuer: Option<&str>,
    origin: &str,
) -> Result<Option<Value>, String> {
    let candidates = match issuer {
        None => vec![format!("{origin}/.well-known/oauth-authorization-server")],
        Some(issuer) => {
            let url = Url::parse(issuer)
                .map_err(|e| format!("the authorization server {issuer:?} is not a URL: {e}"))?;
            let base = url.origin().ascii_serialization();
            match url.path().trim_end_matches('/') {
                "" => vec![
                    format!("{base}/.well-known/oauth-authorization-server"),
                    format!("{base}/.well-known/openid-configuration"),
                ],
                path => vec![
                    format!("{base}/.well-known/oauth-authorization-server{path}"),
                    format!("{base}/.well-known/openid-configuration{path}"),
                    format!("{base}{path}/.well-known/openid-configuration"),
                ],
            }
        }
    };
    for url in &candidates {
        match fetch_json(http, url).await {
            Fetched::Document(document) => {
                let declared = document["issuer"].as_str().unwrap_or_default();
                if let Some(issuer) = issuer
                    && declared.trim_end_matches('/') != issuer.trim_end_matches('/')
                {
                    return Err(format!(
                        "the authorization server metadata at {url} names the issuer {declared:?}, not {issuer:?}"
                    ));
                }
                return Ok(Some(document));
            }
            Fetched::TryNext => {}
            Fetched::Stop => break,
        }
    }
    Ok(None)
}

/// What a metadata request gave.
enum Fetched {
    Document(Value),
    /// Not there (4xx, or not a JSON object): the next location may have it.
    TryNext,
    /// The server failed: discovery goes on without it.
    Stop,
}

async fn fetch_json(http: &reqwest::Client, url: &str) -> Fetched {
    let response = http
        .get(url)
        .header("accept", "application/json")
        .header("mcp-protocol-version", "2025-06-18")
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await;
    let Ok(response) = response else {
        return Fetched::Stop;
    };
    let status = response.status();
    if !status.is_success() {
        return if status.is_client_error() {
            Fetched::TryNext
        } else {
            Fetched::Stop
        };
    }
    match read_bounded(response).await {
        Some(body) => match serde_json::from_slice::<Value>(&body) {
            Ok(document @ Value::Object(_)) => Fetched::Document(document),
            _ => Fetched::TryNext,
        },
        None => Fetched::TryNext,
    }
}

/// The body, unless it exceeds [`MAX_BODY`].
async fn read_bounded(mut response: reqwest::Response) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        if body.len() + chunk.len() > MAX_BODY {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body)
}

fn first_string<'a>(document: &'a Value, key: &str) -> Option<&'a str> {
    document[key].as_array()?.first()?.as_str()
}

/// The server URL as an RFC 8707 resource: no query or fragment.
fn canonical_resource(server: &Url) -> String {
    let mut resource = server.clone();
    resource.set_query(None);
    resource.set_fragment(None);
    resource.to_string()
}

/// Whether the declared resource is the server's URL or a parent of it (same origin).
fn covers(declared: &str, resource: &str) -> bool {
    let (Ok(declared), Ok(resource)) = (Url::parse(declared), Url::parse(resource)) else {
        return false;
    };
    let parent = declared.path().trim_end_matches('/');
    let path = resource.path();
    declared.origin() == resource.origin()
        && (path == parent || path.starts_with(&format!("{parent}/")) || parent.is_empty())
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `client_credentials` grant: the token and how long it lives.
async fn request_token(
    http: &reqwest::Client,
    credentials: &ClientCredentials,
    endpoint: &Endpoint,
) -> Result<(String, Option<Duration>), String> {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("resource", endpoint.resource.as_str()),
    ];
    if let Some(scope) = &endpoint.scope {
        form.push(("scope", scope));
    }
    if !endpoint.basic {
        form.push(("client_id", &credentials.client_id));
        form.push(("client_secret", &credentials.client_secret));
    }
    let body: Vec<String> = form
        .iter()
        .map(|(key, value)| format!("{key}={}", strands_core::url::quote(value)))
        .collect();
    let mut request = http
        .post(endpoint.token_url.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .timeout(REQUEST_TIMEOUT)
        .body(body.join("&"));
    if endpoint.basic {
        let pair = format!(
            "{}:{}",
            strands_core::url::quote(&credentials.client_id),
            strands_core::url::quote(&credentials.client_secret)
        );
        request = request.header("authorization", format!("Basic {}", STANDARD.encode(pair)));
    }
    let url = &endpoint.token_url;
    let response = request
        .send()
        .await
        .map_err(|e| format!("the OAuth token endpoint {url} could not be reached: {e}"))?;
    let status = response.status();
    let body = read_bounded(response).await.unwrap_or_default();
    let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if !status.is_success() {
        // Only the error code, an allow-listed token: descriptions may echo what was sent.
        let code = answer["error"]
            .as_str()
            .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
            .unwrap_or("no error code");
        return Err(format!(
            "the OAuth token endpoint {url} refused the client credentials: HTTP {} ({code})",
            status.as_u16()
        ));
    }
    let token = answer["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("the OAuth token endpoint {url} answered no access_token"))?;
    if let Some(kind) = answer["token_type"].as_str()
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(format!(
            "the OAuth token endpoint {url} answered a {kind:?} token, not a bearer token"
        ));
    }
    let life = answer["expires_in"].as_u64().map(Duration::from_secs);
    Ok((token.to_owned(), life))
}

/// rmcp's reqwest client with an OAuth bearer token on every request.
#[derive(Clone)]
pub(crate) struct OAuthClient {
    pub(crate) inner: reqwest::Client,
    pub(crate) oauth: OAuth,
}

type HttpError = StreamableHttpError<reqwest::Error>;

impl OAuthClient {
    /// Runs `call` with the current token; when the server refuses it (401, or 403 asking for
    /// more scope), fetches a token as its challenge says and runs `call` once more.
    async fn authorized<T, F, Fut>(&self, uri: &str, call: F) -> Result<T, HttpError>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<T, HttpError>>,
    {
        let failed = |reason: String| StreamableHttpError::UnexpectedServerResponse(reason.into());
        let token = self.oauth.token(&self.inner).await.map_err(failed)?;
        let generation = token.as_ref().map(|t| t.generation);
        let result = call(token.map(|t| t.value)).await;
        let challenge = match &result {
            Err(StreamableHttpError::AuthRequired(refusal)) => {
                refusal.www_authenticate_header.clone()
            }
            Err(StreamableHttpError::InsufficientScope(refusal)) => {
                refusal.www_authenticate_header.clone()
            }
            Err(StreamableHttpError::UnexpectedServerResponse(text))
                if text.starts_with("HTTP 401") =>
            {
                String::new()
            }
            _ => return result,
        };
        let challenge = (!challenge.is_empty()).then_some(challenge.as_str());
        let fresh = self
            .oauth
            .authorize(&self.inner, Some(uri), challenge, generation)
            .await
            .map_err(failed)?;
        call(Some(fresh.value)).await
    }
}

impl StreamableHttpClient for OAuthClient {
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
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        self.authorized(&uri, |token| {
            self.inner.post_message_with_response_limits(
                uri.clone(),
                message.clone(),
                session_id.clone(),
                token,
                custom_headers.clone(),
                limits,
            )
        })
        .await
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), HttpError> {
        self.authorized(&uri, |token| {
            self.inner.delete_session(
                uri.clone(),
                session_id.clone(),
                token,
                custom_headers.clone(),
            )
        })
        .await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, HttpError> {
        self.authorized(&uri, |token| {
            self.inner.get_stream(
                uri.clone(),
                session_id.clone(),
                last_event_id.clone(),
                token,
                custom_headers.clone(),
            )
        })
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, HttpError> {
        self.authorized(&uri, |token| {
            self.inner.get_stream_with_max_sse_event_size(
                uri.clone(),
                session_id.clone(),
                last_event_id.clone(),
                token,
                custom_headers.clone(),
                max_sse_event_size,
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parameters_are_read_quoted_or_not() {
        let challenge = r#"Bearer error="invalid_token", resource_metadata="http://a/.well-known/oauth-protected-resource/mcp", scope=tools:read"#;
        assert_eq!(
            challenge_field(challenge, "resource_metadata"),
            Some("http://a/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(challenge_field(challenge, "scope"), Some("tools:read"));
        assert_eq!(challenge_field(challenge, "error"), Some("invalid_token"));
        assert_eq!(challenge_field("Bearer xscope=a", "scope"), None);
        assert_eq!(challenge_field("Bearer", "scope"), None);
        assert_eq!(union_scopes(Some("a b"), "b c"), "a b c");
        assert_eq!(union_scopes(None, "c"), "c");
    }

    #[test]
    fn resources_cover_their_children_on_the_same_origin() {
        assert!(covers("http://a/mcp", "http://a/mcp"));
        assert!(covers("http://a/", "http://a/mcp"));
        assert!(covers("http://a/api", "http://a/api/mcp"));
        assert!(!covers("http://a/api", "http://a/apiv2/mcp"));
        assert!(!covers("http://b/mcp", "http://a/mcp"));
        assert_eq!(
            canonical_resource(
                &Url::parse("http://a:8/mcp?x=1#f").unwrap_or_else(|e| panic!("{e}"))
            ),
            "http://a:8/mcp"
        );
    }

    #[test]
    fn the_scope_comes_from_the_challenge_the_resource_the_configuration_then_the_server() {
        let resource = serde_json::json!({"scopes_supported": ["r1", "r2"]});
        let server = serde_json::json!({"scopes_supported": ["s"]});
        let mine = ["m".to_owned()];
        let challenge = Some(r#"Bearer scope="c1 c2""#);
        assert_eq!(
            scope_for(challenge, Some(&resource), &mine, Some(&server)).as_deref(),
            Some("c1 c2")
        );
        assert_eq!(
            scope_for(None, Some(&resource), &mine, Some(&server)).as_deref(),
            Some("r1 r2")
        );
        assert_eq!(
            scope_for(None, None, &mine, Some(&server)).as_deref(),
            Some("m")
        );
        assert_eq!(
            scope_for(None, None, &[], Some(&server)).as_deref(),
            Some("s")
        );
        assert_eq!(scope_for(None, None, &[], None), None);
    }

    #[test]
    fn secrets_are_percent_encoded_as_python_quotes_them() {
        assert_eq!(strands_core::url::quote("a b+c/d~e"), "a%20b%2Bc%2Fd~e");
        let debug = format!("{:?}", ClientCredentials::new("id", "s3cr3t"));
        assert!(!debug.contains("s3cr3t"), "{debug}");
    }
}
