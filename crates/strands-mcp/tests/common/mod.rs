//! What the strands-mcp tests share: finding a tool and running it.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::sync::Arc;

use futures_util::StreamExt as _;
use serde_json::Value;
use strands_core::{CancellationToken, Tool, ToolContext, ToolEvent, ToolResult, ToolUse};

/// The tool named `name`.
pub(crate) fn find(tools: &[Arc<dyn Tool>], name: &str) -> Arc<dyn Tool> {
    tools
        .iter()
        .find(|t| t.name() == name)
        .cloned()
        .unwrap_or_else(|| panic!("no tool {name}"))
}

/// Runs a tool, returning its stream events and its result as JSON.
pub(crate) async fn call(
    tool: &dyn Tool,
    input: Value,
    cancel: CancellationToken,
) -> (Vec<Value>, Value) {
    let mut stream = tool.stream(
        ToolUse::new("m1", tool.name(), input),
        ToolContext::new(cancel),
    );
    let mut events = Vec::new();
    let mut result: Option<ToolResult> = None;
    while let Some(event) = stream.next().await {
        match event {
            ToolEvent::Stream(value) => events.push(value),
            ToolEvent::Result(r) => result = Some(r),
            _ => {}
        }
    }
    (events, serde_json::to_value(result.unwrap()).unwrap())
}
