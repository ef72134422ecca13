//! Swarms against Python Strands 1.62: each `fixtures/multiagent/swarm_*.json` was written by
//! running Python's `Swarm` over agents with scripted models (`fixtures/multiagent/generate.py`).
//! The same scripts run here and everything Python exposes is compared: every streamed event
//! (node starts, the agents' events, node stops with their results, handoffs, the result), the
//! result's text, the state a session persists after each task, what each node's model
//! received, and each agent's final history.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_agent::multiagent::{MultiAgentEvent, MultiAgentInput, Swarm};
use strands_agent::{Agent, AgentEvent, InterruptResponse};
use strands_core::{ContentBlock, StreamEvent};
use strands_testkit::{ScriptedModel, Step};

use common::{add, normalize, publish};

fn load(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/multiagent/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// A node's script: stream events, `{"raise": "error"}` (a provider failure) or `{"hang": true}`.
fn script(steps: &Value) -> Vec<Step> {
    steps
        .as_array()
        .unwrap()
        .iter()
        .map(|step| {
            if let Some(events) = step.get("events") {
                Step::Events(serde_json::from_value::<Vec<StreamEvent>>(events.clone()).unwrap())
            } else if step.get("hang").is_some() {
                Step::EventsThenHang(Vec::new())
            } else {
                assert_eq!(step["raise"], "error", "unknown scripted step {step}");
                Step::Fail(step["message"].as_str().unwrap().to_owned())
            }
        })
        .collect()
}

fn build(fixture: &Value) -> (Swarm, Vec<(String, Arc<ScriptedModel>)>) {
    let mut models = Vec::new();
    let mut builder = Swarm::builder();
    for node in fixture["nodes"].as_array().unwrap() {
        let name = node["name"].as_str().unwrap().to_owned();
        let model = Arc::new(ScriptedModel::new(script(&node["model_script"])));
        let mut agent = Agent::builder().name(&name).shared_model(model.clone());
        if let Some(description) = node["description"].as_str() {
            agent = agent.description(description);
        }
        if let Some(prompt) = node["system_prompt"].as_str() {
            agent = agent.system_prompt(prompt);
        }
        for tool in node["tools"].as_array().into_iter().flatten() {
            agent = match tool.as_str().unwrap() {
                "add" => agent.tool(add),
                "publish" => agent.tool(publish),
                other => panic!("unknown tool {other}"),
            };
        }
        builder = builder.node(agent.build().unwrap());
        models.push((name, model));
    }
    let config = &fixture["config"];
    if let Some(entry) = config["entry_point"].as_str() {
        builder = builder.entry_point(entry);
    }
    let count = |key: &str| config[key].as_u64().map(|n| usize::try_from(n).unwrap());
    if let Some(max) = count("max_handoffs") {
        builder = builder.max_handoffs(max);
    }
    if let Some(max) = count("max_iterations") {
        builder = builder.max_iterations(max);
    }
    if let Some(window) = count("repetitive_handoff_detection_window") {
        let min = count("repetitive_handoff_min_unique_agents").unwrap_or(0);
        builder = builder.repetitive_handoff_detection(window, min);
    }
    if let Some(seconds) = config["node_timeout"].as_f64() {
        builder = builder.node_timeout(Duration::from_secs_f64(seconds));
    }
    (builder.build().unwrap(), models)
}

/// The task of an invocation; `"resume:<answer>"` answers every open interrupt with `<answer>`.
fn task(value: &Value, swarm: &Swarm) -> MultiAgentInput {
    if let Some(answer) = value.as_str().and_then(|t| t.strip_prefix("resume:")) {
        let responses = swarm
            .pending_interrupts()
            .into_iter()
            .map(|i| InterruptResponse::new(i.id, answer))
            .collect::<Vec<_>>();
        assert!(!responses.is_empty(), "nothing to resume");
        return MultiAgentInput::from(responses);
    }
    match value {
        Value::String(text) => MultiAgentInput::from(text.as_str()),
        blocks => MultiAgentInput::from(
            serde_json::from_value::<Vec<ContentBlock>>(blocks.clone()).unwrap(),
        ),
    }
}

/// Masks what differs by design or by clock: execution times, a failed node's wall-time
/// latency, and the wording around an error (Python prints the exception's text, Rust the
/// error with its causes, which end with that text).
fn mask(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("execution_time") {
                map.insert("execution_time".into(), json!(0));
            }
            if map.get("status") == Some(&json!("failed"))
                && let Some(metrics) = map.get_mut("accumulated_metrics")
            {
                metrics["latencyMs"] = json!(0);
            }
            if map.contains_key("force_stop_reason") {
                map.insert("force_stop_reason".into(), json!("<reason>"));
            }
            if map.get("type") == Some(&json!("exception")) {
                let message = map["message"].as_str().unwrap_or_default();
                let root = message.rsplit(": ").next().unwrap_or_default().to_owned();
                map.insert("message".into(), json!(root));
            }
            map.values_mut().for_each(mask);
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

/// Python's view of an event: no `tool_start` / `tool_result` (Rust additions), an agent's result
/// reduced to its stop reason (as the fixtures record it).
fn comparable(event: &MultiAgentEvent) -> Option<Value> {
    if let MultiAgentEvent::NodeStream { node_id, event } = event {
        let inner = match event.as_ref() {
            AgentEvent::ToolStart { .. } | AgentEvent::ToolResult { .. } => return None,
            AgentEvent::Result(result) => json!({"result": {"stop_reason": result.stop_reason}}),
            other => serde_json::to_value(other).unwrap(),
        };
        let mut value =
            json!({"type": "multiagent_node_stream", "node_id": node_id, "event": inner});
        normalize(&mut value);
        mask(&mut value);
        return Some(value);
    }
    let mut value = serde_json::to_value(event).unwrap();
    normalize(&mut value);
    mask(&mut value);
    Some(value)
}

fn python_events(events: &Value) -> Vec<Value> {
    events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] != "multiagent_node_stream" || e["event"].get("start").is_none())
        .cloned()
        .map(|mut e| {
            normalize(&mut e);
            mask(&mut e);
            e
        })
        .collect()
}

