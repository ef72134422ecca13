//! `S3SessionRepository` against MiniStack's S3 with SigV4 verification on (started by
//! `scripts/ministack`, which `scripts/test` runs): the full round trip, Python's keys and JSON,
//! pagination, numeric message order, prefixes, and clear errors for a missing bucket, denied
//! access and a document that is not JSON. Invalid ids are checked without MiniStack.
//!
//! Without MiniStack's variables these tests report that they were skipped, unless
//! `STRANDS_REQUIRE_MINISTACK=1` (set by `scripts/ministack`) makes that a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "tests"
)]

mod common;
mod ministack;

use ministack::{MiniStack, ministack};

const TEST: &str = "s3_sessions_ministack";

use std::collections::BTreeSet;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use serde_json::{Map, json};
use strands_aws::S3SessionRepository;
use strands_core::Message;
use strands_core::session::{
    Session, SessionAgent, SessionError, SessionMessage, SessionRepository,
};

/// An S3 client for MiniStack with path-style addressing.
async fn s3(endpoint: &str, key: &str, secret: &str) -> aws_sdk_s3::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .endpoint_url(endpoint)
        .load()
        .await;
    let s3 = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// The MiniStack root key (allowed everything).
async fn root(ms: &MiniStack) -> aws_sdk_s3::Client {
    s3(&ms.endpoint, "test", "test").await
}

/// A fresh bucket for one test.
async fn bucket(ms: &MiniStack) -> String {
    let name = format!("strands-sessions-{}", uuid::Uuid::new_v4());
    root(ms)
        .await
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .unwrap();
    name
}

/// Every key in `bucket`.
async fn keys(ms: &MiniStack, bucket: &str) -> BTreeSet<String> {
    let listing = root(ms)
        .await
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_ne!(listing.is_truncated(), Some(true));
    listing
        .contents()
        .iter()
        .map(|o| o.key().unwrap().to_owned())
        .collect()
}

async fn body(ms: &MiniStack, bucket: &str, key: &str) -> (String, Option<String>) {
    let object = root(ms)
        .await
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let content_type = object.content_type().map(str::to_owned);
    let bytes = object.body.collect().await.unwrap().into_bytes();
    (String::from_utf8(bytes.to_vec()).unwrap(), content_type)
}

async fn put(ms: &MiniStack, bucket: &str, key: &str, body: &str) {
    root(ms)
        .await
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
}

const T0: &str = "2025-01-01T00:00:00+00:00";

fn agent(id: &str) -> SessionAgent {
    let mut state = Map::new();
    state.insert("counter".to_owned(), json!(1));
    let mut conversation = Map::new();
    conversation.insert(
        "__name__".to_owned(),
        json!("SlidingWindowConversationManager"),
    );
    conversation.insert("removed_message_count".to_owned(), json!(0));
    SessionAgent::new(id, state, conversation, Map::new())
}

fn message(id: u64) -> SessionMessage {
    let text = format!("message {id}");
    let message = if id.is_multiple_of(2) {
        Message::user(text)
    } else {
        Message::assistant(text)
    };
    SessionMessage::new(message, id)
}

fn ids(messages: &[SessionMessage]) -> Vec<u64> {
    messages.iter().map(|m| m.message_id).collect()
}

