//! Serving an [`AgentCoreApp`]: connections with bounded timeouts, and a graceful shutdown that
//! tells streaming clients when their answer was cut short.

use std::convert::Infallible;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

use crate::AgentCoreApp;

/// Default time a connection may stay open with no request in progress (uvicorn's
/// `timeout_keep_alive`, behind the Python app, is 5 s).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time from the first byte of a request to the end of its headers.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time in-flight requests get to finish after a shutdown signal (AgentCore sends
/// SIGKILL 30 s after SIGTERM).
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(25);
/// How long streams cut at the end of the grace period get to send their error frame.
const FLUSH_AFTER_GRACE: Duration = Duration::from_millis(500);
/// How long a connection closed for idleness gets to say goodbye (an HTTP/2 GOAWAY).
const CLOSE_IDLE_BOUND: Duration = Duration::from_secs(1);

/// Serves an [`AgentCoreApp`] on a TCP listener: HTTP/1.1, and HTTP/2 over cleartext with prior
/// knowledge (AgentCore itself speaks HTTP/1.1 to the container).
///
/// Every connection is bounded in time: one with no request in progress is closed after the
/// idle timeout, and a request's headers must arrive within the header timeout of its first
/// byte (request bodies are bounded by [`AgentCoreApp::body_read_timeout`]). After the shutdown
/// signal the listener closes, idle connections close, and in-flight requests get the grace
/// period (WebSocket connections included); streams still running then end with Python's error
/// frame, so clients know the answer is incomplete, and WebSocket connections close with 1001.
///
/// ```no_run
/// use serde_json::Value;
/// use strands_runtime::{AgentCoreApp, HandlerError, RequestContext, Server};
///
/// # #[tokio::main]
/// # async fn main() -> std::io::Result<()> {
/// let app = AgentCoreApp::new()
///     .entrypoint(|payload: Value, _: RequestContext| async move { Ok::<_, HandlerError>(payload) });
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// Server::new(app)
///     .serve(listener, async { tokio::signal::ctrl_c().await.ok(); })
///     .await
/// # }
/// ```
#[derive(Debug)]
#[must_use = "a server does nothing until `serve` is awaited"]
pub struct Server {
    app: AgentCoreApp,
    limits: ConnectionLimits,
    shutdown_grace: Duration,
}

#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    idle: Duration,
    header_read: Duration,
}

impl Server {
    /// A server for `app` with the default timeouts.
    pub fn new(app: AgentCoreApp) -> Self {
        Self {
            app,
            limits: ConnectionLimits {
                idle: DEFAULT_IDLE_TIMEOUT,
                header_read: DEFAULT_HEADER_READ_TIMEOUT,
            },
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }

    /// How long a connection may stay open with no request in progress (default 5 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.limits.idle = timeout;
        self
    }

    /// How long a request's headers may take from their first byte (default 30 s).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.header_read = timeout;
        self
    }

    /// How long in-flight requests may run after the shutdown signal (default 25 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully.
    ///
    /// # Errors
    ///
    /// None today: failures to accept a connection (such as running out of file descriptors)
    /// are logged and retried. The `Result` leaves room for fatal listener errors.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let streams_end = self.app.shutdown.clone();
        let health = self.app.health();
        let router = self.app.into_router();
        let closing = CancellationToken::new();
        let connections = TaskTracker::new();
        let mut shutdown = pin!(shutdown);
        loop {
            let (tcp, _) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!("could not accept a connection: {error}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!("could not set TCP_NODELAY: {error}");
            }
            connections.spawn(serve_connection(
                tcp,
                router.clone(),
                self.limits,
                closing.clone(),
            ));
        }
        drop(listener);
        tracing::info!(
            "shutdown requested; finishing in-flight requests for up to {}s",
            self.shutdown_grace.as_secs()
        );
        closing.cancel();
        connections.close();
        // Upgraded WebSocket connections have left the tracker; the health count still has them.
        let drained = async {
            connections.wait().await;
            while health.invocations_in_flight() > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        if tokio::time::timeout(self.shutdown_grace, drained)
            .await
            .is_err()
        {
            tracing::warn!(
                "in-flight requests did not finish within {}s; ending their streams",
                self.shutdown_grace.as_secs()
            );
            streams_end.cancel();
            let flushed = async {
                connections.wait().await;
                while health.invocations_in_flight() > 0 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            };
            let _ = tokio::time::timeout(FLUSH_AFTER_GRACE, flushed).await;
        }
        tracing::info!("server stopped");
        Ok(())
    }
}

/// One connection: served until it ends, is idle too long, or the server shuts down.
async fn serve_connection(
    tcp: TcpStream,
    router: Router,
    limits: ConnectionLimits,
    closing: CancellationToken,
) {
    let activity = Arc::new(Activity::default());
    let io = TokioIo::new(Watched {
        inner: tcp,
        activity: activity.clone(),
    });
    let service = hyper::service::service_fn({
        let activity = activity.clone();
        move |request: Request<Incoming>| {
            let guard = activity.request_started();
            let call = router.clone().oneshot(request.map(Body::new));
            async move {
                let response = call.await?;
                Ok::<_, Infallible>(response.map(|body| {
                    Body::new(Tracked {
                        body,
                        _guard: guard,
                    })
                }))
            }
        }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let mut connection = pin!(builder.serve_connection_with_upgrades(io, service));
    let mut shutting_down = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!("connection ended: {error}");
                }
                return;
            }
            () = activity.expired(limits), if !shutting_down => {
                tracing::debug!("closing a connection with no request in progress");
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(CLOSE_IDLE_BOUND, connection.as_mut()).await;
                return;
            }
            () = closing.cancelled(), if !shutting_down => {
                connection.as_mut().graceful_shutdown();
                shutting_down = true;
            }
        }
    }
}

/// What a connection is doing, as its watchdog sees it.
#[derive(Default)]
struct Activity {
    /// Requests whose response has not been fully sent.
    in_flight: AtomicUsize,
    /// A byte arrived while no request was in progress: a request's head is being read.
    reading_head: AtomicBool,
    changed: Notify,
}

impl Activity {
    fn request_started(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.reading_head.store(false, Ordering::Release);
        self.changed.notify_one();
        RequestGuard(self.clone())
    }

    /// Resolves once the connection has had no request in progress for the idle timeout, or
    /// has been reading a request's head for the header timeout.
    async fn expired(&self, limits: ConnectionLimits) {
        loop {
            let changed = self.changed.notified();
            let mut changed = pin!(changed);
            changed.as_mut().enable();
            if self.in_flight.load(Ordering::Acquire) > 0 {
                changed.await;
                continue;
            }
            let limit = if self.reading_head.load(Ordering::Acquire) {
                limits.header_read
            } else {
                limits.idle
            };
            tokio::select! {
                () = changed => {}
                () = tokio::time::sleep(limit) => return,
            }
        }
    }
}

/// Counts a request as in progress until its response body is dropped.
struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.changed.notify_one();
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its request in progress until it is sent or dropped.
    struct Tracked {
        #[pin]
        body: Body,
        _guard: RequestGuard,
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// The connection's socket, noticing the first byte of a request.
    struct Watched {
        #[pin]
        inner: TcpStream,
        activity: Arc<Activity>,
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let result = this.inner.poll_read(cx, buf);
        let activity = &**this.activity;
        if buf.filled().len() > before
            && activity.in_flight.load(Ordering::Acquire) == 0
            && !activity.reading_head.swap(true, Ordering::AcqRel)
        {
            activity.changed.notify_one();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}
