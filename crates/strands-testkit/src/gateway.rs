//! A fake Amazon Bedrock AgentCore Gateway: an MCP server over streamable HTTP (stateless, JSON
//! answers) at `/mcp` that checks every request's SigV4 signature for the signing name
//! `bedrock-agentcore` (or a bearer token), as a Gateway with IAM (or JWT) inbound authorization
//! does.
//!
//! It lists tools named as Gateway names them (`<target>___<tool>`), two per page so clients
//! must follow `nextCursor`, plus the semantic search tool `x_amz_bedrock_agentcore_search`,
//! which answers `{"tools": [...]}` in `structuredContent` and as JSON text (what Python's
//! `AgentCoreToolSearchPlugin` reads). Faults can be scripted for the next `tools/call`
//! requests: an HTTP status, a body that is not JSON-RPC, or no answer at all.
//!
//! [`FakeGateway::start_oauth`] serves a Gateway with a JWT authorizer the way the MCP
//! authorization spec describes it: `/mcp` answers 401 with a challenge naming its protected
//! resource metadata, which names an authorization server (the same fake) whose token endpoint
//! takes the `client_credentials` grant. Tokens expire after the lifetime given, and
//! [`FakeGateway::revoke_tokens`] revokes them.
//!
//! ```
//! use strands_testkit::bedrock::FakeAuth;
//! use strands_testkit::gateway::{Fault, FakeGateway};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let gateway = FakeGateway::start(FakeAuth::sigv4("AKIDEXAMPLE", "secret")).await?;
//! gateway.fault(Fault::Status(503));
//! println!("{}", gateway.url()); // http://127.0.0.1:<port>/mcp
//! # Ok(())
//! # }
//! ```
//!
//! Python: no equivalent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::BytesMut;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::bedrock::auth::{self, Signed};
use crate::bedrock::{AuthOutcome, FakeAuth};
use crate::http::response::{self, Head};
use crate::http::{self, Incoming, Limits};

mod oauth;

pub use oauth::OAuthRequest;

/// The signing name of AgentCore requests.
pub const SIGNING_NAME: &str = "bedrock-agentcore";
/// The name of the Gateway's semantic search tool.
pub const SEARCH_TOOL: &str = "x_amz_bedrock_agentcore_search";

const LIMITS: Limits = Limits {
    server: "fake gateway",
    max_header_bytes: 64 * 1024,
    max_headers: 128,
    max_body_bytes: 4 * 1024 * 1024,
};
const MAX_CONNECTIONS: usize = 64;
/// Tools per `tools/list` page.
const PAGE_SIZE: usize = 2;

/// A fault the next `tools/call` request meets instead of its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// This HTTP status, with an AWS-style JSON error body.
    Status(u16),
    /// `200 OK` with a body that is not JSON-RPC.
    Malformed,
    /// No answer: the connection is held open, silent, until the client gives up.
    Hang,
}

/// A request the fake received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GatewayRequest {
    /// The JSON-RPC method (`initialize`, `tools/list`, ...); empty when the body was not
    /// JSON-RPC.
    pub method: String,
    /// The JSON-RPC params.
    pub params: Value,
    /// What the fake decided about the credentials.
    pub auth: AuthOutcome,
}

#[derive(Debug)]
struct State {
    auth: FakeAuth,
    faults: VecDeque<Fault>,
    requests: Vec<GatewayRequest>,
    /// `http://127.0.0.1:<port>`.
    origin: String,
    oauth: Option<oauth::OAuthServer>,
}

