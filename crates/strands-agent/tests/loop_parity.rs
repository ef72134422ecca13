//! The agent loop against Python Strands 1.62: each fixture in `fixtures/parity/` was written by
//! running the Python SDK with a scripted model (`fixtures/parity/generate.py`). The same script
//! is replayed here and everything Python exposes is compared: history, what the model received,
//! streamed events, stop reasons, result text, errors, tool metrics, cycles and usage.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::StreamExt;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_agent::{Agent, AgentError, AgentEvent, Limits, ModelRetryStrategy};
use strands_core::{Message, ModelError};
use strands_testkit::ScriptedModel;

use common::{add, fail, normalize, object, parity_script, stop_now};

struct Outcome {
    stop_reason: Option<String>,
    result_text: Option<String>,
    error: Option<(String, String)>,
    events: Vec<Value>,
    /// This invocation's cycles and usage, from its result.
    invocation: Option<(u64, Value)>,
}

/// The per-invocation `limits` Python was called with (`invoke_kwargs[i].limits`).
fn limits(fixture: &Value, invocation: usize) -> Limits {
    let given = &fixture["invoke_kwargs"][invocation]["limits"];
    let cap = |key: &str| given.get(key).map(|v| v.as_u64().expect("an integer cap"));
    let mut limits = Limits::new();
    if let Some(turns) = cap("turns") {
        limits = limits.turns(turns);
    }
    if let Some(tokens) = cap("total_tokens") {
        limits = limits.total_tokens(tokens);
    }
    if let Some(tokens) = cap("output_tokens") {
        limits = limits.output_tokens(tokens);
    }
    limits
}

fn load(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/parity/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn python_error_type(error: &AgentError) -> &'static str {
    match error {
        AgentError::MaxTokensReached { .. } => "MaxTokensReachedException",
        AgentError::ContextWindowOverflow(_) => "ContextWindowOverflowException",
        AgentError::Model {
            source: ModelError::Throttled { .. },
            ..
        } => "ModelThrottledException",
        other => panic!("no Python equivalent recorded for {other:?}"),
    }
}

/// Python-shaped event for comparison: drops the events Rust adds (`tool_start`, `tool_result`),
/// keeps only the stop reason of the result, and hides the force-stop wording.
fn comparable(event: &AgentEvent) -> Option<Value> {
    match event {
        AgentEvent::ToolStart { .. } | AgentEvent::ToolResult { .. } => None,
        AgentEvent::Result(result) => Some(json!({"result": {"stop_reason": result.stop_reason}})),
        AgentEvent::ForceStop { .. } => {
            Some(json!({"force_stop": true, "force_stop_reason": "<reason>"}))
        }
        other => {
            let mut value = serde_json::to_value(other).unwrap();
            normalize(&mut value);
            Some(value)
        }
    }
}

