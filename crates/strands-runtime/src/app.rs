//! The AgentCore HTTP app: `GET /ping`, `POST /invocations`, `/ws`.
//!
//! Python: `bedrock_agentcore.runtime.BedrockAgentCoreApp`.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{any, get, post};
use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::Value;
use strands_core::BoxFuture;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument;

use crate::body::{self, BodyBudget, BodyLimits};
use crate::context::RequestContext;
use crate::logging::Bounded;
use crate::ping::{HealthTracker, PingStatus};
use crate::reply::panic_message;
use crate::reply::{HandlerError, Reply, SseStream};
use crate::telemetry::{self, ServerSpan};
use crate::wire;
use crate::ws::{self, WebSocketFn, WsConnection};

/// Default limit on request bodies: AgentCore accepts payloads up to 100 MB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 100 * 1024 * 1024;
/// Default bound on the bytes of request bodies held at once, across requests.
pub const DEFAULT_MAX_BODY_BYTES_IN_FLIGHT: usize = 256 * 1024 * 1024;
/// The port of AgentCore's HTTP protocol.
pub const HTTP_PORT: u16 = 8080;
/// The port of AgentCore's MCP protocol.
pub const MCP_PORT: u16 = 8000;

/// The port of AgentCore's A2A protocol.
pub const A2A_PORT: u16 = 9000;
/// Default time a request body may take to arrive, from the end of its headers.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);

type EntrypointFn =
    dyn Fn(Value, RequestContext) -> BoxFuture<'static, Result<Reply, HandlerError>> + Send + Sync;

/// An AgentCore runtime app: register an entrypoint (and optionally a WebSocket handler and a
/// ping hook), then serve it or mount its router.
///
/// ```
/// use serde_json::{json, Value};
/// use strands_runtime::{AgentCoreApp, HandlerError, RequestContext};
///
/// let app = AgentCoreApp::new().entrypoint(|payload: Value, context: RequestContext| async move {
///     Ok::<_, HandlerError>(json!({"echo": payload, "session": context.session_id}))
/// });
/// let router: axum::Router = app.into_router();
/// # drop(router);
/// ```
///
/// Python: `BedrockAgentCoreApp` with `@app.entrypoint`, `@app.websocket`, `@app.ping`.
#[derive(Clone)]
pub struct AgentCoreApp {
    entrypoint: Option<Arc<EntrypointFn>>,
    websocket: Option<Arc<WebSocketFn>>,
    pub(crate) health: HealthTracker,
    ws: ws::WsSettings,
    max_body_bytes: usize,
    body_read_timeout: Duration,
    body_budget: BodyBudget,
    /// Cancelled when a server's shutdown grace period ends: running streams send an error
    /// frame and end.
    pub(crate) shutdown: CancellationToken,
    /// Tools served over MCP at `/mcp` (AgentCore's MCP protocol).
    #[cfg(feature = "mcp")]
    mcp: Option<strands_mcp::McpToolServer>,
    /// The agent served over A2A at `/` (AgentCore's A2A protocol).
    #[cfg(feature = "a2a")]
    a2a: Option<strands_a2a::A2AServer>,
}

impl fmt::Debug for AgentCoreApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentCoreApp")
            .field("entrypoint", &self.entrypoint.is_some())
            .field("websocket", &self.websocket.is_some())
            .field("max_body_bytes", &self.max_body_bytes)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("max_body_bytes_in_flight", &self.body_budget.bytes())
            .finish_non_exhaustive()
    }
}

impl Default for AgentCoreApp {
    fn default() -> Self {
        Self::new()
    }
}

impl AgentCoreApp {
    /// An app with no entrypoint (invocations answer `500 {"error":"No entrypoint defined"}`).
    pub fn new() -> Self {
        Self {
            entrypoint: None,
            websocket: None,
            health: HealthTracker::default(),
            ws: ws::WsSettings::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            body_budget: BodyBudget::new(DEFAULT_MAX_BODY_BYTES_IN_FLIGHT),
            shutdown: CancellationToken::new(),
            #[cfg(feature = "mcp")]
            mcp: None,
            #[cfg(feature = "a2a")]
            a2a: None,
        }
    }

