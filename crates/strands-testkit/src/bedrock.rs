//! A fake Amazon Bedrock Runtime endpoint that speaks the real wire protocol.
//!
//! [`FakeBedrock`] is an HTTP/1.1 server on `127.0.0.1` that answers `POST
//! /model/{modelId}/converse` and `POST /model/{modelId}/converse-stream` the way Bedrock does,
//! so the official `aws-sdk-bedrockruntime` client (and anything built on it) can be tested
//! end to end without a network:
//!
//! - ConverseStream replies are real `application/vnd.amazon.eventstream` frames, sent one HTTP
//!   chunk per frame, with Bedrock's `"p"` padding key; in-stream exceptions are modelled
//!   exception frames. See [`Reply`], [`Frame`] and the [`frames`] helpers.
//! - Errors are restJson1 errors with `x-amzn-errortype`, so the SDK maps them to its typed errors
//!   and retries exactly what it retries against AWS ([`Reply::throttling`], ...).
//! - Every request's SigV4 signature is recomputed with `aws-sigv4` and checked against the
//!   credentials the test expects ([`FakeAuth`]), which proves which credentials signed a call;
//!   Bedrock API keys (`Authorization: Bearer`) are supported too.
//! - Every request is recorded ([`BedrockRequest`]): headers such as `amz-sdk-request`, the
//!   parsed Converse JSON body, the percent-decoded model id and the authentication outcome.
//!
//! Replies are consumed one per request, in order, after authentication succeeds; a request with
//! nothing scripted gets HTTP 500 naming the problem, and an unknown path gets 404, so a test
//! that makes unexpected calls fails loudly.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//!
//! use aws_config::{BehaviorVersion, Region, retry::RetryConfig};
//! use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, ConverseStreamOutput, Message};
//! use aws_sdk_bedrockruntime::config::Credentials;
//! use strands_testkit::bedrock::{AuthOutcome, FakeAuth, FakeBedrock, Reply, frames};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let fake = FakeBedrock::start(FakeAuth::sigv4("AKIDEXAMPLE", "secret")).await?;
//! fake.push(Reply::throttling()); // the SDK retries this one ...
//! fake.push(Reply::Stream(frames::text_turn(&["Hello", ", world"], "end_turn"))); // ... and gets this
//!
//! let config = aws_config::defaults(BehaviorVersion::latest())
//!     .region(Region::new("us-east-1"))
//!     .credentials_provider(Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
//!     .endpoint_url(fake.endpoint_url())
//!     .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(1)))
//!     .load()
//!     .await;
//! let client = aws_sdk_bedrockruntime::Client::new(&config);
//!
//! let mut output = client
//!     .converse_stream()
//!     .model_id("us.anthropic.claude-sonnet-4-20250514-v1:0")
//!     .messages(
//!         Message::builder()
//!             .role(ConversationRole::User)
//!             .content(ContentBlock::Text("Hi".to_owned()))
//!             .build()?,
//!     )
//!     .send()
//!     .await?;
//! let mut text = String::new();
//! while let Some(event) = output.stream.recv().await? {
//!     if let ConverseStreamOutput::ContentBlockDelta(delta) = event {
//!         if let Some(Ok(fragment)) = delta.delta().map(|d| d.as_text()) {
//!             text.push_str(fragment);
//!         }
//!     }
//! }
//! assert_eq!(text, "Hello, world");
//!
//! let requests = fake.requests();
//! assert_eq!(requests.len(), 2);
//! assert!(requests.iter().all(|r| r.auth == AuthOutcome::Accepted));
//! assert_eq!(requests[1].model_id, "us.anthropic.claude-sonnet-4-20250514-v1:0");
//! assert_eq!(requests[1].body["messages"][0]["content"][0]["text"], "Hi");
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub(crate) mod auth;
pub mod frames;
mod reply;
mod request;
mod server;

#[doc(inline)]
pub use auth::{AuthOutcome, FakeAuth};
#[doc(inline)]
pub use reply::{Frame, Reply};
#[doc(inline)]
pub use request::{BedrockRequest, Operation};

use server::Shared;

