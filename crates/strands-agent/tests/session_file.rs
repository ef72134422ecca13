//! `FileSessionRepository`: round trips, Python's exact file format, path-traversal ids,
//! permissions, symlink refusal and crash safety under a real SIGKILL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "tests"
)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pretty_assertions::assert_eq;
use serde_json::{Map, Value, json};
use strands_agent::session::{
    FileSessionRepository, ObjectStore as _, Session, SessionAgent, SessionError, SessionMessage,
    SessionRepository, SessionResult,
};
use strands_core::{ContentBlock, Message, Role};

/// A scratch directory under Cargo's per-target temp dir, removed on drop.
struct TestDir(PathBuf);

impl TestDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "session_file-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Every path under `dir`, relative to it.
fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            out.insert(path.strip_prefix(base).unwrap().to_path_buf());
            if fs::symlink_metadata(&path).unwrap().is_dir() {
                walk(base, &path, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with(".strands_") && name.ends_with(".tmp"))
        .collect()
}

fn agent(agent_id: &str, state: Value) -> SessionAgent {
    let Value::Object(state) = state else {
        panic!("state must be an object")
    };
    SessionAgent::new(agent_id, state, Map::new(), Map::new())
}

fn message_ids(messages: &[SessionMessage]) -> Vec<u64> {
    messages.iter().map(|m| m.message_id).collect()
}

