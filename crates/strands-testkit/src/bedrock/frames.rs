//! Helpers that build realistic ConverseStream frame sequences.
//!
//! They follow what Bedrock really sends: every block event carries `contentBlockIndex`; text and
//! reasoning blocks start directly with a delta (Bedrock never sends `contentBlockStart` with an
//! empty `"start": {}`, which the SDKs reject); only tool-use blocks get a `contentBlockStart`.
//!
//! A typical tool-calling turn:
//!
//! ```
//! use strands_testkit::bedrock::{Reply, frames};
//!
//! let reply = Reply::Stream(vec![
//!     frames::message_start(),
//!     frames::text_delta(0, "Let me check."),
//!     frames::block_stop(0),
//!     frames::tool_use_start(1, "tooluse_abc123", "get_weather"),
//!     frames::tool_input_delta(1, ""),
//!     frames::tool_input_delta(1, r#"{"city": "Par"#),
//!     frames::tool_input_delta(1, r#"is"}"#),
//!     frames::block_stop(1),
//!     frames::message_stop("tool_use"),
//!     frames::metadata(50, 30),
//! ]);
//! # let _ = reply;
//! ```

use serde_json::json;

use super::Frame;

/// A whole assistant text turn: `messageStart`, one text delta per entry of `deltas` on block 0,
/// `contentBlockStop`, `messageStop` with `stop_reason`, and `metadata` with usage
/// `{inputTokens: 12, outputTokens: 4, totalTokens: 16}` and `latencyMs: 321`.
///
/// # Examples
///
/// ```
/// use strands_testkit::bedrock::frames;
///
/// let turn = frames::text_turn(&["Hello", ", world"], "end_turn");
/// assert_eq!(turn.len(), 6);
/// ```
pub fn text_turn(deltas: &[&str], stop_reason: &str) -> Vec<Frame> {
    let mut frames = Vec::with_capacity(deltas.len() + 4);
    frames.push(message_start());
    frames.extend(deltas.iter().map(|text| text_delta(0, text)));
    frames.push(block_stop(0));
    frames.push(message_stop(stop_reason));
    frames.push(metadata(12, 4));
    frames
}

/// A whole turn in which the model asks for tools: `(tool_use_id, name, input JSON)` each, then
/// `messageStop` with `tool_use` and `metadata`.
///
/// # Examples
///
/// ```
/// use strands_testkit::bedrock::frames;
///
/// let turn = frames::tool_turn(&[("t1", "weather", r#"{"city": "Lisbon"}"#)]);
/// assert_eq!(turn.len(), 6);
/// ```
pub fn tool_turn(uses: &[(&str, &str, &str)]) -> Vec<Frame> {
    let mut frames = Vec::with_capacity(uses.len() * 3 + 3);
    frames.push(message_start());
    for (index, (id, name, input)) in (0u32..).zip(uses) {
        frames.push(tool_use_start(index, id, name));
        frames.push(tool_input_delta(index, input));
        frames.push(block_stop(index));
    }
    frames.push(message_stop("tool_use"));
    frames.push(metadata(30, 12));
    frames
}

/// `messageStart` with role `assistant`.
///
/// # Examples
///
/// ```
/// use strands_testkit::bedrock::{Frame, frames};
///
/// assert!(matches!(frames::message_start(), Frame::Event { .. }));
/// ```
pub fn message_start() -> Frame {
    Frame::event("messageStart", json!({"role": "assistant"}))
}

/// `contentBlockDelta` carrying a text fragment.
///
/// # Examples
///
/// ```
/// let delta = strands_testkit::bedrock::frames::text_delta(0, "Hello");
/// # let _ = delta;
/// ```
pub fn text_delta(index: u32, text: &str) -> Frame {
    Frame::event(
        "contentBlockDelta",
        json!({"contentBlockIndex": index, "delta": {"text": text}}),
    )
}

/// `contentBlockStart` opening a tool-use block.
///
/// # Examples
///
/// ```
/// let start = strands_testkit::bedrock::frames::tool_use_start(1, "tooluse_abc123", "get_weather");
/// # let _ = start;
/// ```
pub fn tool_use_start(index: u32, tool_use_id: &str, name: &str) -> Frame {
    Frame::event(
        "contentBlockStart",
        json!({
            "contentBlockIndex": index,
            "start": {"toolUse": {"toolUseId": tool_use_id, "name": name}}
        }),
    )
}

