//! OTLP's trace request (`ExportTraceServiceRequest`) written straight from the SDK's spans as
//! protobuf: the bytes `opentelemetry-otlp` sends, without first copying every span, attribute
//! and event into `opentelemetry-proto`'s owned messages (that copy was most of the exporter's
//! cost). Each message knows its size, so the body is written once into a buffer of exactly
//! that size.
//!
//! Field numbers are those of `opentelemetry/proto/{collector/trace,trace,common,resource}/v1`;
//! as in proto3, a scalar field at its default value is left out, while a oneof member and a
//! present message are always written.

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;

const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LEN: u64 = 2;
const FIXED32: u64 = 5;

/// The span flag bits OTLP adds to the W3C trace flags: whether the parent's remoteness is
/// known (always, here), and whether the parent is remote.
const HAS_IS_REMOTE: u32 = 0x100;
const IS_REMOTE: u32 = 0x200;

fn varint_len(mut value: u64) -> usize {
    let mut len = 1;
    while value >= 0x80 {
        value >>= 7;
        len += 1;
    }
    len
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        #[expect(clippy::cast_possible_truncation, reason = "the low seven bits")]
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    #[expect(clippy::cast_possible_truncation, reason = "below 0x80")]
    out.push(value as u8);
}

fn put_tag(out: &mut Vec<u8>, field: u64, wire: u64) {
    put_varint(out, (field << 3) | wire);
}

/// A protobuf message: its encoded size, and its encoding (without tag or length).
trait Message {
    fn len(&self) -> usize;
    fn write(&self, out: &mut Vec<u8>);
}

/// Size of a length-delimited field of `len` bytes (every field number here is below 16: a
/// one-byte tag).
fn delimited_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

