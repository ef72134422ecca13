//! Runs the example twice against MiniStack's S3 (SigV4 checked) and a fake Bedrock: the second
//! process, a new "microVM", continues the session the first one left in S3. Skipped unless
//! MiniStack runs (`scripts/ministack cargo test -p example-s3-sessions`).

use std::process::{Command, Stdio};

use serde_json::{Value, json};
use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};
use strands_testkit::served::ServedBinary;

/// MiniStack's root key, which also signs the fake Bedrock's requests here.
const KEY: (&str, &str) = ("test", "test");
const SESSION: &str = "s3-example-session-0000000000000000001";

fn ministack() -> Option<String> {
    match std::env::var("MINISTACK_ENDPOINT") {
        Ok(endpoint) => Some(endpoint),
        Err(_) if std::env::var("STRANDS_REQUIRE_MINISTACK").is_ok() => {
            panic!("MINISTACK_ENDPOINT is missing; run through scripts/ministack")
        }
        Err(_) => {
            eprintln!(
                "skipped: MiniStack is not running (scripts/ministack cargo test -p example-s3-sessions)"
            );
            None
        }
    }
}

async fn create_bucket(endpoint: &str, bucket: &str) {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            KEY.0, KEY.1, None, None, "test",
        ))
        .load()
        .await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket(bucket).send().await.unwrap();
}

async fn microvm(fake: &FakeBedrock, endpoint: &str, bucket: &str) -> ServedBinary {
    let mut command = Command::new(env!("CARGO_BIN_EXE_example-s3-sessions"));
    command
        .env_clear()
        .env("SESSION_BUCKET", bucket)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", KEY.0)
        .env("AWS_SECRET_ACCESS_KEY", KEY.1)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.endpoint_url())
        .env("AWS_ENDPOINT_URL_S3", endpoint)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    ServedBinary::start(command).await.unwrap()
}

async fn invoke(server: &ServedBinary, prompt: &str) -> Value {
    reqwest::Client::new()
        .post(server.url("/invocations"))
        .header("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", SESSION)
        .body(json!({"prompt": prompt}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_session_continues_in_another_process_from_s3() {
    let Some(endpoint) = ministack() else { return };
    let bucket = format!("example-sessions-{}", std::process::id());
    create_bucket(&endpoint, &bucket).await;
    let fake = FakeBedrock::start(FakeAuth::sigv4(KEY.0, KEY.1))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(
        &["Hello Ada."],
        "end_turn",
    )));
    fake.push(Reply::Stream(frames::text_turn(
        &["Your name is Ada."],
        "end_turn",
    )));

    let first = microvm(&fake, &endpoint, &bucket).await;
    assert_eq!(
        invoke(&first, "My name is Ada.").await,
        json!({"result": "Hello Ada.\n"})
    );
    drop(first);
    let second = microvm(&fake, &endpoint, &bucket).await;
    assert_eq!(
        invoke(&second, "What is my name?").await,
        json!({"result": "Your name is Ada.\n"})
    );

    // The second process sent the whole conversation, read back from S3.
    let messages = &fake.requests()[1].body["messages"];
    let texts: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["My name is Ada.", "Hello Ada.", "What is my name?"]);
}
