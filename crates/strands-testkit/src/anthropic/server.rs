//! The accept loop, request checks and responses of the fake Anthropic API.

use std::io;
use std::sync::Arc;

use bytes::BytesMut;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::events::Event;
use super::reply::Reply;
use super::{AnthropicRequest, AuthOutcome};
use crate::http::response::{self, After, Head};
use crate::http::{self, Incoming, Limits, RawRequest, Script};

/// Anthropic's documented limits are larger than any test needs: 64 KiB of headers in at most
/// 128 lines, 32 MiB bodies (the API's request size limit).
const LIMITS: Limits = Limits {
    server: "fake anthropic",
    max_header_bytes: 64 * 1024,
    max_headers: 128,
    max_body_bytes: 32 * 1024 * 1024,
};

/// The only `anthropic-version` the fake accepts.
pub(super) const API_VERSION: &str = "2023-06-01";

/// Connections served at once; further ones wait in the listener's backlog.
const MAX_CONNECTIONS: usize = 256;

/// State shared between the handle and the server tasks; the accepted key is the auth.
pub(super) type Shared = Script<Reply, AnthropicRequest, String>;

/// Serves connections until the task is aborted.
pub(super) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    http::accept_loop(listener, MAX_CONNECTIONS, |stream| {
        serve_connection(stream, Arc::clone(&shared))
    })
    .await;
}

fn new_request_id(shared: &Shared) -> String {
    format!("req_fake{:016}", shared.next_id())
}

async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buf = BytesMut::with_capacity(8 * 1024);
    loop {
        let request = match http::read_request(&mut stream, &mut buf, &LIMITS).await {
            Ok(Incoming::Request(request)) => request,
            Ok(Incoming::Refused(refusal)) => {
                let error_type = match refusal.status {
                    413 => "request_too_large",
                    _ => "invalid_request_error",
                };
                let reply = Reply::error(refusal.status, error_type, &refusal.message);
                let request_id = new_request_id(&shared);
                let _ = respond(&mut stream, &request_id, reply, "", true).await;
                response::linger(&mut stream).await;
                return;
            }
            Ok(Incoming::Closed) | Err(_) => break,
        };
        let keep_alive = request.keep_alive;
        let (reply, model) = decide(&shared, request);
        let request_id = new_request_id(&shared);
        match respond(&mut stream, &request_id, reply, &model, !keep_alive).await {
            Ok(After::Continue) if keep_alive => {}
            _ => break,
        }
    }
    let _ = stream.shutdown().await;
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Checks and records `request`, then picks the answer (consuming a scripted reply only for an
/// accepted `POST /v1/messages`). Returns the reply and the requested model.
fn decide(shared: &Shared, request: RawRequest) -> (Reply, String) {
    let expected_key = shared.auth();
    let auth = match header(&request.headers, "x-api-key") {
        None => AuthOutcome::MissingApiKey,
        Some(key) if key != expected_key => AuthOutcome::InvalidApiKey,
        Some(_) => match header(&request.headers, "anthropic-version") {
            None => AuthOutcome::MissingVersion,
            Some(API_VERSION) => AuthOutcome::Accepted,
            Some(_) => AuthOutcome::UnsupportedVersion,
        },
    };
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let path = request
        .target
        .split_once('?')
        .map_or(request.target.as_str(), |(path, _)| path)
        .to_owned();
    let method = request.method.clone();
    shared.record(AnthropicRequest {
        method: request.method,
        path: request.target,
        headers: request.headers,
        body: body.clone(),
        auth,
    });
    let reply = match auth {
        AuthOutcome::MissingApiKey => {
            Reply::error(401, "authentication_error", "x-api-key header is required")
        }
        AuthOutcome::InvalidApiKey => Reply::authentication_error(),
        AuthOutcome::MissingVersion => {
            Reply::invalid_request("anthropic-version: header is required")
        }
        AuthOutcome::UnsupportedVersion => Reply::invalid_request(&format!(
            "anthropic-version: the fake supports only {API_VERSION}"
        )),
        AuthOutcome::Accepted if method != "POST" || path != "/v1/messages" => Reply::error(
            404,
            "not_found_error",
            &format!("fake anthropic: no route for {method} {path}; it serves POST /v1/messages"),
        ),
        AuthOutcome::Accepted if !body.is_object() => {
            Reply::invalid_request("fake anthropic: the request body is not a JSON object")
        }
        AuthOutcome::Accepted if body.get("stream") != Some(&Value::Bool(true)) => {
            Reply::invalid_request(
                "fake anthropic: only streaming requests (\"stream\": true) are supported",
            )
        }
        AuthOutcome::Accepted => shared.next_reply().unwrap_or_else(|| {
            Reply::error(
                500,
                "api_error",
                "fake anthropic: no scripted reply for this request; push a Reply before calling",
            )
        }),
    };
    (reply, model)
}

/// The status line and the header every Anthropic response starts with.
fn head(status: u16, request_id: &str) -> Head {
    Head::new(status).header("request-id", request_id)
}

/// Fills the empty `model` of a `message_start` with the requested model.
fn with_model(event: &Event, model: &str) -> String {
    if event.name == "message_start"
        && event.data["message"]["model"].as_str() == Some("")
        && !model.is_empty()
    {
        let mut event = event.clone();
        event.data["message"]["model"] = Value::String(model.to_owned());
        return event.to_sse();
    }
    event.to_sse()
}

/// The events as sent, `message_start` naming `model` (see [`with_model`]), one HTTP chunk each.
fn sse_chunks<'a>(events: &'a [Event], model: &'a str) -> impl Iterator<Item = String> + 'a {
    events.iter().map(move |event| with_model(event, model))
}

async fn respond(
    stream: &mut TcpStream,
    request_id: &str,
    reply: Reply,
    model: &str,
    close: bool,
) -> io::Result<After> {
    match reply {
        Reply::Stream(events) => {
            let head = head(200, request_id).event_stream();
            let chunks = sse_chunks(&events, model);
            response::write_chunked(stream, head, chunks, close).await
        }
        Reply::StreamThenCut(events) => {
            let head = head(200, request_id).event_stream();
            let chunks = sse_chunks(&events, model);
            response::write_chunked_then_cut(stream, head, chunks).await
        }
        Reply::Error {
            status,
            error_type,
            message,
            retry_after,
        } => {
            let body = json!({
                "type": "error",
                "error": {"type": error_type, "message": message},
                "request_id": request_id,
            })
            .to_string();
            let mut head = head(status, request_id).header("content-type", "application/json");
            if let Some(seconds) = retry_after {
                head = head.header("retry-after", &seconds.to_string());
            }
            response::write_full(stream, head, body.as_bytes(), close).await
        }
        Reply::Raw {
            status,
            content_type,
            body,
        } => {
            let head = head(status, request_id).header("content-type", &content_type);
            response::write_full(stream, head, body.as_bytes(), close).await
        }
        Reply::Hang => std::future::pending().await,
    }
}
