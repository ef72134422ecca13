//! `/ws`: the WebSocket route and the connection handed to the handler.
//!
//! Python: `BedrockAgentCoreApp`'s `@app.websocket` and Starlette's `WebSocket`, served by
//! uvicorn (whose `websockets` protocol pings, limits message sizes and closes with RFC 6455's
//! codes).
//!
//! Each connection runs a driver next to the handler, on the handler's task: it reads the
//! socket (so pings are answered and pongs seen while the handler is busy), hands text and
//! binary messages to [`WsConnection::recv`] through a one-slot channel, pings the client, and
//! closes the connection on a protocol violation, an idle timeout or a missing pong.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use http::StatusCode;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::context::RequestContext;
use crate::ping::HealthTracker;
use crate::reply::{HandlerError, panic_message};
use crate::wire;
use strands_core::BoxFuture;

/// Close code 1000: the handler finished.
const NORMAL: u16 = 1000;
/// Close code 1001: the server ends an idle connection, or shuts down.
const GOING_AWAY: u16 = 1001;
/// Close code 1002: the client broke the WebSocket protocol.
const PROTOCOL_ERROR: u16 = 1002;
/// Close code 1007: a text message (or close reason) that is not UTF-8.
const INVALID_PAYLOAD: u16 = 1007;
/// Close code 1009: a message over the size limit.
const MESSAGE_TOO_BIG: u16 = 1009;
/// Close code 1011: the handler failed, or the client stopped answering pings.
const INTERNAL_ERROR: u16 = 1011;

/// The read buffer each connection starts with; it grows only while a larger frame arrives.
/// hyper starts its HTTP/1 read buffer at the same 8 KiB (tungstenite's default is 128 KiB).
const READ_BUFFER_BYTES: usize = 8 * 1024;
/// Room in the write buffer beyond one largest message: its frame header and the control
/// frames (pong, close) queued behind it.
const WRITE_SLACK_BYTES: usize = 4 * 1024;
/// How long writing a close frame may take before the connection is dropped without it.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// WebSocket settings of an [`AgentCoreApp`](crate::AgentCoreApp).
#[derive(Debug, Clone)]
pub(crate) struct WsSettings {
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) max_message_bytes: usize,
}

impl Default for WsSettings {
    fn default() -> Self {
        Self {
            // AgentCore's default session idle timeout (`idleRuntimeSessionTimeout`, 900 s):
            // an AgentCore session that long idle is ended anyway.
            idle_timeout: Some(Duration::from_secs(15 * 60)),
            // uvicorn's `ws_ping_interval` and `ws_ping_timeout` (20 s each), which serve
            // Python's app.
            ping_interval: Some(Duration::from_secs(20)),
            // uvicorn's `ws_max_size`.
            max_message_bytes: 16 * 1024 * 1024,
        }
    }
}

/// A zero duration turns the timer off, as `None` does.
pub(crate) fn non_zero(duration: Option<Duration>) -> Option<Duration> {
    duration.filter(|d| !d.is_zero())
}

/// What the `/ws` route needs of its app.
pub(crate) struct WsRoute {
    pub(crate) handler: Option<Arc<WebSocketFn>>,
    pub(crate) settings: WsSettings,
    pub(crate) health: HealthTracker,
    /// Cancelled when a server's shutdown grace period ends.
    pub(crate) shutdown: CancellationToken,
}

/// A `/ws` handler, as the app stores it.
pub(crate) type WebSocketFn = dyn Fn(WsConnection, RequestContext) -> BoxFuture<'static, Result<(), HandlerError>>
    + Send
    + Sync;

