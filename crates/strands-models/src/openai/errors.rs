//! The OpenAI-compatible provider's errors: why a model could not be built
//! ([`OpenAiBuildError`]), and failures of an OpenAI-compatible server → [`ModelError`], so the
//! agent retries what can be retried and the message says what to fix otherwise.
//!
//! Python: `strands.models._openai_errors.classify_openai_error` (throttling and context
//! overflow); the status mapping stands in for the `openai` client's typed exceptions.

use reqwest::header::HeaderMap;
use serde_json::Value;
use strands_core::{BoxError, ModelError};

use crate::http;

/// Why an [`OpenAiModel`](super::OpenAiModel) could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenAiBuildError {
    /// No model id was set.
    #[error(
        "no model id was set; call OpenAiModelBuilder::model_id with the served model, e.g. `gpt-4o-mini`, or `llama3.2` for Ollama"
    )]
    MissingModelId,
    /// The API key holds characters an HTTP header cannot carry.
    #[error(
        "the API key contains characters an HTTP header cannot carry (a stray newline or quote?); check the value or OPENAI_API_KEY"
    )]
    InvalidApiKey,
    /// The base URL is not an absolute `http` or `https` URL.
    #[error(
        "the base URL `{url}` is not an http(s) URL ({reason}); use e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`"
    )]
    InvalidBaseUrl {
        /// The URL as given, without credentials.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `params` was not a JSON object.
    #[error(
        "params must be a JSON object of request fields such as {{\"temperature\": 0.2}}, not {found}"
    )]
    InvalidParams {
        /// The JSON kind given instead.
        found: &'static str,
    },
    /// An extra header has an invalid name or value (the value is not shown).
    #[error(
        "the header `{name}` has an invalid name or value (both must be visible ASCII without line breaks)"
    )]
    InvalidHeader {
        /// The header name as given.
        name: String,
    },
    /// The HTTP client could not be created (TLS setup).
    #[error("could not create the HTTP client (TLS setup)")]
    HttpClient(#[source] BoxError),
}

/// Python's `_CONTEXT_WINDOW_OVERFLOW_PATTERNS` (lower-case), plus the llama.cpp server's and
/// LiteLLM's phrasings.
const OVERFLOW_PATTERNS: [&str; 13] = [
    "maximum context length",
    "context_length_exceeded",
    "too many tokens",
    "context length",
    "input is too long for requested model",
    "input length and `max_tokens` exceed context limit",
    "too many total text bytes",
    "exceeds the max_model_len",
    // llama.cpp server: "the request exceeds the available context size, try increasing it".
    "exceeds the available context size",
    "exceed_context_size_error",
    // LiteLLM proxy: "litellm.ContextWindowExceededError: ...".
    "contextwindowexceedederror",
    // Anthropic models behind a proxy.
    "prompt is too long",
    "input length exceeds context window",
];
/// Python's `_RATE_LIMIT_PATTERNS`.
const RATE_LIMIT_PATTERNS: [&str; 3] = ["rate_limit_exceeded", "rate limit", "too many requests"];

/// Where the failing call went, for messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallSite<'a> {
    pub(crate) model_id: &'a str,
    /// The base URL without credentials.
    pub(crate) base_url: &'a str,
}

/// What an error body said: `{"error": {"message", "type", "code"}}` (OpenAI, Ollama, llama.cpp,
/// LiteLLM), `{"object": "error", "message", ...}` (older vLLM), `{"error": "text"}`,
/// `{"detail": ...}` (FastAPI servers), or plain text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    pub(crate) message: String,
    /// `error.type`, e.g. `invalid_request_error`.
    pub(crate) kind: Option<String>,
    /// `error.code`, e.g. `context_length_exceeded` (numbers become their text).
    pub(crate) code: Option<String>,
}

fn as_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null | Value::String(_) => None,
        other => Some(other.to_string()),
    }
}

