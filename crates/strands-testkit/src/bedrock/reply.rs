//! Scripted replies and event-stream frames, and their encoding on the wire.

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use serde_json::Value;

/// How [`FakeBedrock`](super::FakeBedrock) answers one authenticated Converse or ConverseStream
/// request. Replies are consumed in the order they were [pushed](super::FakeBedrock::push), one
/// per request, including each SDK retry.
///
/// Python: no equivalent.
///
/// # Examples
///
/// ```
/// use strands_testkit::bedrock::{Reply, frames};
///
/// let script = [
///     Reply::throttling(),                                   // the SDK retries this one
///     Reply::Stream(frames::text_turn(&["Hel", "lo"], "end_turn")),
///     Reply::Converse(serde_json::json!({
///         "output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}},
///         "stopReason": "end_turn",
///         "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
///         "metrics": {"latencyMs": 100}
///     })),
/// ];
/// # let _ = script;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Reply {
    /// HTTP 200 `application/vnd.amazon.eventstream`, one chunk per frame, then the terminating
    /// chunk (a clean end of stream). For ConverseStream.
    Stream(Vec<Frame>),
    /// Sends these frames like [`Reply::Stream`], then closes the TCP connection without the
    /// terminating chunk, as a dropped connection would.
    StreamThenDrop(Vec<Frame>),
    /// HTTP 200 `application/json` with this body (a Converse response). For Converse.
    Converse(Value),
    /// A restJson1 error: this status, an `x-amzn-errortype:
    /// <error_type>:http://internal.amazon.com/coral/com.amazon.bedrock/` header, an
    /// `x-amzn-requestid` header and the body `{"message": <message>}`.
    Error {
        /// The HTTP status code, e.g. 429.
        status: u16,
        /// The error shape name, e.g. `ThrottlingException`.
        error_type: String,
        /// The human-readable message.
        message: String,
    },
    /// Reads the request and never answers (for client timeout and cancellation tests).
    Hang,
    /// Sends these frames like [`Reply::Stream`], then sends nothing more and keeps the
    /// connection open, as a model that stalls mid-answer would (for idle-timeout and
    /// cancellation tests).
    StreamThenHang(Vec<Frame>),
    /// HTTP 200 `application/vnd.amazon.eventstream` whose body chunks are these bytes, sent
    /// verbatim (one HTTP chunk per non-empty item), then the terminating chunk: for garbage,
    /// corrupted or cut event-stream messages. [`Frame::to_bytes`] gives the bytes of a valid
    /// frame, to start such a stream well.
    ///
    /// ```
    /// use strands_testkit::bedrock::{Reply, frames};
    ///
    /// let garbage = Reply::RawStream(vec![
    ///     frames::message_start().to_bytes(),
    ///     b"\x00\x00\x00\x10not an event-stream message".to_vec(),
    /// ]);
    /// # let _ = garbage;
    /// ```
    RawStream(Vec<Vec<u8>>),
}

impl Reply {
    /// 429 `ThrottlingException` "Too many requests, please wait before trying again." (the SDK
    /// retries it).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::bedrock::Reply;
    ///
    /// assert!(matches!(Reply::throttling(), Reply::Error { status: 429, .. }));
    /// ```
    pub fn throttling() -> Self {
        Self::error(
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        )
    }

    /// 400 `ValidationException` with `message` (not retried).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::bedrock::Reply;
    ///
    /// let reply = Reply::validation("The provided model identifier is invalid.");
    /// assert!(matches!(reply, Reply::Error { status: 400, .. }));
    /// ```
    pub fn validation(message: &str) -> Self {
        Self::error(400, "ValidationException", message)
    }

    /// 403 `AccessDeniedException` with `message` (not retried).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::bedrock::Reply;
    ///
    /// let reply = Reply::access_denied("You don't have access to the model with the specified model ID.");
    /// assert!(matches!(reply, Reply::Error { status: 403, .. }));
    /// ```
    pub fn access_denied(message: &str) -> Self {
        Self::error(403, "AccessDeniedException", message)
    }

    /// 503 `ServiceUnavailableException` "Bedrock is unable to process your request." (the SDK
    /// retries it).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::bedrock::Reply;
    ///
    /// assert!(matches!(Reply::service_unavailable(), Reply::Error { status: 503, .. }));
    /// ```
    pub fn service_unavailable() -> Self {
        Self::error(
            503,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.",
        )
    }

    /// 408 `ModelTimeoutException` "Model has timed out in processing the request. Try your
    /// request again." (not retried by the SDK).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::bedrock::Reply;
    ///
    /// assert!(matches!(Reply::model_timeout(), Reply::Error { status: 408, .. }));
    /// ```
    pub fn model_timeout() -> Self {
        Self::error(
            408,
            "ModelTimeoutException",
            "Model has timed out in processing the request. Try your request again.",
        )
    }

