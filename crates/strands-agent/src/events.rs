//! Events an agent streams while it works.

use std::time::Duration;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;
use strands_core::citations::Citation;
use strands_core::{Blob, Interrupt, Message, StreamEvent, ToolResult, ToolUse};

use crate::AgentResult;

/// One event of [`Agent::stream`](crate::Agent::stream).
///
/// Each variant serializes to the dict Python Strands' `stream_async` yields (same keys, e.g.
/// `{"data": "Hi", "delta": {"text": "Hi"}}`), minus the non-serializable invocation state Python
/// merges into some of them. Two events are additions: [`AgentEvent::ToolStart`] and
/// [`AgentEvent::ToolResult`], so a client sees tool progress without parsing messages. Python's
/// deprecated duplicate `{"start": true}` is not emitted.
///
/// ```
/// use strands_agent::AgentEvent;
///
/// let event = AgentEvent::TextDelta { text: "Hi".into() };
/// assert_eq!(serde_json::to_string(&event).unwrap(), r#"{"data":"Hi","delta":{"text":"Hi"}}"#);
/// ```
///
/// Large payloads are boxed so the event stays small (at most 128 bytes, checked at compile
/// time): events are moved through several stream layers on their way out, and small values
/// are copied inline where large ones cost a `memcpy` call at every step.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AgentEvent {
    /// The invocation starts: `{"init_event_loop": true}`.
    InitEventLoop,
    /// A cycle (model call plus tools) starts: `{"start_event_loop": true}`.
    StartEventLoop,
    /// A raw model stream event: `{"event": {...}}`.
    ModelStreamEvent(Box<StreamEvent>),
    /// Text from the model: `{"data", "delta": {"text"}}`.
    TextDelta {
        /// The new text.
        text: String,
    },
    /// A fragment of a tool's input: `{"type": "tool_use_stream", "delta", "current_tool_use"}`.
    ToolUseDelta {
        /// The new fragment of JSON text.
        input: String,
        /// The tool use so far; its `input` is the JSON text accumulated so far.
        current_tool_use: CurrentToolUse,
    },
    /// Reasoning text: `{"reasoningText", "delta", "reasoning": true}`.
    ReasoningTextDelta {
        /// The new reasoning text.
        text: String,
    },
    /// A piece of the reasoning signature: `{"reasoning_signature", "delta", "reasoning": true}`.
    ReasoningSignatureDelta {
        /// The new signature piece.
        signature: String,
    },
    /// Redacted reasoning: `{"reasoningRedactedContent", "delta", "reasoning": true}`.
    ReasoningRedactedDelta {
        /// The encrypted reasoning.
        content: Blob,
    },
    /// A citation: `{"citation", "delta": {"citation"}}`.
    CitationDelta {
        /// The citation.
        citation: Box<Citation>,
    },
    /// A message appended to history: the model's message, or the user message holding tool
    /// results. `{"message": {...}}`.
    Message(Box<Message>),
    /// A tool starts running: `{"type": "tool_start", "tool_use": {...}}` (not in Python).
    ToolStart {
        /// The tool use being run.
        tool_use: Box<ToolUse>,
    },
    /// Progress from a streaming tool: `{"type": "tool_stream", "tool_stream_event": {"tool_use",
    /// "data"}}`.
    ToolStream {
        /// The tool use that produced it.
        tool_use: Box<ToolUse>,
        /// The value the tool streamed.
        data: Value,
    },
    /// A tool finished: `{"type": "tool_result", "tool_result": {...}}` (not in Python).
    ToolResult {
        /// The result.
        tool_result: ToolResult,
    },
    /// A throttled model call is retried after `delay`: `{"event_loop_throttled_delay": <s>}`.
    Throttle {
        /// The backoff that was waited.
        delay: Duration,
    },
    /// The loop stops on an error: `{"force_stop": true, "force_stop_reason": "..."}`.
    ForceStop {
        /// The error's message.
        reason: String,
    },
    /// A tool or hook paused the agent for human input:
    /// `{"tool_interrupt_event": {"tool_use", "interrupts": [...]}}`.
    ToolInterrupt {
        /// The tool use that was paused.
        tool_use: Box<ToolUse>,
        /// What was asked.
        interrupts: Vec<Interrupt>,
    },
    /// The structured output was captured: `{"structured_output": {...}}`.
    StructuredOutput {
        /// The validated value.
        value: Value,
    },
    /// The invocation's result, always last: `{"result": {...}}`.
    Result(Box<AgentResult>),
}

