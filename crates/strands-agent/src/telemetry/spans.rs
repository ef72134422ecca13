//! The spans of one invocation, as Python's `Tracer` builds them: `invoke_agent {name}` holds
//! one `execute_event_loop_cycle` per cycle, which holds a `chat` per model call attempt and an
//! `execute_tool {name}` per tool.
//!
//! Every span is held by a [`SpanGuard`]: a span still open when its guard drops (the stream was
//! dropped, the task cancelled) ends as Python ends a cancelled span: status unset and
//! `strands.cancellation.type`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue, Value};
use serde_json::json;
use strands_core::time::UtcTime;
use strands_core::{
    Message, ModelError, SystemContentBlock, Tool, ToolResult, ToolSpec, ToolUse, Usage,
};

use super::Telemetry;
use super::content::{self, PythonException, serialize};
use crate::accumulate::ModelOutput;
use crate::error::AgentError;
use crate::result::AgentResult;

/// The event that carries content under the latest conventions.
const DETAILS: &str = "gen_ai.client.inference.operation.details";

/// An open span; ends as cancelled if dropped open.
struct SpanGuard {
    cx: Context,
    open: bool,
    /// Sampled in: content is built only for spans that record it.
    recording: bool,
}

impl SpanGuard {
    /// Starts `name` under `parent`, with room for `events` events: the SDK keeps the
    /// vectors it is given, so sized ones are never grown while the span records.
    fn start(
        telemetry: &Telemetry,
        name: impl Into<Cow<'static, str>>,
        parent: &Context,
        mut attributes: Vec<KeyValue>,
        events: usize,
    ) -> Self {
        // One clock reading for the span's start and its `start_time` attribute.
        let started = SystemTime::now();
        attributes.push(KeyValue::new("gen_ai.event.start_time", iso(started)));
        let tracer = telemetry.tracer();
        let span = tracer
            .span_builder(name)
            .with_kind(SpanKind::Internal)
            .with_start_time(started)
            .with_attributes(attributes)
            .with_events(Vec::with_capacity(events.min(MAX_EVENTS)))
            .start_with_context(tracer, parent);
        let cx = parent.with_span(span);
        let recording = cx.span().is_recording();
        Self {
            cx,
            open: true,
            recording,
        }
    }

    fn event(&self, name: &'static str, attributes: Vec<KeyValue>) {
        if self.recording {
            self.cx.span().add_event(name, attributes);
        }
    }

    /// An event of content, or the same attributes on the span when the conventions say so.
    fn content(&self, telemetry: &Telemetry, name: &'static str, attributes: Vec<KeyValue>) {
        if !self.recording {
            return;
        }
        if telemetry.conventions().attributes_only() {
            self.cx.span().set_attributes(attributes);
        } else {
            self.event(name, attributes);
        }
    }

    /// Content under the latest conventions: one `details` event (or span attribute) holding
    /// `key`, redacted by `key`'s policy.
    fn details(&self, telemetry: &Telemetry, key: &'static str, value: String) {
        if self.recording {
            let value = telemetry.conventions().redact(key, value);
            self.content(telemetry, DETAILS, vec![KeyValue::new(key, value)]);
        }
    }

    /// Python's `_end_span`: end time, attributes, then the status (and the exception).
    fn end(&mut self, attributes: Vec<KeyValue>, failure: Option<Failure>) {
        if !self.open {
            return;
        }
        self.open = false;
        let span = self.cx.span();
        let ended = SystemTime::now();
        span.set_attribute(KeyValue::new("gen_ai.event.end_time", iso(ended)));
        span.set_attributes(attributes);
        match failure {
            None => span.set_status(Status::Ok),
            Some(Failure::Message(message)) => span.set_status(Status::error(message)),
            Some(Failure::Exception(exception)) => {
                span.set_status(Status::error(exception.message.clone()));
                span.add_event_with_timestamp(
                    "exception",
                    ended,
                    vec![
                        KeyValue::new("exception.type", exception.type_name),
                        KeyValue::new("exception.message", exception.message),
                        KeyValue::new("exception.escaped", "False"),
                    ],
                );
            }
        }
        span.end_with_timestamp(ended);
    }
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        if self.open {
            let span = self.cx.span();
            let ended = SystemTime::now();
            span.set_attribute(KeyValue::new("gen_ai.event.end_time", iso(ended)));
            span.set_attribute(KeyValue::new("strands.cancellation.type", "CancelledError"));
            span.end_with_timestamp(ended);
        }
    }
}

