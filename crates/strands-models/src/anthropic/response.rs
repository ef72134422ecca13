//! Anthropic stream events (server-sent events) → Strands [`StreamEvent`]s.
//!
//! Python: `AnthropicModel.format_chunk` and the event loop of `AnthropicModel.stream` (server
//! tool blocks skipped, `pause_turn` resumed, usage from the final message).

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Map, Value};
use strands_core::citations::{
    Citation, CitationLocation, CitationText, DocumentRange, SearchResultRange, WebLocation,
};
use strands_core::streaming::{
    ContentBlockDelta, ContentBlockDeltaEvent, ContentBlockStart, ContentBlockStartEvent,
    ContentBlockStartToolUse, ContentBlockStopEvent, MessageStopEvent, MetadataEvent,
    ReasoningDelta, ToolUseDelta,
};
use strands_core::{Blob, Metrics, ModelError, StopReason, StreamEvent, Usage};

use super::errors::{ApiError, ErrorDetail};

/// Content blocks of tools Anthropic runs server side (Python's `_SERVER_TOOL_BLOCK_TYPES`);
/// the agent never runs them, so they are not streamed.
const SERVER_TOOL_BLOCK_TYPES: [&str; 10] = [
    "bash_code_execution_tool_result",
    "code_execution_tool_result",
    "container_upload",
    "mcp_tool_result",
    "mcp_tool_use",
    "server_tool_use",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
    "web_fetch_tool_result",
    "web_search_tool_result",
];