fn put_message(out: &mut Vec<u8>, field: u64, message: &impl Message) {
    put_tag(out, field, LEN);
    put_varint(out, message.len() as u64);
    message.write(out);
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_tag(out, field, LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A string or bytes field, left out when empty.
fn bytes_len(bytes: &[u8]) -> usize {
    if bytes.is_empty() {
        0
    } else {
        delimited_len(bytes.len())
    }
}

fn put_nonempty(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    if !bytes.is_empty() {
        put_bytes(out, field, bytes);
    }
}

/// A `uint32`/`enum` field, left out when zero.
fn uint_len(value: u64) -> usize {
    if value == 0 { 0 } else { 1 + varint_len(value) }
}

fn put_uint(out: &mut Vec<u8>, field: u64, value: u64) {
    if value != 0 {
        put_tag(out, field, VARINT);
        put_varint(out, value);
    }
}

/// A `fixed64` field, left out when zero (tags of fields 7, 8 and 1 are one byte).
fn fixed64_len(value: u64) -> usize {
    if value == 0 { 0 } else { 9 }
}

fn put_fixed64(out: &mut Vec<u8>, field: u64, value: u64) {
    if value != 0 {
        put_tag(out, field, FIXED64);
        out.extend_from_slice(&value.to_le_bytes());
    }
}

fn nanos(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// `AnyValue`.
struct Any<'a>(&'a Value);

impl Message for Any<'_> {
    fn len(&self) -> usize {
        match self.0 {
            Value::Bool(_) => 2,
            Value::I64(v) => 1 + varint_len(*v as u64),
            Value::F64(_) => 9,
            Value::String(s) => delimited_len(s.as_str().len()),
            Value::Array(array) => delimited_len(array_len(array)),
            other => delimited_len(other.to_string().len()),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self.0 {
            Value::Bool(v) => {
                put_tag(out, 2, VARINT);
                out.push(u8::from(*v));
            }
            Value::I64(v) => {
                put_tag(out, 3, VARINT);
                put_varint(out, *v as u64);
            }
            Value::F64(v) => {
                put_tag(out, 4, FIXED64);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Value::String(s) => put_bytes(out, 1, s.as_str().as_bytes()),
            Value::Array(array) => {
                put_tag(out, 5, LEN);
                put_varint(out, array_len(array) as u64);
                write_array(out, array);
            }
            // A value kind newer than this encoder: its text.
            other => put_bytes(out, 1, other.to_string().as_bytes()),
        }
    }
}

/// The elements of an array, each an `AnyValue` of the same kind (`ArrayValue.values`).
fn array_values(array: &Array) -> Vec<Value> {
    match array {
        Array::Bool(v) => v.iter().copied().map(Value::Bool).collect(),
        Array::I64(v) => v.iter().copied().map(Value::I64).collect(),
        Array::F64(v) => v.iter().copied().map(Value::F64).collect(),
        Array::String(v) => v.iter().cloned().map(Value::String).collect(),
        other => vec![Value::String(other.to_string().into())],
    }
}

fn array_len(array: &Array) -> usize {
    array_values(array)
        .iter()
        .map(|v| delimited_len(Any(v).len()))
        .sum()
}

fn write_array(out: &mut Vec<u8>, array: &Array) {
    for value in &array_values(array) {
        put_message(out, 1, &Any(value));
    }
}

/// `KeyValue`: `key` (1) and `value` (2).
struct Attribute<'a>(&'a str, &'a Value);

impl Message for Attribute<'_> {
    fn len(&self) -> usize {
        bytes_len(self.0.as_bytes()) + delimited_len(Any(self.1).len())
    }

    fn write(&self, out: &mut Vec<u8>) {
        put_nonempty(out, 1, self.0.as_bytes());
        put_message(out, 2, &Any(self.1));
    }
}

fn attributes_len(attributes: &[KeyValue]) -> usize {
    attributes
        .iter()
        .map(|kv| delimited_len(Attribute(kv.key.as_str(), &kv.value).len()))
        .sum()
}

fn put_attributes(out: &mut Vec<u8>, field: u64, attributes: &[KeyValue]) {
    for kv in attributes {
        put_message(out, field, &Attribute(kv.key.as_str(), &kv.value));
    }
}

/// `Span.Event`.
struct Event<'a>(&'a opentelemetry::trace::Event);

impl Message for Event<'_> {
    fn len(&self) -> usize {
        let e = self.0;
        fixed64_len(nanos(e.timestamp))
            + bytes_len(e.name.as_bytes())
            + attributes_len(&e.attributes)
            + uint_len(u64::from(e.dropped_attributes_count))
    }

    fn write(&self, out: &mut Vec<u8>) {
        let e = self.0;
        put_fixed64(out, 1, nanos(e.timestamp));
        put_nonempty(out, 2, e.name.as_bytes());
        put_attributes(out, 3, &e.attributes);
        put_uint(out, 4, u64::from(e.dropped_attributes_count));
    }
}

fn flags(trace_flags: opentelemetry::trace::TraceFlags, remote: bool) -> u32 {
    let flags = u32::from(trace_flags.to_u8()) | HAS_IS_REMOTE;
    if remote { flags | IS_REMOTE } else { flags }
}

/// `Span.Link`.
struct Link<'a>(&'a opentelemetry::trace::Link);

impl Link<'_> {
    fn trace_state(&self) -> String {
        self.0.span_context.trace_state().header()
    }
}

impl Message for Link<'_> {
    fn len(&self) -> usize {
        let link = self.0;
        delimited_len(16)
            + delimited_len(8)
            + bytes_len(self.trace_state().as_bytes())
            + attributes_len(&link.attributes)
            + uint_len(u64::from(link.dropped_attributes_count))
            + 5
    }

    fn write(&self, out: &mut Vec<u8>) {
        let link = self.0;
        let context = &link.span_context;
        put_bytes(out, 1, &context.trace_id().to_bytes());
        put_bytes(out, 2, &context.span_id().to_bytes());
        put_nonempty(out, 3, self.trace_state().as_bytes());
        put_attributes(out, 4, &link.attributes);
        put_uint(out, 5, u64::from(link.dropped_attributes_count));
        put_tag(out, 6, FIXED32);
        let flags = flags(context.trace_flags(), context.is_remote());
        out.extend_from_slice(&flags.to_le_bytes());
    }
}

