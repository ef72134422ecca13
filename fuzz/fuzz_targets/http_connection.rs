//! Raw bytes on a loopback TCP connection to the AgentCore app served by
//! `strands_runtime::Server` (what the binary runs: hyper's auto connection with upgrades, its
//! timeouts and body limits). The app has an echo entrypoint and an echo WebSocket handler, so
//! the bytes may be one or several pipelined requests, chunked bodies, `Expect: 100-continue`, a
//! `/ws` upgrade followed by frames, or noise.
//!
//! - The server answers and closes within seconds once the client has sent everything.
//! - What it sends parses as HTTP/1.1 responses (up to a `101 Switching Protocols`), unless the
//!   client opened with HTTP/2's preface, which the server answers in HTTP/2.
//! - No response is a 5xx.
//! - A 4xx with a body is the app's JSON error (`{"error": ...}`), one of the plain-text
//!   answers Python's Starlette/uvicorn stack gives (`Not Found`, `Method Not Allowed`,
//!   `Forbidden`), or axum's plain-text refusal of a `/ws` request that is not a WebSocket
//!   handshake; the bodiless 4xx hyper writes for bytes that are not HTTP are allowed.
//! - Never a panic.
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use strands_fuzz::{block_on_within, runtime};
use strands_runtime::{AgentCoreApp, HandlerError, RequestContext, Server, WsConnection};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The address of the server, started on first use.
fn server() -> SocketAddr {
    static SERVER: OnceLock<SocketAddr> = OnceLock::new();
    *SERVER.get_or_init(|| {
        let app = AgentCoreApp::new()
            .entrypoint(|payload: Value, _: RequestContext| async move {
                Ok::<_, HandlerError>(payload)
            })
            .websocket(|ws: WsConnection, _: RequestContext| async move {
                while let Some(message) = ws.recv_json().await.map_err(HandlerError::from)? {
                    ws.send_json(&message).await?;
                }
                Ok(())
            });
        let listener = runtime().block_on(async {
            tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
                .await
                .expect("a loopback port binds")
        });
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        runtime().spawn(Server::new(app).serve(listener, std::future::pending()));
        addr
    })
}

fuzz_target!(|data: &[u8]| {
    let addr = server();
    let (output, complete) = block_on_within(Duration::from_secs(20), async {
        let client = tokio::net::TcpStream::connect(addr)
            .await
            .expect("the server accepts");
        let (mut read, mut write) = client.into_split();
        let send = async {
            // The server may close before reading everything; that is its right.
            let _ = write.write_all(data).await;
            let _ = write.shutdown().await;
        };
        let receive = async {
            let mut output = Vec::new();
            // A server that closes with input unread resets the connection, which may cut what
            // it sent last: such an answer is only checked as far as it arrived.
            let complete = read.read_to_end(&mut output).await.is_ok();
            (output, complete)
        };
        let ((), received) = tokio::join!(send, receive);
        received
    });
    // The server also speaks HTTP/2 to a client that opens with its preface (hyper-util's
    // `server-auto`); only HTTP/1 answers are read here.
    if !data.starts_with(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") {
        check_responses(&output, complete);
    }
});

/// axum's answers to a `/ws` request that is not a valid WebSocket handshake, in plain text (as
/// uvicorn's are): the one place the app answers a 4xx in neither JSON nor Starlette's words.
const WS_REJECTIONS: [&str; 6] = [
    "Request method must be `GET`",
    "Connection header did not include 'upgrade'",
    "`Upgrade` header did not include 'websocket'",
    "`Sec-WebSocket-Version` header did not include '13'",
    "`Sec-WebSocket-Key` header missing",
    "WebSocket request couldn't be upgraded since no upgrade state was present",
];

fn check_responses(mut output: &[u8], complete: bool) {
    while !output.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        let head = match response.parse(output) {
            Ok(httparse::Status::Complete(head)) => head,
            Ok(httparse::Status::Partial) if !complete => return,
            other => panic!(
                "not an HTTP response ({other:?}): {:?}",
                String::from_utf8_lossy(output)
            ),
        };
        let status = response.code.expect("a status");
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).into_owned())
        };
        assert!(status < 500, "a {status} for client input");
        if status == 101 {
            return; // WebSocket frames follow.
        }
        let rest = &output[head..];
        // The answer to a HEAD has a length but no body: the next answer (or the end) follows at
        // once. No body the app sends starts with `HTTP/1.`.
        let bodiless = matches!(status, 100..=199 | 204 | 304)
            || rest.is_empty()
            || rest.starts_with(b"HTTP/1.");
        let (body, after) = if bodiless {
            (Vec::new(), rest)
        } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            dechunk(rest)
        } else {
            let length =
                header("content-length").map_or(0, |v| v.parse::<usize>().expect("a length"));
            if length > rest.len() && !complete {
                return;
            }
            assert!(
                length <= rest.len(),
                "a body shorter than its content-length"
            );
            (rest[..length].to_vec(), &rest[length..])
        };
        if (400..500).contains(&status) && !body.is_empty() {
            let content_type = header("content-type").unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            if content_type.starts_with("application/json") {
                let value: Value = serde_json::from_slice(&body).expect("a JSON error body");
                assert!(
                    value["error"].is_string(),
                    "a JSON error without `error`: {text}"
                );
            } else {
                assert!(
                    matches!(&*text, "Not Found" | "Method Not Allowed" | "Forbidden")
                        || WS_REJECTIONS.contains(&&*text),
                    "a {status} whose body is neither JSON nor one of Starlette's: {content_type} {text:?}"
                );
            }
        }
        if status == 100 {
            // An interim answer; the final one follows.
        }
        output = after;
    }
}

/// A chunked body and what follows it. A body cut short (the server closed mid-stream) is what
/// arrived.
fn dechunk(mut rest: &[u8]) -> (Vec<u8>, &[u8]) {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return (body, &[]);
        };
        let size = std::str::from_utf8(&rest[..line_end]).expect("a chunk size");
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .expect("a hex chunk size");
        rest = &rest[line_end + 2..];
        if size == 0 {
            // No trailers are sent: the final CRLF.
            return (body, rest.get(2..).unwrap_or(&[]));
        }
        let take = size.min(rest.len());
        body.extend_from_slice(&rest[..take]);
        rest = rest.get(take + 2..).unwrap_or(&[]);
    }
}
