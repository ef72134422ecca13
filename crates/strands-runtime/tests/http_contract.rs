//! The AgentCore HTTP contract, byte for byte where Python's app is observable (the transcripts
//! in shared/reference/agentcore-contract.md, Appendix A, bedrock-agentcore 1.25).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::response::IntoResponse;
use common::{Server, post, raw};
use http::StatusCode;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_runtime::{AgentCoreApp, HandlerError, PingStatus, Reply, RequestContext};
use tokio::sync::Notify;

/// Python's fixture entrypoint: `{"mode": ...}` selects the behaviour.
fn fixture_app() -> AgentCoreApp {
    AgentCoreApp::new().entrypoint(|payload: Value, context: RequestContext| async move {
        let mode = payload
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or("echo")
            .to_owned();
        match mode.as_str() {
            "string" => Ok(Reply::from("hello world")),
            "null" => Ok(Reply::Json(Value::Null)),
            "number" => Ok(Reply::Json(json!(42))),
            "raise" => Err(HandlerError::new("boom ü").with_error_type("ValueError")),
            "teapot" => Err(HandlerError::http(StatusCode::IM_A_TEAPOT, "teapot")),
            "response" => Ok(Reply::Response(
                (
                    StatusCode::ACCEPTED,
                    [("x-a", "b"), ("content-type", "text/plain; charset=utf-8")],
                    "plain",
                )
                    .into_response(),
            )),
            "stream" => Ok(Reply::stream(futures_util::stream::iter(vec![
                Ok(json!("tok1")),
                Ok(json!({"k": "ü"})),
                Ok(json!(3)),
                Ok(Value::Null),
                Err(HandlerError::new("mid-stream fail").with_error_type("RuntimeError")),
            ]))),
            "stream_fail_first" => Ok(Reply::stream(futures_util::stream::iter(vec![Err::<
                Value,
                _,
            >(
                HandlerError::new("early").with_error_type("RuntimeError"),
            )]))),
            "ctx" => Ok(Reply::Json(json!({
                "session_id": context.session_id,
                "headers": context.request_headers,
                "request_id": context.request_id,
                "wat": context.workload_access_token,
                "cb": context.oauth2_callback_url,
            }))),
            _ => Ok(Reply::Json(payload)),
        }
    })
}