async fn run_fixture(name: &str) {
    let fixture = load(name);
    let (mut swarm, models) = build(&fixture);
    let expected = &fixture["expected"];
    for (i, (task_value, want)) in fixture["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .zip(expected["invocations"].as_array().unwrap())
        .enumerate()
    {
        assert!(want["error"].is_null(), "{name}[{i}]: Python raised");
        let mut events = Vec::new();
        let mut text = None;
        let task = task(task_value, &swarm);
        let mut stream = pin!(swarm.stream(task));
        while let Some(event) = stream.next().await {
            let event = event.unwrap();
            if let MultiAgentEvent::Result(result) = &event {
                text = Some(result.to_string());
            }
            events.extend(comparable(&event));
        }
        assert_eq!(events, python_events(&want["events"]), "{name}[{i}] events");
        assert_same_text(
            text.as_deref().unwrap(),
            want["result_text"].as_str().unwrap(),
            name,
        );
    }
    for (node, model) in &models {
        let mut calls = serde_json::to_value(model.requests()).unwrap();
        normalize(&mut calls);
        let mut want_calls = expected["model_calls"][node].clone();
        normalize(&mut want_calls);
        assert_eq!(calls, want_calls, "{name}: what {node}'s model received");

        let mut history = serde_json::to_value(swarm.node(node).unwrap().messages()).unwrap();
        normalize(&mut history);
        let mut want_history = expected["messages"][node].clone();
        normalize(&mut want_history);
        assert_eq!(history, want_history, "{name}: {node}'s history");
    }
}

/// `str(result)`: line for line, where a failed node's line ends with Python's (Rust adds the
/// error's context before the exception text Python prints).
fn assert_same_text(ours: &str, python: &str, name: &str) {
    let ours: Vec<&str> = ours.lines().collect();
    let python: Vec<&str> = python.lines().collect();
    assert_eq!(
        ours.len(),
        python.len(),
        "{name}: result text {ours:?} vs {python:?}"
    );
    for (line, want) in ours.iter().zip(&python) {
        let (node, text) = want.split_once(": ").unwrap();
        assert!(
            line == want
                || (line.starts_with(&format!("{node}: ")) && line.ends_with(&format!(": {text}"))),
            "{name}: result text line {line:?}, Python {want:?}"
        );
    }
}

macro_rules! parity {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            run_fixture(stringify!($name)).await;
        }
    )*};
}

parity!(
    swarm_no_handoff,
    swarm_handoff_chain,
    swarm_unknown_agent,
    swarm_two_handoffs_in_one_turn,
    swarm_max_handoffs,
    swarm_repetitive_handoff,
    swarm_node_failure,
    swarm_node_timeout,
    swarm_entry_point_and_content_task,
    swarm_two_invocations,
    swarm_interrupt_in_node,
);
