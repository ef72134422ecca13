//! Tools from MCP servers for Strands agents, on the official `rmcp` SDK (the unofficial Rust
//! port of Strands Agents).
//!
//! An [`McpClient`] holds one connection to one server, over a child process's stdio (feature
//! `stdio`) or streamable HTTP (feature `http`), for the life of the process. It connects in the
//! background, lists the server's tools (every page), and re-lists them when the server says
//! they changed. Each tool is a [`strands_core::Tool`] an agent can take:
//!
//! - the server's schema is passed through; names may get a prefix, and filters choose tools;
//! - results map to tool-result content as Python Strands maps them (text, images, embedded
//!   text and blob resources), and `isError` reaches the model as an error result;
//! - progress notifications become `tool_stream` events;
//! - a call has an optional timeout, and cancelling the agent cancels the call on the server;
//! - a server that dies or cannot be reached answers the model with an error while the client
//!   reconnects with backoff.
//!
//! Python: `strands.tools.mcp.MCPClient`.

#[cfg(not(any(feature = "stdio", feature = "http", feature = "server")))]
compile_error!(
    "strands-mcp needs a transport: enable the `stdio` or the `http` feature (clients) or `server`"
);

mod client;
mod content;
mod filter;
#[cfg(feature = "oauth")]
mod oauth;
pub mod search;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "sigv4")]
mod sigv4;
mod state;
mod tool;
mod transport;

#[doc(inline)]
pub use client::{McpClient, McpClientBuilder, McpError};
#[doc(inline)]
pub use filter::ToolFilters;
#[cfg(feature = "oauth")]
#[doc(inline)]
pub use oauth::ClientCredentials;
#[doc(inline)]
pub use search::{GATEWAY_SEARCH_TOOL, ToolSearch};
#[cfg(feature = "server")]
#[doc(inline)]
pub use server::{McpHttpService, McpToolServer};
#[cfg(feature = "sigv4")]
#[doc(inline)]
pub use sigv4::{AGENTCORE_SERVICE, SigV4Signer};
#[doc(inline)]
pub use transport::McpTransport;
