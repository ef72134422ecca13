//! The A2A server against the real Python clients (`python/clients.py`): a2a-sdk 0.3's client
//! and Python Strands 1.62's `A2AAgent`, which Strands agents use to call remote agents. Needs
//! the interpreter from `scripts/python-a2a` in `STRANDS_A2A_PYTHON` (`scripts/test` sets it);
//! skipped otherwise unless `STRANDS_REQUIRE_PYTHON` is set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test helpers fail loudly and say when they skip"
)]

mod common;

use std::path::Path;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_a2a::A2AServer;
use strands_agent::{Agent, InterruptRaised, tool};
use strands_core::ToolContext;
use strands_testkit::ScriptedModel;

/// Serves `server` on a free local port; returns its base URL.
async fn serve(build: impl FnOnce(String) -> A2AServer) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let router = build(url.clone()).router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

async fn run_clients(python: &str, url: &str, scenario: &str) -> Value {
    let dir = std::env::temp_dir().join(format!("a2a-{}-{scenario}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = dir.join("out.json");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/clients.py");
    let status = tokio::process::Command::new(python)
        .arg(script)
        .arg(url.trim_end_matches('/'))
        .arg(scenario)
        .arg(&output)
        .status()
        .await
        .unwrap();
    assert!(status.success(), "the Python clients failed: {status}");
    serde_json::from_str(&std::fs::read_to_string(output).unwrap()).unwrap()
}

fn answering() -> Result<Agent, strands_agent::BuildError> {
    let mut model = ScriptedModel::builder();
    for _ in 0..4 {
        model = model.text("2 + 2 = 4");
    }
    Agent::builder()
        .name("Calculator")
        .description("Answers arithmetic questions.")
        .model(model.build())
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_a2a_clients_talk_to_the_rust_server() {
    let Some(python) = common::python() else {
        return;
    };
    let url = serve(|url| A2AServer::builder(answering).url(url).build().unwrap()).await;
    let out = run_clients(&python, &url, "plain").await;

    let card = &out["card"];
    assert_eq!(card["name"], "Calculator");
    assert_eq!(card["protocolVersion"], "0.3.0");
    assert_eq!(card["url"], url.as_str());
    for streaming in ["false", "true"] {
        let run = &out[format!("sdk_streaming_{streaming}")];
        let task = &run["task"];
        assert_eq!(task["state"], "completed", "streaming={streaming}");
        assert_eq!(task["artifacts"], json!([["2 + 2 = 4\n"]]));
        assert_eq!(task["history"][0], json!(["user", ["What is 2+2?"]]));
        assert_eq!(task["history"][1], json!(["agent", ["2 + 2 = 4"]]));
        let follow_up = &run["follow_up"];
        assert_eq!(
            follow_up["context_id"], task["context_id"],
            "same conversation"
        );
        assert_ne!(follow_up["id"], task["id"], "a new task");
        assert_eq!(follow_up["state"], "completed");
        assert_eq!(run["get_task"]["history"].as_array().unwrap().len(), 1);
        assert!(
            run["cancel_completed"]
                .as_str()
                .unwrap()
                .contains("Task cannot be canceled"),
            "{}",
            run["cancel_completed"]
        );
    }
    assert_eq!(out["strands_invoke"]["stop_reason"], "end_turn");
    assert!(
        out["strands_invoke"]["text"]
            .as_str()
            .unwrap()
            .contains("2 + 2 = 4")
    );
    assert_eq!(out["strands_stream"]["stop_reason"], "end_turn");
}

/// Publish a document once a human approved it.
#[tool]
#[allow(
    clippy::needless_pass_by_value,
    reason = "tool arguments arrive by value"
)]
fn publish(title: String, context: ToolContext) -> Result<String, InterruptRaised> {
    let answer = context.interrupt("approve", json!({"action": "publish", "title": title}))?;
    Ok(format!("published {title} ({answer})"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_reaches_the_python_client_and_its_answer_resumes_the_task() {
    let Some(python) = common::python() else {
        return;
    };
    let url = serve(|url| {
        A2AServer::builder(|| {
            Agent::builder()
                .name("Publisher")
                .description("Publishes documents.")
                .tool(publish)
                .model(
                    ScriptedModel::builder()
                        .tool_use("p1", "publish", r#"{"title": "Moon"}"#)
                        .text("Published.")
                        .build(),
                )
                .build()
        })
        .url(url)
        .build()
        .unwrap()
    })
    .await;
    let out = run_clients(&python, &url, "interrupt").await;
    assert_eq!(out["paused"]["state"], "input-required");
    let message = &out["paused_message"];
    assert_eq!(
        message["texts"],
        json!(["Agent requires input:\n- approve: {'action': 'publish', 'title': 'Moon'}"])
    );
    let interrupt = &message["data"][0]["interrupts"][0];
    assert_eq!(interrupt["name"], "approve");
    assert_eq!(
        interrupt["interruptId"],
        strands_core::Interrupt::id_for("tool_call", "p1", "approve")
    );
    let resumed = &out["resumed"];
    assert_eq!(resumed["state"], "completed");
    assert_eq!(resumed["id"], out["paused"]["id"], "the same task");
    assert_eq!(resumed["artifacts"], json!([["Published.\n"]]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_agent_fails_its_task_for_the_python_client() {
    let Some(python) = common::python() else {
        return;
    };
    let url = serve(|url| {
        A2AServer::builder(|| {
            Agent::builder()
                .name("Broken")
                .description("Always fails.")
                .model(ScriptedModel::new([strands_testkit::Step::Fail(
                    "the model is down".to_owned(),
                )]))
                .build()
        })
        .url(url)
        .build()
        .unwrap()
    })
    .await;
    let out = run_clients(&python, &url, "failing").await;
    for streaming in ["false", "true"] {
        let task = &out[format!("streaming_{streaming}")];
        assert_eq!(task["state"], "failed", "streaming={streaming}");
        assert_eq!(task["status_texts"], json!(["Agent execution failed"]));
        assert_eq!(task["artifacts"], json!([]));
    }
}
