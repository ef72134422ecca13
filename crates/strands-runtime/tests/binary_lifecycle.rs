//! The `strands-runtime` binary: starts and answers `/ping` at once, serves an agent backed by
//! Bedrock's wire protocol (a fake that checks SigV4), and on SIGTERM stops within the grace period
//! even when a stream never ends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]
#![cfg(unix)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};

mod common;

use common::trace_logs;

const AKID: &str = "AKIDLIFECYCLETEST001";
const SECRET: &str = "lifecycle-test-secret-000000000000000000";

struct Runtime {
    child: Child,
    port: u16,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(fake: &FakeBedrock, extra: &[(&str, &str)]) -> Runtime {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = std::env::temp_dir().join(format!("strands-runtime-test-{port}"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_strands-runtime"));
    command
        .env_clear()
        .env("HOME", &home)
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.endpoint_url())
        .env("MODEL_ID", "us.anthropic.claude-sonnet-4-20250514-v1:0")
        .env("LOG_LEVEL", trace_logs::level())
        .stdout(Stdio::null())
        .stderr(trace_logs::stderr("binary_lifecycle"));
    trace_logs::secret(AKID);
    trace_logs::secret(SECRET);
    for (k, v) in extra {
        command.env(k, v);
    }
    let runtime = Runtime {
        child: command.spawn().unwrap(),
        port,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reqwest::get(format!("http://127.0.0.1:{port}/ping"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return runtime;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the runtime did not answer /ping within 30 s");
}

#[tokio::test]
async fn the_binary_serves_an_agent_over_bedrock() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(
        &["Hello", " there."],
        "end_turn",
    )));
    let runtime = start(&fake, &[]).await;
    let body = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/invocations", runtime.port))
        .body(r#"{"prompt": "hi"}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, r#"{"result": "Hello there.\n"}"#);
    let request = &fake.requests()[0];
    assert_eq!(
        request.auth,
        strands_testkit::bedrock::AuthOutcome::Accepted
    );
    assert_eq!(
        request.model_id,
        "us.anthropic.claude-sonnet-4-20250514-v1:0"
    );
}

#[tokio::test]
async fn sigterm_stops_within_the_grace_period_even_with_a_hung_stream() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Hang);
    let mut runtime = start(&fake, &[("SHUTDOWN_GRACE_SECONDS", "1")]).await;
    let url = format!("http://127.0.0.1:{}/invocations", runtime.port);
    let hung = tokio::spawn(async move {
        // Keep reading, so the stream stays in flight until the server gives up on it.
        let mut received = Vec::new();
        if let Ok(mut response) = reqwest::Client::new()
            .post(url)
            .body(r#"{"prompt": "hi", "stream": true}"#)
            .send()
            .await
        {
            while let Ok(Some(chunk)) = response.chunk().await {
                received.extend_from_slice(&chunk);
            }
        }
        String::from_utf8_lossy(&received).into_owned()
    });
    while fake.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &runtime.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = loop {
        if let Some(exit) = runtime.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(20),
            "did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "{exit:?}");
    assert!(
        signalled.elapsed() >= Duration::from_millis(900),
        "the grace period was honoured"
    );
    // The client learns that the answer is incomplete, in Python's error-frame format.
    let received = hung.await.unwrap();
    assert!(
        received.contains(r#""error_type": "ServerShutdown""#),
        "{received}"
    );
}

#[tokio::test]
async fn an_unreadable_credentials_secret_keeps_ping_up_and_names_the_secret_in_errors() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    // Nothing listens here: the secret cannot be read.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{closed}");
    let runtime = start(
        &fake,
        &[
            ("BEDROCK_CREDENTIALS_SECRET", "bedrock/prod-creds"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &endpoint),
        ],
    )
    .await;
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/invocations", runtime.port))
        .body(r#"{"prompt": "hi"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let body: serde_json::Value = response.json().await.unwrap();
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("bedrock/prod-creds"), "{error}");
    assert!(!error.contains(SECRET), "{error}");
    assert!(
        fake.requests().is_empty(),
        "no unsigned call reached Bedrock"
    );
    let ping = reqwest::get(format!("http://127.0.0.1:{}/ping", runtime.port))
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
}

#[tokio::test]
async fn doctor_finds_agentcore_role_credentials_behind_a_405_metadata_service() {
    use strands_testkit::imds::{FakeImds, ImdsMode};
    let imds = FakeImds::start(ImdsMode::TokenMethodNotAllowed)
        .await
        .unwrap();
    let (key, secret, token) = imds.credentials();
    for value in [key.as_str(), secret.as_str(), token.as_str()] {
        trace_logs::secret(value);
    }
    let endpoint = imds.endpoint();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_strands-runtime"))
            .arg("doctor")
            .env_clear()
            .env("HOME", std::env::temp_dir().join("strands-doctor-test"))
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint)
            .env("MODEL_ID", "anthropic.claude-sonnet-4-20250514-v1:0")
            .env("LOG_LEVEL", trace_logs::level())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    trace_logs::keep("doctor", &String::from_utf8_lossy(&output.stderr));
    let report = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains("[ ok ] region: us-east-1 (from AWS_REGION)"),
        "{report}"
    );
    assert!(
        report.contains("[ ok ] credentials: resolved (expires in"),
        "{report}"
    );
    assert!(
        report.contains(
            "use an inference profile such as us.anthropic.claude-sonnet-4-20250514-v1:0"
        ),
        "{report}"
    );
    assert!(
        !report.contains(&secret) && !report.contains(&token),
        "no credential value is printed"
    );
    let requests = imds.requests();
    assert!(
        requests
            .iter()
            .any(|(method, path, _)| method == "GET" && path.ends_with("/agent-role")),
        "{requests:?}"
    );
}