/// The fake Gateway; it stops when dropped.
#[derive(Debug)]
pub struct FakeGateway {
    url: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeGateway {
    /// Serves on `127.0.0.1:<free port>`, accepting requests `auth` accepts (SigV4 must be
    /// scoped to `bedrock-agentcore`).
    ///
    /// # Errors
    ///
    /// The port could not be bound.
    pub async fn start(auth: FakeAuth) -> std::io::Result<Self> {
        Self::serve(auth, None).await
    }

    /// Serves a Gateway with OAuth inbound authorization: the client `client_id` with
    /// `client_secret` gets tokens that live `lifetime`.
    ///
    /// # Errors
    ///
    /// The port could not be bound.
    pub async fn start_oauth(
        client_id: &str,
        client_secret: &str,
        lifetime: Duration,
    ) -> std::io::Result<Self> {
        let server = oauth::OAuthServer::new(client_id, client_secret, lifetime);
        Self::serve(FakeAuth::Any, Some(server)).await
    }

    async fn serve(auth: FakeAuth, oauth: Option<oauth::OAuthServer>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let origin = format!("http://{}", listener.local_addr()?);
        let url = format!("{origin}/mcp");
        let state = Arc::new(Mutex::new(State {
            auth,
            faults: VecDeque::new(),
            requests: Vec::new(),
            origin,
            oauth,
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

    /// The MCP endpoint, `http://127.0.0.1:<port>/mcp`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Queues a fault for the next `tools/call` request that has none yet.
    pub fn fault(&self, fault: Fault) {
        lock(&self.state).faults.push_back(fault);
    }

    /// Changes the credentials accepted from now on (a rotation).
    pub fn set_auth(&self, auth: FakeAuth) {
        lock(&self.state).auth = auth;
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<GatewayRequest> {
        lock(&self.state).requests.clone()
    }

    /// Every metadata and token request received so far (with [`FakeGateway::start_oauth`]).
    pub fn oauth_requests(&self) -> Vec<OAuthRequest> {
        lock(&self.state)
            .oauth
            .as_ref()
            .map(|o| o.requests.clone())
            .unwrap_or_default()
    }

    /// Revokes every token issued so far: requests bearing one are refused with a challenge.
    pub fn revoke_tokens(&self) {
        if let Some(oauth) = lock(&self.state).oauth.as_mut() {
            oauth.revoke();
        }
    }
}

/// The Gateway's tools: name, description, the property each takes, and the answer's format.
const TOOLS: [(&str, &str, &str, &str); 3] = [
    (
        "weather___get_forecast",
        "Get the weather forecast for a city",
        "city",
        "Forecast for {}: sunny, 21 C",
    ),
    (
        "weather___get_alerts",
        "Get the weather alerts of an area",
        "area",
        "No weather alerts for {}",
    ),
    (
        "orders___lookup_order",
        "Look up an order by its id",
        "order_id",
        "Order {}: shipped",
    ),
];

fn tool_definition(name: &str, description: &str, property: &str) -> Value {
    json!({
        "name": name,
        "description": description,
        "inputSchema": {
            "type": "object",
            "properties": {property: {"type": "string"}},
            "required": [property]
        }
    })
}

fn all_tools() -> Vec<Value> {
    let mut tools: Vec<Value> = TOOLS
        .iter()
        .map(|(name, description, property, _)| tool_definition(name, description, property))
        .collect();
    tools.push(tool_definition(
        SEARCH_TOOL,
        "A special tool that returns a trimmed down list of tools given a context",
        "query",
    ));
    tools
}

/// What to send for one request.
enum Answer {
    Json(Value),
    /// A JSON body with this status (OAuth errors).
    JsonStatus(u16, Value),
    /// 401 with this `WWW-Authenticate` challenge.
    Challenge(String),
    Accepted,
    Status(u16, String),
    Malformed,
    Hang,
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
        let answer = decide(&state, &request);
        let written = match answer {
            Answer::Hang => {
                std::future::pending::<()>().await;
                return;
            }
            Answer::Accepted => {
                response::write_full(&mut stream, Head::new(202), b"", !keep_alive).await
            }
            Answer::Json(value) => {
                let head = Head::new(200).header("content-type", "application/json");
                let body = value.to_string();
                response::write_full(&mut stream, head, body.as_bytes(), !keep_alive).await
            }
            Answer::JsonStatus(status, value) => {
                let head = Head::new(status).header("content-type", "application/json");
                let body = value.to_string();
                response::write_full(&mut stream, head, body.as_bytes(), !keep_alive).await
            }
            Answer::Challenge(challenge) => {
                let head = Head::new(401)
                    .header("www-authenticate", &challenge)
                    .header("content-type", "application/json");
                let body = json!({"message": "Unauthorized"}).to_string();
                response::write_full(&mut stream, head, body.as_bytes(), !keep_alive).await
            }
            Answer::Malformed => {
                let head = Head::new(200).header("content-type", "application/json");
                response::write_full(
                    &mut stream,
                    head,
                    b"{\"jsonrpc\": \"2.0\", \"result\": [",
                    !keep_alive,
                )
                .await
            }
            Answer::Status(status, message) => {
                let head = Head::new(status).header("content-type", "application/json");
                let body = json!({"message": message}).to_string();
                response::write_full(&mut stream, head, body.as_bytes(), !keep_alive).await
            }
        };
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
    if let Some(oauth) = state.oauth.as_mut()
        && let Some(answer) = oauth.route(&state.origin, request)
    {
        return answer;
    }
    let message: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let method = message["method"].as_str().unwrap_or_default().to_owned();
    if let Some(challenge) = state
        .oauth
        .as_ref()
        .and_then(|oauth| oauth.challenge(&state.origin, request))
    {
        let outcome = match request.header("authorization") {
            None => AuthOutcome::Missing,
            Some(_) => AuthOutcome::UnrecognizedClient,
        };
        state.requests.push(GatewayRequest {
            method,
            params: message["params"].clone(),
            auth: outcome,
        });
        return Answer::Challenge(challenge);
    }
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
    state.requests.push(GatewayRequest {
        method: method.clone(),
        params: message["params"].clone(),
        auth: verdict
            .as_ref()
            .map_or_else(|rejection| rejection.outcome, |()| AuthOutcome::Accepted),
    });
    if let Err(rejection) = verdict {
        return Answer::Status(403, rejection.message);
    }
    if request.method != "POST" || request.target.split('?').next() != Some("/mcp") {
        return Answer::Status(405, "the fake gateway serves POST /mcp".to_owned());
    }
    let Some(id) = message.get("id").cloned() else {
        // A notification, or a body that is not JSON-RPC.
        return if message.is_object() {
            Answer::Accepted
        } else {
            Answer::Status(400, "the body is not JSON-RPC".to_owned())
        };
    };
    if method == "tools/call" {
        match state.faults.pop_front() {
            Some(Fault::Status(status)) => {
                return Answer::Status(status, format!("fake gateway: scripted {status}"));
            }
            Some(Fault::Malformed) => return Answer::Malformed,
            Some(Fault::Hang) => return Answer::Hang,
            None => {}
        }
    }
    drop(guard);
    Answer::Json(match answer(&method, &message["params"]) {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, text)) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": text}})
        }
    })
}

/// The result of a JSON-RPC request, or its error code and message.
fn answer(method: &str, params: &Value) -> Result<Value, (i64, String)> {
    match method {
        "initialize" => {
            let asked = params["protocolVersion"].as_str().unwrap_or_default();
            let version = if ["2025-03-26", "2025-06-18", "2025-11-25"].contains(&asked) {
                asked
            } else {
                "2025-11-25"
            };
            Ok(json!({
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": false}},
                "serverInfo": {"name": "fake-agentcore-gateway", "version": "1.0.0"}
            }))
        }
        "ping" => Ok(json!({})),
        "tools/list" => {
            let start: usize = params["cursor"]
                .as_str()
                .map_or(Ok(0), str::parse)
                .map_err(|_| (-32602, "invalid cursor".to_owned()))?;
            let tools = all_tools();
            let page: Vec<Value> = tools.iter().skip(start).take(PAGE_SIZE).cloned().collect();
            let mut result = json!({"tools": page});
            if start + PAGE_SIZE < tools.len() {
                result["nextCursor"] = json!((start + PAGE_SIZE).to_string());
            }
            Ok(result)
        }
        "tools/call" => call(params),
        other => Err((-32601, format!("Method not found: {other}"))),
    }
}

fn call(params: &Value) -> Result<Value, (i64, String)> {
    let name = params["name"].as_str().unwrap_or_default();
    let arguments = &params["arguments"];
    if name == SEARCH_TOOL {
        let query = arguments["query"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase();
        let words: Vec<&str> = query.split_whitespace().collect();
        let found: Vec<Value> = TOOLS
            .iter()
            .filter(|(name, description, _, _)| {
                let text = format!("{name} {description}").to_lowercase();
                words
                    .iter()
                    .any(|word| word.len() > 2 && text.contains(word))
            })
            .map(|(name, description, property, _)| tool_definition(name, description, property))
            .collect();
        let structured = json!({"tools": found});
        return Ok(json!({
            "content": [{"type": "text", "text": structured.to_string()}],
            "structuredContent": structured,
            "isError": false
        }));
    }
    let Some((_, _, property, format)) = TOOLS.iter().find(|(tool, ..)| *tool == name) else {
        return Err((-32602, format!("Unknown tool: {name}")));
    };
    let Some(value) = arguments[property].as_str() else {
        return Ok(json!({
            "content": [{"type": "text", "text": format!("Parameter validation failed: {property} is required")}],
            "isError": true
        }));
    };
    Ok(json!({
        "content": [{"type": "text", "text": format.replace("{}", value)}],
        "isError": false
    }))
}
