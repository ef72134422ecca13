//! Swarms and graphs persisted in a session, in Python Strands' layout: restored in place,
//! continued by real Python Strands 1.62 (`sessions/multiagent_session.py`), and continued from a
//! session Python wrote. The Python steps need the interpreter from `scripts/python-strands` in
//! `STRANDS_PYTHON` (`scripts/test` sets it); they are skipped otherwise unless
//! `STRANDS_REQUIRE_PYTHON` is set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test helpers fail loudly and say when they skip"
)]

mod common;

use std::path::Path;
use std::process::Command;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_agent::multiagent::{Graph, MultiAgentError, MultiAgentResult, Status, Swarm};
use strands_agent::session::{FileSessionRepository, SessionManager};
use strands_agent::{Agent, InterruptResponse, ResumeError};
use strands_testkit::ScriptedModel;

use common::publish;

const TASK: &str = "Publish the Moon report.";

/// The publishing swarm of `sessions/multiagent_session.py`, with the given scripts.
fn swarm(dir: &Path, session_id: &str, researcher: ScriptedModel, writer: ScriptedModel) -> Swarm {
    let researcher = Agent::builder()
        .name("researcher")
        .model(researcher)
        .build()
        .unwrap();
    let writer = Agent::builder()
        .name("writer")
        .model(writer)
        .tool(publish)
        .build()
        .unwrap();
    let session = SessionManager::new(session_id, FileSessionRepository::new(dir)).unwrap();
    Swarm::builder()
        .node(researcher)
        .node(writer)
        .session_manager(session)
        .build()
        .unwrap()
}