/// Why a span ends in error: a message only, or an exception (recorded as an event too).
enum Failure {
    Message(String),
    Exception(PythonException),
}

/// Python's `datetime.isoformat()` of a UTC time.
fn iso(time: SystemTime) -> String {
    UtcTime::from_system_time(time).to_python_isoformat()
}

/// The SDK's default bound on a span's events: room for more is never used.
const MAX_EVENTS: usize = 128;

/// Room for a span's attributes: those it starts with and those it ends with (the usage), so
/// that the SDK, which keeps this vector, does not grow it.
const ATTRIBUTES: usize = 20;

fn common(telemetry: &Telemetry, operation: &'static str) -> Vec<KeyValue> {
    let system = if telemetry.conventions().latest() {
        "gen_ai.provider.name"
    } else {
        "gen_ai.system"
    };
    let mut attributes = Vec::with_capacity(ATTRIBUTES);
    attributes.push(KeyValue::new("gen_ai.operation.name", operation));
    attributes.push(KeyValue::new(system, "strands-agents"));
    attributes
}

/// Python's `_total_prompt_tokens`: cache tokens count unless already inside `inputTokens`.
fn prompt_tokens(usage: &Usage) -> u64 {
    if usage.input_tokens + usage.output_tokens == usage.total_tokens {
        return usage.input_tokens;
    }
    usage.input_tokens
        + usage.cache_read_input_tokens.unwrap_or(0)
        + usage.cache_write_input_tokens.unwrap_or(0)
}

fn int(value: u64) -> Value {
    Value::I64(i64::try_from(value).unwrap_or(i64::MAX))
}

/// The legacy event text of each message of the history, serialized once per invocation: the
/// cycle and chat spans record the same history again and again. Keyed by tracking id (every
/// message has one during an invocation); forgotten when history content changes in place.
#[derive(Default)]
struct ContentCache {
    by_tracking_id: HashMap<String, Arc<str>>,
}

impl ContentCache {
    fn text(&mut self, conventions: &super::Conventions, message: &Message) -> Value {
        let compute = || {
            let key = match message.role {
                strands_core::Role::Assistant => "gen_ai.output.messages",
                strands_core::Role::User => "gen_ai.input.messages",
            };
            conventions.redact(key, serialize(&message.content))
        };
        let Some(id) = message.tracking_id.as_deref() else {
            return Value::from(compute());
        };
        let text = match self.by_tracking_id.get(id) {
            Some(text) => text.clone(),
            None => {
                let text: Arc<str> = compute().into();
                self.by_tracking_id.insert(id.to_owned(), text.clone());
                text
            }
        };
        Value::String(text.into())
    }
}

/// What the spans say about the agent (the loop fills it in from the `Agent`).
pub(crate) struct AgentInfo<'a> {
    pub(crate) name: &'a str,
    pub(crate) model_id: &'a str,
    pub(crate) tools: &'a [ToolSpec],
    /// The system prompt's blocks, when the agent has one.
    pub(crate) system: Option<&'a [SystemContentBlock]>,
    pub(crate) trace_attributes: &'a Arc<[KeyValue]>,
    /// The history as the model call sees it.
    pub(crate) messages: &'a [Message],
}

/// One invocation's trace: the agent span and the cycle under way.
pub(crate) struct RunTrace {
    telemetry: Telemetry,
    attributes: Arc<[KeyValue]>,
    // Before `agent`: dropped first, so a cancelled cycle ends before its parent.
    cycle: Option<CycleTrace>,
    agent: SpanGuard,
    parent_cycle_id: Option<String>,
    contents: ContentCache,
}

impl std::fmt::Debug for RunTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunTrace").finish_non_exhaustive()
    }
}

struct CycleTrace {
    span: SpanGuard,
    id: String,
    started: Instant,
    message: Option<Message>,
    tool_results: Option<Message>,
    interrupted: bool,
}

