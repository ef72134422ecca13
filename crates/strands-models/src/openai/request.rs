//! Strands messages, tool specs and system prompt → an OpenAI chat-completions request body.
//!
//! Python: `OpenAIModel.format_request` and the class methods it calls
//! (`format_request_messages`, `format_request_message_content`,
//! `format_request_message_tool_call`, `format_request_tool_message`,
//! `_split_tool_message_images`, `_format_request_tool_choice`). Keys are written in Python's
//! order, so the body is the JSON text Python sends.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use strands_core::media::{DocumentContent, ImageContent};
use strands_core::{
    ContentBlock, ModelMessage, ModelRequest, SystemContentBlock, ToolChoice, ToolResult,
    ToolResultContent, ToolSpec,
};

use super::OpenAiConfig;

/// Text Python puts in a tool message whose images were moved to a user message.
const IMAGE_MOVED_NOTICE: &str = "Tool successfully returned an image. The image is being provided in the following user message.";

/// Content the chat-completions API cannot carry; the message says which block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a {0} content block cannot be sent to an OpenAI-compatible chat-completions model (it accepts text, images and documents); remove it from the conversation"
)]
pub(crate) struct FormatError(pub(crate) &'static str);

/// The request body: `messages`, `model`, `stream`, `tools`, `tool_choice`, the configured
/// params, and `stream_options` when streaming.
pub(crate) fn format_request(
    config: &OpenAiConfig,
    request: &ModelRequest<'_>,
) -> Result<Map<String, Value>, FormatError> {
    let mut params = config.params.clone();
    // `stream` is the builder's `streaming` setting; a `stream` param is ignored.
    params.shift_remove("stream");
    let stream_options = params
        .shift_remove("stream_options")
        .unwrap_or_else(|| json!({"include_usage": true}));

    let mut body = Map::new();
    body.insert("messages".to_owned(), Value::Array(messages(request)?));
    body.insert("model".to_owned(), Value::String(config.model_id.clone()));
    body.insert("stream".to_owned(), Value::Bool(config.streaming));
    // Python always sends `tools`, even empty; some servers reject an empty array, so it is only
    // sent when there are tools.
    if let Some(specs) = request.tool_specs.filter(|specs| !specs.is_empty()) {
        body.insert(
            "tools".to_owned(),
            Value::Array(specs.iter().map(tool_spec).collect()),
        );
    }
    if let Some(choice) = request.tool_choice {
        body.insert("tool_choice".to_owned(), tool_choice(choice));
    }
    body.extend(params);
    if config.streaming {
        body.insert("stream_options".to_owned(), stream_options);
    }
    Ok(body)
}

/// `{"type": "function", "function": {"name", "description", "parameters"}}`.
fn tool_spec(spec: &ToolSpec) -> Value {
    json!({
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": spec.input_schema.json,
        }
    })
}

/// Python's `_format_request_tool_choice`.
fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Any {} => json!("required"),
        ToolChoice::Tool { name } => json!({"type": "function", "function": {"name": name}}),
        _ => json!("auto"),
    }
}

/// The system messages, then the conversation; messages left with neither `content` nor
/// `tool_calls` are dropped (Python's `format_request_messages`).
fn messages(request: &ModelRequest<'_>) -> Result<Vec<Value>, FormatError> {
    let mut out = system_messages(request);
    if request.messages.iter().any(|m| {
        m.content
            .iter()
            .any(|b| matches!(b, ContentBlock::ReasoningContent(_)))
    }) {
        tracing::debug!(
            "reasoning content is not sent back to the model: the chat-completions API has no field for it"
        );
    }
    for message in request.messages {
        push_message(&mut out, message)?;
    }
    out.retain(|m| m.get("content").is_some() || m.get("tool_calls").is_some());
    Ok(out)
}

