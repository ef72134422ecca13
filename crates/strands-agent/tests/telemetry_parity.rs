//! Spans and metrics against Python Strands 1.62: `fixtures/telemetry/generate.py` ran the
//! Python SDK with OpenTelemetry's in-memory exporters over scenarios of `fixtures/parity` and
//! recorded the span tree and the metrics. The same scenarios run here with the SDK's in-memory
//! exporters, and everything is compared: names, tree, kinds, statuses, attributes, events and
//! metric points, with timestamps and ids masked as the generator masks them.
//!
//! The differences allowed are those listed in `docs/python-parity.md` (Telemetry): no
//! `exception.stacktrace`, the exception type of a failing tool (Python names the raised
//! class; a Rust tool returns an error, recorded as `Exception`), the schema of a tool span
//! (the normalised one), and no per-cycle or per-call ids on metric points. JSON-valued attributes are
//! compared parsed (key order is Python's dict order there, serde's here).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use opentelemetry::trace::{SpanId, Status};
use opentelemetry::{KeyValue, Value as OtelValue};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use pretty_assertions::assert_eq;
use serde_json::{Map, Value, json};
use strands_agent::telemetry::{Conventions, Telemetry};
use strands_agent::{Agent, AgentError, ModelRetryStrategy};
use strands_core::{Message, ModelError};
use strands_testkit::ScriptedModel;

use common::{Weather, add, fail, parity_script, stop_now};

fn load(path: &str) -> Value {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn python_error_type(error: &AgentError) -> &'static str {
    match error {
        AgentError::MaxTokensReached { .. } => "MaxTokensReachedException",
        AgentError::ContextWindowOverflow(_) => "ContextWindowOverflowException",
        AgentError::Model {
            source: ModelError::Throttled { .. },
            ..
        } => "ModelThrottledException",
        AgentError::StructuredOutput { .. } => "StructuredOutputException",
        other => panic!("no Python equivalent recorded for {other:?}"),
    }
}

/// Runs one case as the generator did and returns it in the generator's shape.
async fn run_case(case: &Value, opt_in: &str) -> Value {
    let scenario = load(&format!(
        "parity/{}.json",
        case["scenario"].as_str().unwrap()
    ));
    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    let telemetry = Telemetry::builder()
        .tracer_provider(&tracer_provider)
        .meter_provider(&meter_provider)
        .conventions(Conventions::parse(opt_in, false))
        .build();

    let retry = &scenario["agent"]["retry"];
    let handle = Arc::new(OnceLock::new());
    let mut builder = Agent::builder()
        .model(ScriptedModel::new(parity_script(&scenario)).with_model_id("scripted-parity-model"))
        .tool(add)
        .tool(fail)
        .tool(stop_now(handle.clone()))
        .retry_strategy(ModelRetryStrategy::new(
            u32::try_from(retry["max_attempts"].as_u64().unwrap()).unwrap(),
            Duration::from_secs_f64(retry["initial_delay"].as_f64().unwrap()),
            Duration::from_secs_f64(retry["max_delay"].as_f64().unwrap()),
        ))
        .telemetry(telemetry);
    if let Some(prompt) = scenario["agent"]["system_prompt"].as_str() {
        builder = builder.system_prompt(prompt);
    }
    if let Some(name) = case["agent_name"].as_str() {
        builder = builder.name(name);
    }
    if let Some(attributes) = case["trace_attributes"].as_object() {
        builder = builder.trace_attributes(attributes.iter().map(|(k, v)| key_value(k, v)));
    }
    let initial: Vec<Message> =
        serde_json::from_value(scenario["agent"]["initial_messages"].clone()).unwrap();
    let mut agent = builder.messages(initial).build().unwrap();
    handle.set(agent.cancel_handle()).unwrap();

    let mut errors = Vec::new();
    for (index, prompt) in scenario["prompts"].as_array().unwrap().iter().enumerate() {
        let prompt = prompt.as_str().unwrap();
        let kwargs = &scenario["invoke_kwargs"][index];
        let outcome = match kwargs["structured_output_model"].as_str() {
            Some("Weather") => agent.structured_output::<Weather>(prompt).await.map(drop),
            Some(other) => panic!("no Rust model for {other}"),
            None => agent.invoke(prompt).await.map(drop),
        };
        errors.push(outcome.err().map(|e| python_error_type(&e)));
    }
    tracer_provider.force_flush().unwrap();
    meter_provider.force_flush().unwrap();

    let mut out = case.as_object().unwrap().clone();
    out.insert("errors".into(), json!(errors));
    out.insert(
        "spans".into(),
        span_tree(&spans.get_finished_spans().unwrap()),
    );
    out.insert("metrics".into(), metric_dump(&metrics));
    Value::Object(out)
}

