//! OTLP's trace request (`ExportTraceServiceRequest`) written straight from the SDK's spans as
//! protobuf: the bytes `opentelemetry-otlp` sends, without first copying every span, attribute
//! and event into `opentelemetry-proto`'s owned messages (that copy was most of the exporter's
//! cost). The sizes of the nested messages are measured once, then the body is written into a
//! buffer of exactly its size.
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

/// Size of a length-delimited field of `len` bytes (every field number here below 16 has a
/// one-byte tag).
fn delimited_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// The sizes of the nested messages of a request, measured once, in the order `write` meets
/// them (each message's own size before those of the messages inside it).
#[derive(Default)]
struct Sizes {
    sizes: Vec<usize>,
    next: usize,
}

impl Sizes {
    /// Measures `message` as a length-delimited field; its size on the wire.
    fn field(&mut self, message: &impl Message) -> usize {
        let slot = self.sizes.len();
        self.sizes.push(0);
        let len = message.measure(self);
        self.sizes[slot] = len;
        delimited_len(len)
    }

    fn take(&mut self) -> usize {
        debug_assert!(self.next < self.sizes.len(), "written as measured");
        let len = self.sizes.get(self.next).copied().unwrap_or_default();
        self.next += 1;
        len
    }
}

/// A protobuf message.
trait Message {
    /// Its encoded size (without tag or length); the sizes of the messages inside it go to
    /// `sizes`.
    fn measure(&self, sizes: &mut Sizes) -> usize;
    /// Its encoding, taking the inner messages' sizes from `sizes` in the same order.
    fn write(&self, out: &mut Vec<u8>, sizes: &mut Sizes);
}

/// A message field measured by [`Sizes::field`].
fn put_message(out: &mut Vec<u8>, field: u64, message: &impl Message, sizes: &mut Sizes) {
    put_tag(out, field, LEN);
    put_varint(out, sizes.take() as u64);
    message.write(out, sizes);
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

/// An `int64` as protobuf's varint carries it (two's complement).
fn int64(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
}

/// `AnyValue`.
struct Any<'a>(&'a Value);

impl Message for Any<'_> {
    fn measure(&self, sizes: &mut Sizes) -> usize {
        match self.0 {
            Value::Bool(_) => 2,
            Value::I64(v) => 1 + varint_len(int64(*v)),
            Value::F64(_) => 9,
            Value::String(s) => delimited_len(s.as_str().len()),
            Value::Array(array) => sizes.field(&ArrayValue(array_values(array))),
            other => delimited_len(other.to_string().len()),
        }
    }

    fn write(&self, out: &mut Vec<u8>, sizes: &mut Sizes) {
        match self.0 {
            Value::Bool(v) => {
                put_tag(out, 2, VARINT);
                out.push(u8::from(*v));
            }
            Value::I64(v) => {
                put_tag(out, 3, VARINT);
                put_varint(out, int64(*v));
            }
            Value::F64(v) => {
                put_tag(out, 4, FIXED64);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Value::String(s) => put_bytes(out, 1, s.as_str().as_bytes()),
            Value::Array(array) => put_message(out, 5, &ArrayValue(array_values(array)), sizes),
            // A value kind newer than this encoder: its text.
            other => put_bytes(out, 1, other.to_string().as_bytes()),
        }
    }
}

/// `ArrayValue`: each element an `AnyValue` (`values`, field 1).
struct ArrayValue(Vec<Value>);

/// The elements of an array as values.
fn array_values(array: &Array) -> Vec<Value> {
    match array {
        Array::Bool(v) => v.iter().copied().map(Value::Bool).collect(),
        Array::I64(v) => v.iter().copied().map(Value::I64).collect(),
        Array::F64(v) => v.iter().copied().map(Value::F64).collect(),
        Array::String(v) => v.iter().cloned().map(Value::String).collect(),
        other => vec![Value::String(other.to_string().into())],
    }
}

impl Message for ArrayValue {
    fn measure(&self, sizes: &mut Sizes) -> usize {
        self.0.iter().map(|v| sizes.field(&Any(v))).sum()
    }

    fn write(&self, out: &mut Vec<u8>, sizes: &mut Sizes) {
        for value in &self.0 {
            put_message(out, 1, &Any(value), sizes);
        }
    }
}

/// `KeyValue`: `key` (1) and `value` (2).
struct Attribute<'a>(&'a KeyValue);

impl Message for Attribute<'_> {
    fn measure(&self, sizes: &mut Sizes) -> usize {
        bytes_len(self.0.key.as_str().as_bytes()) + sizes.field(&Any(&self.0.value))
    }

    fn write(&self, out: &mut Vec<u8>, sizes: &mut Sizes) {
        put_nonempty(out, 1, self.0.key.as_str().as_bytes());
        put_message(out, 2, &Any(&self.0.value), sizes);
    }
}