impl ErrorBody {
    /// Reads an error object (the value of `error`, or a whole body).
    pub(crate) fn from_value(value: &Value) -> Self {
        let object = match value.get("error") {
            Some(Value::String(message)) => {
                return Self {
                    message: message.clone(),
                    ..Self::default()
                };
            }
            Some(inner @ Value::Object(_)) => inner,
            _ => value,
        };
        let message = as_text(object.get("message"))
            .or_else(|| as_text(object.get("detail")))
            .unwrap_or_else(|| object.to_string());
        Self {
            message,
            kind: as_text(object.get("type")),
            code: as_text(object.get("code")),
        }
    }

    /// Parses a (bounded) HTTP error body.
    pub(crate) fn parse(body: &[u8]) -> Self {
        if let Ok(value) = serde_json::from_slice::<Value>(body)
            && value.is_object()
        {
            return Self::from_value(&value);
        }
        Self {
            message: http::quote_body(body),
            ..Self::default()
        }
    }

    /// `message (type invalid_request_error, code context_length_exceeded)`.
    fn describe(&self) -> String {
        let mut details = Vec::new();
        if let Some(kind) = &self.kind {
            details.push(format!("type {kind}"));
        }
        if let Some(code) = &self.code {
            details.push(format!("code {code}"));
        }
        if details.is_empty() {
            self.message.clone()
        } else {
            format!("{} ({})", self.message, details.join(", "))
        }
    }

    fn is_throttling(&self) -> bool {
        let message = self.message.to_lowercase();
        self.code.as_deref() == Some("rate_limit_exceeded")
            || RATE_LIMIT_PATTERNS.iter().any(|p| message.contains(p))
    }

    fn is_overflow(&self) -> bool {
        let message = self.message.to_lowercase();
        self.code.as_deref() == Some("context_length_exceeded")
            || self.kind.as_deref() == Some("exceed_context_size_error")
            || OVERFLOW_PATTERNS.iter().any(|p| message.contains(p))
            || exceeds_model_maximum(&message)
    }
}

/// Python's `exceed(?:s|ed)?(?: customer)? model maximum`.
fn exceeds_model_maximum(message: &str) -> bool {
    message.match_indices("exceed").any(|(at, word)| {
        let rest = &message[at + word.len()..];
        let rest = rest
            .strip_prefix("ed")
            .or_else(|| rest.strip_prefix('s'))
            .unwrap_or(rest);
        let rest = rest.strip_prefix(" customer").unwrap_or(rest);
        rest.starts_with(" model maximum")
    })
}

/// Maps a non-2xx response onto the [`ModelError`] the agent acts on.
pub(crate) fn http_error(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    site: CallSite<'_>,
) -> ModelError {
    let error = ErrorBody::parse(body);
    let base_url = site.base_url;
    let model_id = site.model_id;
    // `insufficient_quota` also comes as 429, but waiting does not help.
    if error.code.as_deref() == Some("insufficient_quota") {
        return ModelError::provider(
            format!(
                "{} (HTTP {status} from {base_url}); the account is out of credit: check its plan and billing",
                error.describe()
            ),
            None,
        );
    }
    // The llama.cpp server answers 503 while it loads the model or has no free slot; proxies
    // answer 503 (and Anthropic-backed ones 529) when overloaded.
    if matches!(status, 429 | 503 | 529) || error.is_throttling() {
        return ModelError::Throttled {
            message: format!("{} (HTTP {status} from {base_url})", error.describe()),
            retry_after: http::retry_after(headers),
        };
    }
    if error.is_overflow() {
        return ModelError::context_window_overflow(error.message);
    }
    match status {
        401 => ModelError::credentials(format!(
            "{base_url} rejected the API key (HTTP 401: {}); set OPENAI_API_KEY or pass the key to OpenAiModelBuilder::api_key",
            error.describe()
        )),
        403 => ModelError::access_denied(format!(
            "{} (HTTP 403 from {base_url}; check that the API key may use model `{model_id}`)",
            error.describe()
        )),
        404 => ModelError::invalid_request(format!(
            "{} (HTTP 404 from {base_url}/chat/completions; check the model id `{model_id}` (Ollama: `ollama pull` it first) and that the base URL includes the API prefix, e.g. http://localhost:11434/v1)",
            error.describe()
        )),
        400 | 409 | 413 | 422 => ModelError::invalid_request(error.describe()),
        _ => ModelError::provider(
            format!(
                "{base_url} answered HTTP {status}: {} (model `{model_id}`)",
                error.describe()
            ),
            None,
        ),
    }
}

