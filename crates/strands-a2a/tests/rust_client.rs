//! The A2A client (`A2AAgent` and the `a2a_client` tool) against Python Strands 1.62's
//! `A2AServer` (`python/servers.py`), and next to Python's own `a2a_client` tool on the same
//! servers: both tools must give the model the same spec and the same results. Needs
//! `STRANDS_A2A_PYTHON` (see `common`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test helpers fail loudly and say when they skip"
)]

mod common;

use std::path::Path;
use std::process::Stdio;

use futures_util::StreamExt;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_a2a::{A2AAgent, A2AClientTool, A2AEvent, A2AServer, A2AStreamEvent};
use strands_agent::Agent;
use strands_core::{StopReason, Tool, ToolContext, ToolUse};
use strands_testkit::ScriptedModel;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Python's servers, running until dropped; what Python's tool got from them.
struct PythonServers {
    _child: tokio::process::Child,
    out: Value,
}

impl PythonServers {
    fn url(&self, agent: &str) -> String {
        self.out["urls"][agent].as_str().unwrap().to_owned()
    }
}

async fn python_servers(python: &str) -> PythonServers {
    // Three ports in a row from a free one; the servers take port, port + 1 and port + 2.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile_dir("rust-client");
    let output = dir.join("python.json");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/servers.py");
    let mut child = tokio::process::Command::new(python)
        .arg(script)
        .arg(port.to_string())
        .arg(&output)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line()).await;
    assert_eq!(
        ready.unwrap().unwrap().as_deref(),
        Some("ready"),
        "the Python servers did not start"
    );
    let out = serde_json::from_str(&std::fs::read_to_string(output).unwrap()).unwrap();
    PythonServers { _child: child, out }
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("a2a-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn call(tool: &dyn Tool, input: Value) -> Value {
    let tool_use = ToolUse::new("t1", tool.name(), input);
    let mut stream = tool.stream(tool_use, ToolContext::default());
    let mut result = None;
    while let Some(event) = stream.next().await {
        if let strands_core::ToolEvent::Result(r) = event {
            result = Some(r);
        }
    }
    json!(result.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_a2a_client_tool_gets_what_pythons_gets_from_python_servers() {
    let Some(python) = common::python() else {
        return;
    };
    let servers = python_servers(&python).await;
    let (calculator, broken, publisher) = (
        servers.url("calculator"),
        servers.url("broken"),
        servers.url("publisher"),
    );
    let tool = A2AClientTool::builder()
        .endpoint(&calculator)
        .endpoint(&broken)
        .endpoint(&publisher)
        .build()
        .unwrap();
    assert_eq!(json!(tool.spec()), servers.out["spec"]);

    let calls = [
        (
            "discover",
            json!({"operation": "discover", "endpoint": calculator}),
        ),
        (
            "send",
            json!({"operation": "send_message", "endpoint": calculator, "message": "What is 2+2?"}),
        ),
        (
            "send_failing",
            json!({"operation": "send_message", "endpoint": broken, "message": "Hi"}),
        ),
        (
            "send_interrupting",
            json!({"operation": "send_message", "endpoint": publisher, "message": "Publish Moon"}),
        ),
        (
            "send_without_message",
            json!({"operation": "send_message", "endpoint": calculator}),
        ),
        (
            "not_allowed",
            json!({"operation": "discover", "endpoint": "http://127.0.0.1:9/"}),
        ),
    ];
    for (name, input) in calls {
        let ours = call(&tool, input).await;
        assert_eq!(ours, servers.out["results"][name], "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a2a_agent_reads_python_servers_answers_as_pythons_a2a_agent_does() {
    let Some(python) = common::python() else {
        return;
    };
    let servers = python_servers(&python).await;

    let calculator = A2AAgent::new(servers.url("calculator"));
    assert_eq!(calculator.card().await.unwrap().name, "Calculator");
    let mut kinds = Vec::new();
    let mut result = None;
    let mut stream = std::pin::pin!(calculator.stream("What is 2+2?"));
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            A2AStreamEvent::Event(event) => kinds.push(match *event {
                A2AEvent::Task(_) => "task",
                A2AEvent::Status(_) => "status",
                A2AEvent::Artifact(_) => "artifact",
                A2AEvent::Message(_) => "message",
                _ => "other",
            }),
            A2AStreamEvent::Result(r) => result = Some(r),
            _ => {}
        }
    }
    // Strands' default streaming: the task, a working status per chunk, the answer, done.
    assert_eq!(kinds, ["task", "status", "artifact", "status"]);
    let result = result.unwrap();
    assert_eq!(result.stop_reason, StopReason::EndTurn);
    assert_eq!(result.to_string(), "2 + 2 = 4\n\n");
    assert_eq!(
        result.task_state,
        Some(strands_a2a::types::TaskState::Completed)
    );

    let paused = A2AAgent::new(servers.url("publisher"))
        .invoke("Publish Moon")
        .await
        .unwrap();
    assert_eq!(paused.stop_reason, StopReason::Interrupt);
    assert_eq!(
        paused.task_state,
        Some(strands_a2a::types::TaskState::InputRequired)
    );

    let failed = A2AAgent::new(servers.url("broken"))
        .invoke("Hi")
        .await
        .unwrap();
    assert_eq!(failed.stop_reason, StopReason::EndTurn);
    assert_eq!(
        failed.task_state,
        Some(strands_a2a::types::TaskState::Failed)
    );
    assert_eq!(failed.to_string(), "Agent execution failed\n");

    let nowhere = A2AAgent::new("http://127.0.0.1:9/").invoke("Hi").await;
    assert!(
        matches!(nowhere, Err(strands_a2a::A2AClientError::Network(_))),
        "{nowhere:?}"
    );
}

/// An agent calls a remote agent (a Rust A2A server) through the tool, and answers with what
/// it said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_calls_a_remote_agent_through_the_tool() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let remote = A2AServer::builder(|| {
        Agent::builder()
            .name("Calculator")
            .description("Answers arithmetic questions.")
            .model(ScriptedModel::builder().text("4").build())
            .build()
    })
    .url(&url)
    .build()
    .unwrap();
    tokio::spawn(async move { axum::serve(listener, remote.router()).await });

    let input = json!({"operation": "send_message", "endpoint": url, "message": "2+2?"});
    let model = ScriptedModel::builder()
        .tool_use("a1", "a2a_client", &input.to_string())
        .text("The calculator says 4.")
        .build();
    let model = std::sync::Arc::new(model);
    let mut agent = Agent::builder()
        .model(model.clone())
        .tool(A2AClientTool::builder().endpoint(&url).build().unwrap())
        .build()
        .unwrap();
    let result = agent.invoke("Ask the calculator").await.unwrap();
    assert_eq!(result.text(), "The calculator says 4.\n");
    let requests = model.requests();
    let tool_result = &json!(requests[1].messages[2].content[0]);
    assert_eq!(tool_result["toolResult"]["status"], "success");
    assert_eq!(
        tool_result["toolResult"]["content"][0]["text"],
        r#"{"message": {"role": "assistant", "content": [{"text": "4\n"}]}}"#
    );
}
