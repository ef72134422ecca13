//! strands-mcp against the reference MCP server, npm `@modelcontextprotocol/server-everything`,
//! over stdio and streamable HTTP. Runs when `MCP_NODE` and `MCP_EVERYTHING` are set
//! (`eval "$(bash scripts/mcp-peers)"`; scripts/test sets them).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::indexing_slicing,
    reason = "tests fail loudly and say when they are skipped"
)]

use std::time::{Duration, Instant};

use serde_json::json;
use strands_core::CancellationToken;
use strands_mcp::{McpClient, McpTransport, ToolFilters};

mod common;

use common::{call, find};

/// The node binary and the server's script, or `None` (with a note) when not installed.
fn peer() -> Option<(String, String)> {
    match (std::env::var("MCP_NODE"), std::env::var("MCP_EVERYTHING")) {
        (Ok(node), Ok(script)) => Some((node, script)),
        _ => {
            // scripts/test installs the peers: there, a missing peer is a failure, not a skip.
            assert!(
                std::env::var("MCP_REQUIRE_PEERS").is_err(),
                "MCP_REQUIRE_PEERS is set but MCP_NODE or MCP_EVERYTHING is not"
            );
            eprintln!(
                "SKIPPED: run `eval \"$(bash scripts/mcp-peers)\"` to test against server-everything"
            );
            None
        }
    }
}

fn stdio_client(node: &str, script: &str) -> McpClient {
    McpClient::builder("everything", McpTransport::stdio(node, [script, "stdio"]))
        .call_timeout(Duration::from_secs(30))
        .start()
}