/// Maps an error object the server sent inside an open stream.
pub(crate) fn in_stream_error(error: &Value) -> ModelError {
    let error = ErrorBody::from_value(error);
    if error.is_throttling() {
        return ModelError::throttled(error.describe());
    }
    if error.is_overflow() {
        return ModelError::context_window_overflow(error.message);
    }
    ModelError::stream(
        format!(
            "the server reported an error mid-stream: {}",
            error.describe()
        ),
        None,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use std::time::Duration;

    use reqwest::header::HeaderValue;

    use super::*;

    const SITE: CallSite<'static> = CallSite {
        model_id: "gpt-4o-mini",
        base_url: "https://api.openai.com/v1",
    };

    fn classify(status: u16, body: &str) -> ModelError {
        http_error(status, &HeaderMap::new(), body.as_bytes(), SITE)
    }

    #[test]
    fn rate_limits_are_throttling_with_the_retry_after_header() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("2"));
        let error = http_error(
            429,
            &headers,
            br#"{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
            SITE,
        );
        assert!(error.is_retryable());
        assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", HeaderValue::from_static("450"));
        let error = http_error(429, &headers, br#"{"error":{"message":"slow down"}}"#, SITE);
        assert_eq!(error.retry_after(), Some(Duration::from_millis(450)));
        // llama.cpp's busy server.
        assert!(
            classify(
                503,
                r#"{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}"#
            )
            .is_retryable()
        );
    }

    #[test]
    fn an_exhausted_quota_is_not_retried() {
        let error = classify(
            429,
            r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
        );
        assert!(matches!(error, ModelError::Provider { .. }), "{error}");
    }

    #[test]
    fn context_overflow_is_recognised_across_servers() {
        for body in [
            r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
            r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}"#,
            r#"{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}"#,
            r#"{"error":{"message":"Input tokens exceed the configured limit of 272000 tokens. Your messages resulted in 300000 tokens, which exceeds customer model maximum.","code":null}}"#,
        ] {
            assert!(classify(400, body).is_context_window_overflow(), "{body}");
        }
    }

    #[test]
    fn statuses_map_to_typed_errors_with_the_server_text() {
        let error = classify(
            401,
            r#"{"error":{"message":"Incorrect API key provided: sk-wr***ong.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
        );
        assert!(matches!(error, ModelError::Credentials { .. }));
        assert!(error.to_string().contains("Incorrect API key provided"));
        assert!(matches!(
            classify(403, "{}"),
            ModelError::AccessDenied { .. }
        ));
        let not_found = classify(
            404,
            r#"{"error":{"message":"model \"llama3\" not found, try pulling it first","type":"api_error","param":null,"code":null}}"#,
        );
        assert!(
            matches!(&not_found, ModelError::InvalidRequest { message } if message.contains("ollama pull")),
            "{not_found}"
        );
        assert!(matches!(
            classify(422, r#"{"detail":[{"loc":["body","messages"],"msg":"Field required"}]}"#),
            ModelError::InvalidRequest { message } if message.contains("Field required")
        ));
        let server = classify(502, "<html>Bad Gateway</html>");
        assert!(
            matches!(&server, ModelError::Provider { message, .. } if message.contains("HTTP 502") && message.contains("Bad Gateway"))
        );
    }

    #[test]
    fn long_text_bodies_are_cut() {
        let body = "x".repeat(10_000);
        let parsed = ErrorBody::parse(body.as_bytes());
        assert_eq!(parsed.message.len(), http::MAX_QUOTED_CHARS + 3);
        assert_eq!(ErrorBody::parse(b"").message, "(empty body)");
    }

    #[test]
    fn model_maximum_phrasings_match_pythons_regex() {
        assert!(exceeds_model_maximum("input exceeds model maximum"));
        assert!(exceeds_model_maximum("would exceed customer model maximum"));
        assert!(exceeds_model_maximum("exceeded model maximum"));
        assert!(!exceeds_model_maximum("exceeds the model maximum"));
    }
}
