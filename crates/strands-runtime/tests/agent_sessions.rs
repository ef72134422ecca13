//! The default entrypoint: one Strands agent per runtime session, JSON or streamed answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Server, post, raw};
use pretty_assertions::assert_eq;
use strands_agent::Agent;
use strands_runtime::{AgentCoreApp, AgentEntrypoint};
use strands_testkit::ScriptedModel;
use strands_testkit::canned::python_baseline;

fn entrypoint(model: Arc<ScriptedModel>) -> AgentEntrypoint {
    AgentEntrypoint::new(move || Agent::builder().shared_model(model.clone()).build())
}

const SESSION: &str =
    "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: conversation-0000000000000000000001\r\n";

#[tokio::test]
async fn a_session_keeps_its_conversation_across_invocations() {
    let model = Arc::new(
        ScriptedModel::builder()
            .text("Hello!")
            .text("Again!")
            .text("Fresh.")
            .build(),
    );
    let server = Server::start(entrypoint(model.clone()).install(AgentCoreApp::new())).await;

    let first = raw(
        server.addr,
        &post("/invocations", SESSION, br#"{"prompt": "hi"}"#),
    )
    .await;
    assert_eq!(
        (first.status, first.text()),
        (200, r#"{"result": "Hello!\n"}"#.to_owned())
    );
    let second = raw(
        server.addr,
        &post("/invocations", SESSION, br#"{"prompt": "again"}"#),
    )
    .await;
    assert_eq!(second.text(), r#"{"result": "Again!\n"}"#);
    assert_eq!(
        model.requests()[1].messages.len(),
        3,
        "the second call sees the first exchange"
    );

    let other = raw(
        server.addr,
        &post("/invocations", "", br#"{"prompt": "new"}"#),
    )
    .await;
    assert_eq!(other.text(), r#"{"result": "Fresh.\n"}"#);
    assert_eq!(
        model.requests()[2].messages.len(),
        1,
        "no session id: a fresh agent"
    );
}

#[tokio::test]
async fn streaming_sends_each_text_delta_as_a_json_string() {
    let model = Arc::new(ScriptedModel::python_baseline(python_baseline().unwrap()));
    let server = Server::start(entrypoint(model).install(AgentCoreApp::new())).await;
    let reply = raw(
        server.addr,
        &post(
            "/invocations",
            SESSION,
            br#"{"prompt": "hi", "stream": true}"#,
        ),
    )
    .await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    let text = reply.text();
    assert!(
        text.starts_with(
            "data: \"Hello! I am a canned \"\n\ndata: \"response from the fake \"\n\n"
        ),
        "{text}"
    );
    assert_eq!(text.matches("data: ").count(), 10);
}

#[tokio::test]
async fn a_payload_without_a_prompt_is_a_400_that_says_what_to_send() {
    let model = Arc::new(ScriptedModel::new(Vec::<strands_testkit::Step>::new()));
    let server = Server::start(entrypoint(model).install(AgentCoreApp::new())).await;
    let reply = raw(server.addr, &post("/invocations", "", br#"{"text": "hi"}"#)).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.text(),
        r#"{"error":"the payload needs a \"prompt\": a string, e.g. {\"prompt\": \"Hello\"}, or the answers to the agent's interrupts, e.g. {\"prompt\": [{\"interruptResponse\": {\"interruptId\": \"...\", \"response\": \"yes\"}}]}"}"#
    );
    for bad in [
        r#"{"prompt": []}"#,
        r#"{"prompt": [{"text": "hi"}]}"#,
        r#"{"prompt": 3}"#,
    ] {
        let reply = raw(server.addr, &post("/invocations", "", bad.as_bytes())).await;
        assert_eq!(reply.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn model_failures_are_500s_naming_the_cause() {
    let model = Arc::new(ScriptedModel::new([strands_testkit::Step::Fail(
        "upstream exploded".to_owned(),
    )]));
    let server = Server::start(entrypoint(model).install(AgentCoreApp::new())).await;
    let reply = raw(
        server.addr,
        &post("/invocations", "", br#"{"prompt": "hi"}"#),
    )
    .await;
    assert_eq!(reply.status, 500);
    assert!(
        reply.text().contains("upstream exploded"),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn sessions_are_bounded_and_idle_ones_are_evicted() {
    let model = Arc::new(ScriptedModel::python_baseline(python_baseline().unwrap()));
    let sessions = entrypoint(model).with_limits(2, Duration::from_secs(3600));
    let server = Server::start(sessions.clone().install(AgentCoreApp::new())).await;
    for i in 0..5 {
        let header = format!("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: session-{i}\r\n");
        let reply = raw(
            server.addr,
            &post("/invocations", &header, br#"{"prompt": "hi"}"#),
        )
        .await;
        assert_eq!(reply.status, 200);
    }
    assert_eq!(sessions.session_count(), 2);

    let model = Arc::new(ScriptedModel::python_baseline(python_baseline().unwrap()));
    let idle = entrypoint(model).with_limits(10, Duration::ZERO);
    let server = Server::start(idle.clone().install(AgentCoreApp::new())).await;
    for i in 0..3 {
        let header = format!("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: session-{i}\r\n");
        raw(
            server.addr,
            &post("/invocations", &header, br#"{"prompt": "hi"}"#),
        )
        .await;
    }
    assert_eq!(
        idle.session_count(),
        1,
        "with a zero idle timeout only the latest session is kept"
    );
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct NoArgs {}

#[tokio::test]
async fn tools_see_the_request_context_of_their_invocation() {
    use strands_agent::tools::FunctionTool;
    use strands_runtime::RequestContext;
    for stream in [false, true] {
        let model = Arc::new(
            ScriptedModel::builder()
                .tool_use("t1", "whoami", "{}")
                .text("done")
                .build(),
        );
        let m = model.clone();
        let entry = AgentEntrypoint::new(move || {
            let whoami = FunctionTool::new("whoami", "The caller's session.", |_: NoArgs| async {
                let context = RequestContext::current().expect("inside an invocation");
                format!(
                    "{} {}",
                    context.session_id.clone().unwrap_or_default(),
                    context.workload_access_token.is_some()
                )
            });
            Agent::builder()
                .shared_model(m.clone())
                .tool(whoami)
                .build()
        });
        let server = Server::start(entry.install(AgentCoreApp::new())).await;
        let headers = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: tool-session\r\nWorkloadAccessToken: wat\r\n";
        let body = format!(r#"{{"prompt": "who am i", "stream": {stream}}}"#);
        let reply = raw(server.addr, &post("/invocations", headers, body.as_bytes())).await;
        assert_eq!(reply.status, 200);
        let result = &model.requests()[1].messages[2].content[0];
        assert_eq!(
            result.as_tool_result().unwrap().content[0].as_text(),
            Some("tool-session true"),
            "stream: {stream}"
        );
    }
}

#[tokio::test]
async fn a_client_leaving_mid_stream_stops_the_agent_and_frees_the_session() {
    use strands_core::StreamEvent;
    use strands_testkit::Step;
    let model = Arc::new(ScriptedModel::new([
        Step::EventsThenHang(vec![
            StreamEvent::message_start(),
            StreamEvent::block_start(),
            StreamEvent::text_delta("partial"),
        ]),
        Step::Events(strands_testkit::text_stream(
            &["next turn"],
            strands_core::StopReason::EndTurn,
        )),
    ]));
    let server = Server::start(entrypoint(model.clone()).install(AgentCoreApp::new())).await;
    let client = reqwest::Client::new();
    let mut reply = client
        .post(server.url("/invocations"))
        .header("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", "leaving")
        .body(r#"{"prompt": "long answer", "stream": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        reply.chunk().await.unwrap().unwrap(),
        "data: \"partial\"\n\n"
    );
    drop(reply);
    // The same session answers again: the abandoned stream released the agent.
    let next = tokio::time::timeout(
        Duration::from_secs(30),
        client
            .post(server.url("/invocations"))
            .header("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", "leaving")
            .body(r#"{"prompt": "again"}"#)
            .send(),
    )
    .await
    .expect("the session was freed")
    .unwrap();
    assert_eq!(next.text().await.unwrap(), r#"{"result": "next turn\n"}"#);
    let ping: serde_json::Value = client
        .get(server.url("/ping"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ping["status"], "Healthy");
}

#[tokio::test]
async fn concurrent_invocations_of_one_session_run_one_after_the_other() {
    let model = Arc::new(
        ScriptedModel::builder()
            .text("first")
            .text("second")
            .build(),
    );
    let server = Server::start(entrypoint(model.clone()).install(AgentCoreApp::new())).await;
    let client = reqwest::Client::new();
    let call = |prompt: &'static str| {
        client
            .post(server.url("/invocations"))
            .header(
                "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
                "shared-session",
            )
            .body(format!(r#"{{"prompt": "{prompt}"}}"#))
            .send()
    };
    let (a, b) = tokio::join!(call("one"), call("two"));
    assert_eq!(a.unwrap().status(), 200);
    assert_eq!(b.unwrap().status(), 200);
    let requests = model.requests();
    assert_eq!(requests[0].messages.len(), 1);
    assert_eq!(
        requests[1].messages.len(),
        3,
        "the second saw the whole first exchange"
    );
}

#[tokio::test]
async fn a_running_session_is_never_evicted_as_idle() {
    use strands_core::StreamEvent;
    use strands_testkit::Step;
    let model = Arc::new(ScriptedModel::new([
        Step::EventsThenHang(vec![
            StreamEvent::message_start(),
            StreamEvent::block_start(),
            StreamEvent::text_delta("working"),
        ]),
        Step::Events(strands_testkit::text_stream(
            &["other"],
            strands_core::StopReason::EndTurn,
        )),
    ]));
    let sessions = entrypoint(model).with_limits(10, Duration::ZERO);
    let server = Server::start(sessions.clone().install(AgentCoreApp::new())).await;
    let client = reqwest::Client::new();
    let mut long = client
        .post(server.url("/invocations"))
        .header(
            "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
            "long-running",
        )
        .body(r#"{"prompt": "work", "stream": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        long.chunk().await.unwrap().unwrap(),
        "data: \"working\"\n\n"
    );
    let other = raw(
        server.addr,
        &post(
            "/invocations",
            "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: other\r\n",
            br#"{"prompt": "hi"}"#,
        ),
    )
    .await;
    assert_eq!(other.status, 200);
    assert_eq!(
        sessions.session_count(),
        2,
        "the running session survived the idle sweep"
    );
}
