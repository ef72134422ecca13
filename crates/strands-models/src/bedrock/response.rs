//! Bedrock ConverseStream events and Converse responses → Strands [`StreamEvent`]s.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types as bedrock;
use strands_core::citations::{
    Citation, CitationLocation, CitationText, DocumentRange, SearchResultRange, WebLocation,
};
use strands_core::streaming::{
    ContentBlockDelta, ContentBlockDeltaEvent, ContentBlockStart, ContentBlockStartEvent,
    ContentBlockStartToolUse, ContentBlockStopEvent, MessageStopEvent, MetadataEvent,
    ReasoningDelta, ToolUseDelta,
};
use strands_core::{Blob, Metrics, StopReason, StreamEvent, Usage};

use super::document::from_document;

/// Maps one stream event; `None` for events this version does not know (logged).
pub(crate) fn stream_event(event: bedrock::ConverseStreamOutput) -> Option<StreamEvent> {
    Some(match event {
        bedrock::ConverseStreamOutput::MessageStart(_) => StreamEvent::message_start(),
        bedrock::ConverseStreamOutput::ContentBlockStart(event) => {
            let start = match event.start {
                Some(bedrock::ContentBlockStart::ToolUse(t)) => ContentBlockStart::tool_use(
                    ContentBlockStartToolUse::new(t.tool_use_id, t.name),
                ),
                _ => ContentBlockStart::default(),
            };
            StreamEvent::ContentBlockStart(ContentBlockStartEvent::new(
                start,
                index(event.content_block_index),
            ))
        }
        bedrock::ConverseStreamOutput::ContentBlockDelta(event) => {
            let delta = content_delta(event.delta?)?;
            StreamEvent::ContentBlockDelta(ContentBlockDeltaEvent::new(
                delta,
                index(event.content_block_index),
            ))
        }
        bedrock::ConverseStreamOutput::ContentBlockStop(event) => StreamEvent::ContentBlockStop(
            ContentBlockStopEvent::new(index(event.content_block_index)),
        ),
        bedrock::ConverseStreamOutput::MessageStop(event) => message_stop(
            &event.stop_reason,
            event.additional_model_response_fields.as_ref(),
        ),
        bedrock::ConverseStreamOutput::Metadata(event) => {
            metadata(event.usage.as_ref(), event.metrics.map(|m| m.latency_ms))
        }
        other => {
            tracing::debug!(event = ?other, "ignoring a Bedrock stream event this version does not map");
            return None;
        }
    })
}

fn content_delta(delta: bedrock::ContentBlockDelta) -> Option<ContentBlockDelta> {
    Some(match delta {
        bedrock::ContentBlockDelta::Text(text) => ContentBlockDelta::Text(text),
        bedrock::ContentBlockDelta::ToolUse(tool_use) => {
            ContentBlockDelta::ToolUse(ToolUseDelta::new(tool_use.input))
        }
        bedrock::ContentBlockDelta::ReasoningContent(reasoning) => {
            ContentBlockDelta::ReasoningContent(match reasoning {
                bedrock::ReasoningContentBlockDelta::Text(text) => ReasoningDelta::text(text),
                bedrock::ReasoningContentBlockDelta::Signature(signature) => {
                    ReasoningDelta::signature(signature)
                }
                bedrock::ReasoningContentBlockDelta::RedactedContent(bytes) => {
                    ReasoningDelta::redacted(bytes.into_inner())
                }
                _ => return None,
            })
        }
        bedrock::ContentBlockDelta::Citation(citation) => {
            ContentBlockDelta::Citation(Citation::new(
                citation.location.and_then(location),
                citation.source_content.map(|contents| {
                    contents
                        .into_iter()
                        .filter_map(|c| c.text.map(CitationText::new))
                        .collect()
                }),
                citation.title,
            ))
        }
        other => {
            tracing::debug!(delta = ?other, "ignoring a Bedrock delta kind this version does not map");
            return None;
        }
    })
}

