//! One connection to one MCP server, kept for the life of the process: started in the
//! background, watched, and reconnected with backoff when the server dies.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rmcp::handler::client::progress::ProgressDispatcher;
use rmcp::model::{
    ClientCapabilities, ClientConfig, Implementation, ProgressNotificationParam, ProtocolVersion,
};
use rmcp::service::{ClientCacheConfig, NotificationContext, Peer, RoleClient, RunningService};
use rmcp::{ClientHandler, ServiceExt as _};
use strands_core::Tool;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::filter::ToolFilters;
use crate::state::{Connection, Inner};
use crate::tool::McpTool;
use crate::transport::McpTransport;

/// How long the first connection may take before it counts as failed (Python's
/// `startup_timeout`).
const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one tool call may take by default. Python sets no bound; a server that never
/// answers (or whose answer is dropped for exceeding rmcp's 16 MiB message limit) would then
/// hang the agent.
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(300);
/// The first and the longest wait before reconnecting to a server that failed or died.
const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The most tools taken from one server.
const MAX_TOOLS: usize = 1_000;

/// A connection to one MCP server whose tools Strands agents can call.
///
/// Build it once per process and share it (it is `Clone`): every agent and session uses the same
/// connection, never one per request. [`McpClientBuilder::start`] returns at once and connects
/// in the background; when the server dies or cannot be reached, calls answer the model with an
/// error and the client reconnects with backoff (0.5 s doubling to 30 s).
///
/// ```no_run
/// use strands_mcp::{McpClient, McpTransport};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = McpClient::builder("docs", McpTransport::stdio("npx", ["-y", "@modelcontextprotocol/server-everything"]))
///     .call_timeout(std::time::Duration::from_secs(60))
///     .start();
/// let tools = client.load_tools().await?; // waits for the first connection
/// # drop(tools);
/// client.stop().await;
/// # Ok(())
/// # }
/// ```
///
/// Python: `strands.tools.mcp.MCPClient`.
#[derive(Clone)]
pub struct McpClient {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for McpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpClient")
            .field("name", &self.inner.name)
            .field("transport", &self.inner.transport)
            .finish_non_exhaustive()
    }
}

/// Configures an [`McpClient`].
#[derive(Debug)]
#[must_use]
pub struct McpClientBuilder {
    name: String,
    transport: McpTransport,
    prefix: Option<String>,
    filters: ToolFilters,
    call_timeout: Option<Duration>,
    startup_timeout: Duration,
    client_info: Option<(String, String)>,
    #[cfg(feature = "sigv4")]
    signer: Option<crate::SigV4Signer>,
    #[cfg(feature = "oauth")]
    oauth: Option<crate::ClientCredentials>,
}

/// Why an MCP server's tools are not available.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The server could not be started or reached, or did not finish the handshake.
    #[error("the MCP server {server} is not available: {reason}")]
    Unavailable {
        /// The server's name.
        server: String,
        /// What went wrong.
        reason: String,
    },
    /// [`McpClient::stop`] was called.
    #[error("the MCP client for {server} was stopped")]
    Stopped {
        /// The server's name.
        server: String,
    },
}

impl McpClientBuilder {
    /// Prefixes every tool name with `prefix_` (Python's `prefix`), e.g. to tell two servers'
    /// tools apart.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Which tools to take (default: all).
    pub fn filters(mut self, filters: ToolFilters) -> Self {
        self.filters = filters;
        self
    }

    /// The longest one tool call may take (default 300 s; Python sets none). On timeout the
    /// server is sent a cancellation and the model an error.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// The longest a connection attempt may take (default 30 s).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// The name and version the server is told in the handshake (`clientInfo`; default
    /// `strands-mcp` and this crate's version). Python's `application_name` and
    /// `application_version`.
    pub fn client_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.client_info = Some((name.into(), version.into()));
        self
    }

    /// Signs every HTTP request with AWS Signature Version 4 (AgentCore Gateway with IAM
    /// authorization); ignored for stdio.
    #[cfg(feature = "sigv4")]
    pub fn sigv4(mut self, signer: crate::SigV4Signer) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Authenticates with OAuth client credentials (Python's `auth={"client_id",
    /// "client_secret"}`): the token endpoint is discovered from the server's 401 challenge,
    /// tokens are kept until shortly before they expire and fetched again when refused. Ignored
    /// for stdio.
    #[cfg(feature = "oauth")]
    pub fn oauth(mut self, credentials: crate::ClientCredentials) -> Self {
        self.oauth = Some(credentials);
        self
    }

    /// Starts connecting in the background (needs a Tokio runtime) and returns the client.
    pub fn start(self) -> McpClient {
        let (state, _) = watch::channel(Connection::Connecting);
        let client_info = self.client_info.unwrap_or_else(|| {
            (
                "strands-mcp".to_owned(),
                env!("CARGO_PKG_VERSION").to_owned(),
            )
        });
        let inner = Arc::new(Inner {
            name: self.name,
            transport: self.transport,
            prefix: self.prefix,
            filters: self.filters,
            call_timeout: self.call_timeout,
            startup_timeout: self.startup_timeout,
            client_info,
            #[cfg(feature = "sigv4")]
            signer: self.signer,
            #[cfg(feature = "oauth")]
            oauth: self.oauth.map(crate::oauth::OAuth::new),
            state,
            first_attempt_done: watch::channel(false).0,
            listed: AtomicBool::new(false),
            tools: RwLock::new(Arc::from(Vec::new())),
            progress: ProgressDispatcher::new(),
            refresh: Arc::new(Notify::new()),
            shutdown: CancellationToken::new(),
        });
        tokio::spawn(supervise(inner.clone()));
        McpClient { inner }
    }
}

