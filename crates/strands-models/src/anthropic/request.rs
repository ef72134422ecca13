//! Strands messages, tool specs and system prompt → an Anthropic Messages API request body.
//!
//! Python: `AnthropicModel.format_request` and the `_format_*` helpers it calls, without
//! `cache_config` (automatic cache placement); keys are written in Python's order.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use strands_core::content::{CachePoint, ReasoningContentBlock};
use strands_core::media::{
    DocumentContent, DocumentFormat, ImageContent, ImageFormat, MediaSource,
};
use strands_core::{
    ContentBlock, ModelMessages, ModelRequest, SystemContentBlock, ToolChoice, ToolResult,
    ToolResultContent, ToolResultStatus, ToolSpec,
};

use super::AnthropicConfig;

/// Block types Anthropic accepts `cache_control` on (Python's `_CACHEABLE_BLOCK_TYPES`).
const CACHEABLE_BLOCK_TYPES: [&str; 5] = ["document", "image", "text", "tool_result", "tool_use"];

/// Content Anthropic cannot accept; the message says which block and what is supported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct FormatError(String);

/// The request body Python's `format_request` builds (without `"stream": true`, which the caller
/// adds).
pub(crate) fn format_request(
    config: &AnthropicConfig,
    request: &ModelRequest<'_>,
) -> Result<Map<String, Value>, FormatError> {
    let mut tools: Vec<Value> = request
        .tool_specs
        .unwrap_or_default()
        .iter()
        .map(tool_spec)
        .collect();
    let mut params = config.params.clone();
    let mut server_tools = config.anthropic_tools.clone();
    if let Some(Value::Array(extra)) = params.get("tools") {
        server_tools.extend(extra.iter().cloned());
    }
    let forced = matches!(
        request.tool_choice,
        Some(ToolChoice::Any {} | ToolChoice::Tool { .. })
    );
    if !forced {
        tools.extend(server_tools);
    } else if !server_tools.is_empty() {
        tracing::warn!(
            server_tools = ?server_tools.iter().filter_map(|t| t.get("name")).collect::<Vec<_>>(),
            "a tool call is forced this turn; omitting Anthropic server tools"
        );
    }
    // Anthropic rejects extended thinking while a tool is forced (structured output forces one).
    if forced && params.shift_remove("thinking").is_some() {
        tracing::debug!("a tool call is forced this turn; not sending `thinking`");
    }

    let mut body = Map::new();
    body.insert("max_tokens".to_owned(), json!(config.max_tokens));
    body.insert(
        "messages".to_owned(),
        Value::Array(messages(request.messages)?),
    );
    body.insert("model".to_owned(), json!(config.model_id));
    if let Some(choice) = request.tool_choice {
        body.insert("tool_choice".to_owned(), tool_choice(choice));
    }
    if let Some(system) = system(request) {
        body.insert("system".to_owned(), system);
    }
    for (key, value) in params {
        body.insert(key, value);
    }
    body.insert("tools".to_owned(), Value::Array(tools));
    Ok(body)
}

fn tool_spec(spec: &ToolSpec) -> Value {
    json!({
        "name": spec.name,
        "description": spec.description,
        "input_schema": spec.input_schema.json,
    })
}

fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Any {} => json!({"type": "any"}),
        ToolChoice::Tool { name } => json!({"type": "tool", "name": name}),
        // `Auto`, and any choice added later, lets the model decide.
        _ => json!({"type": "auto"}),
    }
}

