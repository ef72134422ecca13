//! The agent loop end to end against a fake Anthropic Messages API that speaks the documented
//! wire format: real HTTP, the real request body, server-sent events streamed one chunk per
//! event. Recorded request bodies are checked against the Messages API shape Python's provider
//! sends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::time::Duration;

use common::{add, quick_retries};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_agent::{Agent, AgentError, ModelRetryStrategy};
use strands_core::content::{CachePoint, ReasoningContentBlock};
use strands_core::media::{
    DocumentContent, DocumentFormat, ImageContent, ImageFormat, MediaSource,
};
use strands_core::{ContentBlock, ModelError, Role, StopReason};
use strands_models::anthropic::AnthropicModel;
use strands_testkit::anthropic::{AuthOutcome, FakeAnthropic, Reply, events};

const KEY: &str = "sk-ant-test-key-0001";
const MODEL: &str = "claude-sonnet-4-20250514";

async fn fake() -> FakeAnthropic {
    FakeAnthropic::start(KEY).await.unwrap()
}

fn model(fake: &FakeAnthropic) -> AnthropicModel {
    AnthropicModel::builder()
        .model_id(MODEL)
        .api_key(KEY)
        .base_url(fake.base_url())
        .max_tokens(1024)
        .build()
        .unwrap()
}

fn agent(fake: &FakeAnthropic) -> Agent {
    Agent::builder().model(model(fake)).build().unwrap()
}

#[tokio::test]
async fn a_text_turn_streams_end_to_end() {
    let fake = fake().await;
    fake.push(Reply::text("Hello, world"));
    let mut agent = Agent::builder()
        .model(model(&fake))
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

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.auth, AuthOutcome::Accepted);
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    // Python's format_request for the same call, plus the stream flag the SDK adds.
    assert_eq!(
        request.body,
        json!({
            "max_tokens": 1024,
            "messages": [{"content": [{"text": "hi", "type": "text"}], "role": "user"}],
            "model": MODEL,
            "system": [{"type": "text", "text": "You are terse."}],
            "tools": [],
            "stream": true
        })
    );
}

