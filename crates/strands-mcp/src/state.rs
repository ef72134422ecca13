//! What a client and its tools share: the connection's state and the
//! server's tools.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rmcp::handler::client::progress::ProgressDispatcher;
use rmcp::service::{Peer, RoleClient};
use strands_core::Tool;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::filter::ToolFilters;
use crate::transport::McpTransport;

/// The state of the connection, as tools see it.
#[derive(Clone)]
pub(crate) enum Connection {
    /// Not connected yet, or reconnecting.
    Connecting,
    /// Connected.
    Ready(Peer<RoleClient>),
    /// The last attempt failed; another follows after a backoff.
    Down(String),
    /// [`McpClient::stop`] was called.
    Stopped,
}

/// What the tools of one client share.
pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) transport: McpTransport,
    pub(crate) prefix: Option<String>,
    pub(crate) filters: ToolFilters,
    pub(crate) call_timeout: Option<Duration>,
    pub(crate) startup_timeout: Duration,
    /// The `clientInfo` sent in the handshake: a name and a version.
    pub(crate) client_info: (String, String),
    /// Signs HTTP requests (AgentCore Gateway with IAM authorization).
    #[cfg(feature = "sigv4")]
    pub(crate) signer: Option<crate::SigV4Signer>,
    /// OAuth client credentials and the token they got.
    #[cfg(feature = "oauth")]
    pub(crate) oauth: Option<crate::oauth::OAuth>,
    pub(crate) state: watch::Sender<Connection>,
    /// Set once the first connection attempt has finished, whatever its outcome.
    pub(crate) first_attempt_done: watch::Sender<bool>,
    /// Whether the tools were listed at least once (they are kept while reconnecting).
    pub(crate) listed: AtomicBool,
    pub(crate) tools: RwLock<Arc<[Arc<dyn Tool>]>>,
    pub(crate) progress: ProgressDispatcher,
    pub(crate) refresh: Arc<Notify>,
    pub(crate) shutdown: CancellationToken,
}
