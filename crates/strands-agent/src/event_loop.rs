//! The Strands event loop: model → tools → model, until the model ends its turn.
//!
//! Python: `strands.event_loop.event_loop`. The loop is iterative (Python recurses one generator
//! per cycle) and emits no deprecated `start` event; everything that reaches history or the model
//! matches Python.

use std::sync::Arc;
use std::time::Instant;

use futures_core::Stream;
use futures_util::StreamExt;
use strands_core::{
    ContentBlock, Message, MessageMetadata, ModelError, ModelRequest, Role, StopReason, ToolResult,
    ToolUse, Usage,
};

use strands_core::Tool as _;
use strands_core::interrupt::InterruptResponses;

use crate::accumulate::{MessageAccumulator, ModelOutput};
use crate::agent::{Agent, AgentInput};
use crate::conversation::{ReduceContext, ReduceError};
use crate::error::AgentError;
use crate::events::AgentEvent;
use crate::hooks::{
    AfterInvocationEvent, AfterModelCallEvent, BeforeInvocationEvent, BeforeModelCallEvent,
    MessageAddedEvent,
};
use crate::instrument::InSpan;
use crate::interrupts::ResumeError;
use crate::normalize;
use crate::result::AgentResult;
use crate::structured_output::{MAX_INVALID_OUTPUTS, STRUCTURED_OUTPUT_PROMPT, StructuredOutput};
use crate::tools::executor::{self, BatchContext, BatchOutcome, ExecItem};

/// Text of the assistant message recorded when cancellation interrupts a model call.
const CANCELLED_BY_USER: &str = "Cancelled by user";
/// Text of the result given to a tool use left pending in history when a new prompt arrives.
const TOOL_INTERRUPTED: &str = "Tool was interrupted.";

/// What one invocation has used so far.
#[derive(Debug, Default)]
struct Invocation {
    usage: Usage,
    cycles: u64,
}

enum ModelCall {
    Done(Box<ModelOutput>),
    /// A `BeforeModelCallEvent` hook answered instead of the model.
    Denied(Message),
    Failed {
        error: ModelError,
        attempts: u32,
    },
}

/// Options of one invocation.
#[derive(Debug, Default)]
pub(crate) struct RunOptions {
    pub(crate) structured_output: Option<StructuredOutput>,
    /// The caller wants only the result (`invoke`, `structured_output`): the per-chunk model
    /// events (`ModelStreamEvent` and the deltas derived from it) are not yielded. Nothing
    /// inside the loop consumes them, so the history, hooks and the result are the same.
    pub(crate) quiet: bool,
    /// A `BeforeInvocationEvent` hook denied the invocation (its after-hook sees no result).
    denied: bool,
}

impl RunOptions {
    pub(crate) fn structured(output: StructuredOutput) -> Self {
        Self {
            structured_output: Some(output),
            quiet: true,
            denied: false,
        }
    }

    pub(crate) fn quiet() -> Self {
        Self {
            quiet: true,
            ..Self::default()
        }
    }
}

