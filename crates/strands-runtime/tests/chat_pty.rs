//! `strands-runtime chat` in a pseudo-terminal (tests/chat/drive.py, Python's `pty`), against
//! the binary serving an agent with the calculator tool (the model a fake Bedrock): a tool turn
//! shown as it runs, a turn cancelled with Ctrl-C while the model stalls, line history, and a
//! last turn in the same session whose history is whole.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};

const AKID: &str = "AKIDCHATPTYTEST00001";
const SECRET: &str = "chat-pty-secret-key";

#[tokio::test]
async fn chat_shows_tools_cancels_a_turn_on_ctrl_c_and_keeps_the_session() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::tool_turn(&[(
        "t1",
        "calculator",
        r#"{"expression": "2 + 3"}"#,
    )])));
    fake.push(Reply::Stream(frames::text_turn(&["2 + 3 = 5"], "end_turn")));
    fake.push(Reply::StreamThenHang(
        frames::text_turn(&["Let me think"], "end_turn")[..2].to_vec(),
    ));
    fake.push(Reply::Stream(frames::text_turn(
        &["Back, still here."],
        "end_turn",
    )));
    let dir = tempfile::tempdir().unwrap();
    let agent = dir.path().join("agent.json");
    std::fs::write(
        &agent,
        r#"{"model": "us.amazon.nova-lite-v1:0", "tools": ["strands_tools.calculator"]}"#,
    )
    .unwrap();
    let served = common::serve_on_fake_bedrock(
        &fake,
        dir.path(),
        (AKID, SECRET),
        &["--agent".as_ref(), agent.as_os_str()],
        "chat_pty",
    )
    .await;

    let driver = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/chat/drive.py");
    let url = served.url("");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([driver, env!("CARGO_BIN_EXE_strands-runtime"), &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The last model call saw the whole conversation: the tool turn, the cancelled prompt, and
    // the new one, in a history the model accepts.
    let requests = fake.requests();
    assert_eq!(requests.len(), 4);
    let body = requests[3].body.to_string();
    for said in ["What is 2 + 3?", "2 + 3 = 5", "Think hard", "Are you back?"] {
        assert!(body.contains(said), "{said} missing from {body}");
    }
}