fn key_value(key: &str, value: &Value) -> KeyValue {
    let key = key.to_owned();
    match value {
        Value::String(s) => KeyValue::new(key, s.clone()),
        Value::Bool(b) => KeyValue::new(key, *b),
        Value::Number(n) if n.is_i64() => KeyValue::new(key, n.as_i64().unwrap()),
        Value::Number(n) => KeyValue::new(key, n.as_f64().unwrap()),
        other => panic!("unsupported trace attribute {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The generator's shapes and masks

fn is_python_utc_iso(text: &str) -> bool {
    let b = text.as_bytes();
    text.len() >= 25
        && text.ends_with("+00:00")
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit() && !c.is_ascii_uppercase()
            }
        })
}

fn mask(key: &str, value: Value) -> Value {
    match &value {
        Value::String(s)
            if matches!(key, "gen_ai.event.start_time" | "gen_ai.event.end_time")
                && is_python_utc_iso(s) =>
        {
            json!("<time>")
        }
        Value::String(s)
            if matches!(
                key,
                "event_loop.cycle_id" | "event_loop.parent_cycle_id" | "event_loop_cycle_id"
            ) && is_uuid(s) =>
        {
            json!("<uuid>")
        }
        _ => value,
    }
}

fn otel_value(value: &OtelValue) -> Value {
    match value {
        OtelValue::Bool(b) => json!(b),
        OtelValue::I64(i) => json!(i),
        OtelValue::F64(f) => json!(f),
        OtelValue::String(s) => json!(s.as_str()),
        other => json!(other.to_string()),
    }
}

fn attributes<'a>(attrs: impl IntoIterator<Item = &'a KeyValue>) -> Value {
    let sorted: BTreeMap<String, Value> = attrs
        .into_iter()
        .map(|kv| {
            let key = kv.key.as_str().to_owned();
            let value = mask(&key, otel_value(&kv.value));
            (key, value)
        })
        .collect();
    let map: Map<String, Value> = sorted.into_iter().collect();
    Value::Object(map)
}

fn span_tree(spans: &[SpanData]) -> Value {
    let ids: Vec<SpanId> = spans.iter().map(|s| s.span_context.span_id()).collect();
    let mut children: HashMap<Option<SpanId>, Vec<&SpanData>> = HashMap::new();
    for span in spans {
        let parent = Some(span.parent_span_id).filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(span);
    }
    Value::Array(ordered(&children, None))
}

fn ordered(
    children: &HashMap<Option<SpanId>, Vec<&SpanData>>,
    parent: Option<SpanId>,
) -> Vec<Value> {
    let mut siblings = children.get(&parent).cloned().unwrap_or_default();
    siblings.sort_by_key(|s| s.start_time);
    let mut tools: Vec<&SpanData> = siblings
        .iter()
        .copied()
        .filter(|s| s.name.starts_with("execute_tool "))
        .collect();
    tools.sort_by_key(|s| call_id(s));
    let mut tools = tools.into_iter();
    siblings
        .into_iter()
        .map(|s| {
            if s.name.starts_with("execute_tool ") {
                tools.next().unwrap()
            } else {
                s
            }
        })
        .map(|s| node(children, s))
        .collect()
}

fn call_id(span: &SpanData) -> String {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == "gen_ai.tool.call.id")
        .map(|kv| kv.value.to_string())
        .unwrap_or_default()
}

