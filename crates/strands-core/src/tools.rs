//! Tool specifications, tool uses and tool results.
//!
//! Python: `strands.types.tools`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::media::{DocumentContent, ImageContent};

/// What a model is told about a tool: `{"name", "description", "inputSchema": {"json": ...}}`.
///
/// ```
/// use serde_json::json;
/// use strands_core::ToolSpec;
///
/// let spec = ToolSpec::new("add", "Add two integers.", json!({"type": "object"}));
/// assert_eq!(
///     serde_json::to_value(&spec).unwrap(),
///     json!({"name": "add", "description": "Add two integers.", "inputSchema": {"json": {"type": "object"}}})
/// );
/// ```
///
/// Python: `strands.types.tools.ToolSpec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolSpec {
    /// The tool name, matching `^[a-zA-Z0-9_\-]{1,64}$`.
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// The JSON schema of the input.
    pub input_schema: JsonSchema,
    /// The JSON schema of the output, if declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<JsonSchema>,
    /// MCP tool annotations; never sent to models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
}

impl ToolSpec {
    /// A spec from a name, a description and the input JSON schema.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema: JsonSchema { json: input_schema },
            output_schema: None,
            annotations: None,
        }
    }
}

/// `{"json": <schema>}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JsonSchema {
    /// The schema.
    pub json: Value,
}

impl JsonSchema {
    /// Wraps a schema.
    pub fn new(json: Value) -> Self {
        Self { json }
    }
}

/// A model's request to run a tool: `{"toolUseId", "name", "input"}`.
///
/// Python: `strands.types.tools.ToolUse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolUse {
    /// Id the result must echo.
    pub tool_use_id: String,
    /// The tool to run.
    pub name: String,
    /// The arguments, a JSON value (normally an object).
    pub input: Value,
    /// Provider signature carried with the tool use (some reasoning models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_signature: Option<String>,
}

impl ToolUse {
    /// A tool use.
    pub fn new(tool_use_id: impl Into<String>, name: impl Into<String>, input: Value) -> Self {
        Self {
            tool_use_id: tool_use_id.into(),
            name: name.into(),
            input,
            reasoning_signature: None,
        }
    }
}

/// Whether a tool succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolResultStatus {
    /// The tool succeeded.
    Success,
    /// The tool failed; the content says why.
    Error,
}

/// The outcome of a tool use: `{"toolUseId", "status", "content": [...]}`.
///
/// ```
/// use strands_core::ToolResult;
///
/// let result = ToolResult::error("t1", "Unknown tool: multiply");
/// assert_eq!(
///     serde_json::to_string(&result).unwrap(),
///     r#"{"toolUseId":"t1","status":"error","content":[{"text":"Unknown tool: multiply"}]}"#
/// );
/// ```
///
/// Python: `strands.types.tools.ToolResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolResult {
    /// The id of the tool use this answers.
    pub tool_use_id: String,
    /// Success or error.
    pub status: ToolResultStatus,
    /// What the tool returned.
    pub content: Vec<ToolResultContent>,
    /// The structured value an MCP tool returned besides its content (MCP's
    /// `structuredContent`); kept in history and sessions, never sent to models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
}

impl ToolResult {
    /// A result with the given status and content.
    pub fn new(
        tool_use_id: impl Into<String>,
        status: ToolResultStatus,
        content: Vec<ToolResultContent>,
    ) -> Self {
        Self {
            tool_use_id: tool_use_id.into(),
            status,
            content,
            structured_content: None,
        }
    }

    /// A successful result holding one text block.
    pub fn success(tool_use_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(
            tool_use_id,
            ToolResultStatus::Success,
            vec![ToolResultContent::Text(text.into())],
        )
    }

    /// An error result holding one text block.
    pub fn error(tool_use_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(
            tool_use_id,
            ToolResultStatus::Error,
            vec![ToolResultContent::Text(text.into())],
        )
    }

    /// Whether the status is [`ToolResultStatus::Error`].
    pub fn is_error(&self) -> bool {
        self.status == ToolResultStatus::Error
    }
}

/// One block of a tool result: `{"text"}`, `{"json"}`, `{"image"}` or `{"document"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ToolResultContent {
    /// Text.
    Text(String),
    /// A JSON value.
    Json(Value),
    /// An image.
    Image(ImageContent),
    /// A document.
    Document(DocumentContent),
}

impl ToolResultContent {
    /// The text, if this is a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// How the model may choose tools: `{"auto": {}}`, `{"any": {}}` or `{"tool": {"name"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ToolChoice {
    /// The model decides whether to call a tool.
    Auto {},
    /// The model must call some tool.
    Any {},
    /// The model must call the named tool.
    Tool {
        /// The tool to call.
        name: String,
    },
}

/// Whether `name` is a valid tool name: `^[a-zA-Z0-9_\-]{1,}$` and at most 64 characters.
///
/// Python: `strands.tools.tools.validate_tool_use_name`.
pub fn is_valid_tool_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
