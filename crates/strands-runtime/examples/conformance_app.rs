//! The fixture app of the differential conformance suite (`tests/conformance/`): the same
//! entrypoint and WebSocket handler as `tests/conformance/python_app.py`, served on `PORT`.
//!
//! Run: `PORT=9001 cargo run -p strands-runtime --example conformance_app`
#![allow(
    clippy::print_stderr,
    reason = "an example binary reports start-up failures"
)]

use axum::response::IntoResponse;
use http::StatusCode;
use serde_json::{Value, json};
use strands_runtime::{AgentCoreApp, HandlerError, Reply, RequestContext, WsConnection};

async fn entrypoint(payload: Value, context: RequestContext) -> Result<Reply, HandlerError> {
    let mode = payload
        .get("mode")
        .and_then(Value::as_str)
        .unwrap_or("echo")
        .to_owned();
    Ok(match mode.as_str() {
        "string" => Reply::from("hello world"),
        "null" => Reply::Json(Value::Null),
        "number" => Reply::Json(json!(42)),
        "bool" => Reply::Json(json!(true)),
        "nested" => {
            Reply::Json(json!({"a": [1, 2.5, {"b": null}], "c": "世界", "d": "line\nbreak \"q\""}))
        }
        "raise" => return Err(HandlerError::new("boom ü").with_error_type("ValueError")),
        "teapot" => return Err(HandlerError::http(StatusCode::IM_A_TEAPOT, "teapot")),
        "unprocessable" => {
            return Err(HandlerError::http(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad input",
            ));
        }
        "response" => Reply::Response(
            (
                StatusCode::ACCEPTED,
                [("x-a", "b"), ("content-type", "text/plain; charset=utf-8")],
                "plain",
            )
                .into_response(),
        ),
        "stream" => Reply::stream(futures_util::stream::iter(vec![
            Ok(json!("tok1")),
            Ok(json!({"k": "ü"})),
            Ok(json!(3)),
            Ok(Value::Null),
            Ok(json!("a\nb")),
            Ok(json!("")),
            Err(HandlerError::new("mid-stream fail").with_error_type("RuntimeError")),
        ])),
        "stream_ok" => Reply::stream(futures_util::stream::iter(
            (0..3).map(|i| Ok(json!({"i": i}))),
        )),
        "stream_fail_first" => Reply::stream(futures_util::stream::iter(vec![Err::<Value, _>(
            HandlerError::new("early").with_error_type("RuntimeError"),
        )])),
        "ctx" => Reply::Json(json!({
            "session_id": context.session_id,
            "headers": context.request_headers,
            "request_id": context.request_id,
            "wat": context.workload_access_token,
            "cb": context.oauth2_callback_url,
        })),
        _ => Reply::Json(payload),
    })
}

async fn websocket(ws: WsConnection, context: RequestContext) -> Result<(), HandlerError> {
    while let Some(message) = ws.recv_json().await? {
        if message.get("fail").is_some() {
            return Err(HandlerError::new("asked to fail"));
        }
        ws.send_json(&json!({"echo": message, "session": context.session_id, "hdrs": context.request_headers}))
            .await?;
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let app = AgentCoreApp::new()
        .entrypoint(entrypoint)
        .websocket(websocket);
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("conformance_app: cannot listen on 127.0.0.1:{port}: {error}");
            std::process::exit(1);
        }
    };
    let server = strands_runtime::Server::new(app);
    if let Err(error) = server.serve(listener, std::future::pending()).await {
        eprintln!("conformance_app: {error}");
        std::process::exit(1);
    }
}
