//! The summarizing conversation manager.
//!
//! Python: `strands.agent.conversation_manager.summarizing_conversation_manager`.

use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};
use strands_core::{BoxFuture, ContentBlock, Message, Model, ModelRequest, Role};

use super::trim::{adjust_split_point_for_tool_pairs, apply_pin_first, is_pinned};
use super::{ConversationManager, ReduceContext, ReduceError, RestoreError, restore_common};
use crate::accumulate::MessageAccumulator;

/// Python's class name, written to and checked in the session state.
const NAME: &str = "SummarizingConversationManager";

/// The user message appended after the messages to summarize.
const SUMMARIZE_INSTRUCTION: &str = "Please summarize this conversation.";

/// Replaces the oldest messages with a summary when the context overflows.
///
/// [`reduce_context`](ConversationManager::reduce_context) summarizes the oldest
/// `max(1, floor(len * summary_ratio))` messages, keeping at least `preserve_recent_messages`
/// recent ones; the split moves forward so that no tool use is separated from its result. The
/// summarization model (by default the agent's model) gets those messages followed by the user
/// message `"Please summarize this conversation."`, with
/// [`DEFAULT_SUMMARIZATION_PROMPT`](Self::DEFAULT_SUMMARIZATION_PROMPT) as system prompt and no
/// tools. The text of its answer becomes a **user** message that replaces the summarized
/// messages; it is kept in [`state`](ConversationManager::state) as `summary_message` and
/// returned by [`restore`](ConversationManager::restore) to be put back in front of a restored
/// history. [`apply_management`](ConversationManager::apply_management) does nothing.
///
/// ```
/// use std::sync::Arc;
///
/// use strands_agent::conversation::{ConversationManager, ReduceContext, SummarizingConversationManager};
/// use strands_core::{Message, Model, ModelError, Role};
/// use strands_testkit::ScriptedModel;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model: Arc<dyn Model> = Arc::new(ScriptedModel::builder().text("* The user said hi.").build());
/// let mut manager = SummarizingConversationManager::new()
///     .summary_ratio(0.5)
///     .preserve_recent_messages(2);
/// let mut messages = vec![
///     Message::user("hi"),
///     Message::assistant("hello"),
///     Message::user("how are you?"),
///     Message::assistant("fine"),
/// ];
/// let overflow = ModelError::context_window_overflow("input is too long");
/// manager
///     .reduce_context(ReduceContext::new(&mut messages, &model, Some(&overflow)))
///     .await?;
///
/// assert_eq!(messages.len(), 3);
/// assert_eq!(messages[0].role, Role::User);
/// assert_eq!(messages[0].content, Message::user("* The user said hi.").content);
/// assert_eq!(manager.removed_message_count(), 2);
/// assert_eq!(manager.state()["summary_message"]["content"][0]["text"], "* The user said hi.");
/// # Ok(())
/// # }
/// ```
///
/// Python: `SummarizingConversationManager(summary_ratio=0.3, preserve_recent_messages=10,
/// summarization_system_prompt=None, pin_first=None)`, summarizing with `agent.aux_model` or
/// `agent.model`. A `summarization_agent` is replaced by [`summarization_model`](Self::summarization_model);
/// `proactive_compression` is not ported.
#[derive(Debug, Clone)]
pub struct SummarizingConversationManager {
    summary_ratio: f64,
    preserve_recent_messages: usize,
    summarization_model: Option<Arc<dyn Model>>,
    summarization_system_prompt: Option<String>,
    pin_first: usize,
    pin_first_applied: bool,
    removed_message_count: usize,
    summary_message: Option<Message>,
}

impl Default for SummarizingConversationManager {
    fn default() -> Self {
        Self::new()
    }
}

