//! The Strands event loop: model → tools → model, until the model ends its turn.
//!
//! Python: `strands.event_loop.event_loop`. The loop is iterative (Python recurses one generator
//! per cycle) and emits no deprecated `start` event; everything that reaches history or the model
//! matches Python.
//!
//! [`run`] drives one invocation through named steps, each a plain `async fn` over the agent, the
//! invocation's [`Run`] state and its [`EventSink`]:
//!
//! | Step | Module |
//! |---|---|
//! | input, interrupt resume, `BeforeInvocationEvent` | [`input`] |
//! | the model call: hooks, streaming, retries, cancellation | [`model_call`] |
//! | what the model answered: metadata, redaction, max tokens | [`model_output`] |
//! | context-overflow recovery | [`overflow`] |
//! | the tools of one assistant message, interrupts | [`tools`] |
//! | structured output: forcing the tool, taking its value | [`structured`] |
//! | per-invocation limits, the result | [`stop`] |
//!
//! `Agent::invoke` awaits [`run`] with a discarding sink; `Agent::stream` wraps it in an
//! [`EventStream`], so the two cannot drift apart.

mod input;
mod model_call;
mod model_output;
mod overflow;
mod sink;
mod stop;
mod structured;
mod tools;

use strands_core::{Message, Role, StopReason, Usage};
use tokio_util::sync::CancellationToken;

use crate::agent::{Agent, AgentInput};
use crate::error::AgentError;
use crate::events::AgentEvent;
use crate::hooks::{AfterInvocationEvent, MessageAddedEvent};
use crate::result::AgentResult;
use crate::structured_output::StructuredOutput;
use crate::telemetry::{AgentInfo, RunTrace};

pub(crate) use sink::{EventSink, EventStream};
pub use stop::Limits;

/// Options of one invocation.
#[derive(Debug, Default)]
pub(crate) struct RunOptions {
    pub(crate) structured_output: Option<StructuredOutput>,
    pub(crate) limits: Limits,
}

/// The state of one invocation, shared by the steps.
#[derive(Debug)]
struct Run {
    sink: EventSink,
    cancel: CancellationToken,
    options: RunOptions,
    /// Tokens used so far by this invocation's model calls.
    usage: Usage,
    /// Cycles started so far.
    cycles: u64,
    /// Resuming a batch of tools paused on interrupts.
    resuming: bool,
    /// A `BeforeInvocationEvent` hook denied the invocation (its after-hook sees no result).
    denied: bool,
    /// The invocation's spans, when the agent has telemetry.
    trace: Option<Box<RunTrace>>,
}

impl Run {
    /// The result of this invocation, stopping on `message`.
    fn finish(&self, stop_reason: StopReason, message: Message) -> Box<AgentResult> {
        Box::new(AgentResult {
            stop_reason,
            message,
            usage: self.usage,
            cycle_count: self.cycles,
            interrupts: Vec::new(),
            structured_output: None,
        })
    }
}

impl Run {
    /// Appends `message` to the history, emits it (a `Message` event) and returns it.
    async fn append(&self, agent: &mut Agent, message: Message) -> Result<Message, AgentError> {
        let message = agent.push_message(message).await?;
        self.sink
            .emit(AgentEvent::Message(Box::new(message.clone())))
            .await;
        Ok(message)
    }
}

/// What a step decided.
enum Next {
    /// Go on with the loop.
    Continue,
    /// The invocation ends with this result.
    Stop(Box<AgentResult>),
}

/// One invocation: the cycles, then (also after a failure) conversation management, the
/// `AfterInvocationEvent` hooks and the session sync.
pub(crate) async fn run(
    agent: &mut Agent,
    input: AgentInput,
    options: RunOptions,
    sink: EventSink,
) -> Result<Box<AgentResult>, AgentError> {
    let trace = agent
        .telemetry
        .as_ref()
        .map(|telemetry| RunTrace::start(telemetry, &agent.trace_info(), &input::preview(&input)));
    let otel = trace.as_ref().map(|trace| trace.context().clone());
    let mut run = Run {
        sink,
        cancel: agent.cancel.begin(),
        options,
        usage: Usage::default(),
        cycles: 0,
        resuming: false,
        denied: false,
        trace,
    };
    let outcome = match otel {
        // The agent span is current for everything the invocation does (logs, nested spans).
        Some(otel) => {
            use opentelemetry::context::FutureExt as _;
            cycles(agent, input, &mut run).with_context(otel).await
        }
        None => cycles(agent, input, &mut run).await,
    };
    agent.conversation.apply_management(&mut agent.messages);
    if agent.hooks.has::<AfterInvocationEvent>() {
        let result = match &outcome {
            Ok(result) if !run.denied => Some(AgentResult::clone(result)),
            _ => None,
        };
        let mut event = AfterInvocationEvent {
            agent: agent.hook_agent.clone(),
            result,
        };
        agent.hooks.invoke(&mut event).await;
    }
    // After the hooks, so state they set is saved (Python's session manager runs last).
    let synced = agent.finish_session().await;
    let outcome = match (outcome, synced) {
        (Ok(result), Ok(())) => Ok(result),
        (Err(error), _) | (Ok(_), Err(error)) => Err(error),
    };
    if let Some(trace) = run.trace.take() {
        trace.finish(
            outcome.as_deref(),
            &agent.metrics.accumulated_usage,
            &run.usage,
        );
    }
    outcome
}

