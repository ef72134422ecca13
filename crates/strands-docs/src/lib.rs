//! Compiles the Rust examples of the repository's `README.md` and of its guides in `docs/` as
//! doctests, so they keep up with the API: `cargo test -p strands-docs --doc`. This crate has no
//! API and is never published; each guide is the documentation of one empty module.
//!
//! Examples that need a network, AWS or a model download are `no_run` (compiled, not run); the
//! others run against `strands_testkit::ScriptedModel` or the testkit's fake servers. Hide
//! scaffolding (imports, `main`, the scripted model) behind rustdoc's `# ` line prefix so the
//! guides stay readable on GitHub.
//!
//! | Feature | Adds |
//! |---|---|
//! | `local` | `docs/local-model.md`, whose example needs the llama.cpp provider (building it needs cmake and libclang); `scripts/test` runs with `--all-features` |
//!
//! ---
//!
#![doc = include_str!("../../../README.md")]
#![doc(test(attr(deny(warnings))))]

// One empty module per guide in `docs/`; the guide is its documentation.

#[doc = include_str!("../../../docs/a2a.md")]
pub mod a2a {}

#[doc = include_str!("../../../docs/agent-file.md")]
pub mod agent_file {}

#[doc = include_str!("../../../docs/agent.md")]
pub mod agent {}

#[doc = include_str!("../../../docs/anthropic.md")]
pub mod anthropic {}

#[doc = include_str!("../../../docs/ARCHITECTURE.md")]
pub mod architecture {}

#[doc = include_str!("../../../docs/bedrock.md")]
pub mod bedrock {}

#[doc = include_str!("../../../docs/conversation.md")]
pub mod conversation {}

#[doc = include_str!("../../../docs/credentials.md")]
pub mod credentials {}

#[doc = include_str!("../../../docs/deploy.md")]
pub mod deploy {}

#[doc = include_str!("../../../docs/hooks.md")]
pub mod hooks {}

#[doc = include_str!("../../../docs/identity.md")]
pub mod identity {}

#[doc = include_str!("../../../docs/interrupts.md")]
pub mod interrupts {}

#[cfg(feature = "llama-cpp")]
#[doc = include_str!("../../../docs/local-model.md")]
pub mod local_model {}

#[doc = include_str!("../../../docs/mcp.md")]
pub mod mcp {}

#[doc = include_str!("../../../docs/migrating-from-python.md")]
pub mod migrating_from_python {}

#[doc = include_str!("../../../docs/multiagent.md")]
pub mod multiagent {}

#[doc = include_str!("../../../docs/openai.md")]
pub mod openai {}

#[doc = include_str!("../../../docs/performance.md")]
pub mod performance {}

#[doc = include_str!("../../../docs/python-parity.md")]
pub mod python_parity {}

#[doc = include_str!("../../../docs/runtime.md")]
pub mod runtime {}

#[doc = include_str!("../../../docs/sessions.md")]
pub mod sessions {}

#[doc = include_str!("../../../docs/structured-output.md")]
pub mod structured_output {}

#[doc = include_str!("../../../docs/telemetry.md")]
pub mod telemetry {}
