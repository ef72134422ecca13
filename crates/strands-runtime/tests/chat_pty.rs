//! `strands-runtime chat` in a pseudo-terminal (tests/chat/drive.py, Python's `pty`), against
//! the binary serving an agent with the calculator tool (the model a fake Bedrock): a tool turn
//! shown as it runs, a turn cancelled with Ctrl-C while the model stalls, line history, and a
//! last turn in the same session whose history is whole.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Stdio};

use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};
use strands_testkit::served::ServedBinary;

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
    let mut command = Command::new(env!("CARGO_BIN_EXE_strands-runtime"));
    command
        .env_clear()
        .env("HOME", dir.path())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.endpoint_url())
        .env("LOG_LEVEL", common::trace_logs::level())
        .args(["serve", "--agent"])
        .arg(&agent)
        .stdout(Stdio::null())
        .stderr(common::trace_logs::stderr("chat_pty"));
    common::trace_logs::secret(AKID);
    common::trace_logs::secret(SECRET);
    let served = ServedBinary::start(command).await.unwrap();

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
