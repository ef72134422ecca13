//! The Rust half of `scripts/bench-multiagent` (issue 21): the in-process cost of one turn of a
//! three-node graph (`research → analyze → report`) and of a three-agent swarm (`researcher`
//! hands off to `analyst`, who hands off to `writer`), each built fresh per turn with scripted
//! zero-latency models, as `bench/multiagent_bench.py` does in Python. Prints one JSON object:
//! microseconds per turn, the median of `BENCH_ROUNDS` rounds of `BENCH_TURNS` turns.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark"
)]

use std::time::Instant;

use serde_json::json;
use strands_agent::Agent;
use strands_agent::multiagent::{Graph, Status, Swarm};
use strands_testkit::ScriptedModel;

fn number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn agent(name: &str, model: ScriptedModel) -> Agent {
    Agent::builder().name(name).model(model).build().unwrap()
}

fn text(answer: &str) -> ScriptedModel {
    ScriptedModel::builder().text(answer).build()
}

fn hand_off(to: &str) -> ScriptedModel {
    let input = format!(r#"{{"agent_name": "{to}", "message": "your turn"}}"#);
    ScriptedModel::builder()
        .tool_use("h1", "handoff_to_agent", &input)
        .text("handed off")
        .build()
}

async fn graph_turn() {
    let mut graph = Graph::builder()
        .node(agent("research", text("Facts.")))
        .node(agent("analyze", text("Analysis.")))
        .node(agent("report", text("Report.")))
        .edge("research", "analyze")
        .edge("analyze", "report")
        .max_node_executions(10)
        .build()
        .unwrap();
    let result = graph.invoke("Study the Moon.").await.unwrap();
    assert_eq!(result.status, Status::Completed);
}

async fn swarm_turn() {
    let mut swarm = Swarm::builder()
        .node(agent("researcher", hand_off("analyst")))
        .node(agent("analyst", hand_off("writer")))
        .node(agent("writer", text("Written.")))
        .build()
        .unwrap();
    let result = swarm.invoke("Study the Moon.").await.unwrap();
    assert_eq!(result.node_history.len(), 3);
}

/// Median over rounds of the mean microseconds per turn.
async fn measure<F, Fut>(rounds: usize, turns: usize, turn: F) -> f64
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..turns / 10 + 1 {
        turn().await;
    }
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..turns {
            turn().await;
        }
        samples.push(started.elapsed().as_secs_f64() * 1e6 / turns as f64);
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let rounds = number("BENCH_ROUNDS", 5);
    let turns = number("BENCH_TURNS", 2000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let graph_us = runtime.block_on(measure(rounds, turns, graph_turn));
    let swarm_us = runtime.block_on(measure(rounds, turns, swarm_turn));
    let out =
        json!({"rounds": rounds, "turns": turns, "graph3_us": graph_us, "swarm3_us": swarm_us});
    println!("{out}");
}
