//! Logs are JSON lines like Python's `RequestContextFormatter`, carry the request and session ids,
//! and never contain credentials.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod common;

use std::io;
use std::sync::{Arc, Mutex};

use common::{Server, post, raw};
use serde_json::{Value, json};
use strands_runtime::logging::{JsonLogLayer, filter};
use strands_runtime::{AgentCoreApp, HandlerError, RequestContext};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn invocation_logs_are_json_lines_with_ids_and_no_secrets() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(JsonLogLayer::new(captured.clone()).with_filter(filter("DEBUG")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = AgentCoreApp::new().entrypoint(|_payload: Value, _ctx: RequestContext| async move {
        Ok::<_, HandlerError>(json!("ok"))
    });
    let server = Server::start(app).await;
    let headers = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: sess-log\r\n\
        X-Amzn-Bedrock-AgentCore-Runtime-Request-Id: req-log\r\n\
        Authorization: Bearer super-secret-token\r\nWorkloadAccessToken: wat-secret-value\r\n\
        X-Amzn-Bedrock-AgentCore-Runtime-Custom-Password: pw-secret-value\r\n\
        X-Amzn-Bedrock-AgentCore-Runtime-Custom-Apikey: apikey-secret-value\r\n\
        X-Amzn-Bedrock-AgentCore-Runtime-Custom-Credential: credential-secret-value\r\n";
    let reply = raw(server.addr, &post("/invocations", headers, b"{}")).await;
    assert_eq!(reply.status, 200);

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(!text.contains("super-secret-token"), "{text}");
    for secret in [
        "wat-secret-value",
        "pw-secret-value",
        "apikey-secret-value",
        "credential-secret-value",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let done = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .unwrap()
                .starts_with("Invocation completed successfully (")
        })
        .unwrap_or_else(|| panic!("no completion line in {text}"));
    assert_eq!(done["level"], "INFO");
    assert_eq!(done["logger"], "bedrock_agentcore.app");
    assert_eq!(done["requestId"], "req-log");
    assert_eq!(done["sessionId"], "sess-log");
    let timestamp = done["timestamp"].as_str().unwrap();
    assert_eq!(timestamp.len(), 24);
    assert!(timestamp.ends_with('Z') && timestamp.as_bytes()[10] == b'T');
    let keys: Vec<&str> = done
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "timestamp",
            "level",
            "message",
            "logger",
            "requestId",
            "sessionId"
        ]
    );
    let debug = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .unwrap()
                .starts_with("Request headers: ")
        })
        .unwrap();
    let shown = debug["message"].as_str().unwrap();
    // Values are shown by allow-list: ids yes, credentials and custom headers by length only.
    assert!(
        shown.contains("authorization: (hidden, 25 bytes)"),
        "{shown}"
    );
    assert!(
        shown.contains("x-amzn-bedrock-agentcore-runtime-custom-password: (hidden, 15 bytes)"),
        "{shown}"
    );
    assert!(
        shown.contains("x-amzn-bedrock-agentcore-runtime-session-id: sess-log"),
        "{shown}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn lines_logged_by_the_entrypoint_and_its_stream_carry_the_ids_without_spans() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(JsonLogLayer::new(captured.clone()).with_filter(filter("INFO")));
    let _guard = tracing::subscriber::set_default(subscriber);
    // The log needs no spans: with no other layer, they are never built.
    assert!(tracing::info_span!("invoke_agent").is_disabled());

    let app = AgentCoreApp::new().entrypoint(|_payload: Value, _ctx: RequestContext| async move {
        tracing::info!(target: "my_agent", "in the entrypoint");
        Ok::<_, HandlerError>(strands_runtime::Reply::stream(async_stream::stream! {
            tracing::info!(target: "my_agent", "in the stream");
            yield Ok::<_, HandlerError>(json!({"n": 1}));
        }))
    });
    let server = Server::start(app).await;
    let headers = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: sess-stream\r\n\
        X-Amzn-Bedrock-AgentCore-Runtime-Request-Id: req-stream\r\n";
    let reply = raw(server.addr, &post("/invocations", headers, b"{}")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"data: {\"n\": 1}\n\n");

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for message in [
        "in the entrypoint",
        "in the stream",
        "Returning streaming response (",
    ] {
        let line = lines
            .iter()
            .find(|l| l["message"].as_str().unwrap().starts_with(message))
            .unwrap_or_else(|| panic!("no {message:?} line in {text}"));
        assert_eq!(line["requestId"], "req-stream", "{line}");
        assert_eq!(line["sessionId"], "sess-stream", "{line}");
    }
    // Outside an invocation there are no ids.
    tracing::info!(target: "my_agent", "after");
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let after: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(after["message"], "after");
    assert!(after.get("requestId").is_none(), "{after}");
}

#[test]
fn fields_are_written_after_the_fixed_keys_and_never_repeat_them() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(JsonLogLayer::new(captured.clone()).with_filter(filter("INFO")));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(
            env_var = "AWS_REGION",
            count = 3_u64,
            ok = true,
            level = "x",
            "Credential env check"
        );
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line: Value = serde_json::from_str(text.trim_end()).unwrap();
    let keys: Vec<&str> = line
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "timestamp",
            "level",
            "message",
            "logger",
            "env_var",
            "count",
            "ok"
        ]
    );
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["count"], 3);
    assert_eq!(line["ok"], true);
    // Python's separators.
    assert!(
        text.contains(r#""message": "Credential env check""#),
        "{text}"
    );
}
