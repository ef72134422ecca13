//! Trim and split points that never break a toolUse/toolResult pair, and message pinning.
//!
//! Python: `strands.agent.conversation_manager.compression.context_compression`
//! (`find_valid_trim_point`, `adjust_split_point_for_tool_pairs`) and
//! `compression.pin_message` (`is_pinned`, `apply_pin_first`, `partition_pinned`).

use serde_json::{Map, Value};
use strands_core::{ContentBlock, Message, MessageMetadata, Role};

/// Whether any block of `message` is a tool result.
pub(super) fn has_tool_result(message: &Message) -> bool {
    message
        .content
        .iter()
        .any(|block| matches!(block, ContentBlock::ToolResult(_)))
}

/// Whether any block of `message` is a tool use.
pub(super) fn has_tool_use(message: &Message) -> bool {
    message.has_tool_use()
}

/// The first index at or after `start` where the history may begin: a user message that is not a
/// tool result, and not a tool use unless the next message holds a tool result. `messages.len()`
/// (or `start`, when it is past the end) when there is none.
///
/// Python: `find_valid_trim_point`.
pub(super) fn find_valid_trim_point(messages: &[Message], start: usize) -> usize {
    let mut index = start;
    while let Some(message) = messages.get(index) {
        let valid = message.role == Role::User
            && !has_tool_result(message)
            && (!has_tool_use(message) || messages.get(index + 1).is_some_and(has_tool_result));
        if valid {
            break;
        }
        index += 1;
    }
    index
}

/// The first index at or after `start` holding a tool use whose next message is a user tool
/// result: the fallback trim point when [`find_valid_trim_point`] finds none.
///
/// Python: `SlidingWindowConversationManager._find_tool_pair_trim_point`.
pub(super) fn find_tool_pair_trim_point(messages: &[Message], start: usize) -> Option<usize> {
    (start..messages.len()).find(|&index| {
        has_tool_use(&messages[index])
            && messages
                .get(index + 1)
                .is_some_and(|next| next.role == Role::User && has_tool_result(next))
    })
}

/// Moves `split_point` forward until the message there is neither a tool result nor a tool use
/// whose next message lacks a tool result. `None` when the split point is past the end, or when
/// walking forward runs out of messages (Python raises `ContextWindowOverflowException` then).
///
/// Python: `adjust_split_point_for_tool_pairs`.
pub(super) fn adjust_split_point_for_tool_pairs(
    messages: &[Message],
    mut split_point: usize,
) -> Option<usize> {
    if split_point > messages.len() {
        return None;
    }
    if split_point == messages.len() {
        return Some(split_point);
    }
    while let Some(message) = messages.get(split_point) {
        let breaks_pair = has_tool_result(message)
            || (has_tool_use(message)
                && messages
                    .get(split_point + 1)
                    .is_some_and(|next| !has_tool_result(next)));
        if !breaks_pair {
            return Some(split_point);
        }
        split_point += 1;
    }
    None
}

/// The tool-use ids of the tool uses and tool results in `message`.
fn tool_use_ids(message: &Message) -> Vec<&str> {
    message
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ToolUse(tool_use) => Some(tool_use.tool_use_id.as_str()),
            ContentBlock::ToolResult(result) => Some(result.tool_use_id.as_str()),
            _ => None,
        })
        .filter(|id| !id.is_empty())
        .collect()
}

/// Whether `metadata.custom.pinned` is `true`.
fn has_pinned_flag(message: &Message) -> bool {
    message
        .metadata
        .as_ref()
        .and_then(|metadata| metadata.custom.as_ref())
        .and_then(|custom| custom.get("pinned"))
        .is_some_and(|pinned| pinned == &Value::Bool(true))
}

/// Whether the message at `index` is pinned, or is the tool-pair partner (an adjacent message
/// sharing a tool-use id) of a pinned message.
///
/// Python: `is_pinned`.
pub(super) fn is_pinned(messages: &[Message], index: usize) -> bool {
    let Some(message) = messages.get(index) else {
        return false;
    };
    if has_pinned_flag(message) {
        return true;
    }
    let ids = tool_use_ids(message);
    if ids.is_empty() {
        return false;
    }
    let neighbours = [index.checked_sub(1), index.checked_add(1)];
    neighbours
        .into_iter()
        .flatten()
        .filter_map(|i| messages.get(i))
        .any(|neighbour| {
            has_pinned_flag(neighbour) && tool_use_ids(neighbour).iter().any(|id| ids.contains(id))
        })
}

