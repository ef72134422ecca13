//! Model providers for the (unofficial) Rust port of [Strands Agents], each behind a cargo
//! feature. Every provider implements [`strands_core::Model`]. [`LazyModel`], available with
//! any set of features, builds a model at its first call.
//!
//! | Feature | Provider | Default |
//! |---|---|---|
//! | `bedrock` | [Amazon Bedrock](bedrock) (ConverseStream / Converse, official AWS SDK) | yes |
//! | `anthropic` | [Anthropic Messages API](anthropic) (streaming server-sent events over HTTPS) | no |
//! | `openai` | [OpenAI-compatible chat completions](openai) (OpenAI, Ollama, llama.cpp server, vLLM, LiteLLM; streaming server-sent events) | no |
//! | `local` | [llama.cpp in-process](local) (any GGUF chat model; default Qwen2.5-Coder-0.5B-Instruct fetched once from PyPI; needs cmake and libclang to build) | no |
//!
//! [Strands Agents]: https://strandsagents.com
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "anthropic")]
#[cfg_attr(docsrs, doc(cfg(feature = "anthropic")))]
pub mod anthropic;
#[cfg(feature = "bedrock")]
#[cfg_attr(docsrs, doc(cfg(feature = "bedrock")))]
pub mod bedrock;
mod lazy_model;
#[cfg(feature = "llama-cpp")]
#[cfg_attr(docsrs, doc(cfg(feature = "llama-cpp")))]
pub mod local;
#[cfg(feature = "openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
pub mod openai;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
#[path = "fuzz_api.rs"]
pub mod __fuzz;
#[cfg(any(feature = "anthropic", feature = "openai"))]
mod http;
#[cfg(any(feature = "anthropic", feature = "openai", feature = "fuzzing"))]
mod sse;

#[doc(inline)]
pub use lazy_model::LazyModel;
