//! Folding a model's stream events into one assistant message, as Python's `process_stream` does.

use std::time::Instant;

use strands_core::citations::{Citation, CitationText, CitationsContentBlock};
use strands_core::content::{ReasoningContentBlock, ReasoningText};
use strands_core::streaming::{ContentBlockDelta, MetadataEvent};
use strands_core::{
    Blob, ContentBlock, Message, Metrics, Role, StopReason, StreamEvent, ToolUse, Usage,
};

use crate::events::{AgentEvent, CurrentToolUse};

/// The outcome of one model call.
#[derive(Debug)]
pub(crate) struct ModelOutput {
    pub(crate) stop_reason: StopReason,
    pub(crate) message: Message,
    pub(crate) usage: Usage,
    pub(crate) metrics: Metrics,
    /// Replacement text for the latest user message, from a guardrail.
    pub(crate) redact_user: Option<String>,
}

#[derive(Debug, Default)]
struct PendingToolUse {
    tool_use_id: Option<String>,
    name: Option<String>,
    input: String,
    reasoning_signature: Option<String>,
}

/// Accumulates stream events. Blocks materialise at `contentBlockStop` in Python's fixed order:
/// tool use, text (or citations), reasoning text, redacted reasoning.
#[derive(Debug)]
pub(crate) struct MessageAccumulator {
    started: Instant,
    first_byte: Option<Instant>,
    content: Vec<ContentBlock>,
    text: String,
    tool_use: Option<PendingToolUse>,
    reasoning_text: String,
    signature: Option<String>,
    redacted: Option<Blob>,
    citations: Vec<Citation>,
    stop_reason: StopReason,
    usage: Usage,
    metrics: Metrics,
    redact_assistant: Option<String>,
    redact_user: Option<String>,
}

impl MessageAccumulator {
    pub(crate) fn new(started: Instant) -> Self {
        Self {
            started,
            first_byte: None,
            content: Vec::new(),
            text: String::new(),
            tool_use: None,
            reasoning_text: String::new(),
            signature: None,
            redacted: None,
            citations: Vec::new(),
            stop_reason: StopReason::EndTurn,
            usage: Usage::default(),
            metrics: Metrics::default(),
            redact_assistant: None,
            redact_user: None,
        }
    }

