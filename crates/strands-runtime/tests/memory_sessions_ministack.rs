//! `MemorySessionRepository` against MiniStack's AgentCore Memory data plane with SigV4 and IAM
//! on (started by `scripts/ministack`, which `scripts/test` runs): a conversation written by our
//! agent is restored and continued by Python's `AgentCoreMemorySessionManager` (bedrock-agentcore
//! 1.25, the interpreter `scripts/memory-python` prints, in `STRANDS_MEMORY_PYTHON`), then read
//! again by ours; the events are Python's; denial and a missing memory are clear errors that lose
//! nothing already stored.
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

use std::collections::HashMap;
use std::process::Command;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_sdk_bedrockagentcore::types::{Content, PayloadType};
use ministack::{MiniStack, ministack};
use serde_json::{Value, json};
use strands_agent::Agent;
use strands_agent::session::SessionManager;
use strands_agent::tools::FunctionTool;
use strands_aws::{AgentCoreMemory, MemorySessionRepository};
use strands_core::session::{SessionError, SessionRepository};
use strands_testkit::ScriptedModel;

const TEST: &str = "memory_sessions_ministack";

/// An AgentCore data-plane client for MiniStack signed with `key`.
async fn client(ms: &MiniStack, key: &(String, String)) -> aws_sdk_bedrockagentcore::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new(&key.0, &key.1, None, None, "test"))
        .endpoint_url(&ms.endpoint)
        .load()
        .await;
    aws_sdk_bedrockagentcore::Client::new(&config)
}

/// The memory MiniStack's bootstrap created, reached as the memory user.
async fn memory(ms: &MiniStack) -> AgentCoreMemory {
    AgentCoreMemory::new(client(ms, &ms.memory_user).await, &ms.memory_id).unwrap()
}

/// A session id of the shape AgentCore gives (a UUID).
fn session_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct City {
    city: String,
}

fn agent(repository: MemorySessionRepository, session: &str, model: ScriptedModel) -> Agent {
    let weather = FunctionTool::new(
        "get_weather",
        "The weather in a city.",
        |args: City| async move { format!("Sunny in {}", args.city) },
    );
    Agent::builder()
        .model(model)
        .tool(weather)
        .session_manager(SessionManager::new(session, repository).unwrap())
        .build()
        .unwrap()
}

/// A message's role and content as JSON (the agent adds tracking ids and metadata).
fn turns(messages: &[strands_core::Message]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| json!({"role": m.role, "content": m.content}))
        .collect()
}

/// An error and its sources, joined.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The interpreter with bedrock-agentcore and Strands, or `None` (skipped) outside CI.
fn memory_python() -> Option<String> {
    match std::env::var("STRANDS_MEMORY_PYTHON") {
        Ok(python) if !python.is_empty() => Some(python),
        _ => {
            assert!(
                std::env::var_os("STRANDS_REQUIRE_PYTHON").is_none(),
                "STRANDS_REQUIRE_PYTHON is set but STRANDS_MEMORY_PYTHON is not; run scripts/memory-python"
            );
            eprintln!(
                "skipping: set STRANDS_MEMORY_PYTHON to the interpreter from scripts/memory-python"
            );
            None
        }
    }
}

/// Runs Python's agent on the session: it restores, is asked `prompt` and answers `reply`.
fn python_continues(
    python: &str,
    ms: &MiniStack,
    actor: &str,
    session: &str,
    prompt: &str,
    reply: &str,
) -> Value {
    python_agent(python, ms, [actor, session, prompt, reply], None)
}

