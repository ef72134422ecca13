//! What an entrypoint returns, and how it fails.

use std::fmt;

use axum::response::Response;
use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use strands_core::BoxStream;

use crate::wire;

/// An entrypoint's answer: a JSON value, a stream of values sent as server-sent events, or a
/// ready-made HTTP response passed through unchanged.
///
/// Python decides the same way from the handler's return value: a generator streams, a
/// `Response` passes through, anything else is JSON.
#[non_exhaustive]
pub enum Reply {
    /// Sent as `application/json`, serialized like Python's `json.dumps(ensure_ascii=False)`.
    Json(Value),
    /// Sent as `text/event-stream`, one `data: <json>\n\n` frame per item. An `Err` item becomes
    /// Python's error frame and ends the stream. Built with [`Reply::stream`].
    Stream(SseStream),
    /// Passed through unchanged (custom status, headers or media type).
    Response(Response),
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(value) => f.debug_tuple("Json").field(value).finish(),
            Self::Stream(_) => f.write_str("Stream(..)"),
            Self::Response(response) => {
                f.debug_tuple("Response").field(&response.status()).finish()
            }
        }
    }
}

impl Reply {
    /// A JSON reply from any serializable value.
    ///
    /// # Errors
    ///
    /// When `value` cannot be represented as JSON (e.g. a map with non-string keys).
    pub fn json(value: impl Serialize) -> Result<Self, HandlerError> {
        serde_json::to_value(value)
            .map(Self::Json)
            .map_err(|e| HandlerError::new(format!("the entrypoint's result is not JSON: {e}")))
    }

    /// A streamed reply: each item is sent as one server-sent event, `data: <json>\n\n`, written
    /// like Python's `json.dumps(item, ensure_ascii=False)`. Items can be any `Serialize` type
    /// (a `serde_json::Value`, an agent event, your own struct); each is serialized once, straight
    /// into its frame. An item that cannot be serialized is sent as Python's fallback,
    /// `{"error": "Serialization failed", "original_type": "<type>"}`, and the stream goes on.
    ///
    /// ```
    /// use serde_json::json;
    /// use strands_runtime::{HandlerError, Reply};
    ///
    /// let events = futures_util::stream::iter([
    ///     Ok::<_, HandlerError>(json!({"delta": "Hel"})),
    ///     Ok(json!({"delta": "lo"})),
    /// ]);
    /// let reply = Reply::stream(events);
    /// # drop(reply);
    /// ```
    ///
    /// Python: an entrypoint that is a generator (`yield event`).
    pub fn stream<S, T>(stream: S) -> Self
    where
        S: Stream<Item = Result<T, HandlerError>> + Send + 'static,
        T: Serialize,
    {
        Self::Stream(SseStream(Box::pin(stream.map(|item| {
            item.map(|value| {
                wire::sse_frame(&value).unwrap_or_else(|error| {
                    let full = std::any::type_name::<T>();
                    let name = full.rsplit("::").next().unwrap_or(full);
                    tracing::warn!(target: "bedrock_agentcore.app", "A streamed {name} could not be serialized: {error}");
                    wire::sse_serialization_failed(name)
                })
            })
        }))))
    }
}

impl From<Value> for Reply {
    fn from(value: Value) -> Self {
        Self::Json(value)
    }
}

impl From<Response> for Reply {
    fn from(response: Response) -> Self {
        Self::Response(response)
    }
}

impl From<String> for Reply {
    fn from(text: String) -> Self {
        Self::Json(Value::String(text))
    }
}

impl From<&str> for Reply {
    fn from(text: &str) -> Self {
        Self::Json(Value::String(text.to_owned()))
    }
}

/// The frames of a streamed [`Reply`], serialized as the stream is polled.
pub struct SseStream(pub(crate) BoxStream<'static, Result<Bytes, HandlerError>>);

impl fmt::Debug for SseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SseStream(..)")
    }
}

/// A failed invocation: answered `{"error": "<message>"}` with the status (500 unless set), or,
/// mid-stream, with Python's error frame naming `error_type`.
///
/// Any `std::error::Error` converts into it, so entrypoints can use `?`; the error type's name
/// becomes `error_type` as Python's exception class name does.
///
/// Python: an exception raised by the entrypoint, or `HTTPException(status, detail)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    status: StatusCode,
    message: String,
    error_type: String,
}

impl HandlerError {
    /// A 500 error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
            error_type: "Exception".to_owned(),
        }
    }

    /// An error answered with `status`, like Python's `HTTPException(status, detail)`.
    pub fn http(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            message: detail.into(),
            error_type: "HTTPException".to_owned(),
        }
    }

    /// Sets the type name reported in a mid-stream error frame.
    #[must_use]
    pub fn with_error_type(mut self, error_type: impl Into<String>) -> Self {
        self.error_type = error_type.into();
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error type name.
    pub fn error_type(&self) -> &str {
        &self.error_type
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for HandlerError {
    fn from(error: E) -> Self {
        let full = std::any::type_name::<E>();
        let name = full.rsplit("::").next().unwrap_or(full);
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: strands_core::error_chain(&error),
            error_type: name.to_owned(),
        }
    }
}

/// The message of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the handler panicked".to_owned())
}
