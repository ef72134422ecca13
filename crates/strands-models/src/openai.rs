//! Any OpenAI-compatible chat-completions server: OpenAI, Ollama, the llama.cpp server, vLLM,
//! LiteLLM and the many others that serve `POST {base_url}/chat/completions`.
//!
//! ```no_run
//! use strands_agent::Agent;
//! use strands_models::openai::OpenAiModel;
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // OpenAI, with the key from OPENAI_API_KEY.
//! let model = OpenAiModel::builder()
//!     .model_id("gpt-4o-mini")
//!     .params(json!({"temperature": 0.2, "max_tokens": 1024}))
//!     .build()?;
//! let mut agent = Agent::builder().model(model).build()?;
//! println!("{}", agent.invoke("Hello!").await?);
//!
//! // A local Ollama server: no key.
//! let ollama = OpenAiModel::builder()
//!     .model_id("llama3.2")
//!     .base_url("http://localhost:11434/v1")
//!     .no_api_key()
//!     .build()?;
//! # let _ = ollama;
//! # Ok(())
//! # }
//! ```
//!
//! The request is Python's (`messages` with tool calls as assistant `tool_calls` and tool
//! results as `role: tool` messages, images and documents as data URLs, `tools`, `tool_choice`,
//! the configured `params`, `stream_options: {"include_usage": true}`); the streamed chunks become
//! the Bedrock-shaped [`StreamEvent`]s every provider emits. See `docs/openai.md` for server
//! notes and the differences from Python.
//!
//! Python: `strands.models.openai.OpenAIModel`.

mod errors;
mod request;
mod response;

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_core::Stream;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use strands_core::{Model, ModelError, ModelRequest, ModelStream, StreamEvent};

use crate::http::{self, BodyEnd};
use crate::sse::SseDecoder;
use errors::CallSite;

pub use errors::OpenAiBuildError;

/// The OpenAI API, used when no base URL is set.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The environment variable the API key is read from when none is set (as the `openai` client
/// does).
pub const API_KEY_ENV: &str = "OPENAI_API_KEY";
/// The environment variable [`OpenAiModel::from_env`] reads the base URL from.
pub const BASE_URL_ENV: &str = "OPENAI_BASE_URL";

/// The most of a whole (non-streamed) completion that is read.
const MAX_COMPLETION_BYTES: usize = 32 * 1024 * 1024;
/// Default time allowed to connect.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed between two reads of the response (the `openai` client's timeout).
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(600);

/// What an [`OpenAiModel`] sends with every call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OpenAiConfig {
    /// The model the server should run, e.g. `gpt-4o-mini` or `llama3.2`.
    pub model_id: String,
    /// The API root, e.g. `https://api.openai.com/v1`, without a trailing `/` (and without
    /// credentials, if the URL carried any).
    pub base_url: String,
    /// Extra request fields (`temperature`, `max_tokens`, `top_p`, `seed`, ...), sent as given;
    /// they override the fields the provider sets.
    pub params: Map<String, Value>,
    /// `true` (default): `"stream": true` and server-sent events; `false`: one JSON completion,
    /// replayed as stream events.
    pub streaming: bool,
}

/// An API key; never printed.
#[derive(Clone)]
struct ApiKey(HeaderValue);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(set, hidden)")
    }
}

/// An OpenAI-compatible chat-completions server as a Strands [`Model`].
///
/// Calls `POST {base_url}/chat/completions` with `Authorization: Bearer <key>` when a key is set.
/// Failures become typed [`ModelError`]s: 429 (and 503/529) → [`ModelError::Throttled`] with the
/// server's `Retry-After`, context-length errors → [`ModelError::ContextWindowOverflow`], 401 →
/// [`ModelError::Credentials`], 403 → [`ModelError::AccessDenied`], 400/404/422 →
/// [`ModelError::InvalidRequest`], a stream that ends before the model finished →
/// [`ModelError::Stream`].
///
/// # Examples
///
/// ```
/// use strands_core::Model;
/// use strands_models::openai::OpenAiModel;
///
/// let model = OpenAiModel::builder()
///     .model_id("qwen2.5:7b")
///     .base_url("http://localhost:11434/v1/")
///     .no_api_key()
///     .build()?;
/// assert_eq!(model.model_id(), "qwen2.5:7b");
/// assert_eq!(model.config().base_url, "http://localhost:11434/v1");
/// # Ok::<(), strands_models::openai::OpenAiBuildError>(())
/// ```
///
/// Python: `strands.models.openai.OpenAIModel`.
#[derive(Clone)]
pub struct OpenAiModel {
    client: reqwest::Client,
    config: OpenAiConfig,
    /// `{base_url}/chat/completions`, credentials included if the URL had them.
    endpoint: reqwest::Url,
    api_key: Option<ApiKey>,
    headers: HeaderMap,
}