/// Runs Python's agent with `args` (actor, session, prompt, reply) and, if given, its
/// `retrieval_config`.
fn python_agent(python: &str, ms: &MiniStack, args: [&str; 4], retrieval: Option<&Value>) -> Value {
    let [actor, session, prompt, reply] = args;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/memory/python_memory_agent.py"
    );
    let output = Command::new(python)
        .arg(script)
        .args([ms.memory_id.as_str(), actor, session, prompt, reply])
        .args(retrieval.map(Value::to_string))
        .env("AWS_ENDPOINT_URL", &ms.endpoint)
        .env("AWS_ACCESS_KEY_ID", &ms.memory_user.0)
        .env("AWS_SECRET_ACCESS_KEY", &ms.memory_user.1)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn a_conversation_moves_to_python_and_back() {
    let Some(ms) = ministack(TEST) else { return };
    let Some(python) = memory_python() else {
        return;
    };
    let memory = memory(&ms).await;
    let session = session_id();

    // Ours: a tool turn with non-ASCII text.
    let model = ScriptedModel::builder()
        .tool_use("tooluse_1", "get_weather", r#"{"city": "Zürich"}"#)
        .text("It is sunny in Zürich ☀")
        .build();
    let mut ours = agent(memory.for_actor("user-1").unwrap(), &session, model);
    ours.invoke("Weather in Zürich?").await.unwrap();
    assert_eq!(ours.messages().len(), 4);

    // Python restores exactly our history and continues it.
    let python_view = python_continues(&python, &ms, "user-1", &session, "And tomorrow?", "Rain.");
    assert_eq!(python_view["restored"], json!(turns(ours.messages())));
    let after = python_view["after"].as_array().unwrap();
    assert_eq!(after.len(), 6);
    assert_eq!(
        after[4],
        json!({"role": "user", "content": [{"text": "And tomorrow?"}]})
    );
    assert_eq!(
        after[5],
        json!({"role": "assistant", "content": [{"text": "Rain."}]})
    );

    // Ours restores what Python left, in order, and goes on.
    let model = ScriptedModel::builder().text("Snow on Sunday.").build();
    let mut again = agent(memory.for_actor("user-1").unwrap(), &session, model);
    again.load_session().await.unwrap();
    assert_eq!(json!(turns(again.messages())), python_view["after"]);
    again.invoke("And Sunday?").await.unwrap();
    assert_eq!(again.messages().len(), 8);

    // Another actor sees none of it: one process serves many users.
    let model = ScriptedModel::builder().text("Hello").build();
    let mut stranger = agent(memory.for_actor("user-2").unwrap(), &session, model);
    stranger.load_session().await.unwrap();
    assert!(stranger.messages().is_empty());
}

/// The JSON keys of an event's message record, in order, at every level (values differ: times,
/// tracking ids).
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Array(
            map.iter()
                .map(|(key, value)| json!([key, shape(value)]))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        _ => Value::Null,
    }
}

#[tokio::test]
async fn our_events_have_the_shape_of_pythons() {
    let Some(ms) = ministack(TEST) else { return };
    let Some(python) = memory_python() else {
        return;
    };
    let memory = memory(&ms).await;
    // The same turn, written once by each stack into its own session.
    let ours = session_id();
    let model = ScriptedModel::builder().text("Rain.").build();
    agent(memory.for_actor("user-1").unwrap(), &ours, model)
        .invoke("And tomorrow?")
        .await
        .unwrap();
    let theirs = session_id();
    python_continues(&python, &ms, "user-1", &theirs, "And tomorrow?", "Rain.");

    let events = |session: String| {
        let client = memory.client().clone();
        let memory_id = ms.memory_id.clone();
        async move {
            let listed = client
                .list_events()
                .memory_id(memory_id)
                .actor_id("user-1")
                .session_id(session)
                .include_payloads(true)
                .max_results(100)
                .send()
                .await
                .unwrap();
            let mut events = listed.events().to_vec();
            events.reverse(); // oldest first
            events
                .iter()
                .map(|event| {
                    let payload = event
                        .payload()
                        .iter()
                        .map(|item| match item {
                            PayloadType::Conversational(c) => {
                                let Some(Content::Text(text)) = c.content() else {
                                    panic!("no text")
                                };
                                let record: Value = serde_json::from_str(text).unwrap();
                                json!({"conversational": shape(&record), "role": c.role().as_str()})
                            }
                            PayloadType::Blob(blob) => {
                                let aws_smithy_types::Document::String(text) = blob else {
                                    panic!("blob is not a string: {blob:?}")
                                };
                                json!({"blob": shape(&serde_json::from_str(text).unwrap())})
                            }
                            other => panic!("unexpected payload {other:?}"),
                        })
                        .collect::<Vec<_>>();
                    let mut metadata: Vec<_> = event
                        .metadata()
                        .into_iter()
                        .flatten()
                        .map(|(key, value)| format!("{key}={:?}", value.as_string_value().ok()))
                        .filter(|entry| !entry.starts_with("agentId="))
                        .collect();
                    metadata.sort();
                    json!({"payload": payload, "metadata": metadata})
                })
                .collect::<Vec<_>>()
        }
    };
    // Python also writes an unchanged agent snapshot again after the user message; ours writes
    // one only when something in it changed. Each kind of event has the same shape.
    let distinct = |events: Vec<Value>| {
        let mut seen = Vec::new();
        for event in events {
            if !seen.contains(&event) {
                seen.push(event);
            }
        }
        seen
    };
    let (ours, theirs) = (events(ours).await, events(theirs).await);
    assert_eq!(theirs.len(), ours.len() + 1, "{theirs:#?}");
    pretty_assertions::assert_eq!(distinct(ours), distinct(theirs));
}

