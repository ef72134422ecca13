//! Telemetry out of the `strands-runtime` binary, to receivers that decode what the exporters
//! really send (`strands_testkit::otlp`): a collector configured with `OTEL_*`, and AgentCore's
//! X-Ray OTLP endpoint, which checks SigV4. The batch delays are set far beyond the test, so
//! what arrives was flushed by SIGTERM. The parent context comes from the request's
//! `traceparent` and `baggage`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use strands_testkit::bedrock::{AuthOutcome, FakeAuth, FakeBedrock, Frame, Reply, frames};
use strands_testkit::otlp::{FakeOtlp, ReceivedSpan};
use strands_testkit::served::ServedBinary;

mod common;

use common::trace_logs;

const AKID: &str = "AKIDTELEMETRYTEST0001";
const SECRET: &str = "telemetry-test-secret-00000000000000000";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";
const SESSION: &str = "telemetry-session-000000000000000000001";
const REQUEST_ID: &str = "telemetry-request-1";

/// The served binary and where its stderr goes.
struct Runtime {
    served: ServedBinary,
    stderr: PathBuf,
}

impl Runtime {
    /// SIGTERM, then the exit (within the default grace and the flush).
    async fn terminate(&mut self) {
        self.served
            .terminate(Duration::from_secs(20))
            .await
            .unwrap();
    }

    fn log_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.stderr)
            .unwrap()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strands-telemetry-{name}-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An agent file with the calculator.
fn agent_file(dir: &Path) -> PathBuf {
    let path = dir.join("agent.json");
    std::fs::write(
        &path,
        json!({
            "name": "adder",
            "model": {"provider": "bedrock", "model_id": "us.amazon.nova-lite-v1:0"},
            "tools": ["calculator"]
        })
        .to_string(),
    )
    .unwrap();
    path
}

async fn serve(fake: &FakeBedrock, dir: &Path, env: &[(&str, &str)]) -> Runtime {
    let stderr = dir.join("stderr.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_strands-runtime"));
    command
        .env_clear()
        .env("HOME", dir)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.endpoint_url())
        .env("LOG_LEVEL", "INFO")
        // Nothing leaves on a timer during the test: only the shutdown flush sends.
        .env("OTEL_BSP_SCHEDULE_DELAY", "600000")
        .env("OTEL_METRIC_EXPORT_INTERVAL", "600000")
        .args(["serve", "--agent"])
        .arg(agent_file(dir))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap());
    trace_logs::secret(AKID);
    trace_logs::secret(SECRET);
    for (k, v) in env {
        command.env(k, v);
    }
    Runtime {
        served: ServedBinary::start(command).await.unwrap(),
        stderr,
    }
}

/// A Bedrock that answers with the calculator's tool turn, then "5".
async fn bedrock_adding() -> FakeBedrock {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(tool_turn()));
    fake.push(Reply::Stream(frames::text_turn(&["5"], "end_turn")));
    fake
}

