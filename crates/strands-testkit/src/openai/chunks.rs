//! Helpers that build realistic `chat.completion.chunk` streams.
//!
//! The single-chunk helpers return the chunk's JSON in OpenAI's documented format, without the
//! envelope fields (`id`, `object`, `created`, `model`, `system_fingerprint`), which the fake
//! fills in per response. The `*_turn` helpers return whole replies, `[DONE]` included, in the
//! styles of the servers the OpenAI provider meets:
//!
//! | Helper | Style |
//! |---|---|
//! | [`text_turn`] | OpenAI: role chunk, content chunks, finish chunk, usage chunk with empty `choices` |
//! | [`tool_call_turn`] | OpenAI: each call's `id` and `name` once, `arguments` in many small fragments, several calls interleaved by `index` |
//! | [`ollama_text_turn`], [`ollama_tool_call_turn`] | Ollama: `role` repeated in every delta, whole tool calls in one chunk, no usage |
//! | [`llama_cpp_turn`] | llama.cpp server: `reasoning_content` deltas, `timings`, finish then usage |
//!
//! ```
//! use strands_testkit::openai::{Reply, SseFrame, chunks};
//!
//! // A turn that says something, then calls a tool with arguments in three fragments.
//! let reply = Reply::Stream(vec![
//!     chunks::role().into(),
//!     chunks::text("Let me check.").into(),
//!     chunks::tool_call_start(0, "call_abc", "get_weather").into(),
//!     chunks::tool_call_arguments(0, r#"{"city""#).into(),
//!     chunks::tool_call_arguments(0, r#": "Par"#).into(),
//!     chunks::tool_call_arguments(0, r#"is"}"#).into(),
//!     chunks::finish("tool_calls").into(),
//!     chunks::usage(50, 30).into(),
//!     SseFrame::Done,
//! ]);
//! # let _ = reply;
//! ```

use serde_json::{Value, json};

use super::SseFrame;

/// The size of the argument fragments [`tool_call_turn`] streams.
const FRAGMENT_CHARS: usize = 4;

fn delta_chunk(delta: &Value) -> Value {
    json!({"choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": null}], "usage": null})
}

/// The first chunk of an OpenAI answer: `{"role": "assistant", "content": "", "refusal": null}`.
///
/// # Examples
///
/// ```
/// let chunk = strands_testkit::openai::chunks::role();
/// assert_eq!(chunk["choices"][0]["delta"]["role"], "assistant");
/// ```
pub fn role() -> Value {
    delta_chunk(&json!({"role": "assistant", "content": "", "refusal": null}))
}

/// A chunk carrying a text fragment in `delta.content`.
///
/// # Examples
///
/// ```
/// let chunk = strands_testkit::openai::chunks::text("Hello");
/// assert_eq!(chunk["choices"][0]["delta"]["content"], "Hello");
/// ```
pub fn text(text: &str) -> Value {
    delta_chunk(&json!({"content": text}))
}

/// A chunk carrying reasoning in `delta.reasoning_content` (DeepSeek, vLLM, llama.cpp server).
///
/// # Examples
///
/// ```
/// let chunk = strands_testkit::openai::chunks::reasoning("Let me think.");
/// assert_eq!(chunk["choices"][0]["delta"]["reasoning_content"], "Let me think.");
/// ```
pub fn reasoning(text: &str) -> Value {
    delta_chunk(&json!({"reasoning_content": text}))
}

/// The first chunk of tool call `index`: its `id`, `type` and `function.name`, empty arguments.
///
/// # Examples
///
/// ```
/// let chunk = strands_testkit::openai::chunks::tool_call_start(0, "call_1", "add");
/// assert_eq!(chunk["choices"][0]["delta"]["tool_calls"][0]["function"]["name"], "add");
/// ```
pub fn tool_call_start(index: u32, id: &str, name: &str) -> Value {
    delta_chunk(&json!({"tool_calls": [
        {"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}
    ]}))
}

/// A fragment of tool call `index`'s arguments.
///
/// # Examples
///
/// ```
/// let chunk = strands_testkit::openai::chunks::tool_call_arguments(1, r#"{"a""#);
/// assert_eq!(chunk["choices"][0]["delta"]["tool_calls"][0]["index"], 1);
/// ```
pub fn tool_call_arguments(index: u32, fragment: &str) -> Value {
    delta_chunk(&json!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}))
}

/// The chunk that ends the choice: an empty delta and `finish_reason` (`stop`, `tool_calls`,
/// `length`, `content_filter`).
///
/// # Examples
///
/// ```
/// let chunk = strands_testkit::openai::chunks::finish("length");
/// assert_eq!(chunk["choices"][0]["finish_reason"], "length");
/// ```
pub fn finish(reason: &str) -> Value {
    json!({"choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": reason}], "usage": null})
}