/// Python's `_format_system_prompt` without `cache_config`: text blocks (cache points mark the
/// block before them) when the prompt has blocks, else the plain string.
fn system(request: &ModelRequest<'_>) -> Option<Value> {
    match (request.system_prompt_content, request.system_prompt) {
        (Some(blocks), _) if !blocks.is_empty() => {
            let mut formatted: Vec<Value> = Vec::new();
            for block in blocks {
                match block {
                    SystemContentBlock::Text(text) => {
                        formatted.push(json!({"type": "text", "text": text}));
                    }
                    SystemContentBlock::CachePoint(point) => match formatted.last_mut() {
                        Some(last) if last.get("cache_control").is_some() => tracing::warn!(
                            "stripped an extra system cache point; keeping the earlier point on the block"
                        ),
                        Some(last) => set_cache_control(last, point),
                        None => {}
                    },
                    _ => tracing::warn!("skipping a system prompt block Anthropic cannot accept"),
                }
            }
            (!formatted.is_empty()).then_some(Value::Array(formatted))
        }
        (_, Some(prompt)) if !prompt.is_empty() => Some(Value::String(prompt.to_owned())),
        _ => None,
    }
}

fn cache_control(point: &CachePoint) -> Value {
    match point.ttl.as_deref().filter(|ttl| !ttl.is_empty()) {
        Some(ttl) => json!({"type": "ephemeral", "ttl": ttl}),
        None => json!({"type": "ephemeral"}),
    }
}

fn set_cache_control(block: &mut Value, point: &CachePoint) {
    if let Value::Object(map) = block {
        map.insert("cache_control".to_owned(), cache_control(point));
    }
}

/// Python's `_format_request_messages` without `cache_config`.
fn messages(messages: ModelMessages<'_>) -> Result<Vec<Value>, FormatError> {
    let mut formatted_messages = Vec::with_capacity(messages.len());
    let mut dropped_unsigned_reasoning = false;
    for message in messages {
        let mut contents: Vec<Value> = Vec::with_capacity(message.content.len());
        for block in message.content {
            if let ContentBlock::CachePoint(point) = block {
                let target = contents.iter_mut().rev().find(|b| {
                    b.get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| CACHEABLE_BLOCK_TYPES.contains(&t))
                });
                match target {
                    Some(target) => set_cache_control(target, point),
                    None => tracing::warn!(
                        "no preceding block accepts a cache point; skipped the cache point"
                    ),
                }
                continue;
            }
            if has_location_source(block) {
                tracing::warn!(
                    "location sources are not supported by Anthropic; skipping the content block"
                );
                continue;
            }
            match content_block(block)? {
                Some(formatted) => contents.push(formatted),
                None => dropped_unsigned_reasoning = true,
            }
        }
        if !contents.is_empty() {
            formatted_messages.push(json!({"content": contents, "role": message.role.as_str()}));
        }
    }
    if dropped_unsigned_reasoning {
        tracing::warn!(
            "unsigned reasoning content is not supported by Anthropic; skipped those content blocks"
        );
    }
    Ok(formatted_messages)
}

fn has_location_source(block: &ContentBlock) -> bool {
    match block {
        ContentBlock::Image(image) => image.source.location.is_some(),
        ContentBlock::Document(document) => document.source.location.is_some(),
        ContentBlock::Video(video) => video.source.location.is_some(),
        _ => false,
    }
}

/// Python's `_format_request_message_content`: `Ok(None)` for reasoning without a signature
/// (which Anthropic rejects).
fn content_block(block: &ContentBlock) -> Result<Option<Value>, FormatError> {
    Ok(Some(match block {
        ContentBlock::Document(document) => self::document(document)?,
        ContentBlock::Image(image) => self::image(image)?,
        ContentBlock::ReasoningContent(reasoning) => match reasoning {
            ReasoningContentBlock::ReasoningText(text)
                if text.signature.as_deref().is_some_and(|s| !s.is_empty()) =>
            {
                json!({
                    "signature": text.signature,
                    "thinking": text.text,
                    "type": "thinking",
                })
            }
            ReasoningContentBlock::RedactedContent(data) if !data.is_empty() => json!({
                "data": STANDARD.encode(data.as_bytes()),
                "type": "redacted_thinking",
            }),
            _ => return Ok(None),
        },
        ContentBlock::Text(text) => json!({"text": text, "type": "text"}),
        ContentBlock::CitationsContent(citations) => {
            let text: String = citations
                .content
                .iter()
                .filter_map(|c| c.text.as_deref())
                .collect();
            json!({"text": text, "type": "text"})
        }
        ContentBlock::ToolUse(tool_use) => json!({
            "id": tool_use.tool_use_id,
            "input": tool_use.input,
            "name": tool_use.name,
            "type": "tool_use",
        }),
        ContentBlock::ToolResult(result) => tool_result(result)?,
        other => {
            return Err(FormatError(format!(
                "a `{}` content block cannot be sent to Anthropic (it accepts text, image, document, tool use, tool result and reasoning blocks)",
                block_kind(other)
            )));
        }
    }))
}

