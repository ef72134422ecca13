//! Anthropic's Messages API (`POST /v1/messages`, streamed as server-sent events).
//!
//! ```no_run
//! use serde_json::json;
//! use strands_agent::Agent;
//! use strands_models::anthropic::AnthropicModel;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The API key comes from ANTHROPIC_API_KEY unless given.
//! let model = AnthropicModel::builder()
//!     .model_id("claude-sonnet-4-20250514")
//!     .max_tokens(2048)
//!     .params(json!({"temperature": 0.3}))
//!     .build()?;
//! let mut agent = Agent::builder().model(model).build()?;
//! println!("{}", agent.invoke("Hello!").await?);
//! # Ok(())
//! # }
//! ```
//!
//! Requests follow Python's `format_request` (content blocks, tool use and results, images and
//! documents as base64 or text sources, signed thinking, `cache_control` from cache points, tool
//! choice), and Anthropic's errors become typed [`ModelError`]s: rate limits (429) and overload
//! (529, `overloaded_error`, also mid-stream) are [`ModelError::Throttled`] so the agent retries
//! them, "prompt is too long" is [`ModelError::ContextWindowOverflow`], a rejected key is
//! [`ModelError::Credentials`].
//!
//! Python: `strands.models.anthropic.AnthropicModel`.

mod errors;
mod request;
mod response;

use std::fmt;
use std::time::{Duration, Instant};

use futures_core::Stream;
use futures_util::StreamExt as _;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use serde_json::{Map, Value, json};
use strands_core::{Model, ModelError, ModelRequest, ModelStream, StreamEvent};

use crate::http;
use crate::sse::SseDecoder;
use errors::ApiError;
use response::{Converter, Outcome};

pub use errors::AnthropicBuildError;

/// The model used when none is set (the Anthropic API name of Python's Bedrock default).
pub const DEFAULT_MODEL_ID: &str = "claude-sonnet-4-6";
/// The API endpoint used when neither the builder nor `ANTHROPIC_BASE_URL` names one.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The `anthropic-version` header sent with every request.
pub const API_VERSION: &str = "2023-06-01";
/// `max_tokens` when none is set (Python requires it; every current Claude model allows this).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;
/// The environment variable the API key is read from.
pub const API_KEY_ENV: &str = "ANTHROPIC_API_KEY";
/// The environment variable a base URL is read from when the builder sets none.
pub const BASE_URL_ENV: &str = "ANTHROPIC_BASE_URL";

/// How many times a paused server-tool turn is resumed within one call (Python's
/// `_MAX_PAUSE_TURN_CONTINUATIONS`).
const MAX_PAUSE_TURN_CONTINUATIONS: usize = 10;
/// Default connect timeout.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit on the wait for the next bytes of a response (the Anthropic SDK's 10 minutes).
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(600);

/// What an [`AnthropicModel`] sends with every call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AnthropicConfig {
    /// The model, e.g. `claude-sonnet-4-20250514`.
    pub model_id: String,
    /// `max_tokens`.
    pub max_tokens: u32,
    /// Extra request fields (`temperature`, `thinking`, `top_k`, `tools` for server tools, ...),
    /// written after the formatted fields as Python does.
    pub params: Map<String, Value>,
    /// Anthropic server-side tools (web search, code execution, ...), sent after the agent's
    /// function tools unless a tool is forced.
    pub anthropic_tools: Vec<Value>,
    /// The API base URL, e.g. `https://api.anthropic.com`.
    pub base_url: String,
}

/// Anthropic's Messages API as a Strands [`Model`]. See the [module docs](self).
///
/// The API key is never logged nor printed by `Debug`.
#[derive(Clone)]
pub struct AnthropicModel {
    config: AnthropicConfig,
    client: reqwest::Client,
    url: reqwest::Url,
    /// `x-api-key` (marked sensitive), `anthropic-version`, `content-type`, extra headers.
    headers: HeaderMap,
}

impl fmt::Debug for AnthropicModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicModel")
            .field("config", &self.config)
            .field("api_key", &"(set, hidden)")
            .finish_non_exhaustive()
    }
}

impl AnthropicModel {
    /// Starts configuring a model.
    pub fn builder() -> AnthropicModelBuilder {
        AnthropicModelBuilder::default()
    }

