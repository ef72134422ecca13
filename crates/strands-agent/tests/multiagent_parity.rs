//! Swarms and graphs against Python Strands 1.62: each `fixtures/multiagent/*.json` was written
//! by running Python's `Swarm` or `Graph` over agents with scripted models
//! (`fixtures/multiagent/generate.py`). The same scripts run here and everything Python exposes
//! is compared: every streamed event (node starts, the agents' and nested swarms' events, node
//! stops with their results, handoffs, interrupts, the result), the result's text or the error,
//! the state a session persists after each task, what each node's model received, and each
//! agent's final history. Where a graph runs nodes concurrently, the order in which their events
//! interleave is the scheduler's: events are then compared node by node.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt;
use indexmap::IndexMap;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_agent::multiagent::{
    Graph, GraphBuilder, GraphState, MultiAgentError, MultiAgentEvent, MultiAgentInput, NodeEvent,
    NodeExecutor, Swarm,
};
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

/// Each agent's scripted model, by agent name.
type Models = Vec<(String, Arc<ScriptedModel>)>;

/// The fixture's agents, by name, each with its scripted model.
fn agents(fixture: &Value) -> (IndexMap<String, Agent>, Models) {
    let mut agents = IndexMap::new();
    let mut models = Vec::new();
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
        agents.insert(name.clone(), agent.build().unwrap());
        models.push((name, model));
    }
    (agents, models)
}

fn swarm(config: &Value, agents: Vec<Agent>) -> Swarm {
    let mut builder = Swarm::builder().nodes(agents);
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
    builder.build().unwrap()
}

/// The edge condition the generator builds from the same declarative form.
fn condition(spec: &Value) -> impl Fn(&GraphState) -> bool + Send + Sync + 'static {
    let (kind, args) = spec.as_object().unwrap().iter().next().unwrap();
    let node = args[0].as_str().unwrap().to_owned();
    let arg = args[1].clone();
    let kind = kind.clone();
    move |state: &GraphState| match kind.as_str() {
        "result_contains" => state
            .results
            .get(&node)
            .is_some_and(|r| r.to_string().contains(arg.as_str().unwrap())),
        "executions_below" => {
            let runs = state.execution_order.iter().filter(|n| **n == node).count();
            (runs as u64) < arg.as_u64().unwrap()
        }
        other => panic!("unknown condition {other}"),
    }
}

fn graph(fixture: &Value, mut agents: IndexMap<String, Agent>) -> Graph {
    let spec = &fixture["graph"];
    let mut builder: GraphBuilder = Graph::builder();
    for node_id in spec["nodes"].as_array().unwrap() {
        let node_id = node_id.as_str().unwrap();
        builder = match fixture["swarms"][node_id].as_array() {
            Some(members) => {
                let members: Vec<Agent> = members
                    .iter()
                    .map(|m| agents.shift_remove(m.as_str().unwrap()).unwrap())
                    .collect();
                let team = Swarm::builder().nodes(members).id(node_id).build().unwrap();
                builder.node_with_id(node_id, team)
            }
            None => builder.node_with_id(node_id, agents.shift_remove(node_id).unwrap()),
        };
    }
    for edge in spec["edges"].as_array().unwrap() {
        let (from, to) = (edge[0].as_str().unwrap(), edge[1].as_str().unwrap());
        builder = match edge.get(2) {
            Some(spec) => builder.conditional_edge(from, to, condition(spec)),
            None => builder.edge(from, to),
        };
    }
    for entry in spec["entry_points"].as_array().into_iter().flatten() {
        builder = builder.entry_point(entry.as_str().unwrap());
    }
    if let Some(max) = spec["max_node_executions"].as_u64() {
        builder = builder.max_node_executions(usize::try_from(max).unwrap());
    }
    if let Some(seconds) = spec["node_timeout"].as_f64() {
        builder = builder.node_timeout(Duration::from_secs_f64(seconds));
    }
    if spec["reset_on_revisit"].as_bool() == Some(true) {
        builder = builder.reset_on_revisit(true);
    }
    builder.build().unwrap()
}

/// A swarm or a graph, driven the same way.
enum Team {
    Swarm(Box<Swarm>),
    Graph(Box<Graph>),
}

type Events<'a> = Pin<Box<dyn Stream<Item = Result<MultiAgentEvent, MultiAgentError>> + Send + 'a>>;

