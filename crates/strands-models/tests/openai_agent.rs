//! The agent loop end to end against a fake OpenAI-compatible server that speaks the recorded
//! wire format: real HTTP client, server-sent `chat.completion.chunk` streams in the styles of
//! OpenAI, Ollama and the llama.cpp server, OpenAI error bodies. Recorded request bodies are
//! checked against the chat-completions shape Python Strands sends.
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
use strands_core::content::ReasoningContentBlock;
use strands_core::media::{ImageContent, ImageFormat, MediaSource};
use strands_core::{ContentBlock, ModelError, Role, StopReason};
use strands_models::openai::OpenAiModel;
use strands_testkit::openai::{AuthOutcome, FakeOpenAi, Reply, SseFrame, chunks};

const KEY: &str = "sk-test-0123456789abcdef";
const MODEL: &str = "gpt-4o-mini";

/// A fake that requires [`KEY`].
async fn fake() -> FakeOpenAi {
    FakeOpenAi::builder().api_key(KEY).start().await.unwrap()
}

fn model(fake: &FakeOpenAi) -> OpenAiModel {
    OpenAiModel::builder()
        .model_id(MODEL)
        .base_url(fake.base_url())
        .api_key(KEY)
        .build()
        .unwrap()
}

fn add_tool_json() -> Value {
    json!({"type": "function", "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {
            "properties": {
                "a": {"description": "first addend", "type": "integer"},
                "b": {"description": "second addend", "type": "integer"}
            },
            "required": ["a", "b"],
            "type": "object"
        }
    }})
}

async fn first_error(model: OpenAiModel) -> (AgentError, Agent) {
    let mut agent = Agent::builder()
        .model(model)
        .retry_strategy(ModelRetryStrategy::none())
        .build()
        .unwrap();
    let error = agent.invoke("hi").await.unwrap_err();
    (error, agent)
}

