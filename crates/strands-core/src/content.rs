//! Messages and content blocks, in the Bedrock Converse shape Python Strands uses everywhere.
//!
//! Python: `strands.types.content`.

use serde::{Deserialize, Serialize};

use crate::Blob;
use crate::citations::CitationsContentBlock;
use crate::media::{AudioContent, DocumentContent, ImageContent, VideoContent};
use crate::tools::{ToolResult, ToolUse};
use crate::usage::{Metrics, Usage};

/// Who authored a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user (prompts and tool results).
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The wire name, `"user"` or `"assistant"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One message of a conversation: `{"role", "content", "metadata"?, "tracking_id"?}`.
///
/// `metadata` and `tracking_id` are bookkeeping kept in history and in session files; the agent
/// never sends them to a model.
///
/// ```
/// use strands_core::{Message, Role};
///
/// let msg = Message::user("hello");
/// assert_eq!(msg.role, Role::User);
/// assert_eq!(serde_json::to_string(&msg).unwrap(), r#"{"role":"user","content":[{"text":"hello"}]}"#);
/// ```
///
/// Python: `strands.types.content.Message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Message {
    /// The author.
    pub role: Role,
    /// The content blocks, in order.
    pub content: Vec<ContentBlock>,
    /// Usage and metrics of the model call that produced an assistant message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MessageMetadata>,
    /// A uuid4 string the agent assigns when it appends the message to history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
}

impl Message {
    /// A message with the given role and content blocks.
    pub fn new(role: Role, content: Vec<ContentBlock>) -> Self {
        Self {
            role,
            content,
            metadata: None,
            tracking_id: None,
        }
    }

    /// A user message holding one text block.
    pub fn user(text: impl Into<String>) -> Self {
        Self::new(Role::User, vec![ContentBlock::Text(text.into())])
    }

    /// An assistant message holding one text block.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::new(Role::Assistant, vec![ContentBlock::Text(text.into())])
    }

    /// Sets the metadata.
    #[must_use]
    pub fn with_metadata(mut self, metadata: MessageMetadata) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Sets the tracking id.
    #[must_use]
    pub fn with_tracking_id(mut self, tracking_id: impl Into<String>) -> Self {
        self.tracking_id = Some(tracking_id.into());
        self
    }

    /// The tool uses in this message, in order.
    pub fn tool_uses(&self) -> impl Iterator<Item = &ToolUse> {
        self.content.iter().filter_map(|block| match block {
            ContentBlock::ToolUse(tool_use) => Some(tool_use),
            _ => None,
        })
    }

    /// Whether any block is a tool use.
    pub fn has_tool_use(&self) -> bool {
        self.content
            .iter()
            .any(|block| matches!(block, ContentBlock::ToolUse(_)))
    }

    /// The text of the message the way Python's `str(AgentResult)` renders it: every text block
    /// (and the generated text of citation blocks) followed by `"\n"`.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for block in &self.content {
            match block {
                ContentBlock::Text(text) => {
                    out.push_str(text);
                    out.push('\n');
                }
                ContentBlock::CitationsContent(citations) => {
                    for generated in &citations.content {
                        if let Some(text) = &generated.text {
                            out.push_str(text);
                            out.push('\n');
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }
}

/// `metadata` on an assistant message: the usage and metrics of the model call.
///
/// Python: `strands.types.content.MessageMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageMetadata {
    /// Token usage of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Latency of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    /// Application data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<serde_json::Map<String, serde_json::Value>>,
}

impl MessageMetadata {
    /// Metadata with usage and metrics.
    pub fn new(usage: Usage, metrics: Metrics) -> Self {
        Self {
            usage: Some(usage),
            metrics: Some(metrics),
            custom: None,
        }
    }
}

/// One block of a message. Serializes as a one-key object, e.g. `{"text": "hi"}` or
/// `{"toolUse": {...}}`.
///
/// Python: `strands.types.content.ContentBlock`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ContentBlock {
    /// Plain text.
    Text(String),
    /// A request from the model to run a tool.
    ToolUse(ToolUse),
    /// The result of running a tool.
    ToolResult(ToolResult),
    /// An image.
    Image(ImageContent),
    /// A document.
    Document(DocumentContent),
    /// A video.
    Video(VideoContent),
    /// An audio clip.
    Audio(AudioContent),
    /// Model reasoning ("thinking").
    ReasoningContent(ReasoningContentBlock),
    /// A prompt-cache checkpoint.
    CachePoint(CachePoint),
    /// Content a guardrail should evaluate.
    GuardContent(GuardContent),
    /// Generated text with its citations.
    CitationsContent(CitationsContentBlock),
}

impl ContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// The text, if this is a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The tool use, if this is a tool-use block.
    pub fn as_tool_use(&self) -> Option<&ToolUse> {
        match self {
            Self::ToolUse(tool_use) => Some(tool_use),
            _ => None,
        }
    }

    /// The tool result, if this is a tool-result block.
    pub fn as_tool_result(&self) -> Option<&ToolResult> {
        match self {
            Self::ToolResult(result) => Some(result),
            _ => None,
        }
    }
}

impl From<ToolUse> for ContentBlock {
    fn from(tool_use: ToolUse) -> Self {
        Self::ToolUse(tool_use)
    }
}

impl From<ToolResult> for ContentBlock {
    fn from(result: ToolResult) -> Self {
        Self::ToolResult(result)
    }
}

/// Reasoning content: `{"reasoningText": {...}}` or `{"redactedContent": <bytes>}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ReasoningContentBlock {
    /// Readable reasoning with an optional signature.
    ReasoningText(ReasoningText),
    /// Reasoning the provider encrypted.
    RedactedContent(Blob),
}

/// Readable reasoning text and the signature that lets it be sent back to the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReasoningText {
    /// The reasoning.
    pub text: String,
    /// The provider's signature over the reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl ReasoningText {
    /// Reasoning text with an optional signature.
    pub fn new(text: impl Into<String>, signature: Option<String>) -> Self {
        Self {
            text: text.into(),
            signature,
        }
    }
}

/// A prompt-cache checkpoint: `{"type": "default", "ttl"?: "5m" | "1h"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CachePoint {
    /// The cache point type; `"default"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Time to live, e.g. `"5m"` or `"1h"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

impl Default for CachePoint {
    fn default() -> Self {
        Self {
            kind: "default".to_owned(),
            ttl: None,
        }
    }
}

/// Content for a guardrail to evaluate: `{"text": {"text", "qualifiers"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GuardContent {
    /// The text to evaluate.
    pub text: GuardContentText,
}

/// The text of a [`GuardContent`] block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GuardContentText {
    /// The text.
    pub text: String,
    /// `grounding_source`, `query` or `guard_content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifiers: Option<Vec<String>>,
}

/// A block of the system prompt: `{"text"}` or `{"cachePoint"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum SystemContentBlock {
    /// Prompt text.
    Text(String),
    /// A prompt-cache checkpoint after the preceding blocks.
    CachePoint(CachePoint),
}
