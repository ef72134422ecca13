//! Anthropic's errors: why a model could not be built ([`AnthropicBuildError`]), and Anthropic
//! failures → [`ModelError`], so the agent retries what can be retried and says what to fix
//! otherwise.
//!
//! Python: the `except anthropic.RateLimitError` / `except anthropic.BadRequestError` blocks of
//! `AnthropicModel.stream`.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;
use strands_core::{BoxError, ModelError};

use crate::http;

/// Why an [`AnthropicModel`](super::AnthropicModel) could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnthropicBuildError {
    /// Neither the builder nor `ANTHROPIC_API_KEY` gave an API key.
    #[error(
        "no Anthropic API key: set the ANTHROPIC_API_KEY environment variable or call AnthropicModelBuilder::api_key"
    )]
    MissingApiKey,
    /// The API key holds characters an HTTP header cannot carry.
    #[error(
        "the Anthropic API key contains characters an HTTP header cannot carry (a stray newline or quote?); check the value"
    )]
    InvalidApiKey,
    /// The base URL is not an absolute http(s) URL.
    #[error("the Anthropic base URL `{url}` is not valid: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `params` is not a JSON object.
    #[error("Anthropic params must be a JSON object such as {{\"temperature\": 0.3}}, got {found}")]
    InvalidParams {
        /// The JSON kind given instead.
        found: &'static str,
    },
    /// A server tool carries an `input_schema`, so it is a function tool.
    #[error(
        "anthropic_tools holds `{name}`, which has an input_schema: function tools are given to the agent as tools; anthropic_tools is for Anthropic server tools such as web_search"
    )]
    FunctionToolAsServerTool {
        /// The tool's name.
        name: String,
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
    #[error("could not create the HTTP client for Anthropic (TLS setup)")]
    HttpClient(#[source] BoxError),
}

/// Substrings (compared lower-case) of Anthropic's context-window overflow messages (Python's
/// `AnthropicModel.OVERFLOW_MESSAGES`).
const OVERFLOW_MESSAGES: [&str; 4] = [
    "prompt is too long:",
    "input is too long",
    "input length exceeds context window",
    "input and output tokens exceed your context limit",
];

/// An error Anthropic reported, over HTTP (`status` set) or as an `error` event inside an open
/// stream (`status` unset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: Option<u16>,
    /// `error.type`, e.g. `overloaded_error`; empty when the body had none.
    pub(crate) error_type: String,
    pub(crate) message: String,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) request_id: Option<String>,
}

/// `{"type": "error", "error": {"type", "message"}, "request_id"?}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
    #[serde(default)]
    request_id: Option<String>,
}

/// `{"type", "message"}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorDetail {
    #[serde(default, rename = "type")]
    pub(crate) error_type: String,
    #[serde(default)]
    pub(crate) message: String,
}

impl ApiError {
    /// The error of a non-2xx response: its status, headers and (bounded) body.
    pub(crate) fn from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> Self {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let (error_type, message, body_request_id) = match serde_json::from_slice::<ErrorBody>(body)
        {
            Ok(parsed) => (
                parsed.error.error_type,
                parsed.error.message,
                parsed.request_id,
            ),
            Err(_) => (String::new(), http::quote_body(body), None),
        };
        Self {
            status: Some(status),
            error_type,
            message,
            retry_after: http::retry_after(headers),
            request_id: header("request-id").map(str::to_owned).or(body_request_id),
        }
    }

    /// The error carried by an `error` event inside the stream.
    pub(crate) fn from_event(detail: ErrorDetail) -> Self {
        Self {
            status: None,
            error_type: detail.error_type,
            message: detail.message,
            retry_after: None,
            request_id: None,
        }
    }

    /// `overloaded_error: Overloaded`, or the message alone when there is no type.
    fn describe(&self) -> String {
        let mut text = if self.error_type.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.error_type, self.message)
        };
        if let Some(id) = &self.request_id {
            text.push_str(&format!(" (request id {id})"));
        }
        text
    }
}

