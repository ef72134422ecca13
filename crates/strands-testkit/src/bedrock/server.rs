//! The accept loop and per-connection request handling.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::BytesMut;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::auth::{self, AuthOutcome, FakeAuth, Signed};
use super::http::{self, Incoming};
use super::reply::{self, Reply};
use super::request::{self, BedrockRequest, Operation};

/// Connections served at once; further ones wait in the listener's backlog.
const MAX_CONNECTIONS: usize = 256;

/// The `x-amzn-errortype` namespace of Bedrock's own (modelled) errors.
const BEDROCK_NAMESPACE: &str = "com.amazon.bedrock";
/// The `x-amzn-errortype` namespace of the AWS front end (authentication, routing).
const CORAL_NAMESPACE: &str = "com.amazon.coral.service";

/// State shared between the handle and the server tasks. No lock is held across an `.await`.
#[derive(Debug)]
pub(super) struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<BedrockRequest>>,
    auth: Mutex<FakeAuth>,
    next_request_id: AtomicU64,
}

impl Shared {
    pub(super) fn new(auth: FakeAuth) -> Self {
        Self {
            replies: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            auth: Mutex::new(auth),
            next_request_id: AtomicU64::new(1),
        }
    }

    pub(super) fn push(&self, reply: Reply) {
        self.replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(reply);
    }

    pub(super) fn pending_replies(&self) -> usize {
        self.replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub(super) fn requests(&self) -> Vec<BedrockRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn request_count(&self) -> usize {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub(super) fn set_auth(&self, auth: FakeAuth) {
        *self.auth.lock().unwrap_or_else(PoisonError::into_inner) = auth;
    }

    fn auth(&self) -> FakeAuth {
        self.auth
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record(&self, request: BedrockRequest) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }

    fn next_reply(&self) -> Option<Reply> {
        self.replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }

    fn new_request_id(&self) -> String {
        let n = self.next_request_id.fetch_add(1, Ordering::Relaxed);
        format!("fa4eb3d0-0000-4000-8000-{n:012x}")
    }
}

/// Accepts connections until the task is aborted; aborting it drops the [`JoinSet`] and so every
/// connection task with it.
pub(super) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        while connections.len() >= MAX_CONNECTIONS {
            let _ = connections.join_next().await;
        }
        match listener.accept().await {
            Ok((stream, _peer)) => {
                let _ = stream.set_nodelay(true);
                connections.spawn(serve_connection(stream, Arc::clone(&shared)));
            }
            // Transient (e.g. out of file descriptors): wait for a connection to finish, if any,
            // instead of spinning. No timer is used, so runtimes without one work too.
            Err(_) => {
                if connections.join_next().await.is_none() {
                    tokio::task::yield_now().await;
                }
            }
        }
    }
}

/// What to send for one request.
#[derive(Debug)]
enum Action {
    Error {
        status: u16,
        error_type: String,
        namespace: &'static str,
        message: String,
    },
    Reply(Reply),
}

impl Action {
    fn error(status: u16, error_type: &str, namespace: &'static str, message: String) -> Self {
        Self::Error {
            status,
            error_type: error_type.to_owned(),
            namespace,
            message,
        }
    }
}

/// What the connection does after a response.
#[derive(Debug, PartialEq)]
enum After {
    Continue,
    Close,
}

async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buf = BytesMut::with_capacity(8 * 1024);
    loop {
        let request = match http::read_request(&mut stream, &mut buf).await {
            Ok(Incoming::Request(request)) => request,
            Ok(Incoming::Refused(refusal)) => {
                let request_id = shared.new_request_id();
                let _ = write_error(
                    &mut stream,
                    &request_id,
                    refusal.status,
                    refusal.error_type,
                    CORAL_NAMESPACE,
                    &refusal.message,
                    true,
                )
                .await;
                linger(&mut stream).await;
                return;
            }
            Ok(Incoming::Closed) | Err(_) => break,
        };
        let keep_alive = request.keep_alive;
        let action = decide(&shared, request);
        let request_id = shared.new_request_id();
        match respond(&mut stream, &request_id, action, !keep_alive).await {
            Ok(After::Continue) if keep_alive => {}
            _ => break,
        }
    }
    let _ = stream.shutdown().await;
}