    /// Serves `server`'s tools at `POST /mcp` over stateless streamable HTTP, AgentCore's MCP
    /// protocol: [`serve`](crate::serve()) then listens on port 8000 unless `PORT` says
    /// otherwise, and `/ping` is answered as always.
    ///
    /// ```
    /// use strands_runtime::agent::vended_tools::calculator;
    /// use strands_runtime::mcp::McpToolServer;
    /// use strands_runtime::AgentCoreApp;
    ///
    /// let app = AgentCoreApp::new().mcp_server(McpToolServer::new("tools", "1.0.0").tool(calculator));
    /// assert_eq!(app.default_port(), 8000);
    /// ```
    ///
    /// Python: a `FastMCP(host="0.0.0.0", stateless_http=True)` app run with
    /// `transport="streamable-http"`.
    #[cfg(feature = "mcp")]
    #[must_use]
    pub fn mcp_server(mut self, server: strands_mcp::McpToolServer) -> Self {
        self.mcp = Some(server);
        self
    }

    /// Serves `server` over A2A instead of `/invocations` and `/ws`, as AgentCore's A2A protocol
    /// has it: JSON-RPC at `/`, the agent card at `/.well-known/agent-card.json`, and `/ping`
    /// answering `{"status": "Healthy"}` (without a timestamp); port 9000.
    ///
    /// Python: `bedrock_agentcore.runtime.build_a2a_app` (over Strands' `A2AServer`).
    #[cfg(feature = "a2a")]
    #[must_use]
    pub fn a2a_server(mut self, server: strands_a2a::A2AServer) -> Self {
        self.a2a = Some(server);
        self
    }

    /// The app is served on loopback only: its MCP server (if any) answers only requests for a
    /// loopback host (DNS-rebinding protection), as Python's FastMCP does on localhost.
    #[cfg(feature = "mcp")]
    #[must_use]
    pub(crate) fn loopback(mut self) -> Self {
        self.mcp = self.mcp.map(strands_mcp::McpToolServer::loopback_only);
        self
    }

    /// Without an MCP server there is nothing to restrict.
    #[cfg(not(feature = "mcp"))]
    #[must_use]
    pub(crate) fn loopback(self) -> Self {
        self
    }

    /// The port the app listens on when `PORT` is not set: 8000 for an MCP server, else 8080
    /// (AgentCore's ports for its MCP and HTTP protocols).
    pub fn default_port(&self) -> u16 {
        #[cfg(feature = "a2a")]
        if self.a2a.is_some() {
            return A2A_PORT;
        }
        #[cfg(feature = "mcp")]
        if self.mcp.is_some() {
            return MCP_PORT;
        }
        HTTP_PORT
    }

    /// The entrypoint: called with the JSON payload (any JSON value) and the request context.
    /// Its result is JSON, a stream (server-sent events) or a response; see [`Reply`].
    #[must_use]
    pub fn entrypoint<F, Fut, R>(mut self, entrypoint: F) -> Self
    where
        F: Fn(Value, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, HandlerError>> + Send + 'static,
        R: Into<Reply>,
    {
        self.entrypoint = Some(Arc::new(move |payload, context| {
            let future = entrypoint(payload, context);
            Box::pin(async move { future.await.map(Into::into) })
        }));
        self
    }

    /// The `/ws` handler: called with the accepted socket and the request context of the
    /// upgrade request. An `Err` closes the socket with code 1011. Without one, upgrades are
    /// refused with 403.
    #[must_use]
    pub fn websocket<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(WsConnection, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        self.websocket = Some(Arc::new(move |socket, context| {
            Box::pin(handler(socket, context))
        }));
        self
    }

    /// How long a `/ws` connection may pass no text or binary message, in either direction,
    /// before the server closes it with 1001 (going away). Default 15 minutes, AgentCore's
    /// session idle timeout; `None` (or zero) never closes an idle connection. Pings and pongs
    /// do not count as activity. A handler that works longer than this without sending
    /// anything should send progress messages or raise the timeout.
    #[must_use]
    pub fn websocket_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.ws.idle_timeout = crate::ws::non_zero(timeout.into());
        self
    }

