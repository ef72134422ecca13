//! Runs the example against a fake Bedrock: the model fills the report through its output tool,
//! first with an invalid value (answered with the validation error), then a valid one.

use std::process::{Command, Stdio};

use serde_json::{Value, json};
use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};
use strands_testkit::served::ServedBinary;

const AKID: &str = "AKIDEXAMPLESTRUCT0001";
const SECRET: &str = "example-struct-secret-00000000000000000";

#[tokio::test]
async fn the_answer_is_the_validated_report() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::tool_turn(&[(
        "r1",
        "WeatherReport",
        r#"{"temperature": "warm", "conditions": "sunny", "city": "Lisbon"}"#,
    )])));
    fake.push(Reply::Stream(frames::tool_turn(&[(
        "r2",
        "WeatherReport",
        r#"{"temperature": 21.5, "conditions": "sunny", "city": "Lisbon"}"#,
    )])));
    let mut command = Command::new(env!("CARGO_BIN_EXE_example-structured-output"));
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

    let answer: Value = reqwest::Client::new()
        .post(server.url("/invocations"))
        .body(r#"{"prompt": "Weather in Lisbon: 21.5 C and sunny"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"temperature": 21.5, "conditions": "sunny", "city": "Lisbon"})
    );

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let spec = &requests[0].body["toolConfig"]["tools"][0]["toolSpec"];
    assert_eq!(spec["name"], "WeatherReport");
    assert_eq!(
        spec["inputSchema"]["json"]["required"],
        json!(["temperature", "conditions", "city"])
    );
    let retry = &requests[1].body["messages"][2]["content"][0]["toolResult"];
    let text = retry["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Validation failed for WeatherReport"),
        "{text}"
    );
}