fn until_interrupt() -> (ScriptedModel, ScriptedModel) {
    let researcher = ScriptedModel::builder()
        .tool_use(
            "h1",
            "handoff_to_agent",
            r#"{"agent_name": "writer", "message": "publish it", "context": {"title": "Moon"}}"#,
        )
        .text("to writer")
        .build();
    let writer = ScriptedModel::builder()
        .tool_use("p1", "publish", r#"{"title": "Moon"}"#)
        .build();
    (researcher, writer)
}

fn after_interrupt() -> (ScriptedModel, ScriptedModel) {
    (
        ScriptedModel::builder().build(),
        ScriptedModel::builder().text("Published.").build(),
    )
}

/// The publishing graph of `sessions/multiagent_session.py`: write → publisher → announce.
fn graph(dir: &Path, session_id: &str, scripts: [ScriptedModel; 3]) -> Graph {
    let [write, publisher, announce] = scripts;
    let agent = |name: &str, model: ScriptedModel| {
        let builder = Agent::builder().name(name).model(model);
        let builder = if name == "publisher" {
            builder.tool(publish)
        } else {
            builder
        };
        builder.build().unwrap()
    };
    let session = SessionManager::new(session_id, FileSessionRepository::new(dir)).unwrap();
    Graph::builder()
        .node(agent("write", write))
        .node(agent("publisher", publisher))
        .node(agent("announce", announce))
        .edge("write", "publisher")
        .edge("publisher", "announce")
        .max_node_executions(10)
        .session_manager(session)
        .build()
        .unwrap()
}

fn graph_until_interrupt() -> [ScriptedModel; 3] {
    [
        ScriptedModel::builder().text("Written.").build(),
        ScriptedModel::builder()
            .tool_use("p1", "publish", r#"{"title": "Moon"}"#)
            .build(),
        ScriptedModel::builder().build(),
    ]
}

fn graph_after_interrupt() -> [ScriptedModel; 3] {
    [
        ScriptedModel::builder().build(),
        ScriptedModel::builder().text("Published.").build(),
        ScriptedModel::builder().text("Announced.").build(),
    ]
}

fn record(dir: &Path, session_id: &str) -> Value {
    record_of(dir, session_id, "default_swarm")
}

fn record_of(dir: &Path, session_id: &str, id: &str) -> Value {
    let path = dir.join(format!(
        "session_{session_id}/multi_agents/multi_agent_{id}/multi_agent.json"
    ));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn resume(swarm: &mut Swarm, answer: &str) -> MultiAgentResult {
    swarm.load_session().await.unwrap();
    let responses: Vec<_> = swarm
        .pending_interrupts()
        .into_iter()
        .map(|i| InterruptResponse::new(i.id, answer))
        .collect();
    assert_eq!(responses.len(), 1, "one open interrupt");
    swarm.invoke(responses).await.unwrap()
}

fn assert_published(result: &MultiAgentResult, writer: &Agent, answer: &str) {
    assert_eq!(result.status, Status::Completed);
    assert_eq!(result.node_history, ["researcher", "writer"]);
    assert_eq!(
        result.to_string(),
        "researcher: to writer\nwriter: Published."
    );
    assert_tool_result(writer, answer);
}

/// The publishing agent's tool result holds the answer to its interrupt.
fn assert_tool_result(publisher: &Agent, answer: &str) {
    let messages = serde_json::to_value(publisher.messages()).unwrap();
    let tool_result = &messages[2]["content"][0]["toolResult"];
    assert_eq!(
        tool_result["content"][0]["text"],
        format!("published Moon ({answer})")
    );
}

#[tokio::test]
async fn an_interrupted_swarm_resumes_in_a_new_process() {
    let dir = tempfile::tempdir().unwrap();
    let (researcher, writer) = until_interrupt();
    let mut first = swarm(dir.path(), "s1", researcher, writer);
    let paused = first.invoke(TASK).await.unwrap();
    assert_eq!(paused.status, Status::Interrupted);
    let stored = record(dir.path(), "s1");
    assert_eq!(stored["status"], "interrupted");
    assert_eq!(stored["next_nodes_to_execute"], json!(["writer"]));
    assert_eq!(
        stored["context"]["shared_context"],
        json!({"researcher": {"title": "Moon"}})
    );
    drop(first);

    // A new swarm on the same session waits for the answers, and only the answers.
    let (researcher, writer) = after_interrupt();
    let mut second = swarm(dir.path(), "s1", researcher, writer);
    let error = second.invoke("another task").await.unwrap_err();
    assert!(
        matches!(
            error,
            MultiAgentError::Resume(ResumeError::ResponsesRequired(_))
        ),
        "{error}"
    );
    let result = resume(&mut second, "yes").await;
    assert_published(&result, second.node("writer").unwrap(), "yes");
    let stored = record(dir.path(), "s1");
    assert_eq!(stored["status"], "completed");
    assert_eq!(stored["next_nodes_to_execute"], json!([]));
    assert_eq!(
        stored["_internal_state"]["interrupt_state"]["activated"],
        false
    );
}

#[tokio::test]
async fn a_finished_swarm_starts_the_next_task_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let researcher = ScriptedModel::builder().text("Done.").build();
    let mut first = swarm(
        dir.path(),
        "s2",
        researcher,
        ScriptedModel::builder().build(),
    );
    assert_eq!(first.invoke(TASK).await.unwrap().status, Status::Completed);
    drop(first);
    let researcher = ScriptedModel::builder().text("Again.").build();
    let mut second = swarm(
        dir.path(),
        "s2",
        researcher,
        ScriptedModel::builder().build(),
    );
    let result = second.invoke("Next task.").await.unwrap();
    assert_eq!(result.to_string(), "researcher: Again.");
    assert_eq!(record(dir.path(), "s2")["current_task"], "Next task.");
}

fn python() -> Option<String> {
    match std::env::var("STRANDS_PYTHON") {
        Ok(python) if !python.is_empty() => Some(python),
        _ => {
            assert!(
                std::env::var_os("STRANDS_REQUIRE_PYTHON").is_none(),
                "STRANDS_REQUIRE_PYTHON is set but STRANDS_PYTHON is not; run scripts/python-strands"
            );
            eprintln!(
                "skipping: set STRANDS_PYTHON to the interpreter from scripts/python-strands"
            );
            None
        }
    }
}

/// Runs `sessions/multiagent_session.py` and returns its output.
fn run_python(python: &str, args: &[&str], dir: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sessions/multiagent_session.py");
    let output = dir.join("python-output.json");
    let status = Command::new(python)
        .arg(script)
        .args(args)
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success(), "Python Strands failed: {status}");
    serde_json::from_str(&std::fs::read_to_string(output).unwrap()).unwrap()
}

#[tokio::test]
async fn python_resumes_a_swarm_rust_interrupted() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (researcher, writer) = until_interrupt();
    let mut team = swarm(dir.path(), "to-python", researcher, writer);
    assert_eq!(team.invoke(TASK).await.unwrap().status, Status::Interrupted);
    let storage = dir.path().to_str().unwrap();
    let out = run_python(
        &python,
        &["swarm", "resume", storage, "to-python", "ok"],
        dir.path(),
    );
    assert_eq!(out["status"], "completed");
    assert_eq!(out["node_history"], json!(["researcher", "writer"]));
    assert_eq!(out["text"], "researcher: to writer\nwriter: Published.");
    assert_eq!(
        out["publisher_messages"][2]["content"][0]["toolResult"]["content"][0]["text"],
        "published Moon (ok)"
    );
    assert_eq!(record(dir.path(), "to-python")["status"], "completed");
}

