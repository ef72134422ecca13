//! Turning what a tool function returns into a [`ToolResult`], with Python's rules.

use std::fmt::Display;

use serde::Serialize;
use serde_json::Value;
use strands_core::json::to_python_string;
use strands_core::{ToolResult, ToolResultContent, ToolResultStatus};

/// A value a tool function may return.
///
/// The mapping follows Python's `@tool`: strings are used as they are; numbers, booleans, `()`
/// (`null`), vectors, maps and [`serde_json::Value`]s become text via Python's
/// `json.dumps(..., ensure_ascii=False)` (`", "` and `": "` separators); [`Json`] serializes a
/// struct compactly, like a pydantic model's `model_dump_json()`; a [`ToolResult`] is used as is;
/// `Err(e)` becomes an error result with the text `"Error: {e}"`.
///
/// ```
/// use strands_agent::tools::IntoToolOutput;
///
/// let result = 5i64.into_tool_result("t1");
/// assert_eq!(result.content[0].as_text(), Some("5"));
/// let result = Err::<i64, _>("boom").into_tool_result("t1");
/// assert!(result.is_error());
/// assert_eq!(result.content[0].as_text(), Some("Error: boom"));
/// ```
pub trait IntoToolOutput {
    /// Builds the result for the tool use `tool_use_id`.
    fn into_tool_result(self, tool_use_id: &str) -> ToolResult;
}

fn python_text<T: Serialize + ?Sized>(tool_use_id: &str, value: &T) -> ToolResult {
    match to_python_string(value) {
        Ok(text) => ToolResult::success(tool_use_id, text),
        Err(error) => ToolResult::error(
            tool_use_id,
            format!("Error: tool returned a value that cannot be serialized: {error}"),
        ),
    }
}

impl IntoToolOutput for ToolResult {
    fn into_tool_result(mut self, tool_use_id: &str) -> ToolResult {
        tool_use_id.clone_into(&mut self.tool_use_id);
        self
    }
}

impl IntoToolOutput for String {
    fn into_tool_result(self, tool_use_id: &str) -> ToolResult {
        ToolResult::success(tool_use_id, self)
    }
}

impl IntoToolOutput for &str {
    fn into_tool_result(self, tool_use_id: &str) -> ToolResult {
        ToolResult::success(tool_use_id, self)
    }
}

impl IntoToolOutput for Value {
    /// An object with both `status` and `content` is taken as a tool result, as Python does;
    /// a string is used as is; anything else becomes Python-style JSON text.
    fn into_tool_result(self, tool_use_id: &str) -> ToolResult {
        match self {
            Value::String(text) => ToolResult::success(tool_use_id, text),
            Value::Object(ref map) if map.contains_key("status") && map.contains_key("content") => {
                let status = map
                    .get("status")
                    .cloned()
                    .map(serde_json::from_value::<ToolResultStatus>);
                let content = map
                    .get("content")
                    .cloned()
                    .map(serde_json::from_value::<Vec<ToolResultContent>>);
                match (status, content) {
                    (Some(Ok(status)), Some(Ok(content))) => {
                        ToolResult::new(tool_use_id, status, content)
                    }
                    _ => python_text(tool_use_id, &self),
                }
            }
            other => python_text(tool_use_id, &other),
        }
    }
}

impl<T: IntoToolOutput, E: Display> IntoToolOutput for Result<T, E> {
    fn into_tool_result(self, tool_use_id: &str) -> ToolResult {
        match self {
            Ok(value) => value.into_tool_result(tool_use_id),
            Err(error) => ToolResult::error(tool_use_id, format!("Error: {error}")),
        }
    }
}

impl<T: IntoToolOutput> IntoToolOutput for Option<T> {
    fn into_tool_result(self, tool_use_id: &str) -> ToolResult {
        match self {
            Some(value) => value.into_tool_result(tool_use_id),
            None => ToolResult::success(tool_use_id, "null"),
        }
    }
}

impl<T: Serialize> IntoToolOutput for Vec<T> {
    fn into_tool_result(self, tool_use_id: &str) -> ToolResult {
        python_text(tool_use_id, &self)
    }
}

impl IntoToolOutput for () {
    fn into_tool_result(self, tool_use_id: &str) -> ToolResult {
        ToolResult::success(tool_use_id, "null")
    }
}

macro_rules! python_json_output {
    ($($ty:ty),*) => {$(
        impl IntoToolOutput for $ty {
            fn into_tool_result(self, tool_use_id: &str) -> ToolResult {
                python_text(tool_use_id, &self)
            }
        }
    )*};
}

python_json_output!(
    bool, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64
);
python_json_output!(serde_json::Map<String, Value>);

/// Wraps a serializable value a tool returns, to send it as compact JSON text (like a pydantic
/// model's `model_dump_json()` in Python).
///
/// ```
/// use serde::Serialize;
/// use strands_agent::tools::{IntoToolOutput, Json};
///
/// #[derive(Serialize)]
/// struct Point { x: i32, y: i32 }
///
/// let result = Json(Point { x: 1, y: 2 }).into_tool_result("t1");
/// assert_eq!(result.content[0].as_text(), Some(r#"{"x":1,"y":2}"#));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoToolOutput for Json<T> {
    fn into_tool_result(self, tool_use_id: &str) -> ToolResult {
        match serde_json::to_string(&self.0) {
            Ok(text) => ToolResult::success(tool_use_id, text),
            Err(error) => ToolResult::error(
                tool_use_id,
                format!("Error: tool returned a value that cannot be serialized: {error}"),
            ),
        }
    }
}