#[tokio::test]
async fn two_tool_calls_in_one_turn_run_and_their_results_reach_the_next_request() {
    let fake = fake().await;
    fake.push(Reply::tool_uses(&[
        ("toolu_01", "add", r#"{"a": 1, "b": 2}"#),
        ("toolu_02", "add", r#"{"a": 3, "b": 4}"#),
    ]));
    fake.push(Reply::text("3 and 7."));
    let mut agent = Agent::builder()
        .model(model(&fake))
        .tool(add())
        .build()
        .unwrap();

    let result = agent.invoke("add 1+2 and 3+4").await.unwrap();
    assert_eq!(result.to_string(), "3 and 7.\n");
    assert_eq!(agent.metrics().tool("add").unwrap().success_count, 2);

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body["tools"],
        json!([{
            "name": "add",
            "description": "Add two integers.",
            "input_schema": {
                "properties": {
                    "a": {"description": "first addend", "type": "integer"},
                    "b": {"description": "second addend", "type": "integer"}
                },
                "required": ["a", "b"],
                "type": "object"
            }
        }])
    );
    let second = &requests[1].body;
    assert_eq!(
        second["messages"][1],
        json!({"role": "assistant", "content": [
            {"id": "toolu_01", "input": {"a": 1, "b": 2}, "name": "add", "type": "tool_use"},
            {"id": "toolu_02", "input": {"a": 3, "b": 4}, "name": "add", "type": "tool_use"}
        ]})
    );
    assert_eq!(
        second["messages"][2],
        json!({"role": "user", "content": [
            {"content": [{"text": "3", "type": "text"}], "is_error": false, "tool_use_id": "toolu_01", "type": "tool_result"},
            {"content": [{"text": "7", "type": "text"}], "is_error": false, "tool_use_id": "toolu_02", "type": "tool_result"}
        ]})
    );
}

#[tokio::test]
async fn images_and_documents_are_encoded_as_anthropic_sources() {
    let fake = fake().await;
    fake.push(Reply::text("A pixel and two documents."));
    let mut agent = agent(&fake);
    agent
        .invoke(vec![
            ContentBlock::Image(ImageContent::new(
                ImageFormat::Png,
                MediaSource::bytes(vec![0x89, b'P', b'N', b'G', 0, 1, 2]),
            )),
            ContentBlock::Document(DocumentContent::new(
                DocumentFormat::Pdf,
                "report",
                MediaSource::bytes(b"%PDF-1.4 test".to_vec()),
            )),
            ContentBlock::Document(DocumentContent::new(
                DocumentFormat::Txt,
                "notes",
                MediaSource::bytes("plain notes".as_bytes().to_vec()),
            )),
            ContentBlock::text("what are these?"),
        ])
        .await
        .unwrap();
    assert_eq!(
        fake.requests()[0].body["messages"][0]["content"],
        json!([
            {"source": {"data": "iVBORwABAg==", "media_type": "image/png", "type": "base64"}, "type": "image"},
            {"source": {"data": "JVBERi0xLjQgdGVzdA==", "media_type": "application/pdf", "type": "base64"}, "title": "report", "type": "document"},
            {"source": {"data": "plain notes", "media_type": "text/plain", "type": "text"}, "title": "notes", "type": "document"},
            {"text": "what are these?", "type": "text"}
        ])
    );
}

#[tokio::test]
async fn thinking_with_its_signature_round_trips_to_the_next_request() {
    let fake = fake().await;
    fake.push(Reply::Stream({
        let mut stream = vec![events::message_start(12)];
        stream.extend(events::thinking_block(
            0,
            "The user greets me.",
            "EqQBCgIYAhIM",
        ));
        stream.push(events::ping());
        stream.extend(events::text_block(1, &["Hel", "lo!"]));
        stream.push(events::message_delta("end_turn", 30));
        stream.push(events::message_stop());
        stream
    }));
    fake.push(Reply::text("Again."));
    let model = AnthropicModel::builder()
        .model_id(MODEL)
        .api_key(KEY)
        .base_url(fake.base_url())
        .params(json!({"thinking": {"type": "enabled", "budget_tokens": 1024}}))
        .build()
        .unwrap();
    let mut agent = Agent::builder().model(model).build().unwrap();

    let result = agent.invoke("hi").await.unwrap();
    assert_eq!(result.to_string(), "Hello!\n");
    let ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(reasoning)) =
        &agent.messages()[1].content[0]
    else {
        panic!("reasoning first: {:?}", agent.messages()[1]);
    };
    assert_eq!(reasoning.text, "The user greets me.");
    assert_eq!(reasoning.signature.as_deref(), Some("EqQBCgIYAhIM"));

    agent.invoke("again").await.unwrap();
    let second = &fake.requests()[1].body;
    assert_eq!(
        second["messages"][1],
        json!({"role": "assistant", "content": [
            {"signature": "EqQBCgIYAhIM", "thinking": "The user greets me.", "type": "thinking"},
            {"text": "Hello!", "type": "text"}
        ]})
    );
    assert_eq!(
        second["thinking"],
        json!({"type": "enabled", "budget_tokens": 1024})
    );
    assert_eq!(second["max_tokens"], 4096, "the default max_tokens");
}

#[tokio::test]
async fn redacted_thinking_is_sent_back_unchanged() {
    let fake = fake().await;
    fake.push(Reply::Stream(vec![
        events::message_start(5),
        events::redacted_thinking_start(0, "RXFRQkNnSVlBaElN"),
        events::block_stop(0),
        events::text_start(1),
        events::text_delta(1, "Done."),
        events::block_stop(1),
        events::message_delta("end_turn", 3),
        events::message_stop(),
    ]));
    fake.push(Reply::text("Again."));
    let mut agent = agent(&fake);
    agent.invoke("hi").await.unwrap();
    agent.invoke("again").await.unwrap();
    assert_eq!(
        fake.requests()[1].body["messages"][1]["content"][0],
        json!({"data": "RXFRQkNnSVlBaElN", "type": "redacted_thinking"})
    );
}

#[tokio::test]
async fn cache_points_become_cache_control_and_cache_usage_is_reported() {
    let fake = fake().await;
    fake.push(Reply::Stream(vec![
        events::message_start_with_usage(json!({
            "input_tokens": 3,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 1800,
            "output_tokens": 1
        })),
        events::text_start(0),
        events::text_delta(0, "Cached."),
        events::block_stop(0),
        events::message_delta("end_turn", 2),
        events::message_stop(),
    ]));
    let mut agent = agent(&fake);
    let result = agent
        .invoke(vec![
            ContentBlock::text("a long shared context"),
            ContentBlock::CachePoint(CachePoint::default()),
            ContentBlock::text("the question"),
        ])
        .await
        .unwrap();
    assert_eq!(
        fake.requests()[0].body["messages"][0]["content"],
        json!([
            {"text": "a long shared context", "type": "text", "cache_control": {"type": "ephemeral"}},
            {"text": "the question", "type": "text"}
        ])
    );
    assert_eq!(result.usage.cache_read_input_tokens, Some(1800));
    assert_eq!(result.usage.cache_write_input_tokens, None);
    assert_eq!(result.usage.total_tokens, 3 + 2 + 1800);
}

