//! Loop behaviour beyond the Python fixtures: real concurrency, cancellation from another task,
//! panicking and streaming tools, stream failures, and the public types' thread-safety.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use pretty_assertions::assert_eq;
use serde_json::json;
use strands_agent::tools::FunctionTool;
use strands_agent::{Agent, AgentError, AgentEvent, AgentInput, AgentResult, BuildError};
use strands_core::{
    ContentBlock, Message, Role, StopReason, StreamEvent, Tool, ToolContext, ToolEvent, ToolResult,
    ToolSpec, ToolStream, ToolUse,
};
use strands_testkit::canned::python_baseline;
use strands_testkit::{ScriptedModel, Step, text_stream};
use tokio::sync::{Barrier, Notify};

use common::{NoArgs, add};

fn tool_result(message: &Message, index: usize) -> &ToolResult {
    message.content[index]
        .as_tool_result()
        .expect("a tool result block")
}

fn result_text(result: &ToolResult) -> &str {
    result.content[0].as_text().expect("a text block")
}

/// Waits on a barrier shared with the other tool of the batch: the batch can only finish if both
/// tools are in flight at the same time.
fn barrier_tool(name: &str, barrier: Arc<Barrier>) -> FunctionTool {
    FunctionTool::new(name, "Waits for its sibling.", move |_: NoArgs| {
        let barrier = barrier.clone();
        async move {
            barrier.wait().await;
            "met"
        }
    })
}

#[tokio::test(start_paused = true)]
async fn two_tools_in_one_turn_run_concurrently() {
    let barrier = Arc::new(Barrier::new(2));
    let model = ScriptedModel::builder()
        .tool_uses(&[("t1", "left", "{}"), ("t2", "right", "{}")])
        .text("both met")
        .build();
    let mut agent = Agent::builder()
        .model(model)
        .tool(barrier_tool("left", barrier.clone()))
        .tool(barrier_tool("right", barrier))
        .build()
        .unwrap();

    // Run sequentially, the first tool would wait forever; with time paused, the runtime then
    // jumps straight to the deadline and the test fails at once instead of hanging.
    let result = tokio::time::timeout(Duration::from_secs(3600), agent.invoke("go"))
        .await
        .expect("the tools did not run concurrently")
        .unwrap();
    assert_eq!(result.text(), "both met\n");
    let results = &agent.messages()[2];
    assert_eq!(result_text(tool_result(results, 0)), "met");
    assert_eq!(result_text(tool_result(results, 1)), "met");
}

#[tokio::test]
async fn results_keep_tool_use_order_whatever_the_completion_order() {
    let release_first = Arc::new(Notify::new());
    let gate = release_first.clone();
    let slow = FunctionTool::new("slow", "Finishes last.", move |_: NoArgs| {
        let gate = gate.clone();
        async move {
            gate.notified().await;
            "slow done"
        }
    });
    let release = release_first.clone();
    let fast = FunctionTool::new(
        "fast",
        "Finishes first, then releases slow.",
        move |_: NoArgs| {
            release.notify_one();
            async { "fast done" }
        },
    );
    let model = ScriptedModel::builder()
        .tool_uses(&[("t1", "slow", "{}"), ("t2", "fast", "{}")])
        .text("ok")
        .build();
    let mut agent = Agent::builder()
        .model(model)
        .tool(slow)
        .tool(fast)
        .build()
        .unwrap();

    let mut completion_order = Vec::new();
    {
        let mut events = pin!(agent.stream("go"));
        while let Some(event) = events.next().await {
            if let AgentEvent::ToolResult { tool_result } = event.unwrap() {
                completion_order.push(tool_result.tool_use_id);
            }
        }
    }
    assert_eq!(completion_order, ["t2", "t1"]);
    let results = &agent.messages()[2];
    assert_eq!(tool_result(results, 0).tool_use_id, "t1");
    assert_eq!(tool_result(results, 1).tool_use_id, "t2");
    let names: Vec<_> = agent
        .metrics()
        .tool_metrics
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["fast", "slow"],
        "tool metrics are in completion order, as in Python"
    );
}

