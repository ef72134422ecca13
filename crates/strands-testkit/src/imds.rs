//! A fake EC2 / AgentCore microVM metadata service (IMDS / MMDS) serving an instance role's
//! credentials.
//!
//! [`FakeImds`] is an HTTP/1.1 server on `127.0.0.1` that answers the three requests a
//! credential provider makes, the way the real service does:
//!
//! 1. `PUT /latest/api/token` (with `x-aws-ec2-metadata-token-ttl-seconds`) hands out an IMDSv2
//!    session token, or answers `405` as AgentCore's MMDS does, or `404`, depending on the
//!    [`ImdsMode`];
//! 2. `GET /latest/meta-data/iam/security-credentials/` lists the role, `agent-role`;
//! 3. `GET /latest/meta-data/iam/security-credentials/agent-role` returns the credentials
//!    document (`Code`, `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration` one hour ahead).
//!
//! In [`ImdsMode::V2`] a `GET` without the right token gets `401`; [`ImdsMode::Hang`] accepts
//! connections and never answers. Every request is recorded ([`FakeImds::requests`]); any other
//! request gets `404` naming what the fake serves, so a test that makes unexpected calls fails
//! loudly. Point a client at it with `AWS_EC2_METADATA_SERVICE_ENDPOINT=<endpoint>` or the
//! client's own endpoint setting.
//!
//! # Examples
//!
//! ```
//! use strands_testkit::imds::{FakeImds, ImdsMode};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use tokio::net::TcpStream;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! // AgentCore's metadata service: the IMDSv2 token request is answered with 405.
//! let fake = FakeImds::start(ImdsMode::TokenMethodNotAllowed).await?;
//! let address = fake.endpoint().trim_start_matches("http://").to_owned();
//!
//! let mut stream = TcpStream::connect(address).await?;
//! stream
//!     .write_all(b"PUT /latest/api/token HTTP/1.1\r\nhost: imds\r\nconnection: close\r\n\
//!                  x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n")
//!     .await?;
//! let mut answer = String::new();
//! stream.read_to_string(&mut answer).await?;
//! assert!(answer.starts_with("HTTP/1.1 405"));
//!
//! assert_eq!(
//!     fake.requests(),
//!     vec![("PUT".to_owned(), "/latest/api/token".to_owned(), false)]
//! );
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod server;
mod time;

use server::Shared;

/// How a [`FakeImds`] behaves.
///
/// Python: no equivalent.
///
/// # Examples
///
/// ```
/// use strands_testkit::imds::ImdsMode;
///
/// // What Amazon Bedrock AgentCore Runtime's microVM metadata service does.
/// let agentcore = ImdsMode::TokenMethodNotAllowed;
/// assert_ne!(agentcore, ImdsMode::V2);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImdsMode {
    /// EC2 with IMDSv2 required: `PUT /latest/api/token` returns a token (and its TTL header);
    /// every `GET` must carry it in `x-aws-ec2-metadata-token`, or gets `401`.
    V2,
    /// Amazon Bedrock AgentCore's MMDS: the token `PUT` is answered `405 Method Not Allowed`;
    /// tokenless (IMDSv1) `GET`s work.
    TokenMethodNotAllowed,
    /// The token `PUT` is answered `404 Not Found`; tokenless (IMDSv1) `GET`s work.
    TokenNotFound,
    /// Accepts TCP connections and reads requests, but never answers (a black hole).
    Hang,
    /// Like [`ImdsMode::V2`], but no role is attached: the role listing answers `404`.
    NoRole,
}

/// A fake metadata service on `127.0.0.1:<random port>`. See the [module docs](self).
///
/// It serves fixed test credentials ([`FakeImds::credentials`]) for the role `agent-role`,
/// records every request and runs on the tokio runtime that called [`FakeImds::start`]; it shuts
/// down, closing every connection, when dropped.
///
/// Python: no equivalent (botocore's tests patch the HTTP layer instead of running a server).
///
/// # Examples
///
/// ```
/// use strands_testkit::imds::{FakeImds, ImdsMode};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let fake = FakeImds::start(ImdsMode::V2).await?;
/// // e.g. std::env::set_var("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.endpoint()) in a child
/// // process, or hand fake.endpoint() to the provider under test.
/// assert!(fake.endpoint().starts_with("http://127.0.0.1:"));
/// # Ok(())
/// # }
/// ```
pub struct FakeImds {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeImds {
    /// Binds `127.0.0.1:0` and starts serving in `mode` on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// Fails if it is not called inside a tokio runtime (run the test with `#[tokio::test]`) or
    /// if the loopback port cannot be bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::imds::{FakeImds, ImdsMode};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeImds::start(ImdsMode::TokenNotFound).await?;
    /// assert!(fake.requests().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(mode: ImdsMode) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            std::io::Error::other(
                "FakeImds::start needs a tokio runtime; run the test with #[tokio::test]",
            )
        })?;
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(mode));
        let task = runtime.spawn(server::accept_loop(listener, Arc::clone(&shared)));
        Ok(Self { addr, shared, task })
    }

    /// The base URL to give the client, e.g. `http://127.0.0.1:40123` (the value for
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::imds::{FakeImds, ImdsMode};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeImds::start(ImdsMode::V2).await?;
    /// assert!(fake.endpoint().starts_with("http://127.0.0.1:"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `(AccessKeyId, SecretAccessKey, Token)` the fake currently serves: fixed test values
    /// until [`FakeImds::set_credentials`] replaces them.
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::imds::{FakeImds, ImdsMode};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeImds::start(ImdsMode::V2).await?;
    /// let (access_key_id, _secret, _token) = fake.credentials();
    /// assert!(access_key_id.starts_with("ASIA"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn credentials(&self) -> (String, String, String) {
        self.shared.credentials()
    }

    /// Replaces the credentials served from now on, e.g. to simulate the role's credentials
    /// being rotated.
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::imds::{FakeImds, ImdsMode};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeImds::start(ImdsMode::V2).await?;
    /// fake.set_credentials("ASIAROTATED000000002", "rotated-secret", "rotated-token");
    /// assert_eq!(fake.credentials().0, "ASIAROTATED000000002");
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_credentials(&self, access_key_id: &str, secret_access_key: &str, token: &str) {
        self.shared
            .set_credentials(access_key_id, secret_access_key, token);
    }

    /// Every request received so far, in order, as `(method, path, had_token_header)`, where
    /// `had_token_header` says whether `x-aws-ec2-metadata-token` was present (whatever its
    /// value). Requests refused as malformed or oversized HTTP are not recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// # use strands_testkit::imds::{FakeImds, ImdsMode};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = FakeImds::start(ImdsMode::TokenMethodNotAllowed).await?;
    /// // ... run the provider under test ...
    /// let tokenless_gets = fake
    ///     .requests()
    ///     .iter()
    ///     .filter(|(method, _, had_token)| method == "GET" && !had_token)
    ///     .count();
    /// # assert_eq!(tokenless_gets, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn requests(&self) -> Vec<(String, String, bool)> {
        self.shared.requests()
    }
}

impl fmt::Debug for FakeImds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeImds")
            .field("addr", &self.addr)
            .field("mode", &self.shared.mode())
            .field("credentials", &"(set, hidden)")
            .field("requests", &self.shared.request_count())
            .finish_non_exhaustive()
    }
}

impl Drop for FakeImds {
    fn drop(&mut self) {
        self.task.abort();
    }
}
