//! Model stream events (the Bedrock ConverseStream shape), stop reasons, usage and metrics.
//!
//! Every provider turns its wire format into these events; the agent accumulates them into a
//! [`Message`](crate::Message).
//!
//! Python: `strands.types.streaming`, `strands.types.event_loop`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Blob;
use crate::citations::Citation;
use crate::content::Role;
#[doc(no_inline)]
pub use crate::usage::{Metrics, Usage};

/// One event of a model's response stream. Serializes as a one-key object, e.g.
/// `{"contentBlockDelta": {"delta": {"text": "Hi"}}}`.
///
/// ```
/// use strands_core::StreamEvent;
///
/// let event: StreamEvent =
///     serde_json::from_str(r#"{"contentBlockDelta": {"delta": {"text": "Hi"}}}"#).unwrap();
/// assert_eq!(event, StreamEvent::text_delta("Hi"));
/// ```
///
/// Python: `strands.types.streaming.StreamEvent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum StreamEvent {
    /// The message begins.
    MessageStart(MessageStartEvent),
    /// A content block begins; carries the tool name and id for tool-use blocks.
    ContentBlockStart(ContentBlockStartEvent),
    /// A piece of a content block.
    ContentBlockDelta(ContentBlockDeltaEvent),
    /// A content block ends.
    ContentBlockStop(ContentBlockStopEvent),
    /// The message ends, with the reason.
    MessageStop(MessageStopEvent),
    /// Usage, metrics and guardrail trace.
    Metadata(MetadataEvent),
    /// A guardrail asks to redact the latest user input or the assistant output.
    RedactContent(RedactContentEvent),
}

impl StreamEvent {
    /// `{"messageStart": {"role": "assistant"}}`.
    pub fn message_start() -> Self {
        Self::MessageStart(MessageStartEvent {
            role: Role::Assistant,
        })
    }

    /// `{"contentBlockStart": {"start": {}}}`.
    pub fn block_start() -> Self {
        Self::ContentBlockStart(ContentBlockStartEvent {
            start: ContentBlockStart::default(),
            content_block_index: None,
        })
    }

    /// `{"contentBlockStart": {"start": {"toolUse": {"toolUseId", "name"}}}}`.
    pub fn tool_use_start(tool_use_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self::ContentBlockStart(ContentBlockStartEvent {
            start: ContentBlockStart {
                tool_use: Some(ContentBlockStartToolUse {
                    tool_use_id: tool_use_id.into(),
                    name: name.into(),
                    reasoning_signature: None,
                }),
            },
            content_block_index: None,
        })
    }

    /// `{"contentBlockDelta": {"delta": {"text": ...}}}`.
    pub fn text_delta(text: impl Into<String>) -> Self {
        Self::delta(ContentBlockDelta::Text(text.into()))
    }

    /// `{"contentBlockDelta": {"delta": {"toolUse": {"input": ...}}}}`.
    pub fn tool_input_delta(input: impl Into<String>) -> Self {
        Self::delta(ContentBlockDelta::ToolUse(ToolUseDelta {
            input: input.into(),
            tool_use_id: None,
            name: None,
        }))
    }

    /// `{"contentBlockDelta": {"delta": <delta>}}`.
    pub fn delta(delta: ContentBlockDelta) -> Self {
        Self::ContentBlockDelta(ContentBlockDeltaEvent {
            delta,
            content_block_index: None,
        })
    }

    /// `{"contentBlockStop": {}}`.
    pub fn block_stop() -> Self {
        Self::ContentBlockStop(ContentBlockStopEvent {
            content_block_index: None,
        })
    }

    /// `{"messageStop": {"stopReason": ...}}`.
    pub fn message_stop(stop_reason: StopReason) -> Self {
        Self::MessageStop(MessageStopEvent {
            stop_reason,
            additional_model_response_fields: None,
        })
    }

    /// `{"metadata": {"usage": ..., "metrics": ...}}`.
    pub fn metadata(usage: Usage, metrics: Metrics) -> Self {
        Self::Metadata(MetadataEvent {
            usage: Some(usage),
            metrics: Some(metrics),
            trace: None,
        })
    }
}

/// `{"role"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageStartEvent {
    /// Always the assistant for model output.
    pub role: Role,
}

/// `{"start", "contentBlockIndex"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContentBlockStartEvent {
    /// What starts.
    pub start: ContentBlockStart,
    /// The block's index; informational (blocks are sequential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_block_index: Option<u64>,
}

impl ContentBlockStartEvent {
    /// A block start, with the block's index if the provider sends one.
    pub fn new(start: ContentBlockStart, content_block_index: Option<u64>) -> Self {
        Self {
            start,
            content_block_index,
        }
    }
}

/// `{}` or `{"toolUse": {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContentBlockStart {
    /// Set when the block is a tool use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use: Option<ContentBlockStartToolUse>,
}

impl ContentBlockStart {
    /// The start of a tool-use block.
    pub fn tool_use(tool_use: ContentBlockStartToolUse) -> Self {
        Self {
            tool_use: Some(tool_use),
        }
    }
}

/// `{"toolUseId", "name", "reasoningSignature"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContentBlockStartToolUse {
    /// The tool use id.
    pub tool_use_id: String,
    /// The tool name.
    pub name: String,
    /// Provider signature carried with the tool use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_signature: Option<String>,
}

impl ContentBlockStartToolUse {
    /// A tool use's id and name.
    pub fn new(tool_use_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            tool_use_id: tool_use_id.into(),
            name: name.into(),
            reasoning_signature: None,
        }
    }
}

/// `{"delta", "contentBlockIndex"?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContentBlockDeltaEvent {
    /// The piece.
    pub delta: ContentBlockDelta,
    /// The block's index; informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_block_index: Option<u64>,
}

