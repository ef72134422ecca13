//! Tools chosen per invocation by a `ToolLoader` (Python: a plugin registering tools in its
//! `BeforeInvocationEvent` hook, like `AgentCoreToolSearchPlugin`): offered after the agent's
//! own, replaced at each invocation with new input, kept when resuming from an interrupt,
//! never shadowing the agent's own tools or the structured output tool; a cancellation ends
//! the wait for the loader.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_pass_by_value,
    reason = "tests fail loudly; #[tool] functions take ToolContext by value"
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use strands_agent::{Agent, InterruptRaised, InterruptResponse, tool};
use strands_core::{BoxFuture, Role, StopReason, Tool, ToolContext, ToolLoadRequest, ToolLoader};
use strands_testkit::ScriptedModel;

use common::add;

/// Delete a file, after asking a human.
#[tool]
fn delete_file(path: String, context: ToolContext) -> Result<String, InterruptRaised> {
    let answer = context.interrupt("approve", json!({"path": path}))?;
    Ok(format!("{answer} for {path}"))
}

/// A person.
#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Person {
    /// Full name.
    name: String,
}

/// A tool that clashes with the structured output tool's name.
#[tool(name = "Person")]
async fn person_tool() -> String {
    "never offered".to_owned()
}

/// A tool that clashes with the agent's own `add`.
#[tool(name = "add")]
async fn other_add() -> String {
    "never offered".to_owned()
}

/// Loads tools whose name appears in the new input's text; keeps them with no new input.
#[derive(Debug, Default)]
struct ByName {
    loads: AtomicUsize,
    delay: Option<Duration>,
}

impl ToolLoader for ByName {
    fn load<'a>(
        &'a self,
        request: ToolLoadRequest<'a>,
    ) -> BoxFuture<'a, Option<Vec<Arc<dyn Tool>>>> {
        Box::pin(async move {
            if request.messages.is_empty() {
                return None;
            }
            self.loads.fetch_add(1, Ordering::SeqCst);
            if let Some(delay) = self.delay {
                tokio::time::sleep(delay).await;
            }
            let text: String = request.messages.iter().map(|m| m.text()).collect();
            let all: [Arc<dyn Tool>; 3] = [
                Arc::new(delete_file),
                Arc::new(person_tool),
                Arc::new(other_add),
            ];
            Some(
                all.into_iter()
                    .filter(|t| text.contains(t.name()))
                    .collect(),
            )
        })
    }
}

fn offered(model: &ScriptedModel) -> Vec<Vec<String>> {
    model
        .requests()
        .iter()
        .map(|r| {
            r.tool_specs
                .iter()
                .flatten()
                .map(|s| s.name.clone())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn loaded_tools_follow_the_agents_own_and_are_kept_when_resuming() {
    let model = Arc::new(
        ScriptedModel::builder()
            .tool_use("t1", "delete_file", r#"{"path": "/tmp/a"}"#)
            .text("Deleted it.")
            .text("Nothing to do.")
            .build(),
    );
    let loader = Arc::new(ByName::default());
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool(add)
        .tool_loader(loader.clone())
        .build()
        .unwrap();

    let paused = agent.invoke("delete_file /tmp/a, then add").await.unwrap();
    assert_eq!(paused.stop_reason, StopReason::Interrupt);
    // Resuming brings no new input: the loader is not asked, the paused tool is still there.
    let done = agent
        .invoke(vec![InterruptResponse::new(
            paused.interrupts[0].id.clone(),
            "yes",
        )])
        .await
        .unwrap();
    assert_eq!(done.to_string(), "Deleted it.\n");
    assert_eq!(loader.loads.load(Ordering::SeqCst), 1);
    let result = agent.messages()[2].content[0].as_tool_result().unwrap();
    assert_eq!(result.content[0].as_text(), Some("\"yes\" for /tmp/a"));

    agent.invoke("something else").await.unwrap();
    assert_eq!(loader.loads.load(Ordering::SeqCst), 2);
    // The loaded `add` never replaced the agent's own.
    assert_eq!(
        offered(&model),
        [
            vec!["add", "delete_file"],
            vec!["add", "delete_file"],
            vec!["add"]
        ]
    );
    let names: Vec<&str> = agent.tool_names().collect();
    assert_eq!(names, ["add"]);
}

#[tokio::test]
async fn structured_output_offers_the_loaded_tools_but_never_one_named_like_it() {
    let model = Arc::new(
        ScriptedModel::builder()
            .tool_use("t1", "Person", r#"{"name": "Ana"}"#)
            .build(),
    );
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool(add)
        .tool_loader(ByName::default())
        .build()
        .unwrap();
    let person: Person = agent
        .structured_output("Person: Ana; delete_file too")
        .await
        .unwrap();
    assert_eq!(person, Person { name: "Ana".into() });
    assert_eq!(offered(&model), [vec!["add", "delete_file", "Person"]]);
    let requests = model.requests();
    let description = &requests[0].tool_specs.as_ref().unwrap()[2].description;
    assert!(description.starts_with("IMPORTANT"), "{description}");
}

#[tokio::test]
async fn a_cancellation_ends_the_wait_for_the_loader_and_history_stays_valid() {
    let model = Arc::new(ScriptedModel::builder().text("later").build());
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool_loader(ByName {
            delay: Some(Duration::from_secs(30)),
            ..ByName::default()
        })
        .build()
        .unwrap();
    let handle = agent.cancel_handle();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        handle.cancel();
    });
    let started = Instant::now();
    let result = agent.invoke("delete_file").await.unwrap();
    canceller.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(result.stop_reason, StopReason::Cancelled);
    assert_eq!(agent.messages()[1].text(), "Cancelled by user\n");
    let roles: Vec<Role> = agent.messages().iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant]);
}