/// After refusing a request part-way through, half-closes the connection and discards what the
/// client is still sending (at most 1 MiB; the task ends at the client's EOF or when the fake is
/// dropped), so closing does not reset the connection before the client has read the answer.
async fn linger(stream: &mut TcpStream) {
    const MAX_DISCARD: usize = 1024 * 1024;
    let _ = stream.shutdown().await;
    let mut scratch = vec![0_u8; 16 * 1024];
    let mut discarded = 0;
    while discarded < MAX_DISCARD {
        match stream.read(&mut scratch).await {
            Ok(0) | Err(_) => break,
            Ok(n) => discarded += n,
        }
    }
}

/// Authenticates and records `request`, then picks the answer (consuming a scripted reply only
/// for an authenticated Converse or ConverseStream request).
fn decide(shared: &Shared, request: http::RawRequest) -> Action {
    let (operation, model_id) = request::route(&request.method, &request.target);
    let verdict = auth::check(
        &shared.auth(),
        &Signed {
            method: &request.method,
            target: &request.target,
            headers: &request.headers,
            body: &request.body,
        },
    );
    let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let path = request.target;
    shared.record(BedrockRequest {
        method: request.method,
        path: path.clone(),
        model_id,
        operation,
        headers: request.headers,
        body,
        auth: verdict
            .as_ref()
            .map_or_else(|rejection| rejection.outcome, |()| AuthOutcome::Accepted),
    });
    if let Err(rejection) = verdict {
        return Action::error(
            403,
            rejection.error_type,
            CORAL_NAMESPACE,
            rejection.message,
        );
    }
    if operation == Operation::Other {
        return Action::error(
            404,
            "UnknownOperationException",
            CORAL_NAMESPACE,
            format!(
                "fake bedrock: no operation at {path}; it serves POST /model/{{modelId}}/converse and POST /model/{{modelId}}/converse-stream"
            ),
        );
    }
    match shared.next_reply() {
        Some(reply) => Action::Reply(reply),
        None => Action::error(
            500,
            "InternalServerException",
            BEDROCK_NAMESPACE,
            format!("fake bedrock: no scripted reply for {path}; push a Reply before calling"),
        ),
    }
}

async fn respond(
    stream: &mut TcpStream,
    request_id: &str,
    action: Action,
    close: bool,
) -> std::io::Result<After> {
    let reply = match action {
        Action::Error {
            status,
            error_type,
            namespace,
            message,
        } => {
            write_error(
                stream,
                request_id,
                status,
                &error_type,
                namespace,
                &message,
                close,
            )
            .await?;
            return Ok(After::Continue);
        }
        Action::Reply(reply) => reply,
    };
    match reply {
        Reply::Stream(frames) => {
            write_frames(stream, request_id, &frames, close).await?;
            http::write_last_chunk(stream).await?;
            Ok(After::Continue)
        }
        Reply::StreamThenDrop(frames) => {
            write_frames(stream, request_id, &frames, false).await?;
            Ok(After::Close)
        }
        Reply::Converse(body) => {
            http::write_full(
                stream,
                200,
                request_id,
                &[("content-type", "application/json")],
                body.to_string().as_bytes(),
                close,
            )
            .await?;
            Ok(After::Continue)
        }
        Reply::Error {
            status,
            error_type,
            message,
        } => {
            write_error(
                stream,
                request_id,
                status,
                &error_type,
                BEDROCK_NAMESPACE,
                &message,
                close,
            )
            .await?;
            Ok(After::Continue)
        }
        Reply::Hang => std::future::pending().await,
    }
}

async fn write_frames(
    stream: &mut TcpStream,
    request_id: &str,
    frames: &[reply::Frame],
    close: bool,
) -> std::io::Result<()> {
    http::write_stream_head(stream, request_id, close).await?;
    for frame in frames {
        http::write_chunk(stream, &reply::encode(frame)).await?;
    }
    Ok(())
}

/// Writes a restJson1 error: `x-amzn-errortype` plus a `{"message": ...}` body.
async fn write_error(
    stream: &mut TcpStream,
    request_id: &str,
    status: u16,
    error_type: &str,
    namespace: &str,
    message: &str,
    close: bool,
) -> std::io::Result<()> {
    let error_header = format!("{error_type}:http://internal.amazon.com/coral/{namespace}/");
    let body = json!({ "message": message }).to_string();
    http::write_full(
        stream,
        status,
        request_id,
        &[
            ("content-type", "application/json"),
            ("x-amzn-errortype", &error_header),
        ],
        body.as_bytes(),
        close,
    )
    .await
}
