//! A2A (Agent2Agent) for the (unofficial) Rust port of Strands Agents: serve an agent as an A2A
//! server, as Python Strands' `A2AServer` does and as AgentCore runs A2A runtimes (protocol
//! `A2A`: port 9000, JSON-RPC at `/`, the agent card at `/.well-known/agent-card.json`).
//!
//! The protocol version is 0.3, the one Python Strands 1.62 speaks on both sides (its server and
//! its `A2AAgent` client, on `a2a-sdk` 0.3).
//!
//! ```
//! use strands_a2a::A2AServer;
//! use strands_agent::Agent;
//! use strands_testkit::ScriptedModel;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = A2AServer::builder(|| {
//!     Agent::builder()
//!         .name("Calculator")
//!         .description("Adds numbers.")
//!         .model(ScriptedModel::builder().text("4").build())
//!         .build()
//! })
//! .url("http://127.0.0.1:9000/")
//! .build()?;
//! assert_eq!(server.card().name, "Calculator");
//! let router: axum::Router = server.router(); // serve it with axum::serve
//! # drop(router);
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "client")]
mod client;
mod server;
pub mod types;

#[cfg(feature = "client")]
pub use client::{
    A2AAgent, A2AAgentBuilder, A2AClientError, A2AClientTool, A2AClientToolBuilder,
    A2AClientToolError, A2AEvent, A2AResult, A2AStreamEvent,
};
pub use server::{A2AServer, A2AServerBuilder, BuildError};
