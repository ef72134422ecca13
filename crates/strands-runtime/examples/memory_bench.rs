//! The Rust half of `scripts/bench-memory` (issue 19): against the MiniStack `scripts/ministack`
//! starts, (1) the wall time of an agent turn (a scripted one-call answer) without a session and
//! with AgentCore Memory, over one continuing session; (2) the time to restore a 200-message
//! session (build the agent and load it; no conversation manager trims it, on either side); (3)
//! the same turns with Python's `batch_size` 10 (messages written at the end of each invocation),
//! and for each mode the time to the first streamed text. Prints one JSON object of millisecond
//! samples.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark"
)]

use std::time::Instant;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use futures_util::StreamExt;
use serde_json::json;
use strands_agent::conversation::NullConversationManager;
use strands_agent::session::SessionManager;
use strands_agent::{Agent, AgentEvent};
use strands_aws::AgentCoreMemory;
use strands_testkit::ScriptedModel;

fn var(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set; run through scripts/bench-memory"))
}

fn number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn replies(n: usize) -> ScriptedModel {
    (0..n)
        .fold(ScriptedModel::builder(), |b, _| b.text("Noted."))
        .build()
}

fn millis(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// Streams `turns` prompts: each turn's wall time, and the time to its first text.
async fn streamed(agent: &mut Agent, turns: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut whole, mut first) = (Vec::new(), Vec::new());
    for i in 0..turns {
        let start = Instant::now();
        let mut events = std::pin::pin!(agent.stream(format!("Remember item {i}")));
        let mut first_text = None;
        while let Some(event) = events.next().await {
            if matches!(event.unwrap(), AgentEvent::TextDelta { .. }) && first_text.is_none() {
                first_text = Some(millis(start));
            }
        }
        whole.push(millis(start));
        first.push(first_text.unwrap());
    }
    (whole, first)
}

#[tokio::main]
async fn main() {
    let turns = number("BENCH_TURNS", 50);
    let restores = number("BENCH_RESTORES", 20);
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            var("MINISTACK_MEMORY_USER_KEY_ID"),
            var("MINISTACK_MEMORY_USER_SECRET"),
            None,
            None,
            "bench",
        ))
        .endpoint_url(var("MINISTACK_ENDPOINT"))
        .load()
        .await;
    let memory = AgentCoreMemory::from_conf(&config, var("MINISTACK_MEMORY_ID")).unwrap();
    let run = uuid::Uuid::new_v4().simple().to_string();

    // (1) Turns without a session, then with Memory, one continuing session each.
    let mut off = Agent::builder().model(replies(turns)).build().unwrap();
    let (turn_off, first_off) = streamed(&mut off, turns).await;
    let session = format!("rs-turns-{run}");
    let mut on = Agent::builder()
        .model(replies(turns))
        .session_manager(SessionManager::new(&session, memory.for_actor("bench").unwrap()).unwrap())
        .build()
        .unwrap();
    let (turn_on, first_on) = streamed(&mut on, turns).await;
    let batched = memory.for_actor("bench").unwrap().with_batch_size(10);
    let mut batch = Agent::builder()
        .model(replies(turns))
        .session_manager(SessionManager::new(format!("rs-batch-{run}"), batched).unwrap())
        .build()
        .unwrap();
    let (turn_batched, first_batched) = streamed(&mut batch, turns).await;

    // (2) A 200-message session, restored again and again.
    let long = format!("rs-restore-{run}");
    let mut writer = Agent::builder()
        .model(replies(100))
        .conversation_manager(NullConversationManager::new())
        .session_manager(SessionManager::new(&long, memory.for_actor("bench").unwrap()).unwrap())
        .build()
        .unwrap();
    for i in 0..100 {
        writer.invoke(format!("Remember item {i}")).await.unwrap();
    }
    let mut restore = Vec::new();
    for _ in 0..restores {
        let start = Instant::now();
        let mut agent = Agent::builder()
            .model(replies(0))
            .conversation_manager(NullConversationManager::new())
            .session_manager(
                SessionManager::new(&long, memory.for_actor("bench").unwrap()).unwrap(),
            )
            .build()
            .unwrap();
        agent.load_session().await.unwrap();
        restore.push(millis(start));
        assert_eq!(agent.messages().len(), 200);
    }
    println!(
        "{}",
        json!({
            "turn_ms_off": turn_off, "turn_ms_on": turn_on, "turn_ms_batched": turn_batched,
            "first_text_ms_off": first_off, "first_text_ms_on": first_on,
            "first_text_ms_batched": first_batched,
            "restore_ms": restore, "restore_messages": 200
        })
    );
}
