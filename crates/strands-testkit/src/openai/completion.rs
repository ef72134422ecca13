//! Folds a scripted chunk stream into one `chat.completion`, for `"stream": false` requests.

use serde_json::{Map, Value, json};

use super::SseFrame;

/// A tool call being folded.
#[derive(Debug, Default)]
struct ToolCall {
    index: u64,
    id: String,
    name: String,
    arguments: String,
}

/// The completion the chunks add up to, or the error object one of them carries.
pub(super) fn fold(frames: &[SseFrame]) -> Result<Value, Value> {
    let mut content: Option<String> = None;
    let mut reasoning: Option<String> = None;
    let mut tool_calls: Vec<ToolCall> = Vec::new();
    let mut finish_reason = Value::Null;
    let mut usage = Value::Null;
    for frame in frames {
        let SseFrame::Chunk(chunk) = frame else {
            continue;
        };
        if let Some(error) = chunk.get("error") {
            return Err(json!({ "error": error }));
        }
        if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
            usage = u.clone();
        }
        let Some(choice) = chunk["choices"].as_array().and_then(|c| c.first()) else {
            continue;
        };
        let delta = &choice["delta"];
        if let Some(text) = delta["content"].as_str() {
            content.get_or_insert_with(String::new).push_str(text);
        }
        if let Some(text) = delta["reasoning_content"].as_str() {
            reasoning.get_or_insert_with(String::new).push_str(text);
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let index = call["index"].as_u64().unwrap_or(0);
            let position = match tool_calls.iter().position(|c| c.index == index) {
                Some(position) => position,
                None => {
                    tool_calls.push(ToolCall {
                        index,
                        ..ToolCall::default()
                    });
                    tool_calls.len() - 1
                }
            };
            if let Some(folded) = tool_calls.get_mut(position) {
                if let Some(id) = call["id"].as_str() {
                    id.clone_into(&mut folded.id);
                }
                if let Some(name) = call["function"]["name"].as_str() {
                    name.clone_into(&mut folded.name);
                }
                if let Some(arguments) = call["function"]["arguments"].as_str() {
                    folded.arguments.push_str(arguments);
                }
            }
        }
        if !choice["finish_reason"].is_null() {
            finish_reason = choice["finish_reason"].clone();
        }
    }
    let mut message = Map::new();
    message.insert("role".to_owned(), json!("assistant"));
    message.insert(
        "content".to_owned(),
        content
            .filter(|c| !c.is_empty())
            .map_or(Value::Null, Value::String),
    );
    if let Some(reasoning) = reasoning {
        message.insert("reasoning_content".to_owned(), Value::String(reasoning));
    }
    message.insert("refusal".to_owned(), Value::Null);
    if !tool_calls.is_empty() {
        message.insert(
            "tool_calls".to_owned(),
            tool_calls
                .into_iter()
                .map(|c| {
                    json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}})
                })
                .collect(),
        );
    }
    let mut completion = json!({
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish_reason}],
    });
    if !usage.is_null() {
        completion["usage"] = usage;
    }
    Ok(completion)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::super::chunks;
    use super::*;

    #[test]
    fn interleaved_tool_calls_fold_into_whole_calls() {
        let frames = chunks::tool_call_turn(
            Some("Adding."),
            &[("a", "add", r#"{"a": 1}"#), ("b", "add", r#"{"a": 2}"#)],
        );
        let completion = fold(&frames).unwrap();
        let message = &completion["choices"][0]["message"];
        assert_eq!(message["content"], "Adding.");
        assert_eq!(message["tool_calls"][1]["id"], "b");
        assert_eq!(
            message["tool_calls"][1]["function"]["arguments"],
            r#"{"a": 2}"#
        );
        assert_eq!(completion["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(completion["usage"]["total_tokens"], 50);
    }
}