#[tokio::test]
async fn session_agent_and_messages_round_trip() {
    let dir = TestDir::new("round-trip");
    let root = dir.path().join("root");
    let repo = FileSessionRepository::new(&root);
    assert_eq!(repo.root(), root);

    assert!(repo.read_session("s1").await.unwrap().is_none());
    let session = Session::new("s1");
    repo.create_session(&session).await.unwrap();
    assert_eq!(
        repo.read_session("s1").await.unwrap(),
        Some(session.clone())
    );
    let session_dir = root.join("session_s1");
    assert!(session_dir.join("session.json").is_file());
    assert!(session_dir.join("agents").is_dir());
    assert_eq!(
        fs::read_dir(session_dir.join("multi_agents"))
            .unwrap()
            .count(),
        0
    );
    let again = repo.create_session(&session).await;
    assert!(
        matches!(again, Err(SessionError::Conflict(ref m)) if m.contains("already exists")),
        "{again:?}"
    );

    assert!(repo.read_agent("s1", "a1").await.unwrap().is_none());
    let created = agent("a1", json!({"k": "v"}));
    repo.create_agent("s1", &created).await.unwrap();
    assert_eq!(
        repo.read_agent("s1", "a1").await.unwrap(),
        Some(created.clone())
    );
    let agent_dir = session_dir.join("agents/agent_a1");
    assert!(agent_dir.join("agent.json").is_file());
    assert!(agent_dir.join("messages").is_dir());
    assert!(
        repo.list_messages("s1", "a1", None, 0)
            .await
            .unwrap()
            .is_empty()
    );

    let mut changed = agent("a1", json!({"k": "v2", "n": [1, 2]}));
    changed.created_at = "bogus-created".to_owned();
    changed.updated_at = "bogus-updated".to_owned();
    repo.update_agent("s1", &changed).await.unwrap();
    let stored = repo.read_agent("s1", "a1").await.unwrap().unwrap();
    assert_eq!(stored.state, changed.state);
    assert_eq!(stored.created_at, created.created_at);
    assert_ne!(stored.updated_at, "bogus-updated");
    assert!(
        stored.updated_at.ends_with("+00:00"),
        "{}",
        stored.updated_at
    );

    let missing = repo.update_agent("s1", &agent("nobody", json!({}))).await;
    assert!(
        matches!(missing, Err(SessionError::Conflict(ref m)) if m.contains("create_agent")),
        "{missing:?}"
    );

    // Twelve messages written out of order; message_10 and message_11 sort after message_9.
    for id in [3, 11, 0, 7, 1, 10, 2, 9, 4, 8, 5, 6] {
        let message = SessionMessage::new(Message::user(format!("m{id}")), id);
        repo.create_message("s1", "a1", &message).await.unwrap();
    }
    let messages_dir = agent_dir.join("messages");
    fs::write(messages_dir.join("notes.txt"), "ignored").unwrap();
    fs::write(messages_dir.join("message_x.json"), "ignored").unwrap();
    fs::write(messages_dir.join(".strands_leftover.tmp"), "{\"torn").unwrap();

    let all = repo.list_messages("s1", "a1", None, 0).await.unwrap();
    assert_eq!(message_ids(&all), (0..12).collect::<Vec<_>>());
    assert_eq!(all[10].message.text(), "m10\n");
    let page = repo.list_messages("s1", "a1", Some(2), 9).await.unwrap();
    assert_eq!(message_ids(&page), [9, 10]);
    let tail = repo.list_messages("s1", "a1", None, 5).await.unwrap();
    assert_eq!(message_ids(&tail), (5..12).collect::<Vec<_>>());
    let head = repo.list_messages("s1", "a1", Some(3), 0).await.unwrap();
    assert_eq!(message_ids(&head), [0, 1, 2]);
    assert!(
        repo.list_messages("s1", "a1", Some(0), 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        repo.list_messages("s1", "a1", None, 100)
            .await
            .unwrap()
            .is_empty()
    );

    let ten = repo.read_message("s1", "a1", 10).await.unwrap().unwrap();
    assert_eq!(ten, all[10]);
    assert!(repo.read_message("s1", "a1", 99).await.unwrap().is_none());

    let mut redacted = ten.clone();
    redacted.redact_message = Some(Message::user("[redacted]"));
    redacted.created_at = "bogus".to_owned();
    repo.update_message("s1", "a1", &redacted).await.unwrap();
    let stored = repo.read_message("s1", "a1", 10).await.unwrap().unwrap();
    assert_eq!(stored.created_at, ten.created_at);
    assert_eq!(stored.to_message().text(), "[redacted]\n");
    assert_eq!(stored.message.text(), "m10\n");

    let missing = repo
        .update_message("s1", "a1", &SessionMessage::new(Message::user("x"), 99))
        .await;
    assert!(
        matches!(missing, Err(SessionError::Conflict(ref m)) if m.contains("create_message")),
        "{missing:?}"
    );
    // Like Python, listing the messages of an agent that was never created is an error.
    let missing = repo.list_messages("s1", "nobody", None, 0).await;
    assert!(
        matches!(missing, Err(SessionError::Conflict(_))),
        "{missing:?}"
    );

    // Every write went through a temp file that was renamed away.
    assert!(temp_files(&agent_dir).is_empty());
    assert_eq!(temp_files(&messages_dir), [".strands_leftover.tmp"]);
}

#[tokio::test]
async fn corrupt_json_is_a_json_error_naming_the_file() {
    let dir = TestDir::new("corrupt");
    let repo = FileSessionRepository::new(dir.path());
    repo.create_session(&Session::new("s")).await.unwrap();
    let path = dir.path().join("session_s/session.json");
    fs::write(&path, "{\"session_id\": ").unwrap();
    let err = repo.read_session("s").await.unwrap_err();
    assert!(
        matches!(&err, SessionError::Json { location, .. } if location.contains("session.json")),
        "{err:?}"
    );
}

// Files as Python 1.x `FileSessionManager` writes them for the same records: generated with
// `create_session` / `create_agent` / `create_message` into a scratch directory and read back with
// `repr(open(path, encoding="utf-8").read())`.
const PY_SESSION_JSON: &str = r#"{
  "session_id": "sess-1",
  "session_type": "AGENT",
  "created_at": "2025-11-25T17:46:24.123456+00:00",
  "updated_at": "2025-11-25T17:46:24.123470+00:00"
}"#;

