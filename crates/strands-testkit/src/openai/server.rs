//! The accept loop, request checks and responses of the fake OpenAI-compatible server.

use std::io;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::reply::{Reply, SseFrame};
use super::{AuthOutcome, OpenAiRequest, completion, validate};
use crate::http::response::{self, After, Head};
use crate::http::{self, Incoming, Limits, RawRequest, Script};

/// 64 KiB of headers in at most 128 lines, 32 MiB bodies (more than any test sends).
const LIMITS: Limits = Limits {
    server: "fake openai",
    max_header_bytes: 64 * 1024,
    max_headers: 128,
    max_body_bytes: 32 * 1024 * 1024,
};

/// The only route served.
const ROUTE: &str = "/v1/chat/completions";

/// Connections served at once; further ones wait in the listener's backlog.
const MAX_CONNECTIONS: usize = 256;

/// State shared between the handle and the server tasks; the accepted key (if any) is the auth.
pub(super) type Shared = Script<Reply, OpenAiRequest, Option<String>>;

/// Serves connections until the task is aborted.
pub(super) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    http::accept_loop(listener, MAX_CONNECTIONS, |stream| {
        serve_connection(stream, Arc::clone(&shared))
    })
    .await;
}

/// How the accepted request wants its answer.
#[derive(Debug, Default)]
struct Wants {
    model: String,
    stream: bool,
    include_usage: bool,
}

async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buf = BytesMut::with_capacity(8 * 1024);
    loop {
        let request = match http::read_request(&mut stream, &mut buf, &LIMITS).await {
            Ok(Incoming::Request(request)) => request,
            Ok(Incoming::Refused(refusal)) => {
                let reply = Reply::error(
                    refusal.status,
                    &refusal.message,
                    "invalid_request_error",
                    None,
                );
                let _ = respond(
                    &mut stream,
                    shared.next_id(),
                    reply,
                    &Wants::default(),
                    true,
                )
                .await;
                response::linger(&mut stream).await;
                return;
            }
            Ok(Incoming::Closed) | Err(_) => break,
        };
        let keep_alive = request.keep_alive;
        let (reply, wants) = decide(&shared, request);
        match respond(&mut stream, shared.next_id(), reply, &wants, !keep_alive).await {
            Ok(After::Continue) if keep_alive => {}
            _ => break,
        }
    }
    let _ = stream.shutdown().await;
}

/// `sk-abc...wxyz` as OpenAI shows a rejected key: the start and end only.
fn redact(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "***".to_owned();
    }
    let head: String = chars.iter().take(3).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}***{tail}")
}

/// Checks and records `request`, then picks the answer (consuming a scripted reply only for an
/// accepted, valid `POST /v1/chat/completions`).
fn decide(shared: &Shared, request: RawRequest) -> (Reply, Wants) {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let recorded = OpenAiRequest {
        method: request.method,
        path: request.target,
        headers: request.headers,
        body,
        auth: AuthOutcome::NotRequired,
    };
    let token = recorded.bearer_token().map(str::to_owned);
    let auth = match (shared.auth(), token) {
        (None, _) => AuthOutcome::NotRequired,
        (Some(_), None) => AuthOutcome::MissingApiKey,
        (Some(key), Some(token)) if key == token => AuthOutcome::Accepted,
        (Some(_), Some(_)) => AuthOutcome::InvalidApiKey,
    };
    let wants = Wants {
        model: recorded.body["model"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        stream: recorded.body["stream"] == Value::Bool(true),
        include_usage: recorded.body["stream_options"]["include_usage"] == Value::Bool(true),
    };
    let path = recorded
        .path
        .split_once('?')
        .map_or(recorded.path.as_str(), |(path, _)| path)
        .to_owned();
    let method = recorded.method.clone();
    let bad_key = match (auth, recorded.bearer_token()) {
        (AuthOutcome::InvalidApiKey, Some(token)) => redact(token),
        _ => String::new(),
    };
    let validation = validate::check(&recorded.body);
    let recorded = OpenAiRequest { auth, ..recorded };
    shared.record(recorded);
    let reply = match auth {
        AuthOutcome::MissingApiKey => Reply::error(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            None,
        ),
        AuthOutcome::InvalidApiKey => Reply::error(
            401,
            &format!(
                "Incorrect API key provided: {bad_key}. You can find your API key at https://platform.openai.com/account/api-keys."
            ),
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
        _ if method != "POST" || path != ROUTE => Reply::error(
            404,
            &format!("Invalid URL ({method} {path}); fake openai serves POST {ROUTE}"),
            "invalid_request_error",
            None,
        ),
        _ => match validation {
            Some(rejection) => rejection,
            None => shared.next_reply().unwrap_or_else(|| {
                Reply::error(
                    500,
                    "fake openai: no scripted reply for this request; push a Reply before calling",
                    "server_error",
                    None,
                )
            }),
        },
    };
    (reply, wants)
}

/// The status line and the headers every OpenAI response starts with.
fn head(status: u16, request_id: &str) -> Head {
    Head::new(status)
        .header("x-request-id", request_id)
        .header("openai-processing-ms", "7")
}

/// The envelope of one response's chunks.
#[derive(Debug)]
struct Envelope {
    id: String,
    created: u64,
    model: String,
}

impl Envelope {
    fn new(response_number: u64, model: &str) -> Self {
        Self {
            id: format!("chatcmpl-fake{response_number:08}"),
            created: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            model: if model.is_empty() {
                "gpt-4o-mini".to_owned()
            } else {
                model.to_owned()
            },
        }
    }

    /// `object` with the envelope fields it lacks put first, in OpenAI's order.
    fn complete(&self, object: &Map<String, Value>, kind: &str) -> Value {
        let mut out = Map::new();
        let defaults = [
            ("id", json!(self.id)),
            ("object", json!(kind)),
            ("created", json!(self.created)),
            ("model", json!(self.model)),
            ("system_fingerprint", json!("fp_fake")),
        ];
        for (key, value) in defaults {
            if !object.contains_key(key) {
                out.insert(key.to_owned(), value);
            }
        }
        out.extend(object.iter().map(|(k, v)| (k.clone(), v.clone())));
        Value::Object(out)
    }
}

/// The frame as sent for this request: chunks completed with the envelope; usage left out
/// unless the request asked for it (`None`: the frame is not sent).
fn prepare(frame: &SseFrame, envelope: &Envelope, include_usage: bool) -> Option<String> {
    let SseFrame::Chunk(Value::Object(chunk)) = frame else {
        return Some(frame.to_sse());
    };
    if !chunk.contains_key("choices") {
        return Some(frame.to_sse());
    }
    let mut chunk = chunk.clone();
    if !include_usage {
        let usage_only = chunk["choices"].as_array().is_some_and(Vec::is_empty)
            && chunk.get("usage").is_some_and(|u| !u.is_null());
        if usage_only {
            return None;
        }
        if chunk.get("usage").is_some_and(Value::is_null) {
            chunk.shift_remove("usage");
        }
    }
    Some(SseFrame::Chunk(envelope.complete(&chunk, "chat.completion.chunk")).to_sse())
}

/// The events of `frames` as sent for this request (see [`prepare`]), one HTTP chunk each.
fn sse_chunks<'a>(
    frames: &'a [SseFrame],
    envelope: &'a Envelope,
    include_usage: bool,
) -> impl Iterator<Item = String> + 'a {
    frames
        .iter()
        .filter_map(move |frame| prepare(frame, envelope, include_usage))
}

