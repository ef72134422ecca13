//! The Bedrock fake driven by the real `aws-sdk-bedrockruntime` client (and, for what the SDK
//! cannot send, by raw HTTP over TCP).
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::{Credentials, Token};
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput as StreamResponse;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ContentBlockStart, ConversationRole, ConverseOutput,
    ConverseStreamOutput, Message, ReasoningContentBlockDelta, StopReason,
};
use aws_smithy_runtime_api::client::auth::http::HTTP_BEARER_AUTH_SCHEME_ID;
use aws_smithy_types::Document;
use serde_json::json;
use strands_testkit::bedrock::{
    AuthOutcome, FakeAuth, FakeBedrock, Frame, Operation, Reply, frames,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const AKID: &str = "AKIDFAKEBEDROCK00001";
const SECRET: &str = "fake/bedrock/secret/key";
const MODEL: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";

fn credentials() -> Credentials {
    Credentials::new(AKID, SECRET, None, None, "test")
}

async fn sdk_config(fake: &FakeBedrock, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(fake.endpoint_url())
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(1)))
        .load()
        .await
}

async fn client(fake: &FakeBedrock, credentials: Credentials) -> Client {
    Client::new(&sdk_config(fake, credentials).await)
}

fn user(text: &str) -> Message {
    Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(text.to_owned()))
        .build()
        .unwrap()
}

async fn start_stream(client: &Client) -> StreamResponse {
    client
        .converse_stream()
        .model_id(MODEL)
        .messages(user("hi"))
        .send()
        .await
        .unwrap()
}

type StreamError = SdkError<ConverseStreamOutputError, aws_smithy_types::event_stream::RawMessage>;

/// Every event until the end of the stream, and the error that ended it, if any.
async fn drain(mut response: StreamResponse) -> (Vec<ConverseStreamOutput>, Option<StreamError>) {
    let mut events = Vec::new();
    loop {
        match response.stream.recv().await {
            Ok(Some(event)) => events.push(event),
            Ok(None) => return (events, None),
            Err(error) => return (events, Some(error)),
        }
    }
}