impl fmt::Debug for OpenAiModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiModel")
            .field("config", &self.config)
            .field("api_key", &self.api_key.as_ref().map(|_| "(set, hidden)"))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl OpenAiModel {
    /// Starts configuring a model. The API key defaults to `OPENAI_API_KEY` (see
    /// [`OpenAiModelBuilder::api_key`]); the base URL to [`DEFAULT_BASE_URL`].
    pub fn builder() -> OpenAiModelBuilder {
        OpenAiModelBuilder::default()
    }

    /// A builder with the base URL from `OPENAI_BASE_URL` and the model id from `MODEL_ID`, when
    /// set (the `openai` client reads `OPENAI_BASE_URL` too).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use strands_models::openai::OpenAiModel;
    ///
    /// // OPENAI_BASE_URL=http://localhost:8000/v1 MODEL_ID=Qwen/Qwen2.5-7B-Instruct
    /// let model = OpenAiModel::from_env().build()?;
    /// println!("{}", model.config().base_url);
    /// # Ok::<(), strands_models::openai::OpenAiBuildError>(())
    /// ```
    pub fn from_env() -> OpenAiModelBuilder {
        let env = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut builder = Self::builder();
        if let Some(url) = env(BASE_URL_ENV) {
            builder = builder.base_url(url);
        }
        if let Some(model_id) = env("MODEL_ID") {
            builder = builder.model_id(model_id);
        }
        builder
    }

    /// The configuration.
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// The request body Python's `format_request` builds for `request`, as this model sends it.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidRequest`] when the conversation holds content the API cannot carry
    /// (video, audio, guardrail content).
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use strands_core::{Message, ModelRequest};
    /// use strands_models::openai::OpenAiModel;
    ///
    /// let model = OpenAiModel::builder().model_id("gpt-4o-mini").no_api_key().build()?;
    /// let messages = [Message::user("hi")];
    /// let body = model.format_request(&ModelRequest::new(&messages))?;
    /// assert_eq!(
    ///     body,
    ///     json!({
    ///         "messages": [{"role": "user", "content": [{"text": "hi", "type": "text"}]}],
    ///         "model": "gpt-4o-mini",
    ///         "stream": true,
    ///         "stream_options": {"include_usage": true}
    ///     })
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn format_request(&self, request: &ModelRequest<'_>) -> Result<Value, ModelError> {
        request::format_request(&self.config, request)
            .map(Value::Object)
            .map_err(|e| ModelError::invalid_request(e.to_string()))
    }

    fn site(&self) -> CallSite<'_> {
        CallSite {
            model_id: &self.config.model_id,
            base_url: &self.config.base_url,
        }
    }

    async fn send(&self, body: Vec<u8>) -> Result<reqwest::Response, ModelError> {
        let mut call = self
            .client
            .post(self.endpoint.clone())
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(
                ACCEPT,
                if self.config.streaming {
                    "text/event-stream"
                } else {
                    "application/json"
                },
            )
            .body(body);
        if let Some(ApiKey(key)) = &self.api_key {
            call = call.header(reqwest::header::AUTHORIZATION, key.clone());
        }
        call.send().await.map_err(|error| {
            let what = if error.is_timeout() {
                "timed out connecting to"
            } else if error.is_connect() {
                "could not connect to"
            } else {
                "could not send the request to"
            };
            ModelError::provider(
                format!(
                    "{what} the OpenAI-compatible server at {} (model `{}`); check that it is running and that the base URL is right",
                    self.config.base_url, self.config.model_id
                ),
                Some(Box::new(error.without_url())),
            )
        })
    }

    /// The whole (non-streamed) completion, at most [`MAX_COMPLETION_BYTES`].
    async fn read_completion(
        &self,
        response: &mut reqwest::Response,
    ) -> Result<Vec<u8>, ModelError> {
        let body = http::read_bounded(response, MAX_COMPLETION_BYTES).await;
        match body.end {
            BodyEnd::Complete => Ok(body.bytes),
            BodyEnd::Truncated => Err(ModelError::stream(
                format!(
                    "the completion from {} is larger than {MAX_COMPLETION_BYTES} bytes",
                    self.config.base_url
                ),
                None,
            )),
            BodyEnd::Broken(error) => Err(ModelError::stream(
                format!(
                    "the completion from {} broke before it ended",
                    self.config.base_url
                ),
                Some(Box::new(error.without_url())),
            )),
        }
    }

    fn stream_impl<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> impl Stream<Item = Result<StreamEvent, ModelError>> + Send + 'a {
        async_stream::try_stream! {
            let body = self.format_request(&request)?;
            let body = serde_json::to_vec(&body).map_err(|e| {
                ModelError::invalid_request(format!("could not serialize the request: {e}"))
            })?;
            tracing::debug!(
                model_id = %self.config.model_id,
                base_url = %self.config.base_url,
                streaming = self.config.streaming,
                "calling the OpenAI-compatible server"
            );
            let started = Instant::now();
            let id_salt = id_salt();
            let mut response = self.send(body).await?;
            let status = response.status();
            if !status.is_success() {
                let headers = response.headers().clone();
                let body = http::error_body(&mut response).await;
                Err::<(), _>(errors::http_error(status.as_u16(), &headers, &body, self.site()))?;
            }
            let is_json = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim_start().starts_with("application/json"));
            if is_json {
                // `streaming(false)`, or a server that ignores `stream: true`.
                let body = self.read_completion(&mut response).await?;
                let completion = serde_json::from_slice(&body).map_err(|e| {
                    ModelError::stream(
                        format!("could not decode the completion from {}", self.config.base_url),
                        Some(Box::new(e)),
                    )
                })?;
                for event in response::completion_events(completion, &id_salt, http::elapsed_ms(started))? {
                    yield event;
                }
                return;
            }

            yield StreamEvent::message_start();
            let mut sse = SseDecoder::default();
            let mut decoder = response::Decoder::new(id_salt);
            let mut done = false;
            while !done {
                let bytes = response.chunk().await.map_err(|e| {
                    ModelError::stream(
                        format!(
                            "the response stream from {} broke before it ended",
                            self.config.base_url
                        ),
                        Some(Box::new(e.without_url())),
                    )
                })?;
                let frames = match &bytes {
                    Some(bytes) => sse.push(bytes).map_err(sse_error)?,
                    None => sse.finish().map_err(sse_error)?.into_iter().collect(),
                };
                let mut events = Vec::new();
                for frame in frames {
                    let data = frame.data.trim();
                    if data == "[DONE]" {
                        done = true;
                        break;
                    }
                    if data.is_empty() {
                        continue;
                    }
                    let chunk = if frame.event == "error" {
                        // Not OpenAI's, but some proxies name error events.
                        let value: Value = serde_json::from_str(data)
                            .unwrap_or_else(|_| Value::String(data.to_owned()));
                        Err(errors::in_stream_error(&serde_json::json!({"error": value})))?
                    } else {
                        serde_json::from_str(data).map_err(|e| {
                            ModelError::stream(
                                format!("could not decode a chunk of the response stream: {data:.200}"),
                                Some(Box::new(e)),
                            )
                        })?
                    };
                    decoder.push(chunk, &mut events)?;
                }
                for event in events {
                    yield event;
                }
                if bytes.is_none() {
                    break;
                }
            }
            if !decoder.is_finished() {
                Err::<(), _>(ModelError::stream(
                    format!(
                        "the response stream from {} ended before the model finished (no finish_reason); the connection was probably cut",
                        self.config.base_url
                    ),
                    None,
                ))?;
            }
            if !done {
                tracing::debug!("the response stream ended without `data: [DONE]`");
            }
            if let Some(metadata) = decoder.end(http::elapsed_ms(started)) {
                yield metadata;
            }
        }
    }
}