impl SummarizingConversationManager {
    /// The system prompt of the summarization call unless
    /// [`summarization_system_prompt`](Self::summarization_system_prompt) replaces it (Python's
    /// `DEFAULT_SUMMARIZATION_PROMPT`, verbatim).
    pub const DEFAULT_SUMMARIZATION_PROMPT: &'static str = concat!(
        "You are a conversation summarizer. Provide a concise summary of the conversation history.\n",
        "\n",
        "Format Requirements:\n",
        "- You MUST create a structured and concise summary in bullet-point format.\n",
        "- You MUST NOT respond conversationally.\n",
        "- You MUST NOT address the user directly.\n",
        "- You MUST NOT comment on tool availability.\n",
        "\n",
        "Assumptions:\n",
        "- You MUST NOT assume tool executions failed unless otherwise stated.\n",
        "\n",
        "Task:\n",
        "Your task is to create a structured summary document:\n",
        "- It MUST contain bullet points with key topics and questions covered\n",
        "- It MUST contain bullet points for all significant tools executed and their results\n",
        "- It MUST contain bullet points for any code or technical information shared\n",
        "- It MUST contain a section of key insights gained\n",
        "- It MUST format the summary in the third person\n",
        "\n",
        "Example format:\n",
        "\n",
        "## Conversation Summary\n",
        "* Topic 1: Key information\n",
        "* Topic 2: Key information\n",
        "\n",
        "## Tools Executed\n",
        "* Tool X: Result Y",
    );

    /// A manager that summarizes 30% of the history and keeps at least the 10 most recent
    /// messages, with the agent's model.
    pub fn new() -> Self {
        Self {
            summary_ratio: 0.3,
            preserve_recent_messages: 10,
            summarization_model: None,
            summarization_system_prompt: None,
            pin_first: 0,
            pin_first_applied: false,
            removed_message_count: 0,
            summary_message: None,
        }
    }

    /// The share of the history to summarize, clamped to `0.1..=0.8` (default `0.3`).
    #[must_use]
    pub fn summary_ratio(mut self, summary_ratio: f64) -> Self {
        // Python's `max(0.1, min(0.8, nan))` is 0.8.
        self.summary_ratio = if summary_ratio.is_nan() {
            0.8
        } else {
            summary_ratio.clamp(0.1, 0.8)
        };
        self
    }

    /// How many of the most recent messages are never summarized (default `10`).
    #[must_use]
    pub fn preserve_recent_messages(mut self, count: usize) -> Self {
        self.preserve_recent_messages = count;
        self
    }

    /// The model that writes summaries; by default the agent's model.
    #[must_use]
    pub fn summarization_model(mut self, model: Arc<dyn Model>) -> Self {
        self.summarization_model = Some(model);
        self
    }

    /// Replaces [`DEFAULT_SUMMARIZATION_PROMPT`](Self::DEFAULT_SUMMARIZATION_PROMPT).
    #[must_use]
    pub fn summarization_system_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.summarization_system_prompt = Some(prompt.into());
        self
    }

    /// Pins the first `count` messages (by setting `metadata.custom.pinned`) at the first
    /// summarization: they are kept, in front of the summary, instead of being summarized. `0`
    /// (the default) pins nothing.
    #[must_use]
    pub fn pin_first(mut self, count: usize) -> Self {
        self.pin_first = count;
        self
    }

    /// The current summary message, if a summarization happened (or was restored).
    pub fn summary_message(&self) -> Option<&Message> {
        self.summary_message.as_ref()
    }

    /// Python's `_summarize_oldest`. Unlike Python, `removed_message_count` changes only once
    /// the summary exists, so a failed summarization leaves it consistent with the history.
    async fn summarize_oldest(
        &mut self,
        messages: &mut Vec<Message>,
        model: &dyn Model,
    ) -> Result<(), ReduceError> {
        let len = messages.len();
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "Python's int(len(messages) * summary_ratio) of a small non-negative number"
        )]
        let by_ratio = (len as f64 * self.summary_ratio) as usize;
        let count = by_ratio
            .max(1)
            .min(len.saturating_sub(self.preserve_recent_messages));
        if count == 0 {
            tracing::debug!("Cannot summarize: insufficient messages for summarization");
            return Err(ReduceError::CannotReduce);
        }
        let Some(count) = adjust_split_point_for_tool_pairs(messages, count) else {
            tracing::debug!("Unable to trim conversation context!");
            return Err(ReduceError::CannotReduce);
        };

        if self.pin_first > 0 && !self.pin_first_applied {
            apply_pin_first(messages, self.pin_first);
            self.pin_first_applied = true;
        }

        let mut protected = Vec::new();
        let mut to_summarize = Vec::new();
        for index in 0..count {
            let message = messages[index].clone();
            if is_pinned(messages, index) {
                protected.push(message);
            } else {
                to_summarize.push(message);
            }
        }
        if to_summarize.is_empty() {
            tracing::debug!("Cannot summarize: all messages in summarize range are pinned");
            return Err(ReduceError::CannotReduce);
        }

        let summarized = to_summarize.len();
        let system_prompt = self
            .summarization_system_prompt
            .as_deref()
            .unwrap_or(Self::DEFAULT_SUMMARIZATION_PROMPT);
        let mut summary = generate_summary(to_summarize, model, system_prompt).await?;
        summary.tracking_id = Some(uuid::Uuid::new_v4().to_string());

        self.removed_message_count += summarized;
        // A previous summary at the front is among the summarized messages but is not part of
        // the persisted history.
        if self.summary_message.is_some() {
            self.removed_message_count = self.removed_message_count.saturating_sub(1);
        }
        self.summary_message = Some(summary.clone());
        protected.push(summary);
        messages.splice(..count, protected);
        Ok(())
    }
}

