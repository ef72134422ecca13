//! The accept loop and per-connection request handling.

use std::sync::Arc;

use bytes::BytesMut;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::auth::{self, AuthOutcome, FakeAuth, Signed};
use super::http::{self, Incoming};
use super::reply::{self, Reply};
use super::request::{self, BedrockRequest, Operation};
use crate::http::Script;

/// The `x-amzn-errortype` namespace of Bedrock's own (modelled) errors.
const BEDROCK_NAMESPACE: &str = "com.amazon.bedrock";
/// The `x-amzn-errortype` namespace of the AWS front end (authentication, routing).
const CORAL_NAMESPACE: &str = "com.amazon.coral.service";

/// Connections served at once; further ones wait in the listener's backlog.
const MAX_CONNECTIONS: usize = 256;

/// State shared between the handle and the server tasks.
pub(super) type Shared = Script<Reply, BedrockRequest, FakeAuth>;

/// Serves connections until the task is aborted.
pub(super) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    crate::http::accept_loop(listener, MAX_CONNECTIONS, |stream| {
        serve_connection(stream, Arc::clone(&shared))
    })
    .await;
}

fn new_request_id(shared: &Shared) -> String {
    format!("fa4eb3d0-0000-4000-8000-{:012x}", shared.next_id())
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
                let request_id = new_request_id(&shared);
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
        let request_id = new_request_id(&shared);
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