    /// The configuration.
    pub fn config(&self) -> &AnthropicConfig {
        &self.config
    }

    /// The request body for `request`, as sent (with `"stream": true`); useful to inspect what
    /// Anthropic will receive.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidRequest`] when the conversation holds content Anthropic cannot accept
    /// (video, audio, a `docx` document, media given by location inside a tool result, ...).
    pub fn request_body(&self, request: &ModelRequest<'_>) -> Result<Value, ModelError> {
        let mut body = request::format_request(&self.config, request).map_err(|e| {
            ModelError::invalid_request(format!("could not build the Anthropic request: {e}"))
        })?;
        body.insert("stream".to_owned(), Value::Bool(true));
        Ok(Value::Object(body))
    }

    /// Sends `body` and returns the response once its status is 2xx; other statuses become
    /// typed errors (reading at most a bounded part of the error body).
    async fn send(&self, body: Vec<u8>) -> Result<reqwest::Response, ModelError> {
        let mut response = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error("could not send the request to", e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        let body = http::error_body(&mut response).await;
        let error = ApiError::from_response(status.as_u16(), &headers, &body);
        tracing::debug!(status = status.as_u16(), error_type = %error.error_type, "Anthropic refused the request");
        Err(errors::classify(error, &self.config.model_id))
    }

    fn transport_error(&self, what: &str, error: reqwest::Error) -> ModelError {
        let detail = strands_core::error_chain(&error);
        let what = if error.is_timeout() {
            "timed out waiting for"
        } else {
            what
        };
        ModelError::provider(
            format!(
                "{what} Anthropic at {} (model `{}`): {detail}",
                self.url, self.config.model_id
            ),
            Some(Box::new(error)),
        )
    }

    fn stream_impl<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> impl Stream<Item = Result<StreamEvent, ModelError>> + Send + 'a {
        async_stream::try_stream! {
            let mut body = self.request_body(&request)?;
            tracing::debug!(model_id = %self.config.model_id, "calling Anthropic");
            let started = Instant::now();
            let mut converter = Converter::new(&self.config.model_id);
            let mut continuations = 0;
            loop {
                let bytes = serde_json::to_vec(&body).map_err(|e| {
                    ModelError::invalid_request(format!("could not write the Anthropic request: {e}"))
                })?;
                let response = self.send(bytes).await?;
                let mut chunks = response.bytes_stream();
                let mut decoder = SseDecoder::default();
                while let Some(chunk) = chunks.next().await {
                    let chunk = chunk.map_err(|e| {
                        let detail = strands_core::error_chain(&e);
                        ModelError::stream(
                            format!("the Anthropic response stream broke before it ended: {detail}"),
                            Some(Box::new(e)),
                        )
                    })?;
                    for event in decoder.push(&chunk).map_err(sse_error)? {
                        if event.data.is_empty() {
                            continue;
                        }
                        for out in converter.push(&event.data)? {
                            yield out;
                        }
                    }
                }
                if let Some(event) = decoder.finish().map_err(sse_error)?.filter(|e| !e.data.is_empty()) {
                    for out in converter.push(&event.data)? {
                        yield out;
                    }
                }
                match converter.finish_response(http::elapsed_ms(started))? {
                    Outcome::Done(events) => {
                        for out in events {
                            yield out;
                        }
                        break;
                    }
                    Outcome::Paused(content) => {
                        if continuations >= MAX_PAUSE_TURN_CONTINUATIONS {
                            Err(ModelError::provider(
                                format!("the Anthropic server-side tool turn did not complete after {continuations} continuations"),
                                None,
                            ))?;
                        }
                        continuations += 1;
                        tracing::debug!(continuations, "resuming a paused Anthropic server-side tool turn");
                        if let Some(Value::Array(messages)) = body.get_mut("messages") {
                            messages.push(json!({"role": "assistant", "content": content}));
                        }
                    }
                }
            }
        }
    }
}

fn sse_error(error: crate::sse::SseError) -> ModelError {
    ModelError::stream(
        format!("could not decode the Anthropic event stream: {error}"),
        Some(Box::new(error)),
    )
}