/// `Status`: `message` (2) and `code` (3).
struct StatusMessage<'a>(&'a Status);

impl StatusMessage<'_> {
    fn parts(&self) -> (&str, u64) {
        match self.0 {
            Status::Unset => ("", 0),
            Status::Ok => ("", 1),
            Status::Error { description } => (description.as_ref(), 2),
        }
    }
}

impl Message for StatusMessage<'_> {
    fn len(&self) -> usize {
        let (message, code) = self.parts();
        bytes_len(message.as_bytes()) + uint_len(code)
    }

    fn write(&self, out: &mut Vec<u8>) {
        let (message, code) = self.parts();
        put_nonempty(out, 2, message.as_bytes());
        put_uint(out, 3, code);
    }
}

fn kind(kind: &SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

/// `Span`, with its trace state's header computed once.
struct SpanMessage<'a> {
    span: &'a SpanData,
    trace_state: String,
}

impl<'a> SpanMessage<'a> {
    fn new(span: &'a SpanData) -> Self {
        Self {
            span,
            trace_state: span.span_context.trace_state().header(),
        }
    }

    fn has_parent(&self) -> bool {
        self.span.parent_span_id != opentelemetry::trace::SpanId::INVALID
    }
}

impl Message for SpanMessage<'_> {
    fn len(&self) -> usize {
        let span = self.span;
        let events: usize = span
            .events
            .iter()
            .map(|e| delimited_len(Event(e).len()))
            .sum();
        let links: usize = span
            .links
            .iter()
            .map(|l| delimited_len(Link(l).len()))
            .sum();
        delimited_len(16)
            + delimited_len(8)
            + bytes_len(self.trace_state.as_bytes())
            + if self.has_parent() { delimited_len(8) } else { 0 }
            + bytes_len(span.name.as_bytes())
            + uint_len(kind(&span.span_kind))
            + fixed64_len(nanos(span.start_time))
            + fixed64_len(nanos(span.end_time))
            + attributes_len(&span.attributes)
            + uint_len(u64::from(span.dropped_attributes_count))
            + events
            + uint_len(u64::from(span.events.dropped_count))
            + links
            + uint_len(u64::from(span.links.dropped_count))
            + delimited_len(StatusMessage(&span.status).len())
            // `flags` is field 16: a two-byte tag.
            + 2
            + 4
    }

    fn write(&self, out: &mut Vec<u8>) {
        let span = self.span;
        let context = &span.span_context;
        put_bytes(out, 1, &context.trace_id().to_bytes());
        put_bytes(out, 2, &context.span_id().to_bytes());
        put_nonempty(out, 3, self.trace_state.as_bytes());
        if self.has_parent() {
            put_bytes(out, 4, &span.parent_span_id.to_bytes());
        }
        put_nonempty(out, 5, span.name.as_bytes());
        put_uint(out, 6, kind(&span.span_kind));
        put_fixed64(out, 7, nanos(span.start_time));
        put_fixed64(out, 8, nanos(span.end_time));
        put_attributes(out, 9, &span.attributes);
        put_uint(out, 10, u64::from(span.dropped_attributes_count));
        for event in span.events.iter() {
            put_message(out, 11, &Event(event));
        }
        put_uint(out, 12, u64::from(span.events.dropped_count));
        for link in span.links.iter() {
            put_message(out, 13, &Link(link));
        }
        put_uint(out, 14, u64::from(span.links.dropped_count));
        put_message(out, 15, &StatusMessage(&span.status));
        // Last, in field order, as prost writes it.
        put_tag(out, 16, FIXED32);
        let flags = flags(context.trace_flags(), span.parent_span_is_remote);
        out.extend_from_slice(&flags.to_le_bytes());
    }
}

/// `InstrumentationScope`: name, version, attributes.
struct Scope<'a>(&'a InstrumentationScope);

