//! Bedrock credentials from a Secrets Manager secret, against MiniStack with SigV4 verification
//! on (started by `scripts/ministack`, which `scripts/test` runs): reader keys fetch the secret;
//! the secret's keys sign the calls the fake Bedrock accepts; rotating the secret mid-run switches
//! keys without a restart; missing permission, a missing secret and malformed JSON are clear
//! errors; no credential value reaches the logs.
//!
//! Without MiniStack's variables these tests report that they were skipped, unless
//! `STRANDS_REQUIRE_MINISTACK=1` (set by `scripts/ministack`) makes that a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "tests"
)]

mod common;
mod ministack;

use ministack::{MiniStack, ministack};

const TEST: &str = "secrets_ministack";

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use strands_agent::{Agent, ModelRetryStrategy};
use strands_aws::{SecretError, SecretsManagerCredentials};
use strands_core::ModelError;
use strands_models::bedrock::BedrockModel;
use strands_testkit::bedrock::{AuthOutcome, FakeAuth, FakeBedrock, Reply, frames};
use tracing_subscriber::fmt::MakeWriter;

async fn secrets_client(endpoint: &str, key: &str, secret: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .endpoint_url(endpoint)
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&config)
}

/// The MiniStack root key (its signature is not checked) creates and rotates secrets.
async fn root(ms: &MiniStack) -> aws_sdk_secretsmanager::Client {
    secrets_client(&ms.endpoint, "test", "test").await
}

fn keys_json(akid: &str, secret: &str) -> String {
    format!(r#"{{"AWS_ACCESS_KEY_ID": "{akid}", "AWS_SECRET_ACCESS_KEY": "{secret}"}}"#)
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

const KEY_A: (&str, &str) = (
    "AKIASECRETKEYSA00001",
    "secret-a-value-0000000000000000000000000",
);
const KEY_B: (&str, &str) = (
    "AKIASECRETKEYSB00002",
    "secret-b-value-0000000000000000000000000",
);

#[tokio::test(flavor = "current_thread")]
async fn the_secrets_keys_sign_bedrock_calls_and_rotation_needs_no_restart() {
    let Some(ms) = ministack(TEST) else { return };
    for value in [KEY_A.0, KEY_A.1, KEY_B.0, KEY_B.1] {
        common::trace_logs::secret(value);
    }
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let name = format!("bedrock/creds-{}", uuid::Uuid::new_v4());
    root(&ms)
        .await
        .create_secret()
        .name(&name)
        .secret_string(keys_json(KEY_A.0, KEY_A.1))
        .send()
        .await
        .unwrap();
    let reader = secrets_client(&ms.endpoint, &ms.reader.0, &ms.reader.1).await;
    let credentials =
        SecretsManagerCredentials::with_refresh_interval(reader, &name, Duration::from_secs(3600));

    let fake = FakeBedrock::start(FakeAuth::sigv4(KEY_A.0, KEY_A.1))
        .await
        .unwrap();
    let refresher = credentials.clone();
    let model = BedrockModel::builder()
        .model_id("us.anthropic.claude-sonnet-4-20250514-v1:0")
        .region("us-east-1")
        .credentials_provider(credentials.clone())
        .on_credentials_rejected(move || refresher.invalidate())
        .endpoint_url(fake.endpoint_url())
        .build()
        .await;
    let mut agent = Agent::builder()
        .model(model)
        .retry_strategy(ModelRetryStrategy::none())
        .build()
        .unwrap();

    fake.push(Reply::Stream(frames::text_turn(
        &["signed with A"],
        "end_turn",
    )));
    assert_eq!(
        agent.invoke("hi").await.unwrap().to_string(),
        "signed with A\n"
    );

    // Rotation: the secret gets new keys and the service stops accepting the old ones.
    root(&ms)
        .await
        .put_secret_value()
        .secret_id(&name)
        .secret_string(keys_json(KEY_B.0, KEY_B.1))
        .send()
        .await
        .unwrap();
    fake.set_auth(FakeAuth::sigv4(KEY_B.0, KEY_B.1));
    fake.push(Reply::Stream(frames::text_turn(
        &["signed with B"],
        "end_turn",
    )));
    assert_eq!(
        agent.invoke("again").await.unwrap().to_string(),
        "signed with B\n"
    );

    let outcomes: Vec<AuthOutcome> = fake.requests().iter().map(|r| r.auth).collect();
    assert_eq!(
        outcomes,
        [
            AuthOutcome::Accepted,
            AuthOutcome::UnrecognizedClient,
            AuthOutcome::Accepted
        ]
    );
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    for value in [KEY_A.1, KEY_B.1, ms.reader.1.as_str()] {
        assert!(!text.contains(value), "a secret value reached the logs");
    }
}

#[tokio::test]
async fn a_reader_without_permission_gets_a_clear_error() {
    let Some(ms) = ministack(TEST) else { return };
    let name = format!("bedrock/creds-{}", uuid::Uuid::new_v4());
    root(&ms)
        .await
        .create_secret()
        .name(&name)
        .secret_string(keys_json(KEY_A.0, KEY_A.1))
        .send()
        .await
        .unwrap();
    let client = secrets_client(&ms.endpoint, &ms.no_access.0, &ms.no_access.1).await;
    let error = SecretsManagerCredentials::new(client, &name)
        .current()
        .await
        .unwrap_err();
    assert!(matches!(error, SecretError::AccessDenied { .. }), "{error}");
    assert!(error.to_string().contains(&name));
    assert!(error.to_string().contains("secretsmanager:GetSecretValue"));
}

#[tokio::test]
async fn a_missing_secret_is_named_with_the_fix() {
    let Some(ms) = ministack(TEST) else { return };
    let client = secrets_client(&ms.endpoint, &ms.reader.0, &ms.reader.1).await;
    let error = SecretsManagerCredentials::new(client, "bedrock/does-not-exist")
        .current()
        .await
        .unwrap_err();
    assert!(matches!(error, SecretError::NotFound { .. }), "{error}");
    assert!(error.to_string().contains("BEDROCK_CREDENTIALS_SECRET"));
}

#[tokio::test]
async fn malformed_secret_json_is_a_clear_error_and_the_model_call_says_so() {
    let Some(ms) = ministack(TEST) else { return };
    let name = format!("bedrock/creds-{}", uuid::Uuid::new_v4());
    root(&ms)
        .await
        .create_secret()
        .name(&name)
        .secret_string("AWS_ACCESS_KEY_ID=oops")
        .send()
        .await
        .unwrap();
    let client = secrets_client(&ms.endpoint, &ms.reader.0, &ms.reader.1).await;
    let credentials = SecretsManagerCredentials::new(client, &name);
    let error = credentials.current().await.unwrap_err();
    assert!(matches!(error, SecretError::Malformed { .. }), "{error}");

    let fake = FakeBedrock::start(FakeAuth::Any).await.unwrap();
    let model = BedrockModel::builder()
        .model_id("us.anthropic.claude-sonnet-4-20250514-v1:0")
        .region("us-east-1")
        .credentials_provider(credentials)
        .endpoint_url(fake.endpoint_url())
        .build()
        .await;
    let mut agent = Agent::builder()
        .model(model)
        .retry_strategy(ModelRetryStrategy::none())
        .build()
        .unwrap();
    let error = agent.invoke("hi").await.unwrap_err();
    let source = error.model_error().unwrap();
    assert!(matches!(source, ModelError::Credentials { .. }), "{source}");
    assert!(source.to_string().contains(&name), "{source}");
    assert!(fake.requests().is_empty());
}