/// The `/ws` route: refuses without a handler (403) or with an oversized id (400), else upgrades
/// and runs the handler beside the connection's driver.
pub(crate) async fn upgrade(app: WsRoute, request: Request) -> Response {
    if let Some(response) = crate::context::oversized_id(request.headers()) {
        return response;
    }
    let context = RequestContext::from_headers(request.headers());
    let Some(handler) = app.handler.clone() else {
        // Python closes before accepting, which uvicorn answers with 403.
        return wire::plain(StatusCode::FORBIDDEN, "Forbidden");
    };
    let (mut parts, _body) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let request = (parts.uri, parts.headers);
    let settings = app.settings.clone();
    let upgrade = upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        // Every send is flushed at once: nothing to gather in the write buffer.
        .write_buffer_size(0)
        .max_write_buffer_size(settings.max_message_bytes.saturating_add(WRITE_SLACK_BYTES))
        .max_message_size(settings.max_message_bytes)
        .max_frame_size(settings.max_message_bytes);
    let span = tracing::info_span!(
        "websocket",
        requestId = %context.request_id,
        sessionId = context.session_id.as_deref().unwrap_or(""),
    );
    let health = app.health.clone();
    let server_shutdown = app.shutdown.clone();
    // Traced only when telemetry is on: one server span for the connection's life.
    let server = crate::telemetry::enabled()
        .then(|| crate::telemetry::ServerSpan::start("GET", "/ws", &request.1, &context));
    upgrade.on_upgrade(move |socket| {
        let shared = Arc::new(context.clone());
        let otel = server.as_ref().map(|s| s.context().clone());
        let connection = async move {
                let _guard = health.start_invocation();
                let (connection, driver) = WsConnection::start(socket, request, &settings, server_shutdown);
                let handle = connection.clone();
                let mut handler =
                    std::pin::pin!(AssertUnwindSafe(handler(connection, context)).catch_unwind());
                let finished = {
                    // Dropped before the close below, so it holds no lock then.
                    let driver = std::pin::pin!(driver.run());
                    tokio::select! {
                        outcome = &mut handler => Some(outcome),
                        () = driver => None,
                    }
                };
                let outcome = match finished {
                    Some(outcome) => outcome,
                    None => handler.await,
                };
                let failure = match outcome {
                    Ok(Ok(())) => None,
                    Ok(Err(error)) => Some(error.message().to_owned()),
                    Err(panic) => Some(panic_message(&*panic)),
                };
                let ending = handle.shared.ending();
                if let Some(message) = &failure {
                    match ending {
                        Some(ending) => tracing::error!(target: "bedrock_agentcore.app", "WebSocket handler failed after the connection was {ending}: {message}"),
                        None => tracing::error!(target: "bedrock_agentcore.app", "WebSocket handler failed: {message}"),
                    }
                }
                // A connection the driver already closed keeps its code, whatever the handler
                // returned (usually the close is then a no-op): a handler that returns the
                // error of a client's protocol violation does not turn 1002, 1007 or 1009 into
                // 1011.
                let (code, reason) = match (ending, failure) {
                    (Some(Ending::Closed(code, reason)), _) => (code, reason),
                    (_, None) => (NORMAL, ""),
                    (_, Some(_)) => (INTERNAL_ERROR, ""),
                };
                handle.close(code, reason).await;
                if let Some(server) = server {
                    server.end(101);
                }
            }
            .instrument(span);
        match otel {
            Some(otel) => {
                use opentelemetry::context::FutureExt as _;
                shared.scope(connection.with_context(otel)).boxed()
            }
            None => shared.scope(connection).boxed(),
        }
    })
}

/// An accepted `/ws` connection, as handed to the WebSocket handler.
///
/// Clones share the connection: one task may wait in [`recv`](Self::recv) while another
/// sends. Pings are answered and pongs consumed by the runtime, as Starlette's `WebSocket`
/// never shows them.
///
/// Python: the Starlette `WebSocket` (`receive_text/receive_json/send_text/send_json`).
#[derive(Clone)]
pub struct WsConnection {
    shared: Arc<Shared>,
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
    /// The transport failed, or the client broke the protocol (see [`WsError::close_code`]).
    #[error("the WebSocket connection failed")]
    Transport(#[source] axum::Error),
    /// A text message was not valid JSON.
    #[error("the WebSocket message is not valid JSON")]
    Json(#[source] serde_json::Error),
    /// A message to send is over the size limit
    /// ([`AgentCoreApp::websocket_max_message_bytes`](crate::AgentCoreApp::websocket_max_message_bytes)); nothing was sent.
    #[error(
        "the WebSocket message is {size} bytes, over the {limit}-byte limit (raise it with AgentCoreApp::websocket_max_message_bytes)"
    )]
    TooLarge {
        /// The message's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
}

impl WsError {
    /// The close code the server sent because of this error, when the client broke RFC 6455:
    /// 1002 (protocol error: an unmasked or malformed frame, an unknown opcode...), 1007
    /// (invalid payload data: a text message that is not UTF-8) or 1009 (message too big).
    /// `None` for other errors; a handler that fails with one of them closes with 1011.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            Self::Transport(error) => violation_code(error),
            Self::Closed | Self::Json(_) | Self::TooLarge { .. } => None,
        }
    }
}