/// The final usage chunk (`"choices": []`), sent only when the request asked for it with
/// `stream_options.include_usage`.
///
/// # Examples
///
/// ```
/// let chunk = strands_testkit::openai::chunks::usage(12, 4);
/// assert_eq!(chunk["usage"]["total_tokens"], 16);
/// ```
pub fn usage(prompt_tokens: u64, completion_tokens: u64) -> Value {
    json!({"choices": [], "usage": {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
    }})
}

/// An error object in place of a chunk, as OpenAI sends when a stream fails:
/// `{"error": {"message", "type", "param": null, "code"}}`.
///
/// # Examples
///
/// ```
/// let chunk = strands_testkit::openai::chunks::error("overloaded", "server_error", None);
/// assert_eq!(chunk["error"]["type"], "server_error");
/// ```
pub fn error(message: &str, error_type: &str, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": error_type, "param": null, "code": code}})
}

/// `text` cut into pieces of at most `size` characters (at least one piece).
fn fragments(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(size.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// An OpenAI text answer: [`role`], one [`text`] chunk per delta, [`finish`] `stop`, [`usage`]
/// 12/4, `[DONE]`.
///
/// # Examples
///
/// ```
/// use strands_testkit::openai::chunks;
///
/// assert_eq!(chunks::text_turn(&["Hello", ", world"]).len(), 6);
/// ```
pub fn text_turn(deltas: &[&str]) -> Vec<SseFrame> {
    let mut frames = vec![SseFrame::Chunk(role())];
    frames.extend(deltas.iter().map(|d| SseFrame::Chunk(text(d))));
    frames.push(SseFrame::Chunk(finish("stop")));
    frames.push(SseFrame::Chunk(usage(12, 4)));
    frames.push(SseFrame::Done);
    frames
}

/// An OpenAI tool-calling answer: [`role`], [`text`] if given, then every call's
/// [`tool_call_start`] with its arguments in fragments of four characters; with several calls
/// the fragments of the different calls are interleaved round-robin by `index`. Then
/// [`finish`] `tool_calls`, [`usage`] 30/20, `[DONE]`.
///
/// # Examples
///
/// ```
/// use strands_testkit::openai::chunks;
///
/// let frames = chunks::tool_call_turn(Some("Adding."), &[("call_1", "add", r#"{"a": 1}"#)]);
/// assert!(frames.len() > 6);
/// ```
pub fn tool_call_turn(text_before: Option<&str>, calls: &[(&str, &str, &str)]) -> Vec<SseFrame> {
    let mut frames = vec![SseFrame::Chunk(role())];
    if let Some(t) = text_before {
        frames.push(SseFrame::Chunk(text(t)));
    }
    for (i, (id, name, _)) in calls.iter().enumerate() {
        frames.push(SseFrame::Chunk(tool_call_start(index(i), id, name)));
    }
    let pieces: Vec<Vec<String>> = calls
        .iter()
        .map(|(_, _, arguments)| fragments(arguments, FRAGMENT_CHARS))
        .collect();
    let longest = pieces.iter().map(Vec::len).max().unwrap_or(0);
    for round in 0..longest {
        for (i, call_pieces) in pieces.iter().enumerate() {
            if let Some(piece) = call_pieces.get(round) {
                frames.push(SseFrame::Chunk(tool_call_arguments(index(i), piece)));
            }
        }
    }
    frames.push(SseFrame::Chunk(finish("tool_calls")));
    frames.push(SseFrame::Chunk(usage(30, 20)));
    frames.push(SseFrame::Done);
    frames
}

fn ollama_chunk(delta: &Value, finish_reason: Option<&str>) -> Value {
    json!({
        "object": "chat.completion.chunk",
        "system_fingerprint": "fp_ollama",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    })
}

/// Ollama's `/v1` style text answer: every delta repeats `"role": "assistant"`, the last chunk
/// has empty content and `finish_reason: "stop"`, no usage chunk, `[DONE]`.
///
/// # Examples
///
/// ```
/// use strands_testkit::openai::chunks;
///
/// assert_eq!(chunks::ollama_text_turn(&["Hi"]).len(), 3);
/// ```
pub fn ollama_text_turn(deltas: &[&str]) -> Vec<SseFrame> {
    let mut frames: Vec<SseFrame> = deltas
        .iter()
        .map(|d| {
            SseFrame::Chunk(ollama_chunk(
                &json!({"role": "assistant", "content": d}),
                None,
            ))
        })
        .collect();
    frames.push(SseFrame::Chunk(ollama_chunk(
        &json!({"role": "assistant", "content": ""}),
        Some("stop"),
    )));
    frames.push(SseFrame::Done);
    frames
}

/// Ollama's `/v1` style tool calls: one chunk holding every call whole (ids `call_<n>` as
/// given, complete `arguments`), then a chunk with `finish_reason: "tool_calls"`, no usage,
/// `[DONE]`.
///
/// # Examples
///
/// ```
/// use strands_testkit::openai::chunks;
///
/// let frames = chunks::ollama_tool_call_turn(&[("call_x1", "add", r#"{"a":1,"b":2}"#)]);
/// assert_eq!(frames.len(), 3);
/// ```
pub fn ollama_tool_call_turn(calls: &[(&str, &str, &str)]) -> Vec<SseFrame> {
    let tool_calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (id, name, arguments))| {
            json!({"id": id, "index": i, "type": "function", "function": {"name": name, "arguments": arguments}})
        })
        .collect();
    vec![
        SseFrame::Chunk(ollama_chunk(
            &json!({"role": "assistant", "content": "", "tool_calls": tool_calls}),
            None,
        )),
        SseFrame::Chunk(ollama_chunk(
            &json!({"role": "assistant", "content": ""}),
            Some("tool_calls"),
        )),
        SseFrame::Done,
    ]
}