impl RunTrace {
    /// Starts the agent span (Python's `start_agent_span`) under the current context, with the
    /// invocation's new messages.
    pub(crate) fn start(
        telemetry: &Telemetry,
        agent: &AgentInfo<'_>,
        input: &[Message],
    ) -> Box<Self> {
        let conventions = telemetry.conventions();
        let name = agent.name;
        let mut attributes = common(telemetry, "invoke_agent");
        attributes.push(KeyValue::new("gen_ai.agent.name", name.to_owned()));
        let model_id = agent.model_id;
        if !model_id.is_empty() {
            attributes.push(KeyValue::new("gen_ai.request.model", model_id.to_owned()));
        }
        let specs = agent.tools;
        if !specs.is_empty() {
            let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            attributes.push(KeyValue::new("gen_ai.agent.tools", serialize(&names)));
        }
        if conventions.tool_definitions() && !specs.is_empty() {
            let definitions: Vec<_> = specs
                .iter()
                .map(|s| {
                    json!({
                        "name": s.name,
                        "description": s.description,
                        "inputSchema": s.input_schema,
                        "outputSchema": s.output_schema,
                    })
                })
                .collect();
            attributes.push(KeyValue::new(
                "gen_ai.tool.definitions",
                serialize(&definitions),
            ));
        }
        attributes.extend(agent.trace_attributes.iter().cloned());
        let system = agent.system;
        if conventions.latest()
            && let Some(system) = system
        {
            attributes.push(KeyValue::new(
                "gen_ai.system_instructions",
                conventions.redact(
                    "gen_ai.system_instructions",
                    serialize(&content::parts(system)),
                ),
            ));
        }
        let span = SpanGuard::start(
            telemetry,
            format!("invoke_agent {name}"),
            &Context::current(),
            attributes,
            // The system prompt, the input, the answer.
            input.len() + 2,
        );
        if !conventions.latest()
            && let Some(system) = system
        {
            system_event(telemetry, &span, system);
        }
        message_events(telemetry, &span, input, &mut ContentCache::default());
        Box::new(Self {
            telemetry: telemetry.clone(),
            attributes: agent.trace_attributes.clone(),
            cycle: None,
            agent: span,
            parent_cycle_id: None,
            contents: ContentCache::default(),
        })
    }

    /// The agent span's context: the parent of log lines and of spans made by callers.
    pub(crate) fn context(&self) -> &Context {
        &self.agent.cx
    }

    /// A cycle starts: its span (with the history so far) and Python's `start_cycle` metrics.
    pub(crate) fn start_cycle(&mut self, messages: &[Message]) {
        let id = uuid::Uuid::new_v4().to_string();
        let mut attributes = common(&self.telemetry, "execute_event_loop_cycle");
        attributes.push(KeyValue::new("event_loop.cycle_id", id.clone()));
        attributes.extend(self.attributes.iter().cloned());
        if let Some(parent) = &self.parent_cycle_id {
            attributes.push(KeyValue::new("event_loop.parent_cycle_id", parent.clone()));
        }
        let span = SpanGuard::start(
            &self.telemetry,
            "execute_event_loop_cycle",
            &self.agent.cx,
            attributes,
            // The history, the tool results.
            messages.len() + 1,
        );
        message_events(&self.telemetry, &span, messages, &mut self.contents);
        self.telemetry.instruments().start_cycle();
        self.cycle = Some(CycleTrace {
            span,
            id,
            started: Instant::now(),
            message: None,
            tool_results: None,
            interrupted: false,
        });
    }

    /// The cycle's assistant message (the model's answer, or a pending tool use).
    pub(crate) fn cycle_message(&mut self, message: &Message) {
        if let Some(cycle) = &mut self.cycle {
            cycle.message = Some(message.clone());
        }
    }

    /// The cycle's tools ran; `results` joined the history.
    pub(crate) fn cycle_tool_results(&mut self, results: &Message) {
        if let Some(cycle) = &mut self.cycle {
            cycle.tool_results = Some(results.clone());
        }
    }

    /// The cycle's tools paused on interrupts.
    pub(crate) fn cycle_interrupted(&mut self) {
        if let Some(cycle) = &mut self.cycle {
            cycle.interrupted = true;
        }
    }

