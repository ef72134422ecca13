//! Strands messages and system prompt → the model's prompt, written with its own chat template.
//!
//! llama.cpp's `llama_chat_apply_template` recognises the GGUF's Jinja template (ChatML, Llama
//! 2/3, Mistral, Gemma, Phi, ...) and formats role/content pairs with it. Strands content that
//! is not text (tool calls, tool results, media) is rendered as text first.

use std::collections::HashMap;

use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use serde_json::Value;
use strands_core::content::SystemContentBlock;
use strands_core::media::{DocumentContent, DocumentFormat, MediaSource};
use strands_core::{
    ContentBlock, ModelError, ModelMessage, ModelMessages, ModelRequest, Role, ToolResult,
    ToolResultContent, ToolResultStatus, ToolUse,
};

/// The template used when the GGUF has none, or one llama.cpp cannot apply.
const FALLBACK_TEMPLATE: &str = "chatml";

/// The GGUF's chat template if llama.cpp can apply it, else ChatML.
pub(super) fn template(model: &LlamaModel) -> Result<LlamaChatTemplate, std::ffi::NulError> {
    let probe = || LlamaChatMessage::new("user".to_owned(), "hi".to_owned()).ok();
    if let Ok(template) = model.chat_template(None)
        && let Some(message) = probe()
        && model
            .apply_chat_template(&template, &[message], true)
            .is_ok()
    {
        return Ok(template);
    }
    tracing::debug!("the model has no chat template llama.cpp can apply; using ChatML");
    LlamaChatTemplate::new(FALLBACK_TEMPLATE)
}