#[tokio::test]
async fn sessions_agents_and_messages_round_trip_in_numeric_order_across_pages() {
    let Some(ms) = ministack(TEST) else { return };
    let bucket = bucket(&ms).await;
    // Five keys per ListObjectsV2 page: the twelve messages take three pages.
    let repo = S3SessionRepository::new(root(&ms).await, &bucket, "/tenant-a/sessions/")
        .with_list_page_size(5);
    assert_eq!(repo.prefix(), "tenant-a/sessions");

    assert_eq!(repo.read_session("s1").await.unwrap(), None);
    let session = Session::new("s1");
    repo.create_session(&session).await.unwrap();
    assert_eq!(
        repo.read_session("s1").await.unwrap(),
        Some(session.clone())
    );
    let error = repo.create_session(&session).await.unwrap_err();
    assert!(matches!(error, SessionError::Conflict(_)), "{error}");

    assert_eq!(repo.read_agent("s1", "default").await.unwrap(), None);
    let mut record = agent("default");
    record.created_at = T0.to_owned();
    record.updated_at = T0.to_owned();
    repo.create_agent("s1", &record).await.unwrap();
    assert_eq!(
        repo.read_agent("s1", "default").await.unwrap(),
        Some(record.clone())
    );

    // An update keeps created_at, sets updated_at to now and stores the new state.
    let mut changed = agent("default");
    changed.created_at = "2030-01-01T00:00:00+00:00".to_owned();
    changed.state.insert("counter".to_owned(), json!(2));
    repo.update_agent("s1", &changed).await.unwrap();
    let stored = repo.read_agent("s1", "default").await.unwrap().unwrap();
    assert_eq!(stored.created_at, T0);
    assert_ne!(stored.updated_at, T0);
    assert_eq!(stored.state["counter"], json!(2));
    let error = repo.update_agent("s1", &agent("ghost")).await.unwrap_err();
    assert!(matches!(error, SessionError::Conflict(_)), "{error}");

    // Written out of order; 10 and 11 must come after 9 (not after 1, as strings would).
    for id in [11, 3, 0, 7, 10, 1, 5, 2, 9, 4, 8, 6] {
        repo.create_message("s1", "default", &message(id))
            .await
            .unwrap();
    }
    let all = repo.list_messages("s1", "default", None, 0).await.unwrap();
    assert_eq!(ids(&all), (0..12).collect::<Vec<_>>());
    assert_eq!(all[10].message, Message::user("message 10"));
    assert_eq!(
        ids(&repo
            .list_messages("s1", "default", Some(4), 3)
            .await
            .unwrap()),
        [3, 4, 5, 6]
    );
    assert_eq!(
        ids(&repo.list_messages("s1", "default", None, 9).await.unwrap()),
        [9, 10, 11]
    );
    assert_eq!(
        ids(&repo
            .list_messages("s1", "default", Some(100), 10)
            .await
            .unwrap()),
        [10, 11]
    );
    assert!(
        repo.list_messages("s1", "default", Some(3), 12)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        repo.list_messages("s1", "default", Some(0), 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        repo.list_messages("s1", "nobody", None, 0)
            .await
            .unwrap()
            .is_empty()
    );

    // Messages: read, update (keeping created_at), missing.
    let first = repo
        .read_message("s1", "default", 0)
        .await
        .unwrap()
        .unwrap();
    let mut redacted = first.clone();
    redacted.redact_message = Some(Message::user("[redacted]"));
    redacted.created_at = "2030-01-01T00:00:00+00:00".to_owned();
    repo.update_message("s1", "default", &redacted)
        .await
        .unwrap();
    let stored = repo
        .read_message("s1", "default", 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.created_at, first.created_at);
    assert_eq!(stored.to_message(), Message::user("[redacted]"));
    assert_eq!(repo.read_message("s1", "default", 12).await.unwrap(), None);
    let error = repo
        .update_message("s1", "default", &message(99))
        .await
        .unwrap_err();
    assert!(matches!(error, SessionError::Conflict(_)), "{error}");
}

#[tokio::test]
async fn keys_and_json_are_python_s3_session_managers() {
    let Some(ms) = ministack(TEST) else { return };
    let bucket = bucket(&ms).await;
    for prefix in ["", "app/v1"] {
        let repo = S3SessionRepository::new(root(&ms).await, &bucket, prefix);
        let mut session = Session::new("layout");
        session.created_at = T0.to_owned();
        session.updated_at = T0.to_owned();
        repo.create_session(&session).await.unwrap();
        let mut record = agent("a");
        record.state = Map::new();
        record.created_at = T0.to_owned();
        record.updated_at = T0.to_owned();
        repo.create_agent("layout", &record).await.unwrap();
        let mut msg = SessionMessage::new(Message::user("héllo ✓ \"q\"\n"), 3);
        msg.created_at = T0.to_owned();
        msg.updated_at = T0.to_owned();
        repo.create_message("layout", "a", &msg).await.unwrap();
    }
    let expected: BTreeSet<String> = [
        "session_layout/session.json",
        "session_layout/agents/agent_a/agent.json",
        "session_layout/agents/agent_a/messages/message_3.json",
        "app/v1/session_layout/session.json",
        "app/v1/session_layout/agents/agent_a/agent.json",
        "app/v1/session_layout/agents/agent_a/messages/message_3.json",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(keys(&ms, &bucket).await, expected);

    // Byte for byte what Python writes: json.dumps(record.to_dict(), indent=2, ensure_ascii=False).
    let (text, content_type) = body(&ms, &bucket, "app/v1/session_layout/session.json").await;
    assert_eq!(content_type.as_deref(), Some("application/json"));
    pretty_assertions::assert_eq!(
        text,
        r#"{
  "session_id": "layout",
  "session_type": "AGENT",
  "created_at": "2025-01-01T00:00:00+00:00",
  "updated_at": "2025-01-01T00:00:00+00:00"
}"#
    );
    let (text, _) = body(&ms, &bucket, "session_layout/agents/agent_a/agent.json").await;
    pretty_assertions::assert_eq!(
        text,
        r#"{
  "agent_id": "a",
  "state": {},
  "conversation_manager_state": {
    "__name__": "SlidingWindowConversationManager",
    "removed_message_count": 0
  },
  "_internal_state": {},
  "created_at": "2025-01-01T00:00:00+00:00",
  "updated_at": "2025-01-01T00:00:00+00:00"
}"#
    );
    let (text, _) = body(
        &ms,
        &bucket,
        "session_layout/agents/agent_a/messages/message_3.json",
    )
    .await;
    pretty_assertions::assert_eq!(
        text,
        r#"{
  "message": {
    "role": "user",
    "content": [
      {
        "text": "héllo ✓ \"q\"\n"
      }
    ]
  },
  "message_id": 3,
  "redact_message": null,
  "created_at": "2025-01-01T00:00:00+00:00",
  "updated_at": "2025-01-01T00:00:00+00:00"
}"#
    );

    // A session Python wrote (same keys) reads back.
    put(
        &ms,
        &bucket,
        "py/session_from-python/session.json",
        r#"{"session_id": "from-python", "session_type": "AGENT", "created_at": "2025-01-01T00:00:00.123456+00:00", "updated_at": "2025-01-01T00:00:00.123456+00:00"}"#,
    )
    .await;
    let repo = S3SessionRepository::new(root(&ms).await, &bucket, "py");
    let session = repo.read_session("from-python").await.unwrap().unwrap();
    assert_eq!(session.created_at, "2025-01-01T00:00:00.123456+00:00");
}

