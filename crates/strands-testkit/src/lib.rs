//! Test doubles for the (unofficial) Rust port of Strands Agents.
//!
//! [`ScriptedModel`] is a [`Model`](strands_core::Model) that replays scripted stream events and
//! errors, and records every request it receives, so agent behaviour is tested without a network.
//! [`canned`] holds the Python benchmark's recorded streams. With the `bedrock` feature,
//! `bedrock::FakeBedrock` is a local Amazon Bedrock Runtime endpoint for the official AWS SDK
//! client: it plays scripted Converse/ConverseStream replies as real event-stream frames and
//! restJson1 errors, verifies SigV4 signatures and records every request.
//! With the `anthropic` feature, `anthropic::FakeAnthropic` is a local Anthropic Messages API
//! that checks the API key and version header, records every request and plays scripted
//! server-sent-event streams and errors (rate limits, overload, a connection cut mid-stream).
//! With the `openai` feature, `openai::FakeOpenAi` is a local OpenAI-compatible chat-completions
//! server that checks the bearer key, records every request and plays scripted chunk streams in
//! the styles of OpenAI, Ollama and the llama.cpp server, HTTP errors, error objects mid-stream
//! and cut connections.
//! With the `imds` feature, `imds::FakeImds` is a local EC2/microVM metadata service serving an
//! instance role's credentials over IMDSv2, or answering the token request with 405 as Amazon
//! Bedrock AgentCore does.
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
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "anthropic")]
#[cfg_attr(docsrs, doc(cfg(feature = "anthropic")))]
pub mod anthropic;
#[cfg(feature = "bedrock")]
#[cfg_attr(docsrs, doc(cfg(feature = "bedrock")))]
pub mod bedrock;
pub mod canned;
#[cfg(feature = "gateway")]
#[cfg_attr(docsrs, doc(cfg(feature = "gateway")))]
pub mod gateway;
#[cfg(any(
    feature = "anthropic",
    feature = "bedrock",
    feature = "imds",
    feature = "openai"
))]
mod http;
#[cfg(feature = "identity")]
#[cfg_attr(docsrs, doc(cfg(feature = "identity")))]
pub mod identity;
#[cfg(feature = "imds")]
#[cfg_attr(docsrs, doc(cfg(feature = "imds")))]
pub mod imds;
#[cfg(feature = "openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
pub mod openai;
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub mod otlp;
mod scripted;
#[cfg(feature = "served")]
#[cfg_attr(docsrs, doc(cfg(feature = "served")))]
pub mod served;

#[doc(inline)]
pub use scripted::{
    RecordedRequest, ScriptedModel, ScriptedModelBuilder, Step, text_stream, tool_use_stream,
};
