//! Runs the example against a fake Bedrock (Bedrock's wire protocol, SigV4 checked): the model
//! asks for both tools, and their results go back to it.

use std::process::{Command, Stdio};

use serde_json::{Value, json};
use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};
use strands_testkit::served::ServedBinary;

const AKID: &str = "AKIDEXAMPLEBEDROCK001";
const SECRET: &str = "example-bedrock-secret-0000000000000000";

#[tokio::test]
async fn the_agent_calls_its_tools_over_invocations() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::tool_turn(&[
        ("w1", "weather", r#"{"city": "Lisbon"}"#),
        ("f1", "to_fahrenheit", r#"{"celsius": 22}"#),
    ])));
    fake.push(Reply::Stream(frames::text_turn(
        &["It is sunny and 71.6 F in Lisbon."],
        "end_turn",
    )));

    let mut command = Command::new(env!("CARGO_BIN_EXE_example-bedrock-agent"));
    command
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.endpoint_url())
        .env("MODEL_ID", "us.anthropic.claude-sonnet-4-20250514-v1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let server = ServedBinary::start(command).await.unwrap();

    let answer: Value = reqwest::Client::new()
        .post(server.url("/invocations"))
        .header(
            "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
            "example-session-00000000000000000001",
        )
        .body(r#"{"prompt": "How warm is it in Lisbon, in Fahrenheit?"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"result": "It is sunny and 71.6 F in Lisbon.\n"})
    );

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let tools: Vec<&str> = requests[0].body["toolConfig"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["toolSpec"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["weather", "to_fahrenheit"]);
    let results: Vec<&Value> = requests[1].body["messages"][2]["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|block| &block["toolResult"]["content"][0]["text"])
        .collect();
    assert_eq!(
        results,
        [
            &json!("Sunny and 22 degrees Celsius in Lisbon"),
            &json!("71.6")
        ]
    );
}