/// Streams `model` on `messages` plus the summarize instruction and returns the text of its
/// answer as a user message.
///
/// Python: `context_compression.generate_summary` and `as_user_summary`.
async fn generate_summary(
    mut messages: Vec<Message>,
    model: &dyn Model,
    system_prompt: &str,
) -> Result<Message, ReduceError> {
    messages.push(Message::user(SUMMARIZE_INSTRUCTION));
    // Python passes only `system_prompt` (no `system_prompt_content`) and no tools.
    let mut request = ModelRequest::new(&messages);
    request.system_prompt = Some(system_prompt);
    let mut stream = model.stream(request);
    let mut accumulator = MessageAccumulator::new(Instant::now());
    while let Some(event) = stream.next().await {
        let event = event.map_err(|error| ReduceError::Summarization(Box::new(error)))?;
        accumulator.push(&event);
    }
    drop(stream);
    as_user_summary(accumulator.finish().message)
}

/// Keeps only the text of the summarizer's reply (also the text inside citation blocks), as a
/// user message: providers reject reasoning and tool uses in user messages.
fn as_user_summary(reply: Message) -> Result<Message, ReduceError> {
    let mut content = Vec::new();
    for block in reply.content {
        match block {
            ContentBlock::Text(text) => content.push(ContentBlock::Text(text)),
            ContentBlock::CitationsContent(citations) => content.extend(
                citations
                    .content
                    .into_iter()
                    .filter_map(|cited| cited.text.filter(|text| !text.is_empty()))
                    .map(ContentBlock::Text),
            ),
            _ => {}
        }
    }
    if content.is_empty() {
        return Err(ReduceError::Summarization(
            "Failed to generate summary: model response contained no text".into(),
        ));
    }
    Ok(Message::new(Role::User, content))
}

impl ConversationManager for SummarizingConversationManager {
    fn apply_management(&mut self, _messages: &mut Vec<Message>) {
        // Summarization happens only when the context overflows.
    }

