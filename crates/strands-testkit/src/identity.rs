//! A fake Amazon Bedrock AgentCore Identity: the data-plane operations an agent calls
//! (`bedrock-agentcore`, restJson1) and the control-plane `CreateWorkloadIdentity` that local
//! development needs, with every request's SigV4 signature checked for the signing name
//! `bedrock-agentcore`.
//!
//! | Route | Operation | Answer |
//! |---|---|---|
//! | `POST /identities/CreateWorkloadIdentity` | control plane | `{name, workloadIdentityArn, allowedResourceOauth2ReturnUrls}` |
//! | `POST /identities/GetWorkloadAccessToken[ForJWT\|ForUserId]` | workload access token | `{workloadAccessToken}`; unknown workload → 404 |
//! | `POST /identities/oauth2/token` | `GetResourceOauth2Token` | `{accessToken}`, or `{authorizationUrl, sessionUri, sessionStatus}` |
//! | `POST /identities/api-key` | `GetResourceApiKey` | `{apiKey}` |
//! | `POST /identities/CompleteResourceTokenAuth` | binds a consented session to its user | `{}` |
//! | `GET /authorize?session=<id>` | the user's browser at the provider's consent page | `302` to the return URL with `session_id`, or `200` |
//!
//! Access tokens are JWTs (unsigned: `alg` `none`) whose claims say what was granted: `sub`
//! (the user, or the workload for `M2M`), `aud` (the provider), `scope`, `iat`, `exp` (after the
//! provider's lifetime) and a serial `jti`. A `USER_FEDERATION` request is answered with an
//! authorization URL until the user has consented ([`FakeIdentity`]'s `/authorize`) and the
//! application has completed the session for that same user (`CompleteResourceTokenAuth`);
//! the grant is then kept in the vault, so later requests get a token at once unless they force
//! authentication. Polling an unfinished session answers with the same session, in progress. A
//! refused workload access token is quoted in the error message, as some AWS validation messages
//! quote values, so a test can prove a client keeps it out of its errors. `userToken` identifiers
//! are compared with the user id as they are (no JWT is decoded). Errors are restJson1 errors (`x-amzn-errortype`), so the SDK maps them to its
//! typed errors.
//!
//! ```
//! use std::time::Duration;
//! use strands_testkit::bedrock::FakeAuth;
//! use strands_testkit::identity::FakeIdentity;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let identity = FakeIdentity::start(FakeAuth::sigv4("AKIDEXAMPLE", "secret")).await?;
//! identity.oauth2_provider("github", Duration::from_secs(3600));
//! identity.api_key_provider("weather", "weather-key-123");
//! let wat = identity.workload_access_token("my-agent", Some("alice"));
//! println!("{} {}", identity.url(), wat.len());
//! # Ok(())
//! # }
//! ```
//!
//! Python: no equivalent.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::BytesMut;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::bedrock::auth::{self, Signed};
use crate::bedrock::{AuthOutcome, FakeAuth};
use crate::http::response::{self, Head};
use crate::http::{self, Incoming, Limits};

/// The signing name of AgentCore requests.
pub const SIGNING_NAME: &str = "bedrock-agentcore";

const LIMITS: Limits = Limits {
    server: "fake identity",
    max_header_bytes: 64 * 1024,
    max_headers: 128,
    max_body_bytes: 256 * 1024,
};
const MAX_CONNECTIONS: usize = 64;
/// What the fake keeps at most of each kind (sessions, tokens, requests), so a runaway test
/// fails instead of exhausting memory.
const MAX_ENTRIES: usize = 10_000;

/// A request the fake received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IdentityRequest {
    /// The operation, from the route: `GetResourceOauth2Token`, `GetResourceApiKey`,
    /// `CompleteResourceTokenAuth`, `GetWorkloadAccessTokenForUserId`, `CreateWorkloadIdentity`,
    /// ... (`Authorize` for the consent page).
    pub operation: String,
    /// The JSON body (for `Authorize`, the query as an object).
    pub body: Value,
    /// What the fake decided about the credentials (`Accepted` for the consent page, which a
    /// browser opens unsigned).
    pub auth: AuthOutcome,
}