/// One `{"role": "system", "content": text}` per text block. Python's `stream` passes the prompt
/// string, so that is used when set; the blocks only when there is no string.
fn system_messages(request: &ModelRequest<'_>) -> Vec<Value> {
    let system = |text: &str| json!({"role": "system", "content": text});
    match (request.system_prompt, request.system_prompt_content) {
        (Some(prompt), _) if !prompt.is_empty() => vec![system(prompt)],
        (_, Some(blocks)) => blocks
            .iter()
            .filter_map(|block| match block {
                SystemContentBlock::Text(text) => Some(system(text)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Python's loop body in `_format_regular_messages`: the tool messages first (tool results must
/// follow the tool calls directly), then user messages carrying images moved out of them, then
/// the message itself.
fn push_message(out: &mut Vec<Value>, message: ModelMessage<'_>) -> Result<(), FormatError> {
    let mut contents = Vec::new();
    let mut tool_calls = Vec::new();
    let mut tool_messages = Vec::new();
    for block in message.content {
        match block {
            ContentBlock::ToolUse(tool_use) => tool_calls.push(json!({
                "function": {
                    "arguments": python_json(&tool_use.input),
                    "name": tool_use.name,
                },
                "id": tool_use.tool_use_id,
                "type": "function",
            })),
            ContentBlock::ToolResult(result) => tool_messages.push(tool_message(result)),
            ContentBlock::ReasoningContent(_) => {}
            ContentBlock::CachePoint(_) => {
                tracing::debug!("cachePoint content block is not supported by OpenAI | skipping");
            }
            other => {
                if let Some(content) = content_part(other)? {
                    contents.push(content);
                }
            }
        }
    }
    let mut image_messages = Vec::new();
    for tool_message in tool_messages {
        let (tool_message, images) = split_tool_message_images(tool_message);
        out.push(tool_message);
        image_messages.extend(images);
    }
    out.extend(image_messages);

    let mut formatted = Map::new();
    formatted.insert("role".to_owned(), json!(message.role.as_str()));
    if !contents.is_empty() {
        formatted.insert("content".to_owned(), Value::Array(contents));
    }
    if !tool_calls.is_empty() {
        formatted.insert("tool_calls".to_owned(), Value::Array(tool_calls));
    }
    out.push(Value::Object(formatted));
    Ok(())
}

/// Python's `format_request_message_content`; `None` for blocks skipped with a warning (media
/// stored at a location, which the API cannot read).
fn content_part(block: &ContentBlock) -> Result<Option<Value>, FormatError> {
    Ok(match block {
        ContentBlock::Text(text) => Some(json!({"text": text, "type": "text"})),
        ContentBlock::Image(image) => image_part(image),
        ContentBlock::Document(document) => document_part(document),
        // Python has no case for citations; their generated text is what the model wrote.
        ContentBlock::CitationsContent(citations) => {
            let text: String = citations
                .content
                .iter()
                .filter_map(|c| c.text.as_deref())
                .collect();
            Some(json!({"text": text, "type": "text"}))
        }
        ContentBlock::Video(_) => return Err(FormatError("video")),
        ContentBlock::Audio(_) => return Err(FormatError("audio")),
        ContentBlock::GuardContent(_) => return Err(FormatError("guardContent")),
        _ => return Err(FormatError("unknown")),
    })
}

/// `{"image_url": {"detail": "auto", "format": mime, "url": "data:mime;base64,..."}, "type":
/// "image_url"}`.
fn image_part(image: &ImageContent) -> Option<Value> {
    let Some(bytes) = &image.source.bytes else {
        tracing::warn!(
            "image sources other than inline bytes are not supported by OpenAI | skipping content block"
        );
        return None;
    };
    // Python looks formats up in `mimetypes.types_map`, whose contents depend on the platform
    // (`webp`, `docx`, `xlsx`, `md` are missing on some); these are the registered types.
    let mime = image.format.mime_type();
    Some(json!({
        "image_url": {
            "detail": "auto",
            "format": mime,
            "url": format!("data:{mime};base64,{}", STANDARD.encode(bytes.as_bytes())),
        },
        "type": "image_url",
    }))
}

/// `{"file": {"file_data": "data:mime;base64,...", "filename": name}, "type": "file"}`.
fn document_part(document: &DocumentContent) -> Option<Value> {
    let Some(bytes) = &document.source.bytes else {
        tracing::warn!(
            "document sources other than inline bytes are not supported by OpenAI | skipping content block"
        );
        return None;
    };
    let mime = document.format.mime_type();
    Some(json!({
        "file": {
            "file_data": format!("data:{mime};base64,{}", STANDARD.encode(bytes.as_bytes())),
            "filename": document.name,
        },
        "type": "file",
    }))
}

/// Python's `format_request_tool_message`: JSON blocks become their `json.dumps` text, adjacent
/// text blocks are joined with `"\n"`; all-text content is sent as one string (what most
/// OpenAI-compatible servers accept), anything else as a list of parts.
fn tool_message(result: &ToolResult) -> Value {
    let mut merged: Vec<Value> = Vec::new();
    let mut has_non_text = false;
    for item in &result.content {
        let text = match item {
            ToolResultContent::Text(text) => Some(text.clone()),
            ToolResultContent::Json(value) => Some(python_json(value)),
            ToolResultContent::Image(image) => {
                has_non_text = true;
                merged.extend(image_part(image));
                None
            }
            ToolResultContent::Document(document) => {
                has_non_text = true;
                merged.extend(document_part(document));
                None
            }
            _ => None,
        };
        let Some(text) = text else { continue };
        match merged.last_mut() {
            Some(Value::Object(last)) if last.get("type") == Some(&json!("text")) => {
                if let Some(Value::String(previous)) = last.get_mut("text") {
                    previous.push('\n');
                    previous.push_str(&text);
                }
            }
            _ => merged.push(json!({"type": "text", "text": text})),
        }
    }
    let content = if has_non_text {
        Value::Array(merged)
    } else {
        merged
            .into_iter()
            .next()
            .and_then(|m| m.get("text").cloned())
            .unwrap_or_else(|| json!(""))
    };
    json!({"role": "tool", "tool_call_id": result.tool_use_id, "content": content})
}

/// Python's `_split_tool_message_images`: OpenAI accepts images in user messages only, so images
/// move from a tool message into a user message that follows the tool messages.
fn split_tool_message_images(tool_message: Value) -> (Value, Option<Value>) {
    let Some(Value::Array(parts)) = tool_message.get("content") else {
        return (tool_message, None);
    };
    let (images, mut rest): (Vec<Value>, Vec<Value>) = parts
        .iter()
        .cloned()
        .partition(|part| part.get("type") == Some(&json!("image_url")));
    if images.is_empty() {
        return (tool_message, None);
    }
    let tool_call_id = tool_message
        .get("tool_call_id")
        .cloned()
        .unwrap_or(Value::Null);
    tracing::warn!(
        tool_call_id = %tool_call_id,
        "moving image from tool message to a new user message for OpenAI compatibility"
    );
    rest.push(json!({"type": "text", "text": IMAGE_MOVED_NOTICE}));
    (
        json!({"role": "tool", "tool_call_id": tool_call_id, "content": rest}),
        Some(json!({"role": "user", "content": images})),
    )
}

/// `json.dumps(value, ensure_ascii=False)`.
fn python_json(value: &Value) -> String {
    strands_core::json::to_python_string(value).unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests {
    //! Expected bodies were produced by Python Strands 1.62's `OpenAIModel.format_request`
    //! (`/tmp/pyvenv`, the `openai` package replaced by an import stub: formatting never touches
    //! the client), printed with `json.dumps`. The only edit: Python's `"tools": []` is absent
    //! where there are no tools (see `format_request`).
    #![allow(clippy::unwrap_used, reason = "tests")]

    use pretty_assertions::assert_eq;
    use serde_json::json;
    use strands_core::content::{CachePoint, ReasoningContentBlock, ReasoningText};
    use strands_core::media::MediaSource;
    use strands_core::media::{DocumentFormat, ImageFormat};
    use strands_core::{Role, ToolResultStatus, ToolUse};

    use super::*;
    use strands_core::Message;

    const PNG: [u8; 7] = [0x89, b'P', b'N', b'G', 0, 1, 2];

    fn config(model_id: &str, params: Value) -> OpenAiConfig {
        OpenAiConfig {
            model_id: model_id.to_owned(),
            base_url: "https://api.openai.com/v1".to_owned(),
            params: match params {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            streaming: true,
        }
    }

    fn png() -> ImageContent {
        ImageContent::new(ImageFormat::Png, MediaSource::bytes(PNG.to_vec()))
    }

    fn add_spec() -> ToolSpec {
        ToolSpec::new(
            "add",
            "Add two integers.",
            json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}),
        )
    }

    fn conversation() -> Vec<Message> {
        vec![
            Message::new(
                Role::User,
                vec![
                    ContentBlock::text("What is in this image and doc?"),
                    ContentBlock::Image(png()),
                    ContentBlock::Document(DocumentContent::new(
                        DocumentFormat::Pdf,
                        "report",
                        MediaSource::bytes(b"%PDF-1.4".to_vec()),
                    )),
                ],
            ),
            Message::new(
                Role::Assistant,
                vec![
                    ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(
                        ReasoningText::new("thinking", None),
                    )),
                    ContentBlock::text("Let me add."),
                    ToolUse::new("t1", "add", json!({"a": 1, "b": 2})).into(),
                    ToolUse::new("t2", "add", json!({"a": "é", "b": [1, 2.5]})).into(),
                ],
            ),
            Message::new(
                Role::User,
                vec![
                    ToolResult::success("t1", "3").into(),
                    ToolResult::new(
                        "t2",
                        ToolResultStatus::Error,
                        vec![
                            ToolResultContent::Json(json!({"x": 1})),
                            ToolResultContent::Text("more".to_owned()),
                            ToolResultContent::Image(png()),
                        ],
                    )
                    .into(),
                    ContentBlock::text("thanks"),
                ],
            ),
            Message::assistant("done"),
            Message::new(
                Role::User,
                vec![
                    ContentBlock::CachePoint(CachePoint::default()),
                    ContentBlock::text("again"),
                    ContentBlock::Image(ImageContent::new(
                        ImageFormat::Png,
                        MediaSource::s3("s3://b/k.png"),
                    )),
                ],
            ),
        ]
    }

    #[test]
    fn a_full_conversation_matches_python() {
        let messages = conversation();
        let specs = [add_spec()];
        let choice = ToolChoice::Tool {
            name: "add".to_owned(),
        };
        let system = [SystemContentBlock::Text("You are terse.".to_owned())];
        let request = ModelRequest::new(&messages)
            .with_tool_specs(&specs)
            .with_system_prompt("You are terse.", &system)
            .with_tool_choice(&choice);
        let body = format_request(
            &config(
                "gpt-4o-mini",
                json!({"temperature": 0.2, "max_tokens": 100}),
            ),
            &request,
        )
        .unwrap();
        let image_part = json!({"image_url": {"detail": "auto", "format": "image/png", "url": "data:image/png;base64,iVBORwABAg=="}, "type": "image_url"});
        let expected = json!({
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": [
                    {"text": "What is in this image and doc?", "type": "text"},
                    image_part,
                    {"file": {"file_data": "data:application/pdf;base64,JVBERi0xLjQ=", "filename": "report"}, "type": "file"}
                ]},
                {"role": "assistant", "content": [{"text": "Let me add.", "type": "text"}], "tool_calls": [
                    {"function": {"arguments": "{\"a\": 1, \"b\": 2}", "name": "add"}, "id": "t1", "type": "function"},
                    {"function": {"arguments": "{\"a\": \"é\", \"b\": [1, 2.5]}", "name": "add"}, "id": "t2", "type": "function"}
                ]},
                {"role": "tool", "tool_call_id": "t1", "content": "3"},
                {"role": "tool", "tool_call_id": "t2", "content": [
                    {"type": "text", "text": "{\"x\": 1}\nmore"},
                    {"type": "text", "text": "Tool successfully returned an image. The image is being provided in the following user message."}
                ]},
                {"role": "user", "content": [image_part]},
                {"role": "user", "content": [{"text": "thanks", "type": "text"}]},
                {"role": "assistant", "content": [{"text": "done", "type": "text"}]},
                {"role": "user", "content": [{"text": "again", "type": "text"}]}
            ],
            "model": "gpt-4o-mini",
            "stream": true,
            "tools": [{"type": "function", "function": {
                "name": "add",
                "description": "Add two integers.",
                "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}
            }}],
            "tool_choice": {"type": "function", "function": {"name": "add"}},
            "temperature": 0.2,
            "max_tokens": 100,
            "stream_options": {"include_usage": true}
        });
        // Same keys in the same order: the JSON text is Python's.
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
    }

    #[test]
    fn tool_choices_map_like_python() {
        let messages = [Message::user("hi")];
        let specs = [add_spec()];
        let cfg = config("llama3.2", json!({}));
        let tools = json!([{"type": "function", "function": {"name": "add", "description": "Add two integers.", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}}]);
        let user = json!([{"role": "user", "content": [{"text": "hi", "type": "text"}]}]);

        let plain = format_request(&cfg, &ModelRequest::new(&messages)).unwrap();
        assert_eq!(
            Value::Object(plain),
            json!({"messages": user, "model": "llama3.2", "stream": true, "stream_options": {"include_usage": true}})
        );
        for (choice, wire) in [
            (ToolChoice::Auto {}, json!("auto")),
            (ToolChoice::Any {}, json!("required")),
        ] {
            let body = format_request(
                &cfg,
                &ModelRequest::new(&messages)
                    .with_tool_specs(&specs)
                    .with_tool_choice(&choice),
            )
            .unwrap();
            assert_eq!(
                serde_json::to_string(&body).unwrap(),
                serde_json::to_string(&json!({"messages": user, "model": "llama3.2", "stream": true, "tools": tools, "tool_choice": wire, "stream_options": {"include_usage": true}})).unwrap()
            );
        }
    }

    #[test]
    fn params_override_and_stream_options_are_configurable() {
        let messages = [Message::user("hi")];
        let body = format_request(
            &config(
                "m",
                json!({"stream": false, "stream_options": {"include_usage": false}, "seed": 7}),
            ),
            &ModelRequest::new(&messages),
        )
        .unwrap();
        assert_eq!(body["stream"], json!(true));
        assert_eq!(body["seed"], json!(7));
        assert_eq!(body["stream_options"], json!({"include_usage": false}));

        let mut cfg = config("m", json!({}));
        cfg.streaming = false;
        let body = format_request(&cfg, &ModelRequest::new(&messages)).unwrap();
        assert_eq!(body["stream"], json!(false));
        assert!(!body.contains_key("stream_options"));
    }

    #[test]
    fn all_text_tool_results_are_one_string_and_empty_ones_an_empty_string() {
        let result = ToolResult::new(
            "t",
            ToolResultStatus::Success,
            vec![
                ToolResultContent::Text("a".to_owned()),
                ToolResultContent::Json(json!([1, {"k": null}])),
            ],
        );
        assert_eq!(
            tool_message(&result),
            json!({"role": "tool", "tool_call_id": "t", "content": "a\n[1, {\"k\": null}]"})
        );
        let empty = ToolResult::new("t", ToolResultStatus::Success, Vec::new());
        assert_eq!(tool_message(&empty)["content"], json!(""));
    }

    #[test]
    fn media_types_use_registered_mime_types() {
        assert_eq!(ImageFormat::Webp.mime_type(), "image/webp");
        assert_eq!(DocumentFormat::Md.mime_type(), "text/markdown");
        assert_eq!(
            DocumentFormat::Xlsx.mime_type(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
    }

    #[test]
    fn video_is_rejected_with_the_block_named() {
        let messages = [Message::new(
            Role::User,
            vec![ContentBlock::Video(
                serde_json::from_value(json!({"format": "mp4", "source": {"bytes": "AA=="}}))
                    .unwrap(),
            )],
        )];
        let error =
            format_request(&config("m", json!({})), &ModelRequest::new(&messages)).unwrap_err();
        assert!(error.to_string().starts_with("a video content block"));
    }

    #[test]
    fn system_blocks_are_used_when_there_is_no_prompt_string() {
        let messages = [Message::user("hi")];
        let blocks = [
            SystemContentBlock::Text("one".to_owned()),
            SystemContentBlock::CachePoint(CachePoint::default()),
            SystemContentBlock::Text("two".to_owned()),
        ];
        let mut request = ModelRequest::new(&messages);
        request.system_prompt_content = Some(&blocks);
        let body = format_request(&config("m", json!({})), &request).unwrap();
        assert_eq!(
            body["messages"],
            json!([
                {"role": "system", "content": "one"},
                {"role": "system", "content": "two"},
                {"role": "user", "content": [{"text": "hi", "type": "text"}]}
            ])
        );
    }
}