fn location(location: bedrock::CitationLocation) -> Option<CitationLocation> {
    let u = |v: Option<i32>| v.and_then(|v| u64::try_from(v).ok());
    Some(match location {
        bedrock::CitationLocation::DocumentChar(l) => CitationLocation::DocumentChar(
            DocumentRange::new(u(l.document_index), u(l.start), u(l.end)),
        ),
        bedrock::CitationLocation::DocumentPage(l) => CitationLocation::DocumentPage(
            DocumentRange::new(u(l.document_index), u(l.start), u(l.end)),
        ),
        bedrock::CitationLocation::DocumentChunk(l) => CitationLocation::DocumentChunk(
            DocumentRange::new(u(l.document_index), u(l.start), u(l.end)),
        ),
        bedrock::CitationLocation::SearchResultLocation(l) => {
            CitationLocation::SearchResultLocation(SearchResultRange::new(
                u(l.search_result_index),
                u(l.start),
                u(l.end),
            ))
        }
        bedrock::CitationLocation::Web(l) => {
            CitationLocation::Web(WebLocation::new(l.url, l.domain))
        }
        _ => return None,
    })
}

fn message_stop(
    reason: &bedrock::StopReason,
    fields: Option<&aws_smithy_types::Document>,
) -> StreamEvent {
    StreamEvent::MessageStop(MessageStopEvent::new(
        stop_reason(reason),
        fields.map(from_document),
    ))
}

/// Bedrock's stop reason. Values this version does not know end the turn (and are logged).
pub(crate) fn stop_reason(reason: &bedrock::StopReason) -> StopReason {
    serde_json::from_value(serde_json::Value::String(reason.as_str().to_owned())).unwrap_or_else(
        |_| {
            tracing::warn!(
                stop_reason = reason.as_str(),
                "unknown Bedrock stop reason, treating it as end_turn"
            );
            StopReason::EndTurn
        },
    )
}

fn metadata(usage: Option<&bedrock::TokenUsage>, latency_ms: Option<i64>) -> StreamEvent {
    let n = |v: i32| u64::try_from(v).unwrap_or(0);
    let usage = usage.map(|u| {
        Usage::with_counts(
            n(u.input_tokens),
            n(u.output_tokens),
            n(u.total_tokens),
            u.cache_read_input_tokens.map(n),
            u.cache_write_input_tokens.map(n),
        )
    });
    let metrics = latency_ms.map(|ms| Metrics::new(u64::try_from(ms).unwrap_or(0)));
    StreamEvent::Metadata(MetadataEvent::new(usage, metrics, None))
}

fn index(index: i32) -> Option<u64> {
    u64::try_from(index).ok()
}

/// Whether a metadata event's guardrail trace reports a detected and blocked policy; `None` when
/// the event carries no guardrail trace.
pub(crate) fn guardrail_blocked(event: &bedrock::ConverseStreamOutput) -> Option<bool> {
    let bedrock::ConverseStreamOutput::Metadata(metadata) = event else {
        return None;
    };
    metadata
        .trace
        .as_ref()?
        .guardrail
        .as_ref()
        .map(trace_blocked)
}

/// Python's `_find_detected_and_blocked_policy`, over the typed trace: some policy's action is
/// `BLOCKED` and it was detected. Masked (`ANONYMIZED`) content is not blocked.
pub(crate) fn trace_blocked(trace: &bedrock::GuardrailTraceAssessment) -> bool {
    let inputs = trace.input_assessment.iter().flat_map(|m| m.values());
    let outputs = trace
        .output_assessments
        .iter()
        .flat_map(|m| m.values())
        .flatten();
    inputs.chain(outputs).any(assessment_blocked)
}