fn tool_turn() -> Vec<Frame> {
    frames::tool_turn(&[("t1", "calculator", r#"{"expression": "2 + 3"}"#)])
}

/// One invocation with AgentCore's headers and a parent context, in W3C's `traceparent` or in
/// X-Ray's `X-Amzn-Trace-Id`.
async fn invoke(runtime: &Runtime, stream: bool, xray: bool) -> String {
    let body = if stream {
        r#"{"prompt": "add 2 and 3", "stream": true}"#
    } else {
        r#"{"prompt": "add 2 and 3"}"#
    };
    reqwest::Client::new()
        .post(runtime.served.url("/invocations"))
        .header("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", SESSION)
        .header("X-Amzn-Bedrock-AgentCore-Runtime-Request-Id", REQUEST_ID)
        .header(
            if xray {
                "X-Amzn-Trace-Id"
            } else {
                "traceparent"
            },
            if xray {
                format!(
                    "Root=1-{}-{};Parent={PARENT_ID};Sampled=1",
                    &TRACE_ID[..8],
                    &TRACE_ID[8..]
                )
            } else {
                format!("00-{TRACE_ID}-{PARENT_ID}-01")
            },
        )
        .header("baggage", "team=blue")
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn named<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name} in {:?}", names(spans)))
}

fn names(spans: &[ReceivedSpan]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_str()).collect()
}

/// The tree under the request's parent: server span, agent, cycles, model calls and the tool,
/// all in the caller's trace and all carrying the session id.
fn assert_trace(spans: &[ReceivedSpan]) {
    let server = named(spans, "POST /invocations");
    assert_eq!(server.kind, 2, "a SERVER span");
    assert_eq!(server.trace_id, TRACE_ID);
    assert_eq!(server.parent_span_id, PARENT_ID);
    assert_eq!(server.attributes["aws.request_id"], REQUEST_ID);
    assert_eq!(server.attributes["http.route"], "/invocations");
    assert_eq!(server.attributes["http.response.status_code"], 200);
    assert_eq!(server.scope, "strands-runtime");

    let agent = named(spans, "invoke_agent adder");
    assert_eq!(agent.parent_span_id, server.span_id);
    assert_eq!(agent.scope, "strands.telemetry.tracer");
    assert_eq!(
        agent.attributes["gen_ai.request.model"],
        "us.amazon.nova-lite-v1:0"
    );
    assert!(
        agent.attributes["gen_ai.usage.input_tokens"]
            .as_i64()
            .unwrap()
            > 0
    );
    let cycles: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.name == "execute_event_loop_cycle")
        .collect();
    assert_eq!(cycles.len(), 2);
    assert!(cycles.iter().all(|c| c.parent_span_id == agent.span_id));
    let tool = named(spans, "execute_tool calculator");
    assert!(cycles.iter().any(|c| c.span_id == tool.parent_span_id));
    assert_eq!(tool.attributes["gen_ai.tool.status"], "success");
    assert_eq!(spans.iter().filter(|s| s.name == "chat").count(), 2);
    for span in spans {
        assert_eq!(span.trace_id, TRACE_ID, "{}", span.name);
        assert_eq!(span.attributes["session.id"], SESSION, "{}", span.name);
        assert_eq!(span.resource["service.name"], "strands-agents");
    }
}

#[tokio::test]
async fn a_collector_gets_the_trace_and_metrics_flushed_at_sigterm() {
    let collector = FakeOtlp::start(FakeAuth::Any, "xray").await.unwrap();
    let fake = bedrock_adding().await;
    let dir = workdir("collector");
    let mut runtime = serve(
        &fake,
        &dir,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-test-header=from%20env"),
        ],
    )
    .await;
    assert_eq!(invoke(&runtime, false, false).await, r#"{"result": "5\n"}"#);
    assert!(
        collector.spans().is_empty(),
        "nothing leaves before the flush"
    );
    runtime.terminate().await;

    let spans = collector.spans();
    assert_trace(&spans);
    let requests = collector.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.content_type == "application/x-protobuf")
    );
    assert!(
        requests
            .iter()
            .all(|r| r.test_header.as_deref() == Some("from env"))
    );
    assert!(
        requests
            .iter()
            .all(|r| r.header_names.iter().any(|h| h == "user-agent"))
    );
    let metrics = collector.metrics();
    for (name, unit) in [
        ("strands.event_loop.cycle_count", "Count"),
        ("strands.event_loop.cycle_duration", "s"),
        ("strands.event_loop.input.tokens", "token"),
        ("strands.tool.call_count", "Count"),
        ("strands.tool.duration", "s"),
    ] {
        let metric = metrics
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("no metric {name}"));
        assert_eq!(metric.unit, unit, "{name}");
        assert_eq!(metric.scope, "strands.telemetry.metrics");
    }

    // Log lines of the invocation carry its trace; a log line outside any has none.
    let lines = runtime.log_lines();
    let completed = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Invocation completed"))
        })
        .expect("the completion line");
    assert_eq!(completed["otelTraceID"], TRACE_ID);
    assert_eq!(
        completed["otelSpanID"],
        named(&spans, "POST /invocations").span_id.as_str()
    );
    assert!(lines[0].get("otelTraceID").is_none());
}