fn measure_attributes<'a>(
    attributes: impl Iterator<Item = &'a KeyValue>,
    sizes: &mut Sizes,
) -> usize {
    attributes.map(|kv| sizes.field(&Attribute(kv))).sum()
}

fn put_attributes<'a>(
    out: &mut Vec<u8>,
    field: u64,
    attributes: impl Iterator<Item = &'a KeyValue>,
    sizes: &mut Sizes,
) {
    for kv in attributes {
        put_message(out, field, &Attribute(kv), sizes);
    }
}

/// `Span.Event`.
struct Event<'a>(&'a opentelemetry::trace::Event);

impl Message for Event<'_> {
    fn measure(&self, sizes: &mut Sizes) -> usize {
        let e = self.0;
        fixed64_len(nanos(e.timestamp))
            + bytes_len(e.name.as_bytes())
            + measure_attributes(e.attributes.iter(), sizes)
            + uint_len(u64::from(e.dropped_attributes_count))
    }

    fn write(&self, out: &mut Vec<u8>, sizes: &mut Sizes) {
        let e = self.0;
        put_fixed64(out, 1, nanos(e.timestamp));
        put_nonempty(out, 2, e.name.as_bytes());
        put_attributes(out, 3, e.attributes.iter(), sizes);
        put_uint(out, 4, u64::from(e.dropped_attributes_count));
    }
}

fn flags(trace_flags: opentelemetry::trace::TraceFlags, remote: bool) -> u32 {
    let flags = u32::from(trace_flags.to_u8()) | HAS_IS_REMOTE;
    if remote { flags | IS_REMOTE } else { flags }
}

/// `Span.Link`.
struct Link<'a>(&'a opentelemetry::trace::Link);

impl Message for Link<'_> {
    fn measure(&self, sizes: &mut Sizes) -> usize {
        let link = self.0;
        delimited_len(16)
            + delimited_len(8)
            + bytes_len(link.span_context.trace_state().header().as_bytes())
            + measure_attributes(link.attributes.iter(), sizes)
            + uint_len(u64::from(link.dropped_attributes_count))
            + 5
    }

    fn write(&self, out: &mut Vec<u8>, sizes: &mut Sizes) {
        let link = self.0;
        let context = &link.span_context;
        put_bytes(out, 1, &context.trace_id().to_bytes());
        put_bytes(out, 2, &context.span_id().to_bytes());
        put_nonempty(out, 3, context.trace_state().header().as_bytes());
        put_attributes(out, 4, link.attributes.iter(), sizes);
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
    fn measure(&self, _: &mut Sizes) -> usize {
        let (message, code) = self.parts();
        bytes_len(message.as_bytes()) + uint_len(code)
    }

    fn write(&self, out: &mut Vec<u8>, _: &mut Sizes) {
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
    fn measure(&self, sizes: &mut Sizes) -> usize {
        let span = self.span;
        let mut len = delimited_len(16)
            + delimited_len(8)
            + bytes_len(self.trace_state.as_bytes())
            + if self.has_parent() {
                delimited_len(8)
            } else {
                0
            }
            + bytes_len(span.name.as_bytes())
            + uint_len(kind(&span.span_kind))
            + fixed64_len(nanos(span.start_time))
            + fixed64_len(nanos(span.end_time));
        len += measure_attributes(span.attributes.iter(), sizes);
        len += uint_len(u64::from(span.dropped_attributes_count));
        len += span
            .events
            .iter()
            .map(|e| sizes.field(&Event(e)))
            .sum::<usize>();
        len += uint_len(u64::from(span.events.dropped_count));
        len += span
            .links
            .iter()
            .map(|l| sizes.field(&Link(l)))
            .sum::<usize>();
        len += uint_len(u64::from(span.links.dropped_count));
        len += sizes.field(&StatusMessage(&span.status));
        // `flags` is field 16: a two-byte tag and four bytes.
        len + 2 + 4
    }

    fn write(&self, out: &mut Vec<u8>, sizes: &mut Sizes) {
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
        put_attributes(out, 9, span.attributes.iter(), sizes);
        put_uint(out, 10, u64::from(span.dropped_attributes_count));
        for event in span.events.iter() {
            put_message(out, 11, &Event(event), sizes);
        }
        put_uint(out, 12, u64::from(span.events.dropped_count));
        for link in span.links.iter() {
            put_message(out, 13, &Link(link), sizes);
        }
        put_uint(out, 14, u64::from(span.links.dropped_count));
        put_message(out, 15, &StatusMessage(&span.status), sizes);
        // Last, in field order, as prost writes it.
        put_tag(out, 16, FIXED32);
        let flags = flags(context.trace_flags(), span.parent_span_is_remote);
        out.extend_from_slice(&flags.to_le_bytes());
    }
}

/// `InstrumentationScope`: name, version, attributes.
struct Scope<'a>(&'a InstrumentationScope);