#[tokio::test]
async fn a_text_turn_streams_through_a_real_http_client() {
    let fake = fake().await;
    fake.push(Reply::Stream(chunks::text_turn(&["Hello", ", world"])));
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
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.auth, AuthOutcome::Accepted);
    assert_eq!(request.bearer_token(), Some(KEY));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    assert_eq!(
        request.body,
        json!({
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": [{"text": "hi", "type": "text"}]}
            ],
            "model": MODEL,
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
}

#[tokio::test]
async fn several_tool_calls_in_one_turn_run_and_their_results_go_back_as_tool_messages() {
    let fake = fake().await;
    fake.push(Reply::Stream(chunks::tool_call_turn(
        Some("Adding both."),
        &[
            ("call_a1", "add", r#"{"a": 1, "b": 2}"#),
            ("call_b2", "add", r#"{"a": 3, "b": 4}"#),
        ],
    )));
    fake.push(Reply::text("3 and 7."));
    let mut agent = Agent::builder()
        .model(model(&fake))
        .tool(add())
        .build()
        .unwrap();

    let result = agent.invoke("add 1+2 and 3+4").await.unwrap();
    assert_eq!(result.to_string(), "3 and 7.\n");
    assert_eq!(agent.metrics().tool("add").unwrap().success_count, 2);
    assert_eq!(result.usage.total_tokens, 50 + 16);

    let requests = fake.requests();
    assert_eq!(requests[0].body["tools"], json!([add_tool_json()]));
    assert!(requests[0].body.get("tool_choice").is_none());
    let second = &requests[1].body;
    assert_eq!(
        second["messages"],
        json!([
            {"role": "user", "content": [{"text": "add 1+2 and 3+4", "type": "text"}]},
            {"role": "assistant", "content": [{"text": "Adding both.", "type": "text"}], "tool_calls": [
                {"function": {"arguments": "{\"a\": 1, \"b\": 2}", "name": "add"}, "id": "call_a1", "type": "function"},
                {"function": {"arguments": "{\"a\": 3, \"b\": 4}", "name": "add"}, "id": "call_b2", "type": "function"}
            ]},
            {"role": "tool", "tool_call_id": "call_a1", "content": "3"},
            {"role": "tool", "tool_call_id": "call_b2", "content": "7"}
        ])
    );
}

#[tokio::test]
async fn ollama_style_whole_tool_calls_without_usage_run_the_loop() {
    let fake = FakeOpenAi::start().await.unwrap();
    fake.push(Reply::Stream(chunks::ollama_tool_call_turn(&[(
        "call_x1",
        "add",
        r#"{"a":20,"b":22}"#,
    )])));
    fake.push(Reply::Stream(chunks::ollama_text_turn(&[
        "The answer ",
        "is 42.",
    ])));
    let model = OpenAiModel::builder()
        .model_id("llama3.2")
        .base_url(fake.base_url())
        .no_api_key()
        .build()
        .unwrap();
    let mut agent = Agent::builder().model(model).tool(add()).build().unwrap();

    let result = agent.invoke("20+22?").await.unwrap();
    assert_eq!(result.to_string(), "The answer is 42.\n");
    assert_eq!(result.usage.total_tokens, 0, "Ollama sent no usage");
    assert_eq!(
        agent.messages()[2].content[0]
            .as_tool_result()
            .unwrap()
            .tool_use_id,
        "call_x1"
    );
    assert!(fake.requests().iter().all(|r| r.bearer_token().is_none()));
}

#[tokio::test]
async fn llama_cpp_reasoning_is_kept_in_history_but_not_sent_back() {
    let fake = FakeOpenAi::start().await.unwrap();
    fake.push(Reply::Stream(chunks::llama_cpp_turn(
        &["The user ", "greets me."],
        &["Hello", "!"],
    )));
    fake.push(Reply::text("Again."));
    let model = OpenAiModel::builder()
        .model_id("qwen3")
        .base_url(fake.base_url())
        .no_api_key()
        .build()
        .unwrap();
    let mut agent = Agent::builder().model(model).build().unwrap();

    let result = agent.invoke("hi").await.unwrap();
    assert_eq!(result.to_string(), "Hello!\n");
    assert_eq!(result.usage.total_tokens, 16);
    let ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(reasoning)) =
        &agent.messages()[1].content[0]
    else {
        panic!("reasoning first: {:?}", agent.messages()[1]);
    };
    assert_eq!(reasoning.text, "The user greets me.");

    agent.invoke("again").await.unwrap();
    assert_eq!(
        fake.requests()[1].body["messages"][1],
        json!({"role": "assistant", "content": [{"text": "Hello!", "type": "text"}]})
    );
}

#[tokio::test]
async fn image_input_is_sent_as_a_data_url() {
    let fake = fake().await;
    fake.push(Reply::text("A red pixel."));
    let mut agent = Agent::builder().model(model(&fake)).build().unwrap();
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
            {"image_url": {"detail": "auto", "format": "image/png", "url": "data:image/png;base64,iVBORwABAg=="}, "type": "image_url"},
            {"text": "what is this?", "type": "text"}
        ])
    );
}

