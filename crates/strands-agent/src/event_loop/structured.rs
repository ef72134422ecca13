//! Structured output in the loop: the output tool is offered with the agent's tools; a text
//! answer gets one forced retry; the tool's validated value ends the invocation.

use std::sync::Arc;

use strands_core::{Message, StopReason, Tool as _};

use super::{Next, Run};
use crate::agent::Agent;
use crate::error::AgentError;
use crate::events::AgentEvent;
use crate::structured_output::{MAX_INVALID_OUTPUTS, STRUCTURED_OUTPUT_PROMPT};
use crate::tools::executor::BatchOutcome;

/// The model ended its turn (or stopped) without tool uses: the invocation ends, unless
/// structured output is wanted and still missing.
pub(super) async fn on_answer(
    agent: &mut Agent,
    run: &mut Run,
    stop_reason: StopReason,
    message: Message,
) -> Result<Next, AgentError> {
    let Some(structured) = run
        .options
        .structured_output
        .as_mut()
        .filter(|_| stop_reason == StopReason::EndTurn)
    else {
        return Ok(Next::Stop(run.finish(stop_reason, message)));
    };
    if !structured.forced {
        structured.forced = true;
        let prompt = agent
            .push_message(Message::user(STRUCTURED_OUTPUT_PROMPT))
            .await?;
        run.sink.emit(AgentEvent::Message(Box::new(prompt))).await;
        return Ok(Next::Continue);
    }
    // Python's `result_from_text`: the forced retry answered in text.
    let Some(value) = structured.parse_text(&message) else {
        return Err(AgentError::StructuredOutput {
            tool_name: structured.tool.spec().name.clone(),
            reason: "the model answered in text instead of calling the output tool, even when \
                     forced to"
                .to_owned(),
        });
    };
    Ok(Next::Stop(
        stop_with(run, stop_reason, message, value).await,
    ))
}

/// The output tool, offered beside the agent's tools when structured output is wanted.
pub(super) fn output_tool(run: &Run) -> Option<Arc<dyn strands_core::Tool>> {
    run.options
        .structured_output
        .as_ref()
        .map(|s| s.tool.clone() as Arc<dyn strands_core::Tool>)
}

/// Counts the output tool's calls that failed validation.
pub(super) fn count_invalid_outputs(run: &mut Run, message: &Message, outcome: &BatchOutcome) {
    let Some(structured) = run.options.structured_output.as_mut() else {
        return;
    };
    let name = structured.tool.spec().name.as_str();
    let failed = message
        .tool_uses()
        .filter(|t| t.name == name)
        .filter(|t| {
            outcome
                .results
                .iter()
                .any(|r| r.tool_use_id == t.tool_use_id && r.is_error())
        })
        .count();
    structured.invalid_outputs += u32::try_from(failed).unwrap_or(u32::MAX);
}

/// After the tool results joined the history: stops with the captured value, or fails once the
/// model produced too many invalid ones.
pub(super) async fn after_tools(run: &mut Run, message: &Message) -> Result<Next, AgentError> {
    let Some(structured) = run.options.structured_output.as_ref() else {
        return Ok(Next::Continue);
    };
    if let Some(value) = structured.tool.take_captured() {
        let result = stop_with(run, StopReason::ToolUse, message.clone(), value).await;
        return Ok(Next::Stop(result));
    }
    if structured.invalid_outputs >= MAX_INVALID_OUTPUTS {
        return Err(AgentError::StructuredOutput {
            tool_name: structured.tool.spec().name.clone(),
            reason: format!(
                "the model produced {} invalid outputs",
                structured.invalid_outputs
            ),
        });
    }
    Ok(Next::Continue)
}

/// Emits the value and builds the result carrying it.
async fn stop_with(
    run: &Run,
    stop_reason: StopReason,
    message: Message,
    value: serde_json::Value,
) -> Box<crate::result::AgentResult> {
    run.sink
        .emit(AgentEvent::StructuredOutput {
            value: value.clone(),
        })
        .await;
    let mut result = run.finish(stop_reason, message);
    result.structured_output = Some(value);
    result
}