#[tokio::test]
async fn a_denied_caller_is_told_the_permission_and_nothing_stored_is_lost() {
    let Some(ms) = ministack(TEST) else { return };
    let session = session_id();
    let model = ScriptedModel::builder().text("Hi").build();
    let mut first = agent(
        memory(&ms).await.for_actor("user-1").unwrap(),
        &session,
        model,
    );
    first.invoke("Hello").await.unwrap();

    let denied = AgentCoreMemory::new(client(&ms, &ms.no_access).await, &ms.memory_id)
        .unwrap()
        .for_actor("user-1")
        .unwrap();
    let model = ScriptedModel::builder().text("never").build();
    let mut blocked = agent(denied, &session, model);
    let error = chain(&blocked.invoke("Again").await.unwrap_err());
    assert!(
        error.contains("was denied") && error.contains("bedrock-agentcore:ListEvents"),
        "{error}"
    );
    assert!(blocked.messages().is_empty());

    let stored = memory(&ms)
        .await
        .for_actor("user-1")
        .unwrap()
        .list_messages(&session, "default", None, 0)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
}

#[tokio::test]
async fn a_missing_memory_says_so() {
    let Some(ms) = ministack(TEST) else { return };
    let missing = AgentCoreMemory::new(client(&ms, &ms.memory_user).await, "missing-0123456789")
        .unwrap()
        .for_actor("user-1")
        .unwrap();
    let error = missing.read_session(&session_id()).await.unwrap_err();
    assert!(matches!(error, SessionError::Backend { .. }), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("the memory does not exist") && text.contains("missing-0123456789"),
        "{text}"
    );
}

#[tokio::test]
async fn ids_outside_agentcores_patterns_are_refused_before_any_request() {
    // No MiniStack needed: nothing is sent.
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("k", "s", None, None, "test"))
        .endpoint_url("http://127.0.0.1:9")
        .load()
        .await;
    let memory = AgentCoreMemory::new(
        aws_sdk_bedrockagentcore::Client::new(&config),
        "m-0123456789",
    )
    .unwrap();
    for actor in ["", "-lead", "a b", "../x", &"a".repeat(256)] {
        let error = memory.for_actor(actor).unwrap_err();
        assert!(
            matches!(error, SessionError::InvalidId { kind: "actor", .. }),
            "{error}"
        );
    }
    let repository = memory.for_actor("user/42").unwrap();
    for session in ["", "_x", "a/b", "a.b", &"s".repeat(101)] {
        let error = repository.read_session(session).await.unwrap_err();
        assert!(
            matches!(
                error,
                SessionError::InvalidId {
                    kind: "session",
                    ..
                }
            ),
            "{error}"
        );
    }
}