#[tokio::test]
async fn agentcore_observability_signs_traces_for_xray_and_streams_are_traced_to_the_end() {
    let xray = FakeOtlp::start(FakeAuth::sigv4(AKID, SECRET), "xray")
        .await
        .unwrap();
    let cloudwatch_logs = FakeOtlp::start(FakeAuth::sigv4(AKID, SECRET), "logs")
        .await
        .unwrap();
    let fake = bedrock_adding().await;
    let dir = workdir("xray");
    let mut runtime = serve(
        &fake,
        &dir,
        &[
            ("AGENT_OBSERVABILITY_ENABLED", "true"),
            ("AWS_ENDPOINT_URL_XRAY", xray.endpoint()),
            ("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", cloudwatch_logs.endpoint()),
            (
                "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
                "x-aws-log-group=/aws/bedrock-agentcore/runtimes/adder-DEFAULT,x-aws-log-stream=otel-rt-logs",
            ),
        ],
    )
    .await;
    // AgentCore's own trace, in X-Ray's header.
    let streamed = invoke(&runtime, true, true).await;
    assert!(streamed.contains("data: "), "{streamed}");
    runtime.terminate().await;

    let requests = xray.requests();
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| r.path == "/v1/traces"));
    assert!(requests.iter().all(|r| r.auth == AuthOutcome::Accepted));
    let spans = xray.spans();
    assert_trace(&spans);

    // The log lines went to CloudWatch Logs too, signed for `logs`, into the log group named by
    // the headers, those of the invocation in its trace.
    let requests = cloudwatch_logs.requests();
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| r.path == "/v1/logs"
        && r.auth == AuthOutcome::Accepted
        && r.log_group.as_deref() == Some("/aws/bedrock-agentcore/runtimes/adder-DEFAULT")));
    let logs = cloudwatch_logs.logs();
    let streaming = logs
        .iter()
        .find(|l| {
            l.body
                .as_str()
                .is_some_and(|b| b.starts_with("Returning streaming response"))
        })
        .expect("the invocation's log line");
    assert_eq!(streaming.trace_id, TRACE_ID);
    assert_eq!(
        streaming.span_id,
        named(&spans, "POST /invocations").span_id
    );
    assert_eq!(streaming.attributes["requestId"], REQUEST_ID);
    assert_eq!(streaming.attributes["session.id"], SESSION);
    assert_eq!(streaming.severity, "INFO");
}

#[tokio::test]
async fn a_receiver_that_refuses_the_signature_costs_the_invocation_nothing() {
    let xray = FakeOtlp::start(
        FakeAuth::sigv4(AKID, "another-secret-000000000000000000000"),
        "xray",
    )
    .await
    .unwrap();
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(&["fine"], "end_turn")));
    let dir = workdir("refused");
    let mut runtime = serve(
        &fake,
        &dir,
        &[
            ("AGENT_OBSERVABILITY_ENABLED", "true"),
            ("AWS_ENDPOINT_URL_XRAY", xray.endpoint()),
        ],
    )
    .await;
    assert_eq!(
        invoke(&runtime, false, false).await,
        r#"{"result": "fine\n"}"#
    );
    runtime.terminate().await;
    let requests = xray.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.auth == AuthOutcome::InvalidSignature)
    );
    assert!(xray.spans().is_empty());
    let logs = std::fs::read_to_string(&runtime.stderr).unwrap();
    assert!(!logs.contains(SECRET), "no secret in the logs");
}

/// The trace export requests the collector got, refused or not.
fn trace_requests(collector: &FakeOtlp) -> usize {
    collector
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/traces")
        .count()
}

#[tokio::test]
async fn throttled_exports_are_retried_at_most_three_times() {
    for (throttled, attempts, delivered) in [(2, 3, true), (50, 4, false)] {
        let collector = FakeOtlp::start(FakeAuth::Any, "xray").await.unwrap();
        let fake = bedrock_adding().await;
        let dir = workdir("throttled");
        let mut runtime = serve(
            &fake,
            &dir,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()),
                ("OTEL_METRICS_EXPORTER", "none"),
                ("OTEL_LOGS_EXPORTER", "none"),
            ],
        )
        .await;
        assert_eq!(invoke(&runtime, false, false).await, r#"{"result": "5\n"}"#);
        collector.throttle(throttled);
        runtime.terminate().await;
        assert_eq!(
            trace_requests(&collector),
            attempts,
            "{throttled} throttled"
        );
        if delivered {
            assert_trace(&collector.spans());
        } else {
            assert!(collector.spans().is_empty());
        }
    }
}