fn llama_cpp_chunk(delta: &Value, finish_reason: Option<&str>) -> Value {
    json!({
        "choices": [{"finish_reason": finish_reason, "index": 0, "delta": delta}],
        "object": "chat.completion.chunk",
        "system_fingerprint": "b6000-fake"
    })
}

fn llama_cpp_timings() -> Value {
    json!({"prompt_n": 12, "prompt_ms": 35.1, "predicted_n": 4, "predicted_ms": 80.2, "predicted_per_second": 49.9})
}

/// The llama.cpp server's style (started with `--jinja --reasoning-format deepseek`): a first
/// chunk with `"content": null`, `reasoning_content` deltas, `content` deltas, a finish chunk
/// (`stop`) carrying `timings`, then the usage chunk (`"choices": []`, with `timings`),
/// `[DONE]`.
///
/// # Examples
///
/// ```
/// use strands_testkit::openai::chunks;
///
/// let frames = chunks::llama_cpp_turn(&["The user greets me."], &["Hello", "!"]);
/// assert_eq!(frames.len(), 7);
/// ```
pub fn llama_cpp_turn(reasoning: &[&str], deltas: &[&str]) -> Vec<SseFrame> {
    let mut frames = vec![SseFrame::Chunk(llama_cpp_chunk(
        &json!({"role": "assistant", "content": null}),
        None,
    ))];
    frames.extend(
        reasoning
            .iter()
            .map(|r| SseFrame::Chunk(llama_cpp_chunk(&json!({"reasoning_content": r}), None))),
    );
    frames.extend(
        deltas
            .iter()
            .map(|d| SseFrame::Chunk(llama_cpp_chunk(&json!({"content": d}), None))),
    );
    let mut last = llama_cpp_chunk(&json!({}), Some("stop"));
    last["timings"] = llama_cpp_timings();
    frames.push(SseFrame::Chunk(last));
    frames.push(SseFrame::Chunk(json!({
        "choices": [],
        "object": "chat.completion.chunk",
        "system_fingerprint": "b6000-fake",
        "usage": {"completion_tokens": 4, "prompt_tokens": 12, "total_tokens": 16},
        "timings": llama_cpp_timings()
    })));
    frames.push(SseFrame::Done);
    frames
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn arguments_of(frames: &[SseFrame], index: u64) -> String {
        frames
            .iter()
            .filter_map(|f| match f {
                SseFrame::Chunk(c) => c["choices"][0]["delta"]["tool_calls"].as_array().cloned(),
                _ => None,
            })
            .flatten()
            .filter(|call| call["index"] == index)
            .filter_map(|call| call["function"]["arguments"].as_str().map(str::to_owned))
            .collect()
    }

    #[test]
    fn interleaved_fragments_reassemble_to_each_calls_arguments() {
        let calls = [
            ("a", "add", r#"{"a": 1, "b": 2}"#),
            ("b", "mul", r#"{"x": "é"}"#),
        ];
        let frames = tool_call_turn(None, &calls);
        assert_eq!(arguments_of(&frames, 0), calls[0].2);
        assert_eq!(arguments_of(&frames, 1), calls[1].2);
        // The two calls' fragments alternate.
        let order: Vec<u64> = frames
            .iter()
            .filter_map(|f| match f {
                SseFrame::Chunk(c) => c["choices"][0]["delta"]["tool_calls"][0]["function"]
                    .get("name")
                    .is_none()
                    .then(|| c["choices"][0]["delta"]["tool_calls"][0]["index"].as_u64())
                    .flatten(),
                _ => None,
            })
            .collect();
        assert_eq!(&order[..4], &[0, 1, 0, 1]);
    }
}
