//! Runs the example against a fake Bedrock: the streamed answer carries the model's events, the
//! calculator's result and the final result, one SSE frame each.

use std::process::{Command, Stdio};

use serde_json::{Value, json};
use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};
use strands_testkit::served::ServedBinary;

const AKID: &str = "AKIDEXAMPLESTREAM0001";
const SECRET: &str = "example-stream-secret-00000000000000000";

#[tokio::test]
async fn every_agent_event_is_one_sse_frame() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::tool_turn(&[(
        "c1",
        "calculator",
        r#"{"expression": "6 * 7"}"#,
    )])));
    fake.push(Reply::Stream(frames::text_turn(
        &["6 times 7", " is 42."],
        "end_turn",
    )));
    let mut command = Command::new(env!("CARGO_BIN_EXE_example-streaming-events"));
    command
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.endpoint_url())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let server = ServedBinary::start(command).await.unwrap();

    let response = reqwest::Client::new()
        .post(server.url("/invocations"))
        .body(r#"{"prompt": "What is 6 times 7?"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let body = response.text().await.unwrap();
    let events: Vec<Value> = body
        .split("\n\n")
        .filter_map(|frame| frame.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).unwrap())
        .collect();
    let text: String = events.iter().filter_map(|e| e["data"].as_str()).collect();
    assert_eq!(text, "6 times 7 is 42.");
    let tool_result = events.iter().find(|e| e["type"] == "tool_result").unwrap();
    assert_eq!(
        tool_result["tool_result"]["content"],
        json!([{"text": "Result: 42"}])
    );
    let last = events.last().unwrap();
    assert_eq!(last["result"]["stop_reason"], "end_turn", "{last}");

    // A payload without a prompt is the client's error.
    let status = reqwest::Client::new()
        .post(server.url("/invocations"))
        .body(r#"{"question": "?"}"#)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 400);
}
