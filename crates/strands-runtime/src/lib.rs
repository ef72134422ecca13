//! An (unofficial) Rust implementation of the Amazon Bedrock AgentCore runtime contract:
//! `GET /ping`, `POST /invocations` (JSON or server-sent events) and `/ws`, byte-compatible with
//! the official Python `BedrockAgentCoreApp`.
//!
//! ```no_run
//! use serde_json::{json, Value};
//! use strands_runtime::{AgentCoreApp, HandlerError, RequestContext, Server};
//!
//! # #[tokio::main]
//! # async fn main() -> std::io::Result<()> {
//! let app = AgentCoreApp::new().entrypoint(|payload: Value, context: RequestContext| async move {
//!     Ok::<_, HandlerError>(json!({"echo": payload, "session": context.session_id}))
//! });
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! Server::new(app)
//!     .serve(listener, async { tokio::signal::ctrl_c().await.unwrap_or_default() })
//!     .await
//! # }
//! ```
//!
//! The `strands-runtime` binary serves a Strands agent this way; see `docs/runtime.md`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

// `cli.rs`, `provider.rs` and `doctor.rs` beside this file are modules of the binary
// (`main.rs`), not of this library.
mod agent_entrypoint;
mod app;
mod body;
pub mod context;
pub mod logging;
mod ping;
mod reply;
mod server;
mod wire;
mod ws;

#[doc(inline)]
pub use agent_entrypoint::{AgentEntrypoint, DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE};
#[doc(inline)]
pub use app::{
    AgentCoreApp, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_BODY_BYTES_IN_FLIGHT,
};
#[doc(inline)]
pub use axum::extract::ws::Message as WsMessage;
#[doc(inline)]
pub use context::{MAX_ID_LEN, RequestContext, is_forwardable_header};
#[doc(inline)]
pub use ping::{BusyGuard, HealthTracker, PingStatus};
#[doc(inline)]
pub use reply::{HandlerError, Reply};
#[doc(inline)]
pub use server::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_SHUTDOWN_GRACE, Server,
};
#[doc(inline)]
pub use ws::{WsConnection, WsError};

/// `listener`, with `TCP_NODELAY` set on every accepted connection: small writes (SSE frames,
/// short JSON replies) go out at once instead of waiting ~40 ms for the client's delayed ACK
/// (Nagle's algorithm). uvicorn, behind the Python app, does the same, and so does [`Server`].
/// For mounting the router under axum's own server:
/// `axum::serve(strands_runtime::nodelay(listener), app.into_router())`.
pub fn nodelay(
    listener: tokio::net::TcpListener,
) -> impl axum::serve::Listener<Io = tokio::net::TcpStream, Addr = std::net::SocketAddr> {
    use axum::serve::ListenerExt as _;
    listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!("could not set TCP_NODELAY: {error}");
        }
    })
}