/// Maps an Anthropic error onto the [`ModelError`] the agent acts on.
pub(crate) fn classify(error: ApiError, model_id: &str) -> ModelError {
    let status = error.status;
    let kind = error.error_type.as_str();
    if status == Some(429) || kind == "rate_limit_error" {
        return ModelError::Throttled {
            message: error.describe(),
            retry_after: error.retry_after,
        };
    }
    if status == Some(529) || kind == "overloaded_error" {
        return ModelError::Throttled {
            message: error.describe(),
            retry_after: error.retry_after,
        };
    }
    let lower = error.message.to_lowercase();
    if OVERFLOW_MESSAGES.iter().any(|m| lower.contains(m)) {
        return ModelError::context_window_overflow(error.message);
    }
    if status == Some(401) || kind == "authentication_error" {
        return ModelError::credentials(format!(
            "Anthropic rejected the API key ({}); check ANTHROPIC_API_KEY or the key given to the builder",
            error.describe()
        ));
    }
    if status == Some(403) || kind == "permission_error" {
        return ModelError::access_denied(format!(
            "{} (model `{model_id}`; check that the API key's workspace may use this model)",
            error.describe()
        ));
    }
    if status == Some(404) || kind == "not_found_error" {
        return ModelError::invalid_request(format!(
            "{} (model `{model_id}`; check the model id and the base URL)",
            error.describe()
        ));
    }
    if matches!(status, Some(400 | 413)) || kind == "invalid_request_error" {
        return ModelError::invalid_request(error.message);
    }
    match status {
        None => ModelError::stream(
            format!("Anthropic stopped the stream: {}", error.describe()),
            None,
        ),
        Some(status) => ModelError::provider(
            format!(
                "Anthropic answered HTTP {status}: {} (model `{model_id}`)",
                error.describe()
            ),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use reqwest::header::HeaderValue;

    use super::*;

    fn http(status: u16, body: &str) -> ApiError {
        ApiError::from_response(status, &HeaderMap::new(), body.as_bytes())
    }

    fn body(kind: &str, message: &str) -> String {
        serde_json::json!({"type": "error", "error": {"type": kind, "message": message}})
            .to_string()
    }

    #[test]
    fn rate_limits_and_overload_are_throttling_with_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("7"));
        headers.insert("request-id", HeaderValue::from_static("req_1"));
        let error = ApiError::from_response(
            429,
            &headers,
            body(
                "rate_limit_error",
                "Number of requests has exceeded your rate limit",
            )
            .as_bytes(),
        );
        let mapped = classify(error, "m");
        assert!(mapped.is_retryable());
        assert_eq!(mapped.retry_after(), Some(Duration::from_secs(7)));
        assert!(mapped.to_string().contains("request id req_1"), "{mapped}");

        headers.insert("retry-after-ms", HeaderValue::from_static("1500"));
        let mapped = classify(
            ApiError::from_response(
                429,
                &headers,
                body("rate_limit_error", "slow down").as_bytes(),
            ),
            "m",
        );
        assert_eq!(mapped.retry_after(), Some(Duration::from_millis(1500)));

        assert!(classify(http(529, &body("overloaded_error", "Overloaded")), "m").is_retryable());
        let in_stream = ApiError::from_event(ErrorDetail {
            error_type: "overloaded_error".to_owned(),
            message: "Overloaded".to_owned(),
        });
        assert!(classify(in_stream, "m").is_retryable());
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        let overflow = classify(
            http(
                400,
                &body(
                    "invalid_request_error",
                    "prompt is too long: 208310 tokens > 200000 maximum",
                ),
            ),
            "m",
        );
        assert!(overflow.is_context_window_overflow());
        assert!(matches!(
            classify(
                http(401, &body("authentication_error", "invalid x-api-key")),
                "m"
            ),
            ModelError::Credentials { .. }
        ));
        assert!(matches!(
            classify(http(403, &body("permission_error", "no")), "m"),
            ModelError::AccessDenied { .. }
        ));
        assert!(matches!(
            classify(http(400, &body("invalid_request_error", "messages: Field required")), "m"),
            ModelError::InvalidRequest { message } if message == "messages: Field required"
        ));
        assert!(matches!(
            classify(http(500, &body("api_error", "Internal server error")), "m"),
            ModelError::Provider { .. }
        ));
        let in_stream = ApiError::from_event(ErrorDetail {
            error_type: "api_error".to_owned(),
            message: "boom".to_owned(),
        });
        assert!(matches!(
            classify(in_stream, "m"),
            ModelError::Stream { .. }
        ));
    }

    #[test]
    fn non_json_bodies_are_quoted_bounded() {
        let long = "x".repeat(2000);
        let error = http(502, &long);
        assert_eq!(error.message.len(), crate::http::MAX_QUOTED_CHARS + 3);
        assert_eq!(http(502, "").message, "(empty body)");
        let mapped = classify(http(502, "<html>Bad gateway</html>"), "m");
        assert!(mapped.to_string().contains("HTTP 502"), "{mapped}");
    }
}
