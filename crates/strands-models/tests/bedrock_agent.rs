//! The agent loop end to end against a fake Bedrock that speaks the real wire protocol: real SDK
//! client, real SigV4 signatures (verified by the fake), real event-stream frames. Recorded request
//! bodies are checked against the Converse API shape.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use common::{add, quick_retries};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_agent::{Agent, AgentError, ModelRetryStrategy};
use strands_core::content::ReasoningContentBlock;
use strands_core::media::{ImageContent, ImageFormat, MediaSource};
use strands_core::{ContentBlock, ModelError, Role, StopReason};
use strands_models::bedrock::{BedrockModel, Guardrail};
use strands_testkit::bedrock::{
    AuthOutcome, FakeAuth, FakeBedrock, Frame, Operation, Reply, frames,
};

const AKID: &str = "AKIAFAKEBEDROCK00001";
const SECRET: &str = "fake/secret/key/for/tests/only/000000000";
const PROFILE: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";

async fn fake() -> FakeBedrock {
    FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap()
}

/// A model that signs with the test keys and lets the SDK try each call once (the agent's own
/// retry strategy is what these tests exercise).
async fn model(fake: &FakeBedrock, model_id: &str) -> BedrockModel {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new(AKID, SECRET, None, None, "test"))
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .load()
        .await;
    BedrockModel::builder()
        .model_id(model_id)
        .sdk_config(sdk)
        .endpoint_url(fake.endpoint_url())
        .build()
        .await
}

#[tokio::test]
async fn text_turn_streams_through_the_real_sdk_client() {
    let fake = fake().await;
    fake.push(Reply::Stream(frames::text_turn(
        &["Hello", ", world"],
        "end_turn",
    )));
    let mut agent = Agent::builder()
        .model(model(&fake, PROFILE).await)
        .system_prompt("You are terse.")
        .build()
        .unwrap();

    let result = agent.invoke("hi").await.unwrap();
    assert_eq!(result.to_string(), "Hello, world\n");
    assert_eq!(result.stop_reason, StopReason::EndTurn);
    assert_eq!(
        (
            result.usage.input_tokens,
            result.usage.output_tokens,
            result.usage.total_tokens
        ),
        (12, 4, 16)
    );
    let metadata = agent.messages()[1].metadata.as_ref().unwrap();
    assert_eq!(metadata.metrics.unwrap().latency_ms, 321);

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.operation, Operation::ConverseStream);
    assert_eq!(request.model_id, PROFILE);
    assert_eq!(request.auth, AuthOutcome::Accepted);
    assert_eq!(
        request.body,
        json!({
            "messages": [{"role": "user", "content": [{"text": "hi"}]}],
            "system": [{"text": "You are terse."}]
        })
    );
}