    /// How often the server pings each `/ws` client. A client that sends nothing, not even the
    /// pong, for one interval after a ping is closed with 1011 and the reason `keepalive ping
    /// timeout`, as uvicorn does. Default 20 seconds (uvicorn's `ws_ping_interval` and
    /// `ws_ping_timeout`); `None` (or zero) sends no pings. The check pauses while a send is in
    /// progress or the handler has not taken the messages already read.
    #[must_use]
    pub fn websocket_ping_interval(mut self, interval: impl Into<Option<Duration>>) -> Self {
        self.ws.ping_interval = crate::ws::non_zero(interval.into());
        self
    }

    /// The largest `/ws` message, in bytes, in either direction. A client's larger message
    /// (or frame) closes the connection with 1009 (message too big); the handler's larger
    /// message is not sent ([`WsError::TooLarge`](crate::WsError::TooLarge)). Default 16 MiB, uvicorn's `ws_max_size`.
    #[must_use]
    pub fn websocket_max_message_bytes(mut self, bytes: usize) -> Self {
        self.ws.max_message_bytes = bytes;
        self
    }

    /// A custom health status: return `Some` to override the automatic one (a forced status
    /// still wins), `None` to fall back to it.
    #[must_use]
    pub fn ping(
        mut self,
        handler: impl Fn() -> Option<PingStatus> + Send + Sync + 'static,
    ) -> Self {
        self.health = HealthTracker::with_custom(handler);
        self
    }

    /// The largest accepted request body (default 100 MB); larger ones get `413`.
    #[must_use]
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// How long a request body may take to arrive after its headers (default 60 s); a slower
    /// one gets `408`.
    #[must_use]
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// The most bytes of request bodies held at once across requests (default 256 MiB; the
    /// largest accepted body is also bounded by it). A request whose body would go past it waits
    /// for others to finish, up to a quarter of the body read timeout, then gets `503` with
    /// `Retry-After`.
    #[must_use]
    pub fn max_body_bytes_in_flight(mut self, bytes: usize) -> Self {
        self.body_budget = BodyBudget::new(bytes);
        self
    }

    /// The health tracker, to register background work (`start_task`) or force a status.
    pub fn health(&self) -> HealthTracker {
        self.health.clone()
    }