#[tokio::test]
async fn cancellation_from_another_task_stops_a_hung_tool_and_keeps_history_valid() {
    let started = Arc::new(Notify::new());
    let signal = started.clone();
    let hang = FunctionTool::with_context(
        "hang",
        "Never finishes.",
        move |_: NoArgs, _ctx: ToolContext| {
            signal.notify_one();
            std::future::pending::<&str>()
        },
    );
    let model = ScriptedModel::builder()
        .tool_uses(&[("t1", "hang", "{}"), ("t2", "add", r#"{"a": 1, "b": 2}"#)])
        .text("after cancel")
        .build();
    let mut agent = Agent::builder()
        .model(model)
        .tool(hang)
        .tool(add)
        .build()
        .unwrap();
    let handle = agent.cancel_handle();
    let canceller = tokio::spawn(async move {
        started.notified().await;
        handle.cancel();
    });

    let result = agent.invoke("go").await.unwrap();
    canceller.await.unwrap();
    assert_eq!(result.stop_reason, StopReason::Cancelled);
    assert!(
        result.message.has_tool_use(),
        "the result is the tool-use message, as in Python"
    );

    let messages = agent.messages();
    assert_eq!(messages.len(), 3);
    let results = &messages[2];
    assert_eq!(
        result_text(tool_result(results, 0)),
        "Tool execution cancelled"
    );
    assert!(tool_result(results, 0).is_error());
    assert_eq!(
        result_text(tool_result(results, 1)),
        "3",
        "finished tools keep their results"
    );

    // The agent is reusable: the next invocation starts uncancelled.
    let next = agent.invoke("again").await.unwrap();
    assert_eq!(next.stop_reason, StopReason::EndTurn);
    assert_eq!(next.text(), "after cancel\n");
}

#[tokio::test]
async fn cancellation_during_the_model_stream_records_cancelled_by_user() {
    let model = ScriptedModel::new([Step::EventsThenHang(vec![
        StreamEvent::message_start(),
        StreamEvent::block_start(),
        StreamEvent::text_delta("partial"),
    ])]);
    let mut agent = Agent::builder().model(model).build().unwrap();
    let handle = agent.cancel_handle();

    let mut result: Option<AgentResult> = None;
    {
        let mut events = pin!(agent.stream("hi"));
        while let Some(event) = events.next().await {
            match event.unwrap() {
                AgentEvent::TextDelta { .. } => handle.cancel(),
                AgentEvent::Result(r) => result = Some(*r),
                _ => {}
            }
        }
    }
    let result = result.unwrap();
    assert_eq!(result.stop_reason, StopReason::Cancelled);
    assert_eq!(result.text(), "Cancelled by user\n");
    assert_eq!(agent.messages().len(), 2);
    assert_eq!(
        agent.messages()[1].content,
        vec![ContentBlock::text("Cancelled by user")]
    );
}

#[tokio::test]
async fn a_panicking_tool_becomes_an_error_result_and_the_loop_continues() {
    #[allow(clippy::panic, reason = "the behaviour under test")]
    fn explode() -> &'static str {
        panic!("kaboom")
    }
    let boom = FunctionTool::new("boom", "Panics.", |_: NoArgs| async { explode() });
    let model = ScriptedModel::builder()
        .tool_use("t1", "boom", "{}")
        .text("recovered")
        .build();
    let mut agent = Agent::builder().model(model).tool(boom).build().unwrap();
    let result = agent.invoke("go").await.unwrap();
    assert_eq!(result.text(), "recovered\n");
    let failed = tool_result(&agent.messages()[2], 0);
    assert!(failed.is_error());
    assert_eq!(result_text(failed), "Error: tool panicked: kaboom");
    assert_eq!(agent.metrics().tool("boom").unwrap().error_count, 1);
}

struct Countdown {
    spec: ToolSpec,
}

impl Tool for Countdown {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn stream(&self, tool_use: ToolUse, _context: ToolContext) -> ToolStream<'_> {
        let events = vec![
            ToolEvent::Stream(json!("3")),
            ToolEvent::Stream(json!({"left": 2})),
            ToolEvent::Result(ToolResult::success(tool_use.tool_use_id, "liftoff")),
        ];
        Box::pin(futures_util::stream::iter(events))
    }
}

#[tokio::test]
async fn streaming_tool_progress_is_emitted_before_its_result() {
    let countdown = Countdown {
        spec: ToolSpec::new("countdown", "Counts down.", json!({"type": "object"})),
    };
    let model = ScriptedModel::builder()
        .tool_use("t1", "countdown", "{}")
        .text("done")
        .build();
    let mut agent = Agent::builder()
        .model(model)
        .tool(countdown)
        .build()
        .unwrap();
    let mut seen = Vec::new();
    let mut events = pin!(agent.stream("go"));
    while let Some(event) = events.next().await {
        let event = event.unwrap();
        if matches!(
            event,
            AgentEvent::ToolStart { .. }
                | AgentEvent::ToolStream { .. }
                | AgentEvent::ToolResult { .. }
        ) {
            seen.push(serde_json::to_value(&event).unwrap());
        }
    }
    let tool_use = json!({"toolUseId": "t1", "name": "countdown", "input": {}});
    assert_eq!(
        seen,
        [
            json!({"type": "tool_start", "tool_use": tool_use}),
            json!({"type": "tool_stream", "tool_stream_event": {"tool_use": tool_use, "data": "3"}}),
            json!({"type": "tool_stream", "tool_stream_event": {"tool_use": tool_use, "data": {"left": 2}}}),
            json!({"type": "tool_result", "tool_result": {"toolUseId": "t1", "status": "success", "content": [{"text": "liftoff"}]}}),
        ]
    );
}

struct Silent {
    spec: ToolSpec,
}

impl Tool for Silent {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn stream(&self, _tool_use: ToolUse, _context: ToolContext) -> ToolStream<'_> {
        Box::pin(futures_util::stream::empty())
    }
}

