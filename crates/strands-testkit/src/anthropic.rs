//! A fake Anthropic Messages API that speaks the documented wire format.
//!
//! [`FakeAnthropic`] is an HTTP/1.1 server on `127.0.0.1` answering `POST /v1/messages` the way
//! Anthropic does, so an HTTP client (such as `strands-models`' `AnthropicModel`) can be tested end
//! to end without a network:
//!
//! - Every request must carry the expected `x-api-key` (else 401 `authentication_error`) and
//!   `anthropic-version: 2023-06-01` (else 400), and ask for a stream (`"stream": true`).
//! - Streams are `text/event-stream` with Anthropic's events (`message_start`,
//!   `content_block_start`/`_delta`/`_stop`, `message_delta`, `message_stop`, `ping`, `error`),
//!   one HTTP chunk per event; see [`events`] for builders and [`Reply`] for whole scripted
//!   answers: text, thinking, tool uses with inputs split over many `input_json_delta` pieces,
//!   errors (429 with `retry-after`, 529, "prompt is too long", 401), an `overloaded_error` event
//!   mid-stream, and a connection cut part-way.
//! - Every request is recorded ([`AnthropicRequest`]) with its headers, parsed JSON body and the
//!   outcome of the key check.
//!
//! Replies are consumed one per accepted request, in order; a request with nothing scripted gets
//! HTTP 500 naming the problem, and an unknown path 404, so unexpected calls fail loudly.
//!
//! # Examples
//!
//! ```
//! use strands_testkit::anthropic::{AuthOutcome, FakeAnthropic, Reply};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let fake = FakeAnthropic::builder()
//!     .api_key("sk-ant-test")
//!     .rate_limited(Some(1))
//!     .text("Hello, world")
//!     .start()
//!     .await?;
//! fake.push(Reply::tool_uses(&[("toolu_01", "add", r#"{"a": 1, "b": 2}"#)]));
//! assert!(fake.base_url().starts_with("http://127.0.0.1:"));
//! // Point the client at fake.base_url() with the key "sk-ant-test", then inspect:
//! for request in fake.requests() {
//!     assert_eq!(request.auth, AuthOutcome::Accepted);
//!     assert_eq!(request.body["stream"], true);
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub mod events;
mod reply;
mod server;

#[doc(inline)]
pub use reply::Reply;

use server::Shared;

/// What the fake decided about a request's headers.
///
/// # Examples
///
/// ```
/// use strands_testkit::anthropic::AuthOutcome;
///
/// assert_ne!(AuthOutcome::Accepted, AuthOutcome::InvalidApiKey);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthOutcome {
    /// The key and version were right.
    Accepted,
    /// No `x-api-key` header (401 `authentication_error`).
    MissingApiKey,
    /// `x-api-key` did not match (401 `authentication_error` "invalid x-api-key").
    InvalidApiKey,
    /// No `anthropic-version` header (400 `invalid_request_error`).
    MissingVersion,
    /// An `anthropic-version` other than `2023-06-01` (400 `invalid_request_error`).
    UnsupportedVersion,
}

/// One HTTP request the fake received, as recorded by [`FakeAnthropic::requests`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use strands_testkit::anthropic::FakeAnthropic;
///
/// let fake = FakeAnthropic::start("sk-ant-test").await?;
/// // ... drive a client against fake.base_url() ...
/// for request in fake.requests() {
///     println!("{} {} model={}", request.method, request.path, request.body["model"]);
///     assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AnthropicRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The request target as sent, e.g. `/v1/messages`.
    pub path: String,
    /// Every header in the order received; names are lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON; [`serde_json::Value::Null`] when empty or not JSON.
    pub body: serde_json::Value,
    /// What the fake decided about the key and version headers.
    pub auth: AuthOutcome,
}

impl AnthropicRequest {
    /// The value of the first header called `name` (compared case-insensitively).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::anthropic::AnthropicRequest;
    ///
    /// fn beta(request: &AnthropicRequest) -> Option<&str> {
    ///     request.header("Anthropic-Beta")
    /// }
    /// # let _ = beta;
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A fake Anthropic Messages API on `127.0.0.1:<random port>` that checks the API key, records
/// every request and plays scripted [`Reply`]s. See the [module docs](self).
///
/// The server runs on the tokio runtime that started it and shuts down, closing every
/// connection, when this value is dropped.
///
/// Python: no equivalent (the Python SDK's tests mock the `anthropic` client).
pub struct FakeAnthropic {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeAnthropic {
    /// Starts a script: the expected API key (default `sk-ant-fake-key`) and the replies.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use strands_testkit::anthropic::FakeAnthropic;
    ///
    /// let fake = FakeAnthropic::builder()
    ///     .api_key("sk-ant-test")
    ///     .overloaded()
    ///     .text("recovered")
    ///     .start()
    ///     .await?;
    /// assert_eq!(fake.pending_replies(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> FakeAnthropicBuilder {
        FakeAnthropicBuilder::default()
    }

    /// Binds `127.0.0.1:0` and starts serving on the current tokio runtime, expecting `api_key`,
    /// with nothing scripted yet.
    ///
    /// # Errors
    ///
    /// Fails outside a tokio runtime (run the test with `#[tokio::test]`) or if the loopback
    /// port cannot be bound.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use strands_testkit::anthropic::{FakeAnthropic, Reply};
    ///
    /// let fake = FakeAnthropic::start("sk-ant-test").await?;
    /// fake.push(Reply::text("Hi"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(api_key: impl Into<String>) -> std::io::Result<Self> {
        Self::start_with(api_key.into(), Vec::new()).await
    }