/// One invocation: the cycles, then (also after a failure) conversation management, the
/// session sync and the `AfterInvocationEvent` hooks; the result event comes last.
pub(crate) fn run(
    agent: &mut Agent,
    input: AgentInput,
    options: RunOptions,
) -> impl Stream<Item = Result<AgentEvent, AgentError>> + Send + '_ {
    async_stream::stream! {
        let mut options = options;
        let mut result = None;
        let mut error = None;
        {
            let mut cycles = std::pin::pin!(cycles(&mut *agent, input, &mut options));
            while let Some(item) = cycles.next().await {
                match item {
                    Ok(AgentEvent::Result(r)) => result = Some(r),
                    Ok(event) => yield Ok(event),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
        }
        agent.conversation.apply_management(&mut agent.messages);
        if agent.hooks.has::<AfterInvocationEvent>() {
            let mut event = AfterInvocationEvent {
                agent: agent.hook_agent.clone(),
                result: if error.is_none() && !options.denied { result.as_deref().cloned() } else { None },
            };
            agent.hooks.invoke(&mut event).await;
        }
        // After the hooks, so state they set is saved (Python's session manager runs last).
        if let Err(e) = agent.sync_session().await {
            error.get_or_insert(e);
        }
        match (error, result) {
            (Some(e), _) => yield Err(e),
            (None, Some(r)) => yield Ok(AgentEvent::Result(r)),
            (None, None) => {}
        }
    }
}

fn cycles<'a>(
    agent: &'a mut Agent,
    input: AgentInput,
    options: &'a mut RunOptions,
) -> impl Stream<Item = Result<AgentEvent, AgentError>> + Send + 'a {
    async_stream::try_stream! {
        let cancel = agent.cancel.begin();
        let mut invocation = Invocation::default();

        agent.ensure_session_loaded().await?;
        agent.ensure_tracking_ids();
        let resuming = match input {
            AgentInput::InterruptResponses(responses) => {
                agent.interrupts.resume(&responses)?;
                true
            }
            _ if agent.interrupts.activated => {
                Err(AgentError::Resume(ResumeError::ResponsesRequired(agent.interrupts.open_ids())))?;
                false
            }
            input => {
                let continuing = matches!(input, AgentInput::Continue);
                let mut new_messages = input_messages(input);
                // Python answers tool uses left pending by a previous invocation before any
                // hook sees the new input, so history stays valid whatever the hooks do.
                if !continuing {
                    agent.answer_pending_tool_uses().await?;
                }
                if agent.hooks.has::<BeforeInvocationEvent>() {
                    let mut event = BeforeInvocationEvent {
                        agent: agent.hook_agent.clone(),
                        messages: new_messages,
                        cancel: None,
                    };
                    agent.hooks.invoke(&mut event).await;
                    if let Some(text) = event.cancel {
                        let text = if text.is_empty() { "invocation denied by hook".to_owned() } else { text };
                        options.denied = true;
                        let message = agent.push_message(Message::assistant(text)).await?;
                        yield AgentEvent::Message(Box::new(message.clone()));
                        yield finish(StopReason::EndTurn, message, &invocation);
                        return;
                    }
                    new_messages = event.messages;
                }
                agent.append_input(new_messages).await?;
                false
            }
        };
        yield AgentEvent::InitEventLoop;

        loop {
            agent.metrics.cycle_count += 1;
            invocation.cycles += 1;
            yield AgentEvent::StartEventLoop;

            // A tool use left at the end of history (continuing without a prompt, or resuming
            // from an interrupt) runs without a model call, as in Python.
            let pending = match agent.interrupts.pending_tool_execution.as_ref() {
                // Resuming replays the stored batch, as Python does, whatever edits history saw.
                Some(paused) if resuming && agent.interrupts.activated => Some(paused.assistant_message.clone()),
                _ => agent
                    .messages
                    .last()
                    .filter(|m| m.role == Role::Assistant && m.has_tool_use())
                    .cloned(),
            };
            let (stop_reason, message) = match pending {
                Some(message) => (StopReason::ToolUse, message),
                None => {
                    let mut attempt: u32 = 0;
                    let call = loop {
                        let started = Instant::now();
                        let mut accumulator = MessageAccumulator::new(started);
                        let mut failure = None;
                        let mut cancelled = false;
                        let mut denied = None;
                        if agent.hooks.has::<BeforeModelCallEvent>() {
                            let mut event = BeforeModelCallEvent {
                                agent: agent.hook_agent.clone(),
                                message_count: agent.messages.len(),
                                cancel: None,
                            };
                            agent.hooks.invoke(&mut event).await;
                            denied = event.cancel;
                        }
                        if let Some(text) = denied {
                            let text = if text.is_empty() { "model call denied by hook".to_owned() } else { text };
                            break ModelCall::Denied(Message::assistant(text));
                        }
                        {
                            let normalized = normalize::for_model(&agent.messages);
                            let mut request = ModelRequest::new(normalized.as_deref().unwrap_or(&agent.messages));
                            request = match options.structured_output.as_ref() {
                                Some(s) if s.forced => request
                                    .with_tool_specs(std::slice::from_ref(s.tool.spec()))
                                    .with_tool_choice(&s.choice),
                                Some(s) => request.with_tool_specs(&s.specs),
                                None => request.with_tool_specs(agent.tools.specs()),
                            };
                            if let Some(prompt) = agent.system_prompt.as_deref() {
                                request = request.with_system_prompt(prompt, &agent.system_prompt_content);
                            }
                            let span = tracing::info_span!(
                                "chat",
                                gen_ai.operation.name = "chat",
                                gen_ai.request.model = %agent.model.model_id(),
                            );
                            let mut events = InSpan::new(agent.model.stream(request), span);
                            loop {
                                let next = tokio::select! {
                                    biased;
                                    () = cancel.cancelled() => { cancelled = true; None }
                                    next = events.next() => next,
                                };
                                match next {
                                    None => break,
                                    Some(Err(error)) => { failure = Some(error); break; }
                                    Some(Ok(event)) => {
                                        let derived = accumulator.push(&event);
                                        if !options.quiet {
                                            yield AgentEvent::ModelStreamEvent(Box::new(event));
                                            if let Some(derived) = derived {
                                                yield derived;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        if cancelled {
                            break ModelCall::Done(Box::new(cancelled_output(accumulator.finish())));
                        }
                        let mut failure = failure;
                        let output = if failure.is_none() { Some(accumulator.finish()) } else { None };
                        if agent.hooks.has::<AfterModelCallEvent>() {
                            let shared = failure.take().map(Arc::new);
                            let mut event = AfterModelCallEvent {
                                agent: agent.hook_agent.clone(),
                                stop_response: output.as_ref().map(|o| (o.stop_reason, o.message.clone())),
                                error: shared.clone(),
                                retry: false,
                            };
                            agent.hooks.invoke(&mut event).await;
                            let retry = event.retry;
                            drop(event);
                            // The hook only reads the error; it comes back unchanged (same kind,
                            // so retries and overflow handling still apply).
                            failure = shared.map(|e| Arc::try_unwrap(e).unwrap_or_else(|kept| kept.duplicate()));
                            if retry {
                                tracing::debug!("a hook asked to call the model again");
                                if let Some(output) = &output {
                                    // Python counts the usage of a call a hook rejected.
                                    agent.metrics.accumulated_usage.accumulate(&output.usage);
                                    invocation.usage.accumulate(&output.usage);
                                }
                                continue;
                            }
                        }
                        let Some(error) = failure else {
                            if let Some(output) = output {
                                break ModelCall::Done(Box::new(output));
                            }
                            continue;
                        };
                        attempt += 1;
                        if !agent.retry.is_retryable(&error) || attempt >= agent.retry.max_attempts() {
                            break ModelCall::Failed { error, attempts: attempt };
                        }
                        let delay = agent.retry.delay(attempt - 1);
                        tracing::debug!(?delay, attempt, %error, "model call throttled, retrying");
                        let interrupted = tokio::select! {
                            biased;
                            () = cancel.cancelled() => true,
                            () = tokio::time::sleep(delay) => false,
                        };
                        if interrupted {
                            break ModelCall::Done(Box::new(cancelled_output(
                                MessageAccumulator::new(started).finish(),
                            )));
                        }
                        yield AgentEvent::Throttle { delay };
                    };

                    let output = match call {
                        ModelCall::Done(output) => *output,
                        ModelCall::Denied(message) => {
                            // As in Python: no usage or metrics on the hook's answer.
                            let message = agent.push_message(message).await?;
                            yield AgentEvent::Message(Box::new(message.clone()));
                            yield finish(StopReason::EndTurn, message, &invocation);
                            break;
                        }
                        ModelCall::Failed { error, .. } if error.is_context_window_overflow() => {
                            // Python: reduce the context, sync the session, run the cycle again.
                            tracing::warn!(%error, "context window overflow, reducing the conversation");
                            let reduced = agent
                                .conversation
                                .reduce_context(ReduceContext::new(&mut agent.messages, &agent.model, Some(&error)))
                                .await;
                            match reduced {
                                Ok(()) => {
                                    agent.sync_session().await?;
                                    continue;
                                }
                                Err(ReduceError::CannotReduce) => {
                                    yield AgentEvent::ForceStop { reason: error.to_string() };
                                    Err::<ModelOutput, _>(AgentError::ContextWindowOverflow(error))?
                                }
                                Err(other) => {
                                    yield AgentEvent::ForceStop { reason: other.to_string() };
                                    Err::<ModelOutput, _>(AgentError::ContextReduction(other))?
                                }
                            }
                        }
                        ModelCall::Failed { error, attempts } => {
                            yield AgentEvent::ForceStop { reason: error.to_string() };
                            Err::<ModelOutput, _>(AgentError::Model { attempts, source: error })?
                        }
                    };

                    let ModelOutput { stop_reason, message, usage, metrics, redact_user } = output;
                    let message = message.with_metadata(MessageMetadata::new(usage, metrics));
                    agent.metrics.accumulated_usage.accumulate(&usage);
                    agent.metrics.accumulated_latency_ms += metrics.latency_ms;
                    invocation.usage.accumulate(&usage);
                    if let Some(text) = redact_user {
                        agent.redact_latest_user_message(&text).await?;
                    }

                    let message = if stop_reason == StopReason::MaxTokens {
                        // History keeps the recovered message; the event shows what the model sent.
                        let stored = agent.push_message(recover_on_max_tokens(&message)).await?;
                        yield AgentEvent::Message(Box::new(message));
                        Err::<Message, _>(AgentError::MaxTokensReached { message: Box::new(stored) })?
                    } else {
                        let message = agent.push_message(message).await?;
                        yield AgentEvent::Message(Box::new(message.clone()));
                        message
                    };
                    (stop_reason, message)
                }
            };

            if stop_reason != StopReason::ToolUse {
                if let Some(structured) = options.structured_output.as_mut().filter(|_| stop_reason == StopReason::EndTurn) {
                    if structured.forced {
                        // Python's `result_from_text`: the forced retry answered in text.
                        let Some(value) = structured.parse_text(&message) else {
                            Err::<(), _>(AgentError::StructuredOutput {
                                tool_name: structured.tool.spec().name.clone(),
                                reason: "the model answered in text instead of calling the output tool, even when forced to".to_owned(),
                            })?;
                            break;
                        };
                        yield AgentEvent::StructuredOutput { value: value.clone() };
                        let mut result = finish(stop_reason, message, &invocation);
                        if let AgentEvent::Result(r) = &mut result {
                            r.structured_output = Some(value);
                        }
                        yield result;
                        break;
                    }
                    structured.forced = true;
                    let prompt = agent.push_message(Message::user(STRUCTURED_OUTPUT_PROMPT)).await?;
                    yield AgentEvent::Message(Box::new(prompt));
                    continue;
                }
                yield finish(stop_reason, message, &invocation);
                break;
            }

            let tool_uses: Vec<ToolUse> = message.tool_uses().cloned().collect();
            let responses: InterruptResponses = if resuming && agent.interrupts.activated {
                Arc::new(agent.interrupts.responses())
            } else {
                InterruptResponses::default()
            };
            let context = BatchContext {
                cancel: cancel.clone(),
                hooks: agent.hooks.clone(),
                agent: agent.hook_agent.clone(),
                extra_tool: options
                    .structured_output
                    .as_ref()
                    .map(|s| s.tool.clone() as Arc<dyn strands_core::Tool>),
                responses,
                completed: agent
                    .interrupts
                    .pending_tool_execution
                    .as_ref()
                    .filter(|_| agent.interrupts.activated)
                    .map(|p| p.completed_tool_results.clone())
                    .unwrap_or_default(),
            };
            let mut outcome = BatchOutcome::default();
            {
                let mut batch = std::pin::pin!(executor::execute(&agent.tools, tool_uses, context));
                while let Some(item) = batch.next().await {
                    match item {
                        ExecItem::Event(event) => yield event,
                        ExecItem::Finished(finished) => {
                            for (name, success, elapsed) in &finished.records {
                                agent.metrics.record_tool(name, *success, *elapsed);
                            }
                            outcome = finished;
                        }
                    }
                }
            }
            if !outcome.interrupts.is_empty() {
                // Pause: history ends with the tool-use message; the completed results wait in
                // the interrupt state until the caller resumes.
                agent.interrupts.activate(&outcome.interrupts, message.clone(), outcome.results);
                agent.sync_session().await?;
                let mut result = finish(StopReason::Interrupt, message, &invocation);
                if let AgentEvent::Result(r) = &mut result {
                    r.interrupts = outcome.interrupts;
                }
                yield result;
                break;
            }
            agent.interrupts.end_tool_cycle();

            if let Some(structured) = options.structured_output.as_mut() {
                let name = structured.tool.spec().name.as_str();
                let failed = message
                    .tool_uses()
                    .filter(|t| t.name == name)
                    .filter(|t| outcome.results.iter().any(|r| r.tool_use_id == t.tool_use_id && r.is_error()))
                    .count();
                structured.invalid_outputs += u32::try_from(failed).unwrap_or(u32::MAX);
            }
            let results_message = Message::new(
                Role::User,
                outcome.results.into_iter().map(ContentBlock::ToolResult).collect(),
            );
            yield AgentEvent::Message(Box::new(agent.push_message(results_message).await?));

            if let Some(structured) = options.structured_output.as_ref() {
                if let Some(value) = structured.tool.take_captured() {
                    yield AgentEvent::StructuredOutput { value: value.clone() };
                    let mut result = finish(StopReason::ToolUse, message, &invocation);
                    if let AgentEvent::Result(r) = &mut result {
                        r.structured_output = Some(value);
                    }
                    yield result;
                    break;
                }
                if structured.invalid_outputs >= MAX_INVALID_OUTPUTS {
                    Err::<(), _>(AgentError::StructuredOutput {
                        tool_name: structured.tool.spec().name.clone(),
                        reason: format!("the model produced {} invalid outputs", structured.invalid_outputs),
                    })?;
                }
            }

            if cancel.is_cancelled() {
                yield finish(StopReason::Cancelled, message, &invocation);
                break;
            }
        }
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

fn finish(stop_reason: StopReason, message: Message, invocation: &Invocation) -> AgentEvent {
    AgentEvent::Result(Box::new(AgentResult {
        stop_reason,
        message,
        usage: invocation.usage,
        cycle_count: invocation.cycles,
        interrupts: Vec::new(),
        structured_output: None,
    }))
}

/// The partial message is discarded and replaced by `"Cancelled by user"`, as in Python.
fn cancelled_output(partial: ModelOutput) -> ModelOutput {
    ModelOutput {
        stop_reason: StopReason::Cancelled,
        message: Message::assistant(CANCELLED_BY_USER),
        ..partial
    }
}

/// Python's `recover_message_on_max_tokens_reached`: every tool use (possibly truncated) is
/// replaced by an explanation, so history never holds a tool use without a result.
fn recover_on_max_tokens(message: &Message) -> Message {
    let content = message
        .content
        .iter()
        .map(|block| match block {
            ContentBlock::ToolUse(tool_use) => {
                let name = if tool_use.name.is_empty() { "<unknown>" } else { &tool_use.name };
                tracing::warn!(tool_name = name, "replacing tool use with error message due to max_tokens truncation");
                ContentBlock::Text(format!(
                    "The selected tool {name}'s tool use was incomplete due to maximum token limits being reached."
                ))
            }
            other => other.clone(),
        })
        .collect();
    let mut recovered = Message::new(message.role, content);
    recovered.metadata.clone_from(&message.metadata);
    recovered
}

impl Agent {
    /// Gives every message a tracking id (messages passed at build time or edited in get theirs
    /// at the start of the next invocation, as in Python).
    fn ensure_tracking_ids(&mut self) {
        for message in &mut self.messages {
            if message.tracking_id.is_none() {
                message.tracking_id = Some(new_tracking_id());
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

    /// Appends the invocation's input messages.
    async fn append_input(&mut self, new_messages: Vec<Message>) -> Result<(), AgentError> {
        if new_messages.is_empty() && self.messages.is_empty() {
            return Err(AgentError::EmptyConversation);
        }
        for message in new_messages {
            self.push_message(message).await?;
        }
        Ok(())
    }

    /// Appends a message with a fresh tracking id and returns a copy for the event stream.
    ///
    /// With a session the message is written first and joins the history only once stored, so
    /// memory and storage never disagree; then the agent record is synced (tools may have
    /// changed the state) and the `MessageAddedEvent` hooks run.
    pub(crate) async fn push_message(
        &mut self,
        mut message: Message,
    ) -> Result<Message, AgentError> {
        message.tracking_id = Some(new_tracking_id());
        if let Some(session) = self.session.as_mut() {
            session
                .append_message(&self.hook_agent.agent_id, &message)
                .await?;
            self.messages.push(message.clone());
            self.sync_session().await?;
        } else {
            self.messages.push(message.clone());
        }
        if self.hooks.has::<MessageAddedEvent>() {
            let mut event = MessageAddedEvent {
                agent: self.hook_agent.clone(),
                message: message.clone(),
            };
            self.hooks.invoke(&mut event).await;
        }
        Ok(message)
    }

    /// A guardrail redacted the user's input (Python's `_redact_user_content`): a message with
    /// tool results keeps only them, with their content replaced; otherwise the whole message
    /// becomes the redaction text.
    async fn redact_latest_user_message(&mut self, text: &str) -> Result<(), AgentError> {
        let Some(message) = self
            .messages
            .iter_mut()
            .rev()
            .find(|m| m.role == Role::User)
        else {
            return Ok(());
        };
        let mut redacted: Vec<ContentBlock> = message
            .content
            .drain(..)
            .filter_map(|block| match block {
                ContentBlock::ToolResult(mut result) => {
                    result.content = vec![strands_core::ToolResultContent::Text(text.to_owned())];
                    Some(ContentBlock::ToolResult(result))
                }
                _ => None,
            })
            .collect();
        if redacted.is_empty() {
            redacted.push(ContentBlock::Text(text.to_owned()));
        }
        message.content = redacted;
        let redacted = message.clone();
        if let Some(session) = self.session.as_mut() {
            session
                .redact_latest_message(&self.hook_agent.agent_id, redacted)
                .await?;
        }
        Ok(())
    }
}

fn new_tracking_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn max_tokens_recovery_replaces_tool_uses_with_python_text() {
        let mut message = Message::assistant("Partial answ");
        message
            .content
            .push(ContentBlock::ToolUse(ToolUse::new("t1", "add", json!({}))));
        let recovered = recover_on_max_tokens(&message);
        assert_eq!(
            recovered.content[1],
            ContentBlock::text(
                "The selected tool add's tool use was incomplete due to maximum token limits being reached."
            )
        );
    }
}