/// The RFC 6455 close code of a client's violation behind a read error, if it is one.
fn violation_code(error: &axum::Error) -> Option<u16> {
    use tungstenite::error::{Error as TsError, ProtocolError};

    let source = std::error::Error::source(error)?;
    match source.downcast_ref::<TsError>()? {
        // The client went away; there is nobody to send a close frame to.
        TsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        TsError::Protocol(_) => Some(PROTOCOL_ERROR),
        TsError::Utf8(_) => Some(INVALID_PAYLOAD),
        TsError::Capacity(_) => Some(MESSAGE_TOO_BIG),
        _ => None,
    }
}

/// How a connection ended before its handler did.
#[derive(Debug, Clone, Copy)]
enum Ending {
    /// The server closed it with this code and reason.
    Closed(u16, &'static str),
    /// The client closed it or went away.
    Peer,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed(code, _) => write!(f, "closed with {code}"),
            Self::Peer => f.write_str("closed by the client"),
        }
    }
}

/// The state shared by a connection's clones and its driver.
struct Shared {
    /// The writing half; `None` once closed.
    sink: tokio::sync::Mutex<Option<SplitSink<WebSocket, WsMessage>>>,
    /// Text and binary messages read by the driver; closed when the driver stops.
    incoming: tokio::sync::Mutex<mpsc::Receiver<WsMessage>>,
    /// `true` once the connection is over: pending sends give up, new ones fail.
    shutdown: watch::Sender<bool>,
    /// The largest message the handler may send.
    max_message_bytes: usize,
    /// The upgrade request's URI and headers.
    uri: http::Uri,
    headers: http::HeaderMap,
    state: Mutex<ConnState>,
}

struct ConnState {
    /// When the last text or binary message was read or sent.
    last_activity: Instant,
    /// A message read but not yet handed over when the driver stopped.
    leftover: Option<WsMessage>,
    /// The read error the driver stopped on, for the next `recv`.
    error: Option<axum::Error>,
    ending: Option<Ending>,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, ConnState> {
        // The state holds plain values: a panic elsewhere leaves it consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn touch(&self) {
        self.state().last_activity = Instant::now();
    }

    fn ending(&self) -> Option<Ending> {
        self.state().ending
    }

    /// Ends the connection: pending sends give up, then the close frame (if any) is written,
    /// waiting at most [`CLOSE_TIMEOUT`]. Later calls do nothing.
    async fn shut(&self, frame: Option<CloseFrame>) {
        self.shutdown.send_replace(true);
        let sink = self.sink.lock().await.take();
        if let (Some(mut sink), Some(frame)) = (sink, frame) {
            // The peer may already be gone, or not reading; there is nothing more to do then.
            let _ =
                tokio::time::timeout(CLOSE_TIMEOUT, sink.send(WsMessage::Close(Some(frame)))).await;
        }
    }
}

/// Reads the socket for the handler, pings, and enforces the idle timeout.
struct Driver {
    shared: Arc<Shared>,
    stream: SplitStream<WebSocket>,
    incoming: mpsc::Sender<WsMessage>,
    idle_timeout: Option<Duration>,
    ping_interval: Option<Duration>,
    /// Cancelled when a server's shutdown grace period ends.
    server_shutdown: CancellationToken,
}

/// What came of a keepalive ping.
enum Ping {
    Sent,
    /// Not sent: the handler is sending (or the connection is closing).
    Busy,
    /// Writing it took a whole interval.
    Stuck,
    /// Writing it failed: the connection is broken.
    Broken,
}

