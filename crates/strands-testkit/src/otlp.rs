//! A fake OTLP/HTTP receiver: a collector (`/v1/traces`, `/v1/metrics`, `/v1/logs`, protobuf bodies decoded
//! with the official OpenTelemetry protobuf definitions), or, with SigV4 checking, the AWS OTLP
//! endpoints (`xray.<region>.amazonaws.com/v1/traces` signs for `xray`).
//!
//! ```
//! use strands_testkit::bedrock::FakeAuth;
//! use strands_testkit::otlp::FakeOtlp;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let collector = FakeOtlp::start(FakeAuth::Any, "xray").await?;
//! assert!(collector.endpoint().starts_with("http://127.0.0.1:"));
//! assert!(collector.spans().is_empty());
//! # Ok(())
//! # }
//! ```

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::BytesMut;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::bedrock::auth::{self, Signed};
use crate::bedrock::{AuthOutcome, FakeAuth};
use crate::http::response::{self, Head};
use crate::http::{self, Incoming, Limits};

const LIMITS: Limits = Limits {
    server: "fake OTLP receiver",
    max_header_bytes: 64 * 1024,
    max_headers: 128,
    max_body_bytes: 8 * 1024 * 1024,
};
const MAX_CONNECTIONS: usize = 32;

/// One export request the receiver got.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OtlpRequest {
    /// The path (`/v1/traces`, `/v1/metrics`, ...).
    pub path: String,
    /// The `content-type` header.
    pub content_type: String,
    /// What the receiver decided about the credentials.
    pub auth: AuthOutcome,
    /// The header names received (lower case), values not kept.
    pub header_names: Vec<String>,
    /// The value of `x-test-header`, if any (to check configured headers arrive).
    pub test_header: Option<String>,
    /// The value of `x-aws-log-group`, if any (CloudWatch's OTLP logs endpoint needs it).
    pub log_group: Option<String>,
}

/// A span as received, with its ids in hex and its attributes as JSON.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReceivedSpan {
    /// The span name.
    pub name: String,
    /// The kind (`1` internal, `2` server, `3` client, as in the protocol).
    pub kind: i32,
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// 16 hex digits, or empty for a root.
    pub parent_span_id: String,
    /// The span's attributes.
    pub attributes: Map<String, Value>,
    /// The events: name and attributes.
    pub events: Vec<(String, Map<String, Value>)>,
    /// The status code (`0` unset, `1` ok, `2` error) and message.
    pub status: (i32, String),
    /// The instrumentation scope.
    pub scope: String,
    /// The resource's attributes.
    pub resource: Map<String, Value>,
}

/// A log record as received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReceivedLog {
    /// The body.
    pub body: Value,
    /// The severity text.
    pub severity: String,
    /// 32 hex digits, or empty outside a trace.
    pub trace_id: String,
    /// 16 hex digits, or empty outside a trace.
    pub span_id: String,
    /// The record's attributes.
    pub attributes: Map<String, Value>,
}

/// A metric as received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceivedMetric {
    /// The instrument name.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// The instrumentation scope.
    pub scope: String,
    /// `Sum`, `Histogram`, `Gauge`, ...
    pub kind: String,
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<OtlpRequest>,
    spans: Vec<ReceivedSpan>,
    metrics: Vec<ReceivedMetric>,
    logs: Vec<ReceivedLog>,
    /// Requests still to answer `503` with `Retry-After: 0` (after recording them).
    throttled: usize,
}

/// The fake receiver; it stops when dropped.
#[derive(Debug)]
pub struct FakeOtlp {
    endpoint: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOtlp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeOtlp {
    /// Serves on `127.0.0.1:<free port>`, accepting requests `auth` accepts; SigV4 must be scoped
    /// to `signing_name`.
    ///
    /// # Errors
    ///
    /// The port could not be bound.
    pub async fn start(auth: FakeAuth, signing_name: &'static str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let auth = Arc::new(auth);
        let task = tokio::spawn(async move {
            http::accept_loop(listener, MAX_CONNECTIONS, |stream| {
                serve_connection(stream, shared.clone(), auth.clone(), signing_name)
            })
            .await;
        });
        Ok(Self {
            endpoint,
            state,
            task,
        })
    }

    /// `http://127.0.0.1:<port>` (the base of `/v1/traces` and `/v1/metrics`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<OtlpRequest> {
        lock(&self.state).requests.clone()
    }