impl Message for Scope<'_> {
    fn len(&self) -> usize {
        let scope = self.0;
        bytes_len(scope.name().as_bytes())
            + bytes_len(scope.version().unwrap_or_default().as_bytes())
            + scope
                .attributes()
                .map(|kv| delimited_len(Attribute(kv.key.as_str(), &kv.value).len()))
                .sum::<usize>()
    }

    fn write(&self, out: &mut Vec<u8>) {
        let scope = self.0;
        put_nonempty(out, 1, scope.name().as_bytes());
        put_nonempty(out, 2, scope.version().unwrap_or_default().as_bytes());
        for kv in scope.attributes() {
            put_message(out, 3, &Attribute(kv.key.as_str(), &kv.value));
        }
    }
}

/// `ScopeSpans`: one scope's spans of the batch.
struct ScopeSpans<'a> {
    scope: &'a InstrumentationScope,
    spans: Vec<SpanMessage<'a>>,
}

impl Message for ScopeSpans<'_> {
    fn len(&self) -> usize {
        delimited_len(Scope(self.scope).len())
            + self
                .spans
                .iter()
                .map(|s| delimited_len(s.len()))
                .sum::<usize>()
            + bytes_len(self.scope.schema_url().unwrap_or_default().as_bytes())
    }

    fn write(&self, out: &mut Vec<u8>) {
        put_message(out, 1, &Scope(self.scope));
        for span in &self.spans {
            put_message(out, 2, span);
        }
        put_nonempty(
            out,
            3,
            self.scope.schema_url().unwrap_or_default().as_bytes(),
        );
    }
}

/// The resource every request carries, encoded once: `ResourceSpans.resource` (field 1) and
/// `ResourceSpans.schema_url` (field 3).
#[derive(Debug, Default)]
pub(super) struct EncodedResource {
    resource: Vec<u8>,
    schema_url: String,
}

impl EncodedResource {
    pub(super) fn new(resource: &Resource) -> Self {
        let mut body = Vec::new();
        for (key, value) in resource.iter() {
            put_message(&mut body, 1, &Attribute(key.as_str(), value));
        }
        Self {
            resource: body,
            schema_url: resource.schema_url().unwrap_or_default().to_owned(),
        }
    }

    fn len(&self) -> usize {
        delimited_len(self.resource.len()) + bytes_len(self.schema_url.as_bytes())
    }
}