/// The prompt for `request`: the chat template applied to the system prompt and the messages,
/// ending with the opening of the assistant's turn.
pub(super) fn render(
    model: &LlamaModel,
    template: &LlamaChatTemplate,
    request: &ModelRequest<'_>,
) -> Result<String, ModelError> {
    let chat = turns(request)
        .into_iter()
        .map(|(role, content)| {
            // NUL bytes cannot cross into C; they carry no meaning in a prompt.
            LlamaChatMessage::new(role.to_owned(), content.replace('\0', ""))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| {
            ModelError::invalid_request(format!("could not prepare the chat messages: {error}"))
        })?;
    model
        .apply_chat_template(template, &chat, true)
        .map_err(|error| {
            ModelError::invalid_request(format!(
                "llama.cpp could not apply the model's chat template: {error}"
            ))
        })
}

/// The conversation as (role, text) turns: the system prompt first, then every message with
/// content the model can read.
pub(super) fn turns(request: &ModelRequest<'_>) -> Vec<(&'static str, String)> {
    let mut turns = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = system_text(request) {
        turns.push(("system", system));
    }
    let tool_names = tool_names(request.messages);
    for message in request.messages {
        let text = message_text(message, &tool_names);
        if text.is_empty() {
            continue;
        }
        let role = match message.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        turns.push((role, text));
    }
    turns
}

fn system_text(request: &ModelRequest<'_>) -> Option<String> {
    let text = match (request.system_prompt_content, request.system_prompt) {
        (Some(blocks), _) if !blocks.is_empty() => blocks
            .iter()
            .filter_map(|block| match block {
                SystemContentBlock::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
        (_, Some(prompt)) => prompt.to_owned(),
        _ => return None,
    };
    (!text.trim().is_empty()).then_some(text)
}

/// Tool names by tool-use id, so a result can say which tool it came from.
fn tool_names(messages: ModelMessages<'_>) -> HashMap<&str, &str> {
    messages
        .iter()
        .flat_map(|m| m.tool_uses())
        .map(|tool_use| (tool_use.tool_use_id.as_str(), tool_use.name.as_str()))
        .collect()
}

fn message_text(message: ModelMessage<'_>, tool_names: &HashMap<&str, &str>) -> String {
    let parts: Vec<String> = message
        .content
        .iter()
        .filter_map(|block| block_text(block, tool_names))
        .filter(|text| !text.is_empty())
        .collect();
    parts.join("\n")
}

fn block_text(block: &ContentBlock, tool_names: &HashMap<&str, &str>) -> Option<String> {
    match block {
        ContentBlock::Text(text) => Some(text.clone()),
        ContentBlock::ToolUse(tool_use) => Some(tool_use_text(tool_use)),
        ContentBlock::ToolResult(result) => Some(tool_result_text(result, tool_names)),
        ContentBlock::Image(image) => Some(format!(
            "[image ({}) omitted: this model reads text only]",
            wire_name(&image.format)
        )),
        ContentBlock::Document(document) => Some(document_text(document)),
        ContentBlock::Video(video) => Some(format!(
            "[video ({}) omitted: this model reads text only]",
            video.format
        )),
        ContentBlock::Audio(audio) => Some(format!(
            "[audio ({}) omitted: this model reads text only]",
            audio.format
        )),
        ContentBlock::GuardContent(guard) => Some(guard.text.text.clone()),
        ContentBlock::CitationsContent(citations) => Some(
            citations
                .content
                .iter()
                .filter_map(|generated| generated.text.as_deref())
                .collect::<Vec<_>>()
                .join(""),
        ),
        // Reasoning is the model's scratchpad and cache points are for other providers.
        ContentBlock::ReasoningContent(_) | ContentBlock::CachePoint(_) => None,
        _ => None,
    }
}

fn tool_use_text(tool_use: &ToolUse) -> String {
    format!("[tool call] {}({})", tool_use.name, tool_use.input)
}

fn tool_result_text(result: &ToolResult, tool_names: &HashMap<&str, &str>) -> String {
    let name = tool_names
        .get(result.tool_use_id.as_str())
        .copied()
        .unwrap_or("tool");
    let status = match result.status {
        ToolResultStatus::Success => "",
        ToolResultStatus::Error => " (error)",
    };
    let mut text = format!("[tool result] {name}{status}:");
    for content in &result.content {
        text.push('\n');
        match content {
            ToolResultContent::Text(value) => text.push_str(value),
            ToolResultContent::Json(value) => text.push_str(&value.to_string()),
            ToolResultContent::Image(image) => text.push_str(&format!(
                "[image ({}) omitted: this model reads text only]",
                wire_name(&image.format)
            )),
            ToolResultContent::Document(document) => text.push_str(&document_text(document)),
            _ => text.push_str("[content omitted]"),
        }
    }
    text
}

/// Text documents inline (decoded as UTF-8), others as a placeholder.
fn document_text(document: &DocumentContent) -> String {
    let format = wire_name(&document.format);
    let textual = matches!(
        document.format,
        DocumentFormat::Txt | DocumentFormat::Md | DocumentFormat::Csv | DocumentFormat::Html
    );
    match &document.source {
        MediaSource {
            bytes: Some(bytes), ..
        } if textual => format!(
            "[document \"{}\" ({format})]\n{}",
            document.name,
            String::from_utf8_lossy(bytes.as_bytes())
        ),
        _ => format!(
            "[document \"{}\" ({format}) omitted: this model reads text only]",
            document.name
        ),
    }
}

/// The serde name of a format enum, e.g. `png`.
fn wire_name(format: &impl serde::Serialize) -> String {
    match serde_json::to_value(format) {
        Ok(Value::String(name)) => name,
        _ => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;
    use strands_core::media::{ImageContent, ImageFormat};

    use super::*;
    use strands_core::Message;

    #[test]
    fn system_prompt_comes_first_then_the_messages_in_order() {
        let messages = [
            Message::user("Hi"),
            Message::assistant("Hello!"),
            Message::user("Bye"),
        ];
        let system = [SystemContentBlock::Text("Be brief.".to_owned())];
        let request = ModelRequest::new(&messages).with_system_prompt("Be brief.", &system);
        assert_eq!(
            turns(&request),
            vec![
                ("system", "Be brief.".to_owned()),
                ("user", "Hi".to_owned()),
                ("assistant", "Hello!".to_owned()),
                ("user", "Bye".to_owned()),
            ]
        );
    }

    #[test]
    fn tool_calls_and_results_become_text_naming_the_tool() {
        let messages = [
            Message::user("Weather in Paris?"),
            Message::new(
                Role::Assistant,
                vec![
                    ContentBlock::text("Let me check."),
                    ToolUse::new("t1", "get_weather", json!({"city": "Paris"})).into(),
                ],
            ),
            Message::new(
                Role::User,
                vec![
                    ToolResult::success("t1", "Sunny, 21 C").into(),
                    ToolResult::error("t9", "boom").into(),
                ],
            ),
        ];
        let request = ModelRequest::new(&messages);
        let turns = turns(&request);
        assert_eq!(
            turns[1],
            (
                "assistant",
                "Let me check.\n[tool call] get_weather({\"city\":\"Paris\"})".to_owned()
            )
        );
        assert_eq!(
            turns[2],
            (
                "user",
                "[tool result] get_weather:\nSunny, 21 C\n[tool result] tool (error):\nboom"
                    .to_owned()
            )
        );
    }

    #[test]
    fn media_becomes_a_placeholder_and_text_documents_are_inlined() {
        let messages = [Message::new(
            Role::User,
            vec![
                ContentBlock::Image(ImageContent::new(
                    ImageFormat::Png,
                    MediaSource::bytes(vec![1, 2, 3]),
                )),
                ContentBlock::Document(DocumentContent::new(
                    DocumentFormat::Md,
                    "notes",
                    MediaSource::bytes(b"# Title".to_vec()),
                )),
                ContentBlock::Document(DocumentContent::new(
                    DocumentFormat::Pdf,
                    "report",
                    MediaSource::bytes(vec![0x25, 0x50]),
                )),
            ],
        )];
        let request = ModelRequest::new(&messages);
        assert_eq!(
            turns(&request)[0].1,
            "[image (png) omitted: this model reads text only]\n\
             [document \"notes\" (md)]\n# Title\n\
             [document \"report\" (pdf) omitted: this model reads text only]"
        );
    }

    #[test]
    fn empty_messages_and_blank_system_prompts_are_skipped() {
        let messages = [Message::new(Role::Assistant, vec![]), Message::user("Hi")];
        let system = [];
        let request = ModelRequest::new(&messages).with_system_prompt("  ", &system);
        assert_eq!(turns(&request), vec![("user", "Hi".to_owned())]);
    }
}