#[tokio::test]
async fn a_tool_that_returns_nothing_is_reported_to_the_model() {
    let silent = Silent {
        spec: ToolSpec::new("silent", "Says nothing.", json!({"type": "object"})),
    };
    let model = ScriptedModel::builder()
        .tool_use("t1", "silent", "{}")
        .text("ok")
        .build();
    let mut agent = Agent::builder().model(model).tool(silent).build().unwrap();
    agent.invoke("go").await.unwrap();
    assert_eq!(
        result_text(tool_result(&agent.messages()[2], 0)),
        "Tool 'silent' did not return a result"
    );
}

#[tokio::test]
async fn a_stream_cut_mid_way_fails_without_retry_and_keeps_the_prompt() {
    let model = ScriptedModel::new([Step::EventsThenError(
        vec![
            StreamEvent::message_start(),
            StreamEvent::block_start(),
            StreamEvent::text_delta("par"),
        ],
        "connection reset".to_owned(),
    )]);
    let model = Arc::new(model);
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .build()
        .unwrap();
    let error = agent.invoke("hi").await.unwrap_err();
    assert!(
        matches!(error, AgentError::Model { attempts: 1, .. }),
        "{error:?}"
    );
    assert_eq!(model.requests().len(), 1, "only throttling is retried");
    assert_eq!(agent.messages(), &agent.messages()[..1]);
    assert_eq!(agent.messages()[0].content, vec![ContentBlock::text("hi")]);
}

#[tokio::test]
async fn continuing_runs_a_pending_tool_use_without_calling_the_model() {
    let model = Arc::new(ScriptedModel::builder().text("3 it is").build());
    let pending = Message::new(
        Role::Assistant,
        vec![ContentBlock::ToolUse(ToolUse::new(
            "t0",
            "add",
            json!({"a": 1, "b": 2}),
        ))],
    );
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool(add)
        .messages(vec![Message::user("add 1 and 2"), pending])
        .build()
        .unwrap();
    let result = agent.invoke(AgentInput::Continue).await.unwrap();
    assert_eq!(result.text(), "3 it is\n");
    assert_eq!(result_text(tool_result(&agent.messages()[2], 0)), "3");
    assert_eq!(
        model.requests().len(),
        1,
        "the tool ran before the only model call"
    );
}

#[tokio::test]
async fn continuing_an_empty_conversation_is_an_error() {
    let mut agent = Agent::builder()
        .model(ScriptedModel::new(Vec::<Step>::new()))
        .build()
        .unwrap();
    let error = agent.invoke(()).await.unwrap_err();
    assert!(matches!(error, AgentError::EmptyConversation));
    assert!(error.to_string().contains("pass a prompt"));
}

#[tokio::test]
async fn dropping_the_stream_mid_tool_stops_the_tool() {
    struct DropFlag(Arc<std::sync::atomic::AtomicBool>);
    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let started = Arc::new(Notify::new());
    let (flag, signal) = (dropped.clone(), started.clone());
    let hang = FunctionTool::new("hang", "Never finishes.", move |_: NoArgs| {
        let guard = DropFlag(flag.clone());
        let signal = signal.clone();
        async move {
            let _guard = guard;
            signal.notify_one();
            std::future::pending::<&str>().await
        }
    });
    let model = ScriptedModel::builder()
        .tool_use("t1", "hang", "{}")
        .build();
    let mut agent = Agent::builder().model(model).tool(hang).build().unwrap();
    {
        let mut events = pin!(agent.stream("go"));
        let drain = async { while events.next().await.is_some() {} };
        tokio::select! {
            () = started.notified() => {}
            () = drain => unreachable!("the tool never finishes"),
        }
        assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
    }
    assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
    // The next prompt answers the abandoned tool use, as Python does.
    assert!(agent.messages().last().unwrap().has_tool_use());
}