#[tokio::test]
async fn rate_limits_and_overload_are_retried_by_the_agent_until_it_succeeds() {
    let fake = FakeAnthropic::builder()
        .api_key(KEY)
        .rate_limited(Some(0))
        .overloaded()
        .overloaded_mid_stream("Par")
        .text("finally")
        .start()
        .await
        .unwrap();
    let mut agent = Agent::builder()
        .model(model(&fake))
        .retry_strategy(quick_retries())
        .build()
        .unwrap();
    let result = agent.invoke("hi").await.unwrap();
    assert_eq!(result.to_string(), "finally\n");
    assert_eq!(fake.requests().len(), 4);
    assert_eq!(
        agent.messages().len(),
        2,
        "failed attempts leave no partial messages"
    );
    assert_eq!(
        agent.messages()[1].content,
        vec![ContentBlock::text("finally")]
    );
}

async fn first_error(reply: Reply) -> (AgentError, Agent, FakeAnthropic) {
    let fake = fake().await;
    fake.push(reply);
    let mut agent = Agent::builder()
        .model(model(&fake))
        .retry_strategy(ModelRetryStrategy::none())
        .build()
        .unwrap();
    let error = agent.invoke("hi").await.unwrap_err();
    (error, agent, fake)
}

#[tokio::test]
async fn a_rate_limit_that_never_ends_is_a_typed_throttling_error_with_retry_after() {
    let (error, _, _) = first_error(Reply::rate_limited(Some(7))).await;
    let source = error.model_error().unwrap();
    assert!(matches!(source, ModelError::Throttled { .. }), "{source}");
    assert_eq!(source.retry_after(), Some(Duration::from_secs(7)));
    assert!(source.to_string().contains("rate_limit_error"), "{source}");
}

#[tokio::test]
async fn an_overloaded_error_event_mid_stream_is_throttling() {
    let (error, agent, _) = first_error(Reply::overloaded_mid_stream("Partial")).await;
    let source = error.model_error().unwrap();
    assert!(
        matches!(source, ModelError::Throttled { message, .. } if message.contains("overloaded_error")),
        "{source}"
    );
    assert_eq!(agent.messages().len(), 1);
}

#[tokio::test]
async fn prompt_too_long_maps_to_the_agent_overflow_error() {
    let (error, _, _) = first_error(Reply::prompt_too_long()).await;
    assert!(
        matches!(&error, AgentError::ContextWindowOverflow(ModelError::ContextWindowOverflow { message }) if message.starts_with("prompt is too long")),
        "{error:?}"
    );
}