    fn reduce_context<'a>(
        &'a mut self,
        context: ReduceContext<'a>,
    ) -> BoxFuture<'a, Result<(), ReduceError>> {
        Box::pin(async move {
            let overflow = context.overflow.is_some();
            let model = self
                .summarization_model
                .clone()
                .unwrap_or_else(|| Arc::clone(context.model));
            match self
                .summarize_oldest(context.messages, model.as_ref())
                .await
            {
                Ok(()) => Ok(()),
                Err(error) if overflow => {
                    tracing::error!(%error, "Summarization failed");
                    Err(error)
                }
                Err(error) => {
                    // Proactive reduction is best effort, as in Python.
                    tracing::warn!(%error, "Proactive summarization failed, continuing");
                    Ok(())
                }
            }
        })
    }

    fn removed_message_count(&self) -> usize {
        self.removed_message_count
    }

    fn state(&self) -> Map<String, Value> {
        let summary = self
            .summary_message
            .as_ref()
            .and_then(|message| serde_json::to_value(message).ok())
            .unwrap_or(Value::Null);
        let mut state = Map::new();
        state.insert("summary_message".into(), summary);
        state.insert("__name__".into(), NAME.into());
        state.insert(
            "removed_message_count".into(),
            self.removed_message_count.into(),
        );
        state
    }

    fn restore(&mut self, state: &Map<String, Value>) -> Result<Vec<Message>, RestoreError> {
        self.removed_message_count = restore_common(NAME, state)?;
        self.summary_message = match state.get("summary_message") {
            None | Some(Value::Null) => None,
            Some(value) => match Message::deserialize(value) {
                Ok(message) => Some(message),
                Err(error) => {
                    tracing::warn!(%error, "ignoring an unreadable summary_message in the session");
                    None
                }
            },
        };
        Ok(self.summary_message.iter().cloned().collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use serde_json::json;
    use strands_core::{ModelError, StopReason, StreamEvent, ToolResult, ToolUse};
    use strands_testkit::{ScriptedModel, Step, text_stream};

    use super::*;

    fn tool_use(id: &str) -> Message {
        Message::new(
            Role::Assistant,
            vec![ToolUse::new(id, "t", json!({})).into()],
        )
    }

    fn tool_result(id: &str) -> Message {
        Message::new(Role::User, vec![ToolResult::success(id, "ok").into()])
    }

    /// Role and content only, as the model receives them.
    fn bare(messages: &[Message]) -> Vec<Message> {
        messages
            .iter()
            .map(|m| Message::new(m.role, m.content.clone()))
            .collect()
    }

    async fn reduce(
        manager: &mut SummarizingConversationManager,
        messages: &mut Vec<Message>,
        model: &Arc<dyn Model>,
        overflow: bool,
    ) -> Result<(), ReduceError> {
        let error = ModelError::context_window_overflow("too long");
        manager
            .reduce_context(ReduceContext::new(
                messages,
                model,
                overflow.then_some(&error),
            ))
            .await
    }

    fn scripted(steps: impl IntoIterator<Item = Step>) -> (Arc<ScriptedModel>, Arc<dyn Model>) {
        let scripted = Arc::new(ScriptedModel::new(steps));
        let model: Arc<dyn Model> = scripted.clone();
        (scripted, model)
    }

    fn text(text: &str) -> Step {
        Step::Events(text_stream(&[text], StopReason::EndTurn))
    }

    #[test]
    fn defaults_and_ratio_clamp_match_python() {
        let manager = SummarizingConversationManager::default();
        assert!((manager.summary_ratio - 0.3).abs() < f64::EPSILON);
        assert_eq!(manager.preserve_recent_messages, 10);
        assert!(
            (SummarizingConversationManager::new()
                .summary_ratio(5.0)
                .summary_ratio
                - 0.8)
                .abs()
                < f64::EPSILON
        );
        assert!(
            (SummarizingConversationManager::new()
                .summary_ratio(0.0)
                .summary_ratio
                - 0.1)
                .abs()
                < f64::EPSILON
        );
        assert!(
            (SummarizingConversationManager::new()
                .summary_ratio(f64::NAN)
                .summary_ratio
                - 0.8)
                .abs()
                < f64::EPSILON
        );
    }

    #[test]
    fn default_prompt_is_pythons() {
        let prompt = SummarizingConversationManager::DEFAULT_SUMMARIZATION_PROMPT;
        // len() and the ends of Python's DEFAULT_SUMMARIZATION_PROMPT.
        assert_eq!(prompt.len(), 925);
        assert!(prompt.starts_with("You are a conversation summarizer. Provide a concise summary of the conversation history.\n\nFormat Requirements:\n"));
        assert!(prompt.ends_with("\n\n## Tools Executed\n* Tool X: Result Y"));
    }

    #[tokio::test]
    async fn apply_management_does_nothing() {
        let mut manager = SummarizingConversationManager::new().preserve_recent_messages(0);
        let mut messages: Vec<Message> = (0..30).map(|i| Message::user(format!("m{i}"))).collect();
        manager.apply_management(&mut messages);
        assert_eq!(messages.len(), 30);
    }

    // Python (ratio 0.5, preserve 2) on [u0, a0, u1, toolUse t1, toolResult t1, a1, u2, a2]:
    // summarizes the first 5 (the split at 4 moves past the tool result), count 5; then, with 4
    // more messages, summarizes [SUM1, a1, u2, a2], count 5 + 4 - 1 = 8.
    #[tokio::test]
    async fn summarizes_like_python() {
        let (scripted, model) = scripted([text("SUM1"), text("SUM2")]);
        let mut manager = SummarizingConversationManager::new()
            .summary_ratio(0.5)
            .preserve_recent_messages(2);
        let mut messages = vec![
            Message::user("u0"),
            Message::assistant("a0"),
            Message::user("u1"),
            tool_use("t1"),
            tool_result("t1"),
            Message::assistant("a1"),
            Message::user("u2"),
            Message::assistant("a2"),
        ];
        let original = messages.clone();
        reduce(&mut manager, &mut messages, &model, true)
            .await
            .unwrap();

        let requests = scripted.requests();
        assert_eq!(requests.len(), 1);
        let mut expected_sent = original[..5].to_vec();
        expected_sent.push(Message::user("Please summarize this conversation."));
        assert_eq!(requests[0].messages, expected_sent);
        assert_eq!(
            requests[0].system_prompt.as_deref(),
            Some(SummarizingConversationManager::DEFAULT_SUMMARIZATION_PROMPT)
        );
        assert_eq!(requests[0].tool_specs, None);
        assert_eq!(requests[0].tool_choice, None);

        assert_eq!(
            bare(&messages),
            [
                Message::user("SUM1"),
                Message::assistant("a1"),
                Message::user("u2"),
                Message::assistant("a2"),
            ]
        );
        let tracking_id = messages[0].tracking_id.clone().unwrap();
        assert_eq!(tracking_id.len(), 36);
        assert_eq!(manager.removed_message_count(), 5);
        assert_eq!(manager.summary_message(), Some(&messages[0]));

        // Python get_state(): summary_message first, with role, content and tracking_id.
        assert_eq!(
            serde_json::to_string(&manager.state()).unwrap(),
            format!(
                r#"{{"summary_message":{{"role":"user","content":[{{"text":"SUM1"}}],"tracking_id":"{tracking_id}"}},"__name__":"SummarizingConversationManager","removed_message_count":5}}"#
            )
        );

        messages.extend([
            Message::user("u3"),
            Message::assistant("a3"),
            Message::user("u4"),
            Message::assistant("a4"),
        ]);
        reduce(&mut manager, &mut messages, &model, true)
            .await
            .unwrap();
        assert_eq!(
            scripted.requests()[1].messages,
            [
                Message::user("SUM1"),
                Message::assistant("a1"),
                Message::user("u2"),
                Message::assistant("a2"),
                Message::user("Please summarize this conversation."),
            ]
        );
        assert_eq!(
            bare(&messages),
            [
                Message::user("SUM2"),
                Message::user("u3"),
                Message::assistant("a3"),
                Message::user("u4"),
                Message::assistant("a4"),
            ]
        );
        assert_eq!(manager.removed_message_count(), 8);
    }

    // Python: 20 alternating messages with the defaults send 6 + 1 messages, keep 15, count 6.
    #[tokio::test]
    async fn default_ratio_and_preserve() {
        let (scripted, model) = scripted([text("S")]);
        let mut manager = SummarizingConversationManager::new();
        let mut messages: Vec<Message> = (0..20)
            .map(|i| {
                if i % 2 == 0 {
                    Message::user(i.to_string())
                } else {
                    Message::assistant(i.to_string())
                }
            })
            .collect();
        reduce(&mut manager, &mut messages, &model, true)
            .await
            .unwrap();
        assert_eq!(scripted.requests()[0].messages.len(), 7);
        assert_eq!(messages.len(), 15);
        assert_eq!(manager.removed_message_count(), 6);
        assert!(!messages.iter().skip(1).any(|m| m.text() == "5\n"));
        assert_eq!(messages[1], Message::user("6"));
    }

    // Python: ContextWindowOverflowException("Cannot summarize: insufficient messages for summarization").
    #[tokio::test]
    async fn too_few_messages_cannot_reduce() {
        let (scripted, model) = scripted([]);
        let mut manager = SummarizingConversationManager::new();
        let mut messages: Vec<Message> = (0..10).map(|i| Message::user(format!("m{i}"))).collect();
        let result = reduce(&mut manager, &mut messages, &model, true).await;
        assert!(matches!(result, Err(ReduceError::CannotReduce)));
        assert!(scripted.requests().is_empty());
        assert_eq!(messages.len(), 10);
        // Proactive reductions are best effort.
        reduce(&mut manager, &mut messages, &model, false)
            .await
            .unwrap();
        assert_eq!(messages.len(), 10);
        assert_eq!(manager.removed_message_count(), 0);
    }

    // Python: ContextWindowOverflowException("Unable to trim conversation context!") when the split
    // walks past the end.
    #[tokio::test]
    async fn split_that_cannot_avoid_tool_pairs_cannot_reduce() {
        let (scripted, model) = scripted([]);
        let mut manager = SummarizingConversationManager::new()
            .summary_ratio(0.8)
            .preserve_recent_messages(0);
        let mut messages = vec![
            Message::user("u0"),
            tool_use("t1"),
            tool_result("t1"),
            tool_use("t2"),
            tool_result("t2"),
        ];
        let result = reduce(&mut manager, &mut messages, &model, true).await;
        assert!(matches!(result, Err(ReduceError::CannotReduce)));
        assert!(scripted.requests().is_empty());
    }

    #[tokio::test]
    async fn model_failure_is_a_summarization_error_and_changes_nothing() {
        let (_scripted, model) = scripted([Step::Fail("boom".into())]);
        let mut manager = SummarizingConversationManager::new().preserve_recent_messages(1);
        let mut messages = vec![
            Message::user("u0"),
            Message::assistant("a0"),
            Message::user("u1"),
            Message::assistant("a1"),
        ];
        let before = messages.clone();
        let error = reduce(&mut manager, &mut messages, &model, true)
            .await
            .unwrap_err();
        let ReduceError::Summarization(source) = error else {
            panic!("expected a summarization error, got {error:?}");
        };
        assert!(source.downcast_ref::<ModelError>().is_some());
        assert_eq!(messages, before);
        assert_eq!(manager.removed_message_count(), 0);
        assert_eq!(manager.summary_message(), None);
    }

    #[tokio::test]
    async fn stream_error_midway_fails_too() {
        let events = vec![
            StreamEvent::message_start(),
            StreamEvent::block_start(),
            StreamEvent::text_delta("partial"),
        ];
        let (_scripted, model) = scripted([Step::EventsThenError(events, "cut".into())]);
        let mut manager = SummarizingConversationManager::new().preserve_recent_messages(1);
        let mut messages = vec![
            Message::user("u0"),
            Message::assistant("a0"),
            Message::user("u1"),
        ];
        let before = messages.clone();
        assert!(matches!(
            reduce(&mut manager, &mut messages, &model, true).await,
            Err(ReduceError::Summarization(_))
        ));
        assert_eq!(messages, before);
    }

    // Python: RuntimeError("Failed to generate summary: model response contained no text").
    #[tokio::test]
    async fn reply_without_text_fails() {
        let (_scripted, model) = scripted([Step::Events(strands_testkit::tool_use_stream(&[(
            "t9", "x", "{}",
        )]))]);
        let mut manager = SummarizingConversationManager::new().preserve_recent_messages(1);
        let mut messages = vec![
            Message::user("u0"),
            Message::assistant("a0"),
            Message::user("u1"),
        ];
        let error = reduce(&mut manager, &mut messages, &model, true)
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "summarizing the conversation failed: Failed to generate summary: model response contained no text"
        );
        assert_eq!(messages.len(), 3);
    }

    #[tokio::test]
    async fn only_text_of_the_reply_is_kept() {
        let mut events = vec![
            StreamEvent::message_start(),
            StreamEvent::block_start(),
            StreamEvent::text_delta("one"),
        ];
        events.push(StreamEvent::block_stop());
        events.extend([
            StreamEvent::tool_use_start("t1", "x"),
            StreamEvent::tool_input_delta("{}"),
            StreamEvent::block_stop(),
        ]);
        events.extend([
            StreamEvent::block_start(),
            StreamEvent::text_delta("two"),
            StreamEvent::block_stop(),
        ]);
        events.push(StreamEvent::message_stop(StopReason::ToolUse));
        let (_scripted, model) = scripted([Step::Events(events)]);
        let mut manager = SummarizingConversationManager::new().preserve_recent_messages(1);
        let mut messages = vec![
            Message::user("u0"),
            Message::assistant("a0"),
            Message::user("u1"),
        ];
        reduce(&mut manager, &mut messages, &model, true)
            .await
            .unwrap();
        assert_eq!(
            messages[0].content,
            [ContentBlock::text("one"), ContentBlock::text("two")]
        );
        assert_eq!(messages[0].role, Role::User);
    }

    #[tokio::test]
    async fn summarization_model_and_prompt_override() {
        let (agent_scripted, agent_model) = scripted([]);
        let (scripted, model) = scripted([text("S")]);
        let mut manager = SummarizingConversationManager::new()
            .preserve_recent_messages(1)
            .summarization_model(model)
            .summarization_system_prompt("Summarize tersely.");
        let mut messages = vec![
            Message::user("u0"),
            Message::assistant("a0"),
            Message::user("u1"),
        ];
        reduce(&mut manager, &mut messages, &agent_model, true)
            .await
            .unwrap();
        assert!(agent_scripted.requests().is_empty());
        assert_eq!(
            scripted.requests()[0].system_prompt.as_deref(),
            Some("Summarize tersely.")
        );
        assert_eq!(
            bare(&messages),
            [
                Message::user("S"),
                Message::assistant("a0"),
                Message::user("u1")
            ]
        );
    }

    #[tokio::test]
    async fn pinned_messages_stay_in_front_of_the_summary() {
        let (scripted, model) = scripted([text("S")]);
        let mut manager = SummarizingConversationManager::new()
            .summary_ratio(0.5)
            .preserve_recent_messages(2)
            .pin_first(1);
        let mut messages = vec![
            Message::user("u0"),
            Message::assistant("a0"),
            Message::user("u1"),
            Message::assistant("a1"),
            Message::user("u2"),
            Message::assistant("a2"),
        ];
        reduce(&mut manager, &mut messages, &model, true)
            .await
            .unwrap();
        assert_eq!(
            scripted.requests()[0].messages,
            [
                Message::assistant("a0"),
                Message::user("u1"),
                Message::user("Please summarize this conversation.")
            ]
        );
        assert_eq!(
            bare(&messages),
            [
                Message::user("u0"),
                Message::user("S"),
                Message::assistant("a1"),
                Message::user("u2"),
                Message::assistant("a2")
            ]
        );
        assert!(super::super::trim::is_pinned(&messages, 0));
        assert_eq!(manager.removed_message_count(), 2);
    }

    #[tokio::test]
    async fn state_round_trip_restores_the_summary() {
        assert_eq!(
            serde_json::to_string(&SummarizingConversationManager::new().state()).unwrap(),
            r#"{"summary_message":null,"__name__":"SummarizingConversationManager","removed_message_count":0}"#
        );
        let mut fresh = SummarizingConversationManager::new();
        assert!(
            fresh
                .restore(&SummarizingConversationManager::new().state())
                .unwrap()
                .is_empty()
        );

        let state: Map<String, Value> = serde_json::from_value(json!({
            "summary_message": {"role": "user", "content": [{"text": "SUM1"}], "tracking_id": "id-1"},
            "__name__": "SummarizingConversationManager",
            "removed_message_count": 5,
        }))
        .unwrap();
        let mut manager = SummarizingConversationManager::new()
            .summary_ratio(0.5)
            .preserve_recent_messages(2);
        let prepend = manager.restore(&state).unwrap();
        assert_eq!(prepend, [Message::user("SUM1").with_tracking_id("id-1")]);
        assert_eq!(manager.removed_message_count(), 5);
        assert_eq!(manager.state(), state);

        // The restored summary is not counted again when it is summarized.
        let (_scripted, model) = scripted([text("SUM2")]);
        let mut messages = prepend;
        messages.extend([
            Message::assistant("a1"),
            Message::user("u2"),
            Message::assistant("a2"),
            Message::user("u3"),
            Message::assistant("a3"),
        ]);
        reduce(&mut manager, &mut messages, &model, true)
            .await
            .unwrap();
        assert_eq!(manager.removed_message_count(), 5 + 3 - 1);

        let mut wrong = state;
        wrong.insert("__name__".into(), json!("SlidingWindowConversationManager"));
        assert!(
            SummarizingConversationManager::new()
                .restore(&wrong)
                .is_err()
        );
    }
}
