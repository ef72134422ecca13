//! The sliding-window conversation manager.
//!
//! Python: `strands.agent.conversation_manager.sliding_window_conversation_manager`.

use serde_json::{Map, Value};
use strands_core::{BoxFuture, ContentBlock, Message, ToolResultContent};

use super::trim::{apply_pin_first, find_tool_pair_trim_point, find_valid_trim_point, is_pinned};
use super::{ConversationManager, ReduceContext, ReduceError, RestoreError, restore_common};

/// Python's class name, written to and checked in the session state.
const NAME: &str = "SlidingWindowConversationManager";

/// How many characters a truncated tool-result text keeps at each end (Python `_PRESERVE_CHARS`).
const PRESERVE_CHARS: usize = 200;

/// The marker that shows a tool-result text was already truncated.
const TRUNCATION_MARKER: &str = "... [truncated:";

/// Keeps the most recent messages, trimming the oldest ones without ever separating a tool use
/// from its result. The agent's default manager, with a 40-message window.
///
/// - [`apply_management`](ConversationManager::apply_management) trims once the history is longer
///   than the window. The history then starts at the first user message (not a tool result) at or
///   after `len - window_size`, so it can end up shorter than the window. When there is no such
///   message, it starts at the first assistant tool use followed by its result.
/// - [`reduce_context`](ConversationManager::reduce_context) after a context overflow first
///   shrinks the tool results of the **oldest** message that has any: texts longer than 400
///   characters keep their first and last 200 characters, and images become
///   `"[image: <format>, <n> bytes]"`. Only when nothing changed does it trim messages, starting
///   from index 2 when the history fits the window.
/// - Pinned messages (`metadata.custom.pinned == true`, and their tool-pair partners) are never
///   removed; [`pin_first`](Self::pin_first) pins the first messages at the first reduction.
///
/// ```
/// use strands_agent::conversation::{ConversationManager, SlidingWindowConversationManager};
/// use strands_core::Message;
///
/// let mut manager = SlidingWindowConversationManager::new().window_size(2);
/// let mut messages = vec![
///     Message::user("hi"),
///     Message::assistant("hello"),
///     Message::user("how are you?"),
///     Message::assistant("fine"),
/// ];
/// manager.apply_management(&mut messages);
/// assert_eq!(messages, [Message::user("how are you?"), Message::assistant("fine")]);
/// assert_eq!(manager.removed_message_count(), 2);
/// assert_eq!(
///     serde_json::Value::Object(manager.state()),
///     serde_json::json!({
///         "__name__": "SlidingWindowConversationManager",
///         "removed_message_count": 2,
///         "model_call_count": 0,
///     })
/// );
/// ```
///
/// Python: `SlidingWindowConversationManager(window_size=40, should_truncate_results=True,
/// pin_first=None)`. `per_turn` and `proactive_compression` are not ported;
/// `model_call_count` is persisted unchanged.
#[derive(Debug, Clone)]
pub struct SlidingWindowConversationManager {
    window_size: usize,
    should_truncate_results: bool,
    pin_first: usize,
    pin_first_applied: bool,
    removed_message_count: usize,
    model_call_count: u64,
}

impl Default for SlidingWindowConversationManager {
    fn default() -> Self {
        Self::new()
    }
}

impl SlidingWindowConversationManager {
    /// A manager with a 40-message window that truncates tool results on overflow.
    pub fn new() -> Self {
        Self {
            window_size: 40,
            should_truncate_results: true,
            pin_first: 0,
            pin_first_applied: false,
            removed_message_count: 0,
            model_call_count: 0,
        }
    }

    /// The maximum number of messages to keep; `0` removes every unpinned message at each
    /// reduction.
    #[must_use]
    pub fn window_size(mut self, window_size: usize) -> Self {
        self.window_size = window_size;
        self
    }

    /// Whether an overflow first truncates tool results (default `true`).
    #[must_use]
    pub fn should_truncate_results(mut self, should_truncate_results: bool) -> Self {
        self.should_truncate_results = should_truncate_results;
        self
    }

