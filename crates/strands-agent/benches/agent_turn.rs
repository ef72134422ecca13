//! In-process cost of one agent turn with the Python baseline's zero-latency fake model
//! (`strands_testkit::canned`, the same canned streams as `python-baseline/fake_model.py`), a
//! fresh agent per turn as in the baseline's `bench_inproc.py` (`async_fresh_*`), and the cost
//! of turning agent events into the JSON an SSE stream sends.
//!
//! | bench | what | Python twin (`bench_inproc.py`) |
//! |---|---|---|
//! | `turn::build_agent` | build the agent (model, `add` tool) | `construct_agent` |
//! | `turn::text` | fresh agent, `invoke("hi")`: one model call, 10 text deltas | `async_fresh_a` |
//! | `turn::one_tool` | fresh agent, `invoke("please add 2 and 3")`: two model calls, one tool | `async_fresh_b` |
//! | `turn::ten_tools` | fresh agent, one message with 10 `add` tool uses, then the answer | `bench/py_extra.py` |
//! | `turn::text_stream`, `turn::one_tool_stream` | fresh agent, every event of `stream(..)` consumed | `stream_fresh_a`, `stream_fresh_b` |
//! | `events::*` | `AgentEvent` → Python-style JSON, directly and through `serde_json::Value` (what an `AgentCoreApp` stream does) | — |
//!
//! Each iteration drives the turn to completion with `block_on` on one current-thread tokio
//! runtime (the baseline runs its round on one asyncio loop).
//!
//! Run: `cargo bench -p strands-agent --bench agent_turn` (`scripts/bench` runs it pinned to a core).
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark binary fails loudly on broken fixtures"
)]

use std::sync::{Arc, LazyLock};

use divan::{Bencher, black_box};
use futures_util::StreamExt;
use strands_agent::{Agent, AgentEvent, tool};
use strands_core::{
    ContentBlock, Metrics, Model, ModelRequest, ModelStream, Role, StopReason, StreamEvent, Usage,
};
use strands_testkit::ScriptedModel;
use strands_testkit::canned::{CannedStreams, python_baseline};
use tokio::runtime::Runtime;

fn main() {
    divan::main();
}

/// Add two integers.
///
/// Args:
///     a: first addend
///     b: second addend
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// The fake model of the 10-tool turn: one assistant message with ten `add` tool uses (input
/// streamed as two deltas each, like the baseline's `tool_request`), then the baseline's
/// `tool_final_answer` once the results are in.
#[derive(Debug)]
struct TenTools {
    request: Vec<StreamEvent>,
    answer: Vec<StreamEvent>,
}

