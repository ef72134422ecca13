//! The AgentCore HTTP app: `GET /ping`, `POST /invocations`, `/ws`.
//!
//! Python: `bedrock_agentcore.runtime.BedrockAgentCoreApp`.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::Value;
use strands_core::BoxFuture;
use tracing::Instrument;

use crate::context::RequestContext;
use crate::ping::{HealthTracker, PingStatus};
use crate::reply::{HandlerError, Reply, SseStream};
use crate::wire;

/// Default limit on request bodies: AgentCore accepts payloads up to 100 MB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 100 * 1024 * 1024;

type EntrypointFn =
    dyn Fn(Value, RequestContext) -> BoxFuture<'static, Result<Reply, HandlerError>> + Send + Sync;
type WebSocketFn = dyn Fn(WsConnection, RequestContext) -> BoxFuture<'static, Result<(), HandlerError>>
    + Send
    + Sync;

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
    health: HealthTracker,
    max_body_bytes: usize,
}

impl fmt::Debug for AgentCoreApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentCoreApp")
            .field("entrypoint", &self.entrypoint.is_some())
            .field("websocket", &self.websocket.is_some())
            .field("max_body_bytes", &self.max_body_bytes)
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
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
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

    /// The health tracker, to register background work (`start_task`) or force a status.
    pub fn health(&self) -> HealthTracker {
        self.health.clone()
    }

    /// The axum router serving the three routes (and Starlette's 404/405/307 answers).
    pub fn into_router(self) -> Router {
        let state = Arc::new(self);
        Router::new()
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
            .with_state(state)
    }
}

fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = wire::plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
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

const SENSITIVE: [&str; 7] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "workloadaccesstoken",
    "x-amz-bedrock-agentcore-identity-wat",
    "x-amz-security-token",
    "x-api-key",
];

/// Headers for debug logs, with credentials and tokens redacted.
fn redacted_headers(headers: &HeaderMap) -> String {
    let mut out = String::new();
    for (name, value) in headers {
        let name = name.as_str();
        let sensitive =
            SENSITIVE.contains(&name) || name.contains("token") || name.contains("secret");
        let value = if sensitive {
            "(set, hidden)"
        } else {
            value.to_str().unwrap_or("(binary)")
        };
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
    }
    out
}

async fn invocations(State(app): State<Arc<AgentCoreApp>>, request: Request) -> Response {
    let context = Arc::new(RequestContext::from_headers(request.headers()));
    let span = tracing::info_span!(
        "invocation",
        requestId = %context.request_id,
        sessionId = context.session_id.as_deref().unwrap_or(""),
    );
    // Everything logged from here on (this handler, the entrypoint, its agent and tools, the
    // stream) carries the request and session ids, read from the context as Python's
    // formatter reads its context variables.
    context
        .clone()
        .scope(invoke(app, request, context).instrument(span))
        .await
}