#[tokio::test]
async fn invalid_requests_keep_anthropic_text() {
    let (error, _, _) =
        first_error(Reply::invalid_request("messages.0.content: Field required")).await;
    assert!(
        matches!(error.model_error(), Some(ModelError::InvalidRequest { message }) if message == "messages.0.content: Field required"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_proxy_error_page_is_a_provider_error_quoting_it() {
    let (error, _, _) = first_error(Reply::Raw {
        status: 502,
        content_type: "text/html".to_owned(),
        body: "<html>Bad gateway</html>".to_owned(),
    })
    .await;
    let source = error.model_error().unwrap();
    assert!(matches!(source, ModelError::Provider { .. }), "{source}");
    assert!(source.to_string().contains("HTTP 502"), "{source}");
    assert!(source.to_string().contains("Bad gateway"), "{source}");
}

#[tokio::test]
async fn a_wrong_api_key_is_a_credentials_error_that_never_shows_the_key() {
    let fake = FakeAnthropic::start("sk-ant-the-right-key").await.unwrap();
    fake.push(Reply::text("never"));
    let wrong = "sk-ant-a-wrong-key-000";
    let model = AnthropicModel::builder()
        .model_id(MODEL)
        .api_key(wrong)
        .base_url(fake.base_url())
        .build()
        .unwrap();
    assert!(!format!("{model:?}").contains(wrong));
    let mut agent = Agent::builder()
        .model(model)
        .retry_strategy(ModelRetryStrategy::none())
        .build()
        .unwrap();
    let error = agent.invoke("hi").await.unwrap_err();
    let source = error.model_error().unwrap();
    assert!(matches!(source, ModelError::Credentials { .. }), "{source}");
    assert!(source.to_string().contains("invalid x-api-key"), "{source}");
    assert!(!source.to_string().contains(wrong));
    assert!(!format!("{error:?}").contains(wrong));
    assert_eq!(fake.requests()[0].auth, AuthOutcome::InvalidApiKey);
    assert_eq!(
        fake.pending_replies(),
        1,
        "rejected requests consume nothing"
    );
}

#[tokio::test]
async fn a_stream_cut_mid_way_is_a_stream_error_and_history_keeps_the_prompt() {
    let (error, agent, _) = first_error(Reply::cut_mid_stream("Hel")).await;
    assert!(
        matches!(error.model_error(), Some(ModelError::Stream { message, .. }) if message.contains("broke before it ended")),
        "{error:?}"
    );
    assert_eq!(agent.messages().len(), 1);
    assert_eq!(agent.messages()[0].role, Role::User);
    assert_eq!(agent.messages()[0].content, vec![ContentBlock::text("hi")]);
}

#[tokio::test]
async fn a_stream_that_ends_without_message_stop_is_a_stream_error() {
    let (error, _, _) = first_error(Reply::Stream(vec![
        events::message_start(3),
        events::text_start(0),
        events::text_delta(0, "Hel"),
    ]))
    .await;
    let source = error.model_error().unwrap();
    assert!(
        matches!(source, ModelError::Stream { message, .. } if message.contains("message_stop")),
        "{source}"
    );
}

#[tokio::test]
async fn params_max_tokens_and_extra_headers_are_sent() {
    let fake = fake().await;
    fake.push(Reply::text("ok"));
    let model = AnthropicModel::builder()
        .model_id(MODEL)
        .api_key(KEY)
        .base_url(format!("{}/", fake.base_url()))
        .max_tokens(512)
        .params(json!({"temperature": 0.5, "top_k": 40, "stop_sequences": ["END"]}))
        .header("anthropic-beta", "interleaved-thinking-2025-05-14")
        .build()
        .unwrap();
    let mut agent = Agent::builder().model(model).build().unwrap();
    agent.invoke("hi").await.unwrap();
    let request = &fake.requests()[0];
    assert_eq!(
        request.header("anthropic-beta"),
        Some("interleaved-thinking-2025-05-14")
    );
    let body: &Value = &request.body;
    assert_eq!(body["max_tokens"], 512);
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(body["top_k"], 40);
    assert_eq!(body["stop_sequences"], json!(["END"]));
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct Weather {
    /// the city
    city: String,
    /// degrees Celsius
    temp_c: i64,
}

#[tokio::test]
async fn structured_output_is_read_from_the_tool_call() {
    let fake = fake().await;
    fake.push(Reply::tool_uses(&[(
        "toolu_09",
        "Weather",
        r#"{"city": "Paris", "temp_c": 21}"#,
    )]));
    let mut agent = agent(&fake);
    let weather: Weather = agent.structured_output("weather in Paris?").await.unwrap();
    assert_eq!((weather.city.as_str(), weather.temp_c), ("Paris", 21));
    let body = &fake.requests()[0].body;
    assert_eq!(body["tools"][0]["name"], "Weather");
}

#[tokio::test]
async fn a_paused_server_tool_turn_is_resumed_within_the_call() {
    let fake = fake().await;
    fake.push(Reply::Stream(vec![
        events::message_start(20),
        events::Event::new(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}}),
        ),
        events::input_json_delta(0, r#"{"query": "#),
        events::input_json_delta(0, r#""rust"}"#),
        events::block_stop(0),
        events::Event::new(
            "content_block_start",
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}}),
        ),
        events::block_stop(1),
        events::message_delta("pause_turn", 10),
        events::message_stop(),
    ]));
    fake.push(Reply::Stream(vec![
        events::message_start(40),
        events::text_start(0),
        events::text_delta(0, "Rust is a language."),
        events::block_stop(0),
        events::message_delta("end_turn", 5),
        events::message_stop(),
    ]));
    let model = AnthropicModel::builder()
        .model_id(MODEL)
        .api_key(KEY)
        .base_url(fake.base_url())
        .anthropic_tool(json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 1}))
        .build()
        .unwrap();
    let mut agent = Agent::builder().model(model).build().unwrap();
    let result = agent.invoke("what is rust?").await.unwrap();
    assert_eq!(result.to_string(), "Rust is a language.\n");
    assert_eq!(
        (result.usage.input_tokens, result.usage.output_tokens),
        (60, 15)
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body["tools"],
        json!([{"type": "web_search_20250305", "name": "web_search", "max_uses": 1}])
    );
    assert_eq!(
        requests[1].body["messages"][1],
        json!({"role": "assistant", "content": [
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "rust"}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}
        ]})
    );
    // Server tool blocks are not part of the agent's history.
    assert_eq!(
        agent.messages()[1].content,
        vec![ContentBlock::text("Rust is a language.")]
    );
}