/// The cycles of one invocation, until one of them stops it.
async fn cycles(
    agent: &mut Agent,
    input: AgentInput,
    run: &mut Run,
) -> Result<Box<AgentResult>, AgentError> {
    if run.options.structured_output.is_none()
        && let Some(schema) = &agent.structured_output
    {
        // The builder refused a tool with the output tool's name, so this holds.
        let output = StructuredOutput::new(schema, agent.tools.specs()).map_err(|reason| {
            AgentError::StructuredOutput {
                tool_name: schema.name().to_owned(),
                reason,
            }
        })?;
        run.options.structured_output = Some(output);
    }
    if let Next::Stop(result) = input::prepare(agent, input, run).await? {
        return Ok(result);
    }
    run.sink.emit(AgentEvent::InitEventLoop).await;
    loop {
        if let Some(result) = stop::limit_reached(agent, run) {
            return Ok(result);
        }
        agent.metrics.cycle_count += 1;
        run.cycles += 1;
        if let Some(trace) = run.trace.as_mut() {
            trace.start_cycle(&agent.messages);
        }
        run.sink.emit(AgentEvent::StartEventLoop).await;
        let next = cycle(agent, run).await;
        if let Some(trace) = run.trace.as_mut() {
            match &next {
                Ok(_) => trace.end_cycle(),
                Err(error) => trace.fail_cycle(error),
            }
        }
        if let Next::Stop(result) = next? {
            return Ok(result);
        }
    }
}

/// One cycle: the model's answer (or a tool use left pending in history), then its tools.
async fn cycle(agent: &mut Agent, run: &mut Run) -> Result<Next, AgentError> {
    let (stop_reason, message) = match pending_tool_use(agent, run) {
        Some(message) => (StopReason::ToolUse, message),
        None => match model_output::answer(agent, run).await? {
            model_output::Answer::Message(stop_reason, message) => (stop_reason, message),
            model_output::Answer::Retry => return Ok(Next::Continue),
            model_output::Answer::Stop(result) => return Ok(Next::Stop(result)),
        },
    };
    if let Some(trace) = run.trace.as_mut() {
        trace.cycle_message(&message);
    }
    if stop_reason != StopReason::ToolUse {
        return structured::on_answer(agent, run, stop_reason, message).await;
    }
    tools::run_tools(agent, run, message).await
}

/// A tool use left at the end of history (continuing without a prompt, or resuming from an
/// interrupt) runs without a model call, as in Python. Resuming replays the stored batch, as
/// Python does, whatever edits history saw.
fn pending_tool_use(agent: &Agent, run: &Run) -> Option<Message> {
    match agent.interrupts.pending_tool_execution.as_ref() {
        Some(paused) if run.resuming && agent.interrupts.activated => {
            Some(paused.assistant_message.clone())
        }
        _ => agent
            .messages
            .last()
            .filter(|m| m.role == Role::Assistant && m.has_tool_use())
            .cloned(),
    }
}

impl Agent {
    /// Appends a message with a fresh tracking id and returns a copy for the event stream.
    ///
    /// With a session the message is written first and joins the history only once stored, so
    /// memory and storage never disagree (unless a hook rewrites the message for the
    /// conversation only); then the agent record is synced (tools may have changed the state)
    /// and the `MessageAddedEvent` hooks run.
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
            if event.message != message
                && let Some(last) = self.messages.last_mut()
            {
                // A hook rewrote it: the conversation holds the new one (the session does not).
                *last = event.message.clone();
                return Ok(event.message);
            }
        }
        Ok(message)
    }
}

impl Agent {
    /// What the invocation's spans say about the agent.
    pub(crate) fn trace_info(&self) -> AgentInfo<'_> {
        AgentInfo {
            name: &self.hook_agent.name,
            model_id: self.model.model_id(),
            tools: self.tools.specs(),
            system: self
                .system_prompt
                .as_ref()
                .map(|_| self.system_prompt_content.as_slice()),
            trace_attributes: &self.trace_attributes,
            messages: &self.messages,
        }
    }
}

fn new_tracking_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
