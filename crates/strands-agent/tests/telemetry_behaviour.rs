//! Telemetry beyond what Python's oracle covers: nothing is recorded without a `Telemetry`, a
//! caller's context is the parent, tools and models run with their span current (so log lines
//! and nested spans join the trace), and a dropped stream ends its spans as cancelled.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer, TracerProvider,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use strands_agent::telemetry::{Conventions, Telemetry};
use strands_agent::tools::FunctionTool;
use strands_agent::{Agent, AgentEvent};
use strands_testkit::ScriptedModel;

fn telemetry() -> (Telemetry, InMemorySpanExporter, SdkTracerProvider) {
    let spans = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let telemetry = Telemetry::builder()
        .tracer_provider(&provider)
        .meter_provider(&SdkMeterProvider::default())
        .conventions(Conventions::parse("", false))
        .build();
    (telemetry, spans, provider)
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name}"))
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a opentelemetry::Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

#[tokio::test]
async fn without_telemetry_nothing_is_recorded_even_with_a_global_provider() {
    let spans = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    let mut agent = Agent::builder()
        .model(ScriptedModel::builder().text("hi").build())
        .build()
        .unwrap();
    agent.invoke("hello").await.unwrap();
    provider.force_flush().unwrap();
    assert!(spans.get_finished_spans().unwrap().is_empty());
}

#[tokio::test]
async fn the_callers_context_is_the_parent_and_tools_run_inside_their_span() {
    let (telemetry, spans, provider) = telemetry();
    let seen: Arc<Mutex<Option<SpanId>>> = Arc::default();
    let seen_in_tool = seen.clone();
    let probe = FunctionTool::new(
        "probe",
        "Records the current span.",
        move |_: common::NoArgs| {
            let current = Context::current().span().span_context().span_id();
            *seen_in_tool.lock().unwrap() = Some(current);
            async { "ok" }
        },
    );
    let mut agent = Agent::builder()
        .model(
            ScriptedModel::builder()
                .tool_use("t1", "probe", "{}")
                .text("done")
                .build(),
        )
        .tool(probe)
        .trace_attributes([KeyValue::new("user.id", "u-1")])
        .telemetry(telemetry)
        .build()
        .unwrap();
    let remote = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let parent = Context::new().with_remote_span_context(remote.clone());
    {
        let _attached = parent.attach();
        agent.invoke("probe it").await.unwrap();
    }
    provider.force_flush().unwrap();
    let spans = spans.get_finished_spans().unwrap();
    let agent_span = named(&spans, "invoke_agent Strands Agents");
    assert_eq!(agent_span.parent_span_id, remote.span_id());
    assert_eq!(agent_span.span_context.trace_id(), remote.trace_id());
    let tool = named(&spans, "execute_tool probe");
    assert_eq!(*seen.lock().unwrap(), Some(tool.span_context.span_id()));
    for span in &spans {
        assert_eq!(span.span_context.trace_id(), remote.trace_id());
        assert_eq!(
            attribute(span, "user.id")
                .map(ToString::to_string)
                .as_deref(),
            Some("u-1"),
            "{}",
            span.name
        );
    }
}

#[tokio::test]
async fn a_dropped_stream_ends_its_open_spans_as_cancelled() {
    let (telemetry, spans, provider) = telemetry();
    let slow = FunctionTool::new(
        "slow",
        "Never finishes in time.",
        |_: common::NoArgs| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            "late"
        },
    );
    let mut agent = Agent::builder()
        .model(
            ScriptedModel::builder()
                .tool_use("t1", "slow", "{}")
                .text("never")
                .build(),
        )
        .tool(slow)
        .telemetry(telemetry)
        .build()
        .unwrap();
    {
        let mut events = std::pin::pin!(agent.stream("go"));
        while let Some(event) = events.next().await {
            if matches!(event.unwrap(), AgentEvent::ToolStart { .. }) {
                // The tool runs (and sleeps) while the stream is polled; then it is dropped.
                let _ = tokio::time::timeout(Duration::from_millis(200), events.next()).await;
                break;
            }
        }
    }
    provider.force_flush().unwrap();
    let spans = spans.get_finished_spans().unwrap();
    for name in [
        "invoke_agent Strands Agents",
        "execute_event_loop_cycle",
        "execute_tool slow",
    ] {
        let span = named(&spans, name);
        assert_eq!(
            attribute(span, "strands.cancellation.type").map(ToString::to_string),
            Some("CancelledError".to_owned()),
            "{name}"
        );
        assert_eq!(span.status, opentelemetry::trace::Status::Unset, "{name}");
    }
    // The model call had finished: it ended normally.
    assert_eq!(
        named(&spans, "chat").status,
        opentelemetry::trace::Status::Ok
    );
}

#[tokio::test]
async fn the_process_default_is_taken_by_agents_built_after_it() {
    let (telemetry, spans, provider) = telemetry();
    let before = Agent::builder()
        .model(ScriptedModel::builder().text("a").build())
        .name("before")
        .build()
        .unwrap();
    Telemetry::set_default(Some(telemetry));
    assert!(Telemetry::default_is_set());
    let mut after = Agent::builder()
        .model(ScriptedModel::builder().text("b").build())
        .name("after")
        .build()
        .unwrap();
    Telemetry::set_default(None);
    assert!(!Telemetry::default_is_set());
    let mut before = before;
    before.invoke("x").await.unwrap();
    after.invoke("y").await.unwrap();
    provider.force_flush().unwrap();
    let names: Vec<String> = spans
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .map(|s| s.name.into_owned())
        .collect();
    assert!(names.contains(&"invoke_agent after".to_owned()));
    assert!(!names.contains(&"invoke_agent before".to_owned()));
    // A tracer from the same provider still works: the SDK is not shut down by the agent.
    let _ = provider.tracer("check").start("check");
}