fn assessment_blocked(a: &bedrock::GuardrailAssessment) -> bool {
    let blocked =
        |action: &str, detected: Option<bool>| action == "BLOCKED" && detected == Some(true);
    a.topic_policy
        .iter()
        .flat_map(|p| &p.topics)
        .any(|t| blocked(t.action.as_str(), t.detected))
        || a.content_policy
            .iter()
            .flat_map(|p| &p.filters)
            .any(|f| blocked(f.action.as_str(), f.detected))
        || a.word_policy.iter().any(|p| {
            p.custom_words
                .iter()
                .any(|w| blocked(w.action.as_str(), w.detected))
                || p.managed_word_lists
                    .iter()
                    .any(|w| blocked(w.action.as_str(), w.detected))
        })
        || a.sensitive_information_policy.iter().any(|p| {
            p.pii_entities
                .iter()
                .any(|e| blocked(e.action.as_str(), e.detected))
                || p.regexes
                    .iter()
                    .any(|r| blocked(r.action.as_str(), r.detected))
        })
        || a.contextual_grounding_policy
            .iter()
            .flat_map(|p| p.filters.iter().flatten())
            .any(|f| blocked(f.action.as_str(), f.detected))
}

/// A Converse (non-streaming) response as the events Python derives from it
/// (`convert_non_streaming_to_streaming`).
pub(crate) fn converse_events(output: ConverseOutput) -> Vec<StreamEvent> {
    let mut events = vec![StreamEvent::message_start()];
    if let Some(bedrock::ConverseOutput::Message(message)) = output.output {
        for block in message.content {
            push_block(&mut events, block);
            events.push(StreamEvent::block_stop());
        }
    }
    events.push(message_stop(
        &output.stop_reason,
        output.additional_model_response_fields.as_ref(),
    ));
    events.push(metadata(
        output.usage.as_ref(),
        output.metrics.map(|m| m.latency_ms),
    ));
    events
}

fn push_block(events: &mut Vec<StreamEvent>, block: bedrock::ContentBlock) {
    let reasoning = |delta| StreamEvent::delta(ContentBlockDelta::ReasoningContent(delta));
    match block {
        bedrock::ContentBlock::ToolUse(tool_use) => {
            events.push(StreamEvent::tool_use_start(
                tool_use.tool_use_id,
                tool_use.name,
            ));
            events.push(StreamEvent::tool_input_delta(
                from_document(&tool_use.input).to_string(),
            ));
        }
        bedrock::ContentBlock::Text(text) => events.push(StreamEvent::text_delta(text)),
        bedrock::ContentBlock::ReasoningContent(bedrock::ReasoningContentBlock::ReasoningText(
            text,
        )) => {
            events.push(reasoning(ReasoningDelta::text(text.text)));
            if let Some(signature) = text.signature.filter(|s| !s.is_empty()) {
                events.push(reasoning(ReasoningDelta::signature(signature)));
            }
        }
        bedrock::ContentBlock::ReasoningContent(
            bedrock::ReasoningContentBlock::RedactedContent(bytes),
        ) => {
            events.push(reasoning(ReasoningDelta::redacted(Blob::new(
                bytes.into_inner(),
            ))));
        }
        bedrock::ContentBlock::CitationsContent(citations) => {
            if let Some(content) = &citations.content {
                let text: String = content
                    .iter()
                    .filter_map(|c| match c {
                        bedrock::CitationGeneratedContent::Text(t) => Some(t.as_str()),
                        _ => None,
                    })
                    .collect();
                events.push(StreamEvent::text_delta(text));
            }
            for c in citations.citations.unwrap_or_default() {
                let source = c.source_content.map(|contents| {
                    contents
                        .into_iter()
                        .filter_map(|s| match s {
                            bedrock::CitationSourceContent::Text(t) => Some(CitationText::new(t)),
                            _ => None,
                        })
                        .collect()
                });
                let citation = Citation::new(c.location.and_then(location), source, c.title);
                events.push(StreamEvent::delta(ContentBlockDelta::Citation(citation)));
            }
        }
        other => {
            tracing::debug!(block = ?other, "ignoring a Bedrock content block kind this version does not map")
        }
    }
}
