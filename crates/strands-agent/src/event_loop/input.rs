//! Step 1, the input: the session, tracking ids, interrupt responses, the pending tool uses of a
//! previous invocation, `BeforeInvocationEvent`, and the prompt joining the history.

use std::sync::Arc;

use strands_core::{
    ContentBlock, Message, Role, StopReason, Tool as _, ToolLoadRequest, ToolResult,
};

use super::{Next, Run};
use crate::agent::{Agent, AgentInput};
use crate::error::AgentError;
use crate::hooks::BeforeInvocationEvent;
use crate::interrupts::ResumeError;

/// Text of the result given to a tool use left pending in history when a new prompt arrives.
const TOOL_INTERRUPTED: &str = "Tool was interrupted.";

/// Text of the assistant message that closes a turn left unanswered (a failed model call, a
/// dropped stream, a cancellation or a limit that stopped the loop after tool results) when a
/// new user message arrives: history alternates roles, which Bedrock's Converse requires.
pub(crate) const NO_RESPONSE: &str = "No response: the previous turn ended before an answer.";

/// Prepares the history for the first cycle; stops early when a hook denies the invocation.
pub(super) async fn prepare(
    agent: &mut Agent,
    input: AgentInput,
    run: &mut Run,
) -> Result<Next, AgentError> {
    agent.ensure_session_loaded().await?;
    agent.ensure_tracking_ids();
    match input {
        AgentInput::InterruptResponses(responses) => {
            agent.interrupts.resume(&responses)?;
            run.resuming = true;
            Ok(Next::Continue)
        }
        _ if agent.interrupts.activated => Err(AgentError::Resume(ResumeError::ResponsesRequired(
            agent.interrupts.open_ids(),
        ))),
        AgentInput::Continue => append_input(agent, run, Vec::new()).await,
        input => {
            // Python answers tool uses left pending by a previous invocation before any hook
            // sees the new input, so history stays valid whatever the hooks do.
            agent.answer_pending_tool_uses().await?;
            append_input(agent, run, input_messages(input)).await
        }
    }
}

/// Runs the `BeforeInvocationEvent` hooks on the new messages, then appends them.
async fn append_input(
    agent: &mut Agent,
    run: &mut Run,
    mut messages: Vec<Message>,
) -> Result<Next, AgentError> {
    if agent.hooks.has::<BeforeInvocationEvent>() {
        let mut event = BeforeInvocationEvent {
            agent: agent.hook_agent.clone(),
            messages,
            cancel: None,
        };
        agent.hooks.invoke(&mut event).await;
        if let Some(text) = event.cancel {
            return deny(agent, run, text).await;
        }
        messages = event.messages;
    }
    if messages.is_empty() && agent.messages.is_empty() {
        return Err(AgentError::EmptyConversation);
    }
    load_tools(agent, run, &messages).await;
    close_unanswered_turn(agent, &messages).await?;
    for message in messages {
        agent.push_message(message).await?;
    }
    Ok(Next::Continue)
}

/// Asks the agent's [`strands_core::ToolLoader`] (if any) for this invocation's tools, as
/// Python's tool search plugin does in its `BeforeInvocationEvent` hook. A cancellation ends the
/// wait and keeps the tools loaded before (the model call that follows sees the cancellation).
async fn load_tools(agent: &mut Agent, run: &mut Run, messages: &[Message]) {
    let Some(loading) = agent.tool_loading.clone() else {
        return;
    };
    let request = ToolLoadRequest::new(messages, &agent.messages, agent.model.as_ref());
    let loaded = tokio::select! {
        loaded = loading.loader.load(request) => loaded,
        () = run.cancel.cancelled() => None,
    };
    let Some(loaded) = loaded else {
        return;
    };
    let output = run.options.structured_output.as_mut();
    let reserved = output.as_ref().map(|s| s.tool.spec().name.as_str());
    agent.tools = Arc::new(loading.own.with_loaded(loaded, reserved));
    if let Some(output) = output {
        output.offer(agent.tools.specs());
    }
}

/// A user message that would follow a user message closes the unanswered turn first with
/// [`NO_RESPONSE`] (Python appends the second user message, and the next Bedrock call fails).
async fn close_unanswered_turn(agent: &mut Agent, incoming: &[Message]) -> Result<(), AgentError> {
    let is_user = |m: Option<&Message>| m.is_some_and(|m| m.role == Role::User);
    if is_user(incoming.first()) && is_user(agent.messages.last()) {
        tracing::debug!("the previous turn ended without an answer; closing it");
        agent.push_message(Message::assistant(NO_RESPONSE)).await?;
    }
    Ok(())
}

/// A hook denied the invocation: its text is the answer.
async fn deny(agent: &mut Agent, run: &mut Run, text: String) -> Result<Next, AgentError> {
    let text = if text.is_empty() {
        "invocation denied by hook".to_owned()
    } else {
        text
    };
    run.denied = true;
    let message = run.append(agent, Message::assistant(text)).await?;
    Ok(Next::Stop(run.finish(StopReason::EndTurn, message)))
}

/// The messages `input` will add, for the invocation's span (Python records the converted
/// prompt before any hook sees it).
pub(super) fn preview(input: &AgentInput) -> std::borrow::Cow<'_, [Message]> {
    use std::borrow::Cow;
    match input {
        AgentInput::Text(text) => Cow::Owned(vec![Message::user(text.clone())]),
        AgentInput::Content(content) => Cow::Owned(vec![Message::new(Role::User, content.clone())]),
        AgentInput::Messages(messages) => Cow::Borrowed(messages),
        AgentInput::Continue | AgentInput::InterruptResponses(_) => Cow::Borrowed(&[]),
    }
}

fn input_messages(input: AgentInput) -> Vec<Message> {
    match input {
        AgentInput::Text(text) => vec![Message::user(text)],
        AgentInput::Content(content) => vec![Message::new(Role::User, content)],
        AgentInput::Messages(messages) => messages,
        AgentInput::Continue | AgentInput::InterruptResponses(_) => Vec::new(),
    }
}

impl Agent {
    /// Gives every message a tracking id (messages passed at build time or edited in get theirs
    /// at the start of the next invocation, as in Python).
    fn ensure_tracking_ids(&mut self) {
        for message in &mut self.messages {
            if message.tracking_id.is_none() {
                message.tracking_id = Some(super::new_tracking_id());
            }
        }
    }

    /// Answers the tool uses of a trailing assistant message with `"Tool was interrupted."`
    /// (Python's `_convert_prompt_to_messages`), so a new prompt never follows an unanswered
    /// tool use.
    async fn answer_pending_tool_uses(&mut self) -> Result<(), AgentError> {
        let Some(last) = self.messages.last().filter(|m| m.role == Role::Assistant) else {
            return Ok(());
        };
        let interrupted: Vec<ContentBlock> = last
            .tool_uses()
            .map(|t| {
                ContentBlock::ToolResult(ToolResult::error(t.tool_use_id.clone(), TOOL_INTERRUPTED))
            })
            .collect();
        if !interrupted.is_empty() {
            self.push_message(Message::new(Role::User, interrupted))
                .await?;
        }
        Ok(())
    }
}
