//! The request checks OpenAI makes before it answers, with its error messages.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Reply;

fn invalid(message: &str, param: Option<&str>, code: Option<&str>) -> Reply {
    let mut reply = Reply::error(400, message, "invalid_request_error", code);
    if let (Reply::Error { body, .. }, Some(param)) = (&mut reply, param) {
        body["error"]["param"] = Value::String(param.to_owned());
    }
    reply
}

/// The 400 OpenAI would answer to `body`, if any.
pub(super) fn check(body: &Value) -> Option<Reply> {
    if !body.is_object() {
        return Some(invalid(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            None,
            None,
        ));
    }
    if body["model"].as_str().is_none_or(str::is_empty) {
        return Some(invalid("you must provide a model parameter", None, None));
    }
    let Some(messages) = body["messages"].as_array() else {
        return Some(invalid(
            "Missing required parameter: 'messages'.",
            Some("messages"),
            Some("missing_required_parameter"),
        ));
    };
    if messages.is_empty() {
        return Some(invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            Some("messages"),
            Some("empty_array"),
        ));
    }
    if body.get("stream_options").is_some_and(|o| !o.is_null())
        && body["stream"] != Value::Bool(true)
    {
        return Some(invalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            Some("stream_options"),
            None,
        ));
    }
    if body["tools"].as_array().is_some_and(Vec::is_empty) {
        return Some(invalid(
            "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            Some("tools"),
            Some("empty_array"),
        ));
    }
    check_tool_messages(messages)
}

/// Every `role: tool` message answers a `tool_calls` entry of the assistant message before it,
/// and every such entry is answered before another kind of message follows.
fn check_tool_messages(messages: &[Value]) -> Option<Reply> {
    let mut pending: BTreeSet<String> = BTreeSet::new();
    let mut after_tool_calls = false;
    for (i, message) in messages.iter().enumerate() {
        let role = message["role"].as_str().unwrap_or_default();
        if role == "tool" {
            let id = message["tool_call_id"].as_str().unwrap_or_default();
            if !after_tool_calls || !pending.remove(id) {
                return Some(invalid(
                    &format!(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'. (tool_call_id `{id}` at messages[{i}])"
                    ),
                    Some(&format!("messages.[{i}].role")),
                    None,
                ));
            }
            continue;
        }
        if !pending.is_empty() {
            let ids: Vec<&str> = pending.iter().map(String::as_str).collect();
            return Some(invalid(
                &format!(
                    "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
                    ids.join(", ")
                ),
                Some("messages"),
                None,
            ));
        }
        after_tool_calls = false;
        if role == "assistant"
            && let Some(calls) = message["tool_calls"].as_array()
        {
            pending = calls
                .iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect();
            after_tool_calls = true;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message_of(reply: Option<Reply>) -> String {
        match reply {
            Some(Reply::Error { body, .. }) => body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn tool_messages_must_answer_the_preceding_tool_calls() {
        let call = json!({"role": "assistant", "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]});
        let ok = json!({"model": "m", "messages": [
            {"role": "user", "content": "hi"}, call, {"role": "tool", "tool_call_id": "t1", "content": "r"},
            {"role": "user", "content": "more"}
        ]});
        assert!(check(&ok).is_none());
        let unanswered = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}, call, {"role": "user", "content": "x"}]});
        assert!(message_of(check(&unanswered)).contains("did not have response messages: t1"));
        let stray = json!({"model": "m", "messages": [{"role": "tool", "tool_call_id": "t9", "content": "r"}]});
        assert!(message_of(check(&stray)).contains("must be a response to a preceeding message"));
    }

    #[test]
    fn stream_options_need_streaming_and_tools_must_not_be_empty() {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream_options": {"include_usage": true}});
        assert!(message_of(check(&body)).contains("only allowed when 'stream' is enabled"));
        let body = json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}], "tools": []});
        assert!(message_of(check(&body)).contains("Invalid 'tools': empty array"));
    }
}
