//! The client the MCP conformance suite drives (`conformance client --command ...`): connects to
//! the server URL given as the last argument over streamable HTTP, lists the tools, calls each
//! tool the scenario (`MCP_CONFORMANCE_SCENARIO`) is about, and exits 0 when every call
//! answered. OAuth client credentials given in the scenario's context
//! (`MCP_CONFORMANCE_CONTEXT`: `client_id`, `client_secret`) are used as the agent file's
//! `auth` would use them. `scripts/mcp-conformance` runs it.
//!
//! ```bash
//! cargo run -p strands-mcp --example conformance_client -- http://127.0.0.1:3000/mcp
//! ```
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line program: its output is the result"
)]

use std::process::ExitCode;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::json;
use strands_core::{CancellationToken, ToolContext, ToolEvent, ToolUse};
use strands_mcp::{ClientCredentials, McpClient, McpTransport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(url) = std::env::args()
        .next_back()
        .filter(|a| a.starts_with("http"))
    else {
        eprintln!("usage: conformance_client URL");
        return ExitCode::from(2);
    };
    let mut builder = McpClient::builder("conformance", McpTransport::http(url))
        .startup_timeout(Duration::from_secs(10))
        .call_timeout(Duration::from_secs(10));
    if let Some(credentials) = context_credentials() {
        builder = builder.oauth(credentials);
    }
    let client = builder.start();
    let tools = match client.load_tools().await {
        Ok(tools) => tools,
        Err(error) => {
            eprintln!("{error}");
            client.stop().await;
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    // The tools each scenario checks (test-tool: the authorization scenarios' protected tool) are called: add_numbers (tools_call), test_reconnection
    // (sse-retry: the answer's stream is closed and must be resumed).
    for tool in &tools {
        let input = match tool.name() {
            "add_numbers" => json!({"a": 5, "b": 3}),
            "test_reconnection" | "test-tool" => json!({}),
            _ => continue,
        };
        let mut stream = tool.stream(
            ToolUse::new("c1", tool.name(), input),
            ToolContext::new(CancellationToken::new()),
        );
        while let Some(event) = stream.next().await {
            if let ToolEvent::Result(result) = event {
                println!("{}: {:?}", tool.name(), result.content);
                failed |= result.is_error();
            }
        }
    }
    client.stop().await;
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The client credentials of an authorization scenario's context, if it has them.
fn context_credentials() -> Option<ClientCredentials> {
    let context: serde_json::Value =
        serde_json::from_str(&std::env::var("MCP_CONFORMANCE_CONTEXT").ok()?).ok()?;
    let id = context["client_id"].as_str()?;
    let secret = context["client_secret"].as_str()?;
    Some(ClientCredentials::new(id, secret))
}