#[tokio::test]
async fn two_tool_uses_in_one_response_both_execute() {
    let fake = fake().await;
    fake.push(Reply::Stream(vec![
        frames::message_start(),
        frames::text_delta(0, "Adding both."),
        frames::block_stop(0),
        frames::tool_use_start(1, "t1", "add"),
        frames::tool_input_delta(1, ""),
        frames::tool_input_delta(1, r#"{"a": 1, "#),
        frames::tool_input_delta(1, r#""b": 2}"#),
        frames::block_stop(1),
        frames::tool_use_start(2, "t2", "add"),
        frames::tool_input_delta(2, r#"{"a": 3, "b": 4}"#),
        frames::block_stop(2),
        frames::message_stop("tool_use"),
        frames::metadata(30, 20),
    ]));
    fake.push(Reply::Stream(frames::text_turn(&["3 and 7."], "end_turn")));
    let mut agent = Agent::builder()
        .model(model(&fake, PROFILE).await)
        .tool(add())
        .build()
        .unwrap();

    let result = agent.invoke("add 1+2 and 3+4").await.unwrap();
    assert_eq!(result.to_string(), "3 and 7.\n");
    assert_eq!(agent.metrics().tool("add").unwrap().success_count, 2);

    let second = &fake.requests()[1].body;
    assert_eq!(
        second["messages"][1],
        json!({"role": "assistant", "content": [
            {"text": "Adding both."},
            {"toolUse": {"toolUseId": "t1", "name": "add", "input": {"a": 1, "b": 2}}},
            {"toolUse": {"toolUseId": "t2", "name": "add", "input": {"a": 3, "b": 4}}}
        ]})
    );
    assert_eq!(
        second["messages"][2],
        json!({"role": "user", "content": [
            {"toolResult": {"toolUseId": "t1", "content": [{"text": "3"}], "status": "success"}},
            {"toolResult": {"toolUseId": "t2", "content": [{"text": "7"}], "status": "success"}}
        ]})
    );
    assert_eq!(
        second["toolConfig"],
        json!({
            "tools": [{"toolSpec": {
                "name": "add",
                "description": "Add two integers.",
                "inputSchema": {"json": {
                    "properties": {
                        "a": {"description": "first addend", "type": "integer"},
                        "b": {"description": "second addend", "type": "integer"}
                    },
                    "required": ["a", "b"],
                    "type": "object"
                }}
            }}],
            "toolChoice": {"auto": {}}
        })
    );
}

#[tokio::test]
async fn tool_result_status_is_sent_only_to_claude_models() {
    let fake = fake().await;
    fake.push(Reply::Stream(vec![
        frames::message_start(),
        frames::tool_use_start(0, "t1", "add"),
        frames::tool_input_delta(0, r#"{"a": 1, "b": 1}"#),
        frames::block_stop(0),
        frames::message_stop("tool_use"),
        frames::metadata(5, 5),
    ]));
    fake.push(Reply::Stream(frames::text_turn(&["2"], "end_turn")));
    let mut agent = Agent::builder()
        .model(model(&fake, "us.amazon.nova-pro-v1:0").await)
        .tool(add())
        .build()
        .unwrap();
    agent.invoke("1+1").await.unwrap();
    assert_eq!(
        fake.requests()[1].body["messages"][2]["content"][0],
        json!({"toolResult": {"toolUseId": "t1", "content": [{"text": "2"}]}})
    );
}

#[tokio::test]
async fn image_input_is_sent_as_base64_bytes() {
    let fake = fake().await;
    fake.push(Reply::Stream(frames::text_turn(
        &["A red pixel."],
        "end_turn",
    )));
    let mut agent = Agent::builder()
        .model(model(&fake, PROFILE).await)
        .build()
        .unwrap();
    let png = vec![0x89, b'P', b'N', b'G', 0, 1, 2];
    agent
        .invoke(vec![
            ContentBlock::Image(ImageContent::new(ImageFormat::Png, MediaSource::bytes(png))),
            ContentBlock::text("what is this?"),
        ])
        .await
        .unwrap();
    assert_eq!(
        fake.requests()[0].body["messages"][0]["content"],
        json!([
            {"image": {"format": "png", "source": {"bytes": "iVBORwABAg=="}}},
            {"text": "what is this?"}
        ])
    );
}

#[tokio::test]
async fn reasoning_with_signature_round_trips_to_the_next_request() {
    let fake = fake().await;
    fake.push(Reply::Stream(vec![
        frames::message_start(),
        frames::reasoning_delta(0, "The user greets me."),
        frames::signature_delta(0, "sig-part-1"),
        frames::signature_delta(0, "-part-2"),
        frames::block_stop(0),
        frames::text_delta(1, "Hello!"),
        frames::block_stop(1),
        frames::message_stop("end_turn"),
        frames::metadata(5, 5),
    ]));
    fake.push(Reply::Stream(frames::text_turn(&["Again."], "end_turn")));
    let mut agent = Agent::builder()
        .model(model(&fake, PROFILE).await)
        .build()
        .unwrap();
    agent.invoke("hi").await.unwrap();
    let ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(reasoning)) =
        &agent.messages()[1].content[0]
    else {
        panic!("reasoning first: {:?}", agent.messages()[1]);
    };
    assert_eq!(reasoning.signature.as_deref(), Some("sig-part-1-part-2"));

    agent.invoke("again").await.unwrap();
    assert_eq!(
        fake.requests()[1].body["messages"][1]["content"][0],
        json!({"reasoningContent": {"reasoningText": {"text": "The user greets me.", "signature": "sig-part-1-part-2"}}})
    );
}

#[tokio::test]
async fn converse_without_streaming_runs_the_same_loop() {
    let fake = fake().await;
    fake.push(Reply::Converse(json!({
        "output": {"message": {"role": "assistant", "content": [
            {"text": "Let me add."},
            {"toolUse": {"toolUseId": "t1", "name": "add", "input": {"a": 20, "b": 22}}}
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 50, "outputTokens": 30, "totalTokens": 80},
        "metrics": {"latencyMs": 800}
    })));
    fake.push(Reply::Converse(json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "42"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 90, "outputTokens": 2, "totalTokens": 92},
        "metrics": {"latencyMs": 100}
    })));
    let sdk_model = BedrockModel::builder()
        .model_id(PROFILE)
        .region("us-east-1")
        .credentials_provider(Credentials::new(AKID, SECRET, None, None, "test"))
        .endpoint_url(fake.endpoint_url())
        .streaming(false)
        .build()
        .await;
    let mut agent = Agent::builder()
        .model(sdk_model)
        .tool(add())
        .build()
        .unwrap();
    let result = agent.invoke("20+22?").await.unwrap();
    assert_eq!(result.to_string(), "42\n");
    assert_eq!(
        agent.messages()[2].content[0]
            .as_tool_result()
            .unwrap()
            .content[0]
            .as_text(),
        Some("42")
    );
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.operation == Operation::Converse)
    );
    assert_eq!(result.usage.total_tokens, 172);
}

