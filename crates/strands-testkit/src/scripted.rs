//! A model that replays a script.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::Serialize;
use strands_core::{
    Message, Metrics, Model, ModelError, ModelRequest, ModelStream, StopReason, StreamEvent,
    ToolChoice, ToolSpec, Usage,
};

use crate::canned::CannedStreams;

/// One scripted model call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Step {
    /// Stream these events, then end.
    Events(Vec<StreamEvent>),
    /// Fail before streaming with [`ModelError::Throttled`].
    Throttle(String),
    /// Fail before streaming with [`ModelError::ContextWindowOverflow`].
    ContextOverflow(String),
    /// Fail before streaming with [`ModelError::Provider`].
    Fail(String),
    /// Stream these events, then fail with [`ModelError::Stream`] (a connection cut mid-way).
    EventsThenError(Vec<StreamEvent>, String),
    /// Stream these events, then never end (for cancellation tests).
    EventsThenHang(Vec<StreamEvent>),
}

/// What the model received in one call: the messages (role and content only, as a provider
/// would send them), tool specs, system prompt and tool choice. Serializes with the keys the
/// Python parity fixtures use.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The messages.
    pub messages: Vec<Message>,
    /// The tool specs, `None` when the agent has no tools.
    pub tool_specs: Option<Vec<ToolSpec>>,
    /// The system prompt string.
    pub system_prompt: Option<String>,
    /// The forced tool choice.
    pub tool_choice: Option<ToolChoice>,
}

#[derive(Debug)]
enum Source {
    Script(Mutex<VecDeque<Step>>),
    Canned(CannedStreams),
}

/// A [`Model`] that replays scripted [`Step`]s in order, or answers from the Python benchmark's
/// canned streams, and records every request. An unexpected extra call fails loudly with a
/// [`ModelError::Provider`] naming the problem.
#[derive(Debug)]
pub struct ScriptedModel {
    model_id: String,
    source: Source,
    requests: Mutex<Vec<RecordedRequest>>,
    record: bool,
}

impl ScriptedModel {
    /// A model that plays `steps` in order.
    pub fn new<S: Into<Step>>(steps: impl IntoIterator<Item = S>) -> Self {
        Self {
            model_id: "scripted-model".to_owned(),
            source: Source::Script(Mutex::new(steps.into_iter().map(Into::into).collect())),
            requests: Mutex::new(Vec::new()),
            record: true,
        }
    }

    /// The model id it reports (default `scripted-model`).
    #[must_use]
    pub fn with_model_id(mut self, model_id: impl Into<String>) -> Self {
        self.model_id = model_id.into();
        self
    }

    /// Starts a script.
    pub fn builder() -> ScriptedModelBuilder {
        ScriptedModelBuilder::default()
    }

    /// The Python benchmark's fake model: stateless, it picks a canned stream from the
    /// conversation (see [`CannedStreams::choose`]), so one instance serves any number of agents.
    /// It records nothing, so it can serve benchmarks indefinitely.
    pub fn python_baseline(streams: CannedStreams) -> Self {
        Self {
            model_id: "fake-bench-model".to_owned(),
            source: Source::Canned(streams),
            requests: Mutex::new(Vec::new()),
            record: false,
        }
    }

