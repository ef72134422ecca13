//! The server's promises that no client library shows: a run outlives its client, a cancel wins
//! over a running agent, bad answers to interrupts are refused and lose nothing, and every wait
//! and body is bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test helpers fail loudly and take JSON by value for brevity"
)]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_a2a::A2AServer;
use strands_agent::{Agent, InterruptRaised, tool};
use strands_core::ToolContext;
use strands_testkit::{ScriptedModel, Step, text_stream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

fn rpc(method: &str, params: Value) -> axum::http::Request<Body> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    axum::http::Request::post("/")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn message(parts: Value, task: Option<&str>, context: Option<&str>) -> Value {
    let mut message = json!({"kind": "message", "messageId": "m", "role": "user", "parts": parts});
    if let Some(task) = task {
        message["taskId"] = json!(task);
    }
    if let Some(context) = context {
        message["contextId"] = json!(context);
    }
    json!({"message": message})
}

fn text(text: &str) -> Value {
    json!([{"kind": "text", "text": text}])
}

async fn call(router: &Router, method: &str, params: Value) -> Value {
    let response = router.clone().oneshot(rpc(method, params)).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

/// The SSE frames of a `message/stream` call, as JSON-RPC responses, read as they come.
async fn stream(router: &Router, params: Value) -> impl futures_util::Stream<Item = Value> {
    let response = router
        .clone()
        .oneshot(rpc("message/stream", params))
        .await
        .unwrap();
    let mut body = response.into_body().into_data_stream();
    async_stream::stream! {
        let mut buffer = String::new();
        while let Some(chunk) = body.next().await {
            buffer.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                // Keep-alive comments (`:`) carry no data.
                if let Some(data) = frame.trim().strip_prefix("data:") {
                    yield serde_json::from_str::<Value>(data.trim()).unwrap();
                }
            }
        }
    }
}

async fn state_of(router: &Router, task: &str) -> Value {
    call(router, "tasks/get", json!({"id": task})).await["result"]["status"]["state"].clone()
}

static GATE: Semaphore = Semaphore::const_new(0);

/// Waits until the test lets it through.
#[tool]
async fn wait_for_gate() -> String {
    GATE.acquire().await.unwrap().forget();
    "through".to_owned()
}

#[tokio::test]
async fn a_client_that_goes_away_does_not_stop_its_task() {
    let router = A2AServer::builder(|| {
        Agent::builder()
            .description("Waits, then answers.")
            .tool(wait_for_gate)
            .model(
                ScriptedModel::builder()
                    .tool_use("w1", "wait_for_gate", "{}")
                    .text("done waiting")
                    .build(),
            )
            .build()
    })
    .build()
    .unwrap()
    .router();
    let mut frames = Box::pin(stream(&router, message(text("go"), None, None)).await);
    let first = frames.next().await.unwrap();
    let task = first["result"]["id"].as_str().unwrap().to_owned();
    drop(frames); // the client disconnects while the tool waits
    GATE.add_permits(1);
    let mut state = Value::Null;
    for _ in 0..200 {
        state = state_of(&router, &task).await;
        if state == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(state, "completed");
    let got = call(&router, "tasks/get", json!({"id": task})).await;
    assert_eq!(
        got["result"]["artifacts"][0]["parts"][0]["text"],
        "done waiting\n"
    );
}

fn hanging_then(text: &str) -> ScriptedModel {
    ScriptedModel::new([
        Step::EventsThenHang(
            text_stream(&["thinking"], strands_core::StopReason::EndTurn)[..3].to_vec(),
        ),
        Step::Events(text_stream(&[text], strands_core::StopReason::EndTurn)),
    ])
}

#[tokio::test]
async fn a_cancel_wins_over_the_running_agent_and_frees_the_conversation() {
    let router = A2AServer::builder(|| {
        Agent::builder()
            .description("Thinks forever, once.")
            .model(hanging_then("second answer"))
            .build()
    })
    .build()
    .unwrap()
    .router();
    let mut frames = Box::pin(stream(&router, message(text("go"), None, Some("c1"))).await);
    let task = frames.next().await.unwrap()["result"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let working = frames.next().await.unwrap();
    assert_eq!(working["result"]["status"]["state"], "working");

    let cancelled = call(&router, "tasks/cancel", json!({"id": task})).await;
    assert_eq!(cancelled["result"]["status"]["state"], "canceled");
    let last = frames.next().await.unwrap();
    assert_eq!(last["result"]["final"], true);
    assert_eq!(last["result"]["status"]["state"], "canceled");
    assert_eq!(state_of(&router, &task).await, "canceled");
    let again = call(&router, "tasks/cancel", json!({"id": task})).await;
    assert_eq!(again["error"]["code"], -32002);
    let late = call(
        &router,
        "message/send",
        message(text("more"), Some(&task), None),
    )
    .await;
    assert_eq!(late["error"]["code"], -32602, "{late}");

    let next = call(
        &router,
        "message/send",
        message(text("again"), None, Some("c1")),
    )
    .await;
    assert_eq!(next["result"]["status"]["state"], "completed", "{next}");
    assert_eq!(
        next["result"]["artifacts"][0]["parts"][0]["text"],
        "second answer\n"
    );
}

#[tokio::test]
async fn a_second_message_waits_for_its_conversation_within_a_bound() {
    let router = A2AServer::builder(|| {
        Agent::builder()
            .description("Thinks forever.")
            .model(hanging_then("unused"))
            .build()
    })
    .queue_timeout(Duration::from_millis(50))
    .build()
    .unwrap()
    .router();
    let mut frames = Box::pin(stream(&router, message(text("go"), None, Some("c1"))).await);
    let task = frames.next().await.unwrap()["result"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let busy = call(
        &router,
        "message/send",
        message(text("hello?"), None, Some("c1")),
    )
    .await;
    assert_eq!(busy["error"]["code"], -32603, "{busy}");
    assert!(busy["error"]["message"].as_str().unwrap().contains("busy"));
    assert_eq!(state_of(&router, &task).await, "working");
    // Another conversation is not held up: its agent starts at once.
    let mut other = Box::pin(stream(&router, message(text("hi"), None, Some("c2"))).await);
    let started = tokio::time::timeout(Duration::from_secs(5), other.next()).await;
    let other_task = started.unwrap().unwrap()["result"]["id"].clone();
    for task in [json!(task), other_task] {
        let cancelled = call(&router, "tasks/cancel", json!({"id": task})).await;
        assert_eq!(cancelled["result"]["status"]["state"], "canceled");
    }
}

/// Publish a document once a human approved it.
#[tool]
#[allow(
    clippy::needless_pass_by_value,
    reason = "tool arguments arrive by value"
)]
fn publish(title: String, context: ToolContext) -> Result<String, InterruptRaised> {
    let answer = context.interrupt("approve", json!(format!("publish {title}?")))?;
    Ok(format!("published {title} ({answer})"))
}

fn answer(id: &str, response: Value) -> Value {
    json!({"kind": "data", "data": {"interruptResponse": {"interruptId": id, "response": response}}})
}

#[tokio::test]
async fn bad_answers_to_an_interrupt_are_refused_and_the_task_still_waits() {
    let router = A2AServer::builder(|| {
        Agent::builder()
            .description("Publishes documents.")
            .tool(publish)
            .model(
                ScriptedModel::builder()
                    .tool_use("p1", "publish", r#"{"title": "Moon"}"#)
                    .text("Published.")
                    .build(),
            )
            .build()
    })
    .build()
    .unwrap()
    .router();
    let paused = call(
        &router,
        "message/send",
        message(text("publish Moon"), None, None),
    )
    .await;
    let task = paused["result"]["id"].as_str().unwrap().to_owned();
    let status = &paused["result"]["status"];
    assert_eq!(status["state"], "input-required");
    // A string reason is written as Python's str() writes it: without quotes.
    assert_eq!(
        status["message"]["parts"][0]["text"],
        "Agent requires input:\n- approve: publish Moon?"
    );
    let id = status["message"]["parts"][1]["data"]["interrupts"][0]["interruptId"]
        .as_str()
        .unwrap()
        .to_owned();

    let refusals = [
        (
            text("yes"),
            -32602,
            "Task is awaiting an interrupt response and cannot accept a new message".to_owned(),
        ),
        (
            json!([
                answer("nope", json!("yes")),
                answer("also-nope", json!("yes"))
            ]),
            -32602,
            "No pending interrupt matches id(s): also-nope, nope".to_owned(),
        ),
        (
            json!([answer(&id, Value::Null)]),
            -32602,
            format!("Interrupt response for '{id}' must provide a non-null 'response'"),
        ),
        (
            json!([answer(&id, json!("yes")), answer(&id, json!("no"))]),
            -32602,
            format!("Duplicate interrupt response for '{id}'"),
        ),
        (
            json!([answer(&id, json!("yes")), {"kind": "text", "text": "and more"}]),
            -32602,
            "A message carrying interrupt responses must not contain other content parts"
                .to_owned(),
        ),
        (
            json!([{"kind": "data", "data": {"interruptResponse": "yes"}}]),
            -32602,
            "'interruptResponse' must be an object with 'interruptId' and 'response'".to_owned(),
        ),
        (
            json!([]),
            -32603,
            "No valid content found in request message parts".to_owned(),
        ),
    ];
    for (parts, code, text) in refusals {
        let refused = call(
            &router,
            "message/send",
            message(parts.clone(), Some(&task), None),
        )
        .await;
        assert_eq!(
            refused["error"],
            json!({"code": code, "message": text}),
            "{parts}"
        );
        assert_eq!(state_of(&router, &task).await, "input-required");
    }
    let resumed = call(
        &router,
        "message/send",
        message(json!([answer(&id, json!("yes"))]), Some(&task), None),
    )
    .await;
    assert_eq!(
        resumed["result"]["status"]["state"], "completed",
        "{resumed}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let router = A2AServer::builder(|| {
        Agent::builder()
            .description("Never runs.")
            .model(ScriptedModel::builder().build())
            .build()
    })
    .max_body_bytes(1024)
    .build()
    .unwrap()
    .router();
    let big = "x".repeat(2048);
    let response = router
        .oneshot(rpc("message/send", message(text(&big), None, None)))
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}
