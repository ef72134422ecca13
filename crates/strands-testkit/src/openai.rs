//! A fake OpenAI-compatible chat-completions server that speaks the recorded wire format.
//!
//! [`FakeOpenAi`] is an HTTP/1.1 server on `127.0.0.1` that answers `POST
//! /v1/chat/completions` the way OpenAI (and the servers that copy its API) do, so an HTTP
//! client, or an agent built on one, can be tested end to end without a network:
//!
//! - Streamed replies are `text/event-stream` responses of `data: {chunk}` events (one HTTP
//!   chunk each) ending with `data: [DONE]`, in OpenAI's documented `chat.completion.chunk`
//!   format. The fake fills in each chunk's `id`, `object`, `created`, `model` and
//!   `system_fingerprint` when the script leaves them out, and, like OpenAI, sends the final
//!   usage chunk (and the `"usage": null` fields) only when the request asked for them with
//!   `stream_options: {"include_usage": true}`. See [`Reply`], [`SseFrame`] and the [`chunks`]
//!   helpers, which also reproduce Ollama's and the llama.cpp server's styles.
//! - A request with `"stream": false` gets the same script folded into one `chat.completion`
//!   JSON body.
//! - Errors are OpenAI error bodies, `{"error": {"message", "type", "param", "code"}}`, with
//!   `retry-after` on rate limits; an error object can also arrive mid-stream, and a connection
//!   can be cut mid-stream ([`Reply::StreamThenCut`]).
//! - With an API key set, `Authorization: Bearer <key>` is checked (401 otherwise); without one,
//!   any request is accepted, as Ollama and the llama.cpp server do.
//! - Requests are checked the way OpenAI checks them: a JSON object with `model` and
//!   `messages`, no `stream_options` unless streaming, no empty `tools` array, and every
//!   assistant `tool_calls` answered by `role: tool` messages with the right `tool_call_id`
//!   before the conversation goes on.
//! - Every request is recorded ([`OpenAiRequest`]) with its parsed JSON body.
//!
//! Replies are consumed one per accepted request, in order; a request with nothing scripted
//! gets HTTP 500 naming the problem and an unknown route gets 404, so a test that makes
//! unexpected calls fails loudly.
//!
//! # Examples
//!
//! ```
//! use strands_testkit::openai::FakeOpenAi;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use tokio::net::TcpStream;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let fake = FakeOpenAi::builder()
//!     .api_key("sk-test")
//!     .text("Hello!")
//!     .start()
//!     .await?;
//!
//! let body = r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
//! let address = fake.base_url().trim_start_matches("http://").trim_end_matches("/v1").to_owned();
//! let mut stream = TcpStream::connect(address).await?;
//! stream
//!     .write_all(
//!         format!(
//!             "POST /v1/chat/completions HTTP/1.1\r\nhost: fake\r\nauthorization: Bearer sk-test\r\n\
//!              content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
//!             body.len()
//!         )
//!         .as_bytes(),
//!     )
//!     .await?;
//! let mut answer = String::new();
//! stream.read_to_string(&mut answer).await?;
//! assert!(answer.starts_with("HTTP/1.1 200 OK"));
//! assert!(answer.contains(r#""delta":{"content":"Hello!"}"#));
//! assert!(answer.contains("data: [DONE]"));
//!
//! let requests = fake.requests();
//! assert_eq!(requests[0].body["model"], "gpt-4o-mini");
//! assert_eq!(requests[0].bearer_token(), Some("sk-test"));
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub mod chunks;
mod completion;
mod reply;
mod server;
mod validate;

#[doc(inline)]
pub use reply::{Reply, SseFrame};

use server::Shared;

/// What the fake decided about a request's `Authorization` header.
///
/// # Examples
///
/// ```
/// use strands_testkit::openai::AuthOutcome;
///
/// assert_ne!(AuthOutcome::Accepted, AuthOutcome::InvalidApiKey);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthOutcome {
    /// The fake has no API key set and accepts any request (as Ollama and the llama.cpp server
    /// do).
    NotRequired,
    /// `Authorization: Bearer <the key>`.
    Accepted,
    /// No `Authorization: Bearer` header; answered 401.
    MissingApiKey,
    /// A bearer token other than the key; answered 401 `invalid_api_key`.
    InvalidApiKey,
}

