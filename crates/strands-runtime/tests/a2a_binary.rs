//! `strands-runtime serve --protocol a2a`: AgentCore's A2A contract (the agent card, JSON-RPC at
//! `/`, `/ping` without a timestamp) served by the binary, its agent answering through a
//! SigV4-checking fake Bedrock.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::ffi::OsStr;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};

const AKID: &str = "AKIDA2ABINARY";
const SECRET: &str = "a2a-binary-secret";

async fn rpc(url: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn serves_the_agent_over_a2a() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(&["Sunny."], "end_turn")));
    fake.push(Reply::Stream(frames::text_turn(
        &["Still ", "sunny."],
        "end_turn",
    )));
    let dir = tempfile::tempdir().unwrap();
    let args = [OsStr::new("--protocol"), OsStr::new("a2a")];
    let served =
        common::serve_on_fake_bedrock(&fake, dir.path(), (AKID, SECRET), &args, "a2a_binary").await;

    let ping: Value = reqwest::get(served.url("/ping"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ping, json!({"status": "Healthy"}));

    let card: Value = reqwest::get(served.url("/.well-known/agent-card.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(card["name"], "Strands Agents");
    assert_eq!(card["protocolVersion"], "0.3.0");
    assert_eq!(card["url"], served.url("/"));
    assert_eq!(card["capabilities"], json!({"streaming": true}));

    let message = json!({"kind": "message", "messageId": "m1", "role": "user",
        "parts": [{"kind": "text", "text": "What is the weather?"}]});
    let sent: Value = rpc(
        &served.url("/"),
        json!({"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {"message": message}}),
    )
    .await
    .json()
    .await
    .unwrap();
    let task = &sent["result"];
    assert_eq!(sent["id"], 1);
    assert_eq!(task["kind"], "task");
    assert_eq!(task["status"]["state"], "completed");
    assert_eq!(task["artifacts"][0]["name"], "agent_response");
    assert_eq!(task["artifacts"][0]["parts"][0]["text"], "Sunny.\n");

    // The same conversation streams its next answer, one frame per step.
    let follow = json!({"kind": "message", "messageId": "m2", "role": "user",
        "contextId": task["contextId"], "parts": [{"kind": "text", "text": "And tomorrow?"}]});
    let body = rpc(
        &served.url("/"),
        json!({"jsonrpc": "2.0", "id": "s", "method": "message/stream", "params": {"message": follow}}),
    )
    .await
    .text()
    .await
    .unwrap();
    let frames: Vec<Value> = body
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).unwrap())
        .collect();
    let kinds: Vec<&str> = frames
        .iter()
        .map(|f| f["result"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "task",
            "status-update",
            "status-update",
            "artifact-update",
            "status-update"
        ]
    );
    assert_eq!(
        frames[3]["result"]["artifact"]["parts"][0]["text"],
        "Still sunny.\n"
    );
    assert_eq!(frames[4]["result"]["final"], true);
    assert_eq!(frames[4]["result"]["contextId"], task["contextId"]);
    // The agent of that conversation saw the first exchange.
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].body["messages"].as_array().unwrap().len(), 3);

    let unknown: Value = rpc(
        &served.url("/"),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tasks/get", "params": {"id": "nope"}}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        unknown,
        json!({"id": 3, "jsonrpc": "2.0", "error": {"code": -32001, "message": "Task not found"}})
    );
}
