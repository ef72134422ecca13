//! Chat-completions chunks (and whole completions) → Strands [`StreamEvent`]s.
//!
//! Python: the streaming loop of `OpenAIModel.stream`, `format_chunk`,
//! `_stream_switch_content` and `_format_non_streaming_response`. Text and reasoning are passed
//! on as they arrive; tool calls are collected by `index` (their `id` and `name` arrive once,
//! `arguments` in fragments, several calls possibly interleaved) and emitted, one block each,
//! when the choice finishes.

use serde::Deserialize;
use serde_json::Value;
use strands_core::streaming::{ContentBlockDelta, ReasoningDelta};
use strands_core::{Metrics, ModelError, StopReason, StreamEvent, Usage};

use super::errors;

/// The most tool calls one response may carry.
const MAX_TOOL_CALLS: usize = 256;
/// The most tool-call argument text buffered for one response.
const MAX_TOOL_ARGUMENT_BYTES: usize = 16 * 1024 * 1024;

/// One `chat.completion.chunk`, or an error object sent in its place.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Chunk {
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    /// OpenAI: `{"error": {"message", "type", "code"}}` mid-stream.
    #[serde(default)]
    error: Option<Value>,
    /// vLLM: `{"object": "error", "message", "type", "code"}`.
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    message: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct Choice {
    #[serde(default)]
    index: Option<u64>,
    #[serde(default)]
    delta: Option<Delta>,
    /// Whole completions carry `message` instead of `delta`.
    #[serde(default)]
    message: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

/// A `delta` (or a whole `message`). Fields some servers send in other shapes are kept as
/// values and read leniently.
#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<Value>,
    /// DeepSeek, vLLM, llama.cpp server.
    #[serde(default)]
    reasoning_content: Option<Value>,
    /// OpenRouter, Groq, Ollama.
    #[serde(default)]
    reasoning: Option<Value>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Default, Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: Option<u64>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Default, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    /// A string fragment; a few servers send the whole arguments as an object.
    #[serde(default)]
    arguments: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<PromptTokensDetails>,
}

#[derive(Debug, Default, Deserialize)]
struct PromptTokensDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    cache_write_tokens: Option<u64>,
}

impl WireUsage {
    /// Python's `metadata` chunk: `cacheReadInputTokens` from `cached_tokens`,
    /// `cacheWriteInputTokens` from `cache_write_tokens`.
    fn to_usage(&self) -> Usage {
        let input = self.prompt_tokens.unwrap_or(0);
        let output = self.completion_tokens.unwrap_or(0);
        let details = self.prompt_tokens_details.as_ref();
        Usage::with_counts(
            input,
            output,
            self.total_tokens.unwrap_or(input + output),
            details.and_then(|d| d.cached_tokens),
            details.and_then(|d| d.cache_write_tokens),
        )
    }
}

/// A string field, or `None` when absent, empty or not a string.
fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

impl Delta {
    /// `reasoning_content`, else `reasoning` (Python's order).
    fn reasoning(&self) -> Option<&str> {
        text(self.reasoning_content.as_ref()).or_else(|| text(self.reasoning.as_ref()))
    }
}

/// The kind of the open (text or reasoning) block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Reasoning,
}

/// One tool call being collected.
#[derive(Debug)]
struct ToolCall {
    index: Option<u64>,
    id: Option<String>,
    name: Option<String>,
    fragments: Vec<String>,
}

/// The state of one streamed response.
#[derive(Debug)]
pub(crate) struct Decoder {
    open: Option<Block>,
    tool_calls: Vec<ToolCall>,
    tool_bytes: usize,
    finished: bool,
    usage: Option<Usage>,
    /// Makes ids for tool calls the server sent without one unique per response.
    id_salt: String,
}

impl Decoder {
    /// A decoder; `id_salt` goes into ids made for tool calls the server sent without one.
    pub(crate) fn new(id_salt: impl Into<String>) -> Self {
        Self {
            open: None,
            tool_calls: Vec::new(),
            tool_bytes: 0,
            finished: false,
            usage: None,
            id_salt: id_salt.into(),
        }
    }