/// The block's key in the Converse shape, e.g. `video`.
fn block_kind(block: &ContentBlock) -> String {
    match serde_json::to_value(block) {
        Ok(Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        _ => "unknown".to_owned(),
    }
}

fn tool_result(result: &ToolResult) -> Result<Value, FormatError> {
    let mut content = Vec::with_capacity(result.content.len());
    for item in &result.content {
        content.push(match item {
            ToolResultContent::Text(text) => json!({"text": text, "type": "text"}),
            ToolResultContent::Json(value) => {
                let text = strands_core::json::to_python_string(value).map_err(|e| {
                    FormatError(format!("could not write a JSON tool result as text: {e}"))
                })?;
                json!({"text": text, "type": "text"})
            }
            ToolResultContent::Image(image) => self::image(image)?,
            ToolResultContent::Document(document) => self::document(document)?,
            _ => {
                return Err(FormatError(
                    "a tool result holds a content kind Anthropic cannot accept".to_owned(),
                ));
            }
        });
    }
    Ok(json!({
        "content": content,
        "is_error": result.status == ToolResultStatus::Error,
        "tool_use_id": result.tool_use_id,
        "type": "tool_result",
    }))
}

fn bytes<'a>(source: &'a MediaSource, what: &str) -> Result<&'a [u8], FormatError> {
    source.bytes.as_ref().map(|b| b.as_bytes()).ok_or_else(|| {
        FormatError(format!(
            "the {what} has no inline bytes; Anthropic accepts only inline (base64) {what}s"
        ))
    })
}

fn image(image: &ImageContent) -> Result<Value, FormatError> {
    let media_type = match image.format {
        ImageFormat::Png => "image/png",
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Gif => "image/gif",
        ImageFormat::Webp => "image/webp",
        _ => {
            return Err(FormatError(
                "this image format cannot be sent to Anthropic (it accepts png, jpeg, gif and webp)"
                    .to_owned(),
            ));
        }
    };
    Ok(json!({
        "source": {
            "data": STANDARD.encode(bytes(&image.source, "image")?),
            "media_type": media_type,
            "type": "base64",
        },
        "type": "image",
    }))
}

fn document(document: &DocumentContent) -> Result<Value, FormatError> {
    let data = bytes(&document.source, "document")?;
    let source = match document.format {
        DocumentFormat::Pdf => json!({
            "data": STANDARD.encode(data),
            "media_type": "application/pdf",
            "type": "base64",
        }),
        DocumentFormat::Csv | DocumentFormat::Html | DocumentFormat::Md | DocumentFormat::Txt => {
            let text = std::str::from_utf8(data).map_err(|_| {
                FormatError(format!(
                    "the {} document `{}` is not valid UTF-8 text",
                    format_name(document.format),
                    document.name
                ))
            })?;
            json!({"data": text, "media_type": "text/plain", "type": "text"})
        }
        other => {
            return Err(FormatError(format!(
                "a {} document cannot be sent to Anthropic (it accepts pdf, csv, html, md and txt)",
                format_name(other)
            )));
        }
    };
    let mut block = json!({"source": source, "title": document.name, "type": "document"});
    // Python never asks for citations; sending the setting when it is on is what makes
    // Anthropic's `citations_delta` events (which Python maps) appear.
    if document.citations.is_some_and(|c| c.enabled)
        && let Value::Object(map) = &mut block
    {
        map.insert("citations".to_owned(), json!({"enabled": true}));
    }
    Ok(block)
}

