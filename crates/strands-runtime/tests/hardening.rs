//! Hostile and broken clients: framing errors, slow and silent connections, oversized ids,
//! bodies held at once, clients that leave, and the end of a shutdown's grace period.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Raw, Server, post, raw};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_runtime::{AgentCoreApp, HandlerError, Reply, RequestContext};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn echo() -> AgentCoreApp {
    AgentCoreApp::new().entrypoint(|payload: Value, _: RequestContext| async move {
        Ok::<_, HandlerError>(payload)
    })
}

fn json_body(raw: &Raw) -> Value {
    serde_json::from_slice(&raw.body).unwrap_or_else(|e| panic!("{e}: {}", raw.text()))
}

/// Reads until the peer closes; `None` when it did not within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut bytes)).await {
        Ok(_) => Some(bytes),
        Err(_) => None,
    }
}

async fn ping(addr: std::net::SocketAddr) -> String {
    let reply = raw(
        addr,
        b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    json_body(&reply)["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_bad_chunk_size_is_a_400_with_a_json_body() {
    let server = Server::start(echo()).await;
    let reply = raw(
        server.addr,
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(json_body(&reply)["error"], "Invalid request body");
}

#[tokio::test]
async fn a_truncated_body_is_a_400_with_a_json_body() {
    let server = Server::start(echo()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    let bytes = closed_within(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains(r#""error":"Invalid request body""#), "{text}");
}

#[tokio::test]
async fn an_unfinished_body_times_out_with_408_and_is_never_busy_work() {
    let app = echo().body_read_timeout(Duration::from_millis(300));
    let server = Server::start(app).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(ping(server.addr).await, "Healthy");
    let bytes = closed_within(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains(r#""error":"Request timeout""#), "{text}");
    assert_eq!(ping(server.addr).await, "Healthy");
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let server = Server::start_with(
        strands_runtime::Server::new(echo()).idle_timeout(Duration::from_millis(200)),
    )
    .await;
    // Never a byte.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    // A kept-alive connection after one request.
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    kept.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(
        closed_within(&mut silent, Duration::from_secs(5))
            .await
            .is_some()
    );
    let answered = closed_within(&mut kept, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"));
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn slowloris_connections_are_closed_after_the_header_timeout() {
    let server = Server::start_with(
        strands_runtime::Server::new(echo())
            .idle_timeout(Duration::from_millis(300))
            .header_read_timeout(Duration::from_millis(600)),
    )
    .await;
    let mut clients = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"POST /invocations HTTP/1.1\r\n")
            .await
            .unwrap();
        clients.push(stream);
    }
    // Dribble a header byte now and then: never idle, never finished.
    let started = Instant::now();
    let mut open = clients.len();
    while open > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{open} slow connections still open"
        );
        open = 0;
        for stream in &mut clients {
            if stream.write_all(b"X").await.is_ok() {
                let mut byte = [0u8; 1];
                match tokio::time::timeout(Duration::from_millis(1), stream.read(&mut byte)).await {
                    Ok(Ok(0) | Err(_)) => {}
                    _ => open += 1,
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(ping(server.addr).await, "Healthy");
}

#[tokio::test]
async fn session_ids_longer_than_agentcore_allows_are_refused() {
    let seen = Arc::new(AtomicUsize::new(0));
    let app = AgentCoreApp::new().entrypoint({
        let seen = seen.clone();
        move |_: Value, _: RequestContext| {
            seen.fetch_add(1, Ordering::Relaxed);
            async { Ok::<_, HandlerError>(json!("ok")) }
        }
    });
    let server = Server::start(app).await;
    let header = |id: &str| format!("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: {id}\r\n");
    let longest = "s".repeat(strands_runtime::MAX_ID_LEN);
    let reply = raw(server.addr, &post("/invocations", &header(&longest), b"{}")).await;
    assert_eq!(reply.status, 200);
    let reply = raw(
        server.addr,
        &post("/invocations", &header(&format!("{longest}s")), b"{}"),
    )
    .await;
    assert_eq!(reply.status, 400);
    let body = json_body(&reply);
    assert_eq!(body["error"], "Invalid header");
    assert!(
        body["details"].as_str().unwrap().contains("at most 256"),
        "{body}"
    );
    let huge = "s".repeat(300 * 1024);
    let reply = raw(server.addr, &post("/invocations", &header(&huge), b"{}")).await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.len() < 1024, "the id is not echoed");
    let request_id = format!(
        "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id: {}\r\n",
        "r".repeat(257)
    );
    assert_eq!(
        raw(server.addr, &post("/invocations", &request_id, b"{}"))
            .await
            .status,
        400
    );
    assert_eq!(seen.load(Ordering::Relaxed), 1);
}

/// Counts handler futures dropped before they finished.
struct DropFlag(Arc<AtomicUsize>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[tokio::test]
async fn a_json_client_that_disconnects_cancels_its_handler() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let app = AgentCoreApp::new().entrypoint({
        let dropped = dropped.clone();
        move |_: Value, _: RequestContext| {
            let flag = DropFlag(dropped.clone());
            async move {
                tokio::time::sleep(Duration::from_secs(60)).await;
                drop(flag);
                Ok::<_, HandlerError>(json!("late"))
            }
        }
    });
    let server = Server::start(app).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(&post("/invocations", "", b"{}"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(ping(server.addr).await, "HealthyBusy");
    drop(stream);
    let started = Instant::now();
    while dropped.load(Ordering::Relaxed) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the handler still runs"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(ping(server.addr).await, "Healthy");
}

#[tokio::test]
async fn bodies_held_at_once_are_bounded() {
    let app = echo()
        .max_body_bytes_in_flight(64 * 1024)
        .body_read_timeout(Duration::from_secs(2));
    let server = Server::start(app).await;
    // The first request holds 48 KiB of the 64 KiB budget and stalls before its last byte.
    let body = format!("\"{}\"", "a".repeat(48 * 1024 - 2));
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    let request = post("/invocations", "", body.as_bytes());
    first
        .write_all(&request[..request.len() - 1])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The second cannot get its 48 KiB within a quarter of the body timeout: 503, Retry-After.
    let second = raw(server.addr, &request).await;
    assert_eq!(
        second.status,
        503,
        "{}",
        second.header("content-length").unwrap_or("")
    );
    assert_eq!(second.header("retry-after"), Some("1"));
    assert_eq!(json_body(&second)["error"], "Server busy");
    // Bigger than the whole budget: 413 at once.
    let over = format!("\"{}\"", "a".repeat(64 * 1024));
    assert_eq!(
        raw(server.addr, &post("/invocations", "", over.as_bytes()))
            .await
            .status,
        413
    );
    // Once the first one is gone, its share is free again.
    drop(first);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(raw(server.addr, &request).await.status, 200);
}

#[tokio::test]
async fn streams_cut_by_the_end_of_the_grace_period_end_with_an_error_frame() {
    let app = AgentCoreApp::new().entrypoint(|_: Value, _: RequestContext| async {
        Ok::<_, HandlerError>(Reply::stream(async_stream::stream! {
            yield Ok::<_, HandlerError>(json!("first"));
            std::future::pending::<()>().await;
        }))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        strands_runtime::Server::new(app)
            .shutdown_grace(Duration::from_millis(300))
            .serve(listener, async {
                let _ = stopped.await;
            }),
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&post("/invocations", "", b"{}"))
        .await
        .unwrap();
    let mut head = vec![0u8; 4096];
    let n = stream.read(&mut head).await.unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).contains("first"));
    stop.send(()).unwrap();
    let rest = closed_within(&mut stream, Duration::from_secs(5))
        .await
        .expect("the stream ends");
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        rest.contains(r#""error_type": "ServerShutdown""#)
            && rest.contains("An error occurred during streaming"),
        "{rest}"
    );
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn credential_headers_are_logged_by_length_only() {
    // The values are checked against every log of the suite by scripts/secrets-in-logs.
    let secrets = [
        ("Authorization", "Bearer hardening-bearer-0001"),
        ("WorkloadAccessToken", "hardening-wat-0000000001"),
        (
            "X-Amz-Bedrock-AgentCore-Identity-WAT",
            "hardening-identity-wat-001",
        ),
        (
            "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Password",
            "hardening-password-0001",
        ),
        (
            "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Apikey",
            "hardening-apikey-000001",
        ),
        (
            "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Credential",
            "hardening-credential-01",
        ),
        ("Cookie", "session=hardening-cookie-0001"),
    ];
    let mut headers = String::new();
    for (name, value) in secrets {
        common::trace_logs::secret(value);
        headers.push_str(&format!("{name}: {value}\r\n"));
    }
    let server = Server::start(echo()).await;
    let reply = raw(server.addr, &post("/invocations", &headers, b"{}")).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn websocket_upgrades_with_an_oversized_session_id_are_refused() {
    let app = echo().websocket(|_, _| async { Ok(()) });
    let server = Server::start_with(
        strands_runtime::Server::new(app).idle_timeout(Duration::from_millis(100)),
    )
    .await;
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: {}\r\n\r\n",
        "s".repeat(1000)
    );
    let reply = raw(server.addr, request.as_bytes()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(json_body(&reply)["error"], "Invalid header");
}

#[tokio::test]
async fn websockets_open_at_the_end_of_the_grace_period_close_with_1001() {
    use futures_util::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    let app = echo().websocket(|ws, _| async move {
        while let Some(message) = ws.recv_json().await? {
            ws.send_json(&message).await?;
        }
        Ok(())
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let server = tokio::spawn(
        strands_runtime::Server::new(app)
            .shutdown_grace(Duration::from_millis(300))
            .serve(listener, async {
                let _ = stopped.await;
            }),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    stop.send(()).unwrap();
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame.unwrap(),
            Ok(Some(Ok(_))) => {}
            other => panic!("no close frame: {other:?}"),
        }
    };
    assert_eq!(u16::from(close.code), 1001);
    // The connection had the whole grace period, then the server stopped.
    assert!(started.elapsed() >= Duration::from_millis(250));
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn json_invocations_cut_by_the_end_of_the_grace_period_get_a_503() {
    let app = AgentCoreApp::new().entrypoint(|_: Value, _: RequestContext| async {
        std::future::pending::<()>().await;
        Ok::<_, HandlerError>(json!("never"))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        strands_runtime::Server::new(app)
            .shutdown_grace(Duration::from_millis(300))
            .serve(listener, async {
                let _ = stopped.await;
            }),
    );
    let pending = tokio::spawn(async move { raw(addr, &post("/invocations", "", b"{}")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply.status, 503);
    assert!(
        json_body(&reply)["error"]
            .as_str()
            .unwrap()
            .contains("shut down")
    );
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