    /// Folds one event in, returning the derived delta event, if the event has one.
    pub(crate) fn push(&mut self, event: &StreamEvent) -> Option<AgentEvent> {
        match event {
            StreamEvent::MessageStart(_) => None,
            StreamEvent::ContentBlockStart(start) => {
                self.first_byte.get_or_insert_with(Instant::now);
                self.tool_use = start.start.tool_use.as_ref().map(|t| PendingToolUse {
                    tool_use_id: Some(t.tool_use_id.clone()),
                    name: Some(t.name.clone()),
                    input: String::new(),
                    reasoning_signature: t.reasoning_signature.clone(),
                });
                None
            }
            StreamEvent::ContentBlockDelta(delta) => {
                self.first_byte.get_or_insert_with(Instant::now);
                self.push_delta(&delta.delta)
            }
            StreamEvent::ContentBlockStop(_) => {
                self.stop_block();
                None
            }
            StreamEvent::MessageStop(stop) => {
                self.stop_reason = stop.stop_reason;
                None
            }
            StreamEvent::Metadata(metadata) => {
                self.set_metadata(metadata);
                None
            }
            StreamEvent::RedactContent(redact) => {
                if let Some(text) = &redact.redact_assistant_content_message {
                    self.redact_assistant = Some(text.clone());
                }
                if let Some(text) = &redact.redact_user_content_message {
                    self.redact_user = Some(text.clone());
                }
                None
            }
            // `StreamEvent` is non-exhaustive: events added later carry nothing to accumulate.
            #[allow(
                unreachable_patterns,
                reason = "forward compatibility with new event kinds"
            )]
            _ => None,
        }
    }

    fn push_delta(&mut self, delta: &ContentBlockDelta) -> Option<AgentEvent> {
        match delta {
            ContentBlockDelta::Text(text) => {
                self.text.push_str(text);
                Some(AgentEvent::TextDelta { text: text.clone() })
            }
            ContentBlockDelta::ToolUse(fragment) => {
                let pending = self.tool_use.get_or_insert_with(PendingToolUse::default);
                pending.input.push_str(&fragment.input);
                if pending.tool_use_id.is_none() {
                    pending.tool_use_id.clone_from(&fragment.tool_use_id);
                }
                if pending.name.is_none() {
                    pending.name.clone_from(&fragment.name);
                }
                Some(AgentEvent::ToolUseDelta {
                    input: fragment.input.clone(),
                    current_tool_use: CurrentToolUse {
                        tool_use_id: pending.tool_use_id.clone().unwrap_or_default(),
                        name: pending.name.clone().unwrap_or_default(),
                        input: pending.input.clone(),
                    },
                })
            }
            ContentBlockDelta::ReasoningContent(reasoning) => {
                if let Some(text) = &reasoning.text {
                    self.reasoning_text.push_str(text);
                    Some(AgentEvent::ReasoningTextDelta { text: text.clone() })
                } else if let Some(signature) = &reasoning.signature {
                    self.signature
                        .get_or_insert_with(String::new)
                        .push_str(signature);
                    Some(AgentEvent::ReasoningSignatureDelta {
                        signature: signature.clone(),
                    })
                } else if let Some(redacted) = reasoning
                    .redacted_content
                    .as_ref()
                    .filter(|b| !b.is_empty())
                {
                    self.redacted
                        .get_or_insert_with(Blob::default)
                        .extend_from_slice(redacted.as_bytes());
                    Some(AgentEvent::ReasoningRedactedDelta {
                        content: redacted.clone(),
                    })
                } else {
                    None
                }
            }
            ContentBlockDelta::Citation(citation) => {
                self.citations.push(citation.clone());
                Some(AgentEvent::CitationDelta {
                    citation: Box::new(citation.clone()),
                })
            }
            #[allow(
                unreachable_patterns,
                reason = "forward compatibility with new delta kinds"
            )]
            _ => None,
        }
    }

    fn stop_block(&mut self) {
        if let Some(pending) = self.tool_use.take() {
            let input = parse_tool_input(&pending.input, pending.name.as_deref());
            match (pending.tool_use_id, pending.name) {
                (Some(id), Some(name)) if !id.is_empty() && !name.is_empty() => {
                    let mut tool_use = ToolUse::new(id, name, input);
                    tool_use.reasoning_signature = pending.reasoning_signature;
                    self.content.push(ContentBlock::ToolUse(tool_use));
                }
                (id, name) => tracing::warn!(
                    tool_use_id = id.as_deref().unwrap_or(""),
                    tool_name = name.as_deref().unwrap_or(""),
                    "incomplete tool use block, skipping content block (model may be using a non-standard streaming format)"
                ),
            }
        }
        if !self.text.is_empty() {
            let text = std::mem::take(&mut self.text);
            if self.citations.is_empty() {
                self.content.push(ContentBlock::Text(text));
            } else {
                let citations = std::mem::take(&mut self.citations);
                self.content
                    .push(ContentBlock::CitationsContent(CitationsContentBlock::new(
                        citations,
                        vec![CitationText::new(text)],
                    )));
            }
        }
        if !self.reasoning_text.is_empty() || self.signature.is_some() {
            let text = std::mem::take(&mut self.reasoning_text);
            let signature = self.signature.take();
            self.content.push(ContentBlock::ReasoningContent(
                ReasoningContentBlock::ReasoningText(ReasoningText::new(text, signature)),
            ));
        }
        if let Some(redacted) = self.redacted.take() {
            self.content.push(ContentBlock::ReasoningContent(
                ReasoningContentBlock::RedactedContent(redacted),
            ));
        }
    }

    fn set_metadata(&mut self, metadata: &MetadataEvent) {
        self.usage = metadata.usage.unwrap_or_default();
        self.metrics = metadata.metrics.unwrap_or_default();
        let ttfb = self
            .first_byte
            .map(|t| t.saturating_duration_since(self.started).as_millis());
        if let Some(ms) = ttfb.filter(|ms| *ms > 0) {
            self.metrics.time_to_first_byte_ms = Some(u64::try_from(ms).unwrap_or(u64::MAX));
        }
    }

    pub(crate) fn finish(self) -> ModelOutput {
        let content = match self.redact_assistant {
            Some(text) => vec![ContentBlock::Text(text)],
            None => self.content,
        };
        let has_tool_use = content
            .iter()
            .any(|b| matches!(b, ContentBlock::ToolUse(_)));
        let stop_reason = if self.stop_reason == StopReason::EndTurn && has_tool_use {
            tracing::warn!(
                original_stop_reason = "end_turn",
                new_stop_reason = "tool_use",
                "overriding stop reason due to toolUse blocks in response"
            );
            StopReason::ToolUse
        } else {
            self.stop_reason
        };
        ModelOutput {
            stop_reason,
            message: Message::new(Role::Assistant, content),
            usage: self.usage,
            metrics: self.metrics,
            redact_user: self.redact_user,
        }
    }
}

/// Parses accumulated tool input: blank becomes `{}`, and so does invalid JSON (with a warning),
/// exactly as Python does; history keeps the `{}`.
fn parse_tool_input(raw: &str, name: Option<&str>) -> serde_json::Value {
    if raw.trim().is_empty() {
        return serde_json::Value::Object(serde_json::Map::new());
    }
    serde_json::from_str(raw).unwrap_or_else(|error| {
        let preview: String = raw.chars().take(200).collect();
        tracing::warn!(
            tool_name = name.unwrap_or("unknown"),
            raw_input = %preview,
            %error,
            "failed to parse tool input json, defaulting to empty dict"
        );
        serde_json::Value::Object(serde_json::Map::new())
    })
}