    /// Pins the first `count` messages (by setting `metadata.custom.pinned`) at the first
    /// reduction, so they are never removed. `0` (the default) pins nothing.
    #[must_use]
    pub fn pin_first(mut self, count: usize) -> Self {
        self.pin_first = count;
        self
    }

    /// Python's `reduce_context(agent, e)`, `overflow` standing for `e is not None`.
    fn reduce(&mut self, messages: &mut Vec<Message>, overflow: bool) -> Result<(), ReduceError> {
        if self.pin_first > 0 && !self.pin_first_applied {
            apply_pin_first(messages, self.pin_first);
            self.pin_first_applied = true;
        }

        if self.window_size == 0 {
            let keep: Vec<bool> = (0..messages.len())
                .map(|i| is_pinned(messages, i))
                .collect();
            let removed = keep.iter().filter(|pinned| !**pinned).count();
            // Python returns here even when nothing was removed, and its agent then retries the
            // overflowing call forever; report that instead.
            if removed == 0 && overflow {
                return Err(ReduceError::CannotReduce);
            }
            let mut flags = keep.into_iter();
            messages.retain(|_| flags.next().unwrap_or(true));
            self.removed_message_count += removed;
            return Ok(());
        }

        if overflow
            && self.should_truncate_results
            && let Some(index) = oldest_message_with_tool_results(messages)
        {
            tracing::debug!(
                message_index = index,
                "found message with tool results at index"
            );
            if truncate_tool_results(&mut messages[index]) {
                tracing::debug!(message_index = index, "tool results truncated");
                return Ok(());
            }
        }

        let start = if messages.len() <= self.window_size {
            2
        } else {
            messages.len() - self.window_size
        };
        let mut trim_index = find_valid_trim_point(messages, start);
        if trim_index >= messages.len() {
            if let Some(fallback) = find_tool_pair_trim_point(messages, start) {
                tracing::debug!(
                    trim_index = fallback,
                    "no plain user message trim point found, falling back to assistant(toolUse) + user(toolResult) boundary"
                );
                trim_index = fallback;
            } else if overflow {
                return Err(ReduceError::CannotReduce);
            } else {
                tracing::warn!(
                    window_size = self.window_size,
                    message_count = messages.len(),
                    "unable to trim conversation context, no valid trim point found"
                );
                return Ok(());
            }
        }

        let remove: Vec<bool> = (0..messages.len())
            .map(|i| i < trim_index && !is_pinned(messages, i))
            .collect();
        let removed = remove.iter().filter(|remove| **remove).count();
        if removed == 0 {
            if overflow {
                return Err(ReduceError::CannotReduce);
            }
            tracing::warn!(
                window_size = self.window_size,
                message_count = messages.len(),
                "all messages in trim range are pinned, unable to reduce"
            );
            return Ok(());
        }
        self.removed_message_count += removed;
        let mut flags = remove.into_iter();
        messages.retain(|_| !flags.next().unwrap_or(false));
        Ok(())
    }
}

impl ConversationManager for SlidingWindowConversationManager {
    fn apply_management(&mut self, messages: &mut Vec<Message>) {
        if messages.len() <= self.window_size {
            tracing::debug!(
                message_count = messages.len(),
                window_size = self.window_size,
                "skipping context reduction"
            );
            return;
        }
        // Without an overflow error the reduction never fails: it logs and keeps the history.
        let _ = self.reduce(messages, false);
    }

    fn reduce_context<'a>(
        &'a mut self,
        context: ReduceContext<'a>,
    ) -> BoxFuture<'a, Result<(), ReduceError>> {
        let overflow = context.overflow.is_some();
        let result = self.reduce(context.messages, overflow);
        Box::pin(async move { result })
    }

    fn removed_message_count(&self) -> usize {
        self.removed_message_count
    }

    fn state(&self) -> Map<String, Value> {
        let mut state = Map::new();
        state.insert("__name__".into(), NAME.into());
        state.insert(
            "removed_message_count".into(),
            self.removed_message_count.into(),
        );
        state.insert("model_call_count".into(), self.model_call_count.into());
        state
    }

    fn restore(&mut self, state: &Map<String, Value>) -> Result<Vec<Message>, RestoreError> {
        self.removed_message_count = restore_common(NAME, state)?;
        self.model_call_count = state
            .get("model_call_count")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        Ok(Vec::new())
    }
}