impl TenTools {
    fn new(canned: &CannedStreams) -> Self {
        let mut request = vec![StreamEvent::message_start()];
        for i in 0..10 {
            request.push(StreamEvent::tool_use_start(
                format!("tooluse_bench_{i:04}"),
                "add",
            ));
            request.push(StreamEvent::tool_input_delta(r#"{"a": 2, "#));
            request.push(StreamEvent::tool_input_delta(r#""b": 3}"#));
            request.push(StreamEvent::block_stop());
        }
        request.push(StreamEvent::message_stop(StopReason::ToolUse));
        request.push(StreamEvent::metadata(Usage::new(60, 200), Metrics::new(0)));
        Self {
            request,
            answer: canned.tool_final_answer.clone(),
        }
    }
}

impl Model for TenTools {
    fn model_id(&self) -> &str {
        "fake-bench-model"
    }

    fn stream<'a>(&'a self, request: ModelRequest<'a>) -> ModelStream<'a> {
        let after_tools = request.messages.last().is_some_and(|m| {
            m.role == Role::User
                && m.content
                    .iter()
                    .any(|b| matches!(b, ContentBlock::ToolResult(_)))
        });
        // Fresh events per call, as the Python fake copies its canned dicts.
        let events = if after_tools {
            self.answer.clone()
        } else {
            self.request.clone()
        };
        Box::pin(futures_util::stream::iter(events.into_iter().map(Ok)))
    }
}

struct Fixture {
    runtime: Runtime,
    canned: Arc<dyn Model>,
    ten_tools: Arc<dyn Model>,
    text_delta: AgentEvent,
    tool_turn_events: Vec<AgentEvent>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let streams = python_baseline().unwrap();
    let ten_tools: Arc<dyn Model> = Arc::new(TenTools::new(&streams));
    let canned: Arc<dyn Model> = Arc::new(ScriptedModel::python_baseline(streams));
    let tool_turn_events = runtime.block_on(async {
        let mut agent = make_agent(&canned);
        let mut stream = std::pin::pin!(agent.stream("please add 2 and 3"));
        let mut events = Vec::new();
        while let Some(event) = stream.next().await {
            events.push(event.unwrap());
        }
        events
    });
    let text_delta = tool_turn_events
        .iter()
        .find(|e| matches!(e, AgentEvent::TextDelta { .. }))
        .cloned()
        .unwrap();
    // Fail loudly if the fixtures stopped producing the turns they are named after.
    let check = runtime.block_on(async {
        let one = make_agent(&canned)
            .invoke("please add 2 and 3")
            .await
            .unwrap();
        let mut agent = make_agent(&ten_tools);
        let ten = agent.invoke("please add 2 and 3, ten times").await.unwrap();
        let results = agent
            .messages()
            .iter()
            .flat_map(|m| &m.content)
            .filter(|b| matches!(b, ContentBlock::ToolResult(_)))
            .count();
        (one.cycle_count, ten.cycle_count, results)
    });
    assert_eq!(
        check,
        (2, 2, 10),
        "(one-tool cycles, ten-tool cycles, tool results)"
    );
    Fixture {
        runtime,
        canned,
        ten_tools,
        text_delta,
        tool_turn_events,
    }
});

/// `fake_model.make_agent()`: the shared fake model and the `add` tool.
fn make_agent(model: &Arc<dyn Model>) -> Agent {
    Agent::builder()
        .shared_model(model.clone())
        .tool(add)
        .build()
        .unwrap()
}

fn invoke_fresh(model: &Arc<dyn Model>, prompt: &'static str) -> String {
    FIXTURE.runtime.block_on(async {
        let mut agent = make_agent(model);
        agent.invoke(prompt).await.unwrap().to_string()
    })
}

fn stream_fresh(model: &Arc<dyn Model>, prompt: &'static str) -> usize {
    FIXTURE.runtime.block_on(async {
        let mut agent = make_agent(model);
        let mut stream = std::pin::pin!(agent.stream(prompt));
        let mut count = 0;
        while let Some(event) = stream.next().await {
            black_box(event.unwrap());
            count += 1;
        }
        count
    })
}

mod turn {
    use super::*;

    #[divan::bench]
    fn build_agent(bencher: Bencher<'_, '_>) {
        let model = &FIXTURE.canned;
        bencher.bench_local(|| make_agent(model));
    }

    #[divan::bench]
    fn text(bencher: Bencher<'_, '_>) {
        let model = &FIXTURE.canned;
        bencher.bench_local(|| invoke_fresh(model, "hi"));
    }

    #[divan::bench]
    fn one_tool(bencher: Bencher<'_, '_>) {
        let model = &FIXTURE.canned;
        bencher.bench_local(|| invoke_fresh(model, "please add 2 and 3"));
    }

    #[divan::bench]
    fn ten_tools(bencher: Bencher<'_, '_>) {
        let model = &FIXTURE.ten_tools;
        bencher.bench_local(|| invoke_fresh(model, "please add 2 and 3, ten times"));
    }

    #[divan::bench]
    fn text_stream(bencher: Bencher<'_, '_>) {
        let model = &FIXTURE.canned;
        bencher.bench_local(|| stream_fresh(model, "hi"));
    }

    #[divan::bench]
    fn one_tool_stream(bencher: Bencher<'_, '_>) {
        let model = &FIXTURE.canned;
        bencher.bench_local(|| stream_fresh(model, "please add 2 and 3"));
    }
}

mod events {
    use super::*;
    use strands_core::json::to_python_string;

    /// One text delta, straight to Python-style JSON.
    #[divan::bench]
    fn text_delta_json(bencher: Bencher<'_, '_>) {
        let event = &FIXTURE.text_delta;
        bencher.bench_local(|| to_python_string(black_box(event)).unwrap());
    }

    /// One text delta through `serde_json::Value`, then Python-style JSON: how `AgentCoreApp`
    /// streams sent events before `Reply::stream` serialized items directly (for comparison).
    #[divan::bench]
    fn text_delta_via_value(bencher: Bencher<'_, '_>) {
        let event = &FIXTURE.text_delta;
        bencher.bench_local(|| {
            let value = serde_json::to_value(black_box(event)).unwrap();
            to_python_string(&value).unwrap()
        });
    }

    /// Every event of the one-tool turn, straight to Python-style JSON.
    #[divan::bench]
    fn tool_turn_json(bencher: Bencher<'_, '_>) {
        let events = &FIXTURE.tool_turn_events;
        bencher.bench_local(|| {
            events
                .iter()
                .map(|e| to_python_string(e).unwrap().len())
                .sum::<usize>()
        });
    }

    /// Every event of the one-tool turn through `serde_json::Value` (the `AgentCoreApp` path
    /// before `Reply::stream` serialized items directly; for comparison).
    #[divan::bench]
    fn tool_turn_via_value(bencher: Bencher<'_, '_>) {
        let events = &FIXTURE.tool_turn_events;
        bencher.bench_local(|| {
            events
                .iter()
                .map(|e| {
                    let value = serde_json::to_value(e).unwrap();
                    to_python_string(&value).unwrap().len()
                })
                .sum::<usize>()
        });
    }
}
