//! strands-mcp against an MCP server on the Python SDK (`mcp` 2.1.1, the version Python
//! Strands 1.62 installs; tests/mcp/fixture_server.py) over stdio and streamable HTTP, and the
//! faults a real server can cause: killed mid-call, never answering, a 10 MB answer and one past
//! rmcp's 16 MiB message limit. Runs with `STRANDS_PYTHON` (scripts/python-strands).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::indexing_slicing,
    reason = "tests fail loudly and say when they are skipped"
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use strands_core::CancellationToken;
use strands_mcp::{McpClient, McpTransport};

mod common;

use common::{call, find};

fn python() -> Option<String> {
    match std::env::var("STRANDS_PYTHON") {
        Ok(python) => Some(python),
        Err(_) => {
            assert!(
                std::env::var("STRANDS_REQUIRE_PYTHON").is_err(),
                "STRANDS_REQUIRE_PYTHON is set but STRANDS_PYTHON is not; run scripts/python-strands"
            );
            eprintln!("SKIPPED: set STRANDS_PYTHON to the interpreter from scripts/python-strands");
            None
        }
    }
}

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/mcp/fixture_server.py"
);

fn stdio(python: &str, timeout: Duration) -> McpClient {
    McpClient::builder("fixture", McpTransport::stdio(python, [FIXTURE]))
        .call_timeout(timeout)
        .start()
}

async fn run(client: &McpClient, name: &str, input: Value) -> Value {
    call(
        &*find(&client.tools(), name),
        input,
        CancellationToken::new(),
    )
    .await
    .1
}

/// Runs `add` until it succeeds (the client may be reconnecting), at most 20 s.
async fn add_works(client: &McpClient) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let result = run(client, "add", json!({"a": 20, "b": 22})).await;
        if result["status"] == "success" {
            assert_eq!(result["content"], json!([{"text": "42"}]));
            assert_eq!(result["structuredContent"], json!({"result": 42}));
            return;
        }
        assert!(
            Instant::now() < deadline,
            "add never worked again: {result}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_server_killed_mid_call_is_a_tool_error_and_the_client_reconnects() {
    let Some(python) = python() else { return };
    let client = stdio(&python, Duration::from_secs(30));
    client.ready().await.unwrap();
    add_works(&client).await;
    let crashed = run(&client, "crash", json!({})).await;
    assert_eq!(crashed["status"], "error", "{crashed}");
    assert!(
        crashed["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Tool execution failed: "),
        "{crashed}"
    );
    // A new process is started; the tools listed before are kept meanwhile.
    add_works(&client).await;
    client.stop().await;
}

#[tokio::test]
async fn a_call_that_never_answers_costs_the_timeout_and_nothing_else() {
    let Some(python) = python() else { return };
    let client = stdio(&python, Duration::from_secs(1));
    client.ready().await.unwrap();
    let started = Instant::now();
    let slow = run(&client, "slow", json!({"seconds": 60})).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        slow["content"],
        json!([{"text": "Tool execution failed: Request 'tools/call' timed out"}])
    );
    // The connection is fine: the next call is answered at once.
    add_works(&client).await;
    client.stop().await;
}

#[tokio::test]
async fn a_10_mb_answer_arrives_whole_and_one_past_the_limit_ends_at_the_timeout() {
    let Some(python) = python() else { return };
    let client = stdio(&python, Duration::from_secs(5));
    client.ready().await.unwrap();
    let big = run(&client, "big", json!({"megabytes": 10})).await;
    assert_eq!(
        big["status"],
        "success",
        "{}",
        &big["content"][0]["text"].to_string()
            [..200.min(big["content"][0]["text"].to_string().len())]
    );
    assert_eq!(
        big["content"][0]["text"].as_str().unwrap().len(),
        10 * 1024 * 1024
    );
    // rmcp drops a message over 16 MiB; the call is then answered by its timeout, not hung.
    let started = Instant::now();
    let too_big = run(&client, "big", json!({"megabytes": 20})).await;
    assert_eq!(
        too_big["status"],
        "error",
        "{}",
        &too_big.to_string()[..200.min(too_big.to_string().len())]
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    add_works(&client).await;
    client.stop().await;
}

/// The fixture over stateless streamable HTTP; killed when dropped.
struct HttpServer(Child);

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn streamable_http_to_the_python_server_maps_text_structured_image_and_errors() {
    let Some(python) = python() else { return };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = HttpServer(
        Command::new(&python)
            .args([FIXTURE, "http", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = McpClient::builder(
        "fixture",
        McpTransport::http(format!("http://127.0.0.1:{port}/mcp")),
    )
    .startup_timeout(Duration::from_secs(5))
    .start();
    // The server takes a moment to listen: the client retries until it answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.ready().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the Python server never answered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    add_works(&client).await;
    let pixel = run(&client, "pixel", json!({})).await;
    assert_eq!(pixel["content"][0]["image"]["format"], "png");
    let failed = run(&client, "fail", json!({"reason": "no"})).await;
    assert_eq!(
        failed,
        json!({"toolUseId": "m1", "status": "error", "content": [{"text": "Error executing tool fail"}]})
    );
    // A 20 MB answer over HTTP is refused by the response limit at once.
    let started = Instant::now();
    let too_big = run(&client, "big", json!({"megabytes": 20})).await;
    assert_eq!(too_big["status"], "error");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    client.stop().await;
}

#[tokio::test]
async fn a_list_changed_notification_refreshes_the_tools() {
    let Some(python) = python() else { return };
    let client = stdio(&python, Duration::from_secs(10));
    client.ready().await.unwrap();
    let names = |client: &McpClient| -> Vec<String> {
        client.tools().iter().map(|t| t.name().to_owned()).collect()
    };
    assert!(!names(&client).contains(&"grown".to_owned()));
    let result = run(&client, "grow", json!({"name": "grown"})).await;
    assert_eq!(result["content"], json!([{"text": "added grown"}]));
    // The server said its list changed: the client lists the tools again, unasked.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !names(&client).contains(&"grown".to_owned()) {
        assert!(
            Instant::now() < deadline,
            "never refreshed: {:?}",
            names(&client)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let result = run(&client, "grown", json!({"text": "hi"})).await;
    assert_eq!(result["content"], json!([{"text": "grown: hi"}]));
    client.stop().await;
}