async fn invoke(
    app: Arc<AgentCoreApp>,
    request: Request,
    context: Arc<RequestContext>,
) -> Response {
    let started = Instant::now();
    if tracing::enabled!(target: "bedrock_agentcore.app", tracing::Level::DEBUG) {
        tracing::debug!(target: "bedrock_agentcore.app", "Request headers: {}", redacted_headers(request.headers()));
    }
    let guard = app.health.start_invocation();
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > app.max_body_bytes) {
        return too_large(app.max_body_bytes);
    }
    let Ok(body) = to_bytes(request.into_body(), app.max_body_bytes).await else {
        return too_large(app.max_body_bytes);
    };
    let payload = match parse_payload(&body) {
        Ok(payload) => payload,
        Err(response) => {
            tracing::warn!(target: "bedrock_agentcore.app", "Invalid JSON in request ({:.3}s)", started.elapsed().as_secs_f64());
            return response;
        }
    };
    let Some(entrypoint) = app.entrypoint.as_ref() else {
        tracing::error!(target: "bedrock_agentcore.app", "No entrypoint defined");
        return wire::error(StatusCode::INTERNAL_SERVER_ERROR, "No entrypoint defined");
    };
    // The handler runs on its own task (with the context, which does not cross tasks by
    // itself): a panic becomes a 500, and a handler that blocks cannot stall `/ping`.
    let call = entrypoint(payload, RequestContext::clone(&context));
    let call = tokio::spawn(context.clone().scope(call).in_current_span());
    let reply = match call.await {
        Ok(Ok(reply)) => reply,
        Ok(Err(error)) => {
            tracing::error!(target: "bedrock_agentcore.app", "Invocation failed ({:.3}s): {}", started.elapsed().as_secs_f64(), error.message());
            return wire::error(error.status(), error.message());
        }
        Err(join) => {
            let message = join.try_into_panic().map_or_else(
                |_| "the invocation was cancelled".to_owned(),
                |p| panic_message(&*p),
            );
            tracing::error!(target: "bedrock_agentcore.app", "Invocation failed ({:.3}s): handler panicked: {message}", started.elapsed().as_secs_f64());
            return wire::error(StatusCode::INTERNAL_SERVER_ERROR, &message);
        }
    };
    match reply {
        Reply::Json(value) => {
            tracing::info!(target: "bedrock_agentcore.app", "Invocation completed successfully ({:.3}s)", started.elapsed().as_secs_f64());
            wire::json_response(StatusCode::OK, wire::result_body(&value))
        }
        Reply::Response(response) => {
            if response.status().as_u16() >= 400 {
                tracing::warn!(target: "bedrock_agentcore.app", "Invocation returned HTTP {} ({:.3}s)", response.status().as_u16(), started.elapsed().as_secs_f64());
            }
            response
        }
        Reply::Stream(stream) => {
            tracing::info!(target: "bedrock_agentcore.app", "Returning streaming response ({:.3}s)", started.elapsed().as_secs_f64());
            sse_response(stream, guard, context)
        }
    }
}

fn too_large(limit: usize) -> Response {
    wire::error_with_details(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Payload too large",
        &format!("the request body exceeds the limit of {limit} bytes"),
    )
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
/// error frame and ends the stream. The invocation counts as in flight until the stream ends or
/// the client goes away (dropping the stream stops the producer).
fn sse_response(
    stream: SseStream,
    guard: crate::ping::BusyGuard,
    context: Arc<RequestContext>,
) -> Response {
    let stream = InContext {
        inner: stream.0,
        context,
    };
    let frames = async_stream::stream! {
        let _guard = guard;
        let mut stream = AssertUnwindSafe(stream).catch_unwind();
        while let Some(item) = stream.next().await {
            let error = match item {
                Ok(Ok(frame)) => {
                    yield Ok::<Bytes, std::convert::Infallible>(frame);
                    continue;
                }
                Ok(Err(error)) => error,
                Err(panic) => HandlerError::new(panic_message(&*panic)).with_error_type("Panic"),
            };
            tracing::error!(target: "bedrock_agentcore.app", "Error in async streaming: {}", error.message());
            yield Ok(wire::sse_error_frame(error.message(), error.error_type()));
            break;
        }
    };
    let mut response = Response::new(Body::from_stream(frames));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(wire::EVENT_STREAM),
    );
    response
}

/// A stream polled with its invocation's context as [`RequestContext::current`] (the server
/// polls the body outside the invocation's task).
struct InContext {
    inner: strands_core::BoxStream<'static, Result<Bytes, HandlerError>>,
    context: Arc<RequestContext>,
}

impl futures_core::Stream for InContext {
    type Item = Result<Bytes, HandlerError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = &mut *self;
        this.context
            .sync_scope(|| this.inner.as_mut().poll_next(cx))
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the handler panicked".to_owned())
}

async fn websocket(State(app): State<Arc<AgentCoreApp>>, request: Request) -> Response {
    let context = RequestContext::from_headers(request.headers());
    let Some(handler) = app.websocket.clone() else {
        // Python closes before accepting, which uvicorn answers with 403.
        return wire::plain(StatusCode::FORBIDDEN, "Forbidden");
    };
    let (mut parts, _body) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let span = tracing::info_span!(
        "websocket",
        requestId = %context.request_id,
        sessionId = context.session_id.as_deref().unwrap_or(""),
    );
    let health = app.health.clone();
    upgrade.on_upgrade(move |socket| {
        let shared = Arc::new(context.clone());
        shared.scope(
            async move {
                let _guard = health.start_invocation();
                let connection = WsConnection::new(socket);
                let handle = connection.clone();
                let outcome = AssertUnwindSafe(handler(connection, context)).catch_unwind().await;
                let failure = match outcome {
                    Ok(Ok(())) => None,
                    Ok(Err(error)) => Some(error.message().to_owned()),
                    Err(panic) => Some(panic_message(&*panic)),
                };
                match failure {
                    None => handle.close(1000, "").await,
                    Some(message) => {
                        tracing::error!(target: "bedrock_agentcore.app", "WebSocket handler failed: {message}");
                        handle.close(1011, "").await;
                    }
                }
            }
            .instrument(span),
        )
    })
}