impl McpClient {
    /// Starts configuring a client for the server `name` (used in logs, errors and, with
    /// [`McpClientBuilder::prefix`], nowhere else).
    pub fn builder(name: impl Into<String>, transport: McpTransport) -> McpClientBuilder {
        McpClientBuilder {
            name: name.into(),
            transport,
            prefix: None,
            filters: ToolFilters::new(),
            call_timeout: Some(DEFAULT_CALL_TIMEOUT),
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            client_info: None,
            #[cfg(feature = "sigv4")]
            signer: None,
            #[cfg(feature = "oauth")]
            oauth: None,
        }
    }

    /// The server's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Waits until the client is connected, or the first attempt failed.
    ///
    /// # Errors
    ///
    /// [`McpError::Unavailable`] when the attempt failed (the client keeps retrying in the
    /// background); [`McpError::Stopped`] after [`McpClient::stop`].
    pub async fn ready(&self) -> Result<(), McpError> {
        let mut state = self.inner.state.subscribe();
        let outcome = state
            .wait_for(|c| !matches!(c, Connection::Connecting))
            .await
            .map(|c| c.clone());
        match outcome {
            Ok(Connection::Ready(_)) => Ok(()),
            Ok(Connection::Down(reason)) => Err(McpError::Unavailable {
                server: self.inner.name.clone(),
                reason,
            }),
            _ => Err(McpError::Stopped {
                server: self.inner.name.clone(),
            }),
        }
    }

    /// Waits until the first connection attempt has finished (at once afterwards), and says
    /// whether the server's tools are known: once listed, they are kept while the client
    /// reconnects, and calls answer the model with an error until it is back.
    ///
    /// This is what an agent built from [`McpClient::tools`] waits for: unlike
    /// [`McpClient::ready`], it does not wait for a reconnection.
    ///
    /// # Errors
    ///
    /// [`McpError::Unavailable`] when the tools were never listed (the client keeps retrying);
    /// [`McpError::Stopped`] after [`McpClient::stop`].
    pub async fn started(&self) -> Result<(), McpError> {
        let mut done = self.inner.first_attempt_done.subscribe();
        let _ = done.wait_for(|done| *done).await;
        if self.inner.listed.load(Ordering::Acquire) {
            return Ok(());
        }
        match &*self.inner.state.borrow() {
            Connection::Stopped => Err(McpError::Stopped {
                server: self.inner.name.clone(),
            }),
            Connection::Down(reason) => Err(McpError::Unavailable {
                server: self.inner.name.clone(),
                reason: reason.clone(),
            }),
            Connection::Connecting | Connection::Ready(_) => Err(McpError::Unavailable {
                server: self.inner.name.clone(),
                reason: "its tools were not listed yet".to_owned(),
            }),
        }
    }

    /// The server's tools as Strands tools, as last listed (empty before the first connection).
    pub fn tools(&self) -> Vec<Arc<dyn Tool>> {
        self.inner
            .tools
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .to_vec()
    }

    /// Waits for the connection, then returns the tools.
    ///
    /// # Errors
    ///
    /// Those of [`McpClient::ready`].
    pub async fn load_tools(&self) -> Result<Vec<Arc<dyn Tool>>, McpError> {
        self.ready().await?;
        Ok(self.tools())
    }

    /// Disconnects: a child process gets its stdin closed, then SIGTERM, then SIGKILL, and is
    /// reaped. Calls in flight and later calls answer with an error.
    pub async fn stop(&self) {
        self.inner.shutdown.cancel();
        let mut state = self.inner.state.subscribe();
        let _ = state.wait_for(|c| matches!(c, Connection::Stopped)).await;
    }
}

/// The rmcp handler: progress to the dispatcher, `list_changed` to the supervisor.
#[derive(Clone)]
struct Handler {
    info: ClientConfig,
    progress: ProgressDispatcher,
    refresh: Arc<Notify>,
}