    async fn start_with(api_key: String, replies: Vec<Reply>) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            std::io::Error::other(
                "FakeAnthropic::start needs a tokio runtime; run the test with #[tokio::test]",
            )
        })?;
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(api_key, replies));
        let task = runtime.spawn(server::accept_loop(listener, Arc::clone(&shared)));
        Ok(Self { addr, shared, task })
    }

    /// The base URL to give the client, e.g. `http://127.0.0.1:40123` (requests go to
    /// `<base_url>/v1/messages`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = strands_testkit::anthropic::FakeAnthropic::start("k").await?;
    /// assert!(fake.base_url().starts_with("http://127.0.0.1:"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Appends a reply to the script.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use strands_testkit::anthropic::{FakeAnthropic, Reply};
    ///
    /// let fake = FakeAnthropic::start("k").await?;
    /// fake.push(Reply::overloaded());
    /// fake.push(Reply::text("recovered"));
    /// assert_eq!(fake.pending_replies(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn push(&self, reply: Reply) {
        self.shared.push(reply);
    }

    /// Replies not consumed yet.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = strands_testkit::anthropic::FakeAnthropic::start("k").await?;
    /// assert_eq!(fake.pending_replies(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn pending_replies(&self) -> usize {
        self.shared.pending_replies()
    }

    /// Every request received so far, in order, including rejected ones. Requests refused before
    /// their body was read (oversized or malformed HTTP) are not recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = strands_testkit::anthropic::FakeAnthropic::start("k").await?;
    /// assert!(fake.requests().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn requests(&self) -> Vec<AnthropicRequest> {
        self.shared.requests()
    }

    /// Replaces the expected API key for later requests (a rotated or revoked key).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = strands_testkit::anthropic::FakeAnthropic::start("old-key").await?;
    /// fake.set_api_key("new-key"); // "old-key" now gets 401 authentication_error
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_api_key(&self, api_key: impl Into<String>) {
        self.shared.set_auth(api_key.into());
    }
}

impl fmt::Debug for FakeAnthropic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeAnthropic")
            .field("addr", &self.addr)
            .field("pending_replies", &self.shared.pending_replies())
            .field("requests", &self.shared.request_count())
            .finish_non_exhaustive()
    }
}

impl Drop for FakeAnthropic {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Scripts a [`FakeAnthropic`] reply by reply, like `ScriptedModel::builder()` scripts a model.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use strands_testkit::anthropic::{FakeAnthropic, Reply};
///
/// let fake = FakeAnthropic::builder()
///     .api_key("sk-ant-test")
///     .tool_uses(&[("toolu_01", "add", r#"{"a": 1, "b": 2}"#), ("toolu_02", "add", r#"{"a": 3, "b": 4}"#)])
///     .thinking("Both sums are done.", "EqQBCgIYAhIM", "3 and 7.")
///     .prompt_too_long()
///     .cut_mid_stream("Hel")
///     .reply(Reply::api_error())
///     .start()
///     .await?;
/// assert_eq!(fake.pending_replies(), 5);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct FakeAnthropicBuilder {
    api_key: Option<String>,
    replies: Vec<Reply>,
}

impl FakeAnthropicBuilder {
    /// The key the fake expects in `x-api-key` (default `sk-ant-fake-key`).
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// Any reply.
    pub fn reply(mut self, reply: Reply) -> Self {
        self.replies.push(reply);
        self
    }

    /// A text turn ([`Reply::text`]).
    pub fn text(self, text: &str) -> Self {
        self.reply(Reply::text(text))
    }

    /// One tool use, its input streamed in pieces ([`Reply::tool_uses`]).
    pub fn tool_use(self, id: &str, name: &str, input_json: &str) -> Self {
        self.reply(Reply::tool_uses(&[(id, name, input_json)]))
    }

    /// Several tool uses in one turn ([`Reply::tool_uses`]).
    pub fn tool_uses(self, uses: &[(&str, &str, &str)]) -> Self {
        self.reply(Reply::tool_uses(uses))
    }

    /// Thinking with a signature, then text ([`Reply::thinking`]).
    pub fn thinking(self, thinking: &str, signature: &str, text: &str) -> Self {
        self.reply(Reply::thinking(thinking, signature, text))
    }

    /// 429 `rate_limit_error` ([`Reply::rate_limited`]).
    pub fn rate_limited(self, retry_after: Option<u64>) -> Self {
        self.reply(Reply::rate_limited(retry_after))
    }

    /// 529 `overloaded_error` ([`Reply::overloaded`]).
    pub fn overloaded(self) -> Self {
        self.reply(Reply::overloaded())
    }

    /// An `overloaded_error` event after some text ([`Reply::overloaded_mid_stream`]).
    pub fn overloaded_mid_stream(self, partial: &str) -> Self {
        self.reply(Reply::overloaded_mid_stream(partial))
    }

    /// 400 "prompt is too long" ([`Reply::prompt_too_long`]).
    pub fn prompt_too_long(self) -> Self {
        self.reply(Reply::prompt_too_long())
    }

    /// A connection cut after some text ([`Reply::cut_mid_stream`]).
    pub fn cut_mid_stream(self, partial: &str) -> Self {
        self.reply(Reply::cut_mid_stream(partial))
    }

    /// Starts the fake with this script (see [`FakeAnthropic::start`]).
    ///
    /// # Errors
    ///
    /// Fails outside a tokio runtime or if the loopback port cannot be bound.
    pub async fn start(self) -> std::io::Result<FakeAnthropic> {
        FakeAnthropic::start_with(
            self.api_key.unwrap_or_else(|| "sk-ant-fake-key".to_owned()),
            self.replies,
        )
        .await
    }
}