/// One HTTP request the fake received, as recorded by [`FakeOpenAi::requests`].
///
/// Python: no equivalent (the Python SDK's tests patch the `openai` client).
///
/// # Examples
///
/// ```
/// use strands_testkit::openai::OpenAiRequest;
///
/// /// The `tool_call_id`s of the tool messages a request sent.
/// fn tool_call_ids(request: &OpenAiRequest) -> Vec<String> {
///     request.body["messages"]
///         .as_array()
///         .into_iter()
///         .flatten()
///         .filter(|m| m["role"] == "tool")
///         .filter_map(|m| m["tool_call_id"].as_str().map(str::to_owned))
///         .collect()
/// }
/// # let _ = tool_call_ids;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OpenAiRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The request target as sent, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Every header in the order received; names are lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON; [`serde_json::Value::Null`] when empty or not JSON.
    pub body: serde_json::Value,
    /// What the fake decided about the credentials.
    pub auth: AuthOutcome,
}

impl OpenAiRequest {
    /// The value of the first header called `name` (compared case-insensitively).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::OpenAiRequest;
    ///
    /// fn content_type(request: &OpenAiRequest) -> Option<&str> {
    ///     request.header("Content-Type")
    /// }
    /// # let _ = content_type;
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The token of an `Authorization: Bearer <token>` header.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::OpenAiRequest;
    ///
    /// fn sent_no_key(request: &OpenAiRequest) -> bool {
    ///     request.bearer_token().is_none()
    /// }
    /// # let _ = sent_no_key;
    /// ```
    pub fn bearer_token(&self) -> Option<&str> {
        let value = self.header("authorization")?.trim();
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    }
}

/// A fake OpenAI-compatible server on `127.0.0.1:<random port>` that plays scripted
/// [`Reply`]s, checks the bearer key (when one is set) and records every request. See the
/// [module docs](self).
///
/// The server runs on the tokio runtime that started it and shuts down, closing every
/// connection, when this value is dropped.
///
/// Python: no equivalent (the Python SDK's tests patch the `openai` client).
///
/// # Examples
///
/// ```
/// use strands_testkit::openai::{FakeOpenAi, Reply};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let fake = FakeOpenAi::start().await?; // no key required, like Ollama
/// fake.push(Reply::rate_limited(Some(1)));
/// fake.push(Reply::text("recovered"));
/// assert!(fake.base_url().ends_with("/v1"));
/// assert_eq!(fake.pending_replies(), 2);
/// # Ok(())
/// # }
/// ```
pub struct FakeOpenAi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeOpenAi {
    /// Starts scripting a fake.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::FakeOpenAi;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeOpenAi::builder()
    ///     .api_key("sk-test")
    ///     .tool_call("call_1", "add", r#"{"a": 1, "b": 2}"#)
    ///     .text("3")
    ///     .start()
    ///     .await?;
    /// assert_eq!(fake.pending_replies(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> FakeOpenAiBuilder {
        FakeOpenAiBuilder::default()
    }

    /// Binds `127.0.0.1:0` and serves without requiring an API key, with nothing scripted yet.
    ///
    /// # Errors
    ///
    /// Fails if it is not called inside a tokio runtime (run the test with `#[tokio::test]`) or
    /// if the loopback port cannot be bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::openai::FakeOpenAi;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeOpenAi::start().await?;
    /// assert!(fake.requests().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start() -> std::io::Result<Self> {
        Self::builder().start().await
    }

    /// The base URL to give the client, e.g. `http://127.0.0.1:40123/v1`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::openai::FakeOpenAi;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeOpenAi::start().await?;
    /// assert!(fake.base_url().starts_with("http://127.0.0.1:"));
    /// assert!(fake.base_url().ends_with("/v1"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Appends a reply to the script. Replies are consumed one per accepted request, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::openai::{FakeOpenAi, Reply};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeOpenAi::start().await?;
    /// fake.push(Reply::context_length_exceeded());
    /// # Ok(())
    /// # }
    /// ```
    pub fn push(&self, reply: Reply) {
        self.shared.push(reply);
    }

    /// Replies scripted but not played yet.
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::openai::{FakeOpenAi, Reply};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeOpenAi::start().await?;
    /// fake.push(Reply::text("hi"));
    /// assert_eq!(fake.pending_replies(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn pending_replies(&self) -> usize {
        self.shared.pending_replies()
    }

    /// Every request received so far, in order, including rejected ones. Requests refused
    /// before their body was read (oversized or malformed HTTP) are not recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::openai::FakeOpenAi;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeOpenAi::start().await?;
    /// // ... run the code under test ...
    /// for request in fake.requests() {
    ///     println!("{} {} {}", request.method, request.path, request.body["model"]);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn requests(&self) -> Vec<OpenAiRequest> {
        self.shared.requests()
    }

    /// Requires `Authorization: Bearer <api_key>` from now on (`None`: accept anything), e.g.
    /// to simulate a rotated key.
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::openai::FakeOpenAi;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeOpenAi::builder().api_key("sk-old").start().await?;
    /// fake.set_api_key(Some("sk-new"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_api_key(&self, api_key: Option<&str>) {
        self.shared.set_auth(api_key.map(str::to_owned));
    }
}