    /// The cycle ended without an error. Cycles that ran tools record their metrics without
    /// attributes and become the parent of the next cycle, as in Python.
    pub(crate) fn end_cycle(&mut self) {
        let Some(mut cycle) = self.cycle.take() else {
            return;
        };
        self.telemetry
            .instruments()
            .end_cycle(cycle.started.elapsed());
        if let Some(results) = &cycle.tool_results {
            self.tool_cycle_event(&cycle, results);
            self.parent_cycle_id = Some(cycle.id.clone());
        }
        cycle.span.end(Vec::new(), None);
    }

    fn tool_cycle_event(&mut self, cycle: &CycleTrace, results: &Message) {
        if !cycle.span.recording {
            return;
        }
        let conventions = self.telemetry.conventions();
        let span = &cycle.span;
        if conventions.latest() {
            let messages = serialize(&[json!({
                "role": results.role.as_str(),
                "parts": content::parts(&results.content),
            })]);
            span.details(&self.telemetry, "gen_ai.input.messages", messages);
            return;
        }
        // Both join the history: serialized once here, found again by the next cycle's spans.
        let message = match &cycle.message {
            Some(message) => self.contents.text(conventions, message),
            None => Value::from(conventions.redact("gen_ai.output.messages", "[]".to_owned())),
        };
        let results = self.contents.text(conventions, results);
        span.event(
            "gen_ai.choice",
            vec![
                KeyValue::new("message", message),
                KeyValue::new("tool.result", results),
            ],
        );
    }

    /// The cycle failed with `error` (it records no end-of-cycle metrics, as in Python).
    pub(crate) fn fail_cycle(&mut self, error: &AgentError) {
        if let Some(mut cycle) = self.cycle.take() {
            let exception = PythonException::of_agent_error(error);
            cycle
                .span
                .end(Vec::new(), Some(Failure::Exception(exception)));
        }
    }

    /// The cycle's model call failed with `error` and the loop recovers (a context overflow).
    pub(crate) fn fail_cycle_model(&mut self, error: &ModelError) {
        if let Some(mut cycle) = self.cycle.take() {
            let exception = PythonException::of_model_error(error);
            cycle
                .span
                .end(Vec::new(), Some(Failure::Exception(exception)));
        }
    }

    /// A message of the history changed in place (a guardrail redacted it): its text is
    /// serialized again.
    pub(crate) fn history_changed(&mut self) {
        self.contents.by_tracking_id.clear();
    }

    /// A model answer's usage and timings (Python's `update_usage` and `update_metrics`).
    pub(crate) fn model_answer(&self, usage: &Usage, metrics: Option<&strands_core::Metrics>) {
        let instruments = self.telemetry.instruments();
        instruments.usage(usage);
        if let Some(metrics) = metrics {
            instruments.model_metrics(metrics);
        }
    }

    /// A `chat` span for one model call attempt, under the cycle.
    pub(crate) fn chat(&mut self, agent: &AgentInfo<'_>) -> ChatSpan {
        let telemetry = &self.telemetry;
        let mut attributes = common(telemetry, "chat");
        attributes.extend(self.attributes.iter().cloned());
        let model_id = agent.model_id;
        if !model_id.is_empty() {
            attributes.push(KeyValue::new("gen_ai.request.model", model_id.to_owned()));
        }
        // The system prompt, the history, the answer.
        let events = agent.messages.len() + 2;
        let span = SpanGuard::start(telemetry, "chat", self.cycle_context(), attributes, events);
        if let Some(system) = agent.system {
            if telemetry.conventions().latest() {
                let value = serialize(&content::parts(system));
                span.details(telemetry, "gen_ai.system_instructions", value);
            } else {
                system_event(telemetry, &span, system);
            }
        }
        message_events(telemetry, &span, agent.messages, &mut self.contents);
        ChatSpan {
            telemetry: telemetry.clone(),
            span,
        }
    }

    /// What tool spans need: they start under the cycle, on the executor's stream.
    pub(crate) fn tools(&self) -> ToolTracer {
        ToolTracer {
            telemetry: self.telemetry.clone(),
            attributes: self.attributes.clone(),
            parent: self.cycle_context().clone(),
        }
    }

    fn cycle_context(&self) -> &Context {
        self.cycle.as_ref().map_or(&self.agent.cx, |c| &c.span.cx)
    }