/// One `USER_FEDERATION` authorization in progress.
#[derive(Debug, Clone)]
struct Session {
    uri: String,
    workload: String,
    user: String,
    provider: String,
    return_url: Option<String>,
    custom_state: Option<String>,
    consented: bool,
    completed: bool,
}

#[derive(Debug)]
struct State {
    auth: FakeAuth,
    origin: String,
    /// Workload name → the return URLs it allows (empty: any).
    workloads: HashMap<String, Vec<String>>,
    /// Workload access token → (workload, user).
    tokens: HashMap<String, (String, Option<String>)>,
    /// OAuth2 provider → token lifetime.
    oauth2: HashMap<String, Duration>,
    /// API key provider → key.
    api_keys: HashMap<String, String>,
    /// Session id (the hex part of the session URI) → session.
    sessions: HashMap<String, Session>,
    /// (workload, user, provider) consented and completed.
    vault: BTreeSet<(String, String, String)>,
    requests: Vec<IdentityRequest>,
    /// Every credential handed out: workload tokens, access tokens, API keys.
    issued: Vec<String>,
    serial: u64,
}

impl State {
    fn next(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    fn issue(&mut self, credential: &str) {
        if self.issued.len() < MAX_ENTRIES {
            self.issued.push(credential.to_owned());
        }
    }

    fn record(&mut self, operation: &str, body: Value, auth: AuthOutcome) {
        if self.requests.len() < MAX_ENTRIES {
            self.requests.push(IdentityRequest {
                operation: operation.to_owned(),
                body,
                auth,
            });
        }
    }
}

/// The fake Identity service; it stops when dropped.
#[derive(Debug)]
pub struct FakeIdentity {
    url: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeIdentity {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeIdentity {
    /// Serves on `127.0.0.1:<free port>`, accepting requests `auth` accepts (SigV4 must be
    /// scoped to `bedrock-agentcore`).
    ///
    /// # Errors
    ///
    /// The port could not be bound.
    pub async fn start(auth: FakeAuth) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State {
            auth,
            origin: url.clone(),
            workloads: HashMap::new(),
            tokens: HashMap::new(),
            oauth2: HashMap::new(),
            api_keys: HashMap::new(),
            sessions: HashMap::new(),
            vault: BTreeSet::new(),
            requests: Vec::new(),
            issued: Vec::new(),
            serial: 0,
        }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            http::accept_loop(listener, MAX_CONNECTIONS, |stream| {
                serve_connection(stream, shared.clone())
            })
            .await;
        });
        Ok(Self { url, state, task })
    }

    /// The endpoint, `http://127.0.0.1:<port>` (for both planes).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Adds an OAuth2 credential provider whose access tokens live `lifetime`.
    pub fn oauth2_provider(&self, name: &str, lifetime: Duration) {
        lock(&self.state).oauth2.insert(name.to_owned(), lifetime);
    }

    /// Adds an API key credential provider holding `key`.
    pub fn api_key_provider(&self, name: &str, key: &str) {
        lock(&self.state)
            .api_keys
            .insert(name.to_owned(), key.to_owned());
    }

    /// Mints a workload access token for `workload` (created if new) and `user`, as AgentCore
    /// Runtime does before it calls the agent (the `WorkloadAccessToken` header).
    pub fn workload_access_token(&self, workload: &str, user: Option<&str>) -> String {
        let mut state = lock(&self.state);
        state.workloads.entry(workload.to_owned()).or_default();
        mint_workload_token(&mut state, workload, user.map(str::to_owned))
    }

    /// Changes the credentials accepted from now on.
    pub fn set_auth(&self, auth: FakeAuth) {
        lock(&self.state).auth = auth;
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<IdentityRequest> {
        lock(&self.state).requests.clone()
    }

    /// The requests for `operation`, in order.
    pub fn requests_for(&self, operation: &str) -> Vec<IdentityRequest> {
        lock(&self.state)
            .requests
            .iter()
            .filter(|r| r.operation == operation)
            .cloned()
            .collect()
    }

    /// Every credential handed out so far (workload access tokens, access tokens, API keys), so
    /// a test can check that none reached a log.
    pub fn issued(&self) -> Vec<String> {
        lock(&self.state).issued.clone()
    }

    /// The workload identities created so far.
    pub fn workloads(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.state).workloads.keys().cloned().collect();
        names.sort();
        names
    }
}