/// Pins the first `count` messages by setting `metadata.custom.pinned = true`.
///
/// Python: `apply_pin_first`.
pub(super) fn apply_pin_first(messages: &mut [Message], count: usize) {
    for message in messages.iter_mut().take(count) {
        message
            .metadata
            .get_or_insert_with(MessageMetadata::default)
            .custom
            .get_or_insert_with(Map::new)
            .insert("pinned".to_owned(), Value::Bool(true));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use super::*;
    use serde_json::json;
    use strands_core::{ToolResult, ToolUse};

    fn tool_use(id: &str) -> Message {
        Message::new(
            Role::Assistant,
            vec![ToolUse::new(id, "t", json!({})).into()],
        )
    }

    fn tool_result(id: &str) -> Message {
        Message::new(Role::User, vec![ToolResult::success(id, "ok").into()])
    }

    #[test]
    fn trim_point_skips_assistants_and_tool_results() {
        let messages = vec![
            Message::user("u0"),
            tool_use("t1"),
            tool_result("t1"),
            Message::assistant("a1"),
            Message::user("u2"),
        ];
        assert_eq!(find_valid_trim_point(&messages, 1), 4);
        assert_eq!(find_valid_trim_point(&messages, 0), 0);
        assert_eq!(find_valid_trim_point(&messages, 7), 7);
        assert_eq!(find_valid_trim_point(&messages[..4], 1), 4);
    }

    #[test]
    fn user_tool_use_is_a_trim_point_only_before_its_result() {
        let user_tool_use =
            Message::new(Role::User, vec![ToolUse::new("t1", "t", json!({})).into()]);
        let messages = vec![user_tool_use.clone(), tool_result("t1"), Message::user("u")];
        assert_eq!(find_valid_trim_point(&messages, 0), 0);
        let messages = vec![user_tool_use, Message::user("u")];
        assert_eq!(find_valid_trim_point(&messages, 0), 1);
    }

    #[test]
    fn split_point_moves_past_pairs() {
        let messages = vec![
            Message::user("u0"),
            tool_use("t1"),
            tool_result("t1"),
            Message::assistant("a1"),
        ];
        assert_eq!(adjust_split_point_for_tool_pairs(&messages, 1), Some(1));
        assert_eq!(adjust_split_point_for_tool_pairs(&messages, 2), Some(3));
        assert_eq!(adjust_split_point_for_tool_pairs(&messages, 4), Some(4));
        assert_eq!(adjust_split_point_for_tool_pairs(&messages, 5), None);
        assert_eq!(adjust_split_point_for_tool_pairs(&messages[..3], 2), None);
        // A tool use without a result after it is skipped; one at the very end is kept.
        let messages = vec![
            Message::user("u0"),
            tool_use("t1"),
            Message::user("u1"),
            tool_use("t2"),
        ];
        assert_eq!(adjust_split_point_for_tool_pairs(&messages, 1), Some(2));
        assert_eq!(adjust_split_point_for_tool_pairs(&messages, 3), Some(3));
    }

    #[test]
    fn pins_protect_tool_partners() {
        let mut messages = vec![
            Message::user("u0"),
            tool_use("t1"),
            tool_result("t1"),
            Message::user("u1"),
        ];
        assert!(!(0..4).any(|i| is_pinned(&messages, i)));
        apply_pin_first(&mut messages, 2);
        let pinned: Vec<bool> = (0..4).map(|i| is_pinned(&messages, i)).collect();
        assert_eq!(pinned, [true, true, true, false]);
        assert_eq!(
            serde_json::to_value(&messages[0]).unwrap(),
            json!({"role": "user", "content": [{"text": "u0"}], "metadata": {"custom": {"pinned": true}}})
        );
    }
}
