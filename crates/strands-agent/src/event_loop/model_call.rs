//! Step 2, the model call: `BeforeModelCallEvent`, the request, the streamed answer folded into
//! a message, `AfterModelCallEvent`, retries of throttled calls within the retry budget, the
//! optional first-event and idle timeouts, and cancellation raced against every chunk and every
//! retry delay.

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use strands_core::{Message, ModelError, ModelRequest, StopReason, Tool as _};
use tokio::time::Sleep;

use super::Run;
use crate::accumulate::{MessageAccumulator, ModelOutput};
use crate::agent::Agent;
use crate::events::AgentEvent;
use crate::hooks::{AfterModelCallEvent, BeforeModelCallEvent};
use crate::instrument::InSpan;
use crate::normalize;

/// Text of the assistant message recorded when cancellation interrupts a model call.
const CANCELLED_BY_USER: &str = "Cancelled by user";

/// How a model call ended.
pub(super) enum ModelCall {
    /// The model answered (or the call was cancelled: the answer is `"Cancelled by user"`).
    Done(Box<ModelOutput>),
    /// A `BeforeModelCallEvent` hook answered instead of the model.
    Denied(Message),
    /// The call failed for good.
    Failed { error: ModelError, attempts: u32 },
}

/// How one attempt's stream ended.
enum Streamed {
    Finished(ModelOutput),
    Failed(ModelError),
    Cancelled(ModelOutput),
}

/// Calls the model until it answers, a hook denies the call, the error is not retryable or the
/// retries (attempts or time budget) are spent.
pub(super) async fn call(agent: &mut Agent, run: &mut Run) -> ModelCall {
    // The retry budget counts from here (tokio's clock, so paused-time tests control it).
    let first_attempt = tokio::time::Instant::now();
    let mut attempt: u32 = 0;
    loop {
        let started = Instant::now();
        if let Some(text) = before_model_call(agent).await {
            let text = if text.is_empty() {
                "model call denied by hook".to_owned()
            } else {
                text
            };
            return ModelCall::Denied(Message::assistant(text));
        }
        let chat = run
            .trace
            .as_mut()
            .map(|trace| trace.chat(&agent.trace_info()));
        let streamed = stream(
            agent,
            run,
            started,
            chat.as_ref().map(|c| c.context().clone()),
        )
        .await;
        if let Some(chat) = chat {
            match &streamed {
                Streamed::Finished(output) | Streamed::Cancelled(output) => chat.finish(output),
                Streamed::Failed(error) => chat.fail(error),
            }
        }
        let (output, mut failure) = match streamed {
            Streamed::Cancelled(output) => return ModelCall::Done(Box::new(output)),
            Streamed::Finished(output) => (Some(output), None),
            Streamed::Failed(error) => (None, Some(error)),
        };
        if after_model_call(agent, run, output.as_ref(), &mut failure).await {
            continue;
        }
        let error = match (output, failure) {
            (_, Some(error)) => error,
            (Some(output), None) => return ModelCall::Done(Box::new(output)),
            (None, None) => continue,
        };
        attempt += 1;
        if !agent.retry.is_retryable(&error) || attempt >= agent.retry.max_attempts() {
            return ModelCall::Failed {
                error,
                attempts: attempt,
            };
        }
        let Some(delay) = agent
            .retry
            .delay_within_budget(attempt - 1, first_attempt.elapsed())
        else {
            tracing::debug!(
                attempt,
                budget = ?agent.retry.max_elapsed_time(),
                %error,
                "model call throttled, the retry budget is spent",
            );
            return ModelCall::Failed {
                error,
                attempts: attempt,
            };
        };
        if let Some(cancelled) = wait_before_retry(run, delay, attempt, &error, started).await {
            return ModelCall::Done(Box::new(cancelled));
        }
    }
}

/// The `BeforeModelCallEvent` hooks; `Some(text)` when one of them denied the call.
async fn before_model_call(agent: &Agent) -> Option<String> {
    if !agent.hooks.has::<BeforeModelCallEvent>() {
        return None;
    }
    let mut event = BeforeModelCallEvent {
        agent: agent.hook_agent.clone(),
        message_count: agent.messages.len(),
        cancel: None,
    };
    agent.hooks.invoke(&mut event).await;
    event.cancel
}