async fn respond(
    stream: &mut TcpStream,
    response_number: u64,
    reply: Reply,
    wants: &Wants,
    close: bool,
) -> io::Result<After> {
    let request_id = &format!("req_fake{response_number:016}");
    let envelope = Envelope::new(response_number, &wants.model);
    match reply {
        Reply::Stream(events) if wants.stream => {
            let head = head(200, request_id).event_stream();
            let chunks = sse_chunks(&events, &envelope, wants.include_usage);
            response::write_chunked(stream, head, chunks, close).await
        }
        Reply::StreamThenCut(events) if wants.stream => {
            let head = head(200, request_id).event_stream();
            let chunks = sse_chunks(&events, &envelope, wants.include_usage);
            response::write_chunked_then_cut(stream, head, chunks).await
        }
        Reply::Stream(events) => {
            let (status, body) = completion_body(&events, &envelope);
            let head = json_head(status, request_id);
            response::write_full(stream, head, body.to_string().as_bytes(), close).await
        }
        Reply::StreamThenCut(_) => {
            // A body announced but never finished.
            let head = json_head(200, request_id);
            let sent = br#"{"id": "chatcmpl-cut", "#;
            response::write_full_then_cut(stream, head, 4096, sent).await
        }
        Reply::Error {
            status,
            headers,
            body,
        } => {
            let mut head = json_head(status, request_id);
            for (name, value) in &headers {
                head = head.header(name, value);
            }
            response::write_full(stream, head, body.to_string().as_bytes(), close).await
        }
        Reply::Raw {
            status,
            content_type,
            body,
        } => {
            let head = head(status, request_id).header("content-type", &content_type);
            response::write_full(stream, head, body.as_bytes(), close).await
        }
    }
}

/// The status and `chat.completion` body answering a `"stream": false` request: the frames
/// folded into one completion, or 500 with the error naming why they cannot be.
fn completion_body(frames: &[SseFrame], envelope: &Envelope) -> (u16, Value) {
    match completion::fold(frames) {
        Ok(Value::Object(map)) => (200, envelope.complete(&map, "chat.completion")),
        Ok(other) => (200, other),
        Err(error) => (500, error),
    }
}

/// [`head`] with `content-type: application/json`.
fn json_head(status: u16, request_id: &str) -> Head {
    head(status, request_id).header("content-type", "application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_keys_are_shown_redacted() {
        assert_eq!(redact("sk-test-secret-1234"), "sk-***1234");
        assert_eq!(redact("short"), "***");
    }

    #[test]
    fn usage_is_sent_only_when_asked_for() {
        let envelope = Envelope::new(1, "m");
        let usage = SseFrame::Chunk(super::super::chunks::usage(1, 2));
        assert!(prepare(&usage, &envelope, false).is_none());
        assert!(prepare(&usage, &envelope, true).is_some());
        let text = SseFrame::Chunk(super::super::chunks::text("x"));
        let sent = prepare(&text, &envelope, false).unwrap_or_default();
        assert!(!sent.contains("usage"), "{sent}");
        assert!(
            sent.starts_with(
                r#"data: {"id":"chatcmpl-fake00000001","object":"chat.completion.chunk""#
            ),
            "{sent}"
        );
    }
}