    /// Every span accepted so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        lock(&self.state).spans.clone()
    }

    /// Every log record accepted so far.
    pub fn logs(&self) -> Vec<ReceivedLog> {
        lock(&self.state).logs.clone()
    }

    /// Every metric accepted so far (one entry per metric per export).
    pub fn metrics(&self) -> Vec<ReceivedMetric> {
        lock(&self.state).metrics.clone()
    }

    /// Answers the next `count` authenticated requests `503 Service Unavailable` with
    /// `Retry-After: 0`, as a throttling OTLP endpoint does (they are recorded, not decoded).
    pub fn throttle(&self, count: usize) {
        lock(&self.state).throttled = count;
    }

    /// Waits until `ready` holds for the spans received, for at most `timeout`.
    pub async fn wait_for_spans(
        &self,
        timeout: Duration,
        ready: impl Fn(&[ReceivedSpan]) -> bool,
    ) -> Vec<ReceivedSpan> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let spans = self.spans();
            if ready(&spans) || tokio::time::Instant::now() >= deadline {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    state: Arc<Mutex<State>>,
    auth: Arc<FakeAuth>,
    signing_name: &'static str,
) {
    let mut buf = BytesMut::with_capacity(8 * 1024);
    loop {
        let request = match http::read_request(&mut stream, &mut buf, &LIMITS).await {
            Ok(Incoming::Request(request)) => request,
            Ok(Incoming::Refused(refusal)) => {
                let body = json!({"message": refusal.message}).to_string();
                let head = Head::new(refusal.status).header("content-type", "application/json");
                let _ = response::write_full(&mut stream, head, body.as_bytes(), true).await;
                response::linger(&mut stream).await;
                return;
            }
            Ok(Incoming::Closed) | Err(_) => break,
        };
        let keep_alive = request.keep_alive;
        let (status, body) = decide(&state, &auth, signing_name, &request);
        let head = if status == 200 {
            Head::new(200).header("content-type", "application/x-protobuf")
        } else if status == 503 {
            Head::new(503)
                .header("content-type", "application/json")
                .header("retry-after", "0")
        } else {
            Head::new(status).header("content-type", "application/json")
        };
        if response::write_full(&mut stream, head, &body, !keep_alive)
            .await
            .is_err()
            || !keep_alive
        {
            break;
        }
    }
    let _ = stream.shutdown().await;
}

/// Authenticates, records and decodes one request; the status and body to answer.
fn decide(
    state: &Mutex<State>,
    auth: &FakeAuth,
    signing_name: &str,
    request: &http::RawRequest,
) -> (u16, Vec<u8>) {
    let checked = auth::check_for(
        auth,
        &Signed {
            method: &request.method,
            target: &request.target,
            headers: &request.headers,
            body: &request.body,
        },
        signing_name,
    );
    let path = request
        .target
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut state = lock(state);
    state.requests.push(OtlpRequest {
        path: path.clone(),
        content_type: request
            .header("content-type")
            .unwrap_or_default()
            .to_owned(),
        auth: checked
            .as_ref()
            .map_or_else(|r| r.outcome, |()| AuthOutcome::Accepted),
        header_names: request.headers.iter().map(|(k, _)| k.clone()).collect(),
        test_header: request.header("x-test-header").map(str::to_owned),
        log_group: request.header("x-aws-log-group").map(str::to_owned),
    });
    if let Err(rejection) = checked {
        let body = json!({"message": rejection.message}).to_string();
        return (403, body.into_bytes());
    }
    if state.throttled > 0 {
        state.throttled -= 1;
        return (503, b"{\"message\": \"slow down\"}".to_vec());
    }
    if request.method != "POST" {
        return (405, b"{\"message\": \"use POST\"}".to_vec());
    }
    match path.as_str() {
        "/v1/traces" => accept(&request.body, |e| state.spans.extend(spans(e))),
        "/v1/metrics" => accept(&request.body, |e| state.metrics.extend(metrics(e))),
        "/v1/logs" => accept(&request.body, |e| state.logs.extend(logs(e))),
        _ => (404, b"{\"message\": \"not found\"}".to_vec()),
    }
}

