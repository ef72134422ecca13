//! The Strands event loop: model → tools → model, until the model ends its turn.
//!
//! Python: `strands.event_loop.event_loop`. The loop is iterative (Python recurses one generator
//! per cycle) and emits no deprecated `start` event; everything that reaches history or the model
//! matches Python.

use std::time::Instant;

use futures_core::Stream;
use futures_util::StreamExt;
use strands_core::{
    ContentBlock, Message, MessageMetadata, ModelError, ModelRequest, Role, StopReason, ToolResult,
    ToolUse, Usage,
};

use crate::accumulate::{MessageAccumulator, ModelOutput};
use crate::agent::{Agent, AgentInput};
use crate::error::AgentError;
use crate::events::AgentEvent;
use crate::instrument::InSpan;
use crate::normalize;
use crate::result::AgentResult;
use crate::tools::executor::{self, ExecItem};

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
    Failed { error: ModelError, attempts: u32 },
}

pub(crate) fn run(
    agent: &mut Agent,
    input: AgentInput,
) -> impl Stream<Item = Result<AgentEvent, AgentError>> + Send + '_ {
    async_stream::try_stream! {
        let cancel = agent.cancel.begin();
        let mut invocation = Invocation::default();

        agent.ensure_tracking_ids();
        agent.append_input(input)?;
        yield AgentEvent::InitEventLoop;

        loop {
            agent.metrics.cycle_count += 1;
            invocation.cycles += 1;
            yield AgentEvent::StartEventLoop;

            // A tool use left at the end of history (continuing without a prompt) runs without a
            // model call, as in Python.
            let pending = agent
                .messages
                .last()
                .filter(|m| m.role == Role::Assistant && m.has_tool_use())
                .cloned();
            let (stop_reason, message) = match pending {
                Some(message) => (StopReason::ToolUse, message),
                None => {
                    let mut attempt: u32 = 0;
                    let call = loop {
                        let started = Instant::now();
                        let mut accumulator = MessageAccumulator::new(started);
                        let mut failure = None;
                        let mut cancelled = false;
                        {
                            let normalized = normalize::for_model(&agent.messages);
                            let mut request = ModelRequest::new(normalized.as_deref().unwrap_or(&agent.messages))
                                .with_tool_specs(agent.tools.specs());
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
                                        yield AgentEvent::ModelStreamEvent(event);
                                        if let Some(derived) = derived {
                                            yield derived;
                                        }
                                    }
                                }
                            }
                        }
                        if cancelled {
                            break ModelCall::Done(Box::new(cancelled_output(accumulator.finish())));
                        }
                        let Some(error) = failure else {
                            break ModelCall::Done(Box::new(accumulator.finish()));
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
                        ModelCall::Failed { error, attempts } => {
                            yield AgentEvent::ForceStop { reason: error.to_string() };
                            let error = if error.is_context_window_overflow() {
                                AgentError::ContextWindowOverflow(error)
                            } else {
                                AgentError::Model { attempts, source: error }
                            };
                            Err::<ModelOutput, _>(error)?
                        }
                    };

                    let ModelOutput { stop_reason, message, usage, metrics, redact_user } = output;
                    let message = message.with_metadata(MessageMetadata::new(usage, metrics));
                    agent.metrics.accumulated_usage.accumulate(&usage);
                    agent.metrics.accumulated_latency_ms += metrics.latency_ms;
                    invocation.usage.accumulate(&usage);
                    if let Some(text) = redact_user {
                        agent.redact_latest_user_message(&text);
                    }

                    let message = if stop_reason == StopReason::MaxTokens {
                        // History keeps the recovered message; the event shows what the model sent.
                        let stored = agent.append(recover_on_max_tokens(&message));
                        yield AgentEvent::Message(message);
                        Err::<Message, _>(AgentError::MaxTokensReached { message: Box::new(stored) })?
                    } else {
                        let message = agent.append(message);
                        yield AgentEvent::Message(message.clone());
                        message
                    };
                    (stop_reason, message)
                }
            };

            if stop_reason != StopReason::ToolUse {
                yield finish(stop_reason, message, &invocation);
                break;
            }

            let tool_uses: Vec<ToolUse> = message.tool_uses().cloned().collect();
            let mut results: Vec<ToolResult> = Vec::new();
            {
                let mut batch = std::pin::pin!(executor::execute(&agent.tools, tool_uses, cancel.clone()));
                while let Some(item) = batch.next().await {
                    match item {
                        ExecItem::Event(event) => yield event,
                        ExecItem::Finished(outcome) => {
                            for (name, success, elapsed) in &outcome.records {
                                agent.metrics.record_tool(name, *success, *elapsed);
                            }
                            results = outcome.results;
                        }
                    }
                }
            }
            let results_message = Message::new(
                Role::User,
                results.into_iter().map(ContentBlock::ToolResult).collect(),
            );
            yield AgentEvent::Message(agent.append(results_message));

            if cancel.is_cancelled() {
                yield finish(StopReason::Cancelled, message, &invocation);
                break;
            }
        }
    }
}

fn finish(stop_reason: StopReason, message: Message, invocation: &Invocation) -> AgentEvent {
    AgentEvent::Result(Box::new(AgentResult {
        stop_reason,
        message,
        usage: invocation.usage,
        cycle_count: invocation.cycles,
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

    /// Appends the invocation's input. With a prompt, tool uses left pending at the end of
    /// history are first answered with `"Tool was interrupted."`.
    fn append_input(&mut self, input: AgentInput) -> Result<(), AgentError> {
        let new_messages = match input {
            AgentInput::Text(text) => vec![Message::user(text)],
            AgentInput::Content(content) => vec![Message::new(Role::User, content)],
            AgentInput::Messages(messages) => messages,
            AgentInput::Continue => Vec::new(),
        };
        if new_messages.is_empty() {
            return if self.messages.is_empty() {
                Err(AgentError::EmptyConversation)
            } else {
                Ok(())
            };
        }
        if let Some(last) = self.messages.last().filter(|m| m.role == Role::Assistant) {
            let interrupted: Vec<ContentBlock> = last
                .tool_uses()
                .map(|t| {
                    ContentBlock::ToolResult(ToolResult::error(
                        t.tool_use_id.clone(),
                        TOOL_INTERRUPTED,
                    ))
                })
                .collect();
            if !interrupted.is_empty() {
                self.append(Message::new(Role::User, interrupted));
            }
        }
        for message in new_messages {
            self.append(message);
        }
        Ok(())
    }

    /// Appends a message with a fresh tracking id and returns a copy for the event stream.
    fn append(&mut self, mut message: Message) -> Message {
        message.tracking_id = Some(new_tracking_id());
        self.messages.push(message.clone());
        message
    }

    /// A guardrail redacted the user's input: the latest user message's text is replaced; tool
    /// results keep their ids with their content replaced.
    fn redact_latest_user_message(&mut self, text: &str) {
        let Some(message) = self
            .messages
            .iter_mut()
            .rev()
            .find(|m| m.role == Role::User)
        else {
            return;
        };
        let mut has_results = false;
        for block in &mut message.content {
            if let ContentBlock::ToolResult(result) = block {
                has_results = true;
                result.content = vec![strands_core::ToolResultContent::Text(text.to_owned())];
            }
        }
        if !has_results {
            message.content = vec![ContentBlock::Text(text.to_owned())];
        }
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
