//! The example server, started as a user would start it, answers strands-mcp's client: every
//! tool is listed (the JSON Schema 2020-12 one as written) and each call maps back to the
//! content it returned. The conformance suite runs against it in scripts/mcp-conformance.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use strands_mcp::{McpClient, McpTransport};
use strands_runtime::core::{CancellationToken, ToolContext, ToolEvent, ToolUse};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_example_serves_its_tools_over_mcp() {
    let port = free_port();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_example-mcp-server"))
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !reqwest::get(format!("http://127.0.0.1:{port}/ping"))
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(Instant::now() < deadline, "no /ping");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let client = McpClient::builder(
        "example",
        McpTransport::http(format!("http://127.0.0.1:{port}/mcp")),
    )
    .start();
    let tools = client.load_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        [
            "test_simple_text",
            "test_image_content",
            "test_multiple_content_types",
            "test_embedded_resource",
            "test_error_handling",
            "test_tool_with_progress",
            "json_schema_2020_12_tool"
        ]
    );
    let schema = &tools[6].spec().input_schema.json;
    assert_eq!(schema["$defs"]["address"]["type"], "object");

    let mut answers = Vec::new();
    for tool in &tools[..6] {
        let mut stream = tool.stream(
            ToolUse::new("c", tool.name(), json!({})),
            ToolContext::new(CancellationToken::new()),
        );
        let (mut progress, mut result) = (0, Value::Null);
        while let Some(event) = stream.next().await {
            match event {
                ToolEvent::Stream(_) => progress += 1,
                ToolEvent::Result(r) => result = serde_json::to_value(r).unwrap(),
                _ => {}
            }
        }
        answers.push((progress, result));
    }
    assert_eq!(
        answers[0].1["content"],
        json!([{"text": "This is a simple text response for testing."}])
    );
    assert_eq!(answers[1].1["content"][0]["image"]["format"], "png");
    // The embedded text resource comes back as text, as Python Strands maps it.
    assert_eq!(
        answers[2].1["content"][2],
        json!({"text": r#"{"test":"data","value":123}"#})
    );
    assert_eq!(
        answers[3].1["content"],
        json!([{"text": "This is an embedded resource content."}])
    );
    assert_eq!(answers[4].1["status"], "error");
    // Three progress notifications reached the client as stream events (the last may race
    // the answer).
    assert!((2..=3).contains(&answers[5].0), "{:?}", answers[5]);
    assert_eq!(
        answers[5].1["content"],
        json!([{"text": "Progress test completed"}])
    );
    client.stop().await;
}