impl ClientHandler for Handler {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.handle_notification(params).await;
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.refresh.notify_one();
    }

    fn get_info(&self) -> ClientConfig {
        self.info.clone()
    }
}

type Running = RunningService<RoleClient, Handler>;

/// Connects once: spawns the child or opens the HTTP transport, then the handshake.
async fn connect(inner: &Inner) -> Result<Running, String> {
    // The handshake of 2025-11-25, the newest version with `initialize`.
    let (name, version) = &inner.client_info;
    let info = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new(name.clone(), version.clone()),
    )
    .with_protocol_version(ProtocolVersion::V_2025_11_25);
    let handler = Handler {
        info,
        progress: inner.progress.clone(),
        refresh: inner.refresh.clone(),
    };
    let ct = inner.shutdown.child_token();
    match &inner.transport {
        #[cfg(feature = "stdio")]
        McpTransport::Stdio {
            command,
            args,
            env,
            cwd,
        } => {
            let mut cmd = tokio::process::Command::new(command);
            cmd.args(args).envs(env);
            if let Some(dir) = cwd {
                cmd.current_dir(dir);
            }
            let (transport, stderr) = rmcp::transport::TokioChildProcess::builder(cmd)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(|error| format!("{command} could not be started: {error}"))?;
            if let Some(stderr) = stderr {
                tokio::spawn(forward_stderr(inner.name.clone(), stderr));
            }
            handler
                .serve_with_ct(transport, ct)
                .await
                .map_err(|error| error.to_string())
        }
        #[cfg(feature = "http")]
        McpTransport::Http { url, headers } => {
            use rmcp::transport::StreamableHttpClientTransport;
            let config = http_config(url, headers)?;
            let client = shared_http_client().await?;
            #[cfg(feature = "sigv4")]
            if let Some(signer) = &inner.signer {
                let client = crate::sigv4::SigningClient {
                    inner: client,
                    signer: signer.clone(),
                };
                let transport = StreamableHttpClientTransport::with_client(client, config);
                return handler
                    .serve_with_ct(transport, ct)
                    .await
                    .map_err(|error| error.to_string());
            }
            #[cfg(feature = "oauth")]
            if let Some(oauth) = &inner.oauth {
                let client = crate::oauth::OAuthClient {
                    inner: client,
                    oauth: oauth.clone(),
                };
                let transport = StreamableHttpClientTransport::with_client(client, config);
                return handler
                    .serve_with_ct(transport, ct)
                    .await
                    .map_err(|error| error.to_string());
            }
            let transport = StreamableHttpClientTransport::with_client(client, config);
            handler
                .serve_with_ct(transport, ct)
                .await
                .map_err(|error| error.to_string())
        }
        #[allow(unreachable_patterns, reason = "with a transport feature off")]
        _ => Err("this transport was not compiled in (features stdio, http)".to_owned()),
    }
}

/// The longest line of a server's stderr that is logged whole.
#[cfg(feature = "stdio")]
const MAX_STDERR_LINE: usize = 1024;

/// Logs a child server's stderr at DEBUG, line by line, instead of mixing it into the process's
/// own output. Lines are cut at [`MAX_STDERR_LINE`] bytes; nothing else is buffered.
#[cfg(feature = "stdio")]
async fn forward_stderr(server: String, mut stderr: tokio::process::ChildStderr) {
    use tokio::io::AsyncReadExt as _;
    let mut chunk = vec![0_u8; 4096];
    let mut line: Vec<u8> = Vec::with_capacity(256);
    let emit = |line: &mut Vec<u8>| {
        if !line.is_empty() {
            tracing::debug!(%server, "stderr: {}", String::from_utf8_lossy(line).trim_end());
            line.clear();
        }
    };
    while let Ok(read @ 1..) = stderr.read(&mut chunk).await {
        for &byte in chunk.get(..read).unwrap_or_default() {
            if byte == b'\n' {
                emit(&mut line);
            } else if line.len() < MAX_STDERR_LINE {
                line.push(byte);
            }
        }
    }
    emit(&mut line);
}

/// The one HTTP client of every streamable HTTP connection in the process. Building it loads
/// and parses the system's root certificates, milliseconds of CPU: that is done once, on a
/// blocking thread, so the async workers keep answering (a runtime's first `/ping` is not
/// delayed by the MCP servers it starts connecting to).
#[cfg(feature = "http")]
async fn shared_http_client() -> Result<reqwest::Client, String> {
    static CLIENT: tokio::sync::OnceCell<reqwest::Client> = tokio::sync::OnceCell::const_new();
    CLIENT
        .get_or_try_init(|| async {
            tokio::task::spawn_blocking(http_client)
                .await
                .map_err(|error| format!("the HTTP client could not be built: {error}"))?
        })
        .await
        .cloned()
}