impl ContentBlockDeltaEvent {
    /// A delta, with the block's index if the provider sends one.
    pub fn new(delta: ContentBlockDelta, content_block_index: Option<u64>) -> Self {
        Self {
            delta,
            content_block_index,
        }
    }
}

/// A piece of a content block: `{"text"}`, `{"toolUse": {"input"}}`, `{"reasoningContent"}` or
/// `{"citation"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ContentBlockDelta {
    /// Text.
    Text(String),
    /// A fragment of the tool input's JSON text.
    ToolUse(ToolUseDelta),
    /// Reasoning text, signature or redacted reasoning.
    ReasoningContent(ReasoningDelta),
    /// A citation for the current text block.
    Citation(Citation),
}

/// `{"input", "toolUseId"?, "name"?}`: a fragment of tool-input JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolUseDelta {
    /// A fragment of the JSON text of the input.
    #[serde(default)]
    pub input: String,
    /// Some providers send the id here instead of at the block start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use_id: Option<String>,
    /// Some providers send the name here instead of at the block start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl ToolUseDelta {
    /// A fragment of input JSON text.
    pub fn new(input: impl Into<String>) -> Self {
        Self {
            input: input.into(),
            tool_use_id: None,
            name: None,
        }
    }
}

/// `{"text"?, "signature"?, "redactedContent"?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ReasoningDelta {
    /// Reasoning text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A piece of the reasoning signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Encrypted reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted_content: Option<Blob>,
}

impl ReasoningDelta {
    /// A reasoning-text piece.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// A signature piece.
    pub fn signature(signature: impl Into<String>) -> Self {
        Self {
            signature: Some(signature.into()),
            ..Self::default()
        }
    }

    /// Encrypted reasoning.
    pub fn redacted(content: impl Into<Blob>) -> Self {
        Self {
            redacted_content: Some(content.into()),
            ..Self::default()
        }
    }
}

/// `{"contentBlockIndex"?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContentBlockStopEvent {
    /// The block's index; informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_block_index: Option<u64>,
}

impl ContentBlockStopEvent {
    /// A block stop, with the block's index if the provider sends one.
    pub fn new(content_block_index: Option<u64>) -> Self {
        Self {
            content_block_index,
        }
    }
}

/// `{"stopReason", "additionalModelResponseFields"?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MessageStopEvent {
    /// Why the model stopped.
    pub stop_reason: StopReason,
    /// Provider-specific response fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_model_response_fields: Option<Value>,
}

impl MessageStopEvent {
    /// A message stop with provider-specific response fields, if any.
    pub fn new(stop_reason: StopReason, additional_model_response_fields: Option<Value>) -> Self {
        Self {
            stop_reason,
            additional_model_response_fields,
        }
    }
}

/// `{"usage"?, "metrics"?, "trace"?}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetadataEvent {
    /// Token usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    /// Guardrail trace, as the provider sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Value>,
}

impl MetadataEvent {
    /// Usage, metrics and trace, each optional.
    pub fn new(usage: Option<Usage>, metrics: Option<Metrics>, trace: Option<Value>) -> Self {
        Self {
            usage,
            metrics,
            trace,
        }
    }
}

/// `{"redactUserContentMessage"?, "redactAssistantContentMessage"?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RedactContentEvent {
    /// Replacement for the latest user input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redact_user_content_message: Option<String>,
    /// Replacement for the assistant output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redact_assistant_content_message: Option<String>,
}

impl RedactContentEvent {
    /// Replacement texts for the latest user input and for the assistant output.
    pub fn new(user: Option<String>, assistant: Option<String>) -> Self {
        Self {
            redact_user_content_message: user,
            redact_assistant_content_message: assistant,
        }
    }
}

/// Why a model (or the agent) stopped.
///
/// Python: `strands.types.event_loop.StopReason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopReason {
    /// The model finished its answer.
    EndTurn,
    /// The model asks for tools to run.
    ToolUse,
    /// The model hit its output token limit.
    MaxTokens,
    /// The model produced a stop sequence.
    StopSequence,
    /// A guardrail intervened.
    GuardrailIntervened,
    /// Content was filtered.
    ContentFiltered,
    /// The model's context window is full (Bedrock).
    ModelContextWindowExceeded,
    /// The model produced output the provider could not parse (Bedrock).
    MalformedModelOutput,
    /// The model produced a tool use the provider could not parse (Bedrock).
    MalformedToolUse,
    /// The agent was cancelled.
    Cancelled,
    /// The agent paused for human input.
    Interrupt,
    /// The invocation ran the number of cycles its limits allow (Python 1.62's
    /// `limits={"turns": n}`).
    LimitTurns,
    /// The invocation's model calls used the total tokens its limits allow.
    LimitTotalTokens,
    /// The invocation's model calls generated the output tokens its limits allow.
    LimitOutputTokens,
}

impl StopReason {
    /// The wire name, e.g. `"end_turn"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EndTurn => "end_turn",
            Self::ToolUse => "tool_use",
            Self::MaxTokens => "max_tokens",
            Self::StopSequence => "stop_sequence",
            Self::GuardrailIntervened => "guardrail_intervened",
            Self::ContentFiltered => "content_filtered",
            Self::ModelContextWindowExceeded => "model_context_window_exceeded",
            Self::MalformedModelOutput => "malformed_model_output",
            Self::MalformedToolUse => "malformed_tool_use",
            Self::Cancelled => "cancelled",
            Self::Interrupt => "interrupt",
            Self::LimitTurns => "limit_turns",
            Self::LimitTotalTokens => "limit_total_tokens",
            Self::LimitOutputTokens => "limit_output_tokens",
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