/// `ExportTraceServiceRequest` for `spans`: one `ResourceSpans`, one `ScopeSpans` per scope in
/// the order scopes first appear.
pub(super) fn trace_request(resource: &EncodedResource, spans: &[SpanData]) -> Vec<u8> {
    let mut scopes: Vec<ScopeSpans<'_>> = Vec::new();
    for span in spans {
        let scope = &span.instrumentation_scope;
        let message = SpanMessage::new(span);
        match scopes.iter_mut().find(|s| s.scope == scope) {
            Some(group) => group.spans.push(message),
            None => scopes.push(ScopeSpans {
                scope,
                spans: vec![message],
            }),
        }
    }
    let scope_lens: Vec<usize> = scopes.iter().map(Message::len).collect();
    let resource_spans =
        resource.len() + scope_lens.iter().map(|l| delimited_len(*l)).sum::<usize>();
    let mut out = Vec::with_capacity(delimited_len(resource_spans));
    put_tag(&mut out, 1, LEN);
    put_varint(&mut out, resource_spans as u64);
    put_bytes(&mut out, 1, &resource.resource);
    for (scope, len) in scopes.iter().zip(scope_lens) {
        put_tag(&mut out, 2, LEN);
        put_varint(&mut out, len as u64);
        scope.write(&mut out);
    }
    put_nonempty(&mut out, 3, resource.schema_url.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::{Duration, SystemTime};

    use opentelemetry::trace::{
        Event as ApiEvent, Link as ApiLink, SpanContext, SpanId, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use prost::Message as _;

    use super::*;

    fn context(trace: u128, span: u64, remote: bool, state: &str) -> SpanContext {
        SpanContext::new(
            TraceId::from(trace),
            SpanId::from(span),
            TraceFlags::SAMPLED,
            remote,
            state.parse::<TraceState>().unwrap_or_default(),
        )
    }

    fn span(name: &'static str, scope: &InstrumentationScope, parent: u64) -> SpanData {
        let start = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_764_000_000_123_456_789);
        let mut events = SpanEvents::default();
        events.events.push(ApiEvent::new(
            "gen_ai.user.message",
            start + Duration::from_micros(5),
            vec![KeyValue::new("content", r#"[{"text": "héllo"}]"#)],
            2,
        ));
        events.events.push(ApiEvent::with_name(""));
        events.dropped_count = 1;
        let mut links = SpanLinks::default();
        links
            .links
            .push(ApiLink::with_context(context(7, 8, true, "k=v")));
        SpanData {
            span_context: context(
                0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
                9,
                false,
                "a=1,b=2",
            ),
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: parent == 0x00f0_67aa_0ba9_02b7,
            span_kind: if parent == 0 {
                SpanKind::Server
            } else {
                SpanKind::Internal
            },
            name: Cow::Borrowed(name),
            start_time: start,
            end_time: start + Duration::from_millis(3),
            attributes: vec![
                KeyValue::new("gen_ai.operation.name", "chat"),
                KeyValue::new("gen_ai.usage.input_tokens", 12_i64),
                KeyValue::new("negative", -3_i64),
                KeyValue::new("zero", 0_i64),
                KeyValue::new("flag", false),
                KeyValue::new("ratio", 0.25),
                KeyValue::new("empty", ""),
                KeyValue::new("", "no key"),
                KeyValue::new(
                    "names",
                    Value::Array(Array::String(vec!["a".into(), "".into()])),
                ),
                KeyValue::new("ints", Value::Array(Array::I64(vec![1, -1, 0]))),
                KeyValue::new("bools", Value::Array(Array::Bool(vec![true]))),
                KeyValue::new("floats", Value::Array(Array::F64(vec![]))),
            ],
            dropped_attributes_count: 4,
            events,
            links,
            status: match parent {
                0 => Status::Unset,
                1 => Status::Ok,
                _ => Status::error("tool failed: ünïcode"),
            },
            instrumentation_scope: scope.clone(),
        }
    }

    /// What opentelemetry-otlp's HTTP exporter sends for the same spans.
    fn reference(resource: &Resource, spans: &[SpanData]) -> ExportTraceServiceRequest {
        let resource = ResourceAttributesWithSchema::from(resource);
        ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(spans.to_vec(), &resource),
        }
    }

    #[test]
    fn the_request_is_byte_for_byte_what_opentelemetry_otlp_sends() {
        let strands = InstrumentationScope::builder("strands.telemetry.tracer").build();
        let runtime = InstrumentationScope::builder("strands-runtime")
            .with_version("0.1.0")
            .with_schema_url("https://opentelemetry.io/schemas/1.30.0")
            .with_attributes([KeyValue::new("scope.attr", 1_i64)])
            .build();
        let spans = vec![
            span("chat", &strands, 1),
            span("POST /invocations", &runtime, 0),
            span("execute_tool add", &strands, 0x00f0_67aa_0ba9_02b7),
            span("invoke_agent Strands Agents", &strands, 2),
        ];
        let resources = [
            Resource::builder_empty().build(),
            Resource::builder()
                .with_service_name("strands-agents")
                .with_attribute(KeyValue::new("cloud.region", "us-east-1"))
                .with_schema_url([], "https://opentelemetry.io/schemas/1.30.0")
                .build(),
        ];
        for resource in &resources {
            let expected = reference(resource, &spans);
            let ours = trace_request(&EncodedResource::new(resource), &spans);
            assert_eq!(
                ExportTraceServiceRequest::decode(ours.as_slice()).unwrap(),
                expected
            );
            assert_eq!(ours, expected.encode_to_vec());
        }
        let empty = trace_request(&EncodedResource::new(&resources[1]), &[]);
        assert_eq!(
            empty,
            reference(&resources[1], &[]).encode_to_vec(),
            "no spans, one resource"
        );
    }
}