#[tokio::test]
async fn a_rate_limit_is_retried_by_the_agent_until_it_succeeds() {
    let fake = fake().await;
    fake.push(Reply::rate_limited(Some(1)));
    fake.push(Reply::service_unavailable());
    fake.push(Reply::text("finally"));
    let mut agent = Agent::builder()
        .model(model(&fake))
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
async fn a_rate_limit_that_never_ends_is_a_throttled_error_with_retry_after() {
    let fake = fake().await;
    fake.push(Reply::rate_limited(Some(7)));
    let (error, _) = first_error(model(&fake)).await;
    let source = error.model_error().unwrap();
    assert!(matches!(source, ModelError::Throttled { .. }), "{source}");
    assert_eq!(source.retry_after(), Some(Duration::from_secs(7)));
    assert!(source.to_string().contains("Rate limit reached"));
}

#[tokio::test]
async fn context_length_exceeded_is_a_context_window_overflow() {
    let fake = fake().await;
    fake.push(Reply::context_length_exceeded());
    let (error, _) = first_error(model(&fake)).await;
    assert!(
        matches!(error, AgentError::ContextWindowOverflow(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_wrong_key_is_a_credentials_error_that_does_not_leak_the_key() {
    let fake = fake().await;
    fake.push(Reply::text("never"));
    let wrong = OpenAiModel::builder()
        .model_id(MODEL)
        .base_url(fake.base_url())
        .api_key("sk-wrong-key-that-must-not-leak")
        .build()
        .unwrap();
    let (error, _) = first_error(wrong).await;
    let source = error.model_error().unwrap();
    assert!(matches!(source, ModelError::Credentials { .. }), "{source}");
    let text = strands_core::error_chain(&error);
    assert!(text.contains("Incorrect API key provided"), "{text}");
    assert!(!text.contains("sk-wrong-key-that-must-not-leak"), "{text}");
    assert_eq!(fake.requests()[0].auth, AuthOutcome::InvalidApiKey);
    assert_eq!(
        fake.pending_replies(),
        1,
        "a rejected request plays nothing"
    );
}

#[tokio::test]
async fn a_missing_key_is_a_credentials_error() {
    let fake = fake().await;
    let keyless = OpenAiModel::builder()
        .model_id(MODEL)
        .base_url(fake.base_url())
        .no_api_key()
        .build()
        .unwrap();
    let (error, _) = first_error(keyless).await;
    assert!(
        matches!(error.model_error(), Some(ModelError::Credentials { .. })),
        "{error:?}"
    );
    assert_eq!(fake.requests()[0].auth, AuthOutcome::MissingApiKey);
}

#[tokio::test]
async fn a_cut_connection_is_a_stream_error_and_the_prompt_stays_in_history() {
    let fake = fake().await;
    fake.push(Reply::cut_mid_stream("Hel"));
    let (error, agent) = first_error(model(&fake)).await;
    let source = error.model_error().unwrap();
    assert!(matches!(source, ModelError::Stream { .. }), "{source}");
    assert!(
        source.to_string().contains("broke before it ended"),
        "{source}"
    );
    assert_eq!(agent.messages().len(), 1);
    assert_eq!(agent.messages()[0].role, Role::User);
    assert_eq!(agent.messages()[0].content[0].as_text(), Some("hi"));
}

#[tokio::test]
async fn a_stream_that_ends_without_a_finish_reason_is_a_stream_error() {
    let fake = fake().await;
    // A clean end of the body, but the model never finished.
    fake.push(Reply::Stream(vec![
        chunks::role().into(),
        chunks::text("Hel").into(),
    ]));
    let (error, _) = first_error(model(&fake)).await;
    let source = error.model_error().unwrap();
    assert!(matches!(source, ModelError::Stream { .. }), "{source}");
    assert!(source.to_string().contains("no finish_reason"), "{source}");
}

#[tokio::test]
async fn an_error_object_mid_stream_is_a_stream_error_with_the_servers_text() {
    let fake = fake().await;
    fake.push(Reply::error_mid_stream("partial"));
    let (error, agent) = first_error(model(&fake)).await;
    let source = error.model_error().unwrap();
    assert!(matches!(source, ModelError::Stream { .. }), "{source}");
    assert!(source.to_string().contains("The server had an error"));
    assert_eq!(agent.messages().len(), 1);
}

#[tokio::test]
async fn an_unknown_model_says_how_to_fix_it() {
    let fake = fake().await;
    fake.push(Reply::error(
        404,
        "The model `gpt-9` does not exist or you do not have access to it.",
        "invalid_request_error",
        Some("model_not_found"),
    ));
    let (error, _) = first_error(model(&fake)).await;
    let source = error.model_error().unwrap();
    assert!(
        matches!(source, ModelError::InvalidRequest { message } if message.contains("does not exist") && message.contains("base URL")),
        "{source}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_provider_error_naming_the_url() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base_url = format!("http://127.0.0.1:{port}/v1");
    let model = OpenAiModel::builder()
        .model_id(MODEL)
        .base_url(&base_url)
        .no_api_key()
        .build()
        .unwrap();
    let (error, _) = first_error(model).await;
    let source = error.model_error().unwrap();
    assert!(matches!(source, ModelError::Provider { .. }), "{source}");
    assert!(source.to_string().contains(&base_url), "{source}");
    assert!(source.to_string().contains("could not connect"), "{source}");
}

#[tokio::test]
async fn a_server_without_authentication_works_without_a_key() {
    let fake = FakeOpenAi::builder().text("Hi!").start().await.unwrap();
    let model = OpenAiModel::builder()
        .model_id("llama3.2")
        .base_url(fake.base_url())
        .no_api_key()
        .build()
        .unwrap();
    let mut agent = Agent::builder().model(model).build().unwrap();
    assert_eq!(agent.invoke("hi").await.unwrap().to_string(), "Hi!\n");
    let request = &fake.requests()[0];
    assert_eq!(request.auth, AuthOutcome::NotRequired);
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.body["model"], "llama3.2");
}

#[tokio::test]
async fn without_streaming_the_same_loop_runs_on_whole_completions() {
    let fake = fake().await;
    fake.push(Reply::tool_calls(&[(
        "call_1",
        "add",
        r#"{"a": 20, "b": 22}"#,
    )]));
    fake.push(Reply::text("42"));
    let model = OpenAiModel::builder()
        .model_id(MODEL)
        .base_url(fake.base_url())
        .api_key(KEY)
        .streaming(false)
        .build()
        .unwrap();
    let mut agent = Agent::builder().model(model).tool(add()).build().unwrap();
    let result = agent.invoke("20+22?").await.unwrap();
    assert_eq!(result.to_string(), "42\n");
    assert_eq!(result.usage.total_tokens, 50 + 16);
    let requests = fake.requests();
    assert_eq!(requests[0].body["stream"], json!(false));
    assert!(requests[0].body.get("stream_options").is_none());
    assert_eq!(requests[0].header("accept"), Some("application/json"));
}

#[tokio::test]
async fn params_are_sent_and_can_turn_usage_off() {
    let fake = fake().await;
    fake.push(Reply::text("ok"));
    let model = OpenAiModel::builder()
        .model_id(MODEL)
        .base_url(fake.base_url())
        .api_key(KEY)
        .params(json!({"temperature": 0.2, "max_tokens": 64, "stream_options": {"include_usage": false}}))
        .header("OpenAI-Organization", "org-fake")
        .build()
        .unwrap();
    let mut agent = Agent::builder().model(model).build().unwrap();
    let result = agent.invoke("hi").await.unwrap();
    assert_eq!(result.usage.total_tokens, 0, "no usage chunk was asked for");
    let request = &fake.requests()[0];
    assert_eq!(request.body["temperature"], json!(0.2));
    assert_eq!(request.body["max_tokens"], json!(64));
    assert_eq!(request.header("openai-organization"), Some("org-fake"));
}

#[tokio::test]
async fn keep_alives_and_envelope_fields_are_ignored() {
    let fake = fake().await;
    let mut frames = vec![SseFrame::Comment("keep-alive".to_owned())];
    frames.extend(chunks::text_turn(&["fine"]));
    fake.push(Reply::Stream(frames));
    let mut agent = Agent::builder().model(model(&fake)).build().unwrap();
    assert_eq!(agent.invoke("hi").await.unwrap().to_string(), "fine\n");
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct Weather {
    /// the city
    city: String,
    /// degrees Celsius
    celsius: i64,
}

#[tokio::test]
async fn structured_output_comes_back_through_a_tool_call() {
    let fake = fake().await;
    fake.push(Reply::tool_calls(&[(
        "call_w",
        "Weather",
        r#"{"city": "Paris", "celsius": 21}"#,
    )]));
    let mut agent = Agent::builder().model(model(&fake)).build().unwrap();
    let weather: Weather = agent.structured_output("weather in Paris?").await.unwrap();
    assert_eq!((weather.city.as_str(), weather.celsius), ("Paris", 21));
    let tools = &fake.requests()[0].body["tools"];
    assert_eq!(tools[0]["function"]["name"], "Weather");
}
