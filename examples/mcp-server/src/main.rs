//! Strands tools served as an MCP server, the way AgentCore's MCP protocol runs one: stateless
//! streamable HTTP at `POST /mcp` on port 8000 (or `PORT`), with `/ping`. The Rust form of a
//! Python `FastMCP(stateless_http=True)` app with `@mcp.tool()` functions.
//!
//! Its tools are those the official MCP conformance suite calls (`test_simple_text`,
//! `test_image_content`, ...), so `scripts/mcp-conformance` runs the suite against it.
//!
//! ```bash
//! cargo run -p example-mcp-server
//! npx @modelcontextprotocol/inspector --cli http://127.0.0.1:8000/mcp --transport http --method tools/list
//! ```

use std::time::Duration;

use strands_runtime::AgentCoreApp;
use strands_runtime::agent::tool;
use strands_runtime::core::media::{
    DocumentContent, DocumentFormat, ImageContent, ImageFormat, MediaSource,
};
use strands_runtime::core::tools::{ToolResult, ToolResultContent, ToolResultStatus, ToolSpec};
use strands_runtime::core::{Tool, ToolContext, ToolEvent, ToolStream, ToolUse};
use strands_runtime::mcp::McpToolServer;

/// A 1x1 red PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

fn png() -> ToolResultContent {
    ToolResultContent::Image(ImageContent::new(
        ImageFormat::Png,
        MediaSource::bytes(PNG.to_vec()),
    ))
}

fn document(name: &str, text: &str) -> ToolResultContent {
    ToolResultContent::Document(DocumentContent::new(
        DocumentFormat::Txt,
        name,
        MediaSource::bytes(text.as_bytes().to_vec()),
    ))
}

fn result(id: &str, status: ToolResultStatus, content: Vec<ToolResultContent>) -> ToolResult {
    ToolResult::new(id, status, content)
}

/// Returns a simple text response.
#[tool]
async fn test_simple_text() -> String {
    "This is a simple text response for testing.".to_owned()
}

/// Returns a one-pixel PNG image.
#[tool]
async fn test_image_content() -> ToolResult {
    result("", ToolResultStatus::Success, vec![png()])
}

/// Returns text, an image and an embedded resource.
#[tool]
async fn test_multiple_content_types() -> ToolResult {
    let content = vec![
        ToolResultContent::Text("Multiple content types test:".to_owned()),
        png(),
        document("mixed-content-resource", r#"{"test":"data","value":123}"#),
    ];
    result("", ToolResultStatus::Success, content)
}

/// Returns an embedded text resource.
#[tool]
async fn test_embedded_resource() -> ToolResult {
    let content = vec![document(
        "embedded-resource",
        "This is an embedded resource content.",
    )];
    result("", ToolResultStatus::Success, content)
}

/// Always fails.
#[tool]
async fn test_error_handling() -> ToolResult {
    ToolResult::error("", "This tool intentionally returns an error for testing")
}

/// A tool that reports progress: each `tool_stream` event becomes an MCP progress notification
/// when the client asks for progress.
struct Progress {
    spec: ToolSpec,
}

impl Tool for Progress {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn stream(&self, tool_use: ToolUse, _context: ToolContext) -> ToolStream<'_> {
        Box::pin(async_stream::stream! {
            for step in [0, 50, 100] {
                yield ToolEvent::Stream(serde_json::json!(format!("{step}% done")));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            yield ToolEvent::Result(ToolResult::success(tool_use.tool_use_id, "Progress test completed"));
        })
    }
}

/// A tool whose input schema uses JSON Schema 2020-12 (`$schema`, `$defs`, `$ref`), which is
/// served as written.
struct Schema2020 {
    spec: ToolSpec,
}

impl Tool for Schema2020 {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn stream(&self, tool_use: ToolUse, _context: ToolContext) -> ToolStream<'_> {
        let answer = format!("received {}", tool_use.input);
        strands_runtime::core::tool_result_stream(async move {
            ToolResult::success(tool_use.tool_use_id, answer)
        })
    }
}

/// The server: every tool above.
pub fn server() -> McpToolServer {
    let progress = Progress {
        spec: ToolSpec::new(
            "test_tool_with_progress",
            "Reports progress three times, then answers",
            serde_json::json!({"type": "object", "properties": {}}),
        ),
    };
    let schema = Schema2020 {
        spec: ToolSpec::new(
            "json_schema_2020_12_tool",
            "Tool with JSON Schema 2020-12 features",
            serde_json::json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {"address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
                "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
                "additionalProperties": false
            }),
        ),
    };
    McpToolServer::new("example-mcp-server", env!("CARGO_PKG_VERSION"))
        .tool(test_simple_text)
        .tool(test_image_content)
        .tool(test_multiple_content_types)
        .tool(test_embedded_resource)
        .tool(test_error_handling)
        .tool(progress)
        .tool(schema)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    AgentCoreApp::new().mcp_server(server()).serve().await?;
    Ok(())
}