/// Why the driver stopped.
enum Stop {
    /// The handler (or the route, after it) closed the connection.
    Closed,
    /// The client closed the connection or went away.
    Peer,
    /// A read failed: a protocol violation (with its close code) or a broken transport.
    Failed(axum::Error),
    /// The server closes the connection: idle, or no pong.
    Close(u16, &'static str),
}

impl Driver {
    async fn run(mut self) {
        let mut shutdown = self.shared.shutdown.subscribe();
        let mut ping = self.ping_interval.map(|period| {
            let mut ping = tokio::time::interval_at(Instant::now() + period, period);
            ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ping
        });
        // A message read while the handler has not taken the previous one: reading pauses.
        let mut pending: Option<WsMessage> = None;
        let mut awaiting_pong = false;
        let stop = loop {
            let idle_at = self
                .idle_timeout
                .map(|idle| self.shared.state().last_activity + idle);
            tokio::select! {
                () = closed(&mut shutdown) => break Stop::Closed,
                () = self.server_shutdown.cancelled() => {
                    break Stop::Close(GOING_AWAY, "server shutting down");
                }
                permit = self.incoming.reserve(), if pending.is_some() => {
                    // The receiver lives as long as the connection, so this cannot fail.
                    if let (Ok(permit), Some(message)) = (permit, pending.take()) {
                        permit.send(message);
                    }
                }
                frame = self.stream.next(), if pending.is_none() => {
                    awaiting_pong = false;
                    match frame {
                        // After a close frame the next read sends tungstenite's reply and ends.
                        None => break Stop::Peer,
                        Some(Ok(message @ (WsMessage::Text(_) | WsMessage::Binary(_)))) => {
                            self.shared.touch();
                            if let Err(mpsc::error::TrySendError::Full(message)) =
                                self.incoming.try_send(message)
                            {
                                pending = Some(message);
                            }
                        }
                        // Pings are answered by tungstenite; pongs only prove the client alive.
                        Some(Ok(_)) => {}
                        Some(Err(error)) => break Stop::Failed(error),
                    }
                }
                () = sleep_until(idle_at) => {
                    let last = self.shared.state().last_activity;
                    if self.idle_timeout.is_some_and(|idle| last + idle <= Instant::now()) {
                        break Stop::Close(GOING_AWAY, "idle timeout");
                    }
                }
                () = tick(ping.as_mut()) => {
                    if pending.is_some() {
                        // Not reading while the handler catches up: no pong can be seen.
                        awaiting_pong = false;
                        continue;
                    }
                    if awaiting_pong {
                        break Stop::Close(INTERNAL_ERROR, "keepalive ping timeout");
                    }
                    match self.ping().await {
                        Ping::Sent => awaiting_pong = true,
                        Ping::Busy => {}
                        Ping::Stuck => break Stop::Close(INTERNAL_ERROR, "keepalive ping timeout"),
                        Ping::Broken => break Stop::Peer,
                    }
                }
            }
        };
        self.finish(stop, pending).await;
    }

    /// Sends a ping, unless a send is in progress or the connection is closed.
    async fn ping(&self) -> Ping {
        let Ok(mut guard) = self.shared.sink.try_lock() else {
            return Ping::Busy;
        };
        let Some(sink) = guard.as_mut() else {
            return Ping::Busy;
        };
        let limit = self.ping_interval.unwrap_or(CLOSE_TIMEOUT);
        match tokio::time::timeout(limit, sink.send(WsMessage::Ping(Bytes::new()))).await {
            Ok(Ok(())) => Ping::Sent,
            Ok(Err(_)) => Ping::Broken,
            // The client has not read for a whole interval.
            Err(_) => Ping::Stuck,
        }
    }