    /// The axum router serving the three routes (and Starlette's 404/405/307 answers).
    pub fn into_router(self) -> Router {
        #[cfg(feature = "a2a")]
        if let Some(server) = &self.a2a {
            // The A2A routes read bodies under the app's limits (size, time, bytes in flight).
            let limits = BodyLimits {
                max_bytes: self.max_body_bytes,
                timeout: self.body_read_timeout,
                budget: self.body_budget.clone(),
            };
            let rpc = server
                .router()
                .layer(axum::middleware::from_fn_with_state(limits, bounded_body));
            return Router::new()
                .route(
                    "/ping",
                    get(|| async {
                        wire::json_response(StatusCode::OK, r#"{"status":"Healthy"}"#.to_owned())
                    }),
                )
                .merge(rpc);
        }
        #[cfg(feature = "mcp")]
        let mcp = self
            .mcp
            .clone()
            .map(|server| server.into_service(self.shutdown.clone()));
        let state = Arc::new(self);
        let router = Router::new()
            .route(
                "/ping",
                get(ping).fallback(|| async { method_not_allowed("HEAD, GET") }),
            )
            .route(
                "/invocations",
                post(invocations).fallback(|| async { method_not_allowed("POST") }),
            )
            .route("/ws", any(websocket))
            .fallback(not_found)
            .with_state(state);
        #[cfg(feature = "mcp")]
        if let Some(service) = mcp {
            return router.route_service("/mcp", service);
        }
        router
    }
}

/// Reads the request's body within `limits` before the route sees it; a body over them is
/// answered as `/invocations` answers it (413, 408 or 503).
#[cfg(feature = "a2a")]
async fn bounded_body(
    State(limits): State<BodyLimits>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match body::read(body, declared, &limits).await {
        Ok(read) => {
            next.run(Request::from_parts(parts, Body::from(read.bytes)))
                .await
        }
        Err(error) => error.into_response(),
    }
}

fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = wire::plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

async fn websocket(State(app): State<Arc<AgentCoreApp>>, request: Request) -> Response {
    let route = ws::WsRoute {
        handler: app.websocket.clone(),
        settings: app.ws.clone(),
        health: app.health.clone(),
        shutdown: app.shutdown.clone(),
    };
    ws::upgrade(route, request).await
}

/// Starlette's `redirect_slashes`: `/ping/` and `/invocations/` redirect to the route.
async fn not_found(request: Request) -> Response {
    let path = request.uri().path();
    if matches!(path, "/ping/" | "/invocations/" | "/ws/") {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let mut location = format!("http://{host}{}", path.trim_end_matches('/'));
        if let Some(query) = request.uri().query() {
            location.push('?');
            location.push_str(query);
        }
        if let Ok(value) = HeaderValue::from_str(&location) {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::TEMPORARY_REDIRECT;
            response.headers_mut().insert(header::LOCATION, value);
            return response;
        }
    }
    wire::plain(StatusCode::NOT_FOUND, "Not Found")
}

async fn ping(State(app): State<Arc<AgentCoreApp>>) -> Response {
    let (status, at) = app.health.status();
    let body = format!(
        r#"{{"status":"{}","time_of_last_update":{at}}}"#,
        status.as_str()
    );
    wire::json_response(StatusCode::OK, body)
}

/// Headers whose values debug logs may show; every other value is hidden, whatever its name
/// (custom headers such as `X-Amzn-Bedrock-AgentCore-Runtime-Custom-Password` included).
const SHOWN_HEADERS: [&str; 16] = [
    "accept",
    "accept-encoding",
    "connection",
    "content-length",
    "content-type",
    "expect",
    "host",
    "sec-websocket-version",
    "traceparent",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-bedrock-agentcore-runtime-request-id",
    "x-amzn-bedrock-agentcore-runtime-session-id",
    "x-amzn-trace-id",
    "x-forwarded-proto",
];

/// Headers for debug logs: allow-listed values, bounded; the others only by length.
pub(crate) fn redacted_headers(headers: &HeaderMap) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for (name, value) in headers {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let name = name.as_str();
        let _ = match value.to_str() {
            Ok(text) if SHOWN_HEADERS.contains(&name) => {
                write!(out, "{}: {}", Bounded(name), Bounded(text))
            }
            _ => write!(out, "{}: (hidden, {} bytes)", Bounded(name), value.len()),
        };
    }
    out
}

async fn invocations(State(app): State<Arc<AgentCoreApp>>, request: Request) -> Response {
    if let Some(response) = crate::context::oversized_id(request.headers()) {
        return response;
    }
    let context = Arc::new(RequestContext::from_headers(request.headers()));
    let span = tracing::info_span!(
        "invocation",
        requestId = %context.request_id,
        sessionId = context.session_id.as_deref().unwrap_or(""),
    );
    // Traced only when telemetry is on: the server span, under the context AgentCore sent.
    let server = telemetry::enabled()
        .then(|| ServerSpan::start("POST", "/invocations", request.headers(), &context));
    let otel = server.as_ref().map(|s| s.context().clone());
    // Everything logged from here on (this handler, the entrypoint, its agent and tools, the
    // stream) carries the request and session ids, read from the context as Python's
    // formatter reads its context variables.
    let invocation = invoke(app, request, context.clone(), server).instrument(span);
    match otel {
        Some(otel) => {
            use opentelemetry::context::FutureExt as _;
            context.scope(invocation.with_context(otel)).await
        }
        None => context.scope(invocation).await,
    }
}

/// One invocation; its server span (if traced) ends with the response, or with the stream.
async fn invoke(
    app: Arc<AgentCoreApp>,
    request: Request,
    context: Arc<RequestContext>,
    mut server: Option<ServerSpan>,
) -> Response {
    let response = answer(app, request, context, &mut server).await;
    if let Some(server) = server {
        server.end(response.status().as_u16());
    }
    response
}

