//! `LazyModel`: the real model is built at the first call, once; a failed build is that call's
//! error and is tried again at the next call.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt as _;
use strands_core::{Message, Model, ModelError, ModelRequest, StreamEvent};
use strands_models::LazyModel;
use strands_testkit::ScriptedModel;

/// A `LazyModel` whose builds are counted; the build numbered `fail_first` and below fail.
fn counted(builds: &Arc<AtomicUsize>, fail_first: usize) -> LazyModel {
    let builds = builds.clone();
    LazyModel::new("scripted-model", move || {
        let build = builds.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move {
            if build <= fail_first {
                return Err(ModelError::credentials(format!("build {build} failed")));
            }
            let model = ScriptedModel::builder().text("Hello!").build();
            Ok(Arc::new(model) as Arc<dyn Model>)
        })
    })
}

async fn call(model: &LazyModel) -> Result<Vec<StreamEvent>, ModelError> {
    let messages = [Message::user("Hi")];
    let mut stream = model.stream(ModelRequest::new(&messages));
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event?);
    }
    Ok(events)
}

#[tokio::test]
async fn the_model_is_built_at_the_first_call_and_only_once() {
    let builds = Arc::new(AtomicUsize::new(0));
    let model = counted(&builds, 0);
    assert_eq!(model.model_id(), "scripted-model");
    assert_eq!(
        builds.load(Ordering::SeqCst),
        0,
        "nothing is built up front"
    );

    let events = call(&model).await.unwrap();
    assert!(!events.is_empty());
    assert_eq!(builds.load(Ordering::SeqCst), 1);
    // The scripted model has one step; the second call reaches the same instance, which reports
    // that it ran out of steps.
    assert!(call(&model).await.is_err());
    assert_eq!(builds.load(Ordering::SeqCst), 1, "a built model is kept");
}

#[tokio::test]
async fn a_failed_build_is_the_calls_error_and_is_retried_at_the_next_call() {
    let builds = Arc::new(AtomicUsize::new(0));
    let model = counted(&builds, 1);

    let error = call(&model).await.unwrap_err();
    assert!(matches!(error, ModelError::Credentials { .. }), "{error:?}");
    assert!(error.to_string().contains("build 1 failed"), "{error}");

    let events = call(&model).await.unwrap();
    assert!(!events.is_empty());
    assert_eq!(builds.load(Ordering::SeqCst), 2);
}
