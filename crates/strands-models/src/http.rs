//! What the HTTP providers (Anthropic, OpenAI-compatible) share, written once: the
//! `Retry-After` reading, the bounded body reader, the quoting of a non-JSON error body, and the
//! JSON-kind names build errors use.

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde_json::Value;

/// The most of an error body that is read; the rest is discarded.
pub(crate) const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// The most of a non-JSON error body quoted in a message.
pub(crate) const MAX_QUOTED_CHARS: usize = 500;

/// `retry-after-ms` (milliseconds, as the Anthropic and `openai` clients read it) or
/// `retry-after` (seconds); HTTP dates, negative and non-finite values are ignored.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    if let Some(ms) = number("retry-after-ms") {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    number("retry-after").map(Duration::from_secs_f64)
}

/// What [`read_bounded`] read: at most its limit of bytes, and how the body ended.
#[derive(Debug)]
pub(crate) struct BoundedBody {
    /// The bytes read, at most the limit.
    pub(crate) bytes: Vec<u8>,
    /// How reading stopped.
    pub(crate) end: BodyEnd,
}

/// How a bounded read stopped.
#[derive(Debug)]
pub(crate) enum BodyEnd {
    /// The whole body was read.
    Complete,
    /// The body is longer than the limit; the bytes are its start and the rest was not read.
    Truncated,
    /// The body broke part-way; the bytes are what arrived before.
    Broken(reqwest::Error),
}

/// Reads a response body as it arrives, keeping at most `limit` bytes: an oversized body is
/// cut instead of buffered, and a body that breaks keeps what arrived.
pub(crate) async fn read_bounded(response: &mut reqwest::Response, limit: usize) -> BoundedBody {
    let mut bytes = Vec::new();
    let end = loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break BodyEnd::Complete,
            Err(error) => break BodyEnd::Broken(error),
        };
        let room = limit.saturating_sub(bytes.len());
        if chunk.len() > room {
            bytes.extend_from_slice(chunk.get(..room).unwrap_or_default());
            break BodyEnd::Truncated;
        }
        bytes.extend_from_slice(&chunk);
    };
    BoundedBody { bytes, end }
}

/// The start of an error response's body (at most [`MAX_ERROR_BODY_BYTES`]), for its message;
/// reading it is best effort, so a broken body gives what arrived.
pub(crate) async fn error_body(response: &mut reqwest::Response) -> Vec<u8> {
    let body = read_bounded(response, MAX_ERROR_BODY_BYTES).await;
    match &body.end {
        BodyEnd::Complete => {}
        BodyEnd::Truncated => {
            tracing::debug!(
                limit = MAX_ERROR_BODY_BYTES,
                "the error body is longer than the limit; using its start"
            );
        }
        BodyEnd::Broken(error) => {
            tracing::debug!(%error, "the error body broke before it ended; using what arrived");
        }
    }
    body.bytes
}

/// A non-JSON error body as quoted in a message: trimmed, at most [`MAX_QUOTED_CHARS`]
/// characters (`...` marks a cut), `(empty body)` when there is nothing.
pub(crate) fn quote_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut quoted: String = text.chars().take(MAX_QUOTED_CHARS).collect();
    if quoted.len() < text.len() {
        quoted.push_str("...");
    }
    if quoted.is_empty() {
        quoted = "(empty body)".to_owned();
    }
    quoted
}

/// The JSON kind of `value` as a build error names it, e.g. `an array`.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Milliseconds since `started`, for the metadata event's latency.
pub(crate) fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use reqwest::header::HeaderValue;
    use serde_json::json;
    use strands_testkit::openai::{FakeOpenAi, Reply, SseFrame};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn retry_after_reads_seconds_and_prefers_milliseconds() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", " 1.5 ")])),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7"), ("retry-after-ms", "450")])),
            Some(Duration::from_millis(450))
        );
    }

    #[test]
    fn retry_after_ignores_dates_negative_and_missing_values() {
        assert_eq!(retry_after(&HeaderMap::new()), None);
        assert_eq!(
            retry_after(&headers(&[(
                "retry-after",
                "Wed, 21 Oct 2015 07:28:00 GMT"
            )])),
            None
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "NaN")])), None);
        // An unusable millisecond value falls back to the seconds header.
        assert_eq!(
            retry_after(&headers(&[
                ("retry-after-ms", "soon"),
                ("retry-after", "2")
            ])),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn non_json_bodies_are_quoted_bounded() {
        let long = "x".repeat(2000);
        assert_eq!(quote_body(long.as_bytes()).len(), MAX_QUOTED_CHARS + 3);
        assert!(quote_body(long.as_bytes()).ends_with("..."));
        assert_eq!(
            quote_body(b"  <html>Bad gateway</html>\n"),
            "<html>Bad gateway</html>"
        );
        assert_eq!(quote_body(b""), "(empty body)");
        assert_eq!(quote_body(b" \n "), "(empty body)");
    }

    #[test]
    fn json_kinds_read_as_english() {
        assert_eq!(json_kind(&json!([1])), "an array");
        assert_eq!(json_kind(&json!("x")), "a string");
        assert_eq!(json_kind(&Value::Null), "null");
    }

    /// A response from the fake server answering `reply`.
    async fn answer(reply: Reply) -> (FakeOpenAi, reqwest::Response) {
        let fake = FakeOpenAi::start().await.unwrap();
        fake.push(reply);
        let response = reqwest::Client::new()
            .post(format!("{}/chat/completions", fake.base_url()))
            .json(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true}))
            .send()
            .await
            .unwrap();
        (fake, response)
    }

    fn raw(body: &str) -> Reply {
        Reply::Raw {
            status: 502,
            content_type: "text/plain".to_owned(),
            body: body.to_owned(),
        }
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole() {
        let (_fake, mut response) = answer(raw("0123456789")).await;
        let body = read_bounded(&mut response, 10).await;
        assert_eq!(body.bytes, b"0123456789");
        assert!(matches!(body.end, BodyEnd::Complete), "{:?}", body.end);
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_cut_at_the_limit() {
        let (_fake, mut response) = answer(raw("0123456789")).await;
        let body = read_bounded(&mut response, 4).await;
        assert_eq!(body.bytes, b"0123");
        assert!(matches!(body.end, BodyEnd::Truncated), "{:?}", body.end);

        let long = "e".repeat(MAX_ERROR_BODY_BYTES + 100);
        let (_fake, mut response) = answer(raw(&long)).await;
        assert_eq!(error_body(&mut response).await.len(), MAX_ERROR_BODY_BYTES);
    }

    #[tokio::test]
    async fn a_body_that_breaks_keeps_what_arrived() {
        let chunk = json!({"id": "c", "object": "chat.completion.chunk", "choices": []});
        let (_fake, mut response) =
            answer(Reply::StreamThenCut(vec![SseFrame::Chunk(chunk)])).await;
        let body = read_bounded(&mut response, MAX_ERROR_BODY_BYTES).await;
        assert!(
            String::from_utf8_lossy(&body.bytes).contains("chat.completion.chunk"),
            "{body:?}"
        );
        assert!(matches!(body.end, BodyEnd::Broken(_)), "{:?}", body.end);
    }
}
