//! Sessions kept in Amazon Bedrock AgentCore Memory, in the format of Python's
//! `AgentCoreMemorySessionManager` (bedrock-agentcore 1.25), so a conversation survives the
//! microVM and moves between the Python and Rust stacks.
//!
//! [`AgentCoreMemory`] is the memory (a client and a memory id), shared by the whole process;
//! [`AgentCoreMemory::for_actor`] gives the [`MemorySessionRepository`] of one actor, so each
//! invocation stores its caller's conversation, where Python binds one actor when the agent is
//! built.
//!
//! What each event holds:
//!
//! | Record | Payload | Metadata |
//! |---|---|---|
//! | message | `{"conversational": {"content": {"text": json.dumps(SessionMessage)}, "role": "USER" \| "ASSISTANT"}}`, or `{"blob": json.dumps([text, role])}` from 100,000 characters | none |
//! | session | `{"blob": json.dumps(Session)}` | `stateType: SESSION` |
//! | agent | `{"blob": json.dumps(SessionAgent)}`, a new event per change | `stateType: AGENT`, `agentId` |
//!
//! The caller needs `bedrock-agentcore:CreateEvent`, `ListEvents` and `DeleteEvent` (to replace
//! a redacted message) on the memory, and `RetrieveMemoryRecords` for long-term memory
//! ([`AgentCoreMemory::retrieve`], a `strands_core::memory::MemoryRetriever`).

mod batch;
mod errors;
mod repository;
mod retrieve;
mod wire;

#[doc(inline)]
pub use repository::{
    AgentCoreMemory, DEFAULT_MAX_EVENTS, MAX_BATCH_SIZE, MemorySessionRepository,
};
