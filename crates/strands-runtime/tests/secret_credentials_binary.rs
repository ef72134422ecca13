//! The binary with `BEDROCK_CREDENTIALS_SECRET`, against MiniStack (Secrets Manager with SigV4
//! checks, started by `scripts/ministack`) and the fake Bedrock: the reader keys come from the
//! environment, the secret's keys sign the Bedrock calls, and the secret's region is used.
//! Skipped without MiniStack unless `STRANDS_REQUIRE_MINISTACK=1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "tests"
)]
#![cfg(unix)]

mod common;
mod ministack;

use ministack::ministack;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use strands_testkit::bedrock::{AuthOutcome, FakeAuth, FakeBedrock, Reply, frames};

const BEDROCK_KEY: (&str, &str) = (
    "AKIABINARYSECRET0001",
    "binary-secret-value-00000000000000000000",
);

#[tokio::test]
async fn the_binary_signs_bedrock_calls_with_the_secrets_keys_and_region() {
    let Some(ministack) = ministack("secret_credentials_binary") else {
        return;
    };
    let (endpoint, (reader_key, reader_secret)) = (ministack.endpoint, ministack.reader);
    for value in [
        BEDROCK_KEY.0,
        BEDROCK_KEY.1,
        reader_key.as_str(),
        reader_secret.as_str(),
    ] {
        common::trace_logs::secret(value);
    }
    let root = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "test", "test", None, None, "root",
        ))
        .endpoint_url(&endpoint)
        .load()
        .await;
    let name = format!("bedrock/binary-{}", std::process::id());
    aws_sdk_secretsmanager::Client::new(&root)
        .create_secret()
        .name(&name)
        .secret_string(format!(
            r#"{{"AWS_ACCESS_KEY_ID": "{}", "AWS_SECRET_ACCESS_KEY": "{}", "AWS_REGION": "eu-west-1"}}"#,
            BEDROCK_KEY.0, BEDROCK_KEY.1
        ))
        .send()
        .await
        .unwrap();

    let fake = FakeBedrock::start(FakeAuth::sigv4(BEDROCK_KEY.0, BEDROCK_KEY.1))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(
        &["from the secret"],
        "end_turn",
    )));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strands-runtime"))
        .env_clear()
        .env(
            "HOME",
            std::env::temp_dir().join(format!("strands-secret-test-{port}")),
        )
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", &reader_key)
        .env("AWS_SECRET_ACCESS_KEY", &reader_secret)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", &endpoint)
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.endpoint_url())
        .env("BEDROCK_CREDENTIALS_SECRET", &name)
        .env("MODEL_ID", "eu.anthropic.claude-sonnet-4-20250514-v1:0")
        .env("LOG_LEVEL", common::trace_logs::level())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{url}/ping")).await.is_err() {
        assert!(Instant::now() < deadline, "no /ping within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let body = reqwest::Client::new()
        .post(format!("{url}/invocations"))
        .body(r#"{"prompt": "hi"}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    common::trace_logs::keep("secret_credentials_binary", &logs);
    assert_eq!(body, r#"{"result": "from the secret\n"}"#, "{logs}");
    let request = &fake.requests()[0];
    assert_eq!(request.auth, AuthOutcome::Accepted);
    assert!(
        request
            .header("authorization")
            .unwrap()
            .contains("/eu-west-1/bedrock/aws4_request"),
        "the secret's region signs the call"
    );
    for value in [BEDROCK_KEY.1, reader_secret.as_str()] {
        assert!(!logs.contains(value), "a secret value reached the logs");
    }
    assert!(logs.contains("Credential env check"));
}
