//! The data model of the (unofficial) Rust port of [Strands Agents]: messages, content blocks,
//! tool specs, model stream events, and the [`Model`] and [`Tool`] traits.
//!
//! Every type serializes to the JSON the Python SDK uses (the Bedrock Converse shape), so
//! histories, session files and stream events move between the two stacks unchanged. This crate
//! does no I/O: tool and provider authors depend on it alone, the agent loop lives in
//! `strands-agent`.
//!
//! ```
//! use strands_core::Message;
//! use serde_json::json;
//!
//! let json = r#"{"role":"assistant","content":[{"text":"Let me add."},{"toolUse":{"toolUseId":"t1","name":"add","input":{"a":1,"b":2}}}]}"#;
//! let message: Message = serde_json::from_str(json).unwrap();
//! assert_eq!(message.tool_uses().next().unwrap().input, json!({"a": 1, "b": 2}));
//! assert_eq!(serde_json::to_string(&message).unwrap(), json); // byte-identical round trip
//! ```
//!
//! [Strands Agents]: https://strandsagents.com
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

use std::future::Future;
use std::pin::Pin;

use futures_core::Stream;

mod blob;
pub mod citations;
pub mod content;
mod error;
pub mod interrupt;
pub mod json;
pub mod media;
pub mod memory;
mod model;
pub mod session;
mod state;
pub mod streaming;
pub mod time;
mod tool;
mod tool_loader;
pub mod tools;
pub mod url;
mod usage;

#[doc(inline)]
pub use blob::Blob;
#[doc(inline)]
pub use content::{ContentBlock, Message, MessageMetadata, Role, SystemContentBlock};
#[doc(inline)]
pub use error::{BoxError, ModelError, error_chain};
#[doc(inline)]
pub use interrupt::{Interrupt, InterruptRaised};
#[doc(inline)]
pub use model::{Model, ModelMessage, ModelMessages, ModelRequest, ModelStream};
#[doc(inline)]
pub use state::AgentState;
#[doc(inline)]
pub use streaming::{StopReason, StreamEvent};
#[doc(inline)]
pub use tool::{Tool, ToolContext, ToolEvent, ToolStream, tool_result_stream};
#[doc(inline)]
pub use tool_loader::{ToolLoadRequest, ToolLoader};
#[doc(inline)]
pub use tools::{ToolChoice, ToolResult, ToolResultContent, ToolResultStatus, ToolSpec, ToolUse};
#[doc(inline)]
pub use usage::{Metrics, Usage};

/// A boxed, pinned, `Send` future, as returned by object-safe traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A boxed, pinned, `Send` stream, as returned by object-safe traits.
pub type BoxStream<'a, T> = Pin<Box<dyn Stream<Item = T> + Send + 'a>>;

/// Re-exported so implementors and generated code need not name their own copy.
pub use tokio_util::sync::CancellationToken;