async fn first_error(reply: Reply, model_id: &str) -> AgentError {
    let fake = fake().await;
    fake.push(reply);
    let mut agent = Agent::builder()
        .model(model(&fake, model_id).await)
        .retry_strategy(ModelRetryStrategy::none())
        .build()
        .unwrap();
    agent.invoke("hi").await.unwrap_err()
}

#[tokio::test]
async fn raw_model_id_needing_an_inference_profile_says_which_to_use() {
    let raw = "anthropic.claude-sonnet-4-20250514-v1:0";
    let error = first_error(
        Reply::validation(&format!(
            "Invocation of model ID {raw} with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model."
        )),
        raw,
    )
    .await;
    let source = error.model_error().unwrap();
    assert!(
        matches!(source, ModelError::InferenceProfileRequired { suggestion, .. } if suggestion == PROFILE),
        "{source}"
    );
    assert!(
        source
            .to_string()
            .contains("use an inference profile such as `us.anthropic")
    );
}

#[tokio::test]
async fn model_access_not_granted_explains_the_fix() {
    let error = first_error(
        Reply::access_denied("You don't have access to the model with the specified model ID."),
        PROFILE,
    )
    .await;
    let source = error.model_error().unwrap();
    assert!(
        matches!(source, ModelError::AccessDenied { .. }),
        "{source}"
    );
    assert!(source.to_string().contains("Model access"));
}

