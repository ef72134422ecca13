//! The A2A client against servers that misbehave: it gives up within its bounds and says why.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::json;
use strands_a2a::{A2AAgent, A2AClientError};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

fn json_body(value: &serde_json::Value) -> axum::response::Response {
    ([("content-type", "application/json")], value.to_string()).into_response()
}

fn card(url: &str, streaming: bool) -> serde_json::Value {
    json!({"capabilities": {"streaming": streaming}, "defaultInputModes": ["text"],
        "defaultOutputModes": ["text"], "description": "d", "name": "n",
        "preferredTransport": "JSONRPC", "protocolVersion": "0.3.0", "skills": [],
        "url": url, "version": "0.0.1"})
}

/// A server with the card, answering JSON-RPC with `rpc`.
async fn server_with(streaming: bool, rpc: axum::routing::MethodRouter) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let card = card(&url, streaming);
    let router = Router::new()
        .route(
            "/.well-known/agent-card.json",
            get(move || async move { json_body(&card) }),
        )
        .route("/", rpc);
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::test]
async fn a_json_rpc_error_is_an_error() {
    let url = server_with(
        false,
        post(|| async {
            json_body(&json!({"jsonrpc": "2.0", "id": "1",
                "error": {"code": -32602, "message": "bad"}}))
        }),
    )
    .await;
    let error = A2AAgent::new(url).invoke("hi").await.unwrap_err();
    assert!(
        matches!(&error, A2AClientError::Rpc { code: -32602, message } if message == "bad"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_silent_stream_times_out() {
    let url = server_with(
        true,
        post(|| async {
            let body = axum::body::Body::from_stream(futures_util::stream::pending::<
                Result<Vec<u8>, std::io::Error>,
            >());
            ([("content-type", "text/event-stream")], body).into_response()
        }),
    )
    .await;
    let agent = A2AAgent::builder(url)
        .timeout(Duration::from_millis(200))
        .build();
    let error = agent.invoke("hi").await.unwrap_err();
    assert!(matches!(error, A2AClientError::Timeout), "{error:?}");
}

#[tokio::test]
async fn a_card_too_large_is_refused() {
    let url = serve(Router::new().route(
        "/.well-known/agent-card.json",
        get(|| async { "x".repeat(2 * 1024 * 1024) }),
    ))
    .await;
    let error = A2AAgent::new(url).card().await.unwrap_err();
    assert!(matches!(error, A2AClientError::TooLarge(_)), "{error:?}");
}

#[tokio::test]
async fn an_http_error_says_what_was_asked() {
    let url = serve(Router::new()).await;
    let error = A2AAgent::new(&url).card().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("HTTP Error 404: Failed to fetch agent card from {url}.well-known/agent-card.json")
    );
}

#[test]
fn header_values_are_not_printed() {
    let agent = A2AAgent::builder("http://127.0.0.1:9/")
        .header(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_static("Bearer s3cr3t-token"),
        )
        .build();
    let printed = format!("{agent:?}");
    assert!(printed.contains("authorization"), "{printed}");
    assert!(!printed.contains("s3cr3t"), "{printed}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let url = serve(Router::new().route(
        "/.well-known/agent-card.json",
        get(|| async { axum::response::Redirect::temporary("http://127.0.0.1:9/card") }),
    ))
    .await;
    let error = A2AAgent::new(url).card().await.unwrap_err();
    assert!(
        matches!(error, A2AClientError::Http { status: 307, .. }),
        "{error:?}"
    );
}