impl fmt::Debug for FakeOpenAi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeOpenAi")
            .field("addr", &self.addr)
            .field(
                "api_key",
                &if self.shared.auth().is_some() {
                    "(set, hidden)"
                } else {
                    "(none)"
                },
            )
            .field("pending_replies", &self.shared.pending_replies())
            .field("requests", &self.shared.request_count())
            .finish_non_exhaustive()
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Scripts a [`FakeOpenAi`] before it starts, the way
/// [`ScriptedModel::builder`](crate::ScriptedModel::builder) scripts a model.
///
/// # Examples
///
/// ```
/// use strands_testkit::openai::{FakeOpenAi, Reply, chunks};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let fake = FakeOpenAi::builder()
///     .rate_limited(Some(1))
///     .tool_calls(&[("call_a", "add", r#"{"a": 1, "b": 2}"#), ("call_b", "add", r#"{"a": 3, "b": 4}"#)])
///     .reply(Reply::Stream(chunks::ollama_text_turn(&["3 and ", "7."])))
///     .start()
///     .await?;
/// assert_eq!(fake.pending_replies(), 3);
/// # Ok(())
/// # }
/// ```
#[derive(Default)]
#[must_use]
pub struct FakeOpenAiBuilder {
    api_key: Option<String>,
    replies: Vec<Reply>,
}

impl fmt::Debug for FakeOpenAiBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeOpenAiBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "(set, hidden)"))
            .field("replies", &self.replies.len())
            .finish()
    }
}

impl FakeOpenAiBuilder {
    /// Requires `Authorization: Bearer <api_key>`; without it every request is accepted.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// Appends any reply.
    pub fn reply(mut self, reply: Reply) -> Self {
        self.replies.push(reply);
        self
    }

    /// A streamed text answer ([`Reply::text`]).
    pub fn text(self, text: &str) -> Self {
        self.reply(Reply::text(text))
    }

    /// One tool call whose arguments arrive in many small chunks ([`Reply::tool_calls`]).
    pub fn tool_call(self, id: &str, name: &str, arguments: &str) -> Self {
        self.reply(Reply::tool_calls(&[(id, name, arguments)]))
    }

    /// Several `(id, name, arguments)` tool calls in one turn, their chunks interleaved
    /// ([`Reply::tool_calls`]).
    pub fn tool_calls(self, calls: &[(&str, &str, &str)]) -> Self {
        self.reply(Reply::tool_calls(calls))
    }

    /// HTTP 429 `rate_limit_exceeded` ([`Reply::rate_limited`]).
    pub fn rate_limited(self, retry_after_seconds: Option<u64>) -> Self {
        self.reply(Reply::rate_limited(retry_after_seconds))
    }

    /// HTTP 400 `context_length_exceeded` ([`Reply::context_length_exceeded`]).
    pub fn context_length_exceeded(self) -> Self {
        self.reply(Reply::context_length_exceeded())
    }

    /// A stream cut after `partial` text ([`Reply::cut_mid_stream`]).
    pub fn cut_mid_stream(self, partial: &str) -> Self {
        self.reply(Reply::cut_mid_stream(partial))
    }

    /// Binds `127.0.0.1:0` and starts serving the script on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// Fails if it is not called inside a tokio runtime (run the test with `#[tokio::test]`) or
    /// if the loopback port cannot be bound.
    pub async fn start(self) -> std::io::Result<FakeOpenAi> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            std::io::Error::other(
                "FakeOpenAi::start needs a tokio runtime; run the test with #[tokio::test]",
            )
        })?;
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(self.api_key, self.replies));
        let task = runtime.spawn(server::accept_loop(listener, Arc::clone(&shared)));
        Ok(FakeOpenAi { addr, shared, task })
    }
}
