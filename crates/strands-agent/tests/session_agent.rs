//! Agents persisted through sessions: Rust round trips, sessions written by Python Strands 1.62
//! (checked-in fixtures) continued in Rust, and Rust-written sessions continued by Python.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    clippy::print_stderr,
    reason = "tests fail loudly; #[tool] functions take ToolContext by value"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use strands_agent::conversation::SlidingWindowConversationManager;
use strands_agent::session::{FileSessionRepository, SessionError, SessionManager};
use strands_agent::{Agent, AgentError, BuildError, InterruptRaised, InterruptResponse, tool};
use strands_core::{Message, StopReason, ToolContext};
use strands_testkit::ScriptedModel;

/// Add two integers.
///
/// Args:
///     a: first addend
///     b: second addend
#[tool]
fn add(a: i64, b: i64, context: ToolContext) -> i64 {
    let state = context.agent_state();
    state.set("last_sum", a + b).unwrap();
    let calls = state.get::<i64>("add_calls").unwrap_or(0);
    state.set("add_calls", calls + 1).unwrap();
    a + b
}

/// Delete a file after a human approved it.
///
/// Args:
///     path: the file to delete
#[tool]
fn delete_file(path: String, context: ToolContext) -> Result<String, InterruptRaised> {
    let reason = json!({"action": "delete", "path": path, "risk": "high"});
    let response = context.interrupt("approve", reason)?;
    let response = response
        .as_str()
        .map_or_else(|| response.to_string(), str::to_owned);
    Ok(format!("deleted {path} (approval: {response})"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sessions/python")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of one Python fixture session in a fresh directory.
fn python_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let session_id = expected()["fixtures"][name]["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    copy_dir(
        &fixtures().join(name),
        &dir.path().join(format!("session_{session_id}")),
    );
    dir
}

fn agent_on(
    dir: &Path,
    session_id: &str,
    agent_id: &str,
    window: usize,
    model: ScriptedModel,
) -> Agent {
    Agent::builder()
        .model(model)
        .agent_id(agent_id)
        .tool(add)
        .tool(delete_file)
        .conversation_manager(SlidingWindowConversationManager::new().window_size(window))
        .session_manager(SessionManager::new(session_id, FileSessionRepository::new(dir)).unwrap())
        .build()
        .unwrap()
}

fn messages_json(agent: &Agent) -> Value {
    serde_json::to_value(agent.messages()).unwrap()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn every_python_fixture_restores_exactly_in_rust() {
    let expected = expected();
    for (name, fixture) in expected["fixtures"].as_object().unwrap() {
        let dir = python_fixture(name);
        let session_id = fixture["session_id"].as_str().unwrap();
        for (agent_id, want) in fixture["agents"].as_object().unwrap() {
            let window = want["conversation_manager"]["window_size"]
                .as_u64()
                .unwrap_or(40) as usize;
            let mut agent = agent_on(
                dir.path(),
                session_id,
                agent_id,
                window,
                ScriptedModel::builder().build(),
            );
            agent.load_session().await.unwrap();
            assert_eq!(
                messages_json(&agent),
                want["messages"],
                "{name}/{agent_id}: messages"
            );
            assert_eq!(
                Value::Object(agent.state().to_map()),
                want["state"],
                "{name}/{agent_id}: state"
            );
            assert_eq!(
                Value::Object(agent.conversation_manager().state()),
                want["conversation_manager_state"],
                "{name}/{agent_id}: conversation manager state"
            );
            let interrupts = agent.pending_interrupts();
            match &want["interrupt"] {
                Value::Null => assert!(interrupts.is_empty(), "{name}/{agent_id}"),
                interrupt => {
                    assert_eq!(interrupts.len(), 1);
                    assert_eq!(interrupts[0].id, interrupt["id"]);
                    assert_eq!(interrupts[0].name, interrupt["name"]);
                    assert_eq!(interrupts[0].reason, interrupt["reason"]);
                }
            }
        }
        // Restoring writes nothing.
        let agent_dir = dir.path().join(format!("session_{session_id}"));
        for entry in walk(&agent_dir) {
            let original = fixtures()
                .join(name)
                .join(entry.strip_prefix(&agent_dir).unwrap());
            assert_eq!(
                std::fs::read(&entry).unwrap(),
                std::fs::read(&original).unwrap(),
                "{name}: restoring rewrote {}",
                entry.display()
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn a_python_session_continues_in_rust_with_the_next_message_index() {
    let dir = python_fixture("session_chat");
    let model = ScriptedModel::builder()
        .tool_use("r1", "add", r#"{"a": 40, "b": 2}"#)
        .text("42, from Rust")
        .build();
    let mut agent = agent_on(dir.path(), "chat", "default", 40, model);
    let result = agent.invoke("and 40+2?").await.unwrap();
    assert_eq!(result.to_string(), "42, from Rust\n");
    // The state written by Python's tool is updated by Rust's.
    assert_eq!(agent.state().get::<i64>("last_sum"), Some(42));
    assert_eq!(
        agent.state().get::<String>("user"),
        expected()["fixtures"]["session_chat"]["agents"]["default"]["state"]["user"]
            .as_str()
            .map(str::to_owned)
    );

    let messages = dir
        .path()
        .join("session_chat/agents/agent_default/messages");
    let files = files_in(&messages);
    assert_eq!(files.len(), 10, "{files:?}");
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(messages.join("message_9.json")).unwrap())
            .unwrap();
    assert_eq!(record["message_id"], 9);
    assert_eq!(record["message"]["content"][0]["text"], "42, from Rust");
    assert_eq!(record["redact_message"], Value::Null);

    // A fresh agent sees the whole conversation.
    let mut again = agent_on(
        dir.path(),
        "chat",
        "default",
        40,
        ScriptedModel::builder().build(),
    );
    again.load_session().await.unwrap();
    assert_eq!(again.messages(), agent.messages());
    assert_eq!(again.state().to_map(), agent.state().to_map());
}

#[tokio::test]
async fn a_python_interrupted_session_resumes_in_rust() {
    let dir = python_fixture("session_interrupted");
    let model = ScriptedModel::builder().text("Deleted.").build();
    let mut agent = agent_on(dir.path(), "interrupted", "default", 40, model);
    agent.load_session().await.unwrap();
    let interrupt = agent.pending_interrupts().remove(0);
    let result = agent
        .invoke(vec![InterruptResponse::new(interrupt.id, "approved")])
        .await
        .unwrap();
    assert_eq!(result.stop_reason, StopReason::EndTurn);
    let tool_result = agent.messages()[2].content[0].as_tool_result().unwrap();
    assert_eq!(
        tool_result.content[0].as_text(),
        Some("deleted /tmp/report.txt (approval: approved)")
    );
    // The interrupt state is cleared in agent.json the way Python clears it.
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join("session_interrupted/agents/agent_default/agent.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        record["_internal_state"]["interrupt_state"],
        json!({"interrupts": {}, "context": {}, "activated": false})
    );
}

#[tokio::test]
async fn a_windowed_python_session_keeps_its_offset() {
    let dir = python_fixture("session_windowed");
    let mut agent = agent_on(
        dir.path(),
        "windowed",
        "default",
        4,
        ScriptedModel::builder().text("five").build(),
    );
    agent.invoke("five?").await.unwrap();
    // The window trimmed again; removed messages stay on disk and the offset grows.
    assert_eq!(agent.messages().len(), 4);
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join("session_windowed/agents/agent_default/agent.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        record["conversation_manager_state"]["removed_message_count"],
        8
    );
    let mut again = agent_on(
        dir.path(),
        "windowed",
        "default",
        4,
        ScriptedModel::builder().build(),
    );
    again.load_session().await.unwrap();
    assert_eq!(again.messages(), agent.messages());
}

#[tokio::test]
async fn rust_sessions_round_trip_with_pythons_layout() {
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::builder()
        .tool_use("t1", "add", r#"{"a": 1, "b": 2}"#)
        .text("3")
        .build();
    let mut agent = agent_on(dir.path(), "s1", "default", 40, model);
    agent.state().set("user", "ana").unwrap();
    agent.invoke("1+2").await.unwrap();

    let session = dir.path().join("session_s1");
    assert_eq!(
        files_in(&session),
        ["agents", "multi_agents", "session.json"]
    );
    assert_eq!(
        files_in(&session.join("agents/agent_default/messages")),
        [
            "message_0.json",
            "message_1.json",
            "message_2.json",
            "message_3.json"
        ]
    );
    let session_json: Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("session.json")).unwrap())
            .unwrap();
    assert_eq!(session_json["session_id"], "s1");
    assert_eq!(session_json["session_type"], "AGENT");
    let agent_json: Value = serde_json::from_str(
        &std::fs::read_to_string(session.join("agents/agent_default/agent.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        agent_json["state"],
        json!({"user": "ana", "last_sum": 3, "add_calls": 1})
    );
    assert_eq!(
        agent_json["conversation_manager_state"],
        json!({"__name__": "SlidingWindowConversationManager", "removed_message_count": 0, "model_call_count": 0})
    );
    assert_eq!(agent_json["_internal_state"]["model_state"], json!({}));

    let mut restored = agent_on(
        dir.path(),
        "s1",
        "default",
        40,
        ScriptedModel::builder().text("hi again").build(),
    );
    restored.invoke("hello?").await.unwrap();
    assert_eq!(&restored.messages()[..4], agent.messages());
    assert_eq!(
        restored.state().get::<String>("user").as_deref(),
        Some("ana")
    );
    assert_eq!(
        files_in(&session.join("agents/agent_default/messages")).len(),
        6
    );
}

#[tokio::test]
async fn an_interrupt_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::builder()
        .tool_use("t1", "delete_file", r#"{"path": "/tmp/x"}"#)
        .build();
    let mut agent = agent_on(dir.path(), "hitl", "default", 40, model);
    let paused = agent.invoke("delete /tmp/x").await.unwrap();
    assert_eq!(paused.stop_reason, StopReason::Interrupt);
    drop(agent);

    let mut resumed = agent_on(
        dir.path(),
        "hitl",
        "default",
        40,
        ScriptedModel::builder().text("done").build(),
    );
    resumed.load_session().await.unwrap();
    assert_eq!(resumed.pending_interrupts(), paused.interrupts);
    let result = resumed
        .invoke(vec![InterruptResponse::new(
            paused.interrupts[0].id.clone(),
            "yes",
        )])
        .await
        .unwrap();
    assert_eq!(result.to_string(), "done\n");
    assert_eq!(resumed.messages().len(), 4);
}

#[tokio::test]
async fn ids_that_could_escape_the_storage_directory_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for id in ["../escape", "a/b", "a\\b", "", ".."] {
        let err = SessionManager::new(id, FileSessionRepository::new(dir.path())).unwrap_err();
        assert!(
            matches!(
                err,
                SessionError::InvalidId {
                    kind: "session",
                    ..
                }
            ),
            "{id:?}: {err}"
        );
    }
    for id in ["../escape", "x/y"] {
        let err = Agent::builder()
            .model(ScriptedModel::builder().build())
            .agent_id(id)
            .build()
            .unwrap_err();
        assert!(matches!(err, BuildError::InvalidAgentId { .. }), "{id:?}");
    }
    assert!(files_in(dir.path()).is_empty());
    assert!(!dir.path().parent().unwrap().join("escape").exists());
}

#[tokio::test]
async fn a_broken_session_is_an_error_that_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut agent = agent_on(
        dir.path(),
        "s2",
        "default",
        40,
        ScriptedModel::builder().text("hi").build(),
    );
    agent.invoke("hello").await.unwrap();
    let agent_json = dir
        .path()
        .join("session_s2/agents/agent_default/agent.json");
    std::fs::write(&agent_json, "{ not json").unwrap();
    let mut broken = agent_on(
        dir.path(),
        "s2",
        "default",
        40,
        ScriptedModel::builder().text("x").build(),
    );
    let err = broken.invoke("again").await.unwrap_err();
    assert!(
        matches!(err, AgentError::Session(SessionError::Json { .. })),
        "{err}"
    );
    assert!(
        std::error::Error::source(&err)
            .unwrap()
            .to_string()
            .contains("agent.json")
    );
    assert!(broken.messages().is_empty(), "nothing was appended");
}

/// Rust writes a session, real Python Strands 1.62 loads it and continues it, and Rust loads
/// the result. Needs the interpreter from `scripts/python-strands` in `STRANDS_PYTHON`
/// (`scripts/test` sets it); skipped otherwise unless `STRANDS_REQUIRE_PYTHON` is set.
#[tokio::test]
async fn rust_sessions_continue_in_python_and_back() {
    let python = match std::env::var("STRANDS_PYTHON") {
        Ok(python) if !python.is_empty() => python,
        _ => {
            assert!(
                std::env::var_os("STRANDS_REQUIRE_PYTHON").is_none(),
                "STRANDS_REQUIRE_PYTHON is set but STRANDS_PYTHON is not; run scripts/python-strands"
            );
            eprintln!(
                "skipping: set STRANDS_PYTHON to the interpreter from scripts/python-strands"
            );
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::builder()
        .tool_use("t1", "add", r#"{"a": 2, "b": 3}"#)
        .text("5")
        .tool_use("t2", "delete_file", r#"{"path": "/tmp/r"}"#)
        .build();
    let mut agent = agent_on(dir.path(), "rust-made", "default", 40, model);
    agent
        .state()
        .set("owner", json!({"name": "ana", "tags": ["a", "ü"]}))
        .unwrap();
    agent.invoke("2+3").await.unwrap();
    let paused = agent.invoke("delete /tmp/r").await.unwrap();
    assert_eq!(paused.stop_reason, StopReason::Interrupt);

    let expectations = json!({
        "agent_id": "default",
        "messages": messages_json(&agent),
        "state": Value::Object(agent.state().to_map()),
        "conversation_manager_state": Value::Object(agent.conversation_manager().state()),
        "interrupt": {
            "id": paused.interrupts[0].id,
            "name": "approve",
            "reason": paused.interrupts[0].reason,
        },
        "continue": {"reply": "continued in python", "interrupt_response": "approved"},
    });
    let expectations_path = dir.path().join("expectations.json");
    std::fs::write(
        &expectations_path,
        serde_json::to_vec(&expectations).unwrap(),
    )
    .unwrap();
    let output_path = dir.path().join("output.json");
    let checker =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sessions/check_rust_session.py");
    let status = Command::new(&python)
        .arg(checker)
        .arg(dir.path())
        .arg("rust-made")
        .arg(&expectations_path)
        .arg(&output_path)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "Python Strands rejected the Rust session: {status}"
    );
    let output: Value =
        serde_json::from_str(&std::fs::read_to_string(&output_path).unwrap()).unwrap();
    assert_eq!(output["stop_reason"], "end_turn");

    // Back in Rust: Python's turn (the resumed tool result and its answer) is there.
    let mut back = agent_on(
        dir.path(),
        "rust-made",
        "default",
        40,
        ScriptedModel::builder().build(),
    );
    back.load_session().await.unwrap();
    assert_eq!(messages_json(&back), output["messages"]);
    assert!(back.pending_interrupts().is_empty());
    let result = back.messages()[6].content[0].as_tool_result().unwrap();
    assert_eq!(
        result.content[0].as_text(),
        Some("deleted /tmp/r (approval: approved)")
    );
    assert_eq!(
        back.messages().last().unwrap().text(),
        "continued in python\n"
    );
    let _: Vec<Message> = back.messages().to_vec();
}

#[tokio::test]
async fn state_set_by_an_after_invocation_hook_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let mut agent = Agent::builder()
        .model(ScriptedModel::builder().text("hi").build())
        .hook(|e: &mut strands_agent::hooks::AfterInvocationEvent| {
            e.agent.state.set("turns", 1).unwrap();
        })
        .session_manager(SessionManager::new("s3", FileSessionRepository::new(dir.path())).unwrap())
        .build()
        .unwrap();
    agent.invoke("hello").await.unwrap();
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join("session_s3/agents/agent_default/agent.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(record["state"], json!({"turns": 1}));
}

/// A repository whose message writes fail while `fail` is set.
struct Flaky {
    inner: FileSessionRepository,
    fail: std::sync::atomic::AtomicBool,
}

impl strands_agent::session::SessionRepository for Flaky {
    fn create_session<'a>(
        &'a self,
        s: &'a strands_agent::session::Session,
    ) -> strands_core::BoxFuture<'a, strands_agent::session::SessionResult<()>> {
        self.inner.create_session(s)
    }
    fn read_session<'a>(
        &'a self,
        id: &'a str,
    ) -> strands_core::BoxFuture<
        'a,
        strands_agent::session::SessionResult<Option<strands_agent::session::Session>>,
    > {
        self.inner.read_session(id)
    }
    fn create_agent<'a>(
        &'a self,
        id: &'a str,
        a: &'a strands_agent::session::SessionAgent,
    ) -> strands_core::BoxFuture<'a, strands_agent::session::SessionResult<()>> {
        self.inner.create_agent(id, a)
    }
    fn read_agent<'a>(
        &'a self,
        s: &'a str,
        a: &'a str,
    ) -> strands_core::BoxFuture<
        'a,
        strands_agent::session::SessionResult<Option<strands_agent::session::SessionAgent>>,
    > {
        self.inner.read_agent(s, a)
    }
    fn update_agent<'a>(
        &'a self,
        id: &'a str,
        a: &'a strands_agent::session::SessionAgent,
    ) -> strands_core::BoxFuture<'a, strands_agent::session::SessionResult<()>> {
        self.inner.update_agent(id, a)
    }
    fn create_message<'a>(
        &'a self,
        s: &'a str,
        a: &'a str,
        m: &'a strands_agent::session::SessionMessage,
    ) -> strands_core::BoxFuture<'a, strands_agent::session::SessionResult<()>> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Box::pin(async {
                Err(SessionError::Backend {
                    message: "disk full".into(),
                    source: None,
                })
            });
        }
        self.inner.create_message(s, a, m)
    }
    fn read_message<'a>(
        &'a self,
        s: &'a str,
        a: &'a str,
        id: u64,
    ) -> strands_core::BoxFuture<
        'a,
        strands_agent::session::SessionResult<Option<strands_agent::session::SessionMessage>>,
    > {
        self.inner.read_message(s, a, id)
    }
    fn update_message<'a>(
        &'a self,
        s: &'a str,
        a: &'a str,
        m: &'a strands_agent::session::SessionMessage,
    ) -> strands_core::BoxFuture<'a, strands_agent::session::SessionResult<()>> {
        self.inner.update_message(s, a, m)
    }
    fn list_messages<'a>(
        &'a self,
        s: &'a str,
        a: &'a str,
        limit: Option<usize>,
        offset: usize,
    ) -> strands_core::BoxFuture<
        'a,
        strands_agent::session::SessionResult<Vec<strands_agent::session::SessionMessage>>,
    > {
        self.inner.list_messages(s, a, limit, offset)
    }
}