#[tokio::test]
async fn invalid_ids_are_rejected_before_any_request() {
    // Port 9 (discard) on loopback: any request that got sent would fail as a Backend error.
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("k", "s", None, None, "test"))
        .endpoint_url("http://127.0.0.1:9")
        .force_path_style(true)
        .build();
    let repo = S3SessionRepository::new(aws_sdk_s3::Client::from_conf(config), "b", "p");
    let invalid = |error: SessionError, kind: &str| {
        assert!(
            matches!(&error, SessionError::InvalidId { kind: k, .. } if *k == kind),
            "{error}"
        );
    };
    for bad in ["", ".", "..", "../etc", "a/b", "a\\b", "nul\0"] {
        invalid(
            repo.create_session(&Session::new(bad)).await.unwrap_err(),
            "session",
        );
        invalid(repo.read_session(bad).await.unwrap_err(), "session");
        invalid(
            repo.create_agent(bad, &agent("a")).await.unwrap_err(),
            "session",
        );
        invalid(
            repo.create_agent("s", &agent(bad)).await.unwrap_err(),
            "agent",
        );
        invalid(repo.read_agent("s", bad).await.unwrap_err(), "agent");
        invalid(
            repo.update_agent("s", &agent(bad)).await.unwrap_err(),
            "agent",
        );
        invalid(
            repo.create_message("s", bad, &message(0))
                .await
                .unwrap_err(),
            "agent",
        );
        invalid(repo.read_message(bad, "a", 0).await.unwrap_err(), "session");
        invalid(
            repo.update_message("s", bad, &message(0))
                .await
                .unwrap_err(),
            "agent",
        );
        invalid(
            repo.list_messages("s", bad, None, 0).await.unwrap_err(),
            "agent",
        );
    }
    // And a valid id does reach the (absent) endpoint.
    let error = repo.read_session("ok").await.unwrap_err();
    assert!(matches!(error, SessionError::Backend { .. }), "{error}");
    assert!(error.to_string().contains("could not reach"), "{error}");
}

#[tokio::test]
async fn a_missing_bucket_is_a_backend_error_naming_it() {
    let Some(ms) = ministack(TEST) else { return };
    let missing = format!("no-such-bucket-{}", uuid::Uuid::new_v4());
    let repo = S3SessionRepository::new(root(&ms).await, &missing, "p");
    let errors = [
        repo.read_session("s").await.unwrap_err(),
        repo.create_session(&Session::new("s")).await.unwrap_err(),
        repo.create_agent("s", &agent("a")).await.unwrap_err(),
        repo.list_messages("s", "a", None, 0).await.unwrap_err(),
    ];
    for error in errors {
        assert!(matches!(error, SessionError::Backend { .. }), "{error}");
        let text = error.to_string();
        assert!(text.contains(&missing), "{text}");
        assert!(text.contains("does not exist"), "{text}");
        assert!(std::error::Error::source(&error).is_some());
    }
}

