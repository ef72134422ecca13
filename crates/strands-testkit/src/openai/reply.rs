//! What the fake answers to one request.

use serde_json::{Value, json};

use super::chunks;

/// One server-sent event of a streamed reply.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use strands_testkit::openai::SseFrame;
///
/// let frames = vec![
///     SseFrame::Comment("keep-alive".to_owned()),
///     SseFrame::Chunk(json!({"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": null}]})),
///     SseFrame::Chunk(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})),
///     SseFrame::Done,
/// ];
/// # let _ = frames;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SseFrame {
    /// `data: <json>`. A chunk object with `choices` gets the envelope fields it lacks (`id`,
    /// `object`, `created`, `model`, `system_fingerprint`); an `{"error": ...}` object is sent
    /// as is.
    Chunk(Value),
    /// `data: [DONE]`, the end of an OpenAI stream.
    Done,
    /// `: <text>`, a comment (keep-alive) that clients must ignore.
    Comment(String),
    /// `data: <text>` exactly as given (e.g. malformed JSON).
    Data(String),
}

impl SseFrame {
    /// The event as written on the wire, blank line included.
    pub(crate) fn to_sse(&self) -> String {
        match self {
            Self::Chunk(value) => format!("data: {value}\n\n"),
            Self::Done => "data: [DONE]\n\n".to_owned(),
            Self::Comment(text) => format!(": {text}\n\n"),
            Self::Data(text) => format!("data: {text}\n\n"),
        }
    }
}

/// The fake's answer to one request.
///
/// # Examples
///
/// ```
/// use strands_testkit::openai::{Reply, chunks};
///
/// let replies = [
///     Reply::rate_limited(Some(2)),
///     Reply::Stream(chunks::text_turn(&["Hel", "lo"])),
///     Reply::StreamThenCut(vec![chunks::role(), chunks::text("partial")].into_iter().map(Into::into).collect()),
/// ];
/// # let _ = replies;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Reply {
    /// `200 text/event-stream` with these events, one HTTP chunk each; the body ends cleanly.
    /// A `"stream": false` request gets them folded into one `chat.completion` body.
    Stream(Vec<SseFrame>),
    /// The same events, then the connection is closed without ending the chunked body (a
    /// connection cut mid-stream).
    StreamThenCut(Vec<SseFrame>),
    /// An HTTP error with a JSON body (normally `{"error": {...}}`) and extra headers.
    Error {
        /// The HTTP status, e.g. 429.
        status: u16,
        /// Extra response headers, e.g. `("retry-after", "2")`.
        headers: Vec<(String, String)>,
        /// The JSON body.
        body: Value,
    },
    /// Any response with a fixed-length body, e.g. a proxy's HTML error page.
    Raw {
        /// The HTTP status.
        status: u16,
        /// The `content-type` header.
        content_type: String,
        /// The body.
        body: String,
    },
}

impl From<Value> for SseFrame {
    fn from(chunk: Value) -> Self {
        Self::Chunk(chunk)
    }
}

impl Reply {
    /// A streamed text answer in OpenAI's style ([`chunks::text_turn`] with one delta).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::Reply;
    ///
    /// assert!(matches!(Reply::text("Hello!"), Reply::Stream(_)));
    /// ```
    pub fn text(text: &str) -> Self {
        Self::Stream(chunks::text_turn(&[text]))
    }

    /// Tool calls streamed in OpenAI's style, their arguments split into many small chunks and,
    /// when there are several, the chunks of different calls interleaved
    /// ([`chunks::tool_call_turn`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::Reply;
    ///
    /// let reply = Reply::tool_calls(&[("call_1", "get_weather", r#"{"city": "Paris"}"#)]);
    /// # let _ = reply;
    /// ```
    pub fn tool_calls(calls: &[(&str, &str, &str)]) -> Self {
        Self::Stream(chunks::tool_call_turn(None, calls))
    }

    /// HTTP 429 with OpenAI's `rate_limit_exceeded` body and, if given, `retry-after` (seconds)
    /// and `retry-after-ms`.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::Reply;
    ///
    /// assert!(matches!(Reply::rate_limited(Some(1)), Reply::Error { status: 429, .. }));
    /// ```
    pub fn rate_limited(retry_after_seconds: Option<u64>) -> Self {
        let mut reply = Self::error(
            429,
            "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.",
            "requests",
            Some("rate_limit_exceeded"),
        );
        if let (Some(seconds), Self::Error { headers, .. }) = (retry_after_seconds, &mut reply) {
            headers.push(("retry-after".to_owned(), seconds.to_string()));
            headers.push((
                "retry-after-ms".to_owned(),
                seconds.saturating_mul(1000).to_string(),
            ));
        }
        reply
    }

    /// HTTP 400 `context_length_exceeded`, OpenAI's answer to a prompt over the context window.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::Reply;
    ///
    /// assert!(matches!(Reply::context_length_exceeded(), Reply::Error { status: 400, .. }));
    /// ```
    pub fn context_length_exceeded() -> Self {
        Self::error(
            400,
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            Some("context_length_exceeded"),
        )
    }

    /// HTTP 401 `invalid_api_key` (what a wrong key gets anyway; script it for other cases).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::Reply;
    ///
    /// assert!(matches!(Reply::invalid_api_key(), Reply::Error { status: 401, .. }));
    /// ```
    pub fn invalid_api_key() -> Self {
        Self::error(
            401,
            "Incorrect API key provided: sk-fake***0000. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            Some("invalid_api_key"),
        )
    }

    /// HTTP 503 as the llama.cpp server answers while it loads the model.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::Reply;
    ///
    /// assert!(matches!(Reply::service_unavailable(), Reply::Error { status: 503, .. }));
    /// ```
    pub fn service_unavailable() -> Self {
        Self::Error {
            status: 503,
            headers: Vec::new(),
            body: json!({"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}),
        }
    }

    /// An OpenAI error: `{"error": {"message", "type", "param": null, "code"}}` with `status`.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::Reply;
    ///
    /// let not_found = Reply::error(404, "The model `gpt-9` does not exist or you do not have access to it.", "invalid_request_error", Some("model_not_found"));
    /// # let _ = not_found;
    /// ```
    pub fn error(status: u16, message: &str, error_type: &str, code: Option<&str>) -> Self {
        Self::Error {
            status,
            headers: Vec::new(),
            body: json!({"error": {"message": message, "type": error_type, "param": null, "code": code}}),
        }
    }

    /// Streams `partial` text, then an `{"error": ...}` object (OpenAI's `server_error`), then
    /// ends the stream without a finish reason or `[DONE]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::Reply;
    ///
    /// assert!(matches!(Reply::error_mid_stream("Hel"), Reply::Stream(_)));
    /// ```
    pub fn error_mid_stream(partial: &str) -> Self {
        Self::Stream(vec![
            chunks::role().into(),
            chunks::text(partial).into(),
            chunks::error(
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
            )
            .into(),
        ])
    }

    /// Streams `partial` text, then cuts the connection (no finish reason, no `[DONE]`, an
    /// unterminated chunked body).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::Reply;
    ///
    /// assert!(matches!(Reply::cut_mid_stream("Hel"), Reply::StreamThenCut(_)));
    /// ```
    pub fn cut_mid_stream(partial: &str) -> Self {
        Self::StreamThenCut(vec![chunks::role().into(), chunks::text(partial).into()])
    }
}