/// The index of the oldest unpinned message holding a tool result.
fn oldest_message_with_tool_results(messages: &[Message]) -> Option<usize> {
    (0..messages.len()).find(|&index| {
        !is_pinned(messages, index)
            && messages[index]
                .content
                .iter()
                .any(|block| matches!(block, ContentBlock::ToolResult(_)))
    })
}

/// Shrinks the tool results of `message`: images become a placeholder text, texts over
/// `2 * PRESERVE_CHARS` characters (not yet truncated) keep both ends. Statuses are kept. Returns
/// whether anything changed.
///
/// Python: `SlidingWindowConversationManager._truncate_tool_results`.
fn truncate_tool_results(message: &mut Message) -> bool {
    let mut changed = false;
    for block in &mut message.content {
        let ContentBlock::ToolResult(result) = block else {
            continue;
        };
        for item in &mut result.content {
            let replacement = match item {
                ToolResultContent::Image(image) => {
                    let format = serde_json::to_value(image.format)
                        .ok()
                        .and_then(|value| value.as_str().map(str::to_owned))
                        .unwrap_or_else(|| "unknown".to_owned());
                    let size = image.source.bytes.as_ref().map_or(0, |bytes| bytes.len());
                    Some(format!("[image: {format}, {size} bytes]"))
                }
                ToolResultContent::Text(text) => truncate_text(text),
                _ => None,
            };
            if let Some(text) = replacement {
                *item = ToolResultContent::Text(text);
                changed = true;
            }
        }
    }
    changed
}

