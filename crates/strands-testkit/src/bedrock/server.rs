//! The accept loop, per-connection request handling and Bedrock's responses.

use std::io;
use std::sync::Arc;
use std::time::SystemTime;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use bytes::BytesMut;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::auth::{self, AuthOutcome, FakeAuth, Signed};
use super::reply::{self, Reply};
use super::request::{self, BedrockRequest, Operation};
use crate::http::response::{self, After, Head};
use crate::http::{self, Incoming, Limits, RawRequest, Script};

/// Bedrock's limits: 64 KiB of headers in at most 128 lines, 32 MiB bodies.
const LIMITS: Limits = Limits {
    server: "fake bedrock",
    max_header_bytes: 64 * 1024,
    max_headers: 128,
    max_body_bytes: 32 * 1024 * 1024,
};

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
    http::accept_loop(listener, MAX_CONNECTIONS, |stream| {
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

async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buf = BytesMut::with_capacity(8 * 1024);
    loop {
        let request = match http::read_request(&mut stream, &mut buf, &LIMITS).await {
            Ok(Incoming::Request(request)) => request,
            Ok(Incoming::Refused(refusal)) => {
                let action = Action::error(
                    refusal.status,
                    refusal.error_type,
                    CORAL_NAMESPACE,
                    refusal.message,
                );
                let request_id = new_request_id(&shared);
                let _ = respond(&mut stream, &request_id, action, true).await;
                response::linger(&mut stream).await;
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

/// Authenticates and records `request`, then picks the answer (consuming a scripted reply only
/// for an authenticated Converse or ConverseStream request).
fn decide(shared: &Shared, request: RawRequest) -> Action {
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

/// The status line and the headers every Bedrock response starts with.
fn head(status: u16, request_id: &str) -> Head {
    let date = DateTime::from(SystemTime::now())
        .fmt(Format::HttpDate)
        .unwrap_or_default();
    Head::new(status)
        .header("date", &date)
        .header("x-amzn-requestid", request_id)
}

/// The head of a ConverseStream response (its body is chunked, one chunk per frame).
fn stream_head(request_id: &str) -> Head {
    head(200, request_id).header("content-type", "application/vnd.amazon.eventstream")
}

async fn respond(
    stream: &mut TcpStream,
    request_id: &str,
    action: Action,
    close: bool,
) -> io::Result<After> {
    let reply = match action {
        Action::Error {
            status,
            error_type,
            namespace,
            message,
        } => {
            let error = head_for_error(status, request_id, &error_type, namespace);
            return write_error(stream, error, &message, close).await;
        }
        Action::Reply(reply) => reply,
    };
    match reply {
        Reply::Stream(frames) => {
            let chunks = frames.iter().map(reply::encode);
            response::write_chunked(stream, stream_head(request_id), chunks, close).await
        }
        Reply::StreamThenDrop(frames) => {
            let chunks = frames.iter().map(reply::encode);
            response::write_chunked_then_cut(stream, stream_head(request_id), chunks).await
        }
        Reply::Converse(body) => {
            let head = head(200, request_id).header("content-type", "application/json");
            response::write_full(stream, head, body.to_string().as_bytes(), close).await
        }
        Reply::Error {
            status,
            error_type,
            message,
        } => {
            let error = head_for_error(status, request_id, &error_type, BEDROCK_NAMESPACE);
            write_error(stream, error, &message, close).await
        }
        Reply::Hang => std::future::pending().await,
        Reply::StreamThenHang(frames) => {
            let chunks = frames.iter().map(reply::encode);
            response::write_chunked_then_cut(stream, stream_head(request_id), chunks).await?;
            std::future::pending().await
        }
        Reply::RawStream(chunks) => {
            response::write_chunked(stream, stream_head(request_id), chunks, close).await
        }
    }
}

/// The head of a restJson1 error: `x-amzn-errortype: <error_type>:<namespace URL>`.
fn head_for_error(status: u16, request_id: &str, error_type: &str, namespace: &str) -> Head {
    let error_header = format!("{error_type}:http://internal.amazon.com/coral/{namespace}/");
    head(status, request_id)
        .header("content-type", "application/json")
        .header("x-amzn-errortype", &error_header)
}

/// Writes a restJson1 error: `head` plus a `{"message": ...}` body.
async fn write_error(
    stream: &mut TcpStream,
    head: Head,
    message: &str,
    close: bool,
) -> io::Result<After> {
    let body = json!({ "message": message }).to_string();
    response::write_full(stream, head, body.as_bytes(), close).await
}