fn mint_workload_token(state: &mut State, workload: &str, user: Option<String>) -> String {
    let serial = state.next();
    let token = format!("fake-wat-{serial:06}-{:016x}", nonce(serial));
    if state.tokens.len() < MAX_ENTRIES {
        state
            .tokens
            .insert(token.clone(), (workload.to_owned(), user));
    }
    state.issue(&token);
    token
}

/// A value that differs between runs, so tokens cannot be guessed from a serial.
fn nonce(serial: u64) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    #[allow(clippy::cast_possible_truncation, reason = "mixing bits, not a count")]
    let now = now as u64;
    now.rotate_left(17) ^ serial.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// What to send for one request.
enum Answer {
    Json(Value),
    Error(u16, &'static str, String),
    Redirect(String),
    Page(String),
}

impl Answer {
    fn validation(message: impl Into<String>) -> Self {
        Self::Error(400, "ValidationException", message.into())
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::Error(404, "ResourceNotFoundException", message.into())
    }

    fn denied(message: impl Into<String>) -> Self {
        Self::Error(403, "AccessDeniedException", message.into())
    }
}

async fn serve_connection(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut buf = BytesMut::with_capacity(8 * 1024);
    loop {
        let request = match http::read_request(&mut stream, &mut buf, &LIMITS).await {
            Ok(Incoming::Request(request)) => request,
            Ok(Incoming::Refused(refusal)) => {
                let body = json!({"message": refusal.message}).to_string();
                let head = Head::new(refusal.status).header("content-type", "application/json");
                let _ = response::write_full(&mut stream, head, body.as_bytes(), true).await;
                response::linger(&mut stream).await;
                return;
            }
            Ok(Incoming::Closed) | Err(_) => break,
        };
        let keep_alive = request.keep_alive;
        let (head, body) = match decide(&state, &request) {
            Answer::Json(value) => (
                Head::new(200).header("content-type", "application/json"),
                value.to_string(),
            ),
            Answer::Error(status, kind, message) => (
                Head::new(status)
                    .header("content-type", "application/json")
                    .header("x-amzn-errortype", kind),
                json!({"message": message}).to_string(),
            ),
            Answer::Redirect(location) => {
                (Head::new(302).header("location", &location), String::new())
            }
            Answer::Page(text) => (Head::new(200).header("content-type", "text/plain"), text),
        };
        let written = response::write_full(&mut stream, head, body.as_bytes(), !keep_alive).await;
        if written.is_err() || !keep_alive {
            break;
        }
    }
    let _ = stream.shutdown().await;
}

/// Authenticates and records the request, then answers it.
fn decide(state: &Mutex<State>, request: &http::RawRequest) -> Answer {
    let mut guard = lock(state);
    let state = &mut *guard;
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((request.target.as_str(), ""));
    if request.method == "GET" && path == "/authorize" {
        let query: serde_json::Map<String, Value> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        let session = query
            .get("session")
            .and_then(Value::as_str)
            .map(str::to_owned);
        state.record("Authorize", Value::Object(query), AuthOutcome::Accepted);
        return authorize(state, session.as_deref().unwrap_or_default());
    }
    let Some(operation) = path.strip_prefix("/identities/").map(operation_name) else {
        return Answer::not_found(format!("the fake identity does not serve {path}"));
    };
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let verdict = auth::check_for(
        &state.auth,
        &Signed {
            method: &request.method,
            target: &request.target,
            headers: &request.headers,
            body: &request.body,
        },
        SIGNING_NAME,
    );
    let outcome = verdict
        .as_ref()
        .map_or_else(|rejection| rejection.outcome, |()| AuthOutcome::Accepted);
    state.record(operation, body.clone(), outcome);
    if let Err(rejection) = verdict {
        return Answer::Error(403, rejection.error_type, rejection.message);
    }
    if request.method != "POST" || !body.is_object() {
        return Answer::validation("the fake identity takes POST with a JSON object body");
    }
    match operation {
        "CreateWorkloadIdentity" => create_workload(state, &body),
        "GetWorkloadAccessToken" => workload_token(state, &body, None),
        "GetWorkloadAccessTokenForUserId" => workload_token(state, &body, Some("userId")),
        "GetWorkloadAccessTokenForJWT" => workload_token(state, &body, Some("userToken")),
        "GetResourceOauth2Token" => oauth2_token(state, &body),
        "GetResourceApiKey" => api_key(state, &body),
        "CompleteResourceTokenAuth" => complete(state, &body),
        _ => Answer::not_found(format!("the fake identity does not serve {path}")),
    }
}

fn operation_name(route: &str) -> &str {
    match route {
        "oauth2/token" => "GetResourceOauth2Token",
        "api-key" => "GetResourceApiKey",
        other => other,
    }
}

fn text<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn create_workload(state: &mut State, body: &Value) -> Answer {
    let Some(name) = text(body, "name") else {
        return Answer::validation("name is required");
    };
    if state.workloads.contains_key(name) {
        return Answer::validation(format!("workload identity {name} already exists"));
    }
    if state.workloads.len() >= MAX_ENTRIES {
        return Answer::Error(
            402,
            "ServiceQuotaExceededException",
            "too many workloads".into(),
        );
    }
    let urls: Vec<String> = body["allowedResourceOauth2ReturnUrls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    state.workloads.insert(name.to_owned(), urls.clone());
    Answer::Json(json!({
        "name": name,
        "workloadIdentityArn": format!("arn:aws:bedrock-agentcore:us-east-1:000000000000:workload-identity-directory/default/workload-identity/{name}"),
        "allowedResourceOauth2ReturnUrls": urls,
    }))
}

fn workload_token(state: &mut State, body: &Value, user_field: Option<&str>) -> Answer {
    let Some(workload) = text(body, "workloadName") else {
        return Answer::validation("workloadName is required");
    };
    if !state.workloads.contains_key(workload) {
        return Answer::not_found(format!("workload identity {workload} not found"));
    }
    let user = match user_field {
        None => None,
        Some(field) => match text(body, field) {
            Some(user) => Some(user.to_owned()),
            None => return Answer::validation(format!("{field} is required")),
        },
    };
    let workload = workload.to_owned();
    Answer::Json(json!({"workloadAccessToken": mint_workload_token(state, &workload, user)}))
}

/// The workload and user of the request's `workloadIdentityToken`.
fn caller(state: &State, body: &Value) -> Result<(String, Option<String>), Answer> {
    let Some(token) = text(body, "workloadIdentityToken") else {
        return Err(Answer::validation("workloadIdentityToken is required"));
    };
    state
        .tokens
        .get(token)
        .cloned()
        // Quoting the refused value, as some AWS validation messages do, so tests prove clients
        // blank it out.
        .ok_or_else(|| Answer::denied(format!("the workload access token {token} is not valid")))
}

fn oauth2_token(state: &mut State, body: &Value) -> Answer {
    let (workload, user) = match caller(state, body) {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let Some(provider) = text(body, "resourceCredentialProviderName").map(str::to_owned) else {
        return Answer::validation("resourceCredentialProviderName is required");
    };
    let Some(lifetime) = state.oauth2.get(&provider).copied() else {
        return Answer::not_found(format!("credential provider {provider} not found"));
    };
    let scopes = body["scopes"].as_array().map(|scopes| {
        scopes
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    });
    let Some(scopes) = scopes else {
        return Answer::validation("scopes is required");
    };
    let flow = text(body, "oauth2Flow").unwrap_or_default();
    let subject = match (flow, &user) {
        ("M2M", _) => workload.clone(),
        ("USER_FEDERATION" | "ON_BEHALF_OF_TOKEN_EXCHANGE", Some(user)) => user.clone(),
        ("USER_FEDERATION" | "ON_BEHALF_OF_TOKEN_EXCHANGE", None) => {
            return Answer::validation(format!(
                "{flow} needs a workload access token issued for a user"
            ));
        }
        _ => return Answer::validation(format!("unknown oauth2Flow {flow:?}")),
    };
    if flow == "USER_FEDERATION" {
        let grant = (workload.clone(), subject.clone(), provider.clone());
        let force = body["forceAuthentication"].as_bool().unwrap_or(false);
        let ready = match text(body, "sessionUri") {
            Some(uri) => match state.sessions.iter().find(|(_, s)| s.uri == uri) {
                Some((_, s)) if s.workload == workload && s.user == subject && s.completed => true,
                // Polled before the user finished: the same session, still in progress.
                Some((id, s)) if s.workload == workload && s.user == subject => {
                    return Answer::Json(json!({
                        "authorizationUrl": format!("{}/authorize?session={id}", state.origin),
                        "sessionUri": uri,
                        "sessionStatus": "IN_PROGRESS",
                    }));
                }
                _ => return Answer::validation(format!("session {uri} is not this caller's")),
            },
            None => !force && state.vault.contains(&grant),
        };
        if !ready {
            return start_session(state, workload, subject, provider, body);
        }
    }
    let serial = state.next();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let claims = json!({
        "sub": subject,
        "aud": provider,
        "scope": scopes,
        "iat": now,
        "exp": now + lifetime.as_secs(),
        "jti": serial,
    });
    let jwt = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    state.issue(&jwt);
    Answer::Json(json!({"accessToken": jwt}))
}

fn start_session(
    state: &mut State,
    workload: String,
    user: String,
    provider: String,
    body: &Value,
) -> Answer {
    if state.sessions.len() >= MAX_ENTRIES {
        return Answer::Error(429, "ThrottlingException", "too many sessions".into());
    }
    let return_url = text(body, "resourceOauth2ReturnUrl").map(str::to_owned);
    if let (Some(url), Some(allowed)) = (&return_url, state.workloads.get(&workload))
        && !allowed.is_empty()
        && !allowed.contains(url)
    {
        return Answer::validation(format!(
            "resourceOauth2ReturnUrl {url} is not allowed for workload {workload}"
        ));
    }
    let serial = state.next();
    let id = format!("{serial:08x}{:016x}", nonce(serial));
    let uri = format!("urn:ietf:params:oauth:request_uri:{id}");
    let authorization_url = format!("{}/authorize?session={id}", state.origin);
    state.sessions.insert(
        id,
        Session {
            uri: uri.clone(),
            workload,
            user,
            provider,
            return_url,
            custom_state: text(body, "customState").map(str::to_owned),
            consented: false,
            completed: false,
        },
    );
    Answer::Json(json!({
        "authorizationUrl": authorization_url,
        "sessionUri": uri,
        "sessionStatus": "IN_PROGRESS",
    }))
}

/// The user consents at the provider; AgentCore then sends the browser to the application's
/// return URL with the session, and the application completes it.
fn authorize(state: &mut State, id: &str) -> Answer {
    let Some(session) = state.sessions.get_mut(id) else {
        return Answer::not_found("no such authorization session");
    };
    session.consented = true;
    match &session.return_url {
        Some(url) => {
            let separator = if url.contains('?') { '&' } else { '?' };
            let mut location = format!(
                "{url}{separator}session_id={}",
                session.uri.replace(':', "%3A")
            );
            if let Some(custom) = &session.custom_state {
                location.push_str("&state=");
                location.push_str(custom);
            }
            Answer::Redirect(location)
        }
        None => Answer::Page(format!(
            "You allowed access to {}; you can close this page.",
            session.provider
        )),
    }
}

fn complete(state: &mut State, body: &Value) -> Answer {
    let Some(uri) = text(body, "sessionUri") else {
        return Answer::validation("sessionUri is required");
    };
    let identifier = &body["userIdentifier"];
    let Some(user) = text(identifier, "userId").or_else(|| text(identifier, "userToken")) else {
        return Answer::validation("userIdentifier needs userId or userToken");
    };
    let Some(session) = state.sessions.values_mut().find(|s| s.uri == uri) else {
        return Answer::not_found(format!("session {uri} not found"));
    };
    if session.user != user {
        return Answer::denied("the session belongs to another user");
    }
    if !session.consented {
        return Answer::validation("the user has not authorized this session yet");
    }
    session.completed = true;
    let grant = (
        session.workload.clone(),
        session.user.clone(),
        session.provider.clone(),
    );
    state.vault.insert(grant);
    Answer::Json(json!({}))
}

fn api_key(state: &mut State, body: &Value) -> Answer {
    if let Err(answer) = caller(state, body) {
        return answer;
    }
    let Some(provider) = text(body, "resourceCredentialProviderName") else {
        return Answer::validation("resourceCredentialProviderName is required");
    };
    match state.api_keys.get(provider).cloned() {
        Some(key) => {
            state.issue(&key);
            Answer::Json(json!({"apiKey": key}))
        }
        None => Answer::not_found(format!("credential provider {provider} not found")),
    }
}
