//! `/ws`: refused without a handler, echo round trips, server-side streaming, context from the
//! upgrade request, close code 1011 when the handler fails; RFC 6455's close codes for a client's
//! protocol violations (1002, 1007, 1009), the idle timeout and the keepalive pings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::time::Duration;

use common::Server;
use futures_util::{SinkExt, StreamExt};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_runtime::{AgentCoreApp, HandlerError, RequestContext, WsConnection, WsError};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

fn echo_app() -> AgentCoreApp {
    AgentCoreApp::new().websocket(|ws: WsConnection, context: RequestContext| async move {
        while let Some(message) = ws.recv_json().await.map_err(HandlerError::from)? {
            if message.get("fail").is_some() {
                return Err(HandlerError::new("asked to fail"));
            }
            if message.get("count").is_some() {
                for i in 0..5 {
                    ws.send_json(&json!({"chunk": i})).await?;
                }
                ws.send_json(&json!({"done": true})).await?;
                continue;
            }
            ws.send_json(&json!({
                "echo": message,
                "session": context.session_id,
                "hdrs": context.request_headers,
            }))
            .await?;
        }
        Ok(())
    })
}

async fn connect(
    server: &Server,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut request = format!("ws://{}/ws", server.addr)
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
        "ws-sess".parse().unwrap(),
    );
    headers.insert("Authorization", "Bearer t".parse().unwrap());
    headers.insert(
        "X-Amzn-Bedrock-AgentCore-Runtime-Custom-A",
        "1".parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

async fn next_json<S>(socket: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    match socket.next().await.unwrap().unwrap() {
        Message::Text(text) => serde_json::from_str(&text).unwrap(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[tokio::test]
async fn upgrades_are_refused_without_a_handler() {
    let server = Server::start(AgentCoreApp::new()).await;
    let error = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap_err();
    match error {
        tokio_tungstenite::tungstenite::Error::Http(response) => assert_eq!(response.status(), 403),
        other => panic!("expected an HTTP 403, got {other:?}"),
    }
}

#[tokio::test]
async fn echo_round_trips_carry_the_upgrade_context() {
    let server = Server::start(echo_app()).await;
    let mut socket = connect(&server).await;
    for i in 0..3 {
        socket
            .send(Message::Text(
                json!({"message": "Hello", "i": i}).to_string().into(),
            ))
            .await
            .unwrap();
        assert_eq!(
            next_json(&mut socket).await,
            json!({
                "echo": {"message": "Hello", "i": i},
                "session": "ws-sess",
                "hdrs": {"Authorization": "Bearer t", "x-amzn-bedrock-agentcore-runtime-custom-a": "1"}
            })
        );
    }
    socket
        .send(Message::Text(r#"{"count": true}"#.into()))
        .await
        .unwrap();
    for i in 0..5 {
        assert_eq!(next_json(&mut socket).await, json!({"chunk": i}));
    }
    assert_eq!(next_json(&mut socket).await, json!({"done": true}));
    socket.close(None).await.unwrap();
}

#[tokio::test]
async fn the_handler_reads_the_upgrade_requests_path_query_and_headers() {
    let app =
        AgentCoreApp::new().websocket(|ws: WsConnection, _context: RequestContext| async move {
            let session = ws.query_param("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id");
            let reply = json!({
                "path": ws.uri().path(),
                "query": ws.uri().query(),
                "session": session,
                "missing": ws.query_param("nope"),
                "user_agent": ws.headers().get("user-agent").and_then(|v| v.to_str().ok()),
            });
            ws.send_json(&reply).await?;
            Ok::<_, HandlerError>(())
        });
    let server = Server::start(app).await;
    // A presigned URL carries the session id (and SigV4's parameters) in the query string.
    let url = format!(
        "ws://{}/ws?qualifier=DEFAULT&X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=sess%2F42%20x&X-Amz-Signature=abc",
        server.addr
    );
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("User-Agent", "presigned-client/1".parse().unwrap());
    let mut socket = tokio_tungstenite::connect_async(request).await.unwrap().0;
    assert_eq!(
        next_json(&mut socket).await,
        json!({
            "path": "/ws",
            "query": "qualifier=DEFAULT&X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=sess%2F42%20x&X-Amz-Signature=abc",
            "session": "sess/42 x",
            "missing": null,
            "user_agent": "presigned-client/1",
        })
    );
}

#[tokio::test]
async fn a_failing_handler_closes_with_1011() {
    let server = Server::start(echo_app()).await;
    let mut socket = connect(&server).await;
    socket
        .send(Message::Text(r#"{"fail": true}"#.into()))
        .await
        .unwrap();
    match socket.next().await.unwrap().unwrap() {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Error),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

// ---- Limits, protocol errors and timeouts, over raw TCP where a client library would refuse.

/// A WebSocket client over a bare TCP stream: writes any bytes, reads the server's frames.
struct RawClient {
    stream: tokio::net::TcpStream,
    buffer: Vec<u8>,
}

/// A frame from the server (never masked): opcode and payload.
struct Frame {
    opcode: u8,
    payload: Vec<u8>,
}

impl Frame {
    fn close_code(&self) -> u16 {
        assert_eq!(self.opcode, 0x8, "expected a close frame");
        u16::from_be_bytes([self.payload[0], self.payload[1]])
    }

    fn close_reason(&self) -> String {
        String::from_utf8(self.payload[2..].to_vec()).unwrap()
    }
}

impl RawClient {
    async fn connect(server: &Server) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            server.addr
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut buffer = Vec::new();
        let end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0; 1024];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the server closed during the handshake");
            buffer.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(buffer[..end].to_vec()).unwrap();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        buffer.drain(..end);
        Self { stream, buffer }
    }

    async fn write(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        self.stream.write_all(bytes).await.unwrap();
    }

    async fn fill(&mut self, len: usize) {
        use tokio::io::AsyncReadExt;
        while self.buffer.len() < len {
            let mut chunk = [0; 4096];
            let n = self.stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the connection ended without a close frame");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }

    async fn frame(&mut self) -> Frame {
        self.fill(2).await;
        let opcode = self.buffer[0] & 0x0F;
        assert_eq!(self.buffer[1] & 0x80, 0, "server frames are not masked");
        let (len, header) = match self.buffer[1] & 0x7F {
            126 => {
                self.fill(4).await;
                (
                    usize::from(u16::from_be_bytes([self.buffer[2], self.buffer[3]])),
                    4,
                )
            }
            127 => panic!("unexpectedly large frame"),
            len => (usize::from(len), 2),
        };
        self.fill(header + len).await;
        let payload = self.buffer[header..header + len].to_vec();
        self.buffer.drain(..header + len);
        Frame { opcode, payload }
    }

    /// The close frame, skipping pings; fails if the server does not close within 10 s.
    async fn close_frame(&mut self) -> Frame {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let frame = self.frame().await;
                if frame.opcode != 0x9 {
                    return frame;
                }
            }
        })
        .await
        .expect("the server closes the connection")
    }
}

/// A client frame: FIN set as asked, masked with a fixed key unless `mask` is false.
fn client_frame(fin: bool, opcode: u8, payload: &[u8], mask: bool) -> Vec<u8> {
    let key = [0x12, 0x34, 0x56, 0x78];
    let mut frame = vec![if fin { 0x80 } else { 0 } | opcode];
    let mask_bit = if mask { 0x80 } else { 0 };
    match payload.len() {
        len @ 0..=125 => frame.push(mask_bit | u8::try_from(len).unwrap()),
        len => {
            frame.push(mask_bit | 126);
            frame.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
        }
    }
    if mask {
        frame.extend_from_slice(&key);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        frame.extend_from_slice(payload);
    }
    frame
}

fn quiet(app: AgentCoreApp) -> AgentCoreApp {
    app.websocket_idle_timeout(None)
        .websocket_ping_interval(None)
}

async fn closes_with(app: AgentCoreApp, bytes: &[u8]) -> Frame {
    let server = Server::start(app).await;
    let mut client = RawClient::connect(&server).await;
    client.write(bytes).await;
    client.close_frame().await
}

#[tokio::test]
async fn an_unmasked_frame_closes_with_1002() {
    let frame = closes_with(quiet(echo_app()), &client_frame(true, 0x1, b"{}", false)).await;
    assert_eq!(frame.close_code(), 1002);
}

#[tokio::test]
async fn an_unknown_opcode_closes_with_1002() {
    let frame = closes_with(quiet(echo_app()), &client_frame(true, 0x3, b"{}", true)).await;
    assert_eq!(frame.close_code(), 1002);
}

#[tokio::test]
async fn invalid_utf8_in_a_text_message_closes_with_1007() {
    let frame = closes_with(
        quiet(echo_app()),
        &client_frame(true, 0x1, b"\"\xff\xfe\"", true),
    )
    .await;
    assert_eq!(frame.close_code(), 1007);
}

#[tokio::test]
async fn a_frame_over_the_limit_closes_with_1009() {
    let app = quiet(echo_app()).websocket_max_message_bytes(64);
    let frame = closes_with(app, &client_frame(true, 0x2, &[b' '; 65], true)).await;
    assert_eq!(frame.close_code(), 1009);
}

#[tokio::test]
async fn a_fragmented_message_over_the_limit_closes_with_1009() {
    let app = quiet(echo_app()).websocket_max_message_bytes(64);
    let mut bytes = client_frame(false, 0x1, &[b' '; 40], true);
    bytes.extend(client_frame(true, 0x0, &[b' '; 40], true));
    let frame = closes_with(app, &bytes).await;
    assert_eq!(frame.close_code(), 1009);
}

#[tokio::test]
async fn a_message_at_the_limit_is_accepted() {
    let app = quiet(
        AgentCoreApp::new()
            .websocket_max_message_bytes(64)
            .websocket(|ws: WsConnection, _| async move {
                while let Some(message) = ws.recv().await? {
                    ws.send_json(&json!({"len": message.into_data().len()}))
                        .await?;
                }
                Ok(())
            }),
    );
    let server = Server::start(app).await;
    let mut client = RawClient::connect(&server).await;
    client.write(&client_frame(true, 0x2, &[7; 64], true)).await;
    let frame = client.frame().await;
    assert_eq!(frame.opcode, 0x1);
    let reply: Value = serde_json::from_slice(&frame.payload).unwrap();
    assert_eq!(reply, json!({"len": 64}));
}

#[tokio::test]
async fn a_handler_that_ignores_a_protocol_error_still_closes_with_its_code() {
    let app = quiet(
        AgentCoreApp::new().websocket(|ws: WsConnection, _| async move {
            while let Ok(Some(_)) = ws.recv().await {}
            Ok(())
        }),
    );
    let frame = closes_with(app, &client_frame(true, 0x1, b"\xc3\x28", true)).await;
    assert_eq!(frame.close_code(), 1007);
}

#[tokio::test]
async fn the_handler_sees_the_close_code_of_a_protocol_error() {
    let (seen, mut codes) = tokio::sync::mpsc::unbounded_channel();
    let app = quiet(AgentCoreApp::new().websocket(move |ws: WsConnection, _| {
        let seen = seen.clone();
        async move {
            let error = ws.recv().await.unwrap_err();
            seen.send(error.close_code()).unwrap();
            assert!(
                ws.recv().await.unwrap().is_none(),
                "the error is reported once"
            );
            Err(error.into())
        }
    }));
    let frame = closes_with(app, &client_frame(true, 0x1, b"{}", false)).await;
    assert_eq!(frame.close_code(), 1002);
    assert_eq!(codes.recv().await.unwrap(), Some(1002));
}

#[tokio::test]
async fn an_idle_connection_is_closed_with_1001() {
    let app = echo_app()
        .websocket_ping_interval(None)
        .websocket_idle_timeout(Duration::from_millis(500));
    let server = Server::start(app).await;
    let mut socket = connect(&server).await;
    // Messages keep the connection open past two idle timeouts...
    for i in 0..10 {
        socket
            .send(Message::Text(json!({"i": i}).to_string().into()))
            .await
            .unwrap();
        assert_eq!(next_json(&mut socket).await["echo"], json!({"i": i}));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // ...and silence closes it.
    let close = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("the server closes the idle connection");
    match close.unwrap().unwrap() {
        Message::Close(Some(frame)) => {
            assert_eq!(frame.code, CloseCode::Away);
            assert_eq!(frame.reason.as_str(), "idle timeout");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_client_that_answers_pings_stays_open() {
    let app = echo_app()
        .websocket_idle_timeout(None)
        .websocket_ping_interval(Duration::from_millis(200));
    let server = Server::start(app).await;
    let mut socket = connect(&server).await;
    // Reading answers the pings (tungstenite sends the pongs); the handler waits in `recv`.
    let mut pings = 0;
    while pings < 4 {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            other => panic!("expected a ping, got {other:?}"),
        }
    }
    socket
        .send(Message::Text(r#"{"still": "open"}"#.into()))
        .await
        .unwrap();
    loop {
        match socket.next().await.unwrap().unwrap() {
            Message::Ping(_) => {}
            Message::Text(text) => {
                let reply: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(reply["echo"], json!({"still": "open"}));
                break;
            }
            other => panic!("expected the echo, got {other:?}"),
        }
    }
    socket.close(None).await.unwrap();
}

#[tokio::test]
async fn a_client_that_never_answers_pings_is_closed_with_1011() {
    let app = echo_app()
        .websocket_idle_timeout(None)
        .websocket_ping_interval(Duration::from_millis(100));
    let server = Server::start(app).await;
    let mut client = RawClient::connect(&server).await;
    let first = client.frame().await;
    assert_eq!(first.opcode, 0x9, "a ping");
    let close = client.close_frame().await;
    assert_eq!(close.close_code(), 1011);
    assert_eq!(close.close_reason(), "keepalive ping timeout");
}

#[tokio::test]
async fn a_handler_busy_elsewhere_does_not_block_pings() {
    // The handler never reads; the runtime still answers the client's pings and pings it.
    let app = AgentCoreApp::new()
        .websocket_idle_timeout(None)
        .websocket_ping_interval(Duration::from_millis(200))
        .websocket(|ws: WsConnection, _| async move {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            ws.send_json(&json!({"done": true})).await?;
            Ok(())
        });
    let server = Server::start(app).await;
    let mut socket = connect(&server).await;
    socket
        .send(Message::Ping(b"hi".to_vec().into()))
        .await
        .unwrap();
    let (mut pongs, mut pings) = (0, 0);
    loop {
        match socket.next().await.unwrap().unwrap() {
            Message::Pong(payload) => {
                assert_eq!(&payload[..], b"hi");
                pongs += 1;
            }
            Message::Ping(_) => pings += 1,
            Message::Text(text) => {
                assert_eq!(
                    serde_json::from_str::<Value>(&text).unwrap(),
                    json!({"done": true})
                );
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(pongs, 1);
    assert!(pings >= 2, "{pings} pings");
}

#[tokio::test]
async fn a_message_over_the_limit_is_not_sent() {
    let app = quiet(
        AgentCoreApp::new()
            .websocket_max_message_bytes(64)
            .websocket(|ws: WsConnection, _| async move {
                let error = ws
                    .send(strands_runtime::WsMessage::Text("x".repeat(65).into()))
                    .await
                    .unwrap_err();
                assert!(
                    matches!(
                        error,
                        WsError::TooLarge {
                            size: 65,
                            limit: 64
                        }
                    ),
                    "{error:?}"
                );
                ws.send_json(&json!({"sent": false})).await?;
                Ok(())
            }),
    );
    let server = Server::start(app).await;
    let mut socket = connect(&server).await;
    assert_eq!(next_json(&mut socket).await, json!({"sent": false}));
    match socket.next().await.unwrap().unwrap() {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("expected a close frame, got {other:?}"),
    }
}
