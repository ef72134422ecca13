//! Scripted replies of the fake Anthropic API.

use super::events::{self, Event};

/// How [`FakeAnthropic`](super::FakeAnthropic) answers one accepted `POST /v1/messages`. Replies
/// are consumed in the order they were pushed, one per request.
///
/// Python: no equivalent (the Python SDK's tests mock the `anthropic` client).
///
/// # Examples
///
/// ```
/// use strands_testkit::anthropic::{Reply, events};
///
/// let script = [
///     Reply::rate_limited(Some(1)),                    // 429 with retry-after: 1
///     Reply::overloaded_mid_stream("Partial"),          // 200, then an overloaded_error event
///     Reply::text("Hello!"),                            // a whole text turn
///     Reply::tool_uses(&[("toolu_01", "add", r#"{"a": 1, "b": 2}"#)]),
///     Reply::prompt_too_long(),                         // 400 "prompt is too long: ..."
///     Reply::cut_mid_stream("Hel"),                     // the connection drops part-way
///     Reply::Stream(events::text_turn(&["custom"], "max_tokens")),
/// ];
/// # let _ = script;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Reply {
    /// HTTP 200 `text/event-stream`, one chunk per event, then the terminating chunk (a clean
    /// end of the body).
    Stream(Vec<Event>),
    /// Sends these events like [`Reply::Stream`], then closes the connection without the
    /// terminating chunk, as a dropped connection would.
    StreamThenCut(Vec<Event>),
    /// An API error: this status, a `request-id` header, `retry-after` when set, and the body
    /// `{"type": "error", "error": {"type": <error_type>, "message": <message>}, "request_id"}`.
    Error {
        /// The HTTP status, e.g. 429.
        status: u16,
        /// `error.type`, e.g. `rate_limit_error`.
        error_type: String,
        /// `error.message`.
        message: String,
        /// Seconds for the `retry-after` header.
        retry_after: Option<u64>,
    },
    /// Any status with this content type and body (e.g. an HTML page from a proxy).
    Raw {
        /// The HTTP status.
        status: u16,
        /// The `content-type` header.
        content_type: String,
        /// The body.
        body: String,
    },
    /// Reads the request and never answers (for timeout and cancellation tests).
    Hang,
}

impl Reply {
    /// A whole text turn answering `text` in a few deltas, stop reason `end_turn`.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// assert!(matches!(Reply::text("Hi there"), Reply::Stream(_)));
    /// ```
    pub fn text(text: &str) -> Self {
        let pieces = split_words(text);
        let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
        Self::Stream(events::text_turn(&pieces, "end_turn"))
    }

    /// A turn holding these `(id, name, input JSON)` tool uses, inputs streamed in many small
    /// `input_json_delta` pieces, stop reason `tool_use`.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// let reply = Reply::tool_uses(&[
    ///     ("toolu_01", "add", r#"{"a": 1, "b": 2}"#),
    ///     ("toolu_02", "add", r#"{"a": 3, "b": 4}"#),
    /// ]);
    /// assert!(matches!(reply, Reply::Stream(_)));
    /// ```
    pub fn tool_uses(uses: &[(&str, &str, &str)]) -> Self {
        Self::Stream(events::tool_use_turn(uses))
    }

    /// A thinking block (with its signature) followed by the text answer, stop `end_turn`.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// let reply = Reply::thinking("The user greets me.", "EqQBCgIYAhIM", "Hello!");
    /// assert!(matches!(reply, Reply::Stream(_)));
    /// ```
    pub fn thinking(thinking: &str, signature: &str, text: &str) -> Self {
        let mut stream = vec![events::message_start(12)];
        stream.extend(events::thinking_block(0, thinking, signature));
        stream.extend(events::text_block(1, &[text]));
        stream.push(events::message_delta("end_turn", 30));
        stream.push(events::message_stop());
        Self::Stream(stream)
    }

