//! Helpers that build Anthropic Messages API stream events, as the API documents and sends them.
//!
//! Every stream starts with `message_start` (usage with the input tokens), then each content
//! block is `content_block_start` (text starts empty, a tool use with `"input": {}`, thinking
//! with empty `thinking` and `signature`), its deltas, and `content_block_stop`; `message_delta`
//! carries the stop reason and the cumulative output tokens, and `message_stop` ends it. `ping`
//! may appear anywhere; an `error` event ends a broken stream.
//!
//! A typical tool-calling turn:
//!
//! ```
//! use strands_testkit::anthropic::{Reply, events};
//!
//! let mut stream = vec![events::message_start(25), events::ping()];
//! stream.extend(events::text_block(0, &["Let me check."]));
//! stream.extend(events::tool_use_block(1, "toolu_01", "get_weather", r#"{"city": "Paris"}"#));
//! stream.push(events::message_delta("tool_use", 40));
//! stream.push(events::message_stop());
//! let reply = Reply::Stream(stream);
//! # let _ = reply;
//! ```

use serde_json::{Value, json};

/// How many characters of tool input each `input_json_delta` carries in
/// [`tool_use_block`] (Anthropic streams inputs in small, uneven pieces).
pub const INPUT_CHUNK_CHARS: usize = 7;

/// One server-sent event: `event: <name>` and `data: <json>`.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use strands_testkit::anthropic::events::Event;
///
/// let event = Event::new("ping", json!({"type": "ping"}));
/// assert_eq!(event.to_sse(), "event: ping\ndata: {\"type\":\"ping\"}\n\n");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// The `event:` field, e.g. `content_block_delta`.
    pub name: String,
    /// The `data:` payload.
    pub data: Value,
}

impl Event {
    /// An event with this name and data.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use strands_testkit::anthropic::events::Event;
    ///
    /// let event = Event::new("future_event", json!({"type": "future_event"}));
    /// assert_eq!(event.name, "future_event");
    /// ```
    pub fn new(name: impl Into<String>, data: Value) -> Self {
        Self {
            name: name.into(),
            data,
        }
    }

    /// The event as written on the wire, blank line included.
    ///
    /// # Examples
    ///
    /// ```
    /// let text = strands_testkit::anthropic::events::message_stop().to_sse();
    /// assert!(text.starts_with("event: message_stop\ndata: "));
    /// assert!(text.ends_with("\n\n"));
    /// ```
    pub fn to_sse(&self) -> String {
        format!("event: {}\ndata: {}\n\n", self.name, self.data)
    }
}

/// An event whose data is `{"type": <name>, ...fields}` (the type first, as Anthropic writes it).
fn event(name: &str, fields: Value) -> Event {
    let mut data = serde_json::Map::new();
    data.insert("type".to_owned(), Value::String(name.to_owned()));
    if let Value::Object(fields) = fields {
        data.extend(fields);
    }
    Event::new(name, Value::Object(data))
}

/// `message_start` with usage `{input_tokens, output_tokens: 1}`. The fake fills the empty
/// `model` with the requested model.
///
/// # Examples
///
/// ```
/// let start = strands_testkit::anthropic::events::message_start(12);
/// assert_eq!(start.data["message"]["usage"]["input_tokens"], 12);
/// ```
pub fn message_start(input_tokens: u64) -> Event {
    message_start_with_usage(json!({
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 1
    }))
}

/// `message_start` with this `usage` object (e.g. with cache counters).
///
/// # Examples
///
/// ```
/// use serde_json::json;
///
/// let start = strands_testkit::anthropic::events::message_start_with_usage(
///     json!({"input_tokens": 3, "cache_read_input_tokens": 1000, "output_tokens": 1}),
/// );
/// assert_eq!(start.data["message"]["usage"]["cache_read_input_tokens"], 1000);
/// ```
pub fn message_start_with_usage(usage: Value) -> Event {
    let mut message = json!({
        "id": "msg_fake01",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "",
        "stop_reason": null,
        "stop_sequence": null
    });
    message["usage"] = usage;
    event("message_start", json!({ "message": message }))
}

/// `content_block_start` of an (empty) text block.
///
/// # Examples
///
/// ```
/// let start = strands_testkit::anthropic::events::text_start(0);
/// assert_eq!(start.data["content_block"]["type"], "text");
/// ```
pub fn text_start(index: u32) -> Event {
    event(
        "content_block_start",
        json!({"index": index, "content_block": {"type": "text", "text": ""}}),
    )
}