#[tokio::test]
async fn stdio_tools_are_listed_called_and_mapped() {
    let Some((node, script)) = peer() else { return };
    let client = stdio_client(&node, &script);
    let tools = client.load_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
    for expected in [
        "echo",
        "get-sum",
        "get-tiny-image",
        "trigger-long-running-operation",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let echo = find(&tools, "echo");
    assert_eq!(
        echo.spec().input_schema.json["properties"]["message"]["type"],
        "string"
    );

    let (_, result) = call(&*echo, json!({"message": "hi"}), CancellationToken::new()).await;
    assert_eq!(
        result,
        json!({"toolUseId": "m1", "status": "success", "content": [{"text": "Echo: hi"}]})
    );
    let (_, result) = call(
        &*find(&tools, "get-sum"),
        json!({"a": 2, "b": 3}),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(result["content"][0]["text"], "The sum of 2 and 3 is 5.");
    let (_, result) = call(
        &*find(&tools, "get-tiny-image"),
        json!({}),
        CancellationToken::new(),
    )
    .await;
    let content = result["content"].as_array().unwrap();
    assert!(
        content.iter().any(|c| c["image"]["format"] == "png"),
        "{result}"
    );

    // Progress notifications become stream events.
    let (events, result) = call(
        &*find(&tools, "trigger-long-running-operation"),
        json!({"duration": 0.6, "steps": 3}),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(result["status"], "success", "{result}");
    // Progress is best effort: the last notification may race the answer.
    assert!((2..=3).contains(&events.len()), "{events:?}");
    assert_eq!(
        events[0],
        json!({"progress": 1.0, "total": 3.0, "message": null})
    );
    assert_eq!(events[1]["progress"], 2.0);

    // Invalid arguments come back from the server as an error the model sees.
    let (_, result) = call(
        &*find(&tools, "get-sum"),
        json!({"a": "x"}),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(result["status"], "error", "{result}");
    client.stop().await;
}

#[tokio::test]
async fn cancelling_the_agent_cancels_the_call_and_timeouts_bound_it() {
    let Some((node, script)) = peer() else { return };
    let client = stdio_client(&node, &script);
    let tools = client.load_tools().await.unwrap();
    let slow = find(&tools, "trigger-long-running-operation");
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let (_, result) = call(&*slow, json!({"duration": 20, "steps": 2}), cancel).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        result["content"][0]["text"],
        "Tool execution cancelled locally; remote execution may have continued"
    );
    client.stop().await;

    let client = McpClient::builder("everything", McpTransport::stdio(&node, [&script, "stdio"]))
        .call_timeout(Duration::from_millis(500))
        .start();
    let tools = client.load_tools().await.unwrap();
    let started = Instant::now();
    let (_, result) = call(
        &*find(&tools, "trigger-long-running-operation"),
        json!({"duration": 20, "steps": 2}),
        CancellationToken::new(),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(result["status"], "error");
    assert_eq!(
        result["content"][0]["text"],
        "Tool execution failed: Request 'tools/call' timed out"
    );
    // The connection is still good after a timeout.
    let (_, result) = call(
        &*find(&tools, "echo"),
        json!({"message": "again"}),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(result["content"][0]["text"], "Echo: again");
    client.stop().await;
}

#[tokio::test]
async fn prefixes_and_filters_choose_and_name_the_tools() {
    let Some((node, script)) = peer() else { return };
    let filters = ToolFilters::new()
        .allow_regex("get-")
        .unwrap()
        .reject("get-env");
    let client = McpClient::builder("everything", McpTransport::stdio(&node, [&script, "stdio"]))
        .prefix("ev")
        .filters(filters)
        .start();
    let tools = client.load_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
    names.sort_unstable();
    assert!(names.contains(&"ev_get-sum"), "{names:?}");
    assert!(
        !names.iter().any(|n| *n == "ev_get-env" || *n == "ev_echo"),
        "{names:?}"
    );
    assert!(names.iter().all(|n| n.starts_with("ev_get-")), "{names:?}");
    // The server is called by its own name.
    let (_, result) = call(
        &*find(&tools, "ev_get-sum"),
        json!({"a": 1, "b": 1}),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(result["content"][0]["text"], "The sum of 1 and 1 is 2.");
    client.stop().await;
}

/// Processes whose environment holds `marker`, and zombie children of this process.
#[cfg(target_os = "linux")]
fn leftovers(marker: &str) -> (usize, usize) {
    let me = std::process::id().to_string();
    let (mut live, mut zombies) = (0, 0);
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let dir = entry.path();
        if let Ok(environ) = std::fs::read(dir.join("environ"))
            && String::from_utf8_lossy(&environ).contains(marker)
        {
            live += 1;
        }
        if let Ok(stat) = std::fs::read_to_string(dir.join("stat")) {
            // pid (comm) state ppid ...
            let fields: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            if fields.first() == Some(&"Z") && fields.get(1) == Some(&me.as_str()) {
                zombies += 1;
            }
        }
    }
    (live, zombies)
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn stop_ends_and_reaps_the_child_process() {
    let Some((node, script)) = peer() else { return };
    let marker = format!("STRANDS_MCP_TEST_MARKER_{}", std::process::id());
    let transport = McpTransport::stdio(&node, [&script, "stdio"]).env(&marker, "1");
    let client = McpClient::builder("everything", transport).start();
    client.load_tools().await.unwrap();
    assert_eq!(leftovers(&marker).0, 1, "the server runs");
    client.stop().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while leftovers(&marker) != (0, 0) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(leftovers(&marker), (0, 0), "(live, zombie) after stop");
}

#[tokio::test]
async fn a_server_that_cannot_start_is_an_error_and_the_client_keeps_trying() {
    let client = McpClient::builder(
        "missing",
        McpTransport::stdio("/no/such/mcp-server", Vec::<String>::new()),
    )
    .start();
    let error = client.load_tools().await.err().unwrap().to_string();
    assert!(
        error.starts_with(
            "the MCP server missing is not available: /no/such/mcp-server could not be started"
        ),
        "{error}"
    );
    client.stop().await;
}

#[tokio::test]
async fn streamable_http_reaches_the_same_tools() {
    let Some((node, script)) = peer() else { return };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = tokio::process::Command::new(&node)
        .args([&script, "streamableHttp"])
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/mcp");
    // The server takes a moment to listen; the client retries in the background.
    let client = McpClient::builder("everything-http", McpTransport::http(&url))
        .call_timeout(Duration::from_secs(30))
        .start();
    let deadline = Instant::now() + Duration::from_secs(30);
    let tools = loop {
        match client.load_tools().await {
            Ok(tools) => break tools,
            Err(error) if Instant::now() < deadline => {
                eprintln!("waiting for the HTTP server: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("{error}"),
        }
    };
    let (_, result) = call(
        &*find(&tools, "echo"),
        json!({"message": "over http"}),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(result["content"][0]["text"], "Echo: over http");
    client.stop().await;
    server.kill().await.unwrap();
}