fn deltas(events: &[ConverseStreamOutput]) -> Vec<(i32, ContentBlockDelta)> {
    events
        .iter()
        .filter_map(|event| match event {
            ConverseStreamOutput::ContentBlockDelta(delta) => delta
                .delta()
                .map(|d| (delta.content_block_index(), d.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn text_stream_is_parsed_with_role_deltas_stop_reason_usage_and_latency() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(
        &["Hello", ", world"],
        "end_turn",
    )));
    let client = client(&fake, credentials()).await;

    let (events, error) = drain(start_stream(&client).await).await;

    assert!(error.is_none(), "{error:?}");
    assert_eq!(events.len(), 6);
    let ConverseStreamOutput::MessageStart(start) = &events[0] else {
        panic!("expected messageStart, got {:?}", events[0]);
    };
    assert_eq!(start.role(), &ConversationRole::Assistant);
    let texts: Vec<(i32, String)> = deltas(&events)
        .into_iter()
        .map(|(index, delta)| (index, delta.as_text().unwrap().clone()))
        .collect();
    assert_eq!(texts, [(0, "Hello".to_owned()), (0, ", world".to_owned())]);
    assert!(
        matches!(&events[3], ConverseStreamOutput::ContentBlockStop(stop) if stop.content_block_index() == 0)
    );
    let ConverseStreamOutput::MessageStop(stop) = &events[4] else {
        panic!("expected messageStop, got {:?}", events[4]);
    };
    assert_eq!(stop.stop_reason(), &StopReason::EndTurn);
    let ConverseStreamOutput::Metadata(metadata) = &events[5] else {
        panic!("expected metadata, got {:?}", events[5]);
    };
    let usage = metadata.usage().unwrap();
    assert_eq!(
        (
            usage.input_tokens(),
            usage.output_tokens(),
            usage.total_tokens()
        ),
        (12, 4, 16)
    );
    assert_eq!(metadata.metrics().unwrap().latency_ms(), 321);
    assert_eq!(fake.requests()[0].auth, AuthOutcome::Accepted);
}

#[tokio::test]
async fn tool_use_stream_with_an_empty_first_fragment_reassembles_the_input() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(vec![
        frames::message_start(),
        frames::text_delta(0, "Let me check."),
        frames::block_stop(0),
        frames::tool_use_start(1, "tooluse_abc123", "get_weather"),
        frames::tool_input_delta(1, ""),
        frames::tool_input_delta(1, r#"{"city": "Par"#),
        frames::tool_input_delta(1, r#"is"}"#),
        frames::block_stop(1),
        frames::message_stop("tool_use"),
        frames::metadata(50, 30),
    ]));
    let client = client(&fake, credentials()).await;

    let (events, error) = drain(start_stream(&client).await).await;

    assert!(error.is_none(), "{error:?}");
    let start = events
        .iter()
        .find_map(|event| match event {
            ConverseStreamOutput::ContentBlockStart(start) => Some(start),
            _ => None,
        })
        .unwrap();
    assert_eq!(start.content_block_index(), 1);
    let Some(ContentBlockStart::ToolUse(tool)) = start.start() else {
        panic!("expected a toolUse start, got {start:?}");
    };
    assert_eq!(
        (tool.tool_use_id(), tool.name()),
        ("tooluse_abc123", "get_weather")
    );
    let fragments: Vec<String> = deltas(&events)
        .into_iter()
        .filter(|(index, _)| *index == 1)
        .map(|(_, delta)| delta.as_tool_use().unwrap().input().to_owned())
        .collect();
    assert_eq!(fragments, ["", r#"{"city": "Par"#, r#"is"}"#]);
    let input: serde_json::Value = serde_json::from_str(&fragments.concat()).unwrap();
    assert_eq!(input, json!({"city": "Paris"}));
    assert!(events.iter().any(|event| matches!(
        event,
        ConverseStreamOutput::MessageStop(stop) if stop.stop_reason() == &StopReason::ToolUse
    )));
}

#[tokio::test]
async fn reasoning_text_and_signature_deltas_reach_the_client() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(vec![
        frames::message_start(),
        frames::reasoning_delta(0, "The user greets me."),
        frames::signature_delta(0, "EqQBCkgIARABGAIiQL"),
        frames::block_stop(0),
        frames::text_delta(1, "Hello!"),
        frames::block_stop(1),
        frames::message_stop("end_turn"),
        frames::metadata(20, 10),
    ]));
    let client = client(&fake, credentials()).await;

    let (events, error) = drain(start_stream(&client).await).await;

    assert!(error.is_none(), "{error:?}");
    let deltas = deltas(&events);
    let ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Text(text)) = &deltas[0].1
    else {
        panic!("expected reasoning text, got {:?}", deltas[0]);
    };
    assert_eq!((deltas[0].0, text.as_str()), (0, "The user greets me."));
    let ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Signature(signature)) =
        &deltas[1].1
    else {
        panic!("expected a signature, got {:?}", deltas[1]);
    };
    assert_eq!(signature, "EqQBCkgIARABGAIiQL");
    assert_eq!(deltas[2].0, 1);
    assert_eq!(deltas[2].1.as_text().unwrap(), "Hello!");
}

#[tokio::test]
async fn converse_json_is_parsed_including_the_tool_use_input_document() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Converse(json!({
        "output": {"message": {"role": "assistant", "content": [
            {"text": "Let me check."},
            {"toolUse": {"toolUseId": "tooluse_abc123", "name": "get_weather", "input": {"city": "Paris"}}}
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 50, "outputTokens": 30, "totalTokens": 80},
        "metrics": {"latencyMs": 800}
    })));
    let client = client(&fake, credentials()).await;

    let output = client
        .converse()
        .model_id(MODEL)
        .messages(user("weather in Paris?"))
        .send()
        .await
        .unwrap();

    assert_eq!(output.stop_reason(), &StopReason::ToolUse);
    assert_eq!(output.usage().unwrap().total_tokens(), 80);
    assert_eq!(output.metrics().unwrap().latency_ms(), 800);
    let Some(ConverseOutput::Message(message)) = output.output() else {
        panic!("expected a message, got {:?}", output.output());
    };
    assert_eq!(message.role(), &ConversationRole::Assistant);
    assert_eq!(message.content()[0].as_text().unwrap(), "Let me check.");
    let tool = message.content()[1].as_tool_use().unwrap();
    assert_eq!(
        (tool.tool_use_id(), tool.name()),
        ("tooluse_abc123", "get_weather")
    );
    let Document::Object(input) = tool.input() else {
        panic!("expected an object, got {:?}", tool.input());
    };
    assert_eq!(
        input.get("city"),
        Some(&Document::String("Paris".to_owned()))
    );
    assert_eq!(fake.requests()[0].operation, Operation::Converse);
}