#[tokio::test]
async fn ping_is_compact_json_with_a_stable_timestamp() {
    let server = Server::start(fixture_app()).await;
    let first = raw(
        server.addr,
        b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&first.body).unwrap();
    let at = body["time_of_last_update"].as_u64().unwrap();
    assert_eq!(
        first.text(),
        format!(r#"{{"status":"Healthy","time_of_last_update":{at}}}"#)
    );
    let second = raw(
        server.addr,
        b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(second.body, first.body);
}

#[tokio::test]
async fn head_and_wrong_methods_on_ping_answer_like_starlette() {
    let server = Server::start(fixture_app()).await;
    let head = raw(
        server.addr,
        b"HEAD /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let post_ping = raw(server.addr, &post("/ping", "", b"")).await;
    assert_eq!(post_ping.status, 405);
    assert_eq!(post_ping.header("allow"), Some("HEAD, GET"));
    assert_eq!(post_ping.text(), "Method Not Allowed");
    let get_invocations = raw(
        server.addr,
        b"GET /invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(get_invocations.status, 405);
    assert_eq!(get_invocations.header("allow"), Some("POST"));
    let unknown = raw(
        server.addr,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.text().as_str()),
        (404, "Not Found")
    );
    assert_eq!(
        unknown.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let slash = raw(server.addr, &post("/invocations/", "", b"{}")).await;
    assert_eq!(slash.status, 307);
    assert_eq!(
        slash.header("location"),
        Some("http://localhost/invocations")
    );
}

#[tokio::test]
async fn results_are_serialized_like_python_json_dumps() {
    let server = Server::start(fixture_app()).await;
    let echo = raw(
        server.addr,
        &post("/invocations", "", r#"{"mode":"echo","x":"ü"}"#.as_bytes()),
    )
    .await;
    assert_eq!(echo.status, 200);
    assert_eq!(echo.header("content-type"), Some("application/json"));
    assert_eq!(echo.header("content-length"), Some("27"));
    assert_eq!(echo.text(), r#"{"mode": "echo", "x": "ü"}"#);
    for (mode, body) in [
        ("string", r#""hello world""#),
        ("null", "null"),
        ("number", "42"),
    ] {
        let reply = raw(
            server.addr,
            &post(
                "/invocations",
                "",
                format!(r#"{{"mode":"{mode}"}}"#).as_bytes(),
            ),
        )
        .await;
        assert_eq!(reply.text(), body, "{mode}");
    }
}

#[tokio::test]
async fn any_json_payload_is_accepted_whatever_the_content_type() {
    let server = Server::start(fixture_app()).await;
    for body in ["[1, 2]", r#""abc""#, "null", "42"] {
        let reply = raw(
            server.addr,
            &post(
                "/invocations",
                "Content-Type: text/plain\r\n",
                body.as_bytes(),
            ),
        )
        .await;
        assert_eq!((reply.status, reply.text()), (200, body.to_owned()));
    }
    let bom = raw(
        server.addr,
        &post(
            "/invocations?qualifier=DEFAULT",
            "",
            b"\xEF\xBB\xBF{\"a\": 1}",
        ),
    )
    .await;
    assert_eq!(bom.text(), r#"{"a": 1}"#);
}

#[tokio::test]
async fn malformed_bodies_get_python_400s() {
    let server = Server::start(fixture_app()).await;
    let text = raw(
        server.addr,
        &post("/invocations", "Content-Type: text/plain\r\n", b"hello"),
    )
    .await;
    assert_eq!(text.status, 400);
    assert_eq!(text.header("content-length"), Some("78"));
    assert_eq!(
        text.text(),
        r#"{"error":"Invalid JSON","details":"Expecting value: line 1 column 1 (char 0)"}"#
    );
    let empty = raw(server.addr, &post("/invocations", "", b"")).await;
    assert_eq!(
        empty.text(),
        r#"{"error":"Invalid JSON","details":"Expecting value: line 1 column 1 (char 0)"}"#
    );
    let encoding = raw(server.addr, &post("/invocations", "", b"\x80\x81")).await;
    assert_eq!(encoding.status, 400);
    assert_eq!(
        encoding.text(),
        r#"{"error":"Invalid encoding","details":"'utf-8' codec can't decode byte 0x80 in position 0: invalid start byte"}"#
    );
}

#[tokio::test]
async fn handler_errors_keep_their_message_and_status() {
    let server = Server::start(fixture_app()).await;
    let raised = raw(
        server.addr,
        &post("/invocations", "", br#"{"mode":"raise"}"#),
    )
    .await;
    assert_eq!(
        (raised.status, raised.text()),
        (500, r#"{"error":"boom ü"}"#.to_owned())
    );
    let teapot = raw(
        server.addr,
        &post("/invocations", "", br#"{"mode":"teapot"}"#),
    )
    .await;
    assert_eq!(
        (teapot.status, teapot.text()),
        (418, r#"{"error":"teapot"}"#.to_owned())
    );
    let custom = raw(
        server.addr,
        &post("/invocations", "", br#"{"mode":"response"}"#),
    )
    .await;
    assert_eq!((custom.status, custom.text()), (202, "plain".to_owned()));
    assert_eq!(custom.header("x-a"), Some("b"));
}

#[tokio::test]
async fn no_entrypoint_is_a_500_after_json_parsing() {
    let server = Server::start(AgentCoreApp::new()).await;
    let reply = raw(server.addr, &post("/invocations", "", b"{}")).await;
    assert_eq!(
        (reply.status, reply.text()),
        (500, r#"{"error":"No entrypoint defined"}"#.to_owned())
    );
    let bad = raw(server.addr, &post("/invocations", "", b"{")).await;
    assert_eq!(
        bad.text(),
        r#"{"error":"Invalid JSON","details":"Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}"#
    );
}

#[tokio::test]
async fn streams_are_server_sent_events_with_python_error_frames() {
    let server = Server::start(fixture_app()).await;
    let reply = raw(
        server.addr,
        &post("/invocations", "", br#"{"mode":"stream"}"#),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(reply.header("transfer-encoding"), Some("chunked"));
    assert_eq!(reply.header("content-length"), None);
    assert_eq!(
        reply.text(),
        "data: \"tok1\"\n\ndata: {\"k\": \"ü\"}\n\ndata: 3\n\ndata: null\n\n\
         data: {\"error\": \"mid-stream fail\", \"error_type\": \"RuntimeError\", \"message\": \"An error occurred during streaming\"}\n\n"
    );
    let first = raw(
        server.addr,
        &post("/invocations", "", br#"{"mode":"stream_fail_first"}"#),
    )
    .await;
    assert_eq!(
        first.text(),
        "data: {\"error\": \"early\", \"error_type\": \"RuntimeError\", \"message\": \"An error occurred during streaming\"}\n\n"
    );
}

#[tokio::test]
async fn context_comes_from_headers_by_python_rules() {
    let server = Server::start(fixture_app()).await;
    let headers = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: sess-1234\r\n\
        X-Amzn-Bedrock-AgentCore-Runtime-Request-Id: req-1\r\n\
        WorkloadAccessToken: wat-abc\r\nOAuth2CallbackUrl: https://cb\r\nAuthorization: Bearer xyz\r\n\
        X-Amzn-Bedrock-AgentCore-Runtime-Custom-Foo: bar\r\nX-Amzn-Trace-Id: Root=1-abc\r\nX-Other: o\r\n\
        baggage: a=b\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n";
    let reply = raw(
        server.addr,
        &post("/invocations", headers, br#"{"mode":"ctx"}"#),
    )
    .await;
    assert_eq!(
        reply.text(),
        r#"{"session_id": "sess-1234", "headers": {"workloadaccesstoken": "wat-abc", "oauth2callbackurl": "https://cb", "authorization": "Bearer xyz", "x-amzn-bedrock-agentcore-runtime-custom-foo": "bar", "x-other": "o", "baggage": "a=b", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, "request_id": "req-1", "wat": "wat-abc", "cb": "https://cb"}"#
            .replace(r#""authorization""#, r#""Authorization""#)
    );
    let bare = raw(server.addr, &post("/invocations", "", br#"{"mode":"ctx"}"#)).await;
    let body: Value = serde_json::from_slice(&bare.body).unwrap();
    assert_eq!(body["session_id"], Value::Null);
    assert_eq!(body["headers"], Value::Null);
    assert_eq!(body["request_id"].as_str().unwrap().len(), 36);
}

#[tokio::test]
async fn bodies_over_the_limit_get_a_clean_413() {
    let server = Server::start(fixture_app()).await;
    // Declared length over 100 MB: refused before reading.
    let request = "POST /invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 104857601\r\n\r\n{";
    let reply = raw(server.addr, request.as_bytes()).await;
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.text(),
        r#"{"error":"Payload too large","details":"the request body exceeds the limit of 104857600 bytes"}"#
    );

    // A chunked body (no declared length) is cut off when it passes the limit.
    let small = Server::start(fixture_app().max_body_bytes(1024)).await;
    let client = reqwest::Client::new();
    let chunks =
        futures_util::stream::iter((0..10).map(|_| Ok::<_, std::io::Error>(vec![b' '; 512])));
    let reply = client
        .post(small.url("/invocations"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 413);
}

#[tokio::test]
async fn a_100_mb_body_is_accepted() {
    let server = Server::start(fixture_app()).await;
    let big = "x".repeat(100 * 1024 * 1024 - 16);
    let body = format!(r#"{{"mode":"{big}"}}"#);
    assert!(body.len() <= 100 * 1024 * 1024);
    let reply = reqwest::Client::new()
        .post(server.url("/invocations"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

#[tokio::test]
async fn ping_is_busy_while_an_invocation_runs_and_answers_meanwhile() {
    let release = Arc::new(Notify::new());
    let started = Arc::new(Notify::new());
    let (r, s) = (release.clone(), started.clone());
    let app = AgentCoreApp::new().entrypoint(move |_payload: Value, _ctx: RequestContext| {
        let (r, s) = (r.clone(), s.clone());
        async move {
            s.notify_one();
            r.notified().await;
            Ok::<_, HandlerError>(json!("done"))
        }
    });
    let server = Server::start(app).await;
    let client = reqwest::Client::new();
    let ping = || async {
        let body: Value = client
            .get(server.url("/ping"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["status"].as_str().unwrap().to_owned()
    };
    assert_eq!(ping().await, "Healthy");
    let call = tokio::spawn(client.post(server.url("/invocations")).body("{}").send());
    started.notified().await;
    assert_eq!(ping().await, "HealthyBusy");
    release.notify_one();
    assert_eq!(
        call.await.unwrap().unwrap().text().await.unwrap(),
        r#""done""#
    );
    assert_eq!(ping().await, "Healthy");
}

#[tokio::test]
async fn background_tasks_and_forced_status_drive_ping() {
    let app = fixture_app();
    let health = app.health();
    let server = Server::start(app).await;
    let status = || async {
        let body: Value = reqwest::get(server.url("/ping"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["status"].as_str().unwrap().to_owned()
    };
    let task = health.start_task("indexing");
    assert_eq!(status().await, "HealthyBusy");
    drop(task);
    assert_eq!(status().await, "Healthy");
    health.force_status(PingStatus::HealthyBusy);
    assert_eq!(status().await, "HealthyBusy");
    health.clear_forced_status();
    assert_eq!(status().await, "Healthy");
}

#[tokio::test]
async fn invocations_run_concurrently() {
    let barrier = Arc::new(tokio::sync::Barrier::new(5));
    let b = barrier.clone();
    let app = AgentCoreApp::new().entrypoint(move |_payload: Value, _ctx: RequestContext| {
        let b = b.clone();
        async move {
            b.wait().await;
            Ok::<_, HandlerError>(json!(true))
        }
    });
    let server = Server::start(app).await;
    let client = reqwest::Client::new();
    let calls: Vec<_> = (0..5)
        .map(|_| tokio::spawn(client.post(server.url("/invocations")).body("{}").send()))
        .collect();
    for call in calls {
        let reply = tokio::time::timeout(Duration::from_secs(30), call)
            .await
            .expect("all five ran at once");
        assert_eq!(reply.unwrap().unwrap().status(), 200);
    }
}

#[tokio::test]
async fn a_client_that_disconnects_mid_stream_stops_the_producer() {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let gone = Arc::new(Notify::new());
    let (d, g) = (dropped.clone(), gone.clone());
    let app = AgentCoreApp::new().entrypoint(move |_payload: Value, _ctx: RequestContext| {
        let (d, g) = (d.clone(), g.clone());
        async move {
            Ok::<_, HandlerError>(Reply::stream(async_stream::stream! {
                let _flag = Flag(d);
                let _notify_on_drop = NotifyOnDrop(g);
                yield Ok(json!("first"));
                std::future::pending::<()>().await;
            }))
        }
    });
    let server = Server::start(app).await;
    let health = reqwest::Client::new();
    let mut reply = reqwest::Client::new()
        .post(server.url("/invocations"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.chunk().await.unwrap().unwrap(), "data: \"first\"\n\n");
    drop(reply);
    tokio::time::timeout(Duration::from_secs(30), gone.notified())
        .await
        .expect("the producer was dropped");
    assert!(dropped.load(Ordering::SeqCst));
    let body: Value = health
        .get(server.url("/ping"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["status"], "Healthy",
        "the abandoned stream no longer counts as busy"
    );
}

struct NotifyOnDrop(Arc<Notify>);

impl Drop for NotifyOnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_and_the_server_keeps_serving() {
    #[allow(clippy::panic, reason = "the behaviour under test")]
    fn explode() -> Value {
        panic!("handler exploded")
    }
    let app = AgentCoreApp::new().entrypoint(|_payload: Value, _ctx: RequestContext| async move {
        Ok::<_, HandlerError>(explode())
    });
    let server = Server::start(app).await;
    let reply = raw(server.addr, &post("/invocations", "", b"{}")).await;
    assert_eq!(
        (reply.status, reply.text()),
        (500, r#"{"error":"handler exploded"}"#.to_owned())
    );
    let ping = raw(
        server.addr,
        b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(ping.status, 200);
}

#[tokio::test]
async fn a_huge_header_is_refused_without_reaching_the_handler() {
    let server = Server::start(fixture_app()).await;
    let huge = "a".repeat(1024 * 1024);
    let request = format!(
        "POST /invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Huge: {huge}\r\nContent-Length: 2\r\n\r\n{{}}"
    );
    let reply = raw(server.addr, request.as_bytes()).await;
    assert_eq!(reply.status, 431, "request header fields too large");
    let ping = raw(
        server.addr,
        b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(ping.status, 200);
}

#[tokio::test]
async fn streamed_items_of_any_serializable_type_and_pythons_fallback_for_the_unserializable() {
    use std::collections::BTreeMap;

    #[derive(serde::Serialize)]
    struct Delta<'a> {
        text: &'a str,
        index: u32,
    }
    #[derive(serde::Serialize)]
    #[serde(untagged)]
    enum Item {
        Delta(Delta<'static>),
        // JSON object keys must be strings: this cannot be written.
        Grid(BTreeMap<(u8, u8), u8>),
    }
    let app = AgentCoreApp::new().entrypoint(|_payload: Value, _ctx: RequestContext| async move {
        Ok::<_, HandlerError>(Reply::stream(futures_util::stream::iter([
            Ok(Item::Delta(Delta {
                text: "é\n",
                index: 0,
            })),
            Ok(Item::Grid(BTreeMap::from([((0, 0), 1)]))),
            Ok(Item::Delta(Delta {
                text: "after",
                index: 1,
            })),
        ])))
    });
    let server = Server::start(app).await;
    let reply = raw(server.addr, &post("/invocations", "", b"{}")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.text(),
        "data: {\"text\": \"é\\n\", \"index\": 0}\n\n\
         data: {\"error\": \"Serialization failed\", \"original_type\": \"Item\"}\n\n\
         data: {\"text\": \"after\", \"index\": 1}\n\n"
    );
}