/// A fake Bedrock Runtime endpoint on `127.0.0.1:<random port>` that plays scripted
/// [`Reply`]s, verifies credentials and records every request. See the
/// [module docs](self) for a complete example with the AWS SDK.
///
/// The server runs on the tokio runtime that called [`FakeBedrock::start`] and shuts down,
/// closing every connection, when this value is dropped.
///
/// Python: no equivalent (the Python SDK's tests patch `boto3`).
///
/// # Examples
///
/// ```
/// use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let fake = FakeBedrock::start(FakeAuth::Any).await?;
/// fake.push(Reply::Stream(frames::text_turn(&["Hi"], "end_turn")));
/// assert!(fake.endpoint_url().starts_with("http://127.0.0.1:"));
/// // point a client at fake.endpoint_url() ...
/// assert!(fake.requests().is_empty());
/// # Ok(())
/// # }
/// ```
pub struct FakeBedrock {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeBedrock {
    /// Binds `127.0.0.1:0` and starts serving on the current tokio runtime, expecting `auth`.
    ///
    /// # Errors
    ///
    /// Fails if it is not called inside a tokio runtime (run the test with `#[tokio::test]`) or
    /// if the loopback port cannot be bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::bedrock::{FakeAuth, FakeBedrock};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeBedrock::start(FakeAuth::sigv4("AKIDEXAMPLE", "secret")).await?;
    /// # let _ = fake;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(auth: FakeAuth) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            std::io::Error::other(
                "FakeBedrock::start needs a tokio runtime; run the test with #[tokio::test]",
            )
        })?;
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(auth, Vec::new()));
        let task = runtime.spawn(server::accept_loop(listener, Arc::clone(&shared)));
        Ok(Self { addr, shared, task })
    }

    /// The base URL to give the client, e.g. `http://127.0.0.1:40123` (for
    /// `aws_config::ConfigLoader::endpoint_url` or `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::bedrock::{FakeAuth, FakeBedrock};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeBedrock::start(FakeAuth::Any).await?;
    /// let url = fake.endpoint_url();
    /// assert!(url.starts_with("http://127.0.0.1:"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Appends a reply to the script. Replies are consumed one per authenticated Converse or
    /// ConverseStream request, in order; every SDK retry consumes one too.
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeBedrock::start(FakeAuth::Any).await?;
    /// fake.push(Reply::service_unavailable());
    /// fake.push(Reply::Stream(frames::text_turn(&["recovered"], "end_turn")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn push(&self, reply: Reply) {
        self.shared.push(reply);
    }

    /// Every request received so far, in order, including rejected ones (failed authentication,
    /// unknown paths, nothing scripted). Requests refused before their body was read (oversized
    /// or malformed HTTP) are not recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::bedrock::{FakeAuth, FakeBedrock};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeBedrock::start(FakeAuth::Any).await?;
    /// // ... run the code under test ...
    /// let attempts: Vec<_> = fake
    ///     .requests()
    ///     .iter()
    ///     .filter_map(|r| r.header("amz-sdk-request").map(str::to_owned))
    ///     .collect();
    /// # assert!(attempts.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn requests(&self) -> Vec<BedrockRequest> {
        self.shared.requests()
    }

    /// Replaces the expected credentials for subsequent requests, e.g. to simulate key rotation.
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::bedrock::{FakeAuth, FakeBedrock};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeBedrock::start(FakeAuth::sigv4("AKIDOLD", "old-secret")).await?;
    /// // ... the old key works ...
    /// fake.set_auth(FakeAuth::sigv4("AKIDNEW", "new-secret"));
    /// // ... now requests signed with AKIDOLD get UnrecognizedClientException ...
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_auth(&self, auth: FakeAuth) {
        self.shared.set_auth(auth);
    }
}

impl fmt::Debug for FakeBedrock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeBedrock")
            .field("addr", &self.addr)
            .field("pending_replies", &self.shared.pending_replies())
            .field("requests", &self.shared.request_count())
            .finish_non_exhaustive()
    }
}

impl Drop for FakeBedrock {
    fn drop(&mut self) {
        self.task.abort();
    }
}