    fn error(status: u16, error_type: &str, message: &str) -> Self {
        Self::Error {
            status,
            error_type: error_type.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// One `application/vnd.amazon.eventstream` message of a ConverseStream response. See
/// [`frames`](super::frames) for helpers that build realistic sequences.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use strands_testkit::bedrock::Frame;
///
/// let delta = Frame::event(
///     "contentBlockDelta",
///     json!({"contentBlockIndex": 0, "delta": {"text": "Hello"}}),
/// );
/// let error = Frame::exception(
///     "modelStreamErrorException",
///     json!({"message": "Model stream error", "originalStatusCode": 500, "originalMessage": "upstream"}),
/// );
/// # let _ = (delta, error);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Frame {
    /// `:message-type: event` with `:event-type: <event_type>` (a member of
    /// `ConverseStreamOutput`, e.g. `messageStart`). The payload is the event's members, not
    /// wrapped in its name. On the wire the fake adds a `"p"` padding key to object payloads, as
    /// real Bedrock does; clients must ignore it.
    Event {
        /// The event member name, e.g. `contentBlockDelta`.
        event_type: String,
        /// The event's JSON members.
        payload: Value,
    },
    /// `:message-type: exception` with `:exception-type: <exception_type>` (e.g.
    /// `throttlingException`, `modelStreamErrorException`) and a `{"message": ...}` payload.
    Exception {
        /// The exception member name, e.g. `throttlingException`.
        exception_type: String,
        /// The exception's JSON members.
        payload: Value,
    },
}

impl Frame {
    /// An event frame.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::bedrock::Frame;
    ///
    /// let start = Frame::event("messageStart", serde_json::json!({"role": "assistant"}));
    /// # let _ = start;
    /// ```
    pub fn event(event_type: &str, payload: Value) -> Self {
        Self::Event {
            event_type: event_type.to_owned(),
            payload,
        }
    }

    /// A modelled exception frame, which the SDK surfaces as a typed stream error.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::bedrock::Frame;
    ///
    /// let throttled = Frame::exception(
    ///     "throttlingException",
    ///     serde_json::json!({"message": "Too many requests, please wait before trying again."}),
    /// );
    /// # let _ = throttled;
    /// ```
    pub fn exception(exception_type: &str, payload: Value) -> Self {
        Self::Exception {
            exception_type: exception_type.to_owned(),
            payload,
        }
    }

    /// This frame as the fake sends it: one encoded event-stream message (event payloads get
    /// their `"p"` padding), for [`Reply::RawStream`] bodies.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::bedrock::frames;
    ///
    /// let bytes = frames::message_start().to_bytes();
    /// // The prelude starts with the message's total length.
    /// assert_eq!(bytes.len() as u32, u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]));
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }
}

/// The characters real Bedrock pads event payloads with.
const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// `payload` with a `"p"` key of deterministic, payload-dependent length added (object payloads
/// that have no `"p"` key yet only).
fn padded(payload: &Value) -> Value {
    let mut payload = payload.clone();
    if let Value::Object(members) = &mut payload
        && !members.contains_key("p")
    {
        let len = members.len() * 7 % PADDING.len() + 1;
        let padding = PADDING.get(..len).unwrap_or(PADDING);
        members.insert("p".to_owned(), Value::String(padding.to_owned()));
    }
    payload
}

/// Encodes `frame` as one event-stream message. A frame that cannot be encoded (a type name over
/// the format's 64 KiB header-value limit, a payload over 4 GiB) becomes an unmodelled `:message-type: error` message that names the
/// problem, so the test fails loudly instead of the server stopping.
pub(super) fn encode(frame: &Frame) -> Vec<u8> {
    let (kind, type_header, name, payload) = match frame {
        Frame::Event {
            event_type,
            payload,
        } => ("event", ":event-type", event_type, padded(payload)),
        Frame::Exception {
            exception_type,
            payload,
        } => (
            "exception",
            ":exception-type",
            exception_type,
            payload.clone(),
        ),
    };
    let message = Message::new(payload.to_string().into_bytes())
        .add_header(string_header(type_header, name))
        .add_header(string_header(":content-type", "application/json"))
        .add_header(string_header(":message-type", kind));
    let mut out = Vec::new();
    if write_message_to(&message, &mut out).is_ok() {
        return out;
    }
    let error = Message::new(Vec::new())
        .add_header(string_header(":message-type", "error"))
        .add_header(string_header(":error-code", "FakeBedrockEncodingError"))
        .add_header(string_header(
            ":error-message",
            "fake bedrock: could not encode a scripted frame; keep event and exception type names under 64 KiB",
        ));
    let mut out = Vec::new();
    // This message is small and fixed; should it ever fail, the stream simply ends short.
    let _ = write_message_to(&error, &mut out);
    out
}

fn string_header(name: &str, value: &str) -> Header {
    Header::new(
        name.to_owned(),
        HeaderValue::String(value.to_owned().into()),
    )
}

#[cfg(test)]
mod tests {
    use aws_smithy_eventstream::frame::read_message_from;
    use serde_json::json;

    use super::*;

    fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
        message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| h.value().as_string().ok())
            .map(|s| s.as_str())
    }

    #[test]
    fn event_frame_has_bedrock_headers_and_padding() {
        let bytes = encode(&Frame::event("messageStart", json!({"role": "assistant"})));
        let message = read_message_from(bytes.as_slice()).unwrap();
        assert_eq!(header(&message, ":message-type"), Some("event"));
        assert_eq!(header(&message, ":event-type"), Some("messageStart"));
        assert_eq!(header(&message, ":content-type"), Some("application/json"));
        let payload: Value = serde_json::from_slice(message.payload()).unwrap();
        assert_eq!(payload["role"], "assistant");
        assert!(payload["p"].as_str().is_some_and(|p| !p.is_empty()));
    }

    #[test]
    fn exception_frame_payload_is_sent_unchanged() {
        let bytes = encode(&Frame::exception(
            "throttlingException",
            json!({"message": "slow"}),
        ));
        let message = read_message_from(bytes.as_slice()).unwrap();
        assert_eq!(header(&message, ":message-type"), Some("exception"));
        assert_eq!(
            header(&message, ":exception-type"),
            Some("throttlingException")
        );
        assert_eq!(message.payload().as_ref(), br#"{"message":"slow"}"#);
    }

    #[test]
    fn unencodable_frame_becomes_an_error_message() {
        let bytes = encode(&Frame::event(&"x".repeat(70_000), json!({})));
        let message = read_message_from(bytes.as_slice()).unwrap();
        assert_eq!(header(&message, ":message-type"), Some("error"));
    }
}