/// The binary serving an agent file whose sessions are in AgentCore Memory, against a fake
/// Bedrock signed with the memory user's key.
async fn serve_memory_agent(
    ms: &MiniStack,
    fake: &strands_testkit::bedrock::FakeBedrock,
    dir: &std::path::Path,
) -> strands_testkit::served::ServedBinary {
    let agent = dir.join("agent.json");
    std::fs::write(
        &agent,
        json!({
            "model": "us.amazon.nova-lite-v1:0",
            "session": {"storage": "agentcore_memory", "actor_from_payload": "actor_id"}
        })
        .to_string(),
    )
    .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_strands-runtime"));
    command
        .env_clear()
        .env("HOME", dir)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", &ms.memory_user.0)
        .env("AWS_SECRET_ACCESS_KEY", &ms.memory_user.1)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.endpoint_url())
        .env("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", &ms.endpoint)
        .env("BEDROCK_AGENTCORE_MEMORY_ID", &ms.memory_id)
        .env("LOG_LEVEL", common::trace_logs::level())
        .args(["serve", "--agent"])
        .arg(&agent)
        .stdout(std::process::Stdio::null())
        .stderr(common::trace_logs::stderr(TEST));
    strands_testkit::served::ServedBinary::start(command)
        .await
        .unwrap()
}

