//! An (unofficial) Rust implementation of the Amazon Bedrock AgentCore runtime contract:
//! `GET /ping`, `POST /invocations` (JSON or server-sent events) and `/ws`, byte-compatible with
//! the official Python `BedrockAgentCoreApp`.
//!
//! ```no_run
//! use strands_runtime::prelude::*;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), ServeError> {
//!     AgentCoreApp::new()
//!         .entrypoint(|payload: Value, context: RequestContext| async move {
//!             Ok::<_, HandlerError>(json!({"echo": payload, "session": context.session_id}))
//!         })
//!         .serve()
//!         .await
//! }
//! ```
//!
//! [`serve`] does what the `strands-runtime` binary does (`PORT`/`HOST`, Python-format JSON
//! logs, `TCP_NODELAY`, a graceful SIGTERM); [`Server`] and [`ServeConfig`] are the parts, for a
//! program that binds its own listener or picks its own limits. See `docs/runtime.md`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

// `cli.rs`, `provider.rs` and `doctor.rs` beside this file are modules of the binary
// (`main.rs`), not of this library.
#[cfg(feature = "a2a")]
mod a2a_url;
mod agent_entrypoint;
mod app;
mod body;
pub mod context;
#[cfg(feature = "agentcore-identity")]
#[cfg_attr(docsrs, doc(cfg(feature = "agentcore-identity")))]
pub mod identity;
pub mod logging;
mod ping;
mod reply;
mod serve;
mod server;
pub mod telemetry;
mod wire;
mod ws;

#[cfg(feature = "a2a")]
#[doc(inline)]
pub use a2a_url::{a2a_card_url, runtime_url};
#[doc(inline)]
pub use agent_entrypoint::{AgentEntrypoint, Caller, DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE};
#[doc(inline)]
pub use app::{
    A2A_PORT, AgentCoreApp, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_BODY_BYTES_IN_FLIGHT, HTTP_PORT, MCP_PORT,
};
#[doc(inline)]
pub use axum::extract::ws::Message as WsMessage;
#[doc(inline)]
pub use context::{MAX_ID_LEN, RequestContext, USER_ID_HEADER, is_forwardable_header};
#[doc(no_inline)]
pub use http::StatusCode;
#[doc(inline)]
pub use ping::{BusyGuard, HealthTracker, PingStatus};
#[doc(inline)]
pub use reply::{HandlerError, Reply};
#[doc(inline)]
pub use serve::{SERVE_ENVIRONMENT, ServeConfig, ServeError, serve, shutdown_signal};
#[doc(inline)]
pub use server::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_SHUTDOWN_GRACE, Server,
};
#[doc(inline)]
pub use ws::{WsConnection, WsError};

/// A2A: serving the agent over the Agent2Agent protocol (`strands-a2a`).
#[cfg(feature = "a2a")]
pub use strands_a2a as a2a;
/// The Strands agent SDK (`strands-agent`): [`Agent`](agent::Agent), [`tool`](agent::tool), hooks,
/// conversation managers, sessions. `#[tool]` finds it here when `strands-agent` is not a
/// dependency of its own.
pub use strands_agent as agent;
/// The data types and traits (`strands-core`): messages, content, the `Model` and `Tool` traits.
pub use strands_core as core;

/// MCP: tools from MCP servers, and tools served over MCP (`strands-mcp`).
#[cfg(feature = "mcp")]
pub use strands_mcp as mcp;
/// The model providers (`strands-models`) compiled in: Bedrock, and Anthropic, OpenAI-compatible
/// and the local llama.cpp model by feature.
#[cfg(feature = "cli")]
pub use strands_models as models;
/// The tokio this crate runs on, for `#[tokio::main(crate = "strands_runtime::tokio")]` in a
/// program that does not depend on tokio itself.
pub use tokio;

/// What most programs serving an agent need: `use strands_runtime::prelude::*;`.
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::agent::{Agent, AgentEvent, tool};
    #[doc(no_inline)]
    pub use crate::{
        AgentCoreApp, AgentEntrypoint, HandlerError, Reply, RequestContext, ServeError, StatusCode,
        WsConnection, WsMessage, serve,
    };
    #[doc(no_inline)]
    pub use serde_json::{Value, json};
}

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