impl Team {
    fn stream(&mut self, task: MultiAgentInput) -> Events<'_> {
        match self {
            Self::Swarm(swarm) => Box::pin(swarm.stream(task)),
            Self::Graph(graph) => Box::pin(graph.stream(task)),
        }
    }

    fn pending_interrupts(&self) -> Vec<strands_core::Interrupt> {
        match self {
            Self::Swarm(swarm) => swarm.pending_interrupts(),
            Self::Graph(graph) => graph.pending_interrupts(),
        }
    }

    fn serialize_state(&self) -> Value {
        match self {
            Self::Swarm(swarm) => swarm.serialize_state(),
            Self::Graph(graph) => graph.serialize_state(),
        }
    }

    /// The agent named `name`, wherever it sits (in a nested swarm too).
    fn agent(&self, name: &str) -> &Agent {
        match self {
            Self::Swarm(swarm) => swarm.node(name).unwrap(),
            Self::Graph(graph) => graph
                .node_ids()
                .find_map(|id| match graph.node(id)? {
                    NodeExecutor::Agent(agent) if agent.name() == name => Some(agent.as_ref()),
                    NodeExecutor::Swarm(swarm) => swarm.node(name),
                    _ => None,
                })
                .unwrap(),
        }
    }
}

fn build(fixture: &Value) -> (Team, Models) {
    let (agents, models) = agents(fixture);
    let team = match fixture["kind"].as_str().unwrap() {
        "swarm" => Team::Swarm(Box::new(swarm(
            &fixture["config"],
            agents.into_values().collect(),
        ))),
        "graph" => Team::Graph(Box::new(graph(fixture, agents))),
        other => panic!("unknown kind {other}"),
    };
    (team, models)
}

