//! `/ws`: refused without a handler, echo round trips, server-side streaming, context from the
//! upgrade request, and close code 1011 when the handler fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use common::Server;
use futures_util::{SinkExt, StreamExt};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_runtime::{AgentCoreApp, HandlerError, RequestContext, WsConnection};
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