/// One attempt: the request, then the model's stream folded into a message. Chunk events are
/// built only when the sink is live. With timeouts set, one timer per attempt guards the wait
/// for each event (reset, not recreated, after every event); without, there is no timer at all.
async fn stream(
    agent: &Agent,
    run: &Run,
    started: Instant,
    otel: Option<opentelemetry::Context>,
) -> Streamed {
    let mut accumulator = MessageAccumulator::new(started);
    let normalized = normalize::for_model(&agent.messages);
    let mut request = ModelRequest::new(normalized.as_deref().unwrap_or(&agent.messages));
    request = match run.options.structured_output.as_ref() {
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
    let timeouts = agent.timeouts;
    let mut timer = pin!(timeouts.first_event.map(tokio::time::sleep));
    let mut waiting_for_first = true;
    let mut events = InSpan::new(agent.model.stream(request), span).with_otel(otel);
    loop {
        let next = tokio::select! {
            biased;
            () = run.cancel.cancelled() => return Streamed::Cancelled(cancelled(accumulator.finish())),
            next = events.next() => next,
            () = expired(timer.as_mut()) => {
                let error = timeouts.error(waiting_for_first);
                tracing::debug!(%error, "model call timed out");
                return Streamed::Failed(error);
            }
        };
        match next {
            None => return Streamed::Finished(accumulator.finish()),
            Some(Err(error)) => return Streamed::Failed(error),
            Some(Ok(event)) => {
                let derived = accumulator.push(&event);
                if run.sink.is_live() {
                    run.sink
                        .emit(AgentEvent::ModelStreamEvent(Box::new(event)))
                        .await;
                    if let Some(derived) = derived {
                        run.sink.emit(derived).await;
                    }
                }
                // Re-armed after the emits: a slow consumer is not model silence.
                if timeouts.any() {
                    rearm(timer.as_mut(), timeouts.idle);
                }
                waiting_for_first = false;
            }
        }
    }
}

/// Completes when the timer fires; never without a timer.
async fn expired(timer: Pin<&mut Option<Sleep>>) {
    match timer.as_pin_mut() {
        Some(sleep) => sleep.await,
        None => std::future::pending().await,
    }
}

/// After an event: the timer now guards the idle timeout (reset in place, created on the first
/// event when only the idle timeout is set), or is dropped when there is none.
fn rearm(mut timer: Pin<&mut Option<Sleep>>, idle: Option<Duration>) {
    match (idle, timer.as_mut().as_pin_mut()) {
        (Some(after), Some(sleep)) => sleep.reset(tokio::time::Instant::now() + after),
        (Some(after), None) => timer.set(Some(tokio::time::sleep(after))),
        (None, Some(_)) => timer.set(None),
        (None, None) => {}
    }
}

/// The `AfterModelCallEvent` hooks see the answer or the error; `true` when one asks for
/// another call.
async fn after_model_call(
    agent: &mut Agent,
    run: &mut Run,
    output: Option<&ModelOutput>,
    failure: &mut Option<ModelError>,
) -> bool {
    if !agent.hooks.has::<AfterModelCallEvent>() {
        return false;
    }
    let shared = failure.take().map(Arc::new);
    let mut event = AfterModelCallEvent {
        agent: agent.hook_agent.clone(),
        stop_response: output.map(|o| (o.stop_reason, o.message.clone())),
        error: shared.clone(),
        retry: false,
    };
    agent.hooks.invoke(&mut event).await;
    let retry = event.retry;
    drop(event);
    // The hook only reads the error; it comes back unchanged (same kind, so retries and
    // overflow handling still apply).
    *failure = shared.map(|e| Arc::try_unwrap(e).unwrap_or_else(|kept| kept.duplicate()));
    if retry {
        tracing::debug!("a hook asked to call the model again");
        if let Some(output) = output {
            // Python counts the usage of a call a hook rejected.
            agent.metrics.accumulated_usage.accumulate(&output.usage);
            run.usage.accumulate(&output.usage);
            if let Some(trace) = &run.trace {
                trace.model_answer(&output.usage, None);
            }
        }
    }
    retry
}

/// Sleeps `delay`, then emits `Throttle`; `Some` (the cancelled answer) when cancellation came
/// first.
async fn wait_before_retry(
    run: &Run,
    delay: Duration,
    attempt: u32,
    error: &ModelError,
    started: Instant,
) -> Option<ModelOutput> {
    tracing::debug!(?delay, attempt, %error, "model call throttled, retrying");
    tokio::select! {
        biased;
        () = run.cancel.cancelled() => {
            return Some(cancelled(MessageAccumulator::new(started).finish()));
        }
        () = tokio::time::sleep(delay) => {}
    }
    run.sink.emit(AgentEvent::Throttle { delay }).await;
    None
}

/// The partial message is discarded and replaced by `"Cancelled by user"`, as in Python.
fn cancelled(partial: ModelOutput) -> ModelOutput {
    ModelOutput {
        stop_reason: StopReason::Cancelled,
        message: Message::assistant(CANCELLED_BY_USER),
        ..partial
    }
}