fn node(children: &HashMap<Option<SpanId>, Vec<&SpanData>>, span: &SpanData) -> Value {
    let status = match &span.status {
        Status::Unset => json!({"code": "UNSET", "description": null}),
        Status::Ok => json!({"code": "OK", "description": null}),
        Status::Error { description } => json!({"code": "ERROR", "description": description}),
    };
    let events: Vec<Value> = span
        .events
        .iter()
        .map(|e| json!({"name": e.name, "attributes": attributes(&e.attributes)}))
        .collect();
    json!({
        "name": span.name,
        "kind": format!("{:?}", span.span_kind).to_uppercase(),
        "status": status,
        "attributes": attributes(&span.attributes),
        "events": events,
        "children": ordered(children, Some(span.span_context.span_id())),
    })
}

/// A metric value as Python's JSON has it: integers for integral values.
trait Number: Copy {
    fn json(self) -> Value;
}

impl Number for u64 {
    fn json(self) -> Value {
        json!(self)
    }
}

impl Number for f64 {
    fn json(self) -> Value {
        json!(self)
    }
}

fn points<T: Number>(name: &str, data: &MetricData<T>) -> (&'static str, Vec<Value>) {
    let clock = matches!(
        name,
        "strands.event_loop.cycle_duration" | "strands.tool.duration"
    );
    let number = T::json;
    match data {
        MetricData::Sum(sum) => (
            "Sum",
            sum.data_points()
                .map(|p| json!({"attributes": attributes(p.attributes()), "value": number(p.value())}))
                .collect(),
        ),
        MetricData::Histogram(histogram) => (
            "Histogram",
            histogram
                .data_points()
                .map(|p| {
                    let mut point = json!({"attributes": attributes(p.attributes()), "count": p.count()});
                    if !clock {
                        point["sum"] = number(p.sum());
                    }
                    point
                })
                .collect(),
        ),
        _ => panic!("unexpected metric data for {name}"),
    }
}

fn metric_dump(exporter: &InMemoryMetricExporter) -> Value {
    let mut out = Vec::new();
    let exported = exporter.get_finished_metrics().unwrap();
    let Some(last) = exported.last() else {
        return json!([]);
    };
    for scope in last.scope_metrics() {
        for metric in scope.metrics() {
            let (kind, mut points) = match metric.data() {
                AggregatedMetrics::U64(data) => points(metric.name(), data),
                AggregatedMetrics::F64(data) => points(metric.name(), data),
                AggregatedMetrics::I64(_) => panic!("no i64 instrument expected"),
            };
            points.sort_by_key(|p| strands_core::json::to_python_string(&p["attributes"]).unwrap());
            if points.is_empty() {
                continue;
            }
            out.push(json!({
                "scope": scope.scope().name(),
                "name": metric.name(),
                "unit": metric.unit(),
                "type": kind,
                "points": points,
            }));
        }
    }
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Value::Array(out)
}

// ---------------------------------------------------------------------------------------------
// Comparison