#[tokio::test]
async fn http_429_is_retried_by_the_sdk_with_attempt_headers() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    for _ in 0..3 {
        fake.push(Reply::throttling());
    }
    let client = client(&fake, credentials()).await;

    let error = client
        .converse_stream()
        .model_id(MODEL)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();

    assert!(error.as_service_error().unwrap().is_throttling_exception());
    assert_eq!(error.code(), Some("ThrottlingException"));
    assert_eq!(
        error.message(),
        Some("Too many requests, please wait before trying again.")
    );
    let attempts: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.header("amz-sdk-request").unwrap().to_owned())
        .collect();
    assert_eq!(
        attempts,
        ["attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"]
    );
}

#[tokio::test]
async fn throttled_once_then_the_retry_gets_the_next_reply() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::throttling());
    fake.push(Reply::Stream(frames::text_turn(&["ok"], "end_turn")));
    let client = client(&fake, credentials()).await;

    let (events, error) = drain(start_stream(&client).await).await;

    assert!(error.is_none(), "{error:?}");
    assert_eq!(deltas(&events)[0].1.as_text().unwrap(), "ok");
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn http_400_is_not_retried_and_its_code_and_message_surface() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::validation(
        "The provided model identifier is invalid.",
    ));
    fake.push(Reply::Stream(frames::text_turn(&["unused"], "end_turn")));
    let client = client(&fake, credentials()).await;

    let error = client
        .converse_stream()
        .model_id(MODEL)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();

    assert!(error.as_service_error().unwrap().is_validation_exception());
    assert_eq!(error.code(), Some("ValidationException"));
    assert_eq!(
        error.message(),
        Some("The provided model identifier is invalid.")
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn service_unavailable_is_retried_and_model_timeout_and_access_denied_are_not() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::service_unavailable());
    fake.push(Reply::model_timeout());
    fake.push(Reply::access_denied("You don't have access to the model."));
    let client = client(&fake, credentials()).await;

    let error = client
        .converse()
        .model_id(MODEL)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_model_timeout_exception()
    );
    assert_eq!(fake.requests().len(), 2);

    let error = client
        .converse()
        .model_id(MODEL)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_access_denied_exception()
    );
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn in_stream_throttling_exception_is_a_typed_stream_error() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(vec![
        frames::message_start(),
        Frame::exception(
            "throttlingException",
            json!({"message": "Too many tokens, please wait before trying again."}),
        ),
    ]));
    let client = client(&fake, credentials()).await;

    let (events, error) = drain(start_stream(&client).await).await;

    assert_eq!(events.len(), 1);
    let error = error.unwrap();
    assert!(
        matches!(
            error.as_service_error(),
            Some(ConverseStreamOutputError::ThrottlingException(_))
        ),
        "{error:?}"
    );
    assert_eq!(
        fake.requests().len(),
        1,
        "in-stream errors are never retried"
    );
}

#[tokio::test]
async fn in_stream_model_stream_error_carries_the_original_status_code() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(vec![
        frames::message_start(),
        frames::text_delta(0, "partial"),
        Frame::exception(
            "modelStreamErrorException",
            json!({"message": "Model stream error", "originalStatusCode": 500, "originalMessage": "upstream"}),
        ),
    ]));
    let client = client(&fake, credentials()).await;

    let (events, error) = drain(start_stream(&client).await).await;

    assert_eq!(deltas(&events)[0].1.as_text().unwrap(), "partial");
    let error = error.unwrap();
    let Some(ConverseStreamOutputError::ModelStreamErrorException(exception)) =
        error.as_service_error()
    else {
        panic!("expected modelStreamErrorException, got {error:?}");
    };
    assert_eq!(exception.original_status_code(), Some(500));
    assert_eq!(exception.original_message(), Some("upstream"));
    assert_eq!(exception.message(), Some("Model stream error"));
}

#[tokio::test]
async fn stream_then_drop_surfaces_as_an_error_not_a_clean_end() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::StreamThenDrop(vec![
        frames::message_start(),
        frames::text_delta(0, "cut"),
    ]));
    let client = client(&fake, credentials()).await;

    let (events, error) = drain(start_stream(&client).await).await;

    assert_eq!(deltas(&events)[0].1.as_text().unwrap(), "cut");
    assert!(
        error.is_some(),
        "a dropped connection must not look like a clean end"
    );
}