impl Model for OpenAiModel {
    fn model_id(&self) -> &str {
        &self.config.model_id
    }

    fn stream<'a>(&'a self, request: ModelRequest<'a>) -> ModelStream<'a> {
        Box::pin(self.stream_impl(request))
    }
}

fn sse_error(error: crate::sse::SseError) -> ModelError {
    ModelError::stream(
        "could not decode the server-sent events",
        Some(Box::new(error)),
    )
}

/// Goes into ids made for tool calls the server sent without one (unique enough to tell calls
/// of different turns apart).
fn id_salt() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}", nanos & 0xffff_ffff_ffff)
}

/// Where the API key comes from.
#[derive(Clone, Default)]
enum KeySource {
    /// `OPENAI_API_KEY`, if set.
    #[default]
    Env,
    Value(String),
    None,
}

/// Configures an [`OpenAiModel`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use serde_json::json;
/// use strands_models::openai::OpenAiModel;
///
/// let model = OpenAiModel::builder()
///     .model_id("Qwen/Qwen2.5-7B-Instruct")
///     .base_url("http://localhost:8000/v1")
///     .api_key("token-abc123")
///     .params(json!({"temperature": 0.7, "max_tokens": 512}))
///     .param("top_p", 0.9)
///     .header("x-tenant", "research")
///     .read_timeout(Duration::from_secs(120))
///     .build()?;
/// assert_eq!(model.config().params["top_p"], 0.9);
/// assert!(format!("{model:?}").contains("(set, hidden)"));
/// # Ok::<(), strands_models::openai::OpenAiBuildError>(())
/// ```
#[derive(Default)]
#[must_use]
pub struct OpenAiModelBuilder {
    model_id: Option<String>,
    base_url: Option<String>,
    api_key: KeySource,
    params: Map<String, Value>,
    params_error: Option<&'static str>,
    headers: Vec<(String, String)>,
    streaming: Option<bool>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
}