    /// Whether a choice finished (`finish_reason` seen); what follows only adds usage.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// Applies one chunk, appending the events it completes.
    ///
    /// # Errors
    ///
    /// An error object in the stream, or more tool-call data than the bounds allow.
    pub(crate) fn push(
        &mut self,
        chunk: Chunk,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ModelError> {
        if let Some(error) = &chunk.error {
            return Err(errors::in_stream_error(error));
        }
        if chunk.object.as_deref() == Some("error") {
            let body = serde_json::json!({"message": chunk.message});
            return Err(errors::in_stream_error(&body));
        }
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.to_usage());
        }
        if self.finished {
            return Ok(());
        }
        let choices = chunk.choices.unwrap_or_default();
        let Some(choice) = choices
            .iter()
            .find(|c| c.index.unwrap_or(0) == 0)
            .or_else(|| choices.first())
        else {
            return Ok(());
        };
        if let Some(delta) = choice.delta.as_ref().or(choice.message.as_ref()) {
            if let Some(reasoning) = delta.reasoning() {
                self.switch(Block::Reasoning, out);
                out.push(StreamEvent::delta(ContentBlockDelta::ReasoningContent(
                    ReasoningDelta::text(reasoning),
                )));
            }
            if let Some(content) = text(delta.content.as_ref()) {
                self.switch(Block::Text, out);
                out.push(StreamEvent::text_delta(content));
            }
            for call in delta.tool_calls.iter().flatten() {
                self.collect(call)?;
            }
        }
        if let Some(reason) = choice.finish_reason.as_deref().filter(|r| !r.is_empty()) {
            self.finish(reason, out);
        }
        Ok(())
    }

    /// Closes the open block if it is of another kind and opens one of `block`'s.
    fn switch(&mut self, block: Block, out: &mut Vec<StreamEvent>) {
        if self.open == Some(block) {
            return;
        }
        if self.open.is_some() {
            out.push(StreamEvent::block_stop());
        }
        out.push(StreamEvent::block_start());
        self.open = Some(block);
    }

    fn collect(&mut self, delta: &ToolCallDelta) -> Result<(), ModelError> {
        let id = delta.id.as_deref().filter(|id| !id.is_empty());
        let slot = match delta.index {
            Some(index) => self.tool_calls.iter().position(|c| c.index == Some(index)),
            // Servers that send no index (Gemini's compatibility layer) send whole calls, or
            // fragments of the latest call without an id.
            None => match (self.tool_calls.last(), id) {
                (Some(last), Some(id)) if last.id.as_deref() != Some(id) => None,
                (Some(_), _) => Some(self.tool_calls.len() - 1),
                (None, _) => None,
            },
        };
        let slot = match slot {
            Some(slot) => slot,
            None => {
                if self.tool_calls.len() >= MAX_TOOL_CALLS {
                    return Err(ModelError::stream(
                        format!(
                            "the server streamed more than {MAX_TOOL_CALLS} tool calls in one response"
                        ),
                        None,
                    ));
                }
                self.tool_calls.push(ToolCall {
                    index: delta.index,
                    id: None,
                    name: None,
                    fragments: Vec::new(),
                });
                self.tool_calls.len() - 1
            }
        };
        let fragment = match delta.function.as_ref().and_then(|f| f.arguments.as_ref()) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        self.tool_bytes += fragment.len();
        if self.tool_bytes > MAX_TOOL_ARGUMENT_BYTES {
            return Err(ModelError::stream(
                format!(
                    "the server streamed more than {MAX_TOOL_ARGUMENT_BYTES} bytes of tool-call arguments in one response"
                ),
                None,
            ));
        }
        let name = delta
            .function
            .as_ref()
            .and_then(|f| f.name.as_deref())
            .filter(|n| !n.is_empty());
        if let Some(call) = self.tool_calls.get_mut(slot) {
            if call.id.is_none() {
                call.id = id.map(str::to_owned);
            }
            if call.name.is_none() {
                call.name = name.map(str::to_owned);
            }
            call.fragments.push(fragment);
        }
        Ok(())
    }

    /// Closes the open block, emits the collected tool calls and the stop reason.
    fn finish(&mut self, reason: &str, out: &mut Vec<StreamEvent>) {
        self.finished = true;
        if self.open.take().is_some() {
            out.push(StreamEvent::block_stop());
        }
        let has_tool_calls = !self.tool_calls.is_empty();
        for (position, call) in std::mem::take(&mut self.tool_calls).into_iter().enumerate() {
            let id = call.id.unwrap_or_else(|| {
                let index = call.index.unwrap_or(position as u64);
                format!("call_{}_{index}", self.id_salt)
            });
            out.push(StreamEvent::tool_use_start(
                id,
                call.name.unwrap_or_default(),
            ));
            out.extend(
                call.fragments
                    .into_iter()
                    .map(StreamEvent::tool_input_delta),
            );
            out.push(StreamEvent::block_stop());
        }
        out.push(StreamEvent::message_stop(stop_reason(
            reason,
            has_tool_calls,
        )));
    }

    /// The closing `metadata` event, when the server reported usage.
    pub(crate) fn end(self, latency_ms: u64) -> Option<StreamEvent> {
        self.usage
            .map(|usage| StreamEvent::metadata(usage, Metrics::new(latency_ms)))
    }
}