    /// Records how the connection ended, then closes it; dropping `self` ends `recv`'s channel.
    async fn finish(self, stop: Stop, pending: Option<WsMessage>) {
        let (ending, error) = match stop {
            Stop::Closed => (None, None),
            Stop::Peer => (Some(Ending::Peer), None),
            Stop::Failed(error) => match violation_code(&error) {
                Some(code) => {
                    tracing::warn!(target: "bedrock_agentcore.app", "Closing the WebSocket with {code}: {error}");
                    let reason = match code {
                        INVALID_PAYLOAD => "invalid UTF-8",
                        MESSAGE_TOO_BIG => "message too big",
                        _ => "protocol error",
                    };
                    (Some(Ending::Closed(code, reason)), Some(error))
                }
                None => {
                    tracing::debug!(target: "bedrock_agentcore.app", "WebSocket connection broken: {error}");
                    (Some(Ending::Peer), Some(error))
                }
            },
            Stop::Close(code, reason) => {
                tracing::info!(target: "bedrock_agentcore.app", "Closing the WebSocket with {code}: {reason}");
                (Some(Ending::Closed(code, reason)), None)
            }
        };
        {
            let mut state = self.shared.state();
            state.ending = state.ending.or(ending);
            state.leftover = pending;
            state.error = error;
        }
        let frame = match ending {
            Some(Ending::Closed(code, reason)) => Some(CloseFrame {
                code,
                reason: reason.into(),
            }),
            Some(Ending::Peer) | None => None,
        };
        self.shared.shut(frame).await;
    }
}

/// Resolves once the connection is over.
async fn closed(shutdown: &mut watch::Receiver<bool>) {
    // The sender lives in the connection, as long as this receiver's owner.
    let _ = shutdown.wait_for(|closed| *closed).await;
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn tick(interval: Option<&mut Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

impl WsConnection {
    fn start(
        socket: WebSocket,
        request: (http::Uri, http::HeaderMap),
        settings: &WsSettings,
        server_shutdown: CancellationToken,
    ) -> (Self, Driver) {
        let (sink, stream) = socket.split();
        let (sender, receiver) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            sink: tokio::sync::Mutex::new(Some(sink)),
            incoming: tokio::sync::Mutex::new(receiver),
            shutdown: watch::Sender::new(false),
            max_message_bytes: settings.max_message_bytes,
            uri: request.0,
            headers: request.1,
            state: Mutex::new(ConnState {
                last_activity: Instant::now(),
                leftover: None,
                error: None,
                ending: None,
            }),
        });
        let driver = Driver {
            shared: shared.clone(),
            stream,
            incoming: sender,
            idle_timeout: settings.idle_timeout,
            ping_interval: settings.ping_interval,
            server_shutdown,
        };
        (Self { shared }, driver)
    }

    /// The upgrade request's URI: its path and query string (`/ws?qualifier=DEFAULT`).
    pub fn uri(&self) -> &http::Uri {
        &self.shared.uri
    }

    /// The upgrade request's headers (the [`RequestContext`] holds the AgentCore ones).
    pub fn headers(&self) -> &http::HeaderMap {
        &self.shared.headers
    }

    /// The first query parameter of the upgrade request named `name`, percent-decoded: a
    /// presigned URL carries the session id as
    /// `X-Amzn-Bedrock-AgentCore-Runtime-Session-Id`.
    ///
    /// ```
    /// # fn session_of(ws: &strands_runtime::WsConnection) -> Option<String> {
    /// ws.query_param("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id")
    /// # }
    /// # let _ = session_of;
    /// ```
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.shared.uri.query()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// The next text or binary message; `None` once the connection is closed.
    ///
    /// # Errors
    ///
    /// [`WsError::Transport`] when the connection breaks or the client breaks the protocol
    /// (the connection is then already closed with [`WsError::close_code`]); later calls
    /// return `None`.
    pub async fn recv(&self) -> Result<Option<WsMessage>, WsError> {
        let mut incoming = self.shared.incoming.lock().await;
        if let Some(message) = incoming.recv().await {
            return Ok(Some(message));
        }
        let mut state = self.shared.state();
        if let Some(message) = state.leftover.take() {
            return Ok(Some(message));
        }
        match state.error.take() {
            Some(error) => Err(WsError::Transport(error)),
            None => Ok(None),
        }
    }

    /// The next text (or UTF-8 binary) message parsed as JSON; `None` once closed.
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
    /// [`WsError::TooLarge`] for a text or binary message over
    /// [`AgentCoreApp::websocket_max_message_bytes`](crate::AgentCoreApp::websocket_max_message_bytes), [`WsError::Closed`] after the connection
    /// closed (a send waiting on a client that does not read gives up when the connection is
    /// closed), [`WsError::Transport`] when it breaks.
    pub async fn send(&self, message: WsMessage) -> Result<(), WsError> {
        let size = match &message {
            WsMessage::Text(text) => Some(text.as_str().len()),
            WsMessage::Binary(bytes) => Some(bytes.len()),
            _ => None,
        };
        let limit = self.shared.max_message_bytes;
        if let Some(size) = size.filter(|&size| size > limit) {
            return Err(WsError::TooLarge { size, limit });
        }
        let mut shutdown = self.shared.shutdown.subscribe();
        if *shutdown.borrow_and_update() {
            return Err(WsError::Closed);
        }
        let sent = tokio::select! {
            sent = async {
                let mut guard = self.shared.sink.lock().await;
                let sink = guard.as_mut().ok_or(WsError::Closed)?;
                sink.send(message).await.map_err(WsError::Transport)
            } => sent,
            () = closed(&mut shutdown) => Err(WsError::Closed),
        };
        if size.is_some() && sent.is_ok() {
            self.shared.touch();
        }
        sent
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

    /// Closes the connection with a close code (1000 normal, 1011 server error). Writing the
    /// close frame waits at most 5 seconds for a client that does not read. Later calls, and
    /// calls after the connection ended, do nothing.
    pub async fn close(&self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code,
            reason: reason.to_owned().into(),
        };
        self.shared.shut(Some(frame)).await;
    }
}
