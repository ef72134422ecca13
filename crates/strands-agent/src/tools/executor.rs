//! Runs one batch of tool uses concurrently, as Python's `ConcurrentToolExecutor` does.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_core::Stream;
use futures_util::stream::{self, StreamExt};
use strands_core::interrupt::{InterruptResponses, InterruptScope};
use strands_core::tools::is_valid_tool_name;
use strands_core::{Interrupt, Tool, ToolContext, ToolEvent, ToolResult, ToolUse};
use tokio_util::sync::CancellationToken;

use crate::events::AgentEvent;
use crate::hooks::{AfterToolCallEvent, BeforeToolCallEvent, HookAgent, HookRegistry};
use crate::instrument::InSpan;
use crate::telemetry::{ToolSpan, ToolTracer};
use crate::tools::registry::ToolRegistry;

/// Text of the result of a tool call a hook cancelled without a message (Python's default).
const HOOK_CANCELLED_TEXT: &str = "tool cancelled by user";

/// What a batch runs with besides the tool uses.
pub(crate) struct BatchContext {
    pub(crate) cancel: CancellationToken,
    pub(crate) hooks: Arc<HookRegistry>,
    pub(crate) agent: HookAgent,
    /// A tool added for this invocation only (structured output), looked up after the registry.
    pub(crate) extra_tool: Option<Arc<dyn Tool>>,
    /// Interrupt id → response, when resuming.
    pub(crate) responses: InterruptResponses,
    /// Results already produced before an interrupt paused the batch; those tool uses are not
    /// run again and their results come first.
    pub(crate) completed: Vec<ToolResult>,
    /// Starts the tools' spans, when the agent has telemetry.
    pub(crate) tracer: Option<ToolTracer>,
}

/// What one tool run reports to the batch.
enum ToolItem {
    Event(ToolEvent),
    Interrupted(Vec<Interrupt>),
}

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
    /// Interrupts raised by tools or hooks; when non-empty the batch is paused and `results`
    /// holds only the completed results.
    pub(crate) interrupts: Vec<Interrupt>,
    /// `(tool name, succeeded, time taken)` per executed tool, in completion order.
    pub(crate) records: Vec<(String, bool, Duration)>,
}

/// Runs `tool_uses` concurrently on the current task. Tools still running when `cancel` fires
/// are dropped and answered with [`CANCELLED_TEXT`]; if it has fired already, none runs.
pub(crate) fn execute(
    registry: &Arc<ToolRegistry>,
    tool_uses: Vec<ToolUse>,
    context: BatchContext,
) -> impl Stream<Item = ExecItem> + Send + 'static {
    let BatchContext {
        cancel,
        hooks,
        agent,
        extra_tool,
        responses,
        completed,
        tracer,
    } = context;
    let mut rejected = Vec::new();
    let mut runnable = Vec::with_capacity(tool_uses.len());
    for tool_use in tool_uses {
        if completed
            .iter()
            .any(|r| r.tool_use_id == tool_use.tool_use_id)
        {
            continue;
        }
        if is_valid_tool_name(&tool_use.name) {
            let tool = lookup(registry, extra_tool.as_ref(), &tool_use.name);
            runnable.push((tool_use, tool));
        } else {
            let text = format!(
                "Error: tool_name=<{}> | invalid tool name pattern",
                tool_use.name
            );
            rejected.push(ToolResult::error(tool_use.tool_use_id, text));
        }
    }
    let registry = registry.clone();

    async_stream::stream! {
        let mut outcome = BatchOutcome { results: completed, ..BatchOutcome::default() };
        for result in &rejected {
            yield ExecItem::Event(AgentEvent::ToolResult { tool_result: result.clone() });
        }
        outcome.results.extend(rejected);

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
        let mut spans: Vec<Option<ToolSpan>> = Vec::new();
        let mut streams = Vec::with_capacity(runnable.len());
        for (index, (tool_use, tool)) in runnable.iter().enumerate() {
            yield ExecItem::Event(AgentEvent::ToolStart { tool_use: Box::new(tool_use.clone()) });
            let run = ToolRun {
                tool: tool.clone(),
                tool_use: tool_use.clone(),
                cancel: cancel.clone(),
                hooks: hooks.clone(),
                agent: agent.clone(),
                responses: responses.clone(),
                registry: registry.clone(),
                extra_tool: extra_tool.clone(),
            };
            let started = Instant::now();
            let span = tracing::info_span!(
                "execute_tool",
                otel.name = %format_args!("execute_tool {}", tool_use.name),
                gen_ai.operation.name = "execute_tool",
                gen_ai.tool.name = %tool_use.name,
                gen_ai.tool.call.id = %tool_use.tool_use_id,
            );
            let otel = tracer.as_ref().map(|t| t.start(tool_use, tool.as_deref()));
            let context = otel.as_ref().map(|s| s.context().clone());
            if otel.is_some() {
                spans.resize_with(index, || None);
                spans.push(otel);
            }
            streams.push(
                InSpan::new(run_tool(run), span)
                    .with_otel(context)
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
                None | Some(None) => break,
                Some(Some((index, started, item))) => {
                    let Some((tool_use, _)) = runnable.get(index) else { continue };
                    match item {
                        ToolItem::Event(ToolEvent::Result(result)) => {
                            outcome.records.push((
                                tool_use.name.clone(),
                                !result.is_error(),
                                started.elapsed(),
                            ));
                            if let Some(span) = spans.get_mut(index).and_then(Option::take) {
                                span.finish(&result, started.elapsed());
                            }
                            yield ExecItem::Event(AgentEvent::ToolResult { tool_result: result.clone() });
                            if let Some(slot) = slots.get_mut(index) {
                                *slot = Some(result);
                            }
                        }
                        ToolItem::Event(ToolEvent::Stream(data)) => {
                            yield ExecItem::Event(AgentEvent::ToolStream {
                                tool_use: Box::new(tool_use.clone()),
                                data,
                            });
                        }
                        ToolItem::Interrupted(interrupts) => {
                            if let Some(span) = spans.get_mut(index).and_then(Option::take) {
                                span.interrupted();
                            }
                            yield ExecItem::Event(AgentEvent::ToolInterrupt {
                                tool_use: Box::new(tool_use.clone()),
                                interrupts: interrupts.clone(),
                            });
                            outcome.interrupts.extend(interrupts);
                        }
                        ToolItem::Event(_) => {}
                    }
                }
            }
        }
        drop(merged);

        let paused = !outcome.interrupts.is_empty();
        for ((tool_use, _), slot) in runnable.into_iter().zip(slots) {
            match slot {
                Some(result) => outcome.results.push(result),
                // Interrupted tools run again on resume.
                None if paused => {}
                None => {
                    let result = ToolResult::error(tool_use.tool_use_id, CANCELLED_TEXT);
                    yield ExecItem::Event(AgentEvent::ToolResult { tool_result: result.clone() });
                    outcome.results.push(result);
                }
            }
        }
        yield ExecItem::Finished(outcome);
    }
}