const PY_AGENT_JSON: &str = r#"{
  "agent_id": "agent-ü",
  "state": {
    "greeting": "héllo 日本 🚀",
    "nested": {
      "list": [
        1,
        2.5,
        true,
        null,
        "x"
      ],
      "empty_obj": {},
      "empty_list": [],
      "quote": "a\"b\\c\nd\te\u0001"
    },
    "n": -3
  },
  "conversation_manager_state": {
    "__name__": "SlidingWindowConversationManager",
    "removed_message_count": 0,
    "model_call_count": 0
  },
  "_internal_state": {
    "interrupt_state": {
      "interrupts": {},
      "context": {},
      "activated": false
    },
    "model_state": {}
  },
  "created_at": "2025-11-25T17:46:24.123456+00:00",
  "updated_at": "2025-11-25T17:46:25+00:00"
}"#;

const PY_MESSAGE_JSON: &str = r#"{
  "message": {
    "role": "user",
    "content": [
      {
        "text": "Grüße 👋"
      },
      {
        "text": ""
      }
    ],
    "tracking_id": "0b6c1c5e-7d0a-4c1e-9f57-1f7f0c2a9d11"
  },
  "message_id": 0,
  "redact_message": null,
  "created_at": "2025-11-25T17:46:26.000001+00:00",
  "updated_at": "2025-11-25T17:46:26.000002+00:00"
}"#;

fn python_fixture_records() -> (Session, SessionAgent, SessionMessage) {
    let mut session = Session::new("sess-1");
    session.created_at = "2025-11-25T17:46:24.123456+00:00".to_owned();
    session.updated_at = "2025-11-25T17:46:24.123470+00:00".to_owned();

    let mut agent = agent(
        "agent-ü",
        json!({
            "greeting": "héllo 日本 🚀",
            "nested": {
                "list": [1, 2.5, true, null, "x"],
                "empty_obj": {},
                "empty_list": [],
                "quote": "a\"b\\c\nd\te\u{1}"
            },
            "n": -3
        }),
    );
    let Value::Object(cm_state) = json!({
        "__name__": "SlidingWindowConversationManager",
        "removed_message_count": 0,
        "model_call_count": 0
    }) else {
        unreachable!()
    };
    let Value::Object(internal) = json!({
        "interrupt_state": {"interrupts": {}, "context": {}, "activated": false},
        "model_state": {}
    }) else {
        unreachable!()
    };
    agent.conversation_manager_state = cm_state;
    agent.internal_state = internal;
    agent.created_at = "2025-11-25T17:46:24.123456+00:00".to_owned();
    agent.updated_at = "2025-11-25T17:46:25+00:00".to_owned();

    let mut message = Message::new(
        Role::User,
        vec![ContentBlock::text("Grüße 👋"), ContentBlock::text("")],
    );
    message.tracking_id = Some("0b6c1c5e-7d0a-4c1e-9f57-1f7f0c2a9d11".to_owned());
    let mut message = SessionMessage::new(message, 0);
    message.created_at = "2025-11-25T17:46:26.000001+00:00".to_owned();
    message.updated_at = "2025-11-25T17:46:26.000002+00:00".to_owned();
    (session, agent, message)
}

#[tokio::test]
async fn files_are_byte_identical_to_python_json_dump() {
    let dir = TestDir::new("python-bytes");
    let repo = FileSessionRepository::new(dir.path());
    let (session, agent, message) = python_fixture_records();
    repo.create_session(&session).await.unwrap();
    repo.create_agent("sess-1", &agent).await.unwrap();
    repo.create_message("sess-1", "agent-ü", &message)
        .await
        .unwrap();

    let session_dir = dir.path().join("session_sess-1");
    let agent_dir = session_dir.join("agents/agent_agent-ü");
    let read = |path: PathBuf| String::from_utf8(fs::read(path).unwrap()).unwrap();
    assert_eq!(read(session_dir.join("session.json")), PY_SESSION_JSON);
    assert_eq!(read(agent_dir.join("agent.json")), PY_AGENT_JSON);
    assert_eq!(
        read(agent_dir.join("messages/message_0.json")),
        PY_MESSAGE_JSON
    );
}