    /// 429 `rate_limit_error`, with `retry-after` when given.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// assert!(matches!(Reply::rate_limited(Some(3)), Reply::Error { status: 429, retry_after: Some(3), .. }));
    /// ```
    pub fn rate_limited(retry_after: Option<u64>) -> Self {
        Self::Error {
            status: 429,
            error_type: "rate_limit_error".to_owned(),
            message: "Number of request tokens has exceeded your per-minute rate limit; please retry after the time given in the retry-after header".to_owned(),
            retry_after,
        }
    }

    /// 529 `overloaded_error` "Overloaded".
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// assert!(matches!(Reply::overloaded(), Reply::Error { status: 529, .. }));
    /// ```
    pub fn overloaded() -> Self {
        Self::error(529, "overloaded_error", "Overloaded")
    }

    /// A stream that starts a text block with `partial`, then fails with an `overloaded_error`
    /// event (HTTP status 200: the failure comes after the response started).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// assert!(matches!(Reply::overloaded_mid_stream("Par"), Reply::Stream(_)));
    /// ```
    pub fn overloaded_mid_stream(partial: &str) -> Self {
        Self::Stream(vec![
            events::message_start(12),
            events::text_start(0),
            events::text_delta(0, partial),
            events::error("overloaded_error", "Overloaded"),
        ])
    }

    /// 400 `invalid_request_error` "prompt is too long: 208310 tokens > 200000 maximum".
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// assert!(matches!(Reply::prompt_too_long(), Reply::Error { status: 400, .. }));
    /// ```
    pub fn prompt_too_long() -> Self {
        Self::invalid_request("prompt is too long: 208310 tokens > 200000 maximum")
    }

    /// 400 `invalid_request_error` with `message`.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// let reply = Reply::invalid_request("messages.0.content: Field required");
    /// assert!(matches!(reply, Reply::Error { status: 400, .. }));
    /// ```
    pub fn invalid_request(message: &str) -> Self {
        Self::error(400, "invalid_request_error", message)
    }

    /// 401 `authentication_error` "invalid x-api-key" (what the fake answers a wrong key with).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// assert!(matches!(Reply::authentication_error(), Reply::Error { status: 401, .. }));
    /// ```
    pub fn authentication_error() -> Self {
        Self::error(401, "authentication_error", "invalid x-api-key")
    }

    /// 403 `permission_error` with `message`.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// let reply = Reply::permission_error("Your API key does not have permission to use the specified resource.");
    /// assert!(matches!(reply, Reply::Error { status: 403, .. }));
    /// ```
    pub fn permission_error(message: &str) -> Self {
        Self::error(403, "permission_error", message)
    }

    /// 500 `api_error` "Internal server error".
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// assert!(matches!(Reply::api_error(), Reply::Error { status: 500, .. }));
    /// ```
    pub fn api_error() -> Self {
        Self::error(500, "api_error", "Internal server error")
    }

    /// A stream that starts a text block with `partial`, then the connection drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// assert!(matches!(Reply::cut_mid_stream("Hel"), Reply::StreamThenCut(_)));
    /// ```
    pub fn cut_mid_stream(partial: &str) -> Self {
        Self::StreamThenCut(vec![
            events::message_start(12),
            events::text_start(0),
            events::text_delta(0, partial),
        ])
    }

    /// An API error with this status, type and message and no `retry-after`.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::Reply;
    ///
    /// let reply = Reply::error(404, "not_found_error", "model: claude-nope");
    /// assert!(matches!(reply, Reply::Error { status: 404, .. }));
    /// ```
    pub fn error(status: u16, error_type: &str, message: &str) -> Self {
        Self::Error {
            status,
            error_type: error_type.to_owned(),
            message: message.to_owned(),
            retry_after: None,
        }
    }
}

/// Splits text after each space, so a turn streams as several deltas that join back exactly.
fn split_words(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if c == ' ' {
            pieces.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() || pieces.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_splits_into_deltas_that_join_back() {
        assert_eq!(split_words("a bc d"), ["a ", "bc ", "d"]);
        assert_eq!(split_words(""), [""]);
        assert_eq!(split_words("x "), ["x "]);
    }
}
