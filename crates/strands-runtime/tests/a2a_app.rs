//! An A2A server inside an [`AgentCoreApp`]: its bodies are read under the app's limits.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use strands_agent::Agent;
use strands_runtime::AgentCoreApp;
use strands_runtime::a2a::A2AServer;
use strands_testkit::ScriptedModel;
use tower::ServiceExt;

fn send(text: &str) -> axum::http::Request<Body> {
    let message = json!({"kind": "message", "messageId": "m", "role": "user",
        "parts": [{"kind": "text", "text": text}]});
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {"message": message}});
    axum::http::Request::post("/")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn a2a_bodies_are_read_under_the_apps_limits() {
    let server = A2AServer::builder(|| {
        Agent::builder()
            .description("Says hi.")
            .model(ScriptedModel::builder().text("hi").build())
            .build()
    })
    .build()
    .unwrap();
    let router = AgentCoreApp::new()
        .max_body_bytes(1024)
        .a2a_server(server)
        .into_router();

    let refused = router
        .clone()
        .oneshot(send(&"x".repeat(2048)))
        .await
        .unwrap();
    assert_eq!(refused.status(), 413);

    let answered = router.oneshot(send("hello")).await.unwrap();
    assert_eq!(answered.status(), 200);
    let body = answered.into_body().collect().await.unwrap().to_bytes();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["result"]["status"]["state"], "completed");
}