/// Decodes an export request and keeps it (`200`, an empty response), or says why not (`400`).
fn accept<M: prost::Message + Default>(body: &[u8], keep: impl FnOnce(M)) -> (u16, Vec<u8>) {
    match M::decode(body) {
        Ok(export) => {
            keep(export);
            (200, Vec::new())
        }
        Err(error) => {
            let body = json!({"message": error.to_string()}).to_string();
            (400, body.into_bytes())
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn any_value(value: Option<&AnyValue>) -> Value {
    match value.and_then(|v| v.value.as_ref()) {
        None => Value::Null,
        Some(any_value::Value::StringValue(s)) => json!(s),
        Some(any_value::Value::BoolValue(b)) => json!(b),
        Some(any_value::Value::IntValue(i)) => json!(i),
        Some(any_value::Value::DoubleValue(f)) => json!(f),
        Some(any_value::Value::ArrayValue(array)) => {
            Value::Array(array.values.iter().map(|v| any_value(Some(v))).collect())
        }
        Some(any_value::Value::KvlistValue(list)) => Value::Object(attributes(&list.values)),
        Some(any_value::Value::BytesValue(bytes)) => json!(hex(bytes)),
        Some(_) => Value::Null,
    }
}

fn attributes(values: &[KeyValue]) -> Map<String, Value> {
    values
        .iter()
        .map(|kv| (kv.key.clone(), any_value(kv.value.as_ref())))
        .collect()
}

fn spans(export: ExportTraceServiceRequest) -> Vec<ReceivedSpan> {
    let mut out = Vec::new();
    for resource_spans in export.resource_spans {
        let resource = resource_spans
            .resource
            .map(|r| attributes(&r.attributes))
            .unwrap_or_default();
        for scope_spans in resource_spans.scope_spans {
            let scope = scope_spans.scope.map(|s| s.name).unwrap_or_default();
            for span in scope_spans.spans {
                out.push(ReceivedSpan {
                    name: span.name,
                    kind: span.kind,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    attributes: attributes(&span.attributes),
                    events: span
                        .events
                        .iter()
                        .map(|e| (e.name.clone(), attributes(&e.attributes)))
                        .collect(),
                    status: span.status.map(|s| (s.code, s.message)).unwrap_or_default(),
                    scope: scope.clone(),
                    resource: resource.clone(),
                });
            }
        }
    }
    out
}

fn logs(export: ExportLogsServiceRequest) -> Vec<ReceivedLog> {
    export
        .resource_logs
        .into_iter()
        .flat_map(|r| r.scope_logs)
        .flat_map(|s| s.log_records)
        .map(|record| ReceivedLog {
            body: any_value(record.body.as_ref()),
            severity: record.severity_text,
            trace_id: hex(&record.trace_id),
            span_id: hex(&record.span_id),
            attributes: attributes(&record.attributes),
        })
        .collect()
}

fn metrics(export: ExportMetricsServiceRequest) -> Vec<ReceivedMetric> {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    let mut out = Vec::new();
    for resource_metrics in export.resource_metrics {
        for scope_metrics in resource_metrics.scope_metrics {
            let scope = scope_metrics.scope.map(|s| s.name).unwrap_or_default();
            for metric in scope_metrics.metrics {
                let kind = match metric.data {
                    Some(Data::Sum(_)) => "Sum",
                    Some(Data::Histogram(_)) => "Histogram",
                    Some(Data::Gauge(_)) => "Gauge",
                    Some(Data::ExponentialHistogram(_)) => "ExponentialHistogram",
                    Some(Data::Summary(_)) => "Summary",
                    None => "None",
                };
                out.push(ReceivedMetric {
                    name: metric.name,
                    unit: metric.unit,
                    scope: scope.clone(),
                    kind: kind.to_owned(),
                });
            }
        }
    }
    out
}
