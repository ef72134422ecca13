//! History stays valid after any failure, cancellation or drop: roles alternate from a user
//! message, every tool use is answered by the next message, and the next invocation's model
//! request is one Bedrock's Converse accepts. Persisted sessions included.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use strands_agent::session::{FileSessionRepository, SessionManager};
use strands_agent::{Agent, AgentEvent, Limits, tool};
use strands_core::{ContentBlock, Message, Role, StopReason};
use strands_testkit::{RecordedRequest, ScriptedModel, Step, text_stream, tool_use_stream};

const NO_RESPONSE: &str = "No response: the previous turn ended before an answer.";

/// Waits until the test drops it.
#[tool]
async fn wait_forever() -> String {
    std::future::pending::<()>().await;
    unreachable!()
}

/// Panics unless `messages` is a conversation a provider accepts: it starts with a user message,
/// roles alternate, and the message after each tool use answers exactly its tool uses.
fn assert_valid(messages: &[Message]) {
    assert_eq!(
        messages.first().map(|m| m.role),
        Some(Role::User),
        "{messages:#?}"
    );
    for pair in messages.windows(2) {
        assert_ne!(
            pair[0].role, pair[1].role,
            "roles must alternate: {messages:#?}"
        );
        let uses: BTreeSet<&str> = pair[0]
            .tool_uses()
            .map(|t| t.tool_use_id.as_str())
            .collect();
        let results: BTreeSet<&str> = pair[1]
            .content
            .iter()
            .filter_map(|b| match b {
                ContentBlock::ToolResult(r) => Some(r.tool_use_id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(uses, results, "unanswered tool use: {messages:#?}");
    }
    if let Some(last) = messages.last() {
        assert!(!last.has_tool_use() || last.role == Role::Assistant);
    }
}

fn assert_requests_valid(requests: &[RecordedRequest]) {
    assert!(!requests.is_empty());
    for request in requests {
        assert_valid(&request.messages);
    }
}

fn texts(message: &Message) -> Vec<&str> {
    message
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

fn model(steps: Vec<Step>) -> Arc<ScriptedModel> {
    Arc::new(ScriptedModel::new(steps))
}

fn agent(model: &Arc<ScriptedModel>) -> Agent {
    Agent::builder()
        .shared_model(model.clone())
        .tool(wait_forever)
        .build()
        .unwrap()
}

fn answer(text: &str) -> Step {
    Step::Events(text_stream(&[text], StopReason::EndTurn))
}

#[tokio::test]
async fn a_failed_model_call_does_not_break_the_next_turn() {
    let model = model(vec![Step::Fail("boom".into()), answer("Hi again.")]);
    let mut agent = agent(&model);
    agent.invoke("first").await.unwrap_err();
    // The unanswered prompt stays, as in Python; the next prompt closes the turn first.
    let result = agent.invoke("second").await.unwrap();
    assert_eq!(result.text(), "Hi again.\n");
    assert_valid(agent.messages());
    assert_eq!(texts(&agent.messages()[1]), [NO_RESPONSE]);
    assert_requests_valid(&model.requests());
}

#[tokio::test]
async fn a_stream_dropped_during_the_model_call_does_not_break_the_next_turn() {
    let model = model(vec![
        Step::EventsThenHang(vec![strands_core::StreamEvent::message_start()]),
        answer("Back."),
    ]);
    let mut agent = agent(&model);
    {
        let mut events = std::pin::pin!(agent.stream("first"));
        // Read until the model is streaming, then drop the stream (a client going away).
        while let Some(event) = events.next().await {
            if matches!(event.unwrap(), AgentEvent::ModelStreamEvent(_)) {
                break;
            }
        }
    }
    agent.invoke("second").await.unwrap();
    assert_valid(agent.messages());
    assert_requests_valid(&model.requests());
}

#[tokio::test]
async fn a_stream_dropped_while_a_tool_runs_does_not_break_the_next_turn() {
    let model = model(vec![
        Step::Events(tool_use_stream(&[("t1", "wait_forever", "{}")])),
        answer("Fine."),
    ]);
    let mut agent = agent(&model);
    {
        let mut events = std::pin::pin!(agent.stream("first"));
        while let Some(event) = events.next().await {
            if matches!(event.unwrap(), AgentEvent::ToolStart { .. }) {
                break;
            }
        }
    }
    assert!(agent.messages().last().unwrap().has_tool_use());
    agent.invoke("second").await.unwrap();
    assert_valid(agent.messages());
    assert_requests_valid(&model.requests());
}

#[tokio::test]
async fn cancelling_during_tools_does_not_break_the_next_turn() {
    let model = model(vec![
        Step::Events(tool_use_stream(&[("t1", "wait_forever", "{}")])),
        answer("Fine."),
    ]);
    let mut agent = agent(&model);
    let handle = agent.cancel_handle();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        handle.cancel();
    });
    let result = agent.invoke("first").await.unwrap();
    canceller.await.unwrap();
    assert_eq!(result.stop_reason, StopReason::Cancelled);
    agent.invoke("second").await.unwrap();
    assert_valid(agent.messages());
    assert_requests_valid(&model.requests());
}

#[tokio::test]
async fn a_turn_limit_after_tool_results_does_not_break_the_next_turn() {
    let model = model(vec![
        Step::Events(tool_use_stream(&[("t1", "missing_tool", "{}")])),
        answer("Done."),
    ]);
    let mut agent = agent(&model);
    let result = agent
        .invoke_with_limits("first", Limits::new().turns(1))
        .await
        .unwrap();
    assert_eq!(result.stop_reason, StopReason::LimitTurns);
    assert_eq!(agent.messages().last().unwrap().role, Role::User);
    agent.invoke("second").await.unwrap();
    assert_valid(agent.messages());
    assert_requests_valid(&model.requests());
}

/// A scratch directory removed on drop.
struct TestDir(PathBuf);

impl TestDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "history_valid-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn persisted_agent(model: &Arc<ScriptedModel>, dir: &TestDir) -> Agent {
    Agent::builder()
        .shared_model(model.clone())
        .tool(wait_forever)
        .session_manager(
            SessionManager::new("s-1", FileSessionRepository::new(dir.0.clone())).unwrap(),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_persisted_session_left_by_a_dropped_stream_continues_elsewhere() {
    let dir = TestDir::new("dropped");
    let first = model(vec![Step::Events(tool_use_stream(&[(
        "t1",
        "wait_forever",
        "{}",
    )]))]);
    {
        let mut agent = persisted_agent(&first, &dir);
        let mut events = std::pin::pin!(agent.stream("first"));
        while let Some(event) = events.next().await {
            if matches!(event.unwrap(), AgentEvent::ToolStart { .. }) {
                break;
            }
        }
        // The microVM goes away mid-tool: the agent is dropped with the stream.
    }
    let second = model(vec![answer("Recovered.")]);
    let mut agent = persisted_agent(&second, &dir);
    agent.invoke("second").await.unwrap();
    assert_valid(agent.messages());
    assert_requests_valid(&second.requests());

    // What is stored is valid too: a third agent reads the same history back.
    let third = model(vec![]);
    let mut reloaded = persisted_agent(&third, &dir);
    reloaded.load_session().await.unwrap();
    assert_valid(reloaded.messages());
    let stored: Vec<_> = reloaded
        .messages()
        .iter()
        .map(|m| (m.role, m.content.clone()))
        .collect();
    let live: Vec<_> = agent
        .messages()
        .iter()
        .map(|m| (m.role, m.content.clone()))
        .collect();
    assert_eq!(stored, live);
}

#[tokio::test]
async fn a_persisted_session_left_by_a_failed_call_continues_elsewhere() {
    let dir = TestDir::new("failed");
    let first = model(vec![Step::Fail("boom".into())]);
    persisted_agent(&first, &dir)
        .invoke("first")
        .await
        .unwrap_err();
    let second = model(vec![answer("Recovered.")]);
    let mut agent = persisted_agent(&second, &dir);
    agent.invoke("second").await.unwrap();
    assert_valid(agent.messages());
    assert_requests_valid(&second.requests());
    assert_eq!(
        agent
            .messages()
            .iter()
            .map(|m| texts(m).join(""))
            .collect::<Vec<_>>(),
        ["first", NO_RESPONSE, "second", "Recovered."]
    );
}