#[tokio::test]
async fn reads_files_python_wrote() {
    let dir = TestDir::new("python-read");
    let agent_dir = dir.path().join("session_sess-1/agents/agent_agent-ü");
    fs::create_dir_all(agent_dir.join("messages")).unwrap();
    fs::write(
        dir.path().join("session_sess-1/session.json"),
        PY_SESSION_JSON,
    )
    .unwrap();
    fs::write(agent_dir.join("agent.json"), PY_AGENT_JSON).unwrap();
    fs::write(agent_dir.join("messages/message_0.json"), PY_MESSAGE_JSON).unwrap();

    let repo = FileSessionRepository::new(dir.path());
    let (session, agent, message) = python_fixture_records();
    assert_eq!(repo.read_session("sess-1").await.unwrap(), Some(session));
    assert_eq!(
        repo.read_agent("sess-1", "agent-ü").await.unwrap(),
        Some(agent)
    );
    assert_eq!(
        repo.list_messages("sess-1", "agent-ü", None, 0)
            .await
            .unwrap(),
        [message]
    );
}

const BAD_IDS: &[&str] = &[
    "../x",
    "a/b",
    "a\\b",
    "",
    "\0",
    "..",
    ".",
    "../../../../tmp/escape",
    "..\\..\\escape",
    "/absolute",
    "x/../../y",
    "a\nb",
];

fn assert_invalid_id<T: std::fmt::Debug>(result: SessionResult<T>, call: &str, id: &str) {
    match result {
        Err(SessionError::InvalidId { .. }) => {}
        other => panic!("{call} with id {id:?} returned {other:?}"),
    }
}

#[tokio::test]
async fn path_traversal_ids_are_rejected_by_every_method() {
    let dir = TestDir::new("traversal");
    let root = dir.path().join("root");
    let repo = FileSessionRepository::new(&root);
    repo.create_session(&Session::new("good")).await.unwrap();
    repo.create_agent("good", &agent("agent", json!({})))
        .await
        .unwrap();
    let message = SessionMessage::new(Message::user("hi"), 0);
    repo.create_message("good", "agent", &message)
        .await
        .unwrap();
    let before = tree(dir.path());

    for &bad in BAD_IDS {
        // A bad session id.
        let bad_session = Session::new(bad);
        let good_agent = agent("agent", json!({}));
        assert_invalid_id(
            repo.create_session(&bad_session).await,
            "create_session",
            bad,
        );
        assert_invalid_id(repo.read_session(bad).await, "read_session", bad);
        assert_invalid_id(
            repo.create_agent(bad, &good_agent).await,
            "create_agent",
            bad,
        );
        assert_invalid_id(repo.read_agent(bad, "agent").await, "read_agent", bad);
        assert_invalid_id(
            repo.update_agent(bad, &good_agent).await,
            "update_agent",
            bad,
        );
        assert_invalid_id(
            repo.create_message(bad, "agent", &message).await,
            "create_message",
            bad,
        );
        assert_invalid_id(
            repo.read_message(bad, "agent", 0).await,
            "read_message",
            bad,
        );
        assert_invalid_id(
            repo.update_message(bad, "agent", &message).await,
            "update_message",
            bad,
        );
        assert_invalid_id(
            repo.list_messages(bad, "agent", None, 0).await,
            "list_messages",
            bad,
        );

        // A bad agent id in a good session.
        let bad_agent = agent(bad, json!({}));
        assert_invalid_id(
            repo.create_agent("good", &bad_agent).await,
            "create_agent",
            bad,
        );
        assert_invalid_id(repo.read_agent("good", bad).await, "read_agent", bad);
        assert_invalid_id(
            repo.update_agent("good", &bad_agent).await,
            "update_agent",
            bad,
        );
        assert_invalid_id(
            repo.create_message("good", bad, &message).await,
            "create_message",
            bad,
        );
        assert_invalid_id(repo.read_message("good", bad, 0).await, "read_message", bad);
        assert_invalid_id(
            repo.update_message("good", bad, &message).await,
            "update_message",
            bad,
        );
        assert_invalid_id(
            repo.list_messages("good", bad, None, 0).await,
            "list_messages",
            bad,
        );
    }

    // Nothing was created, inside the root or next to it.
    assert_eq!(tree(dir.path()), before);
    let top: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(top, ["root"]);
}

