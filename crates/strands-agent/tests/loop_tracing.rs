//! The loop opens one span per invocation, model call and tool call, with GenAI attribute names.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::sync::{Arc, Mutex};

use strands_agent::Agent;
use strands_testkit::ScriptedModel;
use tracing::span::{Attributes, Id};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::Registry;

mod common;

#[derive(Clone, Default)]
struct SpanNames(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> Layer<S> for SpanNames {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        self.0
            .lock()
            .unwrap()
            .push(attrs.metadata().name().to_owned());
    }
}

#[tokio::test]
async fn invocation_model_calls_and_tools_each_get_a_span() {
    let names = SpanNames::default();
    let subscriber = Registry::default().with(names.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let model = ScriptedModel::builder()
        .tool_use("t1", "add", r#"{"a": 1, "b": 2}"#)
        .text("3")
        .build();
    let mut agent = Agent::builder()
        .model(model)
        .tool(common::add)
        .build()
        .unwrap();
    agent.invoke("add").await.unwrap();

    assert_eq!(
        *names.0.lock().unwrap(),
        ["invoke_agent", "chat", "execute_tool", "chat"]
    );
}
