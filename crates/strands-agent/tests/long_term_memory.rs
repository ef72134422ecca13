//! `LongTermMemory`: what the model sees, what the history keeps, which messages trigger a
//! search, the relevance filter, namespaces filled in, failures tolerated, and the search tool.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::sync::{Arc, Mutex};

use strands_agent::Agent;
use strands_agent::memory::{LongTermMemory, Retrieval};
use strands_core::memory::{MemoryRecord, MemoryRetriever};
use strands_core::session::SessionError;
use strands_core::{BoxFuture, ContentBlock};
use strands_testkit::ScriptedModel;

/// Answers each namespace with fixed records and records the searches.
#[derive(Default)]
struct Fake {
    searches: Mutex<Vec<(String, String, usize)>>,
}

impl MemoryRetriever for Fake {
    fn retrieve<'a>(
        &'a self,
        namespace: &'a str,
        query: &'a str,
        top_k: usize,
    ) -> BoxFuture<'a, Result<Vec<MemoryRecord>, SessionError>> {
        self.searches
            .lock()
            .unwrap()
            .push((namespace.to_owned(), query.to_owned(), top_k));
        Box::pin(async move {
            match namespace {
                "/users/u1/facts" => Ok(vec![
                    MemoryRecord::new(" Likes tea ", Some(0.9)),
                    MemoryRecord::new("Barely related", Some(0.1)),
                    MemoryRecord::new("No score", None),
                ]),
                "/summaries/u1/s1/" => Ok(vec![MemoryRecord::new("Asked about Lyon", Some(0.5))]),
                _ => Err(SessionError::Conflict("down".into())),
            }
        })
    }
}

fn text(block: &ContentBlock) -> &str {
    match block {
        ContentBlock::Text(text) => text,
        other => panic!("not text: {other:?}"),
    }
}

#[tokio::test]
async fn context_goes_before_the_prompt_for_the_model_only_from_relevant_records() {
    let fake = Arc::new(Fake::default());
    let memory = LongTermMemory::new(fake.clone(), "u1", "s1")
        .retrieval(Retrieval::new("/users/{actorId}/facts").top_k(3))
        .retrieval(Retrieval::new("/summaries/{actorId}/{sessionId}/").relevance_score(0.0))
        .retrieval(Retrieval::new("/broken/{memoryStrategyId}").strategy_id("strat-1"));
    let model = Arc::new(
        ScriptedModel::builder()
            .tool_use("t1", "search_memory", r#"{"query": "tea"}"#)
            .text("Tea it is.")
            .build(),
    );
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool(memory.search_tool())
        .hooks(memory)
        .build()
        .unwrap();
    agent.invoke("What do I like?").await.unwrap();

    // The model saw the context first, then the prompt; a failing namespace was skipped.
    let first = &model.requests()[0].messages[0];
    assert_eq!(
        text(&first.content[0]),
        "<user_context>Likes tea\nAsked about Lyon</user_context>"
    );
    assert_eq!(text(&first.content[1]), "What do I like?");
    let searched: Vec<_> = fake.searches.lock().unwrap().clone();
    assert_eq!(
        searched[..3],
        [
            (
                "/users/u1/facts".to_owned(),
                "What do I like?".to_owned(),
                3
            ),
            (
                "/summaries/u1/s1/".to_owned(),
                "What do I like?".to_owned(),
                10
            ),
            (
                "/broken/strat-1".to_owned(),
                "What do I like?".to_owned(),
                10
            ),
        ]
    );
    // The tool-result message started no search; the tool did, with the model's query.
    assert_eq!(searched.len(), 6);
    assert_eq!(searched[3].1, "tea");
    let result = &model.requests()[1].messages[2].content[0];
    let ContentBlock::ToolResult(result) = result else {
        panic!("no tool result: {result:?}")
    };
    assert_eq!(
        result.status,
        strands_core::ToolResultStatus::Error,
        "the broken namespace fails the tool: {result:?}"
    );
}

#[tokio::test]
async fn without_anything_relevant_the_prompt_is_left_alone() {
    let fake = Arc::new(Fake::default());
    let memory = LongTermMemory::new(fake, "nobody", "s1")
        .retrieval(Retrieval::new("/users/{actorId}/facts"));
    let model = Arc::new(ScriptedModel::builder().text("Hi").build());
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .hooks(memory)
        .build()
        .unwrap();
    agent.invoke("Hello").await.unwrap();
    assert_eq!(model.requests()[0].messages[0].content.len(), 1);
}