#[tokio::test]
async fn ids_that_are_safe_but_unusual_work() {
    let dir = TestDir::new("unusual-ids");
    let repo = FileSessionRepository::new(dir.path());
    for id in ["user-42", "a.b", ".hidden", "日本", "with space"] {
        repo.create_session(&Session::new(id)).await.unwrap();
        repo.create_agent(id, &agent(id, json!({}))).await.unwrap();
        assert!(repo.read_agent(id, id).await.unwrap().is_some());
    }
}

#[cfg(unix)]
#[tokio::test]
async fn directories_are_0700_and_files_0600() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = TestDir::new("modes");
    let root = dir.path().join("root");
    let repo = FileSessionRepository::new(&root);
    repo.create_session(&Session::new("s")).await.unwrap();
    repo.create_agent("s", &agent("a", json!({})))
        .await
        .unwrap();
    repo.create_message("s", "a", &SessionMessage::new(Message::user("hi"), 0))
        .await
        .unwrap();
    repo.update_agent("s", &agent("a", json!({"x": 1})))
        .await
        .unwrap();

    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let session_dir = root.join("session_s");
    let agent_dir = session_dir.join("agents/agent_a");
    for d in [
        root.clone(),
        session_dir.clone(),
        session_dir.join("agents"),
        session_dir.join("multi_agents"),
        agent_dir.clone(),
        agent_dir.join("messages"),
    ] {
        assert_eq!(mode(&d), 0o700, "{}", d.display());
    }
    for f in [
        session_dir.join("session.json"),
        agent_dir.join("agent.json"),
        agent_dir.join("messages/message_0.json"),
    ] {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

#[cfg(unix)]
#[tokio::test]
async fn symlinked_files_are_neither_read_nor_written() {
    use std::os::unix::fs::symlink;

    let dir = TestDir::new("symlink");
    let root = dir.path().join("root");
    let repo = FileSessionRepository::new(&root);
    repo.create_session(&Session::new("s")).await.unwrap();
    let original = agent("a", json!({"who": "original"}));
    repo.create_agent("s", &original).await.unwrap();
    let message = SessionMessage::new(Message::user("hi"), 0);
    repo.create_message("s", "a", &message).await.unwrap();

    // Valid documents outside the root that an attacker wants read or overwritten.
    let outside_agent = dir.path().join("outside-agent.json");
    let injected = serde_json::to_string(&agent("a", json!({"who": "attacker"}))).unwrap();
    fs::write(&outside_agent, &injected).unwrap();
    let outside_message = dir.path().join("outside-message.json");
    let injected_message = serde_json::to_string(&message).unwrap();
    fs::write(&outside_message, &injected_message).unwrap();
    let outside_session = dir.path().join("outside-session.json");
    fs::write(
        &outside_session,
        serde_json::to_string(&Session::new("s")).unwrap(),
    )
    .unwrap();

    let session_dir = root.join("session_s");
    let agent_json = session_dir.join("agents/agent_a/agent.json");
    let message_json = session_dir.join("agents/agent_a/messages/message_0.json");
    let session_json = session_dir.join("session.json");
    for (link, target) in [
        (&agent_json, &outside_agent),
        (&message_json, &outside_message),
        (&session_json, &outside_session),
    ] {
        fs::remove_file(link).unwrap();
        symlink(target, link).unwrap();
    }

    let is_symlink_refusal =
        |r: &SessionError| matches!(r, SessionError::Conflict(m) if m.contains("symlink"));
    let err = repo.read_session("s").await.unwrap_err();
    assert!(is_symlink_refusal(&err), "{err:?}");
    let err = repo.read_agent("s", "a").await.unwrap_err();
    assert!(is_symlink_refusal(&err), "{err:?}");
    let err = repo.update_agent("s", &original).await.unwrap_err();
    assert!(is_symlink_refusal(&err), "{err:?}");
    let err = repo.create_agent("s", &original).await.unwrap_err();
    assert!(is_symlink_refusal(&err), "{err:?}");
    let err = repo.read_message("s", "a", 0).await.unwrap_err();
    assert!(is_symlink_refusal(&err), "{err:?}");
    let err = repo.create_message("s", "a", &message).await.unwrap_err();
    assert!(is_symlink_refusal(&err), "{err:?}");
    let err = repo.update_message("s", "a", &message).await.unwrap_err();
    assert!(is_symlink_refusal(&err), "{err:?}");
    let err = repo.list_messages("s", "a", None, 0).await.unwrap_err();
    assert!(is_symlink_refusal(&err), "{err:?}");

    // The targets are untouched, the links are still links and no temp file was left.
    assert_eq!(fs::read_to_string(&outside_agent).unwrap(), injected);
    assert_eq!(
        fs::read_to_string(&outside_message).unwrap(),
        injected_message
    );
    assert!(fs::symlink_metadata(&agent_json).unwrap().is_symlink());
    assert!(temp_files(agent_json.parent().unwrap()).is_empty());
    assert!(temp_files(message_json.parent().unwrap()).is_empty());
}

// ---- Crash safety: SIGKILL a writer process between writing a temp file and renaming it. ----

const CRASH_ROOT_ENV: &str = "STRANDS_SESSION_FILE_CRASH_ROOT";
const CRASH_CHILD: &str = "crash_child_writer";
const CRASH_SESSION: &str = "crash";
const CRASH_AGENT: &str = "writer";
const PAYLOAD_BYTES: usize = 1 << 20;

/// Version `A` or `B` of the agent record: about 1 MB of state, so writes take a while.
fn versioned_agent(version: &str) -> SessionAgent {
    agent(
        CRASH_AGENT,
        json!({"version": version, "payload": version.repeat(PAYLOAD_BYTES)}),
    )
}

/// Kills and reaps the child when a test assertion fails.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Not a test: the writer process `update_agent_survives_sigkill_mid_write` starts and kills.
/// It rewrites the agent forever, alternating versions A and B (each keeping the stored
/// `created_at`, as `update_agent` does), straight through the store's atomic `put` so that
/// nearly all of its time is spent writing, and touches `child-ready` in the root after its first
/// write. Without the environment variable it does nothing.
#[test]
#[ignore = "helper process of update_agent_survives_sigkill_mid_write"]
fn crash_child_writer() {
    let Some(root) = std::env::var_os(CRASH_ROOT_ENV).map(PathBuf::from) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let repo = FileSessionRepository::new(&root);
        let stored = repo
            .read_agent(CRASH_SESSION, CRASH_AGENT)
            .await
            .unwrap()
            .unwrap();
        let key = format!("session_{CRASH_SESSION}/agents/agent_{CRASH_AGENT}/agent.json");
        let bodies = ["B", "A"].map(|version| {
            let mut agent = versioned_agent(version);
            agent.created_at.clone_from(&stored.created_at);
            serde_json::to_vec_pretty(&agent).unwrap()
        });
        let mut writes = 0_usize;
        loop {
            repo.put(&key, bodies[writes % 2].clone()).await.unwrap();
            if writes == 0 {
                fs::write(root.join("child-ready"), b"").unwrap();
            }
            writes += 1;
        }
    });
}