impl Model for AnthropicModel {
    fn model_id(&self) -> &str {
        &self.config.model_id
    }

    fn stream<'a>(&'a self, request: ModelRequest<'a>) -> ModelStream<'a> {
        Box::pin(self.stream_impl(request))
    }
}

/// Configures an [`AnthropicModel`].
#[derive(Default)]
#[must_use]
pub struct AnthropicModelBuilder {
    model_id: Option<String>,
    api_key: Option<String>,
    base_url: Option<String>,
    max_tokens: Option<u32>,
    params: Option<Value>,
    anthropic_tools: Vec<Value>,
    headers: Vec<(String, String)>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
}

impl fmt::Debug for AnthropicModelBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicModelBuilder")
            .field("model_id", &self.model_id)
            .field("api_key", &self.api_key.as_ref().map(|_| "(set, hidden)"))
            .field("base_url", &self.base_url)
            .field("max_tokens", &self.max_tokens)
            .field("params", &self.params)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl AnthropicModelBuilder {
    /// The model, e.g. `claude-sonnet-4-20250514` (default [`DEFAULT_MODEL_ID`]).
    pub fn model_id(mut self, model_id: impl Into<String>) -> Self {
        self.model_id = Some(model_id.into());
        self
    }

    /// The API key (default: the `ANTHROPIC_API_KEY` environment variable).
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The API base URL (default: `ANTHROPIC_BASE_URL`, else [`DEFAULT_BASE_URL`]); requests go
    /// to `<base_url>/v1/messages`. Point it at a proxy or a test double.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// `max_tokens` (default [`DEFAULT_MAX_TOKENS`]).
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Extra request fields, a JSON object written into every request, e.g.
    /// `json!({"temperature": 0.3})` or `json!({"thinking": {"type": "enabled", "budget_tokens":
    /// 2048}})`. A `tools` array adds server tools, as in Python.
    pub fn params(mut self, params: Value) -> Self {
        self.params = Some(params);
        self
    }

    /// Adds an Anthropic server tool, e.g. `json!({"type": "web_search_20250305", "name":
    /// "web_search", "max_uses": 3})`.
    pub fn anthropic_tool(mut self, tool: Value) -> Self {
        self.anthropic_tools.push(tool);
        self
    }

    /// Sends an extra header with every request, e.g. `anthropic-beta`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// How long to wait for a connection (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long to wait for the next bytes of a response (default 10 min, as the Anthropic SDK).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// Builds the model.
    ///
    /// # Errors
    ///
    /// No API key ([`AnthropicBuildError::MissingApiKey`]), an invalid base URL, params that are
    /// not an object, a function tool among the server tools, an invalid header, or an HTTP
    /// client that cannot be created.
    pub fn build(self) -> Result<AnthropicModel, AnthropicBuildError> {
        self.build_with_env(|name| std::env::var(name).ok())
    }

    fn build_with_env(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<AnthropicModel, AnthropicBuildError> {
        let api_key = self
            .api_key
            .or_else(|| env(API_KEY_ENV))
            .map(|key| key.trim().to_owned())
            .filter(|key| !key.is_empty())
            .ok_or(AnthropicBuildError::MissingApiKey)?;
        let base_url = self
            .base_url
            .or_else(|| env(BASE_URL_ENV).filter(|url| !url.trim().is_empty()))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let url = messages_url(&base_url)?;
        let params = match self.params {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map,
            Some(other) => {
                return Err(AnthropicBuildError::InvalidParams {
                    found: http::json_kind(&other),
                });
            }
        };
        if let Some(tool) = self
            .anthropic_tools
            .iter()
            .find(|tool| tool.get("input_schema").is_some())
        {
            return Err(AnthropicBuildError::FunctionToolAsServerTool {
                name: tool
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("(unnamed)")
                    .to_owned(),
            });
        }

        let mut headers = HeaderMap::new();
        let mut key =
            HeaderValue::from_str(&api_key).map_err(|_| AnthropicBuildError::InvalidApiKey)?;
        key.set_sensitive(true);
        headers.insert(HeaderName::from_static("x-api-key"), key);
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(API_VERSION),
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("strands-rs/", env!("CARGO_PKG_VERSION"))),
        );
        for (name, value) in self.headers {
            let invalid = || AnthropicBuildError::InvalidHeader { name: name.clone() };
            let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            let mut header_value = HeaderValue::from_str(&value).map_err(|_| invalid())?;
            header_value.set_sensitive(true);
            headers.insert(header_name, header_value);
        }

        let client = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
            .read_timeout(self.read_timeout.unwrap_or(DEFAULT_READ_TIMEOUT))
            .build()
            .map_err(|e| AnthropicBuildError::HttpClient(Box::new(e)))?;
        Ok(AnthropicModel {
            config: AnthropicConfig {
                model_id: self.model_id.unwrap_or_else(|| DEFAULT_MODEL_ID.to_owned()),
                max_tokens: self.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
                params,
                anthropic_tools: self.anthropic_tools,
                base_url,
            },
            client,
            url,
            headers,
        })
    }
}