/// The truncated form of a tool-result text, or `None` when it is short enough or was already
/// truncated. Lengths are in characters, as Python counts them.
fn truncate_text(text: &str) -> Option<String> {
    let length = text.chars().count();
    if text.contains(TRUNCATION_MARKER) || length <= 2 * PRESERVE_CHARS {
        return None;
    }
    let prefix_end = text
        .char_indices()
        .nth(PRESERVE_CHARS)
        .map_or(text.len(), |(i, _)| i);
    let suffix_start = text
        .char_indices()
        .nth(length - PRESERVE_CHARS)
        .map_or(text.len(), |(i, _)| i);
    let removed = length - 2 * PRESERVE_CHARS;
    Some(format!(
        "{}...\n\n... [truncated: {removed} chars removed] ...\n\n...{}",
        &text[..prefix_end],
        &text[suffix_start..]
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use strands_core::media::{ImageContent, ImageFormat, MediaSource};
    use strands_core::{Model, ModelError, Role, ToolResult, ToolResultStatus, ToolUse};
    use strands_testkit::ScriptedModel;

    use super::*;

    fn tool_use(id: &str) -> Message {
        Message::new(
            Role::Assistant,
            vec![ToolUse::new(id, "t", json!({})).into()],
        )
    }

    fn tool_result(id: &str, text: &str) -> Message {
        Message::new(Role::User, vec![ToolResult::success(id, text).into()])
    }

    fn model() -> Arc<dyn Model> {
        Arc::new(ScriptedModel::builder().build())
    }

    /// Runs `reduce_context`, with an overflow error when `overflow`.
    fn reduce(
        manager: &mut SlidingWindowConversationManager,
        messages: &mut Vec<Message>,
        overflow: bool,
    ) -> Result<(), ReduceError> {
        let model = model();
        let error = ModelError::context_window_overflow("too long");
        let context = ReduceContext::new(messages, &model, overflow.then_some(&error));
        futures_util::FutureExt::now_or_never(manager.reduce_context(context))
            .expect("the sliding window never awaits")
    }

    /// `(role, first block)` summaries, to compare histories briefly.
    fn shape(messages: &[Message]) -> Vec<String> {
        messages
            .iter()
            .map(|m| {
                let block = match &m.content[0] {
                    ContentBlock::Text(text) => format!("text:{text}"),
                    ContentBlock::ToolUse(t) => format!("toolUse:{}", t.tool_use_id),
                    ContentBlock::ToolResult(r) => format!("toolResult:{}", r.tool_use_id),
                    other => format!("{other:?}"),
                };
                format!("{}/{block}", m.role.as_str())
            })
            .collect()
    }

    /// No tool result without the tool use right before it, and no tool use without its result
    /// right after it (except as the very last message).
    fn assert_pairs_intact(messages: &[Message]) {
        assert!(
            !messages
                .first()
                .is_some_and(super::super::trim::has_tool_result)
        );
        for (i, message) in messages.iter().enumerate() {
            if message.has_tool_use() && i + 1 < messages.len() {
                assert!(super::super::trim::has_tool_result(&messages[i + 1]));
            }
            if super::super::trim::has_tool_result(message) {
                assert!(i > 0 && messages[i - 1].has_tool_use());
            }
        }
    }

    #[test]
    fn defaults_match_python() {
        let manager = SlidingWindowConversationManager::default();
        assert_eq!(manager.window_size, 40);
        assert!(manager.should_truncate_results);
        assert_eq!(manager.pin_first, 0);
    }

    #[test]
    fn apply_management_keeps_short_histories() {
        let mut manager = SlidingWindowConversationManager::new().window_size(4);
        let mut messages = vec![
            Message::user("u0"),
            tool_use("t1"),
            tool_result("t1", "ok"),
            Message::assistant("a"),
        ];
        let before = messages.clone();
        manager.apply_management(&mut messages);
        assert_eq!(messages, before);
        assert_eq!(manager.removed_message_count(), 0);
    }

    // Python: window_size=4 on [u0, toolUse t1, toolResult t1, a1, u2, a2] leaves [u2, a2], 4 removed.
    #[test]
    fn window_landing_mid_pair_moves_to_next_user_message() {
        let mut manager = SlidingWindowConversationManager::new().window_size(4);
        let mut messages = vec![
            Message::user("u0"),
            tool_use("t1"),
            tool_result("t1", "ok"),
            Message::assistant("a1"),
            Message::user("u2"),
            Message::assistant("a2"),
        ];
        manager.apply_management(&mut messages);
        assert_eq!(shape(&messages), ["user/text:u2", "assistant/text:a2"]);
        assert_eq!(manager.removed_message_count(), 4);
        assert_pairs_intact(&messages);
    }

    // Python: window_size=3 on three tool pairs after u0 leaves [toolUse t3, toolResult t3], 5 removed.
    #[test]
    fn tool_only_history_falls_back_to_a_tool_pair_boundary() {
        let mut manager = SlidingWindowConversationManager::new().window_size(3);
        let mut messages = vec![
            Message::user("u0"),
            tool_use("t1"),
            tool_result("t1", "ok"),
            tool_use("t2"),
            tool_result("t2", "ok"),
            tool_use("t3"),
            tool_result("t3", "ok"),
        ];
        manager.apply_management(&mut messages);
        assert_eq!(
            shape(&messages),
            ["assistant/toolUse:t3", "user/toolResult:t3"]
        );
        assert_eq!(manager.removed_message_count(), 5);
        assert_pairs_intact(&messages);
    }

    #[test]
    fn window_ending_on_a_tool_result_never_orphans_it() {
        for window in 1..=9 {
            let mut manager = SlidingWindowConversationManager::new().window_size(window);
            let mut messages = vec![
                Message::user("u0"),
                tool_use("t1"),
                tool_result("t1", "ok"),
                Message::assistant("a1"),
                Message::user("u1"),
                tool_use("t2"),
                tool_result("t2", "ok"),
                tool_use("t3"),
                tool_result("t3", "ok"),
                Message::assistant("a3"),
            ];
            let total = messages.len();
            manager.apply_management(&mut messages);
            assert_pairs_intact(&messages);
            assert_eq!(manager.removed_message_count() + messages.len(), total);
        }
    }

    // Python output for a 1000-character tool result (the alphabet repeated).
    #[test]
    fn overflow_truncates_the_oldest_long_tool_result() {
        let text: String = (0..1000u32)
            .map(|i| char::from(b'a' + u8::try_from(i % 26).unwrap()))
            .collect();
        let mut manager = SlidingWindowConversationManager::new();
        let mut messages = vec![
            Message::user("u0"),
            tool_use("t1"),
            tool_result("t1", &text),
            Message::assistant("a1"),
            tool_use("t2"),
            tool_result("t2", &text),
        ];
        reduce(&mut manager, &mut messages, true).unwrap();
        assert_eq!(messages.len(), 6);
        assert_eq!(manager.removed_message_count(), 0);
        let expected = concat!(
            "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
            "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr",
            "...\n\n... [truncated: 600 chars removed] ...\n\n...",
            "uvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
            "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl",
        );
        assert_eq!(
            serde_json::to_value(&messages[2]).unwrap(),
            json!({"role": "user", "content": [{"toolResult": {
                "toolUseId": "t1", "status": "success", "content": [{"text": expected}]
            }}]})
        );
        // The newer result is untouched.
        assert_eq!(messages[5], tool_result("t2", &text));

        // Already truncated: the next overflow trims messages instead (Python: [u3] is left).
        messages.truncate(4);
        messages.push(Message::user("u3"));
        reduce(&mut manager, &mut messages, true).unwrap();
        assert_eq!(shape(&messages), ["user/text:u3"]);
        assert_eq!(manager.removed_message_count(), 4);
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        let text = "é".repeat(401);
        let truncated = truncate_text(&text).unwrap();
        assert_eq!(
            truncated,
            format!(
                "{}...\n\n... [truncated: 1 chars removed] ...\n\n...{}",
                "é".repeat(200),
                "é".repeat(200)
            )
        );
        assert_eq!(truncate_text(&"é".repeat(400)), None);
        assert_eq!(truncate_text(&truncated), None);
    }

    // Python: {"toolResult": {..., "content": [{"text": "[image: png, 5 bytes]"}, {"text": "short"}]}}.
    #[test]
    fn overflow_replaces_tool_result_images() {
        let result = ToolResult::new(
            "t1",
            ToolResultStatus::Error,
            vec![
                ToolResultContent::Image(ImageContent::new(
                    ImageFormat::Png,
                    MediaSource::bytes(b"12345".to_vec()),
                )),
                ToolResultContent::Text("short".into()),
            ],
        );
        let mut manager = SlidingWindowConversationManager::new();
        let mut messages = vec![
            Message::user("u0"),
            tool_use("t1"),
            Message::new(Role::User, vec![result.into()]),
            Message::assistant("a1"),
        ];
        reduce(&mut manager, &mut messages, true).unwrap();
        assert_eq!(
            serde_json::to_value(&messages[2]).unwrap(),
            json!({"role": "user", "content": [{"toolResult": {
                "toolUseId": "t1", "status": "error",
                "content": [{"text": "[image: png, 5 bytes]"}, {"text": "short"}]
            }}]})
        );
        // An image stored elsewhere has no bytes.
        let mut message = Message::new(
            Role::User,
            vec![
                ToolResult::new(
                    "t2",
                    ToolResultStatus::Success,
                    vec![ToolResultContent::Image(ImageContent::new(
                        ImageFormat::Jpeg,
                        MediaSource::s3("s3://b/k"),
                    ))],
                )
                .into(),
            ],
        );
        assert!(truncate_tool_results(&mut message));
        assert_eq!(
            message.content[0].as_tool_result().unwrap().content,
            [ToolResultContent::Text("[image: jpeg, 0 bytes]".into())]
        );
    }

    #[test]
    fn truncation_disabled_or_without_overflow_trims_instead() {
        let long = "x".repeat(1000);
        let history = vec![
            Message::user("u0"),
            tool_use("t1"),
            tool_result("t1", &long),
            Message::assistant("a1"),
            Message::user("u1"),
            Message::assistant("a2"),
        ];
        let mut manager = SlidingWindowConversationManager::new().should_truncate_results(false);
        let mut messages = history.clone();
        reduce(&mut manager, &mut messages, true).unwrap();
        assert_eq!(shape(&messages), ["user/text:u1", "assistant/text:a2"]);
        assert_eq!(manager.removed_message_count(), 4);

        let mut manager = SlidingWindowConversationManager::new();
        let mut messages = history;
        reduce(&mut manager, &mut messages, false).unwrap();
        assert_eq!(shape(&messages), ["user/text:u1", "assistant/text:a2"]);
    }

    // Python: ContextWindowOverflowException("Unable to trim conversation context!").
    #[test]
    fn nothing_to_trim_cannot_reduce() {
        let mut manager = SlidingWindowConversationManager::new();
        let mut messages = vec![Message::user("u0"), Message::assistant("a0")];
        let error = reduce(&mut manager, &mut messages, true).unwrap_err();
        assert!(matches!(error, ReduceError::CannotReduce));
        assert_eq!(messages.len(), 2);

        let mut messages = vec![
            Message::user("u0"),
            tool_use("t1"),
            tool_result("t1", "ok"),
            Message::assistant("a1"),
        ];
        // The only tool result is already short: truncation changes nothing, and no trim point exists.
        assert!(matches!(
            reduce(&mut manager, &mut messages, true),
            Err(ReduceError::CannotReduce)
        ));
        assert_eq!(messages.len(), 4);
        // Without an overflow it is not an error.
        reduce(&mut manager, &mut messages, false).unwrap();
        assert_eq!(messages.len(), 4);
        assert_eq!(manager.removed_message_count(), 0);
    }

    #[test]
    fn pinned_messages_survive() {
        let mut manager = SlidingWindowConversationManager::new()
            .window_size(2)
            .pin_first(1);
        let mut messages = vec![
            Message::user("u0"),
            Message::assistant("a0"),
            Message::user("u1"),
            Message::assistant("a1"),
            Message::user("u2"),
            Message::assistant("a2"),
        ];
        manager.apply_management(&mut messages);
        assert_eq!(
            shape(&messages),
            ["user/text:u0", "user/text:u2", "assistant/text:a2"]
        );
        assert_eq!(manager.removed_message_count(), 3);

        // window_size 0 keeps only pinned messages.
        let mut manager = SlidingWindowConversationManager::new()
            .window_size(0)
            .pin_first(1);
        let mut messages = vec![
            Message::user("u0"),
            Message::assistant("a0"),
            Message::user("u1"),
        ];
        reduce(&mut manager, &mut messages, true).unwrap();
        assert_eq!(shape(&messages), ["user/text:u0"]);
        assert_eq!(manager.removed_message_count(), 2);
        assert!(matches!(
            reduce(&mut manager, &mut messages, true),
            Err(ReduceError::CannotReduce)
        ));
    }

    // Python get_state(): {"__name__": "SlidingWindowConversationManager", "removed_message_count": 0,
    // "model_call_count": 0}, in that key order.
    #[test]
    fn state_matches_python_and_round_trips() {
        let manager = SlidingWindowConversationManager::new();
        assert_eq!(
            serde_json::to_string(&manager.state()).unwrap(),
            r#"{"__name__":"SlidingWindowConversationManager","removed_message_count":0,"model_call_count":0}"#
        );

        let mut manager = SlidingWindowConversationManager::new().window_size(4);
        let mut messages: Vec<Message> = (0..6)
            .map(|i| {
                if i % 2 == 0 {
                    Message::user(format!("u{i}"))
                } else {
                    Message::assistant(format!("a{i}"))
                }
            })
            .collect();
        manager.apply_management(&mut messages);
        let state = manager.state();
        assert_eq!(state["removed_message_count"], json!(2));

        let mut restored = SlidingWindowConversationManager::new();
        let mut saved = state.clone();
        saved.insert("model_call_count".into(), json!(7));
        assert!(restored.restore(&saved).unwrap().is_empty());
        assert_eq!(restored.removed_message_count(), 2);
        assert_eq!(Value::Object(restored.state()), Value::Object(saved));

        let mut wrong = state;
        wrong.insert("__name__".into(), json!("SummarizingConversationManager"));
        let error = restored.restore(&wrong).unwrap_err();
        assert_eq!(error.expected, "SlidingWindowConversationManager");
        assert_eq!(error.found, "SummarizingConversationManager");
    }
}