#[tokio::test]
async fn the_python_baseline_fake_model_drives_a_tool_turn() {
    let model = ScriptedModel::python_baseline(python_baseline().unwrap());
    let mut agent = Agent::builder().model(model).tool(add).build().unwrap();
    let result = agent.invoke("please add 2 and 3").await.unwrap();
    assert!(
        result
            .text()
            .starts_with("The add tool returned 5, so 2 plus 3 equals 5.")
    );
    assert_eq!(result_text(tool_result(&agent.messages()[2], 0)), "5");
    assert_eq!(result.cycle_count, 2);
    assert_eq!(result.usage.total_tokens, 80 + 140);
}

#[tokio::test]
async fn invoke_skips_the_chunk_events_but_ends_exactly_where_stream_does() {
    let agent = || {
        let model = ScriptedModel::python_baseline(python_baseline().unwrap());
        let hooked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = hooked.clone();
        let agent = Agent::builder()
            .model(model)
            .tool(add)
            .hook(move |event: &mut strands_agent::hooks::MessageAddedEvent| {
                seen.lock().unwrap().push(event.message.clone());
            })
            .build()
            .unwrap();
        (agent, hooked)
    };
    let (mut quiet, quiet_hooked) = agent();
    let invoked = quiet.invoke("please add 2 and 3").await.unwrap();

    let (mut streaming, streaming_hooked) = agent();
    let (mut chunks, mut streamed) = (0, None);
    {
        let mut events = pin!(streaming.stream("please add 2 and 3"));
        while let Some(event) = events.next().await {
            match event.unwrap() {
                AgentEvent::ModelStreamEvent(_) => chunks += 1,
                AgentEvent::Result(result) => streamed = Some(*result),
                _ => {}
            }
        }
    }
    let streamed = streamed.unwrap();
    assert!(chunks > 0, "stream() yields the model's chunks");
    // Messages match but for their random tracking ids.
    let untracked = |messages: &[Message]| {
        let mut messages = messages.to_vec();
        for message in &mut messages {
            message.tracking_id = None;
        }
        messages
    };
    assert_eq!(
        untracked(std::slice::from_ref(&invoked.message)),
        untracked(std::slice::from_ref(&streamed.message))
    );
    assert_eq!(invoked.stop_reason, streamed.stop_reason);
    assert_eq!(invoked.cycle_count, streamed.cycle_count);
    assert_eq!(invoked.usage, streamed.usage);
    assert_eq!(untracked(quiet.messages()), untracked(streaming.messages()));
    assert_eq!(quiet.messages().len(), 4);
    assert_eq!(
        untracked(&quiet_hooked.lock().unwrap()),
        untracked(&streaming_hooked.lock().unwrap())
    );
}

#[tokio::test]
async fn every_event_serializes_to_json() {
    let model = ScriptedModel::builder()
        .tool_use("t1", "add", r#"{"a": 2, "b": 3}"#)
        .events(text_stream(&["It is ", "5."], StopReason::EndTurn))
        .build();
    let mut agent = Agent::builder().model(model).tool(add).build().unwrap();
    let mut events = pin!(agent.stream("add"));
    let mut lines = Vec::new();
    while let Some(event) = events.next().await {
        lines.push(serde_json::to_string(&event.unwrap()).unwrap());
    }
    assert_eq!(lines.first().unwrap(), r#"{"init_event_loop":true}"#);
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with(r#"{"result":{"stop_reason":"end_turn""#)
    );
    assert!(lines.contains(&r#"{"data":"It is ","delta":{"text":"It is "}}"#.to_owned()));
}

#[test]
fn duplicate_and_invalid_tool_names_are_rejected_at_build() {
    let spec_tool = |name: &str| {
        FunctionTool::from_spec(
            ToolSpec::new(name, "x", json!({"type": "object"})),
            |_, _| async { "" },
        )
    };
    let error = Agent::builder()
        .model(ScriptedModel::new(Vec::<Step>::new()))
        .tool(spec_tool("get-time"))
        .tool(spec_tool("get_time"))
        .build()
        .unwrap_err();
    assert!(
        matches!(error, BuildError::DuplicateToolName { .. }),
        "{error}"
    );
    let error = Agent::builder()
        .model(ScriptedModel::new(Vec::<Step>::new()))
        .tool(spec_tool("bad name"))
        .build()
        .unwrap_err();
    assert!(
        matches!(error, BuildError::InvalidToolName { .. }),
        "{error}"
    );
    assert!(matches!(
        Agent::builder().build().unwrap_err(),
        BuildError::MissingModel
    ));
}

#[test]
fn agent_and_its_streams_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Agent>();
    assert_send_sync::<strands_agent::CancelHandle>();
    assert_send_sync::<AgentEvent>();
    assert_send_sync::<AgentError>();
    let mut agent = Agent::builder()
        .model(ScriptedModel::new(Vec::<Step>::new()))
        .build()
        .unwrap();
    assert_send(&agent.stream("hi"));
    assert_send(&agent.invoke("hi"));
}