impl fmt::Debug for OpenAiModelBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let api_key = match &self.api_key {
            KeySource::Env => "(from OPENAI_API_KEY)",
            KeySource::Value(_) => "(set, hidden)",
            KeySource::None => "(none)",
        };
        f.debug_struct("OpenAiModelBuilder")
            .field("model_id", &self.model_id)
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("api_key", &api_key)
            .field("params", &self.params)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl OpenAiModelBuilder {
    /// The model the server runs, e.g. `gpt-4o-mini`, `llama3.2` (Ollama) or the name a vLLM or
    /// llama.cpp server was started with. Required.
    pub fn model_id(mut self, model_id: impl Into<String>) -> Self {
        self.model_id = Some(model_id.into());
        self
    }

    /// The API root that `/chat/completions` is appended to (default
    /// `https://api.openai.com/v1`): `http://localhost:11434/v1` (Ollama),
    /// `http://localhost:8080/v1` (llama.cpp server), `http://localhost:8000/v1` (vLLM),
    /// `http://localhost:4000` (LiteLLM proxy).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The API key, sent as `Authorization: Bearer <key>`. Without one, `OPENAI_API_KEY` is used
    /// when set, and no `Authorization` header otherwise. The key is never logged or printed.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = KeySource::Value(api_key.into());
        self
    }

    /// Sends no `Authorization` header, even when `OPENAI_API_KEY` is set (servers without
    /// authentication such as Ollama and the llama.cpp server).
    pub fn no_api_key(mut self) -> Self {
        self.api_key = KeySource::None;
        self
    }

    /// Extra request fields, merged into those already set: `json!({"temperature": 0.2,
    /// "max_tokens": 1024})`. They are sent as given and override the provider's own fields;
    /// `stream_options` replaces the default `{"include_usage": true}`; `stream` is ignored (see
    /// [`OpenAiModelBuilder::streaming`]). Anything but a JSON object fails the build.
    ///
    /// Python: the `params` config key.
    pub fn params(mut self, params: Value) -> Self {
        match params {
            Value::Object(map) => self.params.extend(map),
            other => self.params_error = Some(http::json_kind(&other)),
        }
        self
    }

    /// One extra request field, e.g. `.param("max_tokens", 1024)`.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.params.insert(name.into(), value.into());
        self
    }

    /// An extra HTTP header sent with every call (e.g. `OpenAI-Organization`, or a gateway's
    /// routing header). Its value is not printed by `Debug`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// `false` asks for one JSON completion (`"stream": false`) instead of server-sent events;
    /// the agent sees the same events either way.
    ///
    /// Python: the `stream` config key.
    pub fn streaming(mut self, streaming: bool) -> Self {
        self.streaming = Some(streaming);
        self
    }

    /// How long connecting may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long the server may stay silent while answering, between two reads (default 600 s,
    /// the `openai` client's timeout).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// Builds the model. Nothing is sent until the first call. Reads `OPENAI_API_KEY` when no key
    /// was set and [`OpenAiModelBuilder::no_api_key`] was not called.
    ///
    /// # Errors
    ///
    /// [`OpenAiBuildError`]: no model id, an API key or header that cannot be sent, a base URL
    /// that is not http(s), `params` that are not an object, or an HTTP client that cannot be
    /// created.
    pub fn build(self) -> Result<OpenAiModel, OpenAiBuildError> {
        let model_id = self
            .model_id
            .filter(|m| !m.trim().is_empty())
            .ok_or(OpenAiBuildError::MissingModelId)?;
        if let Some(found) = self.params_error {
            return Err(OpenAiBuildError::InvalidParams { found });
        }
        let raw_url = self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base_url = raw_url.trim().trim_end_matches('/');
        let invalid = |reason: String| OpenAiBuildError::InvalidBaseUrl {
            url: redact_url(base_url),
            reason,
        };
        let parsed = reqwest::Url::parse(base_url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid(format!("scheme `{}`", parsed.scheme())));
        }
        let endpoint = reqwest::Url::parse(&format!("{base_url}/chat/completions"))
            .map_err(|e| invalid(e.to_string()))?;

        let key = match self.api_key {
            KeySource::Value(key) => Some(key),
            KeySource::Env => std::env::var(API_KEY_ENV)
                .ok()
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty()),
            KeySource::None => None,
        };
        let api_key = key
            .map(|key| {
                let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
                    .map_err(|_| OpenAiBuildError::InvalidApiKey)?;
                value.set_sensitive(true);
                Ok(ApiKey(value))
            })
            .transpose()?;
        let mut headers = HeaderMap::new();
        for (name, value) in self.headers {
            let invalid = || OpenAiBuildError::InvalidHeader { name: name.clone() };
            let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            let mut header_value = HeaderValue::from_str(&value).map_err(|_| invalid())?;
            header_value.set_sensitive(true);
            headers.append(header_name, header_value);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
            .read_timeout(self.read_timeout.unwrap_or(DEFAULT_READ_TIMEOUT))
            .build()
            .map_err(|e| OpenAiBuildError::HttpClient(Box::new(e)))?;
        Ok(OpenAiModel {
            client,
            config: OpenAiConfig {
                model_id,
                base_url: redact_url(base_url),
                params: self.params,
                streaming: self.streaming.unwrap_or(true),
            },
            endpoint,
            api_key,
            headers,
        })
    }
}