impl Message for Scope<'_> {
    fn measure(&self, sizes: &mut Sizes) -> usize {
        let scope = self.0;
        bytes_len(scope.name().as_bytes())
            + bytes_len(scope.version().unwrap_or_default().as_bytes())
            + measure_attributes(scope.attributes(), sizes)
    }

    fn write(&self, out: &mut Vec<u8>, sizes: &mut Sizes) {
        let scope = self.0;
        put_nonempty(out, 1, scope.name().as_bytes());
        put_nonempty(out, 2, scope.version().unwrap_or_default().as_bytes());
        put_attributes(out, 3, scope.attributes(), sizes);
    }
}

/// `ScopeSpans`: one scope's spans of the batch.
struct ScopeSpans<'a> {
    scope: &'a InstrumentationScope,
    spans: Vec<SpanMessage<'a>>,
}

impl ScopeSpans<'_> {
    fn schema_url(&self) -> &[u8] {
        self.scope.schema_url().unwrap_or_default().as_bytes()
    }
}

impl Message for ScopeSpans<'_> {
    fn measure(&self, sizes: &mut Sizes) -> usize {
        sizes.field(&Scope(self.scope))
            + self.spans.iter().map(|s| sizes.field(s)).sum::<usize>()
            + bytes_len(self.schema_url())
    }

    fn write(&self, out: &mut Vec<u8>, sizes: &mut Sizes) {
        put_message(out, 1, &Scope(self.scope), sizes);
        for span in &self.spans {
            put_message(out, 2, span, sizes);
        }
        put_nonempty(out, 3, self.schema_url());
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
        let attributes: Vec<KeyValue> = resource
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
            .collect();
        let mut sizes = Sizes::default();
        measure_attributes(attributes.iter(), &mut sizes);
        let mut body = Vec::new();
        put_attributes(&mut body, 1, attributes.iter(), &mut sizes);
        Self {
            resource: body,
            schema_url: resource.schema_url().unwrap_or_default().to_owned(),
        }
    }
}

/// `ResourceSpans`: the resource and its spans, grouped by scope.
struct ResourceSpans<'a> {
    resource: &'a EncodedResource,
    scopes: Vec<ScopeSpans<'a>>,
}

impl Message for ResourceSpans<'_> {
    fn measure(&self, sizes: &mut Sizes) -> usize {
        delimited_len(self.resource.resource.len())
            + self.scopes.iter().map(|s| sizes.field(s)).sum::<usize>()
            + bytes_len(self.resource.schema_url.as_bytes())
    }

    fn write(&self, out: &mut Vec<u8>, sizes: &mut Sizes) {
        put_bytes(out, 1, &self.resource.resource);
        for scope in &self.scopes {
            put_message(out, 2, scope, sizes);
        }
        put_nonempty(out, 3, self.resource.schema_url.as_bytes());
    }
}

/// `ExportTraceServiceRequest` for `spans`: one `ResourceSpans`, one `ScopeSpans` per scope in
/// the order scopes first appear; `Err` with its size, unwritten, when over `max` bytes.
pub(super) fn trace_request(
    resource: &EncodedResource,
    spans: &[SpanData],
    max: usize,
) -> Result<Vec<u8>, usize> {
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
    let request = ResourceSpans { resource, scopes };
    let mut sizes = Sizes {
        // A span of the agent's holds about twenty attributes and events: room for most.
        sizes: Vec::with_capacity(spans.len() * 48),
        next: 0,
    };
    let len = sizes.field(&request);
    if len > max {
        return Err(len);
    }
    let mut out = Vec::with_capacity(len);
    put_message(&mut out, 1, &request, &mut sizes);
    debug_assert_eq!(out.len(), len, "written as measured");
    Ok(out)
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
            let ours = trace_request(&EncodedResource::new(resource), &spans, usize::MAX).unwrap();
            assert_eq!(
                ExportTraceServiceRequest::decode(ours.as_slice()).unwrap(),
                expected
            );
            assert_eq!(ours, expected.encode_to_vec());
        }
        let empty = trace_request(&EncodedResource::new(&resources[1]), &[], usize::MAX).unwrap();
        assert_eq!(
            empty,
            reference(&resources[1], &[]).encode_to_vec(),
            "no spans, one resource"
        );
    }
}