/// `content_block_delta` with a `text_delta`.
///
/// # Examples
///
/// ```
/// let delta = strands_testkit::anthropic::events::text_delta(0, "Hello");
/// assert_eq!(delta.data["delta"]["text"], "Hello");
/// ```
pub fn text_delta(index: u32, text: &str) -> Event {
    event(
        "content_block_delta",
        json!({"index": index, "delta": {"type": "text_delta", "text": text}}),
    )
}

/// `content_block_start` of a tool use (`"input": {}`; the input follows as deltas).
///
/// # Examples
///
/// ```
/// let start = strands_testkit::anthropic::events::tool_use_start(1, "toolu_01", "add");
/// assert_eq!(start.data["content_block"]["name"], "add");
/// ```
pub fn tool_use_start(index: u32, id: &str, name: &str) -> Event {
    event(
        "content_block_start",
        json!({"index": index, "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}),
    )
}

/// `content_block_delta` with an `input_json_delta` (a fragment of the tool input's JSON text).
///
/// # Examples
///
/// ```
/// let delta = strands_testkit::anthropic::events::input_json_delta(1, r#"{"a": "#);
/// assert_eq!(delta.data["delta"]["partial_json"], r#"{"a": "#);
/// ```
pub fn input_json_delta(index: u32, partial_json: &str) -> Event {
    event(
        "content_block_delta",
        json!({"index": index, "delta": {"type": "input_json_delta", "partial_json": partial_json}}),
    )
}

/// `content_block_start` of a thinking block.
///
/// # Examples
///
/// ```
/// let start = strands_testkit::anthropic::events::thinking_start(0);
/// assert_eq!(start.data["content_block"]["type"], "thinking");
/// ```
pub fn thinking_start(index: u32) -> Event {
    event(
        "content_block_start",
        json!({"index": index, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
    )
}

/// `content_block_delta` with a `thinking_delta`.
///
/// # Examples
///
/// ```
/// let delta = strands_testkit::anthropic::events::thinking_delta(0, "Let me think.");
/// assert_eq!(delta.data["delta"]["thinking"], "Let me think.");
/// ```
pub fn thinking_delta(index: u32, thinking: &str) -> Event {
    event(
        "content_block_delta",
        json!({"index": index, "delta": {"type": "thinking_delta", "thinking": thinking}}),
    )
}

/// `content_block_delta` with a `signature_delta` (sent once, just before the thinking block
/// stops).
///
/// # Examples
///
/// ```
/// let delta = strands_testkit::anthropic::events::signature_delta(0, "EqQBCgIYAhIM");
/// assert_eq!(delta.data["delta"]["signature"], "EqQBCgIYAhIM");
/// ```
pub fn signature_delta(index: u32, signature: &str) -> Event {
    event(
        "content_block_delta",
        json!({"index": index, "delta": {"type": "signature_delta", "signature": signature}}),
    )
}

/// `content_block_start` of a `redacted_thinking` block, which carries its (base64) data whole.
///
/// # Examples
///
/// ```
/// let start = strands_testkit::anthropic::events::redacted_thinking_start(0, "AQID");
/// assert_eq!(start.data["content_block"]["data"], "AQID");
/// ```
pub fn redacted_thinking_start(index: u32, data: &str) -> Event {
    event(
        "content_block_start",
        json!({"index": index, "content_block": {"type": "redacted_thinking", "data": data}}),
    )
}

/// `content_block_stop`.
///
/// # Examples
///
/// ```
/// let stop = strands_testkit::anthropic::events::block_stop(0);
/// assert_eq!(stop.data["index"], 0);
/// ```
pub fn block_stop(index: u32) -> Event {
    event("content_block_stop", json!({"index": index}))
}

/// `message_delta` with the stop reason and the cumulative output tokens.
///
/// # Examples
///
/// ```
/// let delta = strands_testkit::anthropic::events::message_delta("end_turn", 4);
/// assert_eq!(delta.data["delta"]["stop_reason"], "end_turn");
/// ```
pub fn message_delta(stop_reason: &str, output_tokens: u64) -> Event {
    event(
        "message_delta",
        json!({
            "delta": {"stop_reason": stop_reason, "stop_sequence": null},
            "usage": {"output_tokens": output_tokens}
        }),
    )
}

/// `message_stop`.
///
/// # Examples
///
/// ```
/// assert_eq!(strands_testkit::anthropic::events::message_stop().name, "message_stop");
/// ```
pub fn message_stop() -> Event {
    event("message_stop", json!({}))
}

/// `ping` (sent to keep the connection alive; clients ignore it).
///
/// # Examples
///
/// ```
/// assert_eq!(strands_testkit::anthropic::events::ping().name, "ping");
/// ```
pub fn ping() -> Event {
    event("ping", json!({}))
}

/// An `error` event, e.g. `error("overloaded_error", "Overloaded")`, as Anthropic sends when a
/// stream fails after it started.
///
/// # Examples
///
/// ```
/// let error = strands_testkit::anthropic::events::error("overloaded_error", "Overloaded");
/// assert_eq!(error.data["error"]["type"], "overloaded_error");
/// ```
pub fn error(error_type: &str, message: &str) -> Event {
    event(
        "error",
        json!({"error": {"type": error_type, "message": message}}),
    )
}

/// A whole text block at `index`: start, one delta per entry of `deltas`, stop.
///
/// # Examples
///
/// ```
/// let block = strands_testkit::anthropic::events::text_block(0, &["Hel", "lo"]);
/// assert_eq!(block.len(), 4);
/// ```
pub fn text_block(index: u32, deltas: &[&str]) -> Vec<Event> {
    let mut events = vec![text_start(index)];
    events.extend(deltas.iter().map(|text| text_delta(index, text)));
    events.push(block_stop(index));
    events
}

/// A whole tool-use block at `index`: start, an empty `input_json_delta` (as Anthropic sends
/// first), `input_json` split into [`INPUT_CHUNK_CHARS`]-character deltas, stop.
///
/// # Examples
///
/// ```
/// use strands_testkit::anthropic::events;
///
/// let block = events::tool_use_block(0, "toolu_01", "add", r#"{"a": 1, "b": 2}"#);
/// let input: String = block
///     .iter()
///     .filter_map(|e| e.data["delta"]["partial_json"].as_str())
///     .collect();
/// assert_eq!(input, r#"{"a": 1, "b": 2}"#);
/// assert!(block.len() > 4);
/// ```
pub fn tool_use_block(index: u32, id: &str, name: &str, input_json: &str) -> Vec<Event> {
    let mut events = vec![tool_use_start(index, id, name), input_json_delta(index, "")];
    let chars: Vec<char> = input_json.chars().collect();
    for piece in chars.chunks(INPUT_CHUNK_CHARS) {
        events.push(input_json_delta(index, &piece.iter().collect::<String>()));
    }
    events.push(block_stop(index));
    events
}

/// A whole thinking block at `index`: start, the thinking as one delta, the signature, stop.
///
/// # Examples
///
/// ```
/// let block = strands_testkit::anthropic::events::thinking_block(0, "Hmm.", "sig");
/// assert_eq!(block.len(), 4);
/// ```
pub fn thinking_block(index: u32, thinking: &str, signature: &str) -> Vec<Event> {
    vec![
        thinking_start(index),
        thinking_delta(index, thinking),
        signature_delta(index, signature),
        block_stop(index),
    ]
}

/// A whole text turn: `message_start` (12 input tokens), a `ping`, the text block, `message_delta`
/// with `stop_reason` and 4 output tokens, `message_stop`.
///
/// # Examples
///
/// ```
/// let turn = strands_testkit::anthropic::events::text_turn(&["Hello", ", world"], "end_turn");
/// assert_eq!(turn.first().unwrap().name, "message_start");
/// assert_eq!(turn.last().unwrap().name, "message_stop");
/// ```
pub fn text_turn(deltas: &[&str], stop_reason: &str) -> Vec<Event> {
    let mut events = vec![message_start(12), ping()];
    events.extend(text_block(0, deltas));
    events.push(message_delta(stop_reason, 4));
    events.push(message_stop());
    events
}

/// A turn holding these `(id, name, input JSON)` tool uses, each streamed in pieces, stop reason
/// `tool_use`.
///
/// # Examples
///
/// ```
/// let turn = strands_testkit::anthropic::events::tool_use_turn(&[
///     ("toolu_01", "add", r#"{"a": 1, "b": 2}"#),
///     ("toolu_02", "add", r#"{"a": 3, "b": 4}"#),
/// ]);
/// assert_eq!(turn[turn.len() - 2].data["delta"]["stop_reason"], "tool_use");
/// ```
pub fn tool_use_turn(uses: &[(&str, &str, &str)]) -> Vec<Event> {
    let mut events = vec![message_start(30)];
    for (index, (id, name, input)) in (0_u32..).zip(uses) {
        events.extend(tool_use_block(index, id, name, input));
    }
    events.push(message_delta("tool_use", 20));
    events.push(message_stop());
    events
}