/// The HTTP client: connections are kept and reused (a server is not reconnected to per
/// request), `TCP_NODELAY` avoids delayed-ACK stalls, and redirects are not followed (a signed
/// request would not survive one).
#[cfg(feature = "http")]
fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(|error| format!("the HTTP client could not be built: {error}"))
}

/// The streamable HTTP settings for `url`, with `headers` on every request.
#[cfg(feature = "http")]
fn http_config(
    url: &str,
    headers: &std::collections::BTreeMap<String, String>,
) -> Result<rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig, String> {
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    let mut custom = std::collections::HashMap::new();
    for (name, value) in headers {
        let name = http_name(name)?;
        let value = http::HeaderValue::from_str(value)
            .map_err(|_| format!("the value of header {name} is not valid"))?;
        custom.insert(name, value);
    }
    Ok(StreamableHttpClientTransportConfig::with_uri(url).custom_headers(custom))
}

#[cfg(feature = "http")]
fn http_name(name: &str) -> Result<http::HeaderName, String> {
    http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a valid header name"))
}

/// Lists the server's tools (every page) and keeps those the filters allow, named with the
/// prefix; names a model cannot take are left out with a warning.
async fn refresh_tools(inner: &Arc<Inner>, peer: &Peer<RoleClient>) -> Result<(), String> {
    let listed = peer
        .list_all_tools()
        .await
        .map_err(|error| format!("listing the tools failed: {error}"))?;
    let mut tools: Vec<Arc<dyn Tool>> = Vec::new();
    for tool in listed {
        if !inner.filters.includes(&tool.name) {
            continue;
        }
        if tools.len() == MAX_TOOLS {
            tracing::warn!(server = %inner.name, "the server lists more than {MAX_TOOLS} tools; the rest are left out");
            break;
        }
        match McpTool::new(inner.clone(), inner.prefix.as_deref(), tool) {
            Ok(tool) => tools.push(Arc::new(tool)),
            Err(name) => tracing::warn!(
                server = %inner.name,
                "the tool {name:?} is left out: a tool name must match ^[a-zA-Z0-9_-]{{1,64}}$"
            ),
        }
    }
    tracing::info!(server = %inner.name, tools = tools.len(), "MCP tools listed");
    *inner.tools.write().unwrap_or_else(PoisonError::into_inner) = Arc::from(tools);
    inner.listed.store(true, Ordering::Release);
    Ok(())
}

/// Connects, watches and reconnects until [`McpClient::stop`].
async fn supervise(inner: Arc<Inner>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        if inner.shutdown.is_cancelled() {
            break;
        }
        inner.state.send_replace(Connection::Connecting);
        let attempt = tokio::time::timeout(inner.startup_timeout, connect(&inner)).await;
        let reason = match attempt {
            Ok(Ok(running)) => {
                backoff = MIN_BACKOFF;
                match serve_connection(&inner, running).await {
                    Some(reason) => reason,
                    None => break,
                }
            }
            Ok(Err(reason)) => reason,
            Err(_) => format!(
                "no answer to the handshake within {} s",
                inner.startup_timeout.as_secs_f64()
            ),
        };
        tracing::warn!(server = %inner.name, %reason, retry_in_ms = backoff.as_millis() as u64, "MCP server unavailable");
        inner.state.send_replace(Connection::Down(reason));
        inner.first_attempt_done.send_replace(true);
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = inner.shutdown.cancelled() => break,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    inner.state.send_replace(Connection::Stopped);
    inner.first_attempt_done.send_replace(true);
}

/// Runs one connection: lists the tools, re-lists them on `list_changed`, and returns why it
/// ended, or `None` when the client was stopped.
async fn serve_connection(inner: &Arc<Inner>, running: Running) -> Option<String> {
    let peer = running.peer().clone();
    // Every listing asks the server, as Python does (rmcp would otherwise answer a failed
    // listing with the last one).
    peer.set_response_cache_config(ClientCacheConfig::disabled())
        .await;
    if let Err(reason) = refresh_tools(inner, &peer).await {
        let _ = running.cancel().await;
        return Some(reason);
    }
    inner.state.send_replace(Connection::Ready(peer.clone()));
    inner.first_attempt_done.send_replace(true);
    let stop = running.cancellation_token();
    let waiting = running.waiting();
    tokio::pin!(waiting);
    loop {
        tokio::select! {
            quit = &mut waiting => {
                return Some(format!("the connection ended ({quit:?})"));
            }
            () = inner.refresh.notified() => {
                if let Err(reason) = refresh_tools(inner, &peer).await {
                    tracing::warn!(server = %inner.name, %reason, "the tools could not be re-listed; the last list is kept");
                }
            }
            () = inner.shutdown.cancelled() => {
                stop.cancel();
                let _ = waiting.await;
                return None;
            }
        }
    }
}