    /// Steps not played yet.
    pub fn remaining(&self) -> usize {
        match &self.source {
            Source::Script(steps) => steps.lock().unwrap_or_else(PoisonError::into_inner).len(),
            Source::Canned(_) => usize::MAX,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn next_step(&self, request: &ModelRequest<'_>) -> Step {
        match &self.source {
            Source::Script(steps) => steps
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front()
                .unwrap_or_else(|| {
                    Step::Fail("the scripted model has no steps left: the test made more model calls than it scripted".to_owned())
                }),
            Source::Canned(streams) => Step::Events(streams.choose(request.messages).to_vec()),
        }
    }
}

impl Model for ScriptedModel {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn stream<'a>(&'a self, request: ModelRequest<'a>) -> ModelStream<'a> {
        if self.record {
            let recorded = RecordedRequest {
                messages: request.messages.to_vec(),
                tool_specs: request.tool_specs.map(<[ToolSpec]>::to_vec),
                system_prompt: request.system_prompt.map(str::to_owned),
                tool_choice: request.tool_choice.cloned(),
            };
            self.requests
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(recorded);
        }
        let (events, tail) = match self.next_step(&request) {
            Step::Events(events) => (events, Tail::End),
            Step::Throttle(message) => (Vec::new(), Tail::Error(ModelError::throttled(message))),
            Step::ContextOverflow(message) => (
                Vec::new(),
                Tail::Error(ModelError::context_window_overflow(message)),
            ),
            Step::Fail(message) => (Vec::new(), Tail::Error(ModelError::provider(message, None))),
            Step::EventsThenError(events, message) => {
                (events, Tail::Error(ModelError::stream(message, None)))
            }
            Step::EventsThenHang(events) => (events, Tail::Hang),
        };
        Box::pin(ScriptedStream {
            events: events.into(),
            tail: Some(tail),
        })
    }
}

enum Tail {
    End,
    Error(ModelError),
    Hang,
}

struct ScriptedStream {
    events: VecDeque<StreamEvent>,
    tail: Option<Tail>,
}

impl Stream for ScriptedStream {
    type Item = Result<StreamEvent, ModelError>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(event) = self.events.pop_front() {
            return Poll::Ready(Some(Ok(event)));
        }
        match self.tail.take() {
            None | Some(Tail::End) => Poll::Ready(None),
            Some(Tail::Error(error)) => Poll::Ready(Some(Err(error))),
            Some(Tail::Hang) => {
                self.tail = Some(Tail::Hang);
                Poll::Pending
            }
        }
    }
}

impl From<Vec<StreamEvent>> for Step {
    fn from(events: Vec<StreamEvent>) -> Self {
        Self::Events(events)
    }
}

/// Builds a [`ScriptedModel`] step by step.
#[derive(Debug, Default)]
#[must_use]
pub struct ScriptedModelBuilder {
    steps: Vec<Step>,
}

impl ScriptedModelBuilder {
    /// A text answer streamed as one delta, ending the turn.
    pub fn text(self, text: &str) -> Self {
        self.step(Step::Events(text_stream(&[text], StopReason::EndTurn)))
    }

    /// A tool use with the given JSON input text, stop reason `tool_use`.
    pub fn tool_use(self, tool_use_id: &str, name: &str, input_json: &str) -> Self {
        self.step(Step::Events(tool_use_stream(&[(
            tool_use_id,
            name,
            input_json,
        )])))
    }

    /// Several tool uses in one message, stop reason `tool_use`.
    pub fn tool_uses(self, uses: &[(&str, &str, &str)]) -> Self {
        self.step(Step::Events(tool_use_stream(uses)))
    }

    /// A throttling error.
    pub fn throttle(self, message: &str) -> Self {
        self.step(Step::Throttle(message.to_owned()))
    }

    /// Raw events.
    pub fn events(self, events: Vec<StreamEvent>) -> Self {
        self.step(Step::Events(events))
    }

    /// Any step.
    pub fn step(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// The model.
    pub fn build(self) -> ScriptedModel {
        ScriptedModel::new(self.steps)
    }
}

/// Events of a text answer streamed as `deltas`, with the given stop reason and usage 10/5.
pub fn text_stream(deltas: &[&str], stop_reason: StopReason) -> Vec<StreamEvent> {
    let mut events = vec![StreamEvent::message_start(), StreamEvent::block_start()];
    events.extend(deltas.iter().map(|d| StreamEvent::text_delta(*d)));
    events.push(StreamEvent::block_stop());
    events.push(StreamEvent::message_stop(stop_reason));
    events.push(StreamEvent::metadata(Usage::new(10, 5), Metrics::new(0)));
    events
}

/// Events of a message holding the given `(id, name, input JSON)` tool uses, stop `tool_use`.
pub fn tool_use_stream(uses: &[(&str, &str, &str)]) -> Vec<StreamEvent> {
    let mut events = vec![StreamEvent::message_start()];
    for (id, name, input) in uses {
        events.push(StreamEvent::tool_use_start(*id, *name));
        events.push(StreamEvent::tool_input_delta(*input));
        events.push(StreamEvent::block_stop());
    }
    events.push(StreamEvent::message_stop(StopReason::ToolUse));
    events.push(StreamEvent::metadata(Usage::new(10, 5), Metrics::new(0)));
    events
}
