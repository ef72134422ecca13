//! Runs one batch of tool uses concurrently, as Python's `ConcurrentToolExecutor` does.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_core::Stream;
use futures_util::stream::{self, StreamExt};
use strands_core::tools::is_valid_tool_name;
use strands_core::{Tool, ToolContext, ToolEvent, ToolResult, ToolUse};
use tokio_util::sync::CancellationToken;

use crate::events::AgentEvent;
use crate::instrument::InSpan;
use crate::tools::registry::ToolRegistry;

/// Text of the result given to tools stopped (or never started) by cancellation.
pub(crate) const CANCELLED_TEXT: &str = "Tool execution cancelled";

/// What the executor reports.
#[derive(Debug)]
pub(crate) enum ExecItem {
    /// An event for the caller.
    Event(AgentEvent),
    /// The batch is done.
    Finished(BatchOutcome),
}

/// The results of a batch, in Python's order: rejected tool names first, then every other tool
/// use in the order the model requested them (whatever order they completed in).
#[derive(Debug, Default)]
pub(crate) struct BatchOutcome {
    pub(crate) results: Vec<ToolResult>,
    /// `(tool name, succeeded, time taken)` per executed tool, in completion order.
    pub(crate) records: Vec<(String, bool, Duration)>,
}

/// Runs `tool_uses` concurrently on the current task. Tools still running when `cancel` fires
/// are dropped and answered with [`CANCELLED_TEXT`]; if it has fired already, none runs.
pub(crate) fn execute(
    registry: &ToolRegistry,
    tool_uses: Vec<ToolUse>,
    cancel: CancellationToken,
) -> impl Stream<Item = ExecItem> + Send + 'static {
    let mut rejected = Vec::new();
    let mut runnable = Vec::with_capacity(tool_uses.len());
    for tool_use in tool_uses {
        if is_valid_tool_name(&tool_use.name) {
            let tool = registry.get(&tool_use.name).cloned();
            runnable.push((tool_use, tool));
        } else {
            let text = format!(
                "Error: tool_name=<{}> | invalid tool name pattern",
                tool_use.name
            );
            rejected.push(ToolResult::error(tool_use.tool_use_id, text));
        }
    }

    async_stream::stream! {
        let mut outcome = BatchOutcome { results: rejected, records: Vec::new() };
        for result in &outcome.results {
            yield ExecItem::Event(AgentEvent::ToolResult { tool_result: result.clone() });
        }

        if cancel.is_cancelled() {
            for (tool_use, _) in runnable {
                let result = ToolResult::error(tool_use.tool_use_id, CANCELLED_TEXT);
                yield ExecItem::Event(AgentEvent::ToolResult { tool_result: result.clone() });
                outcome.results.push(result);
            }
            yield ExecItem::Finished(outcome);
            return;
        }

        let mut slots: Vec<Option<ToolResult>> = vec![None; runnable.len()];
        let mut streams = Vec::with_capacity(runnable.len());
        for (index, (tool_use, tool)) in runnable.iter().enumerate() {
            yield ExecItem::Event(AgentEvent::ToolStart { tool_use: tool_use.clone() });
            let context = ToolContext::new(cancel.clone());
            let started = Instant::now();
            let span = tracing::info_span!(
                "execute_tool",
                otel.name = %format_args!("execute_tool {}", tool_use.name),
                gen_ai.operation.name = "execute_tool",
                gen_ai.tool.name = %tool_use.name,
                gen_ai.tool.call.id = %tool_use.tool_use_id,
            );
            streams.push(
                InSpan::new(run_tool(tool.clone(), tool_use.clone(), context), span)
                    .map(move |event| (index, started, event))
                    .boxed(),
            );
        }
        let mut merged = stream::select_all(streams);

        loop {
            let next = tokio::select! {
                biased;
                () = cancel.cancelled() => None,
                next = merged.next() => Some(next),
            };
            match next {
                // Cancelled: unfinished tools are dropped with `merged` below.
                None => break,
                Some(None) => break,
                Some(Some((index, started, event))) => {
                    let Some((tool_use, _)) = runnable.get(index) else { continue };
                    match event {
                        ToolEvent::Result(result) => {
                            outcome.records.push((
                                tool_use.name.clone(),
                                !result.is_error(),
                                started.elapsed(),
                            ));
                            yield ExecItem::Event(AgentEvent::ToolResult { tool_result: result.clone() });
                            if let Some(slot) = slots.get_mut(index) {
                                *slot = Some(result);
                            }
                        }
                        ToolEvent::Stream(data) => {
                            yield ExecItem::Event(AgentEvent::ToolStream {
                                tool_use: tool_use.clone(),
                                data,
                            });
                        }
                        #[allow(unreachable_patterns, reason = "forward compatibility with new tool events")]
                        _ => {}
                    }
                }
            }
        }
        drop(merged);

        for ((tool_use, _), slot) in runnable.into_iter().zip(slots) {
            let result = match slot {
                Some(result) => result,
                None => {
                    let result = ToolResult::error(tool_use.tool_use_id, CANCELLED_TEXT);
                    yield ExecItem::Event(AgentEvent::ToolResult { tool_result: result.clone() });
                    result
                }
            };
            outcome.results.push(result);
        }
        yield ExecItem::Finished(outcome);
    }
}

/// One tool's events, always ending with exactly one result: unknown tools, panics and streams
/// that end without a result all become error results.
fn run_tool(
    tool: Option<Arc<dyn Tool>>,
    tool_use: ToolUse,
    context: ToolContext,
) -> impl Stream<Item = ToolEvent> + Send + 'static {
    async_stream::stream! {
        let id = tool_use.tool_use_id.clone();
        let name = tool_use.name.clone();
        let Some(tool) = tool else {
            tracing::warn!(tool_name = %name, "unknown tool requested by the model");
            yield ToolEvent::Result(ToolResult::error(id, format!("Unknown tool: {name}")));
            return;
        };
        let mut events = AssertUnwindSafe(tool.stream(tool_use, context)).catch_unwind();
        while let Some(event) = events.next().await {
            match event {
                Ok(ToolEvent::Result(mut result)) => {
                    result.tool_use_id = id;
                    yield ToolEvent::Result(result);
                    return;
                }
                Ok(other) => yield other,
                Err(panic) => {
                    let text = format!("Error: tool panicked: {}", panic_message(&*panic));
                    tracing::error!(tool_name = %name, "tool panicked");
                    yield ToolEvent::Result(ToolResult::error(id, text));
                    return;
                }
            }
        }
        yield ToolEvent::Result(ToolResult::error(
            id,
            format!("Tool '{name}' did not return a result"),
        ));
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown panic")
}
