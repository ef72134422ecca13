//! Test doubles for the (unofficial) Rust port of Strands Agents.
//!
//! [`ScriptedModel`] is a [`Model`](strands_core::Model) that replays scripted stream events and
//! errors, and records every request it receives, so agent behaviour is tested without a network.
//! [`canned`] holds the Python benchmark's recorded streams.
//!
//! ```
//! use strands_testkit::ScriptedModel;
//!
//! let model = ScriptedModel::builder()
//!     .throttle("Rate exceeded")
//!     .text("Hello!")
//!     .build();
//! assert_eq!(model.remaining(), 2);
//! ```
#![doc(test(attr(deny(warnings))))]

pub mod canned;
mod scripted;

#[doc(inline)]
pub use scripted::{
    RecordedRequest, ScriptedModel, ScriptedModelBuilder, Step, text_stream, tool_use_stream,
};