fn format_name(format: DocumentFormat) -> String {
    match serde_json::to_value(format) {
        Ok(Value::String(name)) => name,
        _ => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    //! Expected bodies are Python Strands 1.62's `AnthropicModel.format_request` output for the
    //! same messages (computed with `max_tokens=1024`, `model_id="claude-sonnet-4-20250514"`).
    #![allow(clippy::unwrap_used, reason = "tests")]

    use pretty_assertions::assert_eq;
    use strands_core::citations::{CitationText, CitationsContentBlock};
    use strands_core::content::ReasoningText;
    use strands_core::{Blob, Role, ToolUse};

    use super::*;
    use strands_core::Message;

    fn config() -> AnthropicConfig {
        AnthropicConfig {
            model_id: "claude-sonnet-4-20250514".to_owned(),
            max_tokens: 1024,
            params: Map::new(),
            anthropic_tools: Vec::new(),
            base_url: "http://unused".to_owned(),
        }
    }

    fn add_spec() -> ToolSpec {
        ToolSpec::new(
            "add",
            "Add two integers.",
            json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}),
        )
    }

    fn add_tool_json() -> Value {
        json!({"name": "add", "description": "Add two integers.", "input_schema": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}})
    }

    fn format(config: &AnthropicConfig, request: &ModelRequest<'_>) -> Value {
        Value::Object(format_request(config, request).unwrap())
    }

    fn png() -> ContentBlock {
        ContentBlock::Image(ImageContent::new(
            ImageFormat::Png,
            MediaSource::bytes(b"\x89PNG\x00\x01\x02".to_vec()),
        ))
    }

    #[test]
    fn text_with_system_prompt_and_tools() {
        let messages = [Message::user("hi")];
        let specs = [add_spec()];
        let system = [SystemContentBlock::Text("You are terse.".to_owned())];
        let request = ModelRequest::new(&messages)
            .with_tool_specs(&specs)
            .with_system_prompt("You are terse.", &system);
        assert_eq!(
            format(&config(), &request),
            json!({"max_tokens": 1024, "messages": [{"content": [{"text": "hi", "type": "text"}], "role": "user"}], "model": "claude-sonnet-4-20250514", "system": [{"type": "text", "text": "You are terse."}], "tools": [add_tool_json()]})
        );
    }

    #[test]
    fn tool_uses_and_tool_results() {
        let messages = [
            Message::user("add 1+2 and 3+4"),
            Message::new(
                Role::Assistant,
                vec![
                    ContentBlock::text("Adding both."),
                    ToolUse::new("t1", "add", json!({"a": 1, "b": 2})).into(),
                    ToolUse::new("t2", "add", json!({"a": 3, "b": 4})).into(),
                ],
            ),
            Message::new(
                Role::User,
                vec![
                    ToolResult::new(
                        "t1",
                        ToolResultStatus::Success,
                        vec![
                            ToolResultContent::Text("3".to_owned()),
                            ToolResultContent::Json(
                                json!({"sum": 3, "note": "é ok", "list": [1, 2]}),
                            ),
                        ],
                    )
                    .into(),
                    ToolResult::new(
                        "t2",
                        ToolResultStatus::Error,
                        vec![
                            ToolResultContent::Text("boom".to_owned()),
                            ToolResultContent::Image(ImageContent::new(
                                ImageFormat::Png,
                                MediaSource::bytes(b"\x89PNG\x00\x01\x02".to_vec()),
                            )),
                        ],
                    )
                    .into(),
                ],
            ),
        ];
        let specs = [add_spec()];
        let request = ModelRequest::new(&messages).with_tool_specs(&specs);
        let expected: Value = serde_json::from_str(
            r#"{"max_tokens": 1024, "messages": [{"content": [{"text": "add 1+2 and 3+4", "type": "text"}], "role": "user"}, {"content": [{"text": "Adding both.", "type": "text"}, {"id": "t1", "input": {"a": 1, "b": 2}, "name": "add", "type": "tool_use"}, {"id": "t2", "input": {"a": 3, "b": 4}, "name": "add", "type": "tool_use"}], "role": "assistant"}, {"content": [{"content": [{"text": "3", "type": "text"}, {"text": "{\"sum\": 3, \"note\": \"é ok\", \"list\": [1, 2]}", "type": "text"}], "is_error": false, "tool_use_id": "t1", "type": "tool_result"}, {"content": [{"text": "boom", "type": "text"}, {"source": {"data": "iVBORwABAg==", "media_type": "image/png", "type": "base64"}, "type": "image"}], "is_error": true, "tool_use_id": "t2", "type": "tool_result"}], "role": "user"}], "model": "claude-sonnet-4-20250514", "tools": [{"name": "add", "description": "Add two integers.", "input_schema": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}]}"#,
        )
        .unwrap();
        assert_eq!(format(&config(), &request), expected);
    }

    #[test]
    fn images_and_documents_are_base64_or_text_and_locations_are_skipped() {
        let messages = [Message::new(
            Role::User,
            vec![
                png(),
                ContentBlock::Image(ImageContent::new(
                    ImageFormat::Jpeg,
                    MediaSource::bytes(b"\xff\xd8\xff".to_vec()),
                )),
                ContentBlock::Document(DocumentContent::new(
                    DocumentFormat::Pdf,
                    "report",
                    MediaSource::bytes(b"%PDF-1.4 test".to_vec()),
                )),
                ContentBlock::Document(DocumentContent::new(
                    DocumentFormat::Md,
                    "notes",
                    MediaSource::bytes("# Títle\nbody".as_bytes().to_vec()),
                )),
                ContentBlock::Image(ImageContent::new(
                    ImageFormat::Png,
                    MediaSource::s3("s3://b/k"),
                )),
                ContentBlock::text("what are these?"),
            ],
        )];
        let expected: Value = serde_json::from_str(
            r##"{"max_tokens": 1024, "messages": [{"content": [{"source": {"data": "iVBORwABAg==", "media_type": "image/png", "type": "base64"}, "type": "image"}, {"source": {"data": "/9j/", "media_type": "image/jpeg", "type": "base64"}, "type": "image"}, {"source": {"data": "JVBERi0xLjQgdGVzdA==", "media_type": "application/pdf", "type": "base64"}, "title": "report", "type": "document"}, {"source": {"data": "# Títle\nbody", "media_type": "text/plain", "type": "text"}, "title": "notes", "type": "document"}, {"text": "what are these?", "type": "text"}], "role": "user"}], "model": "claude-sonnet-4-20250514", "tools": []}"##,
        )
        .unwrap();
        assert_eq!(format(&config(), &ModelRequest::new(&messages)), expected);
    }

    #[test]
    fn signed_and_redacted_reasoning_is_sent_and_unsigned_reasoning_dropped() {
        let reasoning = |text: &str, signature: Option<&str>| {
            ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(
                ReasoningText::new(text, signature.map(str::to_owned)),
            ))
        };
        let messages = [
            Message::user("hi"),
            Message::new(
                Role::Assistant,
                vec![
                    reasoning("The user greets me.", Some("sig-abc")),
                    ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(
                        Blob::new(b"\x01\x02secret".to_vec()),
                    )),
                    reasoning("unsigned", None),
                    ContentBlock::text("Hello!"),
                ],
            ),
            Message::new(Role::Assistant, vec![reasoning("only unsigned", None)]),
            Message::user("again"),
        ];
        let expected: Value = serde_json::from_str(
            r#"{"max_tokens": 1024, "messages": [{"content": [{"text": "hi", "type": "text"}], "role": "user"}, {"content": [{"signature": "sig-abc", "thinking": "The user greets me.", "type": "thinking"}, {"data": "AQJzZWNyZXQ=", "type": "redacted_thinking"}, {"text": "Hello!", "type": "text"}], "role": "assistant"}, {"content": [{"text": "again", "type": "text"}], "role": "user"}], "model": "claude-sonnet-4-20250514", "tools": []}"#,
        )
        .unwrap();
        assert_eq!(format(&config(), &ModelRequest::new(&messages)), expected);
    }

    #[test]
    fn cache_points_become_cache_control_on_the_block_before() {
        let point = |ttl: Option<&str>| {
            let mut point = CachePoint::default();
            point.ttl = ttl.map(str::to_owned);
            point
        };
        let messages = [
            Message::new(
                Role::User,
                vec![
                    ContentBlock::CachePoint(point(None)),
                    ContentBlock::text("long context"),
                    ContentBlock::CachePoint(point(None)),
                ],
            ),
            Message::new(
                Role::Assistant,
                vec![
                    ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(
                        ReasoningText::new("t", Some("s".to_owned())),
                    )),
                    ContentBlock::CachePoint(point(None)),
                ],
            ),
            Message::new(
                Role::User,
                vec![
                    ContentBlock::text("q"),
                    ContentBlock::CachePoint(point(Some("1h"))),
                ],
            ),
        ];
        let system = [
            SystemContentBlock::Text("part one".to_owned()),
            SystemContentBlock::CachePoint(point(Some("1h"))),
            SystemContentBlock::Text("part two".to_owned()),
            SystemContentBlock::CachePoint(point(None)),
            SystemContentBlock::CachePoint(point(None)),
        ];
        let specs = [add_spec()];
        let request = ModelRequest::new(&messages)
            .with_tool_specs(&specs)
            .with_system_prompt("sys", &system);
        let expected: Value = serde_json::from_str(
            r#"{"max_tokens": 1024, "messages": [{"content": [{"text": "long context", "type": "text", "cache_control": {"type": "ephemeral"}}], "role": "user"}, {"content": [{"signature": "s", "thinking": "t", "type": "thinking"}], "role": "assistant"}, {"content": [{"text": "q", "type": "text", "cache_control": {"type": "ephemeral", "ttl": "1h"}}], "role": "user"}], "model": "claude-sonnet-4-20250514", "system": [{"type": "text", "text": "part one", "cache_control": {"type": "ephemeral", "ttl": "1h"}}, {"type": "text", "text": "part two", "cache_control": {"type": "ephemeral"}}], "tools": [{"name": "add", "description": "Add two integers.", "input_schema": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}]}"#,
        )
        .unwrap();
        assert_eq!(format(&config(), &request), expected);
    }

    fn with_params() -> AnthropicConfig {
        let mut config = config();
        config.max_tokens = 2048;
        let Value::Object(params) = json!({"temperature": 0.3, "tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 2}]})
        else {
            unreachable!()
        };
        config.params = params;
        config
    }

    #[test]
    fn tool_choice_and_params_and_server_tools() {
        let messages = [Message::user("hi")];
        let specs = [add_spec()];
        let any = ToolChoice::Any {};
        let request = ModelRequest::new(&messages)
            .with_tool_specs(&specs)
            .with_tool_choice(&any);
        assert_eq!(
            format(&with_params(), &request),
            json!({"max_tokens": 2048, "messages": [{"content": [{"text": "hi", "type": "text"}], "role": "user"}], "model": "claude-sonnet-4-20250514", "tool_choice": {"type": "any"}, "temperature": 0.3, "tools": [add_tool_json()]})
        );

        let tool = ToolChoice::Tool {
            name: "add".to_owned(),
        };
        let request = ModelRequest::new(&messages)
            .with_tool_specs(&specs)
            .with_tool_choice(&tool);
        assert_eq!(
            format(&with_params(), &request),
            json!({"max_tokens": 2048, "messages": [{"content": [{"text": "hi", "type": "text"}], "role": "user"}], "model": "claude-sonnet-4-20250514", "tool_choice": {"type": "tool", "name": "add"}, "temperature": 0.3, "tools": [add_tool_json()]})
        );

        let auto = ToolChoice::Auto {};
        let mut request = ModelRequest::new(&messages)
            .with_tool_specs(&specs)
            .with_tool_choice(&auto);
        request.system_prompt = Some("plain");
        let body = format_request(&with_params(), &request).unwrap();
        assert_eq!(
            Value::Object(body.clone()),
            json!({"max_tokens": 2048, "messages": [{"content": [{"text": "hi", "type": "text"}], "role": "user"}], "model": "claude-sonnet-4-20250514", "tool_choice": {"type": "auto"}, "system": "plain", "temperature": 0.3, "tools": [add_tool_json(), {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}]})
        );
        // Python's key order.
        assert_eq!(
            body.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "max_tokens",
                "messages",
                "model",
                "tool_choice",
                "system",
                "temperature",
                "tools"
            ]
        );
    }

    #[test]
    fn citations_content_is_sent_as_text() {
        let messages = [
            Message::user("q"),
            Message::new(
                Role::Assistant,
                vec![ContentBlock::CitationsContent(CitationsContentBlock::new(
                    Vec::new(),
                    vec![CitationText::new("A "), CitationText::new("B")],
                ))],
            ),
        ];
        assert_eq!(
            format(&config(), &ModelRequest::new(&messages)),
            json!({"max_tokens": 1024, "messages": [{"content": [{"text": "q", "type": "text"}], "role": "user"}, {"content": [{"text": "A B", "type": "text"}], "role": "assistant"}], "model": "claude-sonnet-4-20250514", "tools": []})
        );
    }

    #[test]
    fn thinking_is_dropped_while_a_tool_is_forced() {
        let mut config = config();
        let Value::Object(params) = json!({"thinking": {"type": "enabled", "budget_tokens": 1024}})
        else {
            unreachable!()
        };
        config.params = params;
        let messages = [Message::user("hi")];
        let body = format(&config, &ModelRequest::new(&messages));
        assert_eq!(
            body["thinking"],
            json!({"type": "enabled", "budget_tokens": 1024})
        );
        let choice = ToolChoice::Tool {
            name: "x".to_owned(),
        };
        let body = format(
            &config,
            &ModelRequest::new(&messages).with_tool_choice(&choice),
        );
        assert!(body.get("thinking").is_none());
    }

    #[test]
    fn unsupported_content_is_a_clear_error() {
        let messages = [Message::new(
            Role::User,
            vec![ContentBlock::Document(DocumentContent::new(
                DocumentFormat::Docx,
                "spec",
                MediaSource::bytes(b"PK".to_vec()),
            ))],
        )];
        let error = format_request(&config(), &ModelRequest::new(&messages)).unwrap_err();
        assert!(error.to_string().contains("a docx document"), "{error}");

        let messages = [Message::new(
            Role::User,
            vec![ContentBlock::Document(DocumentContent::new(
                DocumentFormat::Txt,
                "bin",
                MediaSource::bytes(vec![0xff, 0xfe]),
            ))],
        )];
        let error = format_request(&config(), &ModelRequest::new(&messages)).unwrap_err();
        assert!(error.to_string().contains("not valid UTF-8"), "{error}");

        let video: ContentBlock = serde_json::from_value(
            json!({"video": {"format": "mp4", "source": {"bytes": "AAAA"}}}),
        )
        .unwrap();
        let messages = [Message::new(Role::User, vec![video])];
        let error = format_request(&config(), &ModelRequest::new(&messages)).unwrap_err();
        assert!(error.to_string().contains("`video`"), "{error}");
    }
}