/// `contentBlockDelta` carrying a fragment of a tool's JSON input, as a string (Bedrock's first
/// fragment is often `""`).
///
/// # Examples
///
/// ```
/// let delta = strands_testkit::bedrock::frames::tool_input_delta(1, r#"{"city": "Paris"}"#);
/// # let _ = delta;
/// ```
pub fn tool_input_delta(index: u32, fragment: &str) -> Frame {
    Frame::event(
        "contentBlockDelta",
        json!({"contentBlockIndex": index, "delta": {"toolUse": {"input": fragment}}}),
    )
}

/// `contentBlockDelta` carrying reasoning (extended thinking) text.
///
/// # Examples
///
/// ```
/// let delta = strands_testkit::bedrock::frames::reasoning_delta(0, "The user wants...");
/// # let _ = delta;
/// ```
pub fn reasoning_delta(index: u32, text: &str) -> Frame {
    Frame::event(
        "contentBlockDelta",
        json!({"contentBlockIndex": index, "delta": {"reasoningContent": {"text": text}}}),
    )
}

/// `contentBlockDelta` carrying the signature that closes a reasoning block.
///
/// # Examples
///
/// ```
/// let delta = strands_testkit::bedrock::frames::signature_delta(0, "EqQBCkgIAR...");
/// # let _ = delta;
/// ```
pub fn signature_delta(index: u32, signature: &str) -> Frame {
    Frame::event(
        "contentBlockDelta",
        json!({"contentBlockIndex": index, "delta": {"reasoningContent": {"signature": signature}}}),
    )
}

/// `contentBlockStop` for block `index`.
///
/// # Examples
///
/// ```
/// let stop = strands_testkit::bedrock::frames::block_stop(0);
/// # let _ = stop;
/// ```
pub fn block_stop(index: u32) -> Frame {
    Frame::event("contentBlockStop", json!({"contentBlockIndex": index}))
}

/// `messageStop` with a Bedrock stop reason (`end_turn`, `tool_use`, `max_tokens`,
/// `stop_sequence`, `guardrail_intervened`, `content_filtered`, ...).
///
/// # Examples
///
/// ```
/// let stop = strands_testkit::bedrock::frames::message_stop("max_tokens");
/// # let _ = stop;
/// ```
pub fn message_stop(stop_reason: &str) -> Frame {
    Frame::event("messageStop", json!({"stopReason": stop_reason}))
}

/// `metadata` with these token counts (their sum as `totalTokens`) and `latencyMs: 321`.
///
/// # Examples
///
/// ```
/// let metadata = strands_testkit::bedrock::frames::metadata(50, 30);
/// # let _ = metadata;
/// ```
pub fn metadata(input_tokens: u64, output_tokens: u64) -> Frame {
    Frame::event(
        "metadata",
        json!({
            "usage": {
                "inputTokens": input_tokens,
                "outputTokens": output_tokens,
                "totalTokens": input_tokens.saturating_add(output_tokens)
            },
            "metrics": {"latencyMs": 321}
        }),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn event(frame: &Frame) -> (&str, &Value) {
        match frame {
            Frame::Event {
                event_type,
                payload,
            } => (event_type.as_str(), payload),
            Frame::Exception { .. } => panic!("expected an event, got {frame:?}"),
        }
    }

    #[test]
    fn text_turn_never_sends_content_block_start() {
        let turn = text_turn(&["a", "b"], "end_turn");
        let types: Vec<&str> = turn.iter().map(|f| event(f).0).collect();
        assert_eq!(
            types,
            [
                "messageStart",
                "contentBlockDelta",
                "contentBlockDelta",
                "contentBlockStop",
                "messageStop",
                "metadata"
            ]
        );
        for frame in &turn[1..4] {
            assert_eq!(event(frame).1["contentBlockIndex"], 0);
        }
        assert_eq!(event(&turn[5]).1["usage"]["totalTokens"], 16);
        assert_eq!(event(&turn[5]).1["metrics"]["latencyMs"], 321);
    }
}