#[tokio::test]
async fn denied_access_names_the_permission_to_grant() {
    let Some(ms) = ministack(TEST) else { return };
    let bucket = bucket(&ms).await;
    let client = s3(&ms.endpoint, &ms.no_access.0, &ms.no_access.1).await;
    let repo = S3SessionRepository::new(client, &bucket, "");
    let cases = [
        (repo.read_session("s").await.unwrap_err(), "s3:GetObject"),
        // HeadObject: a bodiless 403.
        (
            repo.create_session(&Session::new("s")).await.unwrap_err(),
            "s3:GetObject",
        ),
        (
            repo.create_agent("s", &agent("a")).await.unwrap_err(),
            "s3:PutObject",
        ),
        (
            repo.list_messages("s", "a", None, 0).await.unwrap_err(),
            "s3:ListBucket",
        ),
    ];
    for (error, permission) in cases {
        assert!(matches!(error, SessionError::Backend { .. }), "{error}");
        let text = error.to_string();
        assert!(text.contains("denied"), "{text}");
        assert!(text.contains(permission), "{text}");
        assert!(text.contains(&format!("arn:aws:s3:::{bucket}")), "{text}");
    }
}

#[tokio::test]
async fn a_document_that_is_not_json_is_a_json_error() {
    let Some(ms) = ministack(TEST) else { return };
    let bucket = bucket(&ms).await;
    let repo = S3SessionRepository::new(root(&ms).await, &bucket, "p");
    put(&ms, &bucket, "p/session_s/session.json", "not json").await;
    let error = repo.read_session("s").await.unwrap_err();
    assert!(
        matches!(&error, SessionError::Json { location, .. } if location == &format!("s3://{bucket}/p/session_s/session.json")),
        "{error}"
    );

    // In a listing, too; keys that are not `message_<n>.json` are ignored.
    repo.create_message("s", "a", &message(0)).await.unwrap();
    put(
        &ms,
        &bucket,
        "p/session_s/agents/agent_a/messages/notes.txt",
        "x",
    )
    .await;
    assert_eq!(
        ids(&repo.list_messages("s", "a", None, 0).await.unwrap()),
        [0]
    );
    put(
        &ms,
        &bucket,
        "p/session_s/agents/agent_a/messages/message_1.json",
        "{\"message_id\": 1",
    )
    .await;
    let error = repo.list_messages("s", "a", None, 0).await.unwrap_err();
    assert!(matches!(error, SessionError::Json { .. }), "{error}");
    // Valid JSON of the wrong shape is a Json error as well.
    put(
        &ms,
        &bucket,
        "p/session_s/agents/agent_a/agent.json",
        "{\"agent_id\": 7}",
    )
    .await;
    let error = repo.read_agent("s", "a").await.unwrap_err();
    assert!(matches!(error, SessionError::Json { .. }), "{error}");
}

#[tokio::test]
async fn an_agent_persists_and_restores_its_conversation_through_s3() {
    use strands_agent::Agent;
    use strands_agent::session::SessionManager;
    use strands_testkit::ScriptedModel;

    let Some(ms) = ministack(TEST) else { return };
    let bucket = bucket(&ms).await;
    let repo = S3SessionRepository::new(root(&ms).await, &bucket, "agents");

    let mut agent = Agent::builder()
        .model(ScriptedModel::builder().text("Hello!").build())
        .session_manager(SessionManager::new("user-42", repo.clone()).unwrap())
        .build()
        .unwrap();
    agent.invoke("hi").await.unwrap();

    let stored = repo
        .list_messages("user-42", "default", None, 0)
        .await
        .unwrap();
    assert_eq!(ids(&stored), [0, 1]);
    assert_eq!(turn(&stored[0].message), turn(&Message::user("hi")));
    assert_eq!(
        turn(&stored[1].message),
        turn(&Message::assistant("Hello!"))
    );
    assert!(
        keys(&ms, &bucket)
            .await
            .contains("agents/session_user-42/agents/agent_default/agent.json")
    );

    // A new agent (a new process, say) on the same session continues the conversation.
    let mut restored = Agent::builder()
        .model(ScriptedModel::builder().text("Welcome back").build())
        .session_manager(SessionManager::new("user-42", repo.clone()).unwrap())
        .build()
        .unwrap();
    restored.load_session().await.unwrap();
    assert_eq!(restored.messages(), agent.messages());
    assert_eq!(restored.messages().len(), 2);
    restored.invoke("back again").await.unwrap();
    let stored = repo
        .list_messages("user-42", "default", None, 0)
        .await
        .unwrap();
    assert_eq!(ids(&stored), [0, 1, 2, 3]);
    assert_eq!(turn(&stored[2].message), turn(&Message::user("back again")));
    assert_eq!(
        turn(&stored[3].message),
        turn(&Message::assistant("Welcome back"))
    );
}

/// A message's role and content (the agent adds tracking ids).
fn turn(message: &Message) -> String {
    serde_json::json!({"role": message.role, "content": message.content}).to_string()
}