/// An accepted `/ws` connection, as handed to the WebSocket handler.
///
/// Python: the Starlette `WebSocket` (`receive_text/receive_json/send_text/send_json`).
#[derive(Clone)]
pub struct WsConnection {
    socket: Arc<tokio::sync::Mutex<Option<WebSocket>>>,
}

impl fmt::Debug for WsConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConnection").finish_non_exhaustive()
    }
}

/// Why a WebSocket operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    /// The connection is closed.
    #[error("the WebSocket connection is closed")]
    Closed,
    /// The transport failed.
    #[error("the WebSocket connection failed")]
    Transport(#[source] axum::Error),
    /// A text message was not valid JSON.
    #[error("the WebSocket message is not valid JSON")]
    Json(#[source] serde_json::Error),
}

impl WsConnection {
    fn new(socket: WebSocket) -> Self {
        Self {
            socket: Arc::new(tokio::sync::Mutex::new(Some(socket))),
        }
    }

    /// The next message; `None` once the client closed the connection.
    ///
    /// # Errors
    ///
    /// [`WsError::Transport`] when the connection breaks.
    pub async fn recv(&self) -> Result<Option<WsMessage>, WsError> {
        let mut guard = self.socket.lock().await;
        let Some(socket) = guard.as_mut() else {
            return Ok(None);
        };
        match socket.recv().await {
            None | Some(Ok(WsMessage::Close(_))) => {
                *guard = None;
                Ok(None)
            }
            Some(Ok(message)) => Ok(Some(message)),
            Some(Err(error)) => Err(WsError::Transport(error)),
        }
    }

    /// The next text (or UTF-8 binary) message parsed as JSON; `None` once closed. Pings and
    /// pongs are skipped.
    ///
    /// # Errors
    ///
    /// [`WsError::Json`] for a message that is not JSON, [`WsError::Transport`] when the
    /// connection breaks.
    pub async fn recv_json(&self) -> Result<Option<Value>, WsError> {
        loop {
            let bytes: Bytes = match self.recv().await? {
                None => return Ok(None),
                Some(WsMessage::Text(text)) => Bytes::from(text.as_str().to_owned()),
                Some(WsMessage::Binary(bytes)) => bytes,
                Some(_) => continue,
            };
            return serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(WsError::Json);
        }
    }

    /// Sends a message.
    ///
    /// # Errors
    ///
    /// [`WsError::Closed`] after the connection closed, [`WsError::Transport`] when it breaks.
    pub async fn send(&self, message: WsMessage) -> Result<(), WsError> {
        let mut guard = self.socket.lock().await;
        let socket = guard.as_mut().ok_or(WsError::Closed)?;
        socket.send(message).await.map_err(WsError::Transport)
    }

    /// Sends a value as a JSON text message (compact, like Starlette's `send_json`).
    ///
    /// # Errors
    ///
    /// As [`WsConnection::send`].
    pub async fn send_json(&self, value: &Value) -> Result<(), WsError> {
        let text = serde_json::to_string(value).map_err(WsError::Json)?;
        self.send(WsMessage::Text(text.into())).await
    }

    /// Closes the connection with a close code (1000 normal, 1011 server error).
    pub async fn close(&self, code: u16, reason: &str) {
        let mut guard = self.socket.lock().await;
        if let Some(mut socket) = guard.take() {
            let frame = CloseFrame {
                code,
                reason: reason.to_owned().into(),
            };
            // The peer may already be gone; there is nothing more to do then.
            let _ = socket.send(WsMessage::Close(Some(frame))).await;
        }
    }
}