async fn ask(
    served: &strands_testkit::served::ServedBinary,
    session: &str,
    user: Option<&str>,
    body: Value,
) -> Value {
    let mut request = reqwest::Client::new()
        .post(served.url("/invocations"))
        .header("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", session)
        .body(body.to_string());
    if let Some(user) = user {
        request = request.header("X-Amzn-Bedrock-AgentCore-Runtime-User-Id", user);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_served_agent_file_keeps_each_callers_conversation_in_memory() {
    use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};
    let Some(ms) = ministack(TEST) else { return };
    let fake = FakeBedrock::start(FakeAuth::sigv4(&ms.memory_user.0, &ms.memory_user.1))
        .await
        .unwrap();
    for reply in ["Hello Alice.", "Hello Bob.", "Welcome back, Alice."] {
        fake.push(Reply::Stream(frames::text_turn(&[reply], "end_turn")));
    }
    let session = session_id();
    let dir = std::env::temp_dir().join(format!("strands-memory-{session}"));
    std::fs::create_dir_all(&dir).unwrap();

    // Two callers on one session id: the user id header, and the payload's actor field.
    let served = serve_memory_agent(&ms, &fake, &dir).await;
    let alice = ask(
        &served,
        &session,
        Some("alice"),
        json!({"prompt": "I am Alice"}),
    )
    .await;
    assert_eq!(alice["result"], "Hello Alice.\n");
    let bob = ask(
        &served,
        &session,
        None,
        json!({"prompt": "I am Bob", "actor_id": "bob"}),
    )
    .await;
    assert_eq!(bob["result"], "Hello Bob.\n");
    assert_eq!(
        fake.requests()[1].body["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    drop(served);

    // A new microVM: Alice's conversation comes back from Memory, Bob's stays his.
    let served = serve_memory_agent(&ms, &fake, &dir).await;
    ask(
        &served,
        &session,
        Some("alice"),
        json!({"prompt": "Who am I?"}),
    )
    .await;
    let requests = fake.requests();
    let texts: Vec<&str> = requests[2].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["I am Alice", "Hello Alice.", "Who am I?"]);

    let memory = memory(&ms).await;
    for (actor, count) in [("alice", 4), ("bob", 2), ("default", 0)] {
        let stored = memory
            .for_actor(actor)
            .unwrap()
            .list_messages(&session, "default", None, 0)
            .await
            .unwrap();
        assert_eq!(stored.len(), count, "{actor}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Stores long-term memory records under `namespace` (what AgentCore's extraction would write).
async fn remember(ms: &MiniStack, namespace: &str, texts: &[&str]) {
    use aws_sdk_bedrockagentcore::types::{MemoryContent, MemoryRecordCreateInput};
    let root = (String::from("test"), String::from("test"));
    let mut request = client(ms, &root)
        .await
        .batch_create_memory_records()
        .memory_id(&ms.memory_id);
    for (index, text) in texts.iter().enumerate() {
        request = request.records(
            MemoryRecordCreateInput::builder()
                .request_identifier(format!("r{index}"))
                .namespaces(namespace)
                .content(MemoryContent::Text((*text).to_owned()))
                .timestamp(aws_smithy_types::DateTime::from_secs(1_790_000_000))
                .build()
                .unwrap(),
        );
    }
    let output = request.send().await.unwrap();
    assert!(output.failed_records().is_empty(), "{output:?}");
}

#[tokio::test]
async fn long_term_memory_reaches_the_model_as_in_python() {
    use strands_agent::memory::{LongTermMemory, Retrieval};
    let Some(ms) = ministack(TEST) else { return };
    let Some(python) = memory_python() else {
        return;
    };
    let actor = format!("ltm-{}", &session_id()[..8]);
    remember(
        &ms,
        &format!("/users/{actor}/facts"),
        &[
            "The user likes window seats on trains",
            "The user is a vegetarian",
            "Trains to Lyon leave hourly from Paris",
        ],
    )
    .await;
    let prompt = "Book me seats on a train to Lyon";

    // Python: retrieval_config with the namespace template.
    let config = json!({"/users/{actorId}/facts": {"top_k": 5, "relevance_score": 0.25}});
    let theirs = python_agent(
        &python,
        &ms,
        [&actor, &session_id(), prompt, "Done."],
        Some(&config),
    );

    // Ours, the same configuration.
    let memory = memory(&ms).await;
    let session = session_id();
    let model = ScriptedModel::builder().text("Done.").build();
    let ltm = LongTermMemory::new(
        std::sync::Arc::new(memory.clone()),
        actor.as_str(),
        session.as_str(),
    )
    .retrieval(
        Retrieval::new("/users/{actorId}/facts")
            .top_k(5)
            .relevance_score(0.25),
    );
    let mut ours = Agent::builder()
        .model(model)
        .session_manager(SessionManager::new(&session, memory.for_actor(&actor).unwrap()).unwrap())
        .hooks(ltm)
        .build()
        .unwrap();
    ours.invoke(prompt).await.unwrap();

    let first = ours.messages()[0].content[0].clone();
    let strands_core::ContentBlock::Text(context) = first else {
        panic!("no context block")
    };
    assert!(
        context.starts_with("<user_context>") && context.contains("window seats"),
        "{context}"
    );
    assert!(
        !context.contains("vegetarian"),
        "below the relevance score: {context}"
    );
    assert_eq!(
        json!(turns(&ours.messages()[..1])),
        json!([theirs["model_saw"][0]])
    );
    assert_eq!(json!(turns(ours.messages())), theirs["after"]);

    // Neither stack stores the context: it is fetched again for each prompt.
    let stored = memory
        .for_actor(&actor)
        .unwrap()
        .list_messages(&session, "default", None, 0)
        .await
        .unwrap();
    assert_eq!(stored[0].message.content.len(), 1);
}

#[tokio::test]
async fn a_throttled_write_is_a_clear_error_and_loses_nothing() {
    let Some(ms) = ministack(TEST) else { return };
    let memory = memory(&ms).await;
    let session = session_id();
    let model = ScriptedModel::builder()
        .text("Hi")
        .text("Back again")
        .build();
    let mut agent = agent(memory.for_actor("user-1").unwrap(), &session, model);
    agent.invoke("Hello").await.unwrap();

    // MiniStack (tests/ministack/launch.py) throttles every write holding the marker.
    let error = chain(&agent.invoke("THROTTLE-ME please").await.unwrap_err());
    assert!(
        error.contains("was throttled") && error.contains("ThrottlingException"),
        "{error}"
    );
    assert_eq!(
        agent.messages().len(),
        2,
        "the unstored prompt did not join the history"
    );

    // The conversation goes on, and what is stored is what the agent holds.
    agent.invoke("Hello again").await.unwrap();
    let stored = memory
        .for_actor("user-1")
        .unwrap()
        .list_messages(&session, "default", None, 0)
        .await
        .unwrap();
    let stored: Vec<_> = stored.iter().map(|m| m.message.clone()).collect();
    assert_eq!(json!(turns(&stored)), json!(turns(agent.messages())));
    assert_eq!(stored.len(), 4);
}

/// The session's message events (no state metadata), as payload counts, oldest first.
async fn message_events(ms: &MiniStack, actor: &str, session: &str) -> Vec<usize> {
    let listed = client(ms, &ms.memory_user)
        .await
        .list_events()
        .memory_id(&ms.memory_id)
        .actor_id(actor)
        .session_id(session)
        .include_payloads(true)
        .send()
        .await
        .unwrap();
    let mut events: Vec<_> = listed
        .events()
        .iter()
        .filter(|event| event.metadata().is_none_or(HashMap::is_empty))
        .map(|event| (*event.event_timestamp(), event.payload().len()))
        .collect();
    events.sort_by_key(|(at, _)| *at);
    events.into_iter().map(|(_, payloads)| payloads).collect()
}

#[tokio::test]
async fn batched_messages_are_one_event_python_reads_and_a_failed_flush_is_retried() {
    let Some(ms) = ministack(TEST) else { return };
    let Some(python) = memory_python() else {
        return;
    };
    let memory = memory(&ms).await;
    let session = session_id();
    let model = ScriptedModel::builder()
        .tool_use("tooluse_1", "get_weather", r#"{"city": "Oslo"}"#)
        .text("Sunny in Oslo.")
        .text("Still sunny.")
        .text("Noted.")
        .build();
    let repository = memory.for_actor("batcher").unwrap().with_batch_size(10);
    let mut ours = agent(repository, &session, model);

    // A tool turn: four messages, written together at the end of the invocation.
    ours.invoke("Weather in Oslo?").await.unwrap();
    assert_eq!(message_events(&ms, "batcher", &session).await, [4]);

    // Python's manager reads the batched event (its own batch format) and continues.
    let python_view = python_continues(&python, &ms, "batcher", &session, "Tomorrow?", "Rain.");
    assert_eq!(python_view["restored"], json!(turns(ours.messages())));

    // A flush throttled past the SDK's retries fails the invocation and keeps the messages; the
    // next invocation writes them first, in order.
    let model = ScriptedModel::builder()
        .text("Still sunny.")
        .text("Noted.")
        .build();
    let repository = memory.for_actor("batcher").unwrap().with_batch_size(10);
    let mut again = agent(repository, &session, model);
    again.load_session().await.unwrap();
    assert_eq!(json!(turns(again.messages())), python_view["after"]);
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let burst = format!("THROTTLE-5X-{tag} is it still sunny?");
    let error = chain(&again.invoke(burst.as_str()).await.unwrap_err());
    assert!(error.contains("was throttled"), "{error}");
    assert_eq!(again.messages().len(), 8, "the agent keeps the turn");
    again.invoke("Thanks").await.unwrap();

    let stored = memory
        .for_actor("batcher")
        .unwrap()
        .list_messages(&session, "default", None, 0)
        .await
        .unwrap();
    let stored: Vec<_> = stored.iter().map(|m| m.message.clone()).collect();
    assert_eq!(
        json!(turns(&stored)),
        json!(turns(again.messages())),
        "nothing lost, in order"
    );
    assert_eq!(stored.len(), 10);
    assert_eq!(message_events(&ms, "batcher", &session).await, [4, 1, 1, 4]);
}