#[tokio::test]
async fn rust_resumes_a_swarm_python_interrupted() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().to_str().unwrap();
    let out = run_python(
        &python,
        &["swarm", "create", storage, "from-python"],
        dir.path(),
    );
    assert_eq!(out["status"], "interrupted");
    let (researcher, writer) = after_interrupt();
    let mut team = swarm(dir.path(), "from-python", researcher, writer);
    let result = resume(&mut team, "fine").await;
    assert_published(&result, team.node("writer").unwrap(), "fine");
    assert_eq!(result.node("writer").unwrap().status, Status::Completed);
    assert_eq!(record(dir.path(), "from-python")["status"], "completed");
}

fn assert_graph_published(result: &MultiAgentResult) {
    assert_eq!(result.status, Status::Completed);
    assert_eq!(result.node_history, ["write", "publisher", "announce"]);
    assert_eq!(
        result.to_string(),
        "write: Written.\npublisher: Published.\nannounce: Announced."
    );
}

fn publisher(graph: &Graph) -> &Agent {
    graph.node("publisher").and_then(|n| n.as_agent()).unwrap()
}

#[tokio::test]
async fn an_interrupted_graph_resumes_in_a_new_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = graph(dir.path(), "g1", graph_until_interrupt());
    assert_eq!(
        first.invoke(TASK).await.unwrap().status,
        Status::Interrupted
    );
    let stored = record_of(dir.path(), "g1", "default_graph");
    assert_eq!(stored["status"], "interrupted");
    assert_eq!(stored["next_nodes_to_execute"], json!(["publisher"]));
    drop(first);

    let mut second = graph(dir.path(), "g1", graph_after_interrupt());
    second.load_session().await.unwrap();
    let responses: Vec<_> = second
        .pending_interrupts()
        .into_iter()
        .map(|i| InterruptResponse::new(i.id, "yes"))
        .collect();
    assert_eq!(responses.len(), 1);
    let result = second.invoke(responses).await.unwrap();
    assert_graph_published(&result);
    assert_tool_result(publisher(&second), "yes");
    let stored = record_of(dir.path(), "g1", "default_graph");
    assert_eq!(stored["status"], "completed");
    assert_eq!(
        stored["execution_order"],
        json!(["write", "publisher", "announce"])
    );
}

#[tokio::test]
async fn python_resumes_a_graph_rust_interrupted() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut team = graph(dir.path(), "g-to-python", graph_until_interrupt());
    assert_eq!(team.invoke(TASK).await.unwrap().status, Status::Interrupted);
    let storage = dir.path().to_str().unwrap();
    let out = run_python(
        &python,
        &["graph", "resume", storage, "g-to-python", "ok"],
        dir.path(),
    );
    assert_eq!(out["status"], "completed");
    assert_eq!(
        out["node_history"],
        json!(["write", "publisher", "announce"])
    );
    assert_eq!(
        out["publisher_messages"][2]["content"][0]["toolResult"]["content"][0]["text"],
        "published Moon (ok)"
    );
    assert_eq!(
        record_of(dir.path(), "g-to-python", "default_graph")["status"],
        "completed"
    );
}

#[tokio::test]
async fn rust_resumes_a_graph_python_interrupted() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().to_str().unwrap();
    let out = run_python(
        &python,
        &["graph", "create", storage, "g-from-python"],
        dir.path(),
    );
    assert_eq!(out["status"], "interrupted");
    let mut team = graph(dir.path(), "g-from-python", graph_after_interrupt());
    team.load_session().await.unwrap();
    let responses: Vec<_> = team
        .pending_interrupts()
        .into_iter()
        .map(|i| InterruptResponse::new(i.id, "fine"))
        .collect();
    let result = team.invoke(responses).await.unwrap();
    assert_graph_published(&result);
    assert_tool_result(publisher(&team), "fine");
}