/// The task of an invocation; `"resume:<answer>"` answers every open interrupt with `<answer>`.
fn task(value: &Value, team: &Team) -> MultiAgentInput {
    if let Some(answer) = value.as_str().and_then(|t| t.strip_prefix("resume:")) {
        let responses = team
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
            for key in [
                "completed_nodes",
                "failed_nodes",
                "interrupted_nodes",
                "next_nodes_to_execute",
                "entry_points",
                "edges",
            ] {
                if let Some(Value::Array(items)) = map.get_mut(key) {
                    items.sort_by_key(|v| v.to_string());
                }
            }
            if map.get("type") == Some(&json!("multiagent_handoff")) && !map.contains_key("message")
            {
                for key in ["from_node_ids", "to_node_ids"] {
                    if let Some(Value::Array(items)) = map.get_mut(key) {
                        items.sort_by_key(|v| v.to_string());
                    }
                }
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
/// reduced to its stop reason (as the fixtures record it), nested events alike.
fn comparable(event: &MultiAgentEvent) -> Option<Value> {
    let mut value = match event {
        MultiAgentEvent::NodeStream { node_id, event } => {
            let inner = match event.as_ref() {
                NodeEvent::Agent(AgentEvent::ToolStart { .. } | AgentEvent::ToolResult { .. }) => {
                    return None;
                }
                NodeEvent::Agent(AgentEvent::Result(result)) => {
                    json!({"result": {"stop_reason": result.stop_reason}})
                }
                NodeEvent::Agent(other) => serde_json::to_value(other).unwrap(),
                NodeEvent::MultiAgent(nested) => comparable(nested)?,
                other => panic!("unexpected node event {other:?}"),
            };
            json!({"type": "multiagent_node_stream", "node_id": node_id, "event": inner})
        }
        other => serde_json::to_value(other).unwrap(),
    };
    normalize(&mut value);
    mask(&mut value);
    Some(value)
}

/// Python's events as Rust streams them: without the deprecated `{"start": true}` (nested ones
/// too), normalized and masked.
fn python_events(events: &Value) -> Vec<Value> {
    events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(python_event)
        .map(|mut e| {
            normalize(&mut e);
            mask(&mut e);
            e
        })
        .collect()
}

fn python_event(event: &Value) -> Option<Value> {
    if event["type"] != "multiagent_node_stream" {
        return Some(event.clone());
    }
    let inner = &event["event"];
    if inner.get("start").is_some() {
        return None;
    }
    let mut event = event.clone();
    if inner["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("multiagent_"))
    {
        event["event"] = python_event(inner)?;
    } else if let Some(input) = event.pointer_mut("/event/current_tool_use/input")
        && input.is_object()
    {
        // A graph hands events to its consumer through a queue, and by the time Python's
        // generator recorded this one the agent had replaced the shared `current_tool_use`
        // input with the parsed arguments: the text it streamed is their JSON.
        *input = json!(strands_core::json::to_python_string(input).unwrap());
    }
    Some(event)
}

async fn run_fixture(name: &str) {
    let fixture = load(name);
    let (mut team, models) = build(&fixture);
    let expected = &fixture["expected"];
    for (i, (task_value, want)) in fixture["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .zip(expected["invocations"].as_array().unwrap())
        .enumerate()
    {
        let parallel = runs_nodes_concurrently(&want["events"]);
        let mut events = Vec::new();
        let mut text = None;
        let mut error = None;
        let task = task(task_value, &team);
        let mut stream = team.stream(task);
        while let Some(event) = stream.next().await {
            match event {
                Ok(event) => {
                    if let MultiAgentEvent::Result(result) = &event {
                        text = Some(result.to_string());
                    }
                    events.extend(comparable(&event));
                }
                Err(e) => error = Some(e),
            }
        }
        drop(stream);
        let mut want_events = python_events(&want["events"]);
        if parallel {
            events = by_node(&events);
            want_events = by_node(&want_events);
        }
        assert_eq!(events, want_events, "{name}[{i}] events");
        match (&error, want["error"].as_object()) {
            (None, None) => assert_same_text(
                text.as_deref().unwrap(),
                want["result_text"].as_str().unwrap(),
                name,
                parallel,
            ),
            (Some(MultiAgentError::NodeFailed { message, .. }), Some(python)) => {
                let python = python["message"].as_str().unwrap();
                assert!(
                    message.ends_with(python),
                    "{name}[{i}]: {message:?} vs Python's {python:?}"
                );
            }
            (ours, python) => panic!("{name}[{i}]: error {ours:?}, Python {python:?}"),
        }
        let mut state = team.serialize_state();
        let mut want_state = want["state"].clone();
        for state in [&mut state, &mut want_state] {
            normalize(state);
            mask(state);
            if parallel && let Some(Value::Array(order)) = state.get_mut("execution_order") {
                order.sort_by_key(|v| v.to_string());
            }
        }
        assert_eq!(state, want_state, "{name}[{i}] serialize_state()");
    }
    for (node, model) in &models {
        let mut calls = serde_json::to_value(model.requests()).unwrap();
        normalize(&mut calls);
        let mut want_calls = expected["model_calls"][node].clone();
        normalize(&mut want_calls);
        assert_eq!(calls, want_calls, "{name}: what {node}'s model received");

        let mut history = serde_json::to_value(team.agent(node).messages()).unwrap();
        normalize(&mut history);
        let mut want_history = expected["messages"][node].clone();
        normalize(&mut want_history);
        assert_eq!(history, want_history, "{name}: {node}'s history");
    }
}

/// Whether a batch ran more than one node (then event interleaving is the scheduler's).
fn runs_nodes_concurrently(events: &Value) -> bool {
    events.as_array().unwrap().iter().any(|e| {
        e["type"] == "multiagent_handoff"
            && e["to_node_ids"].as_array().is_some_and(|ids| ids.len() > 1)
    })
}

/// Events grouped by node, in order within each node; the others (handoffs, the result, with
/// its execution order sorted) in order by themselves.
fn by_node(events: &[Value]) -> Vec<Value> {
    let mut nodes: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut others = Vec::new();
    for event in events {
        match event["node_id"].as_str() {
            Some(node) => nodes
                .entry(node.to_owned())
                .or_default()
                .push(event.clone()),
            None => {
                let mut event = event.clone();
                if let Some(Value::Array(order)) = event.pointer_mut("/result/execution_order") {
                    order.sort_by_key(|v| v.to_string());
                }
                others.push(event);
            }
        }
    }
    vec![json!(nodes), json!(others)]
}

/// `str(result)`: line for line, where a failed node's line ends with Python's (Rust adds the
/// error's context before the exception text Python prints).
fn assert_same_text(ours: &str, python: &str, name: &str, parallel: bool) {
    let mut ours: Vec<&str> = ours.lines().collect();
    let mut python: Vec<&str> = python.lines().collect();
    if parallel {
        ours.sort_unstable();
        python.sort_unstable();
    }
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
    graph_linear,
    graph_parallel_fan_in,
    graph_conditional_routing,
    graph_cycle_with_limit,
    graph_cycle_reset_on_revisit,
    graph_node_failure,
    graph_node_timeout,
    graph_interrupt_in_node,
    graph_content_task_and_entry_points,
    graph_nested_swarm,
    graph_nested_swarm_interrupt,
);

/// An agent used as a tool whose own tool interrupts (`agent_tool_interrupt.json`): the calling
/// agent pauses under Python's namespaced id and, resumed, resumes the wrapped agent in place.
#[tokio::test]
async fn agent_tool_interrupt() {
    let fixture = load("agent_tool_interrupt");
    let (mut agents, models) =
        agents(&json!({"nodes": [fixture["child"].clone(), fixture["parent"].clone()]}));
    let child = agents.shift_remove("publisher").unwrap();
    let parent_spec = &fixture["parent"];
    let parent_model = Arc::new(ScriptedModel::new(script(&parent_spec["model_script"])));
    let mut parent = Agent::builder()
        .name(parent_spec["name"].as_str().unwrap())
        .shared_model(parent_model.clone())
        .tool(strands_agent::AgentTool::new(child).unwrap())
        .build()
        .unwrap();
    let expected = &fixture["expected"];
    for (i, (task, want)) in fixture["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .zip(expected["invocations"].as_array().unwrap())
        .enumerate()
    {
        let input: strands_agent::AgentInput = match task.as_str().unwrap().strip_prefix("resume:")
        {
            Some(answer) => parent
                .pending_interrupts()
                .into_iter()
                .map(|i| InterruptResponse::new(i.id, answer))
                .collect::<Vec<_>>()
                .into(),
            None => task.as_str().unwrap().into(),
        };
        let mut events = Vec::new();
        let mut result = None;
        let mut stream = Box::pin(parent.stream(input));
        while let Some(event) = stream.next().await {
            let event = event.unwrap();
            if let AgentEvent::Result(r) = &event {
                result = Some(r.clone());
            }
            events.extend(agent_comparable(
                &serde_json::to_value(&event).unwrap(),
                &event,
            ));
        }
        drop(stream);
        let result = result.unwrap();
        let want_events: Vec<Value> = want["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(python_agent_event)
            .collect();
        assert_eq!(events, want_events, "agent_tool_interrupt[{i}] events");
        assert_eq!(json!(result.stop_reason), want["stop_reason"]);
        assert_eq!(result.to_string(), want["result_text"].as_str().unwrap());
        assert_eq!(json!(result.interrupts), want["interrupts"]);
    }
    let mut history = serde_json::to_value(parent.messages()).unwrap();
    normalize(&mut history);
    let mut want_history = expected["messages"]["parent"].clone();
    normalize(&mut want_history);
    assert_eq!(history, want_history, "the calling agent's history");
    for (role, model) in [("parent", &parent_model), ("child", &models[0].1)] {
        let mut calls = serde_json::to_value(model.requests()).unwrap();
        normalize(&mut calls);
        let mut want_calls = expected["model_calls"][role].clone();
        normalize(&mut want_calls);
        assert_eq!(calls, want_calls, "what the {role} model received");
    }
}

/// An agent event as the fixtures record it: no Rust additions (`tool_start`, `tool_result`,
/// also inside a wrapped agent's streamed events), a result reduced to its stop reason.
fn agent_comparable(value: &Value, event: &AgentEvent) -> Option<Value> {
    match event {
        AgentEvent::ToolStart { .. } | AgentEvent::ToolResult { .. } => None,
        AgentEvent::Result(result) => Some(json!({"result": {"stop_reason": result.stop_reason}})),
        _ => {
            let kind = value
                .pointer("/tool_stream_event/data/type")
                .and_then(Value::as_str);
            if matches!(kind, Some("tool_start" | "tool_result")) {
                return None;
            }
            let mut value = value.clone();
            normalize(&mut value);
            Some(value)
        }
    }
}

/// Python's agent event without the deprecated `{"start": true}`, also inside a wrapped agent's
/// streamed events.
fn python_agent_event(event: &Value) -> Option<Value> {
    if event.get("start").is_some() || event.pointer("/tool_stream_event/data/start").is_some() {
        return None;
    }
    let mut event = event.clone();
    normalize(&mut event);
    Some(event)
}
