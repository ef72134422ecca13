//! `strands-runtime invoke` against the binary serving an agent (the model a fake Bedrock that
//! checks SigV4): a JSON answer, then a streamed one printed as text, in the same session.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};

const AKID: &str = "AKIDINVOKELOCAL00001";
const SECRET: &str = "invoke-local-secret-key";

fn invoke(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strands-runtime"))
        .arg("invoke")
        .args(["--url", url])
        .args(args)
        .env_clear()
        .output()
        .unwrap()
}

#[tokio::test]
async fn invoke_prints_json_and_streamed_answers_in_one_session() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(&["Sunny."], "end_turn")));
    fake.push(Reply::Stream(frames::text_turn(
        &["Still ", "sunny."],
        "end_turn",
    )));
    let dir = tempfile::tempdir().unwrap();
    let served =
        common::serve_on_fake_bedrock(&fake, dir.path(), (AKID, SECRET), &[], "invoke_local").await;
    let url = served.url("");

    let first = tokio::task::spawn_blocking({
        let url = url.clone();
        move || invoke(&url, &["What is the weather?"])
    })
    .await
    .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        "{\"result\": \"Sunny.\\n\"}\n"
    );
    let note = String::from_utf8_lossy(&first.stderr).into_owned();
    let session = note
        .split_whitespace()
        .nth(1)
        .expect("the session id")
        .to_owned();
    assert!(session.len() >= 33, "{note}");

    let second = tokio::task::spawn_blocking({
        let url = url.clone();
        let session = session.clone();
        move || invoke(&url, &["--session", &session, "--stream", "And tomorrow?"])
    })
    .await
    .unwrap();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&second.stdout), "Still sunny.\n");
    // The same session: the agent saw the first exchange in its history.
    let requests = fake.requests();
    let last = requests.last().expect("two model calls");
    let body = last.body.to_string();
    assert!(
        body.contains("Sunny.") && body.contains("And tomorrow?"),
        "{body}"
    );

    let nothing = invoke("http://127.0.0.1:9", &["hi"]);
    assert_eq!(nothing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&nothing.stderr)
            .contains("nothing answers at http://127.0.0.1:9/invocations")
    );
}
