//! What the model sees: Python's `_normalize_messages`, applied to a copy, never to history.

use strands_core::tools::is_valid_tool_name;
use strands_core::{ContentBlock, Message, Role};

const BLANK_TEXT: &str = "[blank text]";
const INVALID_TOOL_NAME: &str = "INVALID_TOOL_NAME";

fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

fn needs_normalizing(message: &Message) -> bool {
    if message.role != Role::Assistant {
        return false;
    }
    message.content.is_empty()
        || message.content.iter().any(|block| match block {
            ContentBlock::Text(text) => is_blank(text),
            ContentBlock::ToolUse(tool_use) => !is_valid_tool_name(&tool_use.name),
            _ => false,
        })
}

/// A normalised copy of `messages` (role and content only), or `None` when the history can be
/// sent as it is, which is the common case and costs no copy.
///
/// Assistant messages only: empty content becomes `[{"text": "[blank text]"}]`; a tool use whose
/// name is invalid is renamed `INVALID_TOOL_NAME`; blank text is removed next to a tool use and
/// replaced by `"[blank text]"` otherwise.
pub(crate) fn for_model(messages: &[Message]) -> Option<Vec<Message>> {
    if !messages.iter().any(needs_normalizing) {
        return None;
    }
    Some(messages.iter().map(normalize_one).collect())
}

fn normalize_one(message: &Message) -> Message {
    let mut content = message.content.clone();
    if message.role == Role::Assistant {
        if content.is_empty() {
            content.push(ContentBlock::Text(BLANK_TEXT.to_owned()));
        } else {
            let mut has_tool_use = false;
            for block in &mut content {
                if let ContentBlock::ToolUse(tool_use) = block {
                    has_tool_use = true;
                    if !is_valid_tool_name(&tool_use.name) {
                        INVALID_TOOL_NAME.clone_into(&mut tool_use.name);
                    }
                }
            }
            if has_tool_use {
                content
                    .retain(|block| !matches!(block, ContentBlock::Text(text) if is_blank(text)));
            } else {
                for block in &mut content {
                    if let ContentBlock::Text(text) = block
                        && is_blank(text)
                    {
                        BLANK_TEXT.clone_into(text);
                    }
                }
            }
        }
    }
    Message::new(message.role, content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use strands_core::ToolUse;

    #[test]
    fn clean_history_is_not_copied() {
        let messages = vec![Message::user("hi"), Message::assistant("hello")];
        assert!(for_model(&messages).is_none());
    }

    #[test]
    fn blank_text_next_to_tool_use_is_removed_and_bad_names_renamed() {
        let mut message = Message::assistant("  ");
        message.content.push(ContentBlock::ToolUse(ToolUse::new(
            "t1",
            "bad tool!",
            json!({}),
        )));
        let out = for_model(&[message]).unwrap();
        assert_eq!(out[0].content.len(), 1);
        assert_eq!(
            out[0].content[0].as_tool_use().unwrap().name,
            "INVALID_TOOL_NAME"
        );
    }

    #[test]
    fn empty_assistant_content_becomes_blank_text() {
        let out = for_model(&[Message::new(Role::Assistant, vec![])]).unwrap();
        assert_eq!(out[0].content, vec![ContentBlock::text("[blank text]")]);
    }
}