#[tokio::test]
async fn context_window_overflow_maps_to_the_agent_overflow_error() {
    let error = first_error(
        Reply::validation("Input is too long for requested model."),
        PROFILE,
    )
    .await;
    assert!(
        matches!(error, AgentError::ContextWindowOverflow(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn validation_errors_keep_bedrock_text() {
    let error = first_error(
        Reply::validation("messages.0.content: Field required"),
        PROFILE,
    )
    .await;
    let source = error.model_error().unwrap();
    assert!(
        matches!(source, ModelError::InvalidRequest { message } if message == "messages.0.content: Field required")
    );
}

#[tokio::test]
async fn expired_credentials_are_a_credentials_error() {
    let reply = Reply::Error {
        status: 403,
        error_type: "ExpiredTokenException".to_owned(),
        message: "The security token included in the request is expired".to_owned(),
    };
    let error = first_error(reply, PROFILE).await;
    assert!(
        matches!(error.model_error(), Some(ModelError::Credentials { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn throttling_is_retried_by_the_agent_until_it_succeeds() {
    let fake = fake().await;
    fake.push(Reply::throttling());
    fake.push(Reply::Stream(vec![
        frames::message_start(),
        Frame::exception("throttlingException", json!({"message": "slow down"})),
    ]));
    fake.push(Reply::Stream(frames::text_turn(&["finally"], "end_turn")));
    let mut agent = Agent::builder()
        .model(model(&fake, PROFILE).await)
        .retry_strategy(quick_retries())
        .build()
        .unwrap();
    let result = agent.invoke("hi").await.unwrap();
    assert_eq!(result.to_string(), "finally\n");
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(
        agent.messages().len(),
        2,
        "failed attempts leave no partial messages"
    );
}

#[tokio::test]
async fn throttling_that_never_ends_surfaces_as_a_typed_error() {
    let fake = fake().await;
    for _ in 0..3 {
        fake.push(Reply::throttling());
    }
    let mut agent = Agent::builder()
        .model(model(&fake, PROFILE).await)
        .retry_strategy(ModelRetryStrategy::new(
            3,
            Duration::from_millis(1),
            Duration::from_millis(1),
        ))
        .build()
        .unwrap();
    let error = agent.invoke("hi").await.unwrap_err();
    assert!(
        matches!(
            &error,
            AgentError::Model {
                attempts: 3,
                source: ModelError::Throttled { .. }
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_mid_stream_exception_is_a_stream_error() {
    let error = first_error(
        Reply::Stream(vec![
            frames::message_start(),
            frames::text_delta(0, "partial"),
            Frame::exception(
                "modelStreamErrorException",
                json!({"message": "Model stream error", "originalStatusCode": 500, "originalMessage": "upstream"}),
            ),
        ]),
        PROFILE,
    )
    .await;
    let source = error.model_error().unwrap();
    assert!(matches!(source, ModelError::Stream { .. }), "{source}");
    assert!(source.to_string().contains("Model stream error"));
}

#[tokio::test]
async fn a_dropped_connection_is_a_stream_error_not_a_clean_end() {
    let error = first_error(
        Reply::StreamThenDrop(vec![
            frames::message_start(),
            frames::text_delta(0, "partial"),
        ]),
        PROFILE,
    )
    .await;
    assert!(
        matches!(error.model_error(), Some(ModelError::Stream { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_request_signed_with_wrong_keys_is_rejected() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(
        AKID,
        "a-different-secret-key-000000000000000",
    ))
    .await
    .unwrap();
    fake.push(Reply::Stream(frames::text_turn(&["never"], "end_turn")));
    let mut agent = Agent::builder()
        .model(model(&fake, PROFILE).await)
        .retry_strategy(ModelRetryStrategy::none())
        .build()
        .unwrap();
    let error = agent.invoke("hi").await.unwrap_err();
    let source = error.model_error().unwrap();
    assert!(matches!(source, ModelError::Credentials { .. }), "{source}");
    assert!(source.to_string().contains("InvalidSignatureException"));
    assert_eq!(fake.requests()[0].auth, AuthOutcome::InvalidSignature);
    assert!(!source.to_string().contains(SECRET));
}

#[tokio::test]
async fn session_tokens_are_sent_and_checked() {
    let fake =
        FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET).with_session_token("session-token-1"))
            .await
            .unwrap();
    fake.push(Reply::Stream(frames::text_turn(&["ok"], "end_turn")));
    let model = BedrockModel::builder()
        .model_id(PROFILE)
        .region("us-east-1")
        .credentials_provider(Credentials::new(
            AKID,
            SECRET,
            Some("session-token-1".to_owned()),
            None,
            "test",
        ))
        .endpoint_url(fake.endpoint_url())
        .build()
        .await;
    let mut agent = Agent::builder().model(model).build().unwrap();
    agent.invoke("hi").await.unwrap();
    assert_eq!(
        fake.requests()[0].header("x-amz-security-token"),
        Some("session-token-1")
    );
}

#[tokio::test]
async fn a_blocked_guardrail_redacts_the_user_input() {
    let fake = fake().await;
    fake.push(Reply::Stream(frames::text_turn(
        &["Sorry, I can't help with that."],
        "guardrail_intervened",
    )));
    let model = BedrockModel::builder()
        .model_id(PROFILE)
        .region("us-east-1")
        .credentials_provider(Credentials::new(AKID, SECRET, None, None, "test"))
        .endpoint_url(fake.endpoint_url())
        .guardrail(Guardrail::new("gr-1", "1"))
        .build()
        .await;
    let mut agent = Agent::builder().model(model).build().unwrap();
    let result = agent.invoke("something forbidden").await.unwrap();
    assert_eq!(result.stop_reason, StopReason::GuardrailIntervened);
    assert_eq!(agent.messages()[0].role, Role::User);
    assert_eq!(
        agent.messages()[0].content,
        vec![ContentBlock::text("[User input redacted.]")]
    );
    assert_eq!(
        fake.requests()[0].body["guardrailConfig"],
        // The SDK always sends the stream processing mode; `sync` is Bedrock's default.
        json!({"guardrailIdentifier": "gr-1", "guardrailVersion": "1", "trace": "enabled", "streamProcessingMode": "sync"})
    );
}

#[tokio::test]
async fn inference_settings_and_additional_fields_are_sent() {
    let fake = fake().await;
    fake.push(Reply::Stream(frames::text_turn(&["ok"], "end_turn")));
    let model = BedrockModel::builder()
        .model_id(PROFILE)
        .region("us-east-1")
        .credentials_provider(Credentials::new(AKID, SECRET, None, None, "test"))
        .endpoint_url(fake.endpoint_url())
        .max_tokens(512)
        .temperature(0.5)
        .top_p(0.75)
        .stop_sequences(["END"])
        .additional_request_fields(json!({"thinking": {"type": "enabled", "budget_tokens": 1024}}))
        .build()
        .await;
    let mut agent = Agent::builder().model(model).build().unwrap();
    agent.invoke("hi").await.unwrap();
    let body: &Value = &fake.requests()[0].body;
    assert_eq!(
        body["inferenceConfig"],
        json!({"maxTokens": 512, "temperature": 0.5, "topP": 0.75, "stopSequences": ["END"]})
    );
    assert_eq!(
        body["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 1024}})
    );
}

#[derive(Debug)]
struct NoCredentials;

impl aws_credential_types::provider::ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(
            aws_credential_types::provider::error::CredentialsError::not_loaded(
                "no credential source answered",
            ),
        ))
    }
}

#[tokio::test]
async fn unresolvable_credentials_are_a_credentials_error_without_calling_bedrock() {
    let fake = fake().await;
    let model = BedrockModel::builder()
        .model_id(PROFILE)
        .region("us-east-1")
        .credentials_provider(NoCredentials)
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
    assert!(
        source.to_string().contains("no credential source answered"),
        "{source}"
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn region_falls_back_to_us_west_2_like_python() {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .build();
    let model = BedrockModel::builder().sdk_config(sdk).build().await;
    assert_eq!(model.region(), "us-west-2");
    assert_eq!(
        model.config().model_id,
        strands_models::bedrock::DEFAULT_MODEL_ID
    );
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-central-1"))
        .build();
    assert_eq!(
        BedrockModel::builder()
            .sdk_config(sdk)
            .build()
            .await
            .region(),
        "eu-central-1"
    );
}

/// Serves the first keys until refreshed, then the second (a rotation).
#[derive(Debug)]
struct Rotating {
    rotated: Arc<std::sync::atomic::AtomicBool>,
}

impl aws_credential_types::provider::ProvideCredentials for Rotating {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let (akid, secret) = if self.rotated.load(std::sync::atomic::Ordering::SeqCst) {
            (
                "AKIAROTATEDKEY000002",
                "rotated-secret-key-00000000000000000000",
            )
        } else {
            (AKID, SECRET)
        };
        aws_credential_types::provider::future::ProvideCredentials::ready(Ok(Credentials::new(
            akid, secret, None, None, "test",
        )))
    }
}

#[tokio::test]
async fn rejected_credentials_are_refreshed_and_the_call_retried_once() {
    let fake = fake().await;
    let rotated = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = rotated.clone();
    let model = BedrockModel::builder()
        .model_id(PROFILE)
        .region("us-east-1")
        .credentials_provider(Rotating {
            rotated: rotated.clone(),
        })
        .on_credentials_rejected(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))
        .endpoint_url(fake.endpoint_url())
        .build()
        .await;
    let mut agent = Agent::builder()
        .model(model)
        .retry_strategy(ModelRetryStrategy::none())
        .build()
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(&["before"], "end_turn")));
    assert_eq!(agent.invoke("one").await.unwrap().to_string(), "before\n");

    // The keys rotate on the service side: the old ones are now refused.
    fake.set_auth(FakeAuth::sigv4(
        "AKIAROTATEDKEY000002",
        "rotated-secret-key-00000000000000000000",
    ));
    fake.push(Reply::Stream(frames::text_turn(&["after"], "end_turn")));
    assert_eq!(agent.invoke("two").await.unwrap().to_string(), "after\n");
    let outcomes: Vec<AuthOutcome> = fake.requests().iter().map(|r| r.auth).collect();
    assert_eq!(
        outcomes,
        [
            AuthOutcome::Accepted,
            AuthOutcome::UnrecognizedClient,
            AuthOutcome::Accepted
        ]
    );
    assert!(rotated.load(std::sync::atomic::Ordering::SeqCst));
}