#[tokio::test]
async fn wrong_secret_is_rejected_with_invalid_signature_exception_without_consuming_a_reply() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(&["kept"], "end_turn")));
    let wrong = client(
        &fake,
        Credentials::new(AKID, "wrong-secret", None, None, "test"),
    )
    .await;

    let error = wrong
        .converse_stream()
        .model_id(MODEL)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(error.code(), Some("InvalidSignatureException"));
    assert!(
        error
            .message()
            .unwrap()
            .starts_with("The request signature we calculated does not match"),
        "{error:?}"
    );
    assert_eq!(fake.requests()[0].auth, AuthOutcome::InvalidSignature);

    let right = client(&fake, credentials()).await;
    let (events, error) = drain(start_stream(&right).await).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(deltas(&events)[0].1.as_text().unwrap(), "kept");
}

#[tokio::test]
async fn unknown_access_key_is_rejected_with_unrecognized_client_exception() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    let client = client(
        &fake,
        Credentials::new("AKIDSOMEONEELSE", SECRET, None, None, "test"),
    )
    .await;

    let error = client
        .converse()
        .model_id(MODEL)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(error.code(), Some("UnrecognizedClientException"));
    assert_eq!(
        error.message(),
        Some("The security token included in the request is invalid.")
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "auth failures are not retried");
    assert_eq!(requests[0].auth, AuthOutcome::UnrecognizedClient);
}

#[tokio::test]
async fn rotated_keys_reject_the_old_key_and_accept_the_new_one() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(&["new"], "end_turn")));
    fake.set_auth(FakeAuth::sigv4("AKIDROTATED", "rotated-secret"));

    let old = client(&fake, credentials()).await;
    let error = old
        .converse()
        .model_id(MODEL)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("UnrecognizedClientException"));

    let new = client(
        &fake,
        Credentials::new("AKIDROTATED", "rotated-secret", None, None, "test"),
    )
    .await;
    let (events, error) = drain(start_stream(&new).await).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(deltas(&events)[0].1.as_text().unwrap(), "new");
}

#[tokio::test]
async fn session_token_required_and_sent_is_accepted_and_missing_is_rejected() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET).with_session_token("session-1"))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(&["temporary"], "end_turn")));

    let with_token = client(
        &fake,
        Credentials::new(AKID, SECRET, Some("session-1".to_owned()), None, "test"),
    )
    .await;
    let (events, error) = drain(start_stream(&with_token).await).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(deltas(&events)[0].1.as_text().unwrap(), "temporary");
    assert_eq!(
        fake.requests()[0].header("x-amz-security-token"),
        Some("session-1")
    );

    let without_token = client(&fake, credentials()).await;
    let error = without_token
        .converse()
        .model_id(MODEL)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("UnrecognizedClientException"));
    assert_eq!(fake.requests()[1].auth, AuthOutcome::MissingSessionToken);
}

#[tokio::test]
async fn bearer_mode_accepts_the_api_key_and_rejects_sigv4() {
    let fake = FakeBedrock::start(FakeAuth::Bearer("bedrock-api-key-123".to_owned()))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(&["keyed"], "end_turn")));
    let base = sdk_config(&fake, credentials()).await;
    let bearer = Client::from_conf(
        aws_sdk_bedrockruntime::config::Builder::from(&base)
            .bearer_token(Token::new("bedrock-api-key-123", None))
            .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID])
            .build(),
    );

    let (events, error) = drain(start_stream(&bearer).await).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(deltas(&events)[0].1.as_text().unwrap(), "keyed");
    assert_eq!(
        fake.requests()[0].header("authorization"),
        Some("Bearer bedrock-api-key-123")
    );

    let sigv4 = Client::new(&base);
    let error = sigv4
        .converse()
        .model_id(MODEL)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("UnrecognizedClientException"));
    assert_eq!(fake.requests()[1].auth, AuthOutcome::UnrecognizedClient);
}

