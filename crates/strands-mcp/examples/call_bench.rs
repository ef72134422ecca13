//! Times tool calls through strands-mcp's client, for `scripts/bench-mcp` (ours against Python
//! Strands' `MCPClient` on the same server). Prints one JSON object: the connect time and each
//! call's latency in milliseconds.
//!
//! ```bash
//! cargo run --release -p strands-mcp --example call_bench -- TOOL INPUT_JSON CALLS stdio CMD ARG...
//! cargo run --release -p strands-mcp --example call_bench -- TOOL INPUT_JSON CALLS http URL
//! ```
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line program: its output is the result"
)]

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use strands_core::{CancellationToken, ToolContext, ToolEvent, ToolUse};
use strands_mcp::{McpClient, McpTransport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tool, input, calls, kind, rest @ ..] = args.as_slice() else {
        return Err("usage: call_bench TOOL INPUT_JSON CALLS (stdio CMD ARG... | http URL)".into());
    };
    let input: serde_json::Value = serde_json::from_str(input)?;
    let calls: usize = calls.parse()?;
    let transport = match (kind.as_str(), rest) {
        ("stdio", [command, args @ ..]) => McpTransport::stdio(command, args.iter().cloned()),
        ("http", [url]) => McpTransport::http(url),
        _ => return Err("the transport is `stdio CMD ARG...` or `http URL`".into()),
    };
    let started = Instant::now();
    let client = McpClient::builder("bench", transport)
        .call_timeout(Duration::from_secs(30))
        .start();
    let tools = client.load_tools().await?;
    let connect_ms = started.elapsed().as_secs_f64() * 1e3;
    let tool = tools
        .iter()
        .find(|t| t.name() == tool)
        .ok_or("the server has no such tool")?;
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let mut stream = tool.stream(
            ToolUse::new("b", tool.name(), input.clone()),
            ToolContext::new(CancellationToken::new()),
        );
        while let Some(event) = stream.next().await {
            if let ToolEvent::Result(result) = event
                && result.is_error()
            {
                return Err(format!("the call failed: {:?}", result.content).into());
            }
        }
        samples.push(started.elapsed().as_secs_f64() * 1e3);
    }
    client.stop().await;
    println!(
        "{}",
        serde_json::json!({"connect_ms": connect_ms, "call_ms": samples})
    );
    Ok(())
}