    /// The invocation ended (Python's `end_agent_span`): the answer and the usage, or the error.
    /// `usage` is the agent's lifetime total and `invocation` this invocation's (Python reports
    /// the first unless told otherwise).
    pub(crate) fn finish(
        mut self,
        outcome: Result<&AgentResult, &AgentError>,
        lifetime: &Usage,
        invocation: &Usage,
    ) {
        if let Some(mut cycle) = self.cycle.take() {
            // A step failed outside the cycle's own error paths; end it with the invocation.
            let failure = outcome
                .err()
                .map(|e| Failure::Exception(PythonException::of_agent_error(e)));
            cycle.span.end(Vec::new(), failure);
        }
        let result = match outcome {
            Ok(result) => result,
            Err(error) => {
                let exception = PythonException::of_agent_error(error);
                self.agent
                    .end(Vec::new(), Some(Failure::Exception(exception)));
                return;
            }
        };
        let conventions = self.telemetry.conventions();
        let usage = if conventions.latest_invocation_tokens() {
            invocation
        } else {
            lifetime
        };
        let attributes = agent_usage(usage, conventions.latest());
        if !self.agent.recording {
            self.agent.end(attributes, None);
            return;
        }
        // Python's `str(AgentResult)`.
        let text = result.to_string();
        let finish_reason = result.stop_reason.as_str();
        if conventions.latest() {
            let messages = serialize(&[json!({
                "role": "assistant",
                "parts": [{"type": "text", "content": text}],
                "finish_reason": finish_reason,
            })]);
            self.agent
                .details(&self.telemetry, "gen_ai.output.messages", messages);
        } else {
            self.agent.event(
                "gen_ai.choice",
                vec![
                    KeyValue::new(
                        "message",
                        conventions.redact("gen_ai.output.messages", text),
                    ),
                    KeyValue::new("finish_reason", finish_reason),
                ],
            );
        }
        self.agent.end(attributes, None);
    }
}

fn agent_usage(usage: &Usage, latest: bool) -> Vec<KeyValue> {
    let prompt = int(prompt_tokens(usage));
    let cache_read = int(usage.cache_read_input_tokens.unwrap_or(0));
    let cache_write = int(usage.cache_write_input_tokens.unwrap_or(0));
    let mut attributes = vec![
        KeyValue::new("gen_ai.usage.prompt_tokens", prompt.clone()),
        KeyValue::new("gen_ai.usage.completion_tokens", int(usage.output_tokens)),
        KeyValue::new("gen_ai.usage.input_tokens", prompt),
        KeyValue::new("gen_ai.usage.output_tokens", int(usage.output_tokens)),
        KeyValue::new("gen_ai.usage.total_tokens", int(usage.total_tokens)),
        KeyValue::new("gen_ai.usage.cache_read.input_tokens", cache_read.clone()),
        KeyValue::new(
            "gen_ai.usage.cache_creation.input_tokens",
            cache_write.clone(),
        ),
    ];
    if !latest {
        attributes.push(KeyValue::new(
            "gen_ai.usage.cache_read_input_tokens",
            cache_read,
        ));
        attributes.push(KeyValue::new(
            "gen_ai.usage.cache_write_input_tokens",
            cache_write,
        ));
    }
    attributes
}

/// Legacy conventions: the system prompt as a `gen_ai.system.message` event.
fn system_event<T: serde::Serialize + ?Sized>(telemetry: &Telemetry, span: &SpanGuard, system: &T) {
    let content = telemetry
        .conventions()
        .redact("gen_ai.system_instructions", serialize(system));
    span.event(
        "gen_ai.system.message",
        vec![KeyValue::new("content", content)],
    );
}

/// Python's `_add_event_messages`: one event per message (legacy), or one `details` event.
fn message_events(
    telemetry: &Telemetry,
    span: &SpanGuard,
    messages: &[Message],
    cache: &mut ContentCache,
) {
    if !span.recording {
        return;
    }
    let conventions = telemetry.conventions();
    if conventions.latest() {
        span.details(
            telemetry,
            "gen_ai.input.messages",
            content::input_messages(messages),
        );
        return;
    }
    for message in messages {
        let value = cache.text(conventions, message);
        span.event(
            content::event_name(message),
            vec![KeyValue::new("content", value)],
        );
    }
}

/// One model call attempt's `chat` span.
pub(crate) struct ChatSpan {
    telemetry: Telemetry,
    span: SpanGuard,
}

impl std::fmt::Debug for ChatSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatSpan").finish_non_exhaustive()
    }
}