async fn answer(
    app: Arc<AgentCoreApp>,
    request: Request,
    context: Arc<RequestContext>,
    server: &mut Option<ServerSpan>,
) -> Response {
    let started = Instant::now();
    let payload = match read_payload(&app, request, started).await {
        Ok(payload) => payload,
        Err(response) => return response,
    };
    // Busy from here: a request still arriving is not work in progress.
    let guard = app.health.start_invocation();
    let reply = match call_entrypoint(&app, payload, &context, started).await {
        Ok(reply) => reply,
        Err(response) => return response,
    };
    let elapsed = started.elapsed().as_secs_f64();
    match reply {
        Reply::Json(value) => {
            tracing::info!(target: "bedrock_agentcore.app", "Invocation completed successfully ({elapsed:.3}s)");
            wire::json_response(StatusCode::OK, wire::result_body(&value))
        }
        Reply::Response(response) => {
            if response.status().as_u16() >= 400 {
                tracing::warn!(target: "bedrock_agentcore.app", "Invocation returned HTTP {} ({elapsed:.3}s)", response.status().as_u16());
            }
            response
        }
        Reply::Stream(stream) => {
            tracing::info!(target: "bedrock_agentcore.app", "Returning streaming response ({elapsed:.3}s)");
            sse_response(stream, guard, context, app.shutdown.clone(), server.take())
        }
    }
}

/// The request body, read within the app's limits and parsed as JSON; the error is the answer.
async fn read_payload(
    app: &AgentCoreApp,
    request: Request,
    started: Instant,
) -> Result<Value, Response> {
    if tracing::enabled!(target: "bedrock_agentcore.app", tracing::Level::DEBUG) {
        tracing::debug!(target: "bedrock_agentcore.app", "Request headers: {}", redacted_headers(request.headers()));
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let limits = BodyLimits {
        max_bytes: app.max_body_bytes,
        timeout: app.body_read_timeout,
        budget: app.body_budget.clone(),
    };
    let body = body::read(request.into_body(), declared, &limits)
        .await
        .map_err(|error| {
            tracing::warn!(target: "bedrock_agentcore.app", "Request body refused ({:.3}s): {error:?}", started.elapsed().as_secs_f64());
            error.into_response()
        })?;
    // The body's share of the in-flight budget is released once it is parsed.
    parse_payload(&body.bytes).inspect_err(|_| {
        tracing::warn!(target: "bedrock_agentcore.app", "Invalid JSON in request ({:.3}s)", started.elapsed().as_secs_f64());
    })
}

/// Runs the entrypoint on its own task (with the context, which does not cross tasks by itself):
/// a panic becomes a 500, and a handler that blocks cannot stall `/ping`. When the client goes
/// away this future is dropped, and the handler with it (its agent's turn is cancelled and the
/// session freed). A call still running at the end of a server's shutdown grace period is
/// answered `503` with the shutdown message. The error is the answer.
async fn call_entrypoint(
    app: &AgentCoreApp,
    payload: Value,
    context: &Arc<RequestContext>,
    started: Instant,
) -> Result<Reply, Response> {
    let Some(entrypoint) = app.entrypoint.as_ref() else {
        tracing::error!(target: "bedrock_agentcore.app", "No entrypoint defined");
        return Err(wire::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No entrypoint defined",
        ));
    };
    let call = entrypoint(payload, RequestContext::clone(context));
    let call = context.clone().scope(call).in_current_span();
    // The spawned task keeps the invocation's trace context when traced.
    let call = if telemetry::enabled() {
        use opentelemetry::context::FutureExt as _;
        AbortOnDropHandle::new(tokio::spawn(call.with_current_context()))
    } else {
        AbortOnDropHandle::new(tokio::spawn(call))
    };
    let elapsed = || started.elapsed().as_secs_f64();
    let outcome = tokio::select! {
        outcome = call => outcome,
        () = app.shutdown.cancelled() => {
            tracing::warn!(target: "bedrock_agentcore.app", "Invocation ended by the server's shutdown ({:.3}s)", elapsed());
            return Err(wire::error(StatusCode::SERVICE_UNAVAILABLE, SHUTDOWN_MESSAGE));
        }
    };
    match outcome {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(error)) => {
            let status = error.status();
            let message = Bounded(error.message());
            if status.is_client_error() {
                tracing::warn!(target: "bedrock_agentcore.app", "Invocation failed ({:.3}s): {message}", elapsed());
            } else {
                tracing::error!(target: "bedrock_agentcore.app", "Invocation failed ({:.3}s): {message}", elapsed());
            }
            Err(wire::error(status, error.message()))
        }
        Err(join) => {
            let message = join.try_into_panic().map_or_else(
                |_| "the invocation was cancelled".to_owned(),
                |p| panic_message(&*p),
            );
            tracing::error!(target: "bedrock_agentcore.app", "Invocation failed ({:.3}s): handler panicked: {}", elapsed(), Bounded(&message));
            Err(wire::error(StatusCode::INTERNAL_SERVER_ERROR, &message))
        }
    }
}

