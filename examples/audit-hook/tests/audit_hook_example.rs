//! Runs the example against a fake Bedrock: both tool calls are audited, the denied one is
//! refused before it runs and the model reads why.

use std::process::{Command, Stdio};

use serde_json::{Value, json};
use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};
use strands_testkit::served::ServedBinary;

const AKID: &str = "AKIDEXAMPLEAUDIT00001";
const SECRET: &str = "example-audit-secret-000000000000000000";

#[tokio::test]
async fn tool_calls_are_audited_and_denied_tools_refused() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::tool_turn(&[
        ("c1", "calculator", r#"{"expression": "2 + 2"}"#),
        ("t1", "current_time", "{}"),
    ])));
    fake.push(Reply::Stream(frames::text_turn(
        &["4; the time is not available."],
        "end_turn",
    )));
    let out = std::env::temp_dir().join(format!("example-audit-{}.log", std::process::id()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_example-audit-hook"));
    command
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.endpoint_url())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null());
    let server = ServedBinary::start(command).await.unwrap();

    let answer: Value = reqwest::Client::new()
        .post(server.url("/invocations"))
        .header(
            "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
            "audit-session-000000000000000000001",
        )
        .body(r#"{"prompt": "What is 2 + 2, and what time is it?"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({"result": "4; the time is not available.\n"}));

    let results = &fake.requests()[1].body["messages"][2]["content"];
    assert_eq!(
        results[0]["toolResult"]["content"],
        json!([{"text": "Result: 4"}])
    );
    assert_eq!(
        results[1]["toolResult"]["content"],
        json!([{"text": "the current_time tool is not allowed here"}])
    );
    drop(server);
    let log = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    assert!(log.contains("audit: tool call: session=audit-session-000000000000000000001 tool=calculator input={\"expression\":\"2 + 2\"} allowed=true"), "{log}");
    assert!(
        log.contains("tool=current_time input={} allowed=false"),
        "{log}"
    );
    assert!(
        log.contains("audit: tool result: tool=calculator error=false"),
        "{log}"
    );
    assert!(
        log.contains("audit: tool result: tool=current_time error=true"),
        "{log}"
    );
}
