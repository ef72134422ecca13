//! `ImdsCredentialsProvider` against the testkit's fake metadata service: IMDSv2, AgentCore's
//! 405 on the token request, 404, a black hole, no role, caching, and an end-to-end Bedrock
//! call signed with the credentials it loaded.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseStreamOutput, Message,
};
use strands_aws::ImdsCredentialsProvider;
use strands_testkit::bedrock::{AuthOutcome, FakeAuth, FakeBedrock, Reply, frames};
use strands_testkit::imds::{FakeImds, ImdsMode};

const TOKEN_PATH: &str = "/latest/api/token";
const ROLE_LIST_PATH: &str = "/latest/meta-data/iam/security-credentials/";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/agent-role";

fn provider_for(fake: &FakeImds) -> ImdsCredentialsProvider {
    ImdsCredentialsProvider::builder()
        .endpoint(fake.endpoint())
        .build()
}

fn request(method: &str, path: &str, had_token: bool) -> (String, String, bool) {
    (method.to_owned(), path.to_owned(), had_token)
}

/// The error and all its sources, as an operator would see them.
fn error_chain(error: &CredentialsError) -> String {
    let mut text = String::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = current {
        text.push_str(&error.to_string());
        text.push_str(": ");
        current = error.source();
    }
    text
}

async fn tokenless_fallback_yields_role_credentials(mode: ImdsMode) {
    let fake = FakeImds::start(mode).await.unwrap();
    let (access_key_id, secret, token) = fake.credentials();

    let credentials = provider_for(&fake).provide_credentials().await.unwrap();

    assert_eq!(credentials.access_key_id(), access_key_id);
    assert_eq!(credentials.secret_access_key(), secret);
    assert_eq!(credentials.session_token(), Some(token.as_str()));
    assert_eq!(
        fake.requests(),
        vec![
            request("PUT", TOKEN_PATH, false),
            request("GET", ROLE_LIST_PATH, false),
            request("GET", CREDENTIALS_PATH, false),
        ]
    );
}

#[tokio::test]
async fn imdsv2_yields_role_credentials_with_the_token_on_every_get() {
    let fake = FakeImds::start(ImdsMode::V2).await.unwrap();
    let (access_key_id, secret, token) = fake.credentials();

    let credentials = provider_for(&fake).provide_credentials().await.unwrap();

    assert_eq!(credentials.access_key_id(), access_key_id);
    assert_eq!(credentials.secret_access_key(), secret);
    assert_eq!(credentials.session_token(), Some(token.as_str()));
    let expiry = credentials.expiry().unwrap();
    let remaining = expiry.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(remaining > Duration::from_secs(3500), "{remaining:?}");
    assert_eq!(
        fake.requests(),
        vec![
            request("PUT", TOKEN_PATH, false),
            request("GET", ROLE_LIST_PATH, true),
            request("GET", CREDENTIALS_PATH, true),
        ]
    );
}

#[tokio::test]
async fn token_request_answered_405_falls_back_to_tokenless_gets_like_agentcore() {
    tokenless_fallback_yields_role_credentials(ImdsMode::TokenMethodNotAllowed).await;
}

#[tokio::test]
async fn token_request_answered_404_falls_back_to_tokenless_gets() {
    tokenless_fallback_yields_role_credentials(ImdsMode::TokenNotFound).await;
}

#[tokio::test]
async fn hanging_metadata_service_is_not_loaded_within_bounded_time() {
    let fake = FakeImds::start(ImdsMode::Hang).await.unwrap();
    let provider = ImdsCredentialsProvider::builder()
        .endpoint(fake.endpoint())
        .timeout(Duration::from_millis(200))
        .build();

    // Real time on purpose: this checks that the provider's timeouts fire.
    let started = Instant::now();
    let error = provider.provide_credentials().await.unwrap_err();
    let elapsed = started.elapsed();

    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(
        matches!(error, CredentialsError::CredentialsNotLoaded(_)),
        "{error:?}"
    );
    assert!(
        error_chain(&error).contains("no metadata service at"),
        "{}",
        error_chain(&error)
    );
    assert_eq!(fake.requests(), vec![request("PUT", TOKEN_PATH, false)]);
}

#[tokio::test]
async fn absent_metadata_service_is_not_loaded() {
    // Bind a port, then free it, so nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let provider = ImdsCredentialsProvider::builder()
        .endpoint(endpoint)
        .build();

    let error = provider.provide_credentials().await.unwrap_err();

    assert!(
        matches!(error, CredentialsError::CredentialsNotLoaded(_)),
        "{error:?}"
    );
    assert!(error_chain(&error).contains("no metadata service at http://127.0.0.1:"));
}