/// The tool for `name`: the invocation's own tool (structured output) first, as Python looks
/// up dynamic tools before the registry.
fn lookup(
    registry: &ToolRegistry,
    extra_tool: Option<&Arc<dyn Tool>>,
    name: &str,
) -> Option<Arc<dyn Tool>> {
    extra_tool
        .filter(|t| t.name() == name)
        .cloned()
        .or_else(|| registry.get(name).cloned())
}

struct ToolRun {
    tool: Option<Arc<dyn Tool>>,
    tool_use: ToolUse,
    cancel: CancellationToken,
    hooks: Arc<HookRegistry>,
    agent: HookAgent,
    responses: InterruptResponses,
    registry: Arc<ToolRegistry>,
    extra_tool: Option<Arc<dyn Tool>>,
}

/// One tool call through its hooks: `BeforeToolCallEvent` (which may rewrite, swap, cancel or
/// interrupt), the tool itself, then `AfterToolCallEvent` (which may replace the result or ask
/// for another run). Always ends with exactly one result or one interrupt.
fn run_tool(run: ToolRun) -> impl Stream<Item = ToolItem> + Send + 'static {
    async_stream::stream! {
        let ToolRun { mut tool, mut tool_use, cancel, hooks, agent, responses, registry, extra_tool } = run;
        let mut cancelled = None;
        if hooks.has::<BeforeToolCallEvent>() {
            let scope = InterruptScope::new("before_tool_call", tool_use.tool_use_id.clone(), responses.clone());
            let original_name = tool_use.name.clone();
            let original_tool = tool.clone();
            let mut event = BeforeToolCallEvent {
                agent: agent.clone(),
                tool_use,
                selected_tool: tool,
                cancel_tool: None,
                interrupts: scope.clone(),
            };
            hooks.invoke(&mut event).await;
            let raised = scope.take_raised();
            if !raised.is_empty() {
                yield ToolItem::Interrupted(raised);
                return;
            }
            let swapped = match (&event.selected_tool, &original_tool) {
                (Some(now), Some(before)) => !Arc::ptr_eq(now, before),
                (None, None) => false,
                _ => true,
            };
            tool_use = event.tool_use;
            tool = event.selected_tool;
            // A hook that renamed the tool use without choosing a tool gets the renamed tool.
            if !swapped && tool_use.name != original_name {
                tool = lookup(&registry, extra_tool.as_ref(), &tool_use.name);
            }
            cancelled = event.cancel_tool;
        }
        let after_hooks = hooks.has::<AfterToolCallEvent>();
        loop {
            let mut result = None;
            if let Some(message) = &cancelled {
                let text = if message.is_empty() { HOOK_CANCELLED_TEXT } else { message };
                result = Some(ToolResult::error(tool_use.tool_use_id.clone(), text));
            } else {
                let scope = InterruptScope::new("tool_call", tool_use.tool_use_id.clone(), responses.clone());
                let context = ToolContext::new(cancel.clone())
                    .with_agent_state(agent.state.clone())
                    .with_interrupts(scope.clone());
                // Without after-hooks the tool use is needed only once: move it.
                let call = if after_hooks { tool_use.clone() } else { std::mem::take(&mut tool_use) };
                let mut events = std::pin::pin!(call_tool(tool.clone(), call, context));
                while let Some(event) = events.next().await {
                    match event {
                        ToolEvent::Result(r) => result = Some(r),
                        other => yield ToolItem::Event(other),
                    }
                }
                let raised = scope.take_raised();
                if !raised.is_empty() {
                    yield ToolItem::Interrupted(raised);
                    return;
                }
            }
            let Some(mut result) = result else { return };
            if after_hooks {
                let mut event = AfterToolCallEvent {
                    agent: agent.clone(),
                    tool_use: tool_use.clone(),
                    result,
                    cancelled: cancelled.is_some(),
                    retry: false,
                };
                hooks.invoke(&mut event).await;
                result = event.result;
                result.tool_use_id.clone_from(&tool_use.tool_use_id);
                if event.retry && cancelled.is_none() {
                    tracing::debug!(tool_name = %tool_use.name, "a hook asked to run the tool again");
                    continue;
                }
            }
            yield ToolItem::Event(ToolEvent::Result(result));
            return;
        }
    }
}

/// The tool's own events, always ending with exactly one result: unknown tools, panics and
/// streams that end without a result all become error results.
fn call_tool(
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
