//! Step 4, the tools of one assistant message: run them all concurrently, pause on interrupts,
//! append their results, and stop if the invocation was cancelled meanwhile.

use std::sync::Arc;

use futures_util::StreamExt;
use strands_core::interrupt::InterruptResponses;
use strands_core::{ContentBlock, Message, Role, StopReason, ToolUse};

use super::{Next, Run, structured};
use crate::agent::Agent;
use crate::error::AgentError;
use crate::tools::executor::{self, BatchContext, BatchOutcome, ExecItem};

/// Runs the tool uses of `message` and appends their results.
pub(super) async fn run_tools(
    agent: &mut Agent,
    run: &mut Run,
    message: Message,
) -> Result<Next, AgentError> {
    let outcome = execute(agent, run, &message).await;
    if !outcome.interrupts.is_empty() {
        if let Some(trace) = run.trace.as_mut() {
            trace.cycle_interrupted();
        }
        // Pause: history ends with the tool-use message; the completed results wait in the
        // interrupt state until the caller resumes.
        agent
            .interrupts
            .activate(&outcome.interrupts, message.clone(), outcome.results);
        agent.sync_session().await?;
        let mut result = run.finish(StopReason::Interrupt, message);
        result.interrupts = outcome.interrupts;
        return Ok(Next::Stop(result));
    }
    agent.interrupts.end_tool_cycle();
    structured::count_invalid_outputs(run, &message, &outcome);
    let results = Message::new(
        Role::User,
        outcome
            .results
            .into_iter()
            .map(ContentBlock::ToolResult)
            .collect(),
    );
    let results = agent.push_message(results).await?;
    if let Some(trace) = run.trace.as_mut() {
        trace.cycle_tool_results(&results);
    }
    run.sink
        .emit(crate::events::AgentEvent::Message(Box::new(results)))
        .await;
    if let Next::Stop(result) = structured::after_tools(run, &message).await? {
        return Ok(Next::Stop(result));
    }
    if run.cancel.is_cancelled() {
        return Ok(Next::Stop(run.finish(StopReason::Cancelled, message)));
    }
    Ok(Next::Continue)
}

/// Runs the batch, streaming its events and recording each tool's metrics.
async fn execute(agent: &mut Agent, run: &Run, message: &Message) -> BatchOutcome {
    let tool_uses: Vec<ToolUse> = message.tool_uses().cloned().collect();
    let resuming = run.resuming && agent.interrupts.activated;
    let responses: InterruptResponses = if resuming {
        Arc::new(agent.interrupts.responses())
    } else {
        InterruptResponses::default()
    };
    let completed = agent
        .interrupts
        .pending_tool_execution
        .as_ref()
        .filter(|_| agent.interrupts.activated)
        .map(|p| p.completed_tool_results.clone())
        .unwrap_or_default();
    let context = BatchContext {
        cancel: run.cancel.clone(),
        hooks: agent.hooks.clone(),
        agent: agent.hook_agent.clone(),
        extra_tool: structured::output_tool(run),
        responses,
        completed,
        tracer: run.trace.as_ref().map(|trace| trace.tools()),
    };
    let mut outcome = BatchOutcome::default();
    let mut batch = std::pin::pin!(executor::execute(&agent.tools, tool_uses, context));
    while let Some(item) = batch.next().await {
        match item {
            ExecItem::Event(event) => run.sink.emit(event).await,
            ExecItem::Finished(finished) => {
                for (name, success, elapsed) in &finished.records {
                    agent.metrics.record_tool(name, *success, *elapsed);
                }
                outcome = finished;
            }
        }
    }
    outcome
}
