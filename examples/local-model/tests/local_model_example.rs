//! Runs the example with the real weights: an invocation gets the model's answer. Runs when
//! `STRANDS_LOCAL_MODEL_TEST=1` (scripts/test sets it); the weights are downloaded once.

use std::process::{Command, Stdio};

use serde_json::Value;
use strands_testkit::served::ServedBinary;

#[tokio::test]
async fn the_local_model_answers_an_invocation() {
    if std::env::var("STRANDS_LOCAL_MODEL_TEST").as_deref() != Ok("1") {
        eprintln!("skipping: set STRANDS_LOCAL_MODEL_TEST=1 to run the embedded model");
        return;
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_example-local-model"));
    command.stdout(Stdio::null()).stderr(Stdio::null());
    let server = ServedBinary::start(command).await.unwrap();
    let answer: Value = reqwest::Client::new()
        .post(server.url("/invocations"))
        .body(r#"{"prompt": "What is the capital of France?"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = answer["result"].as_str().unwrap();
    assert!(text.contains("Paris"), "{text}");
}