async fn run_fixture(name: &str) {
    let fixture = load(name);
    let model = Arc::new(ScriptedModel::new(parity_script(&fixture)));
    let retry = &fixture["agent"]["retry"];
    let handle = Arc::new(OnceLock::new());
    let mut builder = Agent::builder()
        .shared_model(model.clone())
        .tool(add)
        .tool(fail)
        .tool(stop_now(handle.clone()))
        .retry_strategy(ModelRetryStrategy::new(
            u32::try_from(retry["max_attempts"].as_u64().unwrap()).unwrap(),
            Duration::from_secs_f64(retry["initial_delay"].as_f64().unwrap()),
            Duration::from_secs_f64(retry["max_delay"].as_f64().unwrap()),
        ));
    if let Some(prompt) = fixture["agent"]["system_prompt"].as_str() {
        builder = builder.system_prompt(prompt);
    }
    let initial: Vec<Message> =
        serde_json::from_value(fixture["agent"]["initial_messages"].clone()).unwrap();
    let mut agent = builder.messages(initial).build().unwrap();
    handle.set(agent.cancel_handle()).unwrap();

    let mut outcomes = Vec::new();
    for (index, prompt) in fixture["prompts"].as_array().unwrap().iter().enumerate() {
        let mut outcome = Outcome {
            stop_reason: None,
            result_text: None,
            error: None,
            events: Vec::new(),
            invocation: None,
        };
        let limits = limits(&fixture, index);
        let mut stream = pin!(agent.stream_with_limits(prompt.as_str().unwrap(), limits));
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => {
                    if let AgentEvent::Result(result) = &event {
                        outcome.stop_reason = Some(result.stop_reason.to_string());
                        outcome.result_text = Some(result.to_string());
                        let usage = serde_json::to_value(result.usage).unwrap();
                        outcome.invocation = Some((result.cycle_count, usage));
                    }
                    outcome.events.extend(comparable(&event));
                }
                Err(error) => {
                    let message = match &error {
                        AgentError::Model {
                            source: ModelError::Throttled { message, .. },
                            ..
                        } => message.clone(),
                        AgentError::MaxTokensReached { .. } => "<max tokens>".to_owned(),
                        other => other.to_string(),
                    };
                    outcome.error = Some((python_error_type(&error).to_owned(), message));
                }
            }
        }
        outcomes.push(outcome);
    }

    let expected = &fixture["expected"];
    for (i, (outcome, want)) in outcomes
        .iter()
        .zip(expected["invocations"].as_array().unwrap())
        .enumerate()
    {
        assert_eq!(
            outcome.stop_reason.as_deref(),
            want["stop_reason"].as_str(),
            "{name}[{i}] stop reason"
        );
        assert_eq!(
            outcome.result_text.as_deref(),
            want["result_text"].as_str(),
            "{name}[{i}] result text"
        );
        match (&outcome.error, want["error"].as_object()) {
            (None, None) => {}
            (Some((kind, message)), Some(want)) => {
                assert_eq!(
                    kind,
                    want["type"].as_str().unwrap(),
                    "{name}[{i}] error type"
                );
                if kind == "ModelThrottledException" {
                    assert_eq!(
                        message,
                        want["message"].as_str().unwrap(),
                        "{name}[{i}] error message"
                    );
                }
            }
            (got, want) => panic!("{name}[{i}]: error {got:?}, Python had {want:?}"),
        }
        let mut want_events: Vec<Value> = want["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e.get("start").is_none())
            .cloned()
            .map(|mut e| {
                if e.get("force_stop").is_some() {
                    e["force_stop_reason"] = json!("<reason>");
                }
                e
            })
            .collect();
        want_events.iter_mut().for_each(normalize);
        assert_eq!(outcome.events, want_events, "{name}[{i}] events");
        if let (Some((cycles, usage)), Some(want_cycles)) =
            (&outcome.invocation, want["invocation_cycles"].as_u64())
        {
            assert_eq!(*cycles, want_cycles, "{name}[{i}] cycles of the invocation");
            assert_eq!(
                usage, &want["invocation_usage"],
                "{name}[{i}] usage of the invocation"
            );
        }
    }

    let mut history = serde_json::to_value(agent.messages()).unwrap();
    normalize(&mut history);
    let mut want_history = expected["messages"].clone();
    normalize(&mut want_history);
    let closed = close_unanswered_turns(&mut want_history);
    assert_eq!(history, want_history, "{name}: history");

    let mut calls = serde_json::to_value(model.requests()).unwrap();
    normalize(&mut calls);
    let mut want_calls = expected["model_calls"].clone();
    normalize(&mut want_calls);
    for call in want_calls.as_array_mut().unwrap() {
        close_unanswered_turns(&mut call["messages"]);
    }
    assert_eq!(calls, want_calls, "{name}: what the model received");
    // What the model received holds role and content only by type (`ModelMessages`); what
    // the history holds is checked here: tracking ids everywhere, metadata on answers.
    if let Some(want_keys) = expected.get("final_message_keys") {
        let mut want_keys = want_keys.clone();
        for &index in &closed {
            let keys = json!(["content", "role", "tracking_id"]);
            want_keys.as_array_mut().unwrap().insert(index, keys);
        }
        assert_eq!(
            message_keys(agent.messages()),
            want_keys,
            "{name}: the keys of the messages in history"
        );
    }
    if let Some(removed) = expected["removed_message_count"].as_u64() {
        let state = agent.conversation_manager().state();
        assert_eq!(
            state["removed_message_count"], removed,
            "{name}: messages the conversation manager removed"
        );
    }

    let metrics = agent.metrics();
    assert_eq!(
        metrics.cycle_count,
        expected["cycle_count"].as_u64().unwrap(),
        "{name}: cycles"
    );
    assert_eq!(
        serde_json::to_value(metrics.accumulated_usage).unwrap(),
        expected["accumulated_usage"],
        "{name}: usage"
    );
    let want_tools = object(&expected["tool_metrics"]);
    assert_eq!(
        metrics.tool_metrics.len(),
        want_tools.len(),
        "{name}: tools with metrics"
    );
    for (tool, counts) in want_tools {
        let got = metrics
            .tool(tool)
            .unwrap_or_else(|| panic!("{name}: no metrics for {tool}"));
        assert_eq!(
            (got.call_count, got.success_count, got.error_count),
            (
                counts["call_count"].as_u64().unwrap(),
                counts["success_count"].as_u64().unwrap(),
                counts["error_count"].as_u64().unwrap()
            ),
            "{name}: metrics of {tool}"
        );
    }
    assert_eq!(
        model.remaining(),
        usize::try_from(expected["model_steps_unused"].as_u64().unwrap_or(0)).unwrap(),
        "{name}: model calls"
    );
}

