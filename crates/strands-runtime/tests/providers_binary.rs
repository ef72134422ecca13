//! Provider selection of the `strands-runtime` binary: `--provider`/`MODEL_PROVIDER`, logged at
//! start-up, and never a silent fallback.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]
#![cfg(unix)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::trace_logs;

struct Runtime {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(text) = std::fs::read_to_string(&self.log) {
            trace_logs::keep("providers_binary", &text);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(port: u16, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strands-runtime"));
    command
        .args(args)
        .env_clear()
        .env(
            "HOME",
            std::env::temp_dir().join(format!("strands-providers-{port}")),
        )
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("LOG_LEVEL", trace_logs::level())
        .stdout(Stdio::null());
    for (k, v) in env {
        if k.ends_with("_API_KEY") {
            trace_logs::secret(v);
        }
        command.env(k, v);
    }
    command
}

/// Runs the binary expecting it to refuse to start; returns its log.
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let output = command(free_port(), args, env)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!output.status.success(), "the runtime should not start");
    let log = String::from_utf8(output.stderr).unwrap();
    trace_logs::keep("providers_binary", &log);
    log
}

async fn start(args: &[&str], env: &[(&str, &str)]) -> Runtime {
    let port = free_port();
    let log = std::env::temp_dir().join(format!("strands-providers-{port}.log"));
    let child = command(port, args, env)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let runtime = Runtime { child, port, log };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reqwest::get(format!("http://127.0.0.1:{port}/ping"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return runtime;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the runtime did not answer /ping within 30 s");
}

#[test]
fn unknown_or_unconfigured_providers_stop_the_server_with_the_fix() {
    let log = refused(&["--provider", "gemini"], &[]);
    assert!(
        log.contains("use one of: bedrock, anthropic, openai, local"),
        "{log}"
    );

    if cfg!(feature = "anthropic") {
        let log = refused(
            &[],
            &[("MODEL_PROVIDER", "anthropic"), ("ANTHROPIC_API_KEY", "k")],
        );
        assert!(log.contains("set MODEL_ID"), "{log}");
        let log = refused(
            &["--provider", "anthropic", "--model-id", "claude-sonnet-4-5"],
            &[],
        );
        assert!(log.contains("ANTHROPIC_API_KEY"), "{log}");
    } else {
        let log = refused(&["--provider", "anthropic"], &[]);
        assert!(log.contains("--features anthropic"), "{log}");
    }

    let log = refused(&["--provider", "openai"], &[]);
    assert!(log.contains("set MODEL_ID"), "{log}");

    let log = refused(&["--port", "eighty"], &[]);
    assert!(
        log.contains("invalid value 'eighty' for '--port <PORT>'"),
        "{log}"
    );

    let log = refused(&["--model"], &[]);
    assert!(log.contains("unexpected argument '--model' found"), "{log}");

    if !cfg!(feature = "llama-cpp") {
        let log = refused(&["--provider", "local"], &[]);
        assert!(log.contains("--features llama-cpp"), "{log}");
    }
}

#[tokio::test]
async fn an_openai_compatible_server_is_selected_by_flag_and_logged() {
    let fake = strands_testkit::openai::FakeOpenAi::builder()
        .text("Bonjour from llama.")
        .start()
        .await
        .unwrap();
    let base_url = fake.base_url();
    let runtime = start(
        &["serve", "--provider", "ollama", "--model-id", "llama3.2"],
        &[("OPENAI_BASE_URL", base_url.as_str())],
    )
    .await;
    let body = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/invocations", runtime.port))
        .body(r#"{"prompt": "hi"}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, r#"{"result": "Bonjour from llama.\n"}"#);
    let request = &fake.requests()[0];
    assert_eq!(request.body["model"], "llama3.2");
    let log = std::fs::read_to_string(&runtime.log).unwrap();
    assert!(log.contains("(provider: openai, model: llama3.2)"), "{log}");
}

#[cfg(feature = "anthropic")]
#[tokio::test]
async fn anthropic_is_selected_by_environment_with_its_key() {
    let fake = strands_testkit::anthropic::FakeAnthropic::builder()
        .api_key("sk-ant-test")
        .text("Hello from Claude.")
        .start()
        .await
        .unwrap();
    let base_url = fake.base_url();
    let runtime = start(
        &[],
        &[
            ("MODEL_PROVIDER", "anthropic"),
            ("MODEL_ID", "claude-sonnet-4-5"),
            ("ANTHROPIC_API_KEY", "sk-ant-test"),
            ("ANTHROPIC_BASE_URL", base_url.as_str()),
        ],
    )
    .await;
    let body = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/invocations", runtime.port))
        .body(r#"{"prompt": "hi"}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, r#"{"result": "Hello from Claude.\n"}"#);
    let log = std::fs::read_to_string(&runtime.log).unwrap();
    assert!(
        log.contains("(provider: anthropic, model: claude-sonnet-4-5)"),
        "{log}"
    );
    assert!(!log.contains("sk-ant-test"), "the key must never be logged");
}

/// The README quick start: the embedded model answers for real. Runs when
/// `STRANDS_LOCAL_MODEL_TEST=1` (scripts/test sets it; the model is downloaded once and cached).
#[cfg(feature = "llama-cpp")]
#[tokio::test]
async fn the_local_model_answers_offline() {
    if std::env::var("STRANDS_LOCAL_MODEL_TEST").as_deref() != Ok("1") {
        eprintln!("skipping: set STRANDS_LOCAL_MODEL_TEST=1 to run the embedded model");
        return;
    }
    let mut env = vec![("RUST_LOG", "info")];
    let cache = std::env::var("STRANDS_MODEL_CACHE").unwrap_or_default();
    if !cache.is_empty() {
        env.push(("STRANDS_MODEL_CACHE", cache.as_str()));
    }
    let home = std::env::var("HOME").unwrap_or_default();
    env.push(("HOME", home.as_str()));
    let runtime = start(&["--provider", "local"], &env).await;
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/invocations", runtime.port);
    let body: serde_json::Value = client
        .post(&url)
        .body(r#"{"prompt": "What is the capital of France?"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let answer = body["result"].as_str().unwrap();
    assert!(answer.contains("Paris"), "{answer}");
    let streamed = client
        .post(&url)
        .body(r#"{"prompt": "What is the capital of France?", "stream": true}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(streamed.starts_with("data: "), "{streamed}");
    assert!(
        streamed.matches("data: ").count() > 1,
        "streamed token by token: {streamed}"
    );
    let log = std::fs::read_to_string(&runtime.log).unwrap();
    assert!(
        log.contains("(provider: local, model: qwen2.5-coder-0.5b-instruct-q4_k_m)"),
        "{log}"
    );
}

/// The quick start's prompt set: the prompt, the AgentCore session it belongs to, and words of
/// which the answer must contain one (case-insensitive).
#[cfg(feature = "llama-cpp")]
const QUICKSTART_PROMPTS: [(&str, Option<&str>, &[&str]); 10] = [
    ("What is the capital of France?", None, &["Paris"]),
    ("What is 2 + 3?", None, &["5", "five"]),
    (
        "Which planet is the largest in our solar system?",
        None,
        &["Jupiter"],
    ),
    ("How do you say 'thank you' in Spanish?", None, &["gracias"]),
    ("What color is the sky on a clear day?", None, &["blue"]),
    ("Who wrote Romeo and Juliet?", None, &["Shakespeare"]),
    ("How many days are in a week?", None, &["7", "seven"]),
    (
        "What gas do plants take in from the air?",
        None,
        &["carbon dioxide", "CO2"],
    ),
    (
        "Hello! My name is Alice. Please remember it.",
        Some("quickstart-session-remembers-the-name-0001"),
        &["Alice"],
    ),
    (
        "What is my name?",
        Some("quickstart-session-remembers-the-name-0001"),
        &["Alice"],
    ),
];

/// The README quick start holds a conversation: ten prompts, the last two in one session (the
/// second asks for the name the first gave), each answered in full (a max-tokens stop is a 500)
/// with the words expected. Runs with `STRANDS_LOCAL_MODEL_TEST=1`; `STRANDS_LOCAL_MODEL_PATH`
/// measures another GGUF.
#[cfg(feature = "llama-cpp")]
#[tokio::test]
async fn the_quick_start_holds_a_conversation() {
    if std::env::var("STRANDS_LOCAL_MODEL_TEST").as_deref() != Ok("1") {
        eprintln!("skipping: set STRANDS_LOCAL_MODEL_TEST=1 to run the embedded model");
        return;
    }
    let mut env: Vec<(&str, String)> = vec![("HOME", std::env::var("HOME").unwrap_or_default())];
    for name in [
        "STRANDS_MODEL_CACHE",
        "STRANDS_LOCAL_MODEL_PATH",
        "SYSTEM_PROMPT",
    ] {
        if let Ok(value) = std::env::var(name) {
            env.push((name, value));
        }
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let runtime = start(&["--provider", "local"], &env).await;
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/invocations", runtime.port);
    let mut failures = Vec::new();
    let started = Instant::now();
    for (prompt, session, expected) in QUICKSTART_PROMPTS {
        let asked = Instant::now();
        let mut request = client
            .post(&url)
            .body(serde_json::json!({"prompt": prompt}).to_string());
        if let Some(id) = session {
            request = request.header("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", id);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        let answer = body["result"].as_str().unwrap_or_default().to_owned();
        let found = expected
            .iter()
            .any(|word| answer.to_lowercase().contains(&word.to_lowercase()));
        eprintln!(
            "{:>5} ms  {status}  {prompt:?} -> {:?}",
            asked.elapsed().as_millis(),
            if answer.is_empty() {
                body.to_string()
            } else {
                answer.clone()
            }
        );
        if status != 200 || !found {
            failures.push(format!("{prompt:?}: {status} {body}"));
        }
    }
    eprintln!("10 prompts in {} ms", started.elapsed().as_millis());
    assert!(failures.is_empty(), "{failures:#?}");
}
