//! A hook that audits every tool call: one log line per call with the session, the tool, its
//! input and whether it succeeded; tools on a deny list are refused before they run. The Rust
//! form of a Python Strands `HookProvider` registering `BeforeToolCallEvent` and
//! `AfterToolCallEvent` callbacks.
//!
//! ```bash
//! AWS_REGION=us-east-1 cargo run -p example-audit-hook
//! ```

use std::sync::Arc;

use strands_runtime::agent::hooks::{
    AfterToolCallEvent, BeforeToolCallEvent, HookProvider, HookRegistry,
};
use strands_runtime::agent::vended_tools::{calculator, current_time};
use strands_runtime::models::bedrock::BedrockModel;
use strands_runtime::prelude::*;

/// Logs every tool call and refuses the tools in `denied`.
struct ToolAudit {
    denied: Vec<String>,
}

impl HookProvider for ToolAudit {
    fn register_hooks(&self, registry: &mut HookRegistry) {
        let denied = self.denied.clone();
        registry.add_callback(move |event: &mut BeforeToolCallEvent| {
            let session = RequestContext::current().and_then(|c| c.session_id.clone());
            let tool = &event.tool_use.name;
            if denied.contains(tool) {
                event.cancel_tool = Some(format!("the {tool} tool is not allowed here"));
            }
            // Through the runtime's logger: a JSON line with requestId and sessionId in AgentCore.
            tracing_line(&format!(
                "tool call: session={} tool={tool} input={} allowed={}",
                session.as_deref().unwrap_or("-"),
                event.tool_use.input,
                event.cancel_tool.is_none(),
            ));
        });
        registry.add_callback(|event: &mut AfterToolCallEvent| {
            tracing_line(&format!(
                "tool result: tool={} error={}",
                event.tool_use.name,
                event.result.is_error()
            ));
        });
    }
}

/// One audit line on stdout (a real deployment would use `tracing::info!`, which the runtime's
/// logger writes as JSON for CloudWatch).
#[allow(clippy::print_stdout)]
fn tracing_line(line: &str) {
    println!("audit: {line}");
}

#[tokio::main]
async fn main() -> Result<(), ServeError> {
    let model = Arc::new(BedrockModel::from_env().build().await);
    AgentEntrypoint::new(move || {
        Agent::builder()
            .shared_model(model.clone())
            .tool(calculator)
            .tool(current_time)
            .hooks(ToolAudit {
                denied: vec!["current_time".to_owned()],
            })
            .build()
    })
    .install(AgentCoreApp::new())
    .serve()
    .await
}