#[tokio::test]
async fn a_failed_graph_resumes_from_the_failed_node() {
    let dir = tempfile::tempdir().unwrap();
    let failing = [
        ScriptedModel::builder().text("Written.").build(),
        ScriptedModel::new([strands_testkit::Step::Fail("model exploded".to_owned())]),
        ScriptedModel::builder().build(),
    ];
    let mut first = graph(dir.path(), "g-fail", failing);
    let error = first.invoke(TASK).await.unwrap_err();
    assert!(
        matches!(&error, MultiAgentError::NodeFailed { node_id, message } if node_id == "publisher" && message.ends_with("model exploded")),
        "{error}"
    );
    let stored = record_of(dir.path(), "g-fail", "default_graph");
    assert_eq!(stored["status"], "failed");
    assert_eq!(stored["next_nodes_to_execute"], json!(["publisher"]));
    assert_eq!(stored["node_results"]["publisher"]["status"], "failed");
    drop(first);

    // The next process picks up at the failed node: `write` is not run again.
    let retry = [
        ScriptedModel::builder().build(),
        ScriptedModel::builder().text("Published.").build(),
        ScriptedModel::builder().text("Announced.").build(),
    ];
    let mut second = graph(dir.path(), "g-fail", retry);
    let result = second
        .invoke("ignored: the stored run continues")
        .await
        .unwrap();
    assert_eq!(result.status, Status::Completed);
    assert_eq!(result.node_history, ["write", "publisher", "announce"]);
    assert_eq!(
        record_of(dir.path(), "g-fail", "default_graph")["status"],
        "completed"
    );
}

/// The writer's model: asks to publish, fails once the answer came, then publishes.
fn fails_after_the_answer_then_publishes() -> ScriptedModel {
    let failing = ScriptedModel::builder()
        .tool_use("p1", "publish", r#"{"title": "Moon"}"#)
        .step(strands_testkit::Step::Fail("model exploded".to_owned()))
        .text("Published.");
    failing.build()
}

fn answers(pending: Vec<strands_core::Interrupt>) -> Vec<InterruptResponse> {
    pending
        .into_iter()
        .map(|i| InterruptResponse::new(i.id, "yes"))
        .collect()
}

#[tokio::test]
async fn a_swarm_node_that_fails_while_resuming_resumes_again_with_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (researcher, _) = until_interrupt();
    let mut team = swarm(
        dir.path(),
        "s-retry",
        researcher,
        fails_after_the_answer_then_publishes(),
    );
    assert_eq!(team.invoke(TASK).await.unwrap().status, Status::Interrupted);
    let responses = answers(team.pending_interrupts());
    assert_eq!(responses.len(), 1);

    let failed = team.invoke(responses.clone()).await.unwrap();
    assert_eq!(failed.status, Status::Failed);
    // Still paused on the same interrupt: only its answers are taken.
    let error = team.invoke("another task").await.unwrap_err();
    assert!(
        matches!(
            error,
            MultiAgentError::Resume(ResumeError::ResponsesRequired(_))
        ),
        "{error}"
    );

    let result = team.invoke(responses).await.unwrap();
    assert_published(&result, team.node("writer").unwrap(), "yes");
    // The writer went back to where it paused: no trace of the failed attempt.
    assert_eq!(team.node("writer").unwrap().messages().len(), 4);
}

#[tokio::test]
async fn a_graph_node_that_fails_while_resuming_resumes_again_with_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = [
        ScriptedModel::builder().text("Written.").build(),
        fails_after_the_answer_then_publishes(),
        ScriptedModel::builder().text("Announced.").build(),
    ];
    let mut flow = graph(dir.path(), "g-retry", scripts);
    assert_eq!(flow.invoke(TASK).await.unwrap().status, Status::Interrupted);
    let responses = answers(flow.pending_interrupts());
    assert_eq!(responses.len(), 1);

    let error = flow.invoke(responses.clone()).await.unwrap_err();
    assert!(
        matches!(&error, MultiAgentError::NodeFailed { node_id, .. } if node_id == "publisher"),
        "{error}"
    );
    let result = flow.invoke(responses).await.unwrap();
    assert_graph_published(&result);
    assert_tool_result(publisher(&flow), "yes");
    assert_eq!(publisher(&flow).messages().len(), 4);
    assert_eq!(
        record_of(dir.path(), "g-retry", "default_graph")["status"],
        "completed"
    );
}