/// `url` without a user name or password, for messages and logs.
fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.as_str().trim_end_matches('/').to_owned()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use serde_json::json;

    use super::*;

    #[test]
    fn the_api_key_and_header_values_never_appear_in_debug_output() {
        let model = OpenAiModel::builder()
            .model_id("m")
            .api_key("sk-secret-value")
            .header("x-api-key", "other-secret")
            .build()
            .unwrap();
        let printed = format!("{model:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("(set, hidden)"));
        let builder = OpenAiModel::builder().api_key("sk-secret-value");
        assert!(!format!("{builder:?}").contains("secret"));
    }

    #[test]
    fn build_errors_say_what_to_fix() {
        assert!(matches!(
            OpenAiModel::builder().build(),
            Err(OpenAiBuildError::MissingModelId)
        ));
        let error = OpenAiModel::builder()
            .model_id("m")
            .base_url("localhost:11434/v1")
            .build()
            .unwrap_err();
        assert!(
            error.to_string().contains("http://localhost:11434/v1"),
            "{error}"
        );
        assert!(matches!(
            OpenAiModel::builder()
                .model_id("m")
                .params(json!([1]))
                .build(),
            Err(OpenAiBuildError::InvalidParams { found: "an array" })
        ));
        assert!(matches!(
            OpenAiModel::builder()
                .model_id("m")
                .api_key("bad\nkey")
                .build(),
            Err(OpenAiBuildError::InvalidApiKey)
        ));
        let error = OpenAiModel::builder()
            .model_id("m")
            .header("bad header", "v")
            .build()
            .unwrap_err();
        assert!(
            matches!(&error, OpenAiBuildError::InvalidHeader { name } if name == "bad header"),
            "{error}"
        );
    }

    #[test]
    fn credentials_in_the_base_url_are_kept_out_of_the_config() {
        let model = OpenAiModel::builder()
            .model_id("m")
            .base_url("https://user:pass@proxy.example/v1/")
            .no_api_key()
            .build()
            .unwrap();
        assert_eq!(model.config().base_url, "https://proxy.example/v1");
        assert_eq!(
            model.endpoint.as_str(),
            "https://user:pass@proxy.example/v1/chat/completions"
        );
    }
}