/// `<base_url>/v1/messages`.
fn messages_url(base_url: &str) -> Result<reqwest::Url, AnthropicBuildError> {
    let invalid = |reason: String| AnthropicBuildError::InvalidBaseUrl {
        url: base_url.to_owned(),
        reason,
    };
    let joined = format!("{}/v1/messages", base_url.trim().trim_end_matches('/'));
    let url = reqwest::Url::parse(&joined).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "the scheme must be http or https, not `{}`",
            url.scheme()
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn a_missing_key_is_a_clear_error_and_the_env_key_is_used() {
        let error = AnthropicModel::builder()
            .build_with_env(no_env)
            .unwrap_err();
        assert!(matches!(error, AnthropicBuildError::MissingApiKey));
        assert!(error.to_string().contains("ANTHROPIC_API_KEY"));
        let error = AnthropicModel::builder()
            .api_key("  ")
            .build_with_env(no_env)
            .unwrap_err();
        assert!(matches!(error, AnthropicBuildError::MissingApiKey));

        let env = |name: &str| match name {
            API_KEY_ENV => Some("sk-ant-from-env".to_owned()),
            BASE_URL_ENV => Some("http://proxy.local:8080/".to_owned()),
            _ => None,
        };
        let model = AnthropicModel::builder().build_with_env(env).unwrap();
        assert_eq!(model.headers.get("x-api-key").unwrap(), "sk-ant-from-env");
        assert_eq!(model.url.as_str(), "http://proxy.local:8080/v1/messages");
        assert_eq!(model.config().model_id, DEFAULT_MODEL_ID);
        assert_eq!(model.config().max_tokens, DEFAULT_MAX_TOKENS);
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let builder = AnthropicModel::builder()
            .api_key("sk-ant-secret-value")
            .header("anthropic-beta", "beta-1");
        let shown = format!("{builder:?}");
        assert!(shown.contains("(set, hidden)"), "{shown}");
        assert!(!shown.contains("sk-ant-secret-value"));
        let model = builder.build_with_env(no_env).unwrap();
        let shown = format!("{model:?}");
        assert!(shown.contains("(set, hidden)"), "{shown}");
        assert!(!shown.contains("sk-ant-secret-value"), "{shown}");
        assert!(model.headers.get("x-api-key").unwrap().is_sensitive());
    }

    #[test]
    fn invalid_settings_are_rejected_at_build_time() {
        let builder = || AnthropicModel::builder().api_key("k");
        assert!(matches!(
            builder().base_url("ftp://x").build_with_env(no_env),
            Err(AnthropicBuildError::InvalidBaseUrl { .. })
        ));
        assert!(matches!(
            builder().params(json!([1])).build_with_env(no_env),
            Err(AnthropicBuildError::InvalidParams { found: "an array" })
        ));
        assert!(matches!(
            builder()
                .anthropic_tool(json!({"name": "add", "input_schema": {}}))
                .build_with_env(no_env),
            Err(AnthropicBuildError::FunctionToolAsServerTool { name }) if name == "add"
        ));
        assert!(matches!(
            builder().header("bad header", "v").build_with_env(no_env),
            Err(AnthropicBuildError::InvalidHeader { .. })
        ));
        assert!(matches!(
            builder().api_key("line\nbreak").build_with_env(no_env),
            Err(AnthropicBuildError::InvalidApiKey)
        ));
    }
}
