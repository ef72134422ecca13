//! Cost of the JSON that reaches the wire or a session file, written the way Python's
//! `json.dumps(ensure_ascii=False)` writes it (`strands_core::json::to_python_string`), next to
//! serde_json's compact writer for reference; and of reading it back.
//!
//! | bench | what | Python twin (`bench/py_extra.py`) |
//! |---|---|---|
//! | `python_json::tool_turn_history` | the 4 messages of the baseline's one-tool turn | `json.dumps(agent.messages)` |
//! | `python_json::result_body` | `{"result": "<final text>\n"}`, the `/invocations` JSON body | `json.dumps({"result": ...})` |
//! | `python_json::text_delta_event` | one model stream event, `{"contentBlockDelta": ...}` | `json.dumps(event)` |
//! | `compact_json::*` | the same with `serde_json::to_string` | — |
//! | `parse::tool_turn_history` | the history JSON back into `Vec<Message>` | `json.loads` |
//!
//! Run: `cargo bench -p strands-core --bench serialization`
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    reason = "a benchmark binary fails loudly on broken fixtures"
)]

use std::sync::LazyLock;

use divan::{Bencher, black_box};
use serde_json::{Value, json};
use strands_core::json::to_python_string;
use strands_core::{Message, StreamEvent};

fn main() {
    divan::main();
}

/// The history of the baseline's tool turn (`python fake_model.py` prints it), as Python wrote it.
const TOOL_TURN_HISTORY: &str = r#"[
 {"role": "user", "content": [{"text": "please add 2 and 3"}], "tracking_id": "0a1f7b56-1a5e-4c55-9a0e-6c1f0cde5d11"},
 {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tooluse_bench_0001", "name": "add", "input": {"a": 2, "b": 3}}}], "metadata": {"usage": {"inputTokens": 60, "outputTokens": 20, "totalTokens": 80}, "metrics": {"latencyMs": 0}}, "tracking_id": "3c0b9f8e-4c3f-4a4a-8f7d-0b5f3b1e9a22"},
 {"role": "user", "content": [{"toolResult": {"toolUseId": "tooluse_bench_0001", "status": "success", "content": [{"text": "5"}]}}], "tracking_id": "5d9e2a71-7b8c-4f0e-9d6a-2e4b8c1f3a33"},
 {"role": "assistant", "content": [{"text": "The add tool returned 5, so 2 plus 3 equals 5. This answer is canned too and is streamed as ten small deltas so that the agent framework has to accumulate them into one content block, exactly as it would with a real model streaming tokens over the network."}], "metadata": {"usage": {"inputTokens": 90, "outputTokens": 50, "totalTokens": 140}, "metrics": {"latencyMs": 0}}, "tracking_id": "7e1c4b92-9d0a-4b1f-8e3c-4f6a0d2b5c44"}
]"#;

struct Fixture {
    history: Vec<Message>,
    history_json: String,
    result_body: Value,
    text_delta: StreamEvent,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let history: Vec<Message> = serde_json::from_str(TOOL_TURN_HISTORY).unwrap();
    let history_json = to_python_string(&history).unwrap();
    // Fail loudly if the types stopped round-tripping the Python shape.
    let reparsed: Value = serde_json::from_str(&history_json).unwrap();
    let original: Value = serde_json::from_str(TOOL_TURN_HISTORY).unwrap();
    assert_eq!(reparsed, original, "the history does not round-trip");
    let text = history[3].text();
    Fixture {
        history,
        history_json,
        result_body: json!({"result": text}),
        text_delta: StreamEvent::text_delta("Hello! I am a canned "),
    }
});

mod python_json {
    use super::*;

    #[divan::bench]
    fn tool_turn_history(bencher: Bencher<'_, '_>) {
        let history = &FIXTURE.history;
        bencher.bench_local(|| to_python_string(black_box(history)).unwrap());
    }

    #[divan::bench]
    fn result_body(bencher: Bencher<'_, '_>) {
        let body = &FIXTURE.result_body;
        bencher.bench_local(|| to_python_string(black_box(body)).unwrap());
    }

    #[divan::bench]
    fn text_delta_event(bencher: Bencher<'_, '_>) {
        let event = &FIXTURE.text_delta;
        bencher.bench_local(|| to_python_string(black_box(event)).unwrap());
    }
}

mod compact_json {
    use super::*;

    #[divan::bench]
    fn tool_turn_history(bencher: Bencher<'_, '_>) {
        let history = &FIXTURE.history;
        bencher.bench_local(|| serde_json::to_string(black_box(history)).unwrap());
    }

    #[divan::bench]
    fn text_delta_event(bencher: Bencher<'_, '_>) {
        let event = &FIXTURE.text_delta;
        bencher.bench_local(|| serde_json::to_string(black_box(event)).unwrap());
    }
}

mod parse {
    use super::*;

    #[divan::bench]
    fn tool_turn_history(bencher: Bencher<'_, '_>) {
        let text = FIXTURE.history_json.as_str();
        bencher.bench_local(|| serde_json::from_str::<Vec<Message>>(black_box(text)).unwrap());
    }
}
