//! The `http_request` vended tool against a real HTTP server on loopback: Python 1.62's answer
//! shape, its error texts, and the allow-list, private-address, redirect, body and time bounds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect};
use axum::routing::{any, get};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use strands_agent::vended_tools::HttpRequest;
use strands_core::{Tool as _, ToolContext, ToolEvent, ToolResult, ToolUse};

async fn echo(method: axum::http::Method, headers: HeaderMap, body: String) -> impl IntoResponse {
    let seen = headers
        .get("x-probe")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        AppendHeaders([(header::SET_COOKIE, "a=1"), (header::SET_COOKIE, "b=2")]),
        format!("{method} {seen} {body}"),
    )
}

async fn server() -> u16 {
    let app = Router::new()
        .route("/echo", any(echo))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route("/big", get(|| async { "x".repeat(100) }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "late"
            }),
        )
        .route(
            "/away",
            get(|| async { Redirect::temporary("http://169.254.169.254/latest/meta-data/") }),
        )
        .route("/home", get(|| async { Redirect::temporary("/echo") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

async fn call(tool: &HttpRequest, input: Value) -> ToolResult {
    let mut stream = tool.stream(
        ToolUse::new("h1", "http_request", input),
        ToolContext::default(),
    );
    let mut last = None;
    while let Some(event) = stream.next().await {
        if let ToolEvent::Result(result) = event {
            last = Some(result);
        }
    }
    last.unwrap()
}

fn text(result: &ToolResult) -> String {
    serde_json::to_value(result).unwrap()["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_request_to_an_allowed_host_answers_as_python_does() {
    let port = server().await;
    let tool = HttpRequest::new(["127.0.0.1"]).unwrap();
    let result = call(
        &tool,
        json!({"method": "POST", "url": format!("http://127.0.0.1:{port}/echo"),
               "headers": {"X-Probe": "p"}, "body": "hi", "timeout": 5}),
    )
    .await;
    assert!(!result.is_error(), "{}", text(&result));
    let answer: Value = serde_json::from_str(&text(&result)).unwrap();
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["status_text"], "OK");
    assert_eq!(
        answer["headers"]["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(answer["headers"]["set-cookie"], "a=1\nb=2");
    assert_eq!(answer["body"], "POST p hi");
    assert!(text(&result).starts_with(r#"{"status": 200, "status_text": "OK", "headers": {"#));

    // A redirect within the allowed hosts is followed.
    let result = call(
        &tool,
        json!({"method": "GET", "url": format!("http://127.0.0.1:{port}/home")}),
    )
    .await;
    assert!(
        text(&result).contains(r#""body": "GET  ""#),
        "{}",
        text(&result)
    );
}

#[tokio::test]
async fn errors_use_pythons_texts() {
    let port = server().await;
    let tool = HttpRequest::new(["127.0.0.1"]).unwrap();
    let url = format!("http://127.0.0.1:{port}/missing");
    let result = call(&tool, json!({"method": "GET", "url": url})).await;
    assert!(result.is_error());
    assert_eq!(
        text(&result),
        format!("Error: HttpRequestError - HTTP 404 Not Found: GET {url}")
    );
    let result = call(&tool, json!({"method": "GET", "url": url, "timeout": 0})).await;
    assert_eq!(
        text(&result),
        "Error: HttpRequestError - timeout must be positive"
    );
}

#[tokio::test]
async fn hosts_outside_the_list_and_private_addresses_are_refused() {
    let port = server().await;
    let tool = HttpRequest::new(["*"]).unwrap();
    // `localhost` is matched only by the wildcard, and resolves to loopback.
    let result = call(
        &tool,
        json!({"method": "GET", "url": format!("http://localhost:{port}/echo")}),
    )
    .await;
    assert!(result.is_error());
    assert!(
        text(&result).contains("localhost resolves to no public address"),
        "{}",
        text(&result)
    );
    let result = call(
        &tool,
        json!({"method": "GET", "url": "http://169.254.169.254/latest/meta-data/"}),
    )
    .await;
    assert!(text(&result).ends_with("169.254.169.254 is not a public address"));
    // The switch lets wildcard hosts reach private addresses.
    let open = HttpRequest::new(["*"])
        .unwrap()
        .allow_private_networks()
        .unwrap();
    let result = call(
        &open,
        json!({"method": "GET", "url": format!("http://localhost:{port}/echo")}),
    )
    .await;
    assert!(!result.is_error(), "{}", text(&result));

    let listed = HttpRequest::new(["api.github.com", "127.0.0.1"]).unwrap();
    let result = call(
        &listed,
        json!({"method": "GET", "url": "https://example.com/"}),
    )
    .await;
    assert_eq!(
        text(&result),
        "Error: HttpRequestError - example.com is not an allowed host; allowed: api.github.com, 127.0.0.1"
    );
    // A redirect out of the list is refused, not followed.
    let result = call(
        &listed,
        json!({"method": "GET", "url": format!("http://127.0.0.1:{port}/away")}),
    )
    .await;
    assert!(result.is_error());
    assert!(
        text(&result).contains("redirect refused: 169.254.169.254 is not an allowed host"),
        "{}",
        text(&result)
    );
}

#[tokio::test]
async fn the_body_and_the_time_are_bounded() {
    let port = server().await;
    let tool = HttpRequest::new(["127.0.0.1"])
        .unwrap()
        .with_limits(Duration::from_millis(300), 10);
    let result = call(
        &tool,
        json!({"method": "GET", "url": format!("http://127.0.0.1:{port}/big")}),
    )
    .await;
    let answer: Value = serde_json::from_str(&text(&result)).unwrap();
    assert_eq!(answer["body"], "xxxxxxxxxx\n[the body was cut at 10 bytes]");

    let started = std::time::Instant::now();
    let result = call(
        &tool,
        json!({"method": "GET", "url": format!("http://127.0.0.1:{port}/slow"), "timeout": 60}),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        text(&result),
        "Error: HttpRequestError - Request timed out after 0.3 seconds"
    );
}