/// The one deliberate difference in history (docs/python-parity.md): where Python lets a user
/// message follow an unanswered one, Rust closes the turn with an assistant message first.
/// Returns the indexes of the inserted messages.
fn close_unanswered_turns(messages: &mut Value) -> Vec<usize> {
    let messages = messages.as_array_mut().unwrap();
    let mut inserted = Vec::new();
    let mut index = 1;
    while index < messages.len() {
        if messages[index - 1]["role"] == "user" && messages[index]["role"] == "user" {
            let marker = json!({
                "role": "assistant",
                "content": [{"text": "No response: the previous turn ended before an answer."}],
            });
            messages.insert(index, marker);
            inserted.push(index);
        }
        index += 1;
    }
    inserted
}

/// The sorted keys of every message.
fn message_keys(messages: &[Message]) -> Value {
    let messages = serde_json::to_value(messages).unwrap();
    let keys: Vec<Value> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let mut keys: Vec<&String> = m.as_object().unwrap().keys().collect();
            keys.sort();
            json!(keys)
        })
        .collect();
    json!(keys)
}

macro_rules! parity {
    ($($test:ident => $fixture:literal;)*) => {$(
        #[tokio::test(start_paused = true)]
        async fn $test() {
            run_fixture($fixture).await;
        }
    )*};
}

parity! {
    text_only_turn_matches_python => "text_only";
    one_tool_turn_matches_python => "one_tool";
    two_tools_in_one_turn_match_python => "two_tools_one_turn";
    tool_error_becomes_error_result_like_python => "tool_error";
    unknown_tool_becomes_error_result_like_python => "unknown_tool";
    invalid_tool_arguments_become_error_result_like_python => "invalid_tool_arguments";
    numeric_string_arguments_are_coerced_like_python => "lax_coercion";
    throttled_twice_then_succeeds_like_python => "throttled_twice_then_succeeds";
    throttling_until_exhausted_fails_like_python => "throttled_until_exhausted";
    max_tokens_stops_with_recovered_message_like_python => "max_tokens";
    cancellation_mid_tool_stops_like_python => "cancel_mid_tool";
    invalid_tool_name_is_answered_first_like_python => "invalid_tool_name";
    end_turn_with_tool_use_runs_tools_like_python => "end_turn_with_tool_use";
    blank_or_invalid_tool_input_becomes_empty_object_like_python => "tool_input_edge_cases";
    reasoning_and_text_blocks_assemble_like_python => "reasoning_then_text";
    dangling_tool_use_is_answered_as_interrupted_like_python => "dangling_tool_use";
    model_receives_normalized_history_like_python => "system_prompt_and_blank_text";
    history_carries_over_between_invocations_like_python => "multi_turn";
    history_keeps_tracking_ids_and_metadata_like_python => "model_sees_role_and_content_only";
    context_overflow_emits_force_stop_then_trims_like_python => "context_overflow_recovers";
    context_overflow_truncates_a_tool_result_first_like_python => "context_overflow_truncates_tool_result";
    unrecoverable_context_overflow_fails_like_python => "context_overflow_unrecoverable";
    turn_limit_of_one_stops_after_the_tools_like_python => "limit_turns_1";
    turn_limit_of_two_stops_after_the_second_cycle_like_python => "limit_turns_2";
    turn_limit_not_reached_changes_nothing_like_python => "limit_turns_not_reached";
    turn_limit_after_a_text_answer_ends_with_end_turn_like_python => "limit_turns_1_text_answer";
    turn_limits_apply_per_invocation_like_python => "limit_turns_per_invocation";
    output_token_limit_stops_the_next_cycle_like_python => "limit_output_tokens";
    total_token_limit_stops_the_next_cycle_like_python => "limit_total_tokens";
    turn_limit_wins_over_token_limits_like_python => "limit_priority";
    turn_limit_counts_a_cycle_lost_to_context_overflow_like_python => "limit_turns_after_context_overflow";
}
