//! Content as Python's tracer writes it: `json.dumps` text of content blocks, the event name of
//! a message, the latest conventions' "parts", and errors as Python exceptions.

use serde::Serialize;
use serde_json::{Map, Value, json};
use strands_core::{ContentBlock, Message, ModelError, Role};

use crate::error::AgentError;

/// What Python's tracer writes for a value JSON cannot hold (bytes: images, documents).
const REPLACED: &str = "<replaced>";

/// Python's `serialize`: `json.dumps(value, ensure_ascii=False)`, with bytes (which Python's
/// encoder cannot write) as `"<replaced>"`, so no image or document reaches a span.
pub(super) fn serialize<T: Serialize + ?Sized>(value: &T) -> String {
    let text = strands_core::json::to_python_string(value).unwrap_or_else(|_| REPLACED.to_owned());
    if !text.contains("\"__bytes_encoded__\"") {
        return text;
    }
    // Rare: content with bytes is serialized again with them replaced.
    let Ok(mut value) = serde_json::to_value(value) else {
        return REPLACED.to_owned();
    };
    replace_bytes(&mut value);
    strands_core::json::to_python_string(&value).unwrap_or_else(|_| REPLACED.to_owned())
}

fn replace_bytes(value: &mut Value) {
    match value {
        Value::Object(map) if map.get("__bytes_encoded__") == Some(&Value::Bool(true)) => {
            *value = Value::String(REPLACED.to_owned());
        }
        Value::Object(map) => map.values_mut().for_each(replace_bytes),
        Value::Array(items) => items.iter_mut().for_each(replace_bytes),
        _ => {}
    }
}

/// Python's `_get_event_name_for_message`: a message holding a tool result is a tool message.
pub(super) fn event_name(message: &Message) -> &'static str {
    if message
        .content
        .iter()
        .any(|b| matches!(b, ContentBlock::ToolResult(_)))
    {
        return "gen_ai.tool.message";
    }
    match message.role {
        Role::User => "gen_ai.user.message",
        Role::Assistant => "gen_ai.assistant.message",
    }
}

/// Python's `_map_content_blocks_to_otel_parts`, over the blocks' JSON form.
pub(super) fn parts<T: Serialize + ?Sized>(blocks: &T) -> Vec<Value> {
    let Ok(Value::Array(blocks)) = serde_json::to_value(blocks) else {
        return Vec::new();
    };
    let mut parts = Vec::with_capacity(blocks.len());
    for block in blocks {
        let Value::Object(block) = block else {
            continue;
        };
        parts.extend(block_parts(block));
    }
    parts
}

fn block_parts(block: Map<String, Value>) -> Vec<Value> {
    if let Some(response) = block.get("interruptResponse") {
        return vec![json!({
            "type": "interrupt_response",
            "id": response.get("interruptId").cloned().unwrap_or(Value::Null),
            "response": response.get("response").cloned().unwrap_or(Value::Null),
        })];
    }
    if let Some(text) = block.get("text") {
        return vec![json!({"type": "text", "content": text})];
    }
    if let Some(tool_use) = block.get("toolUse") {
        return vec![json!({
            "type": "tool_call",
            "name": tool_use.get("name").cloned().unwrap_or(Value::Null),
            "id": tool_use.get("toolUseId").cloned().unwrap_or(Value::Null),
            "arguments": tool_use.get("input").cloned().unwrap_or(Value::Null),
        })];
    }
    if let Some(result) = block.get("toolResult") {
        return vec![json!({
            "type": "tool_call_response",
            "id": result.get("toolUseId").cloned().unwrap_or(Value::Null),
            "response": result.get("content").cloned().unwrap_or(Value::Null),
        })];
    }
    block
        .into_iter()
        .map(|(key, value)| json!({"type": key, "content": value}))
        .collect()
}

/// The latest conventions' messages: `[{"role", "parts"}]`.
pub(super) fn input_messages(messages: &[Message]) -> String {
    let messages: Vec<Value> = messages
        .iter()
        .map(|m| json!({"role": m.role.as_str(), "parts": parts(&m.content)}))
        .collect();
    serialize(&messages)
}

/// An error as Python would have raised it: the exception's qualified type name and `str(e)`.
pub(super) struct PythonException {
    pub(super) type_name: String,
    pub(super) message: String,
}

/// Python's `MaxTokensReachedException` text.
const MAX_TOKENS_TEXT: &str = "Model stopped generating due to maximum token limit. The partial message has been added to the conversation history. You can continue by calling the agent again. For more information see: https://strandsagents.com/docs/user-guide/concepts/agents/agent-loop/#maxtokensreachedexception";

const EXCEPTIONS: &str = "strands.types.exceptions";

impl PythonException {
    pub(super) fn of_agent_error(error: &AgentError) -> Self {
        match error {
            AgentError::MaxTokensReached { .. } => Self {
                type_name: format!("{EXCEPTIONS}.MaxTokensReachedException"),
                message: MAX_TOKENS_TEXT.to_owned(),
            },
            AgentError::ContextWindowOverflow(source) | AgentError::Model { source, .. } => {
                Self::of_model_error(source)
            }
            AgentError::StructuredOutput { .. } => Self {
                type_name: format!("{EXCEPTIONS}.StructuredOutputException"),
                message: error.to_string(),
            },
            other => Self {
                type_name: format!("strands_agent::AgentError::{}", variant_name(other)),
                message: other.to_string(),
            },
        }
    }

    pub(super) fn of_model_error(error: &ModelError) -> Self {
        match error {
            ModelError::Throttled { message, .. } => Self {
                type_name: format!("{EXCEPTIONS}.ModelThrottledException"),
                message: message.clone(),
            },
            ModelError::ContextWindowOverflow { message } => Self {
                type_name: format!("{EXCEPTIONS}.ContextWindowOverflowException"),
                message: message.clone(),
            },
            other => Self {
                type_name: "strands_core::ModelError".to_owned(),
                message: other.to_string(),
            },
        }
    }
}

fn variant_name(error: &AgentError) -> &'static str {
    match error {
        AgentError::ContextReduction(_) => "ContextReduction",
        AgentError::Session(_) => "Session",
        AgentError::Resume(_) => "Resume",
        AgentError::StructuredOutputType(_) => "StructuredOutputType",
        AgentError::EmptyConversation => "EmptyConversation",
        _ => "Other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strands_core::ToolUse;

    #[test]
    fn bytes_are_replaced_as_python_replaces_them() {
        let value = json!([{"image": {"format": "png", "source": {"bytes": {"__bytes_encoded__": true, "data": "AAAA"}}}}]);
        assert_eq!(
            serialize(&value),
            r#"[{"image": {"format": "png", "source": {"bytes": "<replaced>"}}}]"#
        );
    }

    #[test]
    fn parts_map_blocks_as_python_does() {
        let mut message = Message::assistant("hi");
        message.content.push(ContentBlock::ToolUse(ToolUse::new(
            "t1",
            "add",
            json!({"a": 1}),
        )));
        assert_eq!(
            parts(&message.content),
            vec![
                json!({"type": "text", "content": "hi"}),
                json!({"type": "tool_call", "name": "add", "id": "t1", "arguments": {"a": 1}}),
            ]
        );
        assert_eq!(event_name(&message), "gen_ai.assistant.message");
    }
}
