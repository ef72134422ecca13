//! The agent of the (unofficial) Rust port of [Strands Agents]: the event loop that calls a model,
//! runs the tools it asks for, and streams what happens.
//!
//! ```
//! use strands_agent::{tool, Agent};
//! use strands_testkit::ScriptedModel;
//!
//! /// Add two integers.
//! ///
//! /// # Arguments
//! /// * `a` - first addend
//! /// * `b` - second addend
//! #[tool]
//! async fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A scripted model stands in for Bedrock here; it asks for `add`, then answers.
//! let model = ScriptedModel::builder()
//!     .tool_use("t1", "add", r#"{"a": 2, "b": 3}"#)
//!     .text("2 + 3 = 5")
//!     .build();
//! let mut agent = Agent::builder().model(model).tool(add).build()?;
//! let result = agent.invoke("what is 2+3?").await?;
//! assert_eq!(result.to_string(), "2 + 3 = 5\n");
//! # Ok(())
//! # }
//! ```
//!
//! Behaviour follows Python Strands 1.62 wherever it reaches history, the model or tool results;
//! the deliberate differences are listed in `docs/python-parity.md`.
//!
//! [Strands Agents]: https://strandsagents.com
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

// Lets `#[tool]` name this crate as `::strands_agent` from inside it too.
#[allow(
    unused_extern_crates,
    reason = "used by code that `#[tool]` generates inside this crate"
)]
extern crate self as strands_agent;

mod accumulate;
mod agent;
mod agent_tool;
mod cancel;
pub mod conversation;
mod error;
mod event_loop;
mod events;
pub mod hooks;
mod instrument;
mod interrupts;
mod invoke;
pub mod memory;
mod metrics;
pub mod multiagent;
mod normalize;
mod pydantic;
mod result;
mod retry;
pub mod session;
mod structured_output;
pub mod telemetry;
pub mod tools;
#[cfg(feature = "vended-tools")]
#[cfg_attr(docsrs, doc(cfg(feature = "vended-tools")))]
pub mod vended_tools;

#[doc(hidden)]
pub mod __private;

#[doc(inline)]
pub use agent::{Agent, AgentBuilder, AgentInput};
#[doc(inline)]
pub use agent_tool::AgentTool;
#[doc(inline)]
pub use cancel::CancelHandle;
#[doc(inline)]
pub use error::{AgentError, BuildError};
#[doc(inline)]
pub use event_loop::Limits;
#[doc(inline)]
pub use events::{AgentEvent, CurrentToolUse};
#[doc(inline)]
pub use interrupts::{InterruptResponse, ResumeError};
#[doc(inline)]
pub use metrics::{EventLoopMetrics, ToolMetrics};
#[doc(inline)]
pub use result::AgentResult;
#[doc(inline)]
pub use retry::ModelRetryStrategy;
#[doc(inline)]
pub use strands_core::{AgentState, Interrupt, InterruptRaised};
/// Turns a function into a [`Tool`](strands_core::Tool); see the `strands-macros` docs.
pub use strands_macros::tool;
#[doc(inline)]
pub use structured_output::{OutputSchema, OutputSchemaError};