impl ChatSpan {
    /// The span's context, current while the model streams.
    pub(crate) fn context(&self) -> &Context {
        &self.span.cx
    }

    /// The model answered (Python's `end_model_invoke_span`).
    pub(crate) fn finish(mut self, output: &ModelOutput) {
        if !self.span.recording {
            self.span.end(Vec::new(), None);
            return;
        }
        let conventions = self.telemetry.conventions();
        let usage = &output.usage;
        let prompt = int(prompt_tokens(usage));
        let mut attributes = vec![
            KeyValue::new("gen_ai.usage.prompt_tokens", prompt.clone()),
            KeyValue::new("gen_ai.usage.input_tokens", prompt),
            KeyValue::new("gen_ai.usage.completion_tokens", int(usage.output_tokens)),
            KeyValue::new("gen_ai.usage.output_tokens", int(usage.output_tokens)),
            KeyValue::new("gen_ai.usage.total_tokens", int(usage.total_tokens)),
        ];
        let latest = conventions.latest();
        if let Some(tokens) = usage.cache_read_input_tokens {
            attributes.push(KeyValue::new(
                "gen_ai.usage.cache_read.input_tokens",
                int(tokens),
            ));
            if !latest {
                attributes.push(KeyValue::new(
                    "gen_ai.usage.cache_read_input_tokens",
                    int(tokens),
                ));
            }
        }
        if let Some(tokens) = usage.cache_write_input_tokens {
            attributes.push(KeyValue::new(
                "gen_ai.usage.cache_creation.input_tokens",
                int(tokens),
            ));
            if !latest {
                attributes.push(KeyValue::new(
                    "gen_ai.usage.cache_write_input_tokens",
                    int(tokens),
                ));
            }
        }
        if let Some(ttfb) = output.metrics.time_to_first_byte_ms.filter(|t| *t > 0) {
            attributes.push(KeyValue::new(
                "gen_ai.server.time_to_first_token",
                int(ttfb),
            ));
        }
        if output.metrics.latency_ms > 0 {
            attributes.push(KeyValue::new(
                "gen_ai.server.request.duration",
                int(output.metrics.latency_ms),
            ));
        }
        let finish_reason = output.stop_reason.as_str();
        let message = &output.message;
        if latest {
            let messages = serialize(&[json!({
                "role": message.role.as_str(),
                "parts": content::parts(&message.content),
                "finish_reason": finish_reason,
            })]);
            self.span
                .details(&self.telemetry, "gen_ai.output.messages", messages);
        } else {
            let text = serialize(&message.content);
            self.span.event(
                "gen_ai.choice",
                vec![
                    KeyValue::new("finish_reason", finish_reason),
                    KeyValue::new(
                        "message",
                        conventions.redact("gen_ai.output.messages", text),
                    ),
                ],
            );
        }
        self.span.end(attributes, None);
    }

    /// The attempt failed.
    pub(crate) fn fail(mut self, error: &ModelError) {
        let exception = PythonException::of_model_error(error);
        self.span
            .end(Vec::new(), Some(Failure::Exception(exception)));
    }
}

/// Starts tool spans under a cycle.
#[derive(Clone)]
pub(crate) struct ToolTracer {
    telemetry: Telemetry,
    attributes: Arc<[KeyValue]>,
    parent: Context,
}

impl std::fmt::Debug for ToolTracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolTracer").finish_non_exhaustive()
    }
}

/// One tool call's `execute_tool {name}` span.
pub(crate) struct ToolSpan {
    telemetry: Telemetry,
    span: SpanGuard,
    name: String,
}