/// Python's `message_stop` mapping. A response that called tools but says `stop` (some servers
/// do) still asks for the tools to run, as Python's llama.cpp provider decides.
fn stop_reason(finish_reason: &str, has_tool_calls: bool) -> StopReason {
    match finish_reason {
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "length" => StopReason::MaxTokens,
        "content_filter" => StopReason::ContentFiltered,
        _ if has_tool_calls => StopReason::ToolUse,
        _ => StopReason::EndTurn,
    }
}

/// A whole (non-streamed) completion as the events Python's `_format_non_streaming_response`
/// derives from it.
///
/// # Errors
///
/// An error object instead of a completion, or a completion with no choice.
pub(crate) fn completion_events(
    completion: Chunk,
    id_salt: &str,
    latency_ms: u64,
) -> Result<Vec<StreamEvent>, ModelError> {
    let mut decoder = Decoder::new(id_salt);
    let mut out = vec![StreamEvent::message_start()];
    if completion.choices.as_ref().is_none_or(Vec::is_empty)
        && completion.error.is_none()
        && completion.object.as_deref() != Some("error")
    {
        return Err(ModelError::stream(
            "the server answered with a completion that has no choices",
            None,
        ));
    }
    let finish_reason = completion
        .choices
        .as_ref()
        .and_then(|c| c.first())
        .and_then(|c| c.finish_reason.clone());
    // Python puts reasoning, then text, then the tool calls, each in its own block.
    let mut completion = completion;
    if let Some(choice) = completion.choices.as_mut().and_then(|c| c.first_mut()) {
        choice.finish_reason = None;
        if let Some(message) = choice.message.as_mut().or(choice.delta.as_mut())
            && let Some(reasoning) = message.reasoning().map(str::to_owned)
        {
            out.push(StreamEvent::block_start());
            out.push(StreamEvent::delta(ContentBlockDelta::ReasoningContent(
                ReasoningDelta::text(reasoning),
            )));
            out.push(StreamEvent::block_stop());
            message.reasoning_content = None;
            message.reasoning = None;
        }
    }
    decoder.push(completion, &mut out)?;
    decoder.finish(finish_reason.as_deref().unwrap_or("end_turn"), &mut out);
    out.extend(decoder.end(latency_ms));
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! Expected events were produced by Python Strands 1.62's `OpenAIModel.stream` fed the same
    //! chunks through an injected client (`/tmp/pyvenv`, `openai` replaced by an import stub;
    //! chunks as attribute objects), printed with `json.dumps`. Python reports `latencyMs: 0`,
    //! which is what these tests pass.
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    fn decode(chunks: Value) -> Vec<Value> {
        let mut decoder = Decoder::new("salt");
        let mut out = vec![StreamEvent::message_start()];
        let Value::Array(chunks) = chunks else {
            panic!("chunks must be an array")
        };
        for chunk in chunks {
            decoder
                .push(serde_json::from_value(chunk).unwrap(), &mut out)
                .unwrap();
        }
        assert!(decoder.is_finished());
        out.extend(decoder.end(0));
        out.iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect()
    }

    fn events(expected: Value) -> Vec<Value> {
        // Through StreamEvent, so key order and optional fields compare like for like.
        let Value::Array(expected) = expected else {
            panic!("expected events must be an array")
        };
        expected
            .into_iter()
            .map(|e| {
                serde_json::to_value(serde_json::from_value::<StreamEvent>(e).unwrap()).unwrap()
            })
            .collect()
    }

    #[test]
    fn text_with_a_final_usage_chunk_matches_python() {
        let chunks = json!([
            {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": null}, "finish_reason": null}], "usage": null},
            {"choices": [{"index": 0, "delta": {"content": "Hello"}, "finish_reason": null}], "usage": null},
            {"choices": [{"index": 0, "delta": {"content": ", world"}, "finish_reason": null}], "usage": null},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": null},
            {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16, "prompt_tokens_details": {"cached_tokens": 8, "audio_tokens": 0}}}
        ]);
        assert_eq!(
            decode(chunks),
            events(json!([
                {"messageStart": {"role": "assistant"}},
                {"contentBlockStart": {"start": {}}},
                {"contentBlockDelta": {"delta": {"text": "Hello"}}},
                {"contentBlockDelta": {"delta": {"text": ", world"}}},
                {"contentBlockStop": {}},
                {"messageStop": {"stopReason": "end_turn"}},
                {"metadata": {"usage": {"inputTokens": 12, "outputTokens": 4, "totalTokens": 16, "cacheReadInputTokens": 8}, "metrics": {"latencyMs": 0}}}
            ]))
        );
    }

    #[test]
    fn one_tool_call_with_split_arguments_matches_python() {
        let chunks = json!([
            {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Adding."}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "add", "arguments": ""}}]}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\""}}]}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ": 1, \"b\": 2}"}}]}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
            {"choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 20, "total_tokens": 50}}
        ]);
        assert_eq!(
            decode(chunks),
            events(json!([
                {"messageStart": {"role": "assistant"}},
                {"contentBlockStart": {"start": {}}},
                {"contentBlockDelta": {"delta": {"text": "Adding."}}},
                {"contentBlockStop": {}},
                {"contentBlockStart": {"start": {"toolUse": {"name": "add", "toolUseId": "call_1"}}}},
                {"contentBlockDelta": {"delta": {"toolUse": {"input": ""}}}},
                {"contentBlockDelta": {"delta": {"toolUse": {"input": "{\"a\""}}}},
                {"contentBlockDelta": {"delta": {"toolUse": {"input": ": 1, \"b\": 2}"}}}},
                {"contentBlockStop": {}},
                {"messageStop": {"stopReason": "tool_use"}},
                {"metadata": {"usage": {"inputTokens": 30, "outputTokens": 20, "totalTokens": 50}, "metrics": {"latencyMs": 0}}}
            ]))
        );
    }

    #[test]
    fn interleaved_tool_calls_are_grouped_by_index_like_python() {
        let chunks = json!([
            {"choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "add", "arguments": ""}}]}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "mul", "arguments": "{\"x\": "}}]}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\": 1, "}}]}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": "3}"}}, {"index": 0, "function": {"arguments": "\"b\": 2}"}}]}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
            {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}
        ]);
        assert_eq!(
            decode(chunks),
            events(json!([
                {"messageStart": {"role": "assistant"}},
                {"contentBlockStart": {"start": {"toolUse": {"name": "add", "toolUseId": "call_a"}}}},
                {"contentBlockDelta": {"delta": {"toolUse": {"input": ""}}}},
                {"contentBlockDelta": {"delta": {"toolUse": {"input": "{\"a\": 1, "}}}},
                {"contentBlockDelta": {"delta": {"toolUse": {"input": "\"b\": 2}"}}}},
                {"contentBlockStop": {}},
                {"contentBlockStart": {"start": {"toolUse": {"name": "mul", "toolUseId": "call_b"}}}},
                {"contentBlockDelta": {"delta": {"toolUse": {"input": "{\"x\": "}}}},
                {"contentBlockDelta": {"delta": {"toolUse": {"input": "3}"}}}},
                {"contentBlockStop": {}},
                {"messageStop": {"stopReason": "tool_use"}},
                {"metadata": {"usage": {"inputTokens": 5, "outputTokens": 7, "totalTokens": 12}, "metrics": {"latencyMs": 0}}}
            ]))
        );
    }

    #[test]
    fn reasoning_and_text_switch_blocks_like_python() {
        let chunks = json!([
            {"choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": "Think"}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {"reasoning_content": "ing."}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {"content": "Answer"}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {"reasoning": "more"}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}
        ]);
        assert_eq!(
            decode(chunks),
            events(json!([
                {"messageStart": {"role": "assistant"}},
                {"contentBlockStart": {"start": {}}},
                {"contentBlockDelta": {"delta": {"reasoningContent": {"text": "Think"}}}},
                {"contentBlockDelta": {"delta": {"reasoningContent": {"text": "ing."}}}},
                {"contentBlockStop": {}},
                {"contentBlockStart": {"start": {}}},
                {"contentBlockDelta": {"delta": {"text": "Answer"}}},
                {"contentBlockStop": {}},
                {"contentBlockStart": {"start": {}}},
                {"contentBlockDelta": {"delta": {"reasoningContent": {"text": "more"}}}},
                {"contentBlockStop": {}},
                {"messageStop": {"stopReason": "max_tokens"}}
            ]))
        );
    }

    #[test]
    fn an_ollama_style_whole_tool_call_matches_python() {
        let chunks = json!([
            {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "llama3.2", "system_fingerprint": "fp_ollama", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "tool_calls": [{"id": "call_x1", "index": 0, "type": "function", "function": {"name": "add", "arguments": "{\"a\":1,\"b\":2}"}}]}, "finish_reason": null}]},
            {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "llama3.2", "system_fingerprint": "fp_ollama", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": "tool_calls"}]}
        ]);
        assert_eq!(
            decode(chunks),
            events(json!([
                {"messageStart": {"role": "assistant"}},
                {"contentBlockStart": {"start": {"toolUse": {"name": "add", "toolUseId": "call_x1"}}}},
                {"contentBlockDelta": {"delta": {"toolUse": {"input": "{\"a\":1,\"b\":2}"}}}},
                {"contentBlockStop": {}},
                {"messageStop": {"stopReason": "tool_use"}}
            ]))
        );
    }

    #[test]
    fn content_filter_with_usage_on_the_finish_chunk_matches_python() {
        let chunks = json!([
            {"choices": [{"index": 0, "delta": {"content": "I can"}, "finish_reason": null}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "content_filter"}], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
        ]);
        assert_eq!(
            decode(chunks),
            events(json!([
                {"messageStart": {"role": "assistant"}},
                {"contentBlockStart": {"start": {}}},
                {"contentBlockDelta": {"delta": {"text": "I can"}}},
                {"contentBlockStop": {}},
                {"messageStop": {"stopReason": "content_filtered"}},
                {"metadata": {"usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}, "metrics": {"latencyMs": 0}}}
            ]))
        );
    }

    #[test]
    fn tool_calls_without_index_or_id_still_become_separate_blocks() {
        // Gemini-style: whole calls without `index`; a llama.cpp build that sends no `id`; a
        // server that says `stop` after calling tools.
        let chunks = json!([
            {"choices": [{"index": 0, "delta": {"tool_calls": [
                {"id": "a", "function": {"name": "add", "arguments": {"a": 1}}},
                {"id": "b", "function": {"name": "mul", "arguments": "{}"}}
            ]}}]},
            {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 5, "function": {"name": "neg", "arguments": "{\"x\": 1}"}}]}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        ]);
        let out = decode(chunks);
        assert_eq!(
            out[1],
            json!({"contentBlockStart": {"start": {"toolUse": {"toolUseId": "a", "name": "add"}}}})
        );
        assert_eq!(
            out[2],
            json!({"contentBlockDelta": {"delta": {"toolUse": {"input": "{\"a\":1}"}}}})
        );
        assert_eq!(
            out[4],
            json!({"contentBlockStart": {"start": {"toolUse": {"toolUseId": "b", "name": "mul"}}}})
        );
        assert_eq!(
            out[7],
            json!({"contentBlockStart": {"start": {"toolUse": {"toolUseId": "call_salt_5", "name": "neg"}}}})
        );
        assert_eq!(
            out.last().unwrap(),
            &json!({"messageStop": {"stopReason": "tool_use"}})
        );
    }

    #[test]
    fn an_error_object_in_the_stream_is_an_error() {
        let mut decoder = Decoder::new("s");
        let chunk = serde_json::from_value(json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": null, "code": null}})).unwrap();
        let error = decoder.push(chunk, &mut Vec::new()).unwrap_err();
        assert!(matches!(error, ModelError::Stream { .. }), "{error}");
        assert!(error.to_string().contains("The server had an error"));

        let chunk = serde_json::from_value(json!({"error": {"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"}})).unwrap();
        assert!(
            decoder
                .push(chunk, &mut Vec::new())
                .unwrap_err()
                .is_retryable()
        );
    }

    #[test]
    fn a_whole_completion_becomes_the_same_events_as_python() {
        let completion = serde_json::from_value(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Let me add.", "reasoning_content": "hmm", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": "{\"a\": 1}"}}
            ]}, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
        }))
        .unwrap();
        let out: Vec<Value> = completion_events(completion, "s", 0)
            .unwrap()
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect();
        assert_eq!(
            out,
            events(json!([
                {"messageStart": {"role": "assistant"}},
                {"contentBlockStart": {"start": {}}},
                {"contentBlockDelta": {"delta": {"reasoningContent": {"text": "hmm"}}}},
                {"contentBlockStop": {}},
                {"contentBlockStart": {"start": {}}},
                {"contentBlockDelta": {"delta": {"text": "Let me add."}}},
                {"contentBlockStop": {}},
                {"contentBlockStart": {"start": {"toolUse": {"name": "add", "toolUseId": "call_1"}}}},
                {"contentBlockDelta": {"delta": {"toolUse": {"input": "{\"a\": 1}"}}}},
                {"contentBlockStop": {}},
                {"messageStop": {"stopReason": "tool_use"}},
                {"metadata": {"usage": {"inputTokens": 9, "outputTokens": 3, "totalTokens": 12}, "metrics": {"latencyMs": 0}}}
            ]))
        );
    }
}
