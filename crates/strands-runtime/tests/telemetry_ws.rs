//! `/ws` with telemetry on (a process-wide `Telemetry`, the SDK's in-memory exporter and W3C
//! propagator): the connection runs in a `GET /ws` server span under the upgrade request's
//! `traceparent`, with `session.id` in its baggage, and the handler sees that span as current.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::sync::{Arc, Mutex};

use common::Server;
use futures_util::SinkExt;
use opentelemetry::Context;
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use strands_agent::telemetry::Telemetry;
use strands_runtime::{AgentCoreApp, HandlerError, RequestContext, WsConnection};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The trace id and baggage session the handler saw.
type Seen = Arc<Mutex<Option<(String, Option<String>)>>>;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

#[tokio::test]
async fn a_websocket_connection_runs_in_a_server_span_under_the_callers_trace() {
    let spans = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    Telemetry::set_default(Some(
        Telemetry::builder().tracer_provider(&provider).build(),
    ));

    let seen: Seen = Arc::default();
    let record = seen.clone();
    let app = AgentCoreApp::new().websocket(move |ws: WsConnection, _context: RequestContext| {
        let record = record.clone();
        async move {
            let cx = Context::current();
            let trace_id = cx.span().span_context().trace_id().to_string();
            let session = cx.baggage().get("session.id").map(ToString::to_string);
            *record.lock().unwrap() = Some((trace_id, session));
            while ws.recv_json().await.map_err(HandlerError::from)?.is_some() {}
            Ok(())
        }
    });
    let server = Server::start(app).await;
    let mut request = format!("ws://{}/ws", server.addr)
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
        "ws-session".parse().unwrap(),
    );
    headers.insert(
        "traceparent",
        format!("00-{TRACE_ID}-{PARENT_ID}-01").parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket.send(Message::Text("{}".into())).await.unwrap();
    socket.close(None).await.unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    let server_span = loop {
        provider.force_flush().unwrap();
        let finished = spans.get_finished_spans().unwrap();
        if let Some(span) = finished.into_iter().find(|s| s.name == "GET /ws") {
            break span;
        }
        assert!(tokio::time::Instant::now() < deadline, "no GET /ws span");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    Telemetry::set_default(None);

    assert_eq!(server_span.span_context.trace_id().to_string(), TRACE_ID);
    assert_eq!(server_span.parent_span_id.to_string(), PARENT_ID);
    assert_eq!(
        server_span.span_kind,
        opentelemetry::trace::SpanKind::Server
    );
    assert_eq!(
        *seen.lock().unwrap(),
        Some((TRACE_ID.to_owned(), Some("ws-session".to_owned())))
    );
}