impl ToolTracer {
    /// Python's `start_tool_call_span`, with the tool's description and schema when it exists.
    pub(crate) fn start(&self, tool_use: &ToolUse, tool: Option<&dyn Tool>) -> ToolSpan {
        let telemetry = &self.telemetry;
        let conventions = telemetry.conventions();
        let mut attributes = common(telemetry, "execute_tool");
        attributes.push(KeyValue::new("gen_ai.tool.name", tool_use.name.clone()));
        attributes.push(KeyValue::new(
            "gen_ai.tool.call.id",
            tool_use.tool_use_id.clone(),
        ));
        attributes.extend(self.attributes.iter().cloned());
        if let Some(tool) = tool {
            let spec = tool.spec();
            attributes.push(KeyValue::new(
                "gen_ai.tool.description",
                spec.description.clone(),
            ));
            attributes.push(KeyValue::new(
                "gen_ai.tool.json_schema",
                serialize(&spec.input_schema.json),
            ));
        }
        let span = SpanGuard::start(
            telemetry,
            format!("execute_tool {}", tool_use.name),
            &self.parent,
            attributes,
            // The input, the result.
            2,
        );
        if !span.recording {
            return ToolSpan {
                telemetry: telemetry.clone(),
                span,
                name: tool_use.name.clone(),
            };
        }
        let arguments = serialize(&tool_use.input);
        if conventions.latest() {
            span.cx.span().set_attribute(KeyValue::new(
                "gen_ai.tool.call.arguments",
                conventions.redact("gen_ai.tool.call.arguments", arguments),
            ));
            let messages = serialize(&[json!({
                "role": "tool",
                "parts": [{
                    "type": "tool_call",
                    "name": tool_use.name,
                    "id": tool_use.tool_use_id,
                    "arguments": tool_use.input,
                }],
            })]);
            span.details(telemetry, "gen_ai.input.messages", messages);
        } else {
            span.event(
                "gen_ai.tool.message",
                vec![
                    KeyValue::new("role", "tool"),
                    KeyValue::new(
                        "content",
                        conventions.redact("gen_ai.input.messages", arguments),
                    ),
                    KeyValue::new("id", tool_use.tool_use_id.clone()),
                ],
            );
        }
        ToolSpan {
            telemetry: telemetry.clone(),
            span,
            name: tool_use.name.clone(),
        }
    }
}

impl ToolSpan {
    /// The span's context, current while the tool runs.
    pub(crate) fn context(&self) -> &Context {
        &self.span.cx
    }

    /// The tool paused on an interrupt: the span ends without a result, as in Python.
    pub(crate) fn interrupted(mut self) {
        self.span.end(Vec::new(), None);
    }

    /// The tool's result (Python's `end_tool_call_span`) and its metrics.
    pub(crate) fn finish(mut self, result: &ToolResult, elapsed: Duration) {
        let telemetry = &self.telemetry;
        let conventions = telemetry.conventions();
        let status = if result.is_error() {
            "error"
        } else {
            "success"
        };
        let mut attributes = vec![KeyValue::new("gen_ai.tool.status", status)];
        telemetry
            .instruments()
            .tool_call(&self.name, !result.is_error(), elapsed);
        if !self.span.recording {
            self.span.end(attributes, None);
            return;
        }
        let content = serialize(&result.content);
        if conventions.latest() {
            if !result.is_error() {
                attributes.push(KeyValue::new(
                    "gen_ai.tool.call.result",
                    conventions.redact("gen_ai.tool.call.result", content),
                ));
            }
            let messages = serialize(&[json!({
                "role": "tool",
                "parts": [{
                    "type": "tool_call_response",
                    "id": result.tool_use_id,
                    "response": result.content,
                }],
            })]);
            self.span
                .details(telemetry, "gen_ai.output.messages", messages);
        } else {
            self.span.event(
                "gen_ai.choice",
                vec![
                    KeyValue::new(
                        "message",
                        conventions.redact("gen_ai.output.messages", content),
                    ),
                    KeyValue::new("id", result.tool_use_id.clone()),
                ],
            );
        }
        self.span.end(attributes, tool_failure(result));
    }
}

/// How an error result ends its span. A tool that failed (an `Err` from a `#[tool]`, a panic,
/// an unknown tool) is what Python sees as a raised exception: the span records it. A tool that
/// returned an error status itself only sets the status.
fn tool_failure(result: &ToolResult) -> Option<Failure> {
    if !result.is_error() {
        return None;
    }
    let text = result
        .content
        .iter()
        .find_map(|c| c.as_text())
        .unwrap_or("tool returned error status");
    let raised = text
        .strip_prefix("Error: ")
        .or_else(|| text.starts_with("Unknown tool: ").then_some(text));
    Some(match raised {
        Some(message) => Failure::Exception(PythonException {
            type_name: "Exception".to_owned(),
            message: message.to_owned(),
        }),
        None => Failure::Message(text.to_owned()),
    })
}
