//! Bytes on the wire, as the Python app writes them.
//!
//! Results and SSE frames use Python's `json.dumps(ensure_ascii=False)` (`", "` and `": "`);
//! error bodies use Starlette's `JSONResponse` (compact). Responding is decided in one place:
//! [`error_response`] for every error body.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use serde_json::Value;
use strands_core::json::{PythonFormatter, to_python_string};

use python_json::Verdict;

mod python_json;

pub(crate) const JSON: &str = "application/json";
pub(crate) const EVENT_STREAM: &str = "text/event-stream; charset=utf-8";
const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// A JSON response with the given body and status.
pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}

/// An entrypoint result: Python's `json.dumps(result, ensure_ascii=False)`.
pub(crate) fn result_body(value: &Value) -> String {
    to_python_string(value).unwrap_or_else(|_| String::from("null"))
}

/// `{"error": ..., ...}` with compact separators, as Starlette's `JSONResponse` writes it.
pub(crate) fn error_response(status: StatusCode, body: &impl Serialize) -> Response {
    let body =
        serde_json::to_string(body).unwrap_or_else(|_| String::from(r#"{"error":"unknown"}"#));
    json_response(status, body)
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

#[derive(Serialize)]
struct ErrorDetails<'a> {
    error: &'a str,
    details: &'a str,
}

/// `{"error": "<error>", "details": "<details>"}`.
pub(crate) fn error_with_details(status: StatusCode, error: &str, details: &str) -> Response {
    error_response(status, &ErrorDetails { error, details })
}

/// `{"error": "<error>"}`.
pub(crate) fn error(status: StatusCode, error: &str) -> Response {
    error_response(status, &ErrorBody { error })
}

/// One SSE frame: `data: <python json>\n\n`, serialized straight into the frame.
pub(crate) fn sse_frame<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, serde_json::Error> {
    let mut frame = Vec::with_capacity(128);
    frame.extend_from_slice(b"data: ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut frame, PythonFormatter);
    value.serialize(&mut serializer)?;
    frame.extend_from_slice(b"\n\n");
    Ok(Bytes::from(frame))
}

#[derive(Serialize)]
struct StreamError<'a> {
    error: &'a str,
    error_type: &'a str,
    message: &'a str,
}

/// The frame Python sends when a stream fails: `{"error", "error_type", "message"}`.
pub(crate) fn sse_error_frame(error: &str, error_type: &str) -> Bytes {
    let body = StreamError {
        error,
        error_type,
        message: "An error occurred during streaming",
    };
    // Three strings always serialize.
    sse_frame(&body).unwrap_or_default()
}

#[derive(Serialize)]
struct SerializationFailed<'a> {
    error: &'a str,
    original_type: &'a str,
}

/// Python's last resort for a streamed item `json.dumps` cannot write.
pub(crate) fn sse_serialization_failed(original_type: &str) -> Bytes {
    let body = SerializationFailed {
        error: "Serialization failed",
        original_type,
    };
    // Two strings always serialize.
    sse_frame(&body).unwrap_or_default()
}

/// Starlette's plain-text answers (`Not Found`, `Method Not Allowed`).
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, TEXT_PLAIN)], text).into_response()
}

/// Python's `UnicodeDecodeError` text for invalid UTF-8, e.g.
/// `'utf-8' codec can't decode byte 0x80 in position 0: invalid start byte`.
pub(crate) fn utf8_error_details(bytes: &[u8], error: &std::str::Utf8Error) -> String {
    let position = error.valid_up_to();
    let byte = bytes.get(position).copied().unwrap_or(0);
    let reason = match error.error_len() {
        None => "unexpected end of data",
        Some(_) if matches!(byte, 0x80..=0xBF | 0xC0 | 0xC1 | 0xF5..=0xFF) => "invalid start byte",
        Some(_) => "invalid continuation byte",
    };
    format!("'utf-8' codec can't decode byte 0x{byte:02x} in position {position}: {reason}")
}

/// The answer to a UTF-8 body serde_json rejected, as the Python app gives it: 400
/// `{"error": "Invalid JSON", "details": "<str(JSONDecodeError)>"}`, e.g. `Expecting ',' delimiter:
/// line 1 column 13 (char 12)`; see [`python_json`].
///
/// Where Python's decoder raises something else (nesting past its recursion limit, an integer of
/// over 4300 digits) the Python app answers a bare 500; this runtime answers 400 with
/// serde_json's message, as it does for the few bodies Python accepts and serde_json refuses
/// (`NaN`, `Infinity`, `1e400`, lone surrogate escapes, nesting past 128 levels). Both are listed
/// in docs/python-parity.md.
pub(crate) fn invalid_json(text: &str, error: &serde_json::Error) -> Response {
    let details = match python_json::decode(text) {
        Verdict::Rejects(details) => details,
        Verdict::Raises | Verdict::Accepts => error.to_string(),
    };
    error_with_details(StatusCode::BAD_REQUEST, "Invalid JSON", &details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_undecodable_body_is_a_client_error() {
        let status = |text: &str| {
            let error = serde_json::from_str::<Value>(text).unwrap_err();
            invalid_json(text, &error).status()
        };
        assert_eq!(status("{\"prompt\": 1"), StatusCode::BAD_REQUEST);
        // Python answers these with a bare 500 (RecursionError): a client error here.
        assert_eq!(status(&"[".repeat(100_000)), StatusCode::BAD_REQUEST);
        assert_eq!(status("NaN"), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn utf8_errors_are_worded_like_python() {
        let bytes = std::hint::black_box(vec![0x80, 0x81]);
        let error = std::str::from_utf8(&bytes).unwrap_err();
        assert_eq!(
            utf8_error_details(&bytes, &error),
            "'utf-8' codec can't decode byte 0x80 in position 0: invalid start byte"
        );
    }

    #[test]
    fn sse_frames_use_python_json() {
        assert_eq!(
            sse_frame(&serde_json::json!({"k": "ü"})).unwrap(),
            Bytes::from("data: {\"k\": \"ü\"}\n\n")
        );
        assert_eq!(
            sse_frame(&Value::String("a\nb".into())).unwrap(),
            Bytes::from("data: \"a\\nb\"\n\n")
        );
        let frame = sse_error_frame("mid-stream fail", "RuntimeError");
        assert_eq!(
            frame,
            Bytes::from(
                "data: {\"error\": \"mid-stream fail\", \"error_type\": \"RuntimeError\", \"message\": \"An error occurred during streaming\"}\n\n"
            )
        );
    }
}
