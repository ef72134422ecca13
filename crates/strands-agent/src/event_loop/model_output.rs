//! Step 3, the model's answer joins the history: usage and metrics, a guardrail's redaction of
//! the prompt, the max-tokens recovery; a denied call or an overflow ends here too.

use strands_core::{ContentBlock, Message, MessageMetadata, StopReason};

use super::model_call::{self, ModelCall};
use super::{Run, overflow};
use crate::accumulate::ModelOutput;
use crate::agent::Agent;
use crate::error::AgentError;
use crate::events::AgentEvent;
use crate::result::AgentResult;

/// What a cycle's model call came to.
#[allow(
    clippy::large_enum_variant,
    reason = "returned once per cycle and taken apart at once; boxing would add an allocation"
)]
pub(super) enum Answer {
    /// The model's message, now in history.
    Message(StopReason, Message),
    /// The history was reduced after a context overflow: run the cycle again.
    Retry,
    /// The invocation ends (a hook answered instead of the model).
    Stop(Box<AgentResult>),
}

/// Calls the model and records its answer.
pub(super) async fn answer(agent: &mut Agent, run: &mut Run) -> Result<Answer, AgentError> {
    let output = match model_call::call(agent, run).await {
        ModelCall::Done(output) => *output,
        ModelCall::Denied(message) => {
            // As in Python: no usage or metrics on the hook's answer.
            let message = run.append(agent, message).await?;
            return Ok(Answer::Stop(run.finish(StopReason::EndTurn, message)));
        }
        ModelCall::Failed { error, .. } if error.is_context_window_overflow() => {
            // Python's cycle ends in error; the agent reduces the context and starts another.
            if let Some(trace) = run.trace.as_mut() {
                trace.fail_cycle_model(&error);
            }
            overflow::recover(agent, run, error).await?;
            // The reduction may have trimmed messages in place (tool results).
            if let Some(trace) = run.trace.as_mut() {
                trace.history_changed();
            }
            return Ok(Answer::Retry);
        }
        ModelCall::Failed { error, attempts } => {
            run.sink
                .emit(AgentEvent::ForceStop {
                    reason: error.to_string(),
                })
                .await;
            return Err(AgentError::Model {
                attempts,
                source: error,
            });
        }
    };
    record(agent, run, output).await
}

/// Appends the model's message with its usage and metrics; `max_tokens` keeps a recovered copy
/// and ends the invocation with [`AgentError::MaxTokensReached`].
async fn record(
    agent: &mut Agent,
    run: &mut Run,
    output: ModelOutput,
) -> Result<Answer, AgentError> {
    let ModelOutput {
        stop_reason,
        message,
        usage,
        metrics,
        redact_user,
    } = output;
    let message = message.with_metadata(MessageMetadata::new(usage, metrics));
    agent.metrics.accumulated_usage.accumulate(&usage);
    agent.metrics.accumulated_latency_ms += metrics.latency_ms;
    run.usage.accumulate(&usage);
    if let Some(trace) = &run.trace {
        trace.model_answer(&usage, Some(&metrics));
    }
    if let Some(text) = redact_user {
        agent.redact_latest_user_message(&text).await?;
        if let Some(trace) = run.trace.as_mut() {
            trace.history_changed();
        }
    }
    if stop_reason == StopReason::MaxTokens {
        // History keeps the recovered message; the event shows what the model sent.
        let stored = agent.push_message(recover_on_max_tokens(&message)).await?;
        run.sink.emit(AgentEvent::Message(Box::new(message))).await;
        return Err(AgentError::MaxTokensReached {
            message: Box::new(stored),
        });
    }
    let message = run.append(agent, message).await?;
    Ok(Answer::Message(stop_reason, message))
}

/// Python's `recover_message_on_max_tokens_reached`: every tool use (possibly truncated) is
/// replaced by an explanation, so history never holds a tool use without a result.
fn recover_on_max_tokens(message: &Message) -> Message {
    let content = message
        .content
        .iter()
        .map(|block| match block {
            ContentBlock::ToolUse(tool_use) => {
                let name = if tool_use.name.is_empty() {
                    "<unknown>"
                } else {
                    &tool_use.name
                };
                tracing::warn!(
                    tool_name = name,
                    "replacing tool use with error message due to max_tokens truncation"
                );
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
    /// A guardrail redacted the user's input (Python's `_redact_user_content`): a message with
    /// tool results keeps only them, with their content replaced; otherwise the whole message
    /// becomes the redaction text.
    async fn redact_latest_user_message(&mut self, text: &str) -> Result<(), AgentError> {
        let Some(message) = self
            .messages
            .iter_mut()
            .rev()
            .find(|m| m.role == strands_core::Role::User)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use strands_core::ToolUse;

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