#[tokio::test]
async fn a_failed_message_write_keeps_memory_and_storage_in_step() {
    let dir = tempfile::tempdir().unwrap();
    let repository = std::sync::Arc::new(Flaky {
        inner: FileSessionRepository::new(dir.path()),
        fail: std::sync::atomic::AtomicBool::new(false),
    });
    let mut agent = Agent::builder()
        .model(ScriptedModel::builder().text("one").text("two").build())
        .session_manager(SessionManager::with_shared_repository("s4", repository.clone()).unwrap())
        .build()
        .unwrap();
    agent.invoke("first").await.unwrap();
    repository
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let error = agent.invoke("second").await.unwrap_err();
    assert!(matches!(error, AgentError::Session(_)), "{error}");
    assert_eq!(
        agent.messages().len(),
        2,
        "the unsaved prompt is not in memory either"
    );
    repository
        .fail
        .store(false, std::sync::atomic::Ordering::SeqCst);
    agent.invoke("second").await.unwrap();
    let mut restored = Agent::builder()
        .model(ScriptedModel::builder().build())
        .session_manager(SessionManager::new("s4", FileSessionRepository::new(dir.path())).unwrap())
        .build()
        .unwrap();
    restored.load_session().await.unwrap();
    assert_eq!(restored.messages(), agent.messages());
}