#[tokio::test]
async fn recorded_request_holds_the_converse_json_and_the_decoded_model_id() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(&["hi"], "end_turn")));
    let client = client(&fake, credentials()).await;

    let _ = drain(
        client
            .converse_stream()
            .model_id(MODEL)
            .messages(user("weather in Paris?"))
            .send()
            .await
            .unwrap(),
    )
    .await;

    let request = &fake.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream"
    );
    assert_eq!(request.model_id, MODEL);
    assert_eq!(request.operation, Operation::ConverseStream);
    assert_eq!(request.body["messages"][0]["role"], "user");
    assert_eq!(
        request.body["messages"][0]["content"][0]["text"],
        "weather in Paris?"
    );
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    assert!(
        request
            .header("authorization")
            .unwrap()
            .contains("/us-east-1/bedrock/aws4_request"),
    );
}

#[tokio::test]
async fn no_scripted_reply_answers_500_naming_the_fix() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    let client = client(&fake, credentials()).await;

    let error = client
        .converse()
        .model_id(MODEL)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();

    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_internal_server_exception()
    );
    assert_eq!(
        error.message(),
        Some(
            "fake bedrock: no scripted reply for /model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse; push a Reply before calling"
        )
    );
}

#[tokio::test]
async fn hang_reply_leaves_the_client_to_time_out() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Hang);
    let base = sdk_config(&fake, credentials()).await;
    let client = Client::from_conf(
        aws_sdk_bedrockruntime::config::Builder::from(&base)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_millis(200))
                    .build(),
            )
            .build(),
    );

    let error = client
        .converse()
        .model_id(MODEL)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();

    assert!(matches!(error, SdkError::TimeoutError(_)), "{error:?}");
    assert_eq!(fake.requests().len(), 1);
}

/// Sends raw bytes on a fresh connection and reads the answer until the server closes it.
async fn raw_exchange(fake: &FakeBedrock, request: &[u8]) -> String {
    let address = fake.endpoint_url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn unknown_path_answers_404_unknown_operation_without_consuming_a_reply() {
    let fake = FakeBedrock::start(FakeAuth::Any).await.unwrap();
    fake.push(Reply::throttling());

    let response = raw_exchange(
        &fake,
        b"POST /model/m/invoke HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
    )
    .await;

    assert!(response.starts_with("HTTP/1.1 404 "), "{response}");
    assert!(
        response.contains("x-amzn-errortype: UnknownOperationException:"),
        "{response}"
    );
    assert_eq!(fake.requests()[0].operation, Operation::Other);
    assert!(
        format!("{fake:?}").contains("pending_replies: 1"),
        "{fake:?}"
    );
}

#[tokio::test]
async fn missing_authorization_answers_403_missing_authentication_token() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();

    let response = raw_exchange(
        &fake,
        b"POST /model/m/converse HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
    )
    .await;

    assert!(response.starts_with("HTTP/1.1 403 "), "{response}");
    assert!(
        response.contains("x-amzn-errortype: MissingAuthenticationTokenException:"),
        "{response}"
    );
    assert!(
        response.ends_with(r#"{"message":"Missing Authentication Token"}"#),
        "{response}"
    );
    assert_eq!(fake.requests()[0].auth, AuthOutcome::Missing);
}

#[tokio::test]
async fn oversized_body_answers_413_and_is_not_recorded() {
    let fake = FakeBedrock::start(FakeAuth::Any).await.unwrap();

    let response = raw_exchange(
        &fake,
        b"POST /model/m/converse HTTP/1.1\r\nhost: x\r\ncontent-length: 40000000\r\n\r\n",
    )
    .await;

    assert!(response.starts_with("HTTP/1.1 413 "), "{response}");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn oversized_header_section_answers_431() {
    let fake = FakeBedrock::start(FakeAuth::Any).await.unwrap();
    let mut request = b"POST /model/m/converse HTTP/1.1\r\nx-padding: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 70 * 1024));
    request.extend_from_slice(b"\r\n\r\n");

    let response = raw_exchange(&fake, &request).await;

    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
}

#[tokio::test]
async fn dropping_the_fake_closes_its_port() {
    let fake = FakeBedrock::start(FakeAuth::Any).await.unwrap();
    let address = fake.endpoint_url().trim_start_matches("http://").to_owned();
    drop(fake);
    // Aborting is asynchronous: the listener is released once the runtime drops the task.
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(&address).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused, "the listener on {address} is still accepting");
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FakeBedrock>();
    assert_send_sync::<FakeAuth>();
    assert_send_sync::<Reply>();
    assert_send_sync::<Frame>();
    assert_send_sync::<strands_testkit::bedrock::BedrockRequest>();
}