/// One decoded event, by its `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessageStart {
        message: WireMessage,
    },
    ContentBlockStart {
        index: u64,
        content_block: Map<String, Value>,
    },
    ContentBlockDelta {
        index: u64,
        delta: WireDelta,
    },
    ContentBlockStop {
        index: u64,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error {
        #[serde(default)]
        error: ErrorDetail,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Default, Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// Anthropic's usage counters; a `message_delta` repeats them cumulatively.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// The Anthropic SDK's snapshot update: counters present in `later` replace these.
    fn update(&mut self, later: &Self) {
        let pick = |now: &mut Option<u64>, new: Option<u64>| {
            if new.is_some() {
                *now = new;
            }
        };
        pick(&mut self.input_tokens, later.input_tokens);
        pick(&mut self.output_tokens, later.output_tokens);
        pick(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        pick(
            &mut self.cache_read_input_tokens,
            later.cache_read_input_tokens,
        );
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    SignatureDelta {
        signature: String,
    },
    CitationsDelta {
        citation: Map<String, Value>,
    },
    #[serde(other)]
    Unknown,
}

/// A content block as Anthropic built it, kept to send a paused turn back.
#[derive(Debug)]
struct SnapshotBlock {
    index: u64,
    block: Map<String, Value>,
    partial_json: String,
}

/// What ends one HTTP response.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The turn is complete: emit these final events.
    Done(Vec<StreamEvent>),
    /// Anthropic paused a server-tool turn: send this assistant content back to resume it.
    Paused(Vec<Value>),
}

/// Turns Anthropic's events into Strands events across the responses of one model call (more
/// than one when a paused turn is resumed).
#[derive(Debug, Default)]
pub(crate) struct Converter {
    /// For error messages.
    model_id: String,
    started: bool,
    /// Usage summed over the finished responses.
    usage: Option<Totals>,
    /// Added to Anthropic's block indexes so a resumed turn continues the numbering.
    block_offset: u64,
    next_index: u64,
    server_blocks: HashSet<u64>,
    stop_reason: Option<String>,
    saw_message_stop: bool,
    response_usage: Option<WireUsage>,
    snapshot: Vec<SnapshotBlock>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_write: u64,
}

impl Converter {
    /// A converter for one call to `model_id`.
    pub(crate) fn new(model_id: &str) -> Self {
        Self {
            model_id: model_id.to_owned(),
            ..Self::default()
        }
    }

    /// Handles one server-sent event's `data`; an `error` event becomes the error.
    pub(crate) fn push(&mut self, data: &str) -> Result<Vec<StreamEvent>, ModelError> {
        let event: WireEvent = serde_json::from_str(data).map_err(|e| {
            ModelError::stream(
                format!("Anthropic sent an event that is not valid JSON of a known shape: {e}"),
                Some(Box::new(e)),
            )
        })?;
        let mut out = Vec::new();
        match event {
            WireEvent::MessageStart { message } => {
                if let Some(usage) = message.usage {
                    self.response_usage = Some(usage);
                }
                if !self.started {
                    self.started = true;
                    out.push(StreamEvent::message_start());
                }
            }
            WireEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                let kind = content_block
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let emitted = self.emit_index(index);
                if SERVER_TOOL_BLOCK_TYPES.contains(&kind.as_str()) {
                    log_server_tool_block(&kind, &content_block);
                    self.server_blocks.insert(index);
                } else {
                    block_start(&kind, &content_block, emitted, &mut out);
                }
                self.snapshot.push(SnapshotBlock {
                    index,
                    block: content_block,
                    partial_json: String::new(),
                });
            }
            WireEvent::ContentBlockDelta { index, delta } => {
                self.apply_to_snapshot(index, &delta);
                if !self.server_blocks.contains(&index) {
                    let emitted = self.emit_index(index);
                    if let Some(delta) = block_delta(delta) {
                        out.push(StreamEvent::ContentBlockDelta(ContentBlockDeltaEvent::new(
                            delta,
                            Some(emitted),
                        )));
                    }
                }
            }
            WireEvent::ContentBlockStop { index } => {
                self.finish_snapshot_block(index);
                if !self.server_blocks.remove(&index) {
                    let emitted = self.emit_index(index);
                    out.push(StreamEvent::ContentBlockStop(ContentBlockStopEvent::new(
                        Some(emitted),
                    )));
                }
            }
            WireEvent::MessageDelta { delta, usage } => {
                if delta.stop_reason.is_some() {
                    self.stop_reason = delta.stop_reason;
                }
                if let Some(usage) = usage {
                    self.response_usage
                        .get_or_insert_with(WireUsage::default)
                        .update(&usage);
                }
            }
            WireEvent::MessageStop => self.saw_message_stop = true,
            WireEvent::Ping => {}
            WireEvent::Error { error } => {
                return Err(super::errors::classify(
                    ApiError::from_event(error),
                    &self.model_id,
                ));
            }
            WireEvent::Unknown => {
                tracing::debug!(
                    event = data,
                    "ignoring an Anthropic event type this version does not map"
                );
            }
        }
        Ok(out)
    }

    /// Ends one HTTP response that closed cleanly. `latency_ms` is measured from the call's start.
    pub(crate) fn finish_response(&mut self, latency_ms: u64) -> Result<Outcome, ModelError> {
        if !self.saw_message_stop {
            return Err(ModelError::stream(
                "the Anthropic stream ended before `message_stop`; the response is incomplete",
                None,
            ));
        }
        if let Some(usage) = self.response_usage.take() {
            let totals = self.usage.get_or_insert_with(Totals::default);
            totals.input += usage.input_tokens.unwrap_or(0);
            totals.output += usage.output_tokens.unwrap_or(0);
            totals.cache_read += usage.cache_read_input_tokens.unwrap_or(0);
            totals.cache_write += usage.cache_creation_input_tokens.unwrap_or(0);
        }
        let stop_reason = self.stop_reason.take();
        self.saw_message_stop = false;
        self.server_blocks.clear();
        let snapshot = std::mem::take(&mut self.snapshot);
        if stop_reason.as_deref() == Some("pause_turn") {
            self.block_offset = self.next_index;
            return Ok(Outcome::Paused(
                snapshot
                    .into_iter()
                    .map(|b| Value::Object(b.block))
                    .collect(),
            ));
        }
        let mut events = Vec::with_capacity(2);
        if let Some(reason) = stop_reason {
            events.push(StreamEvent::MessageStop(MessageStopEvent::new(
                stop_reason_of(&reason),
                None,
            )));
        }
        if let Some(totals) = self.usage {
            let nonzero = |n: u64| (n > 0).then_some(n);
            // Anthropic's input_tokens excludes cache reads and writes; the billed total is the sum
            // of all four counters.
            let usage = Usage::with_counts(
                totals.input,
                totals.output,
                totals.input + totals.output + totals.cache_read + totals.cache_write,
                nonzero(totals.cache_read),
                nonzero(totals.cache_write),
            );
            events.push(StreamEvent::Metadata(MetadataEvent::new(
                Some(usage),
                Some(Metrics::new(latency_ms)),
                None,
            )));
        }
        Ok(Outcome::Done(events))
    }

    fn emit_index(&mut self, index: u64) -> u64 {
        let emitted = index + self.block_offset;
        self.next_index = self.next_index.max(emitted + 1);
        emitted
    }

    fn snapshot_block(&mut self, index: u64) -> Option<&mut SnapshotBlock> {
        self.snapshot.iter_mut().rev().find(|b| b.index == index)
    }

    /// The Anthropic SDK's `accumulate_event` for deltas.
    fn apply_to_snapshot(&mut self, index: u64, delta: &WireDelta) {
        let Some(block) = self.snapshot_block(index) else {
            return;
        };
        let append = |map: &mut Map<String, Value>, key: &str, piece: &str| {
            let mut text = map
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            text.push_str(piece);
            map.insert(key.to_owned(), Value::String(text));
        };
        match delta {
            WireDelta::TextDelta { text } => append(&mut block.block, "text", text),
            WireDelta::ThinkingDelta { thinking } => append(&mut block.block, "thinking", thinking),
            WireDelta::SignatureDelta { signature } => {
                block
                    .block
                    .insert("signature".to_owned(), Value::String(signature.clone()));
            }
            WireDelta::InputJsonDelta { partial_json } => block.partial_json.push_str(partial_json),
            WireDelta::CitationsDelta { citation } => {
                let citations = block
                    .block
                    .entry("citations")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if !citations.is_array() {
                    *citations = Value::Array(Vec::new());
                }
                if let Value::Array(list) = citations {
                    list.push(Value::Object(citation.clone()));
                }
            }
            WireDelta::Unknown => {}
        }
    }

    fn finish_snapshot_block(&mut self, index: u64) {
        let Some(block) = self.snapshot_block(index) else {
            return;
        };
        if block.partial_json.is_empty() {
            return;
        }
        match serde_json::from_str::<Value>(&block.partial_json) {
            Ok(input) => {
                block.block.insert("input".to_owned(), input);
            }
            Err(e) => tracing::warn!(
                error = %e,
                "a tool input Anthropic streamed is not valid JSON; keeping the block's initial input"
            ),
        }
        block.partial_json.clear();
    }
}

fn log_server_tool_block(kind: &str, block: &Map<String, Value>) {
    let error_code = block
        .get("content")
        .and_then(|c| c.get("error_code"))
        .and_then(Value::as_str);
    match error_code {
        Some(code) => tracing::warn!(
            block_type = kind,
            error_code = code,
            "an Anthropic server-side tool failed"
        ),
        None => tracing::debug!(block_type = kind, "skipping a server-side tool block"),
    }
}

fn block_start(kind: &str, block: &Map<String, Value>, index: u64, out: &mut Vec<StreamEvent>) {
    let str_field = |key: &str| block.get(key).and_then(Value::as_str).unwrap_or_default();
    let start = if kind == "tool_use" {
        ContentBlockStart::tool_use(ContentBlockStartToolUse::new(
            str_field("id"),
            str_field("name"),
        ))
    } else {
        ContentBlockStart::default()
    };
    out.push(StreamEvent::ContentBlockStart(ContentBlockStartEvent::new(
        start,
        Some(index),
    )));
    let delta =
        |delta| StreamEvent::ContentBlockDelta(ContentBlockDeltaEvent::new(delta, Some(index)));
    match kind {
        // Anthropic starts text blocks empty; keep any text it does put there.
        "text" if !str_field("text").is_empty() => {
            out.push(delta(ContentBlockDelta::Text(str_field("text").to_owned())));
        }
        // Redacted thinking arrives whole in the start event (Python drops it); its `data` is
        // base64, kept as the bytes it encodes so it is sent back unchanged.
        "redacted_thinking" => {
            let data = str_field("data");
            if !data.is_empty() {
                let bytes = STANDARD
                    .decode(data)
                    .unwrap_or_else(|_| data.as_bytes().to_vec());
                out.push(delta(ContentBlockDelta::ReasoningContent(
                    ReasoningDelta::redacted(Blob::new(bytes)),
                )));
            }
        }
        _ => {}
    }
}

fn block_delta(delta: WireDelta) -> Option<ContentBlockDelta> {
    Some(match delta {
        WireDelta::TextDelta { text } => ContentBlockDelta::Text(text),
        WireDelta::InputJsonDelta { partial_json } => {
            ContentBlockDelta::ToolUse(ToolUseDelta::new(partial_json))
        }
        WireDelta::ThinkingDelta { thinking } => {
            ContentBlockDelta::ReasoningContent(ReasoningDelta::text(thinking))
        }
        WireDelta::SignatureDelta { signature } => {
            ContentBlockDelta::ReasoningContent(ReasoningDelta::signature(signature))
        }
        WireDelta::CitationsDelta { citation } => {
            ContentBlockDelta::Citation(citation_of(&citation))
        }
        WireDelta::Unknown => {
            tracing::debug!("ignoring an Anthropic delta type this version does not map");
            return None;
        }
    })
}

/// Anthropic's stop reason. `refusal` becomes `content_filtered`; values this version does not
/// know end the turn (and are logged).
pub(crate) fn stop_reason_of(reason: &str) -> StopReason {
    match reason {
        "end_turn" => StopReason::EndTurn,
        "tool_use" => StopReason::ToolUse,
        "max_tokens" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "refusal" => StopReason::ContentFiltered,
        "model_context_window_exceeded" => StopReason::ModelContextWindowExceeded,
        other => {
            tracing::warn!(
                stop_reason = other,
                "unknown Anthropic stop reason, treating it as end_turn"
            );
            StopReason::EndTurn
        }
    }
}

/// Python's `_format_citation`.
fn citation_of(citation: &Map<String, Value>) -> Citation {
    let text = |key: &str| {
        citation
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let number = |key: &str| Some(citation.get(key).and_then(Value::as_u64).unwrap_or(0));
    let title = text("title")
        .or_else(|| text("document_title"))
        .map(str::to_owned);
    let source_content = text("cited_text").map(|t| vec![CitationText::new(t)]);
    let document = |start: &str, end: &str| {
        DocumentRange::new(number("document_index"), number(start), number(end))
    };
    let location = match citation.get("type").and_then(Value::as_str) {
        Some("web_search_result_location") => {
            let url = text("url").unwrap_or_default();
            Some(CitationLocation::Web(WebLocation::new(
                Some(url.to_owned()),
                host_of(url),
            )))
        }
        Some("search_result_location") => Some(CitationLocation::SearchResultLocation(
            SearchResultRange::new(
                number("search_result_index"),
                number("start_block_index"),
                number("end_block_index"),
            ),
        )),
        Some("char_location") => Some(CitationLocation::DocumentChar(document(
            "start_char_index",
            "end_char_index",
        ))),
        Some("page_location") => Some(CitationLocation::DocumentPage(document(
            "start_page_number",
            "end_page_number",
        ))),
        Some("content_block_location") => Some(CitationLocation::DocumentChunk(document(
            "start_block_index",
            "end_block_index",
        ))),
        other => {
            tracing::warn!(
                citation_type = ?other,
                "unsupported Anthropic citation location; skipping it"
            );
            None
        }
    };
    Citation::new(location, source_content, title)
}

/// The host of a URL (`urllib.parse.urlparse(url).hostname`), lower-cased, without port or
/// credentials.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    (!host.is_empty() && url.contains("://")).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    fn run(events: &[Value]) -> Vec<StreamEvent> {
        let mut converter = Converter::new("m");
        let mut out = Vec::new();
        for event in events {
            out.extend(converter.push(&event.to_string()).unwrap());
        }
        match converter.finish_response(5).unwrap() {
            Outcome::Done(events) => out.extend(events),
            Outcome::Paused(_) => panic!("paused"),
        }
        out
    }

    fn as_json(events: &[StreamEvent]) -> Value {
        serde_json::to_value(events).unwrap()
    }

    #[test]
    fn a_tool_turn_maps_like_python_format_chunk() {
        let events = run(&[
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "m", "stop_reason": null, "usage": {"input_tokens": 20, "cache_read_input_tokens": 5, "cache_creation_input_tokens": 0, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Hmm."}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "sig"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "ping"}),
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "add", "input": {}}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"a\": 1"}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": ", \"b\": 2}"}}),
            json!({"type": "content_block_stop", "index": 1}),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 30}}),
            json!({"type": "message_stop"}),
        ]);
        assert_eq!(
            as_json(&events),
            json!([
                {"messageStart": {"role": "assistant"}},
                {"contentBlockStart": {"start": {}, "contentBlockIndex": 0}},
                {"contentBlockDelta": {"delta": {"reasoningContent": {"text": "Hmm."}}, "contentBlockIndex": 0}},
                {"contentBlockDelta": {"delta": {"reasoningContent": {"signature": "sig"}}, "contentBlockIndex": 0}},
                {"contentBlockStop": {"contentBlockIndex": 0}},
                {"contentBlockStart": {"start": {"toolUse": {"toolUseId": "toolu_1", "name": "add"}}, "contentBlockIndex": 1}},
                {"contentBlockDelta": {"delta": {"toolUse": {"input": "{\"a\": 1"}}, "contentBlockIndex": 1}},
                {"contentBlockDelta": {"delta": {"toolUse": {"input": ", \"b\": 2}"}}, "contentBlockIndex": 1}},
                {"contentBlockStop": {"contentBlockIndex": 1}},
                {"messageStop": {"stopReason": "tool_use"}},
                {"metadata": {"usage": {"inputTokens": 20, "outputTokens": 30, "totalTokens": 55, "cacheReadInputTokens": 5}, "metrics": {"latencyMs": 5}}}
            ])
        );
    }

    #[test]
    fn server_tool_blocks_are_skipped_and_citations_mapped() {
        let events = run(&[
            json!({"type": "message_start", "message": {"usage": {"input_tokens": 1, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"query\": \"x\"}"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}}),
            json!({"type": "content_block_stop", "index": 1}),
            json!({"type": "content_block_start", "index": 2, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "citations_delta", "citation": {"type": "web_search_result_location", "url": "https://Example.com:8080/a?b", "title": "Ex", "cited_text": "quoted"}}}),
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "text_delta", "text": "cited"}}),
            json!({"type": "content_block_stop", "index": 2}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}}),
            json!({"type": "message_stop"}),
        ]);
        assert_eq!(
            as_json(&events[1..5]),
            json!([
                {"contentBlockStart": {"start": {}, "contentBlockIndex": 2}},
                {"contentBlockDelta": {"delta": {"citation": {"location": {"web": {"url": "https://Example.com:8080/a?b", "domain": "example.com"}}, "sourceContent": [{"text": "quoted"}], "title": "Ex"}}, "contentBlockIndex": 2}},
                {"contentBlockDelta": {"delta": {"text": "cited"}, "contentBlockIndex": 2}},
                {"contentBlockStop": {"contentBlockIndex": 2}}
            ])
        );
        assert_eq!(events.len(), 7);
    }

    #[test]
    fn a_paused_turn_returns_its_content_and_continues_the_numbering() {
        let mut converter = Converter::new("m");
        for event in [
            json!({"type": "message_start", "message": {"usage": {"input_tokens": 10, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {}}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"query\""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": ": \"rust\"}"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Searching"}}),
            json!({"type": "content_block_stop", "index": 1}),
            json!({"type": "message_delta", "delta": {"stop_reason": "pause_turn"}, "usage": {"output_tokens": 4}}),
            json!({"type": "message_stop"}),
        ] {
            converter.push(&event.to_string()).unwrap();
        }
        let Outcome::Paused(content) = converter.finish_response(1).unwrap() else {
            panic!("expected a pause");
        };
        assert_eq!(
            Value::Array(content),
            json!([
                {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {"query": "rust"}},
                {"type": "text", "text": "Searching"}
            ])
        );
        let resumed = converter
            .push(&json!({"type": "message_start", "message": {"usage": {"input_tokens": 30, "output_tokens": 1}}}).to_string())
            .unwrap();
        assert!(resumed.is_empty(), "message_start is sent once");
        let start = converter
            .push(&json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}).to_string())
            .unwrap();
        assert_eq!(
            as_json(&start),
            json!([{"contentBlockStart": {"start": {}, "contentBlockIndex": 2}}])
        );
        for event in [
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 6}}),
            json!({"type": "message_stop"}),
        ] {
            converter.push(&event.to_string()).unwrap();
        }
        let Outcome::Done(done) = converter.finish_response(9).unwrap() else {
            panic!("expected the end");
        };
        assert_eq!(
            as_json(&done),
            json!([
                {"messageStop": {"stopReason": "end_turn"}},
                {"metadata": {"usage": {"inputTokens": 40, "outputTokens": 10, "totalTokens": 50}, "metrics": {"latencyMs": 9}}}
            ])
        );
    }

    #[test]
    fn redacted_thinking_keeps_its_bytes() {
        let events = run(&[
            json!({"type": "message_start", "message": {}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "redacted_thinking", "data": "AQJzZWNyZXQ="}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
            json!({"type": "message_stop"}),
        ]);
        assert_eq!(
            events[2],
            StreamEvent::ContentBlockDelta(ContentBlockDeltaEvent::new(
                ContentBlockDelta::ReasoningContent(ReasoningDelta::redacted(
                    b"\x01\x02secret".to_vec()
                )),
                Some(0)
            ))
        );
    }

    #[test]
    fn errors_and_truncation() {
        let mut converter = Converter::new("m");
        let error = converter
            .push(r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#)
            .unwrap_err();
        assert!(error.is_retryable(), "{error}");

        let mut converter = Converter::new("m");
        converter
            .push(r#"{"type": "message_start", "message": {}}"#)
            .unwrap();
        assert!(matches!(
            converter.finish_response(0),
            Err(ModelError::Stream { .. })
        ));
        assert!(matches!(
            Converter::new("m").push("not json"),
            Err(ModelError::Stream { .. })
        ));
        assert!(
            Converter::new("m")
                .push(r#"{"type": "future_event"}"#)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn stop_reasons_and_hosts() {
        assert_eq!(stop_reason_of("max_tokens"), StopReason::MaxTokens);
        assert_eq!(stop_reason_of("refusal"), StopReason::ContentFiltered);
        assert_eq!(stop_reason_of("something_new"), StopReason::EndTurn);
        assert_eq!(host_of("https://user@[::1]:80/x").as_deref(), Some("::1"));
        assert_eq!(host_of("not a url"), None);
    }
}