#[tokio::test]
async fn no_role_attached_is_not_loaded_with_an_error_that_says_so() {
    let fake = FakeImds::start(ImdsMode::NoRole).await.unwrap();

    let error = provider_for(&fake).provide_credentials().await.unwrap_err();

    assert!(
        matches!(error, CredentialsError::CredentialsNotLoaded(_)),
        "{error:?}"
    );
    let text = error_chain(&error);
    assert!(
        text.contains("no IAM role attached to this instance/microVM"),
        "{text}"
    );
    assert_eq!(
        fake.requests(),
        vec![
            request("PUT", TOKEN_PATH, false),
            request("GET", ROLE_LIST_PATH, true),
        ]
    );
}

#[tokio::test]
async fn credentials_are_cached_until_near_expiry() {
    let fake = FakeImds::start(ImdsMode::TokenMethodNotAllowed)
        .await
        .unwrap();
    let (access_key_id, _, _) = fake.credentials();
    let provider = provider_for(&fake);

    let first = provider.provide_credentials().await.unwrap();
    fake.set_credentials("ASIAROTATED000000002", "rotated-secret", "rotated-token");
    let second = provider.provide_credentials().await.unwrap();

    // Valid for an hour, so the second call is served from the cache: one set of requests.
    assert_eq!(first.access_key_id(), access_key_id);
    assert_eq!(second.access_key_id(), access_key_id);
    assert_eq!(fake.requests().len(), 3);
    // A new provider (no cache) sees the rotated credentials.
    let fresh = provider_for(&fake).provide_credentials().await.unwrap();
    assert_eq!(fresh.access_key_id(), "ASIAROTATED000000002");
}

#[tokio::test]
async fn debug_output_never_contains_the_secret_or_the_token() {
    let fake = FakeImds::start(ImdsMode::V2).await.unwrap();
    let (_, secret, token) = fake.credentials();
    let provider = provider_for(&fake);
    let credentials = provider.provide_credentials().await.unwrap();

    let debug = format!("{provider:?} {credentials:?} {fake:?}");

    assert!(!debug.contains(&secret), "{debug}");
    assert!(!debug.contains(&token), "{debug}");
    assert!(debug.contains("(set, hidden)"), "{debug}");
}

#[tokio::test]
async fn disabled_provider_is_not_loaded_without_any_request() {
    let fake = FakeImds::start(ImdsMode::V2).await.unwrap();
    let provider = ImdsCredentialsProvider::builder()
        .endpoint(fake.endpoint())
        .disabled(true)
        .build();

    let error = provider.provide_credentials().await.unwrap_err();

    assert!(
        matches!(error, CredentialsError::CredentialsNotLoaded(_)),
        "{error:?}"
    );
    assert!(error_chain(&error).contains("AWS_EC2_METADATA_DISABLED"));
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn bedrock_call_is_signed_with_credentials_from_agentcore_style_metadata_service() {
    let imds = FakeImds::start(ImdsMode::TokenMethodNotAllowed)
        .await
        .unwrap();
    let (access_key_id, secret, token) = imds.credentials();
    let bedrock =
        FakeBedrock::start(FakeAuth::sigv4(&access_key_id, &secret).with_session_token(&token))
            .await
            .unwrap();
    bedrock.push(Reply::Stream(frames::text_turn(
        &["Hello from ", "MMDS"],
        "end_turn",
    )));

    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(provider_for(&imds))
        .endpoint_url(bedrock.endpoint_url())
        .load()
        .await;
    let client = aws_sdk_bedrockruntime::Client::new(&config);
    let mut output = client
        .converse_stream()
        .model_id("us.anthropic.claude-sonnet-4-20250514-v1:0")
        .messages(
            Message::builder()
                .role(ConversationRole::User)
                .content(ContentBlock::Text("Hi".to_owned()))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mut text = String::new();
    while let Some(event) = output.stream.recv().await.unwrap() {
        if let ConverseStreamOutput::ContentBlockDelta(delta) = event
            && let Some(Ok(fragment)) = delta.delta().map(|d| d.as_text())
        {
            text.push_str(fragment);
        }
    }

    assert_eq!(text, "Hello from MMDS");
    let requests = bedrock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].auth, AuthOutcome::Accepted);
    assert_eq!(
        requests[0].header("x-amz-security-token"),
        Some(token.as_str())
    );
    assert_eq!(
        imds.requests(),
        vec![
            request("PUT", TOKEN_PATH, false),
            request("GET", ROLE_LIST_PATH, false),
            request("GET", CREDENTIALS_PATH, false),
        ]
    );
}