/// Python's `request.json()`: any JSON value; a UTF-8 byte-order mark is allowed; the
/// content type is not checked.
#[allow(clippy::result_large_err, reason = "the error is the response to send")]
fn parse_payload(body: &Bytes) -> Result<Value, Response> {
    let bytes = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        wire::error_with_details(
            StatusCode::BAD_REQUEST,
            "Invalid encoding",
            &wire::utf8_error_details(bytes, &e),
        )
    })?;
    serde_json::from_str(text).map_err(|e| wire::invalid_json(text, &e))
}

/// Streams `data: <json>\n\n` frames as the items arrive; an error (or a panic) becomes Python's
/// error frame and ends the stream, and so does the end of a server's shutdown grace period. The
/// invocation counts as in flight until the stream ends or the client goes away (dropping the
/// stream stops the producer).
fn sse_response(
    stream: SseStream,
    guard: crate::ping::BusyGuard,
    context: Arc<RequestContext>,
    shutdown: CancellationToken,
    server: Option<ServerSpan>,
) -> Response {
    let stream = InContext {
        inner: stream.0,
        context,
        otel: server.as_ref().map(|s| s.context().clone()),
    };
    let frames = async_stream::stream! {
        let _guard = guard;
        // Ends when the stream does (or, dropped, marks the client's disconnect).
        let server = server;
        let mut failure: Option<String> = None;
        let mut stream = AssertUnwindSafe(stream).catch_unwind();
        loop {
            let item = tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    tracing::warn!(target: "bedrock_agentcore.app", "Stream ended by the server's shutdown");
                    yield Ok(wire::sse_error_frame(SHUTDOWN_MESSAGE, "ServerShutdown"));
                    failure = Some(SHUTDOWN_MESSAGE.to_owned());
                    break;
                }
                item = stream.next() => item,
            };
            let Some(item) = item else { break };
            let error = match item {
                Ok(Ok(frame)) => {
                    yield Ok::<Bytes, std::convert::Infallible>(frame);
                    continue;
                }
                Ok(Err(error)) => error,
                Err(panic) => HandlerError::new(panic_message(&*panic)).with_error_type("Panic"),
            };
            tracing::error!(target: "bedrock_agentcore.app", "Error in async streaming: {}", Bounded(error.message()));
            yield Ok(wire::sse_error_frame(error.message(), error.error_type()));
            failure = Some(error.error_type().to_owned());
            break;
        }
        // The producer (and the agent's spans) end first, then their parent.
        drop(stream);
        match (server, failure) {
            (Some(server), None) => server.end(200),
            (Some(server), Some(failure)) => server.fail(&failure),
            (None, _) => {}
        }
    };
    let mut response = Response::new(Body::from_stream(frames));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(wire::EVENT_STREAM),
    );
    response
}

/// The error of a stream cut by the end of the shutdown grace period.
const SHUTDOWN_MESSAGE: &str =
    "the server shut down before the answer was complete; the answer is incomplete";

/// A stream polled with its invocation's context as [`RequestContext::current`] (the server
/// polls the body outside the invocation's task), and its trace context as the current
/// OpenTelemetry context when traced.
struct InContext {
    inner: strands_core::BoxStream<'static, Result<Bytes, HandlerError>>,
    context: Arc<RequestContext>,
    otel: Option<opentelemetry::Context>,
}

impl futures_core::Stream for InContext {
    type Item = Result<Bytes, HandlerError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = &mut *self;
        let _attached = this.otel.as_ref().map(|otel| otel.clone().attach());
        this.context
            .sync_scope(|| this.inner.as_mut().poll_next(cx))
    }
}