/// Parses JSON text held in string values, so JSON-valued attributes compare by content.
fn parse_json_strings(value: &mut Value) {
    match value {
        Value::String(text) if text.starts_with('[') || text.starts_with('{') => {
            if let Ok(parsed) = serde_json::from_str::<Value>(text) {
                *value = parsed;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(parse_json_strings),
        Value::Object(map) => map.values_mut().for_each(parse_json_strings),
        _ => {}
    }
}

/// The documented differences, applied to Python's side.
fn allow_documented_differences(span: &mut Value) {
    let is_tool = span["name"].as_str().unwrap().starts_with("execute_tool ");
    for event in span["events"].as_array_mut().unwrap() {
        if event["name"] == "exception" {
            let attributes = event["attributes"].as_object_mut().unwrap();
            attributes.remove("exception.stacktrace");
            if is_tool {
                attributes.insert("exception.type".into(), json!("Exception"));
            }
        }
    }
    for child in span["children"].as_array_mut().unwrap() {
        allow_documented_differences(child);
    }
}

/// The documented difference on our side: a tool span's `gen_ai.tool.json_schema` is the
/// schema the model received, whose properties without a description have Python's
/// normalized `"Property {name}"` (Python's span records the tool's raw spec).
fn drop_normalized_descriptions(span: &mut Value) {
    if let Some(Value::Object(properties)) =
        span.pointer_mut("/attributes/gen_ai.tool.json_schema/properties")
    {
        for (name, property) in properties.iter_mut() {
            let normalized = format!("Property {name}");
            if let Some(property) = property.as_object_mut()
                && property.get("description").and_then(Value::as_str) == Some(normalized.as_str())
            {
                property.remove("description");
            }
        }
    }
    for child in span["children"].as_array_mut().unwrap() {
        drop_normalized_descriptions(child);
    }
}

/// The documented difference in metrics: no per-cycle `event_loop_cycle_id` and no per-call
/// `tool_use_id` attribute, so Python's points that differ only by those merge (counts, values
/// and sums added).
fn merge_per_call_series(metrics: &mut Value) {
    for metric in metrics.as_array_mut().unwrap() {
        let mut merged: Vec<Value> = Vec::new();
        for mut point in metric["points"].as_array().unwrap().clone() {
            let attributes = point["attributes"].as_object_mut().unwrap();
            attributes.remove("event_loop_cycle_id");
            attributes.remove("tool_use_id");
            match merged
                .iter_mut()
                .find(|p| p["attributes"] == point["attributes"])
            {
                Some(into) => {
                    for key in ["value", "count", "sum"] {
                        if let (Some(a), Some(b)) = (into[key].as_f64(), point[key].as_f64()) {
                            into[key] = if into[key].is_u64() && point[key].is_u64() {
                                json!(into[key].as_u64().unwrap() + point[key].as_u64().unwrap())
                            } else {
                                json!(a + b)
                            };
                        }
                    }
                }
                None => merged.push(point),
            }
        }
        metric["points"] = Value::Array(merged);
    }
}

/// Removes what only the clock decides: time to first token is a span attribute and a metric
/// only when the first stream event took a millisecond or more, on both stacks, which a busy
/// machine makes happen at random.
fn drop_wall_clock(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.shift_remove("gen_ai.server.time_to_first_token");
            map.values_mut().for_each(drop_wall_clock);
        }
        Value::Array(items) => {
            items.retain(|item| item["name"] != "strands.model.time_to_first_token");
            items.iter_mut().for_each(drop_wall_clock);
        }
        _ => {}
    }
}

async fn assert_matches_python(fixture: &str, opt_in: &str) {
    let expected = load(&format!("telemetry/{fixture}.json"));
    assert_eq!(expected["strands_version"], "1.62.0");
    for case in expected["cases"].as_array().unwrap() {
        let mut want = case.clone();
        for span in want["spans"].as_array_mut().unwrap() {
            allow_documented_differences(span);
        }
        merge_per_call_series(&mut want["metrics"]);
        parse_json_strings(&mut want);
        let mut got = run_case(case, opt_in).await;
        parse_json_strings(&mut got);
        for span in got["spans"].as_array_mut().unwrap() {
            drop_normalized_descriptions(span);
        }
        drop_wall_clock(&mut got);
        drop_wall_clock(&mut want);
        let name = case["case"].as_str().unwrap();
        assert_eq!(got["errors"], want["errors"], "{fixture}/{name}: errors");
        assert_eq!(got["spans"], want["spans"], "{fixture}/{name}: spans");
        assert_eq!(got["metrics"], want["metrics"], "{fixture}/{name}: metrics");
    }
}

#[tokio::test]
async fn spans_and_metrics_match_python_with_default_conventions() {
    assert_matches_python("legacy", "").await;
}

#[tokio::test]
async fn spans_and_metrics_match_python_with_latest_conventions() {
    assert_matches_python(
        "latest",
        "gen_ai_latest_experimental,gen_ai_tool_definitions",
    )
    .await;
}
