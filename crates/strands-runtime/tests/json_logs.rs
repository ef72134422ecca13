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
        Authorization: Bearer super-secret-token\r\nWorkloadAccessToken: wat-secret-value\r\n";
    let reply = raw(server.addr, &post("/invocations", headers, b"{}")).await;
    assert_eq!(reply.status, 200);

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(!text.contains("super-secret-token"), "{text}");
    assert!(!text.contains("wat-secret-value"), "{text}");
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
    assert!(
        debug["message"]
            .as_str()
            .unwrap()
            .contains("authorization: (set, hidden)")
    );
}