/// xorshift64: enough randomness for kill delays without a dependency.
struct Rng(u64);

impl Rng {
    fn from_clock() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Self(u64::try_from(nanos % u128::from(u64::MAX)).unwrap() | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test]
async fn update_agent_survives_sigkill_mid_write() {
    let dir = TestDir::new("crash");
    let root = dir.path().join("root");
    let repo = FileSessionRepository::new(&root);
    repo.create_session(&Session::new(CRASH_SESSION))
        .await
        .unwrap();
    let version_a = versioned_agent("A");
    let version_b = versioned_agent("B");
    repo.create_agent(CRASH_SESSION, &version_a).await.unwrap();
    for id in 0..3 {
        let message = SessionMessage::new(Message::user(format!("m{id}")), id);
        repo.create_message(CRASH_SESSION, CRASH_AGENT, &message)
            .await
            .unwrap();
    }
    let agent_dir = root.join("session_crash/agents/agent_writer");
    let agent_json = agent_dir.join("agent.json");
    let ready = root.join("child-ready");
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng::from_clock();
    let mut seen = BTreeSet::new();

    for iteration in 0..20 {
        let _ = fs::remove_file(&ready);
        let mut child = KillOnDrop(
            Command::new(&exe)
                .args(["--ignored", "--exact", CRASH_CHILD, "--nocapture"])
                .env(CRASH_ROOT_ENV, &root)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready.exists() {
            if let Some(status) = child.0.try_wait().unwrap() {
                panic!("writer process exited early with {status}");
            }
            assert!(Instant::now() < deadline, "writer process never wrote");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let delay = 5 + rng.below(56);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        child.0.kill().unwrap();
        let status = child.0.wait().unwrap();
        assert!(!status.success(), "the writer must have been killed");

        let raw = fs::read(&agent_json)
            .unwrap_or_else(|e| panic!("agent.json missing after kill #{iteration}: {e}"));
        let parsed: Value = serde_json::from_slice(&raw).unwrap_or_else(|e| {
            panic!("agent.json torn after kill #{iteration} ({delay} ms): {e}")
        });
        let stored = repo
            .read_agent(CRASH_SESSION, CRASH_AGENT)
            .await
            .unwrap()
            .expect("agent.json missing");
        assert_eq!(parsed["agent_id"], CRASH_AGENT);
        let version = stored.state["version"].as_str().unwrap().to_owned();
        let expected = if version == "A" {
            &version_a
        } else {
            &version_b
        };
        assert!(
            stored.state == expected.state,
            "agent.json after kill #{iteration} is neither version A nor B"
        );
        assert_eq!(stored.created_at, version_a.created_at);
        seen.insert(version);
    }

    // Temp files of interrupted writes may be left behind; readers ignore them. Make sure there
    // is at least one in each directory, then read everything.
    // Each temp file left behind is a kill that landed between creating it and the rename.
    let killed_mid_write = temp_files(&agent_dir).len();
    eprintln!("crash test: versions seen {seen:?}, {killed_mid_write}/20 kills landed mid-write");
    assert!(
        killed_mid_write > 0,
        "no kill landed between creating the temp file and renaming it; the test proved nothing"
    );
    fs::write(
        agent_dir.join(".strands_killed01.tmp"),
        b"{\"agent_id\": \"wri",
    )
    .unwrap();
    fs::write(
        agent_dir.join("messages/.strands_killed02.tmp"),
        b"{\"message\": ",
    )
    .unwrap();
    let stored = repo
        .read_agent(CRASH_SESSION, CRASH_AGENT)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.state == version_a.state || stored.state == version_b.state);
    let messages = repo
        .list_messages(CRASH_SESSION, CRASH_AGENT, None, 0)
        .await
        .unwrap();
    assert_eq!(message_ids(&messages), [0, 1, 2]);
    // And the repository keeps working on top of the leftovers.
    repo.update_agent(CRASH_SESSION, &version_b).await.unwrap();
    let stored = repo
        .read_agent(CRASH_SESSION, CRASH_AGENT)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.state == version_b.state);
}