const _: () = assert!(
    std::mem::size_of::<AgentEvent>() <= 128,
    "AgentEvent grew past 128 bytes: box the new large payload"
);

/// The tool use being streamed: `{"toolUseId", "name", "input": <JSON text so far>}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CurrentToolUse {
    /// The tool use id.
    pub tool_use_id: String,
    /// The tool name.
    pub name: String,
    /// The input JSON text received so far.
    pub input: String,
}

struct Delta<'a, T: ?Sized>(&'a str, &'a T);

impl<T: Serialize + ?Sized> Serialize for Delta<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.0, self.1)?;
        map.end()
    }
}

struct Seconds(Duration);

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.subsec_nanos() == 0 {
            serializer.serialize_u64(self.0.as_secs())
        } else {
            serializer.serialize_f64(self.0.as_secs_f64())
        }
    }
}

impl Serialize for AgentEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            Self::InitEventLoop => map.serialize_entry("init_event_loop", &true)?,
            Self::StartEventLoop => map.serialize_entry("start_event_loop", &true)?,
            Self::ModelStreamEvent(event) => map.serialize_entry("event", event)?,
            Self::TextDelta { text } => {
                map.serialize_entry("data", text)?;
                map.serialize_entry("delta", &Delta("text", text))?;
            }
            Self::ToolUseDelta {
                input,
                current_tool_use,
            } => {
                map.serialize_entry("type", "tool_use_stream")?;
                map.serialize_entry("delta", &Delta("toolUse", &Delta("input", input)))?;
                map.serialize_entry("current_tool_use", current_tool_use)?;
            }
            Self::ReasoningTextDelta { text } => {
                map.serialize_entry("reasoningText", text)?;
                map.serialize_entry("delta", &Delta("reasoningContent", &Delta("text", text)))?;
                map.serialize_entry("reasoning", &true)?;
            }
            Self::ReasoningSignatureDelta { signature } => {
                map.serialize_entry("reasoning_signature", signature)?;
                map.serialize_entry(
                    "delta",
                    &Delta("reasoningContent", &Delta("signature", signature)),
                )?;
                map.serialize_entry("reasoning", &true)?;
            }
            Self::ReasoningRedactedDelta { content } => {
                map.serialize_entry("reasoningRedactedContent", content)?;
                map.serialize_entry(
                    "delta",
                    &Delta("reasoningContent", &Delta("redactedContent", content)),
                )?;
                map.serialize_entry("reasoning", &true)?;
            }
            Self::CitationDelta { citation } => {
                map.serialize_entry("citation", citation)?;
                map.serialize_entry("delta", &Delta("citation", citation))?;
            }
            Self::Message(message) => map.serialize_entry("message", message)?,
            Self::ToolStart { tool_use } => {
                map.serialize_entry("type", "tool_start")?;
                map.serialize_entry("tool_use", tool_use)?;
            }
            Self::ToolStream { tool_use, data } => {
                map.serialize_entry("type", "tool_stream")?;
                map.serialize_entry("tool_stream_event", &ToolStreamPayload { tool_use, data })?;
            }
            Self::ToolResult { tool_result } => {
                map.serialize_entry("type", "tool_result")?;
                map.serialize_entry("tool_result", tool_result)?;
            }
            Self::Throttle { delay } => {
                map.serialize_entry("event_loop_throttled_delay", &Seconds(*delay))?;
            }
            Self::ForceStop { reason } => {
                map.serialize_entry("force_stop", &true)?;
                map.serialize_entry("force_stop_reason", reason)?;
            }
            Self::ToolInterrupt {
                tool_use,
                interrupts,
            } => {
                map.serialize_entry(
                    "tool_interrupt_event",
                    &ToolInterruptPayload {
                        tool_use,
                        interrupts,
                    },
                )?;
            }
            Self::StructuredOutput { value } => map.serialize_entry("structured_output", value)?,
            Self::Result(result) => map.serialize_entry("result", result)?,
        }
        map.end()
    }
}

#[derive(Serialize)]
struct ToolStreamPayload<'a> {
    tool_use: &'a ToolUse,
    data: &'a Value,
}

#[derive(Serialize)]
struct ToolInterruptPayload<'a> {
    tool_use: &'a ToolUse,
    interrupts: &'a [Interrupt],
}
