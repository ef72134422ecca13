//! `strands-runtime serve --agent agent.json`: the binary serves the agent a file describes, with
//! its built-in tools called over `/invocations` against Bedrock's wire protocol (a fake that
//! checks SigV4); `check` reads the same file; a bad file stops the server before it starts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test helpers fail loudly"
)]
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Frame, Reply, frames};

mod common;

use common::trace_logs;

const AKID: &str = "AKIDAGENTFILETEST0001";
const SECRET: &str = "agent-file-test-secret-00000000000000000";

struct Runtime {
    child: Child,
    port: u16,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(fake: &FakeBedrock, home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strands-runtime"));
    command
        .env_clear()
        .env("HOME", home)
        .env("HOST", "127.0.0.1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.endpoint_url())
        .env("MODEL_ID", "env-model-loses-to-the-file")
        .env("LOG_LEVEL", trace_logs::level());
    trace_logs::secret(AKID);
    trace_logs::secret(SECRET);
    command
}

async fn serve(fake: &FakeBedrock, home: &Path, agent: &Path) -> Runtime {
    let port = free_port();
    let child = command(fake, home)
        .args(["serve", "--agent"])
        .arg(agent)
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(trace_logs::stderr("agent_file_binary"))
        .spawn()
        .unwrap();
    let runtime = Runtime { child, port };
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

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strands-agent-file-{name}-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A turn in which the model asks for one tool.
fn tool_turn(id: &str, name: &str, input: &Value) -> Vec<Frame> {
    vec![
        frames::message_start(),
        frames::tool_use_start(0, id, name),
        frames::tool_input_delta(0, &input.to_string()),
        frames::block_stop(0),
        frames::message_stop("tool_use"),
        frames::metadata(20, 10),
    ]
}

/// The `toolResult` blocks of the last user message of a Converse request.
fn tool_results(request: &Value) -> Vec<Value> {
    let messages = request["messages"].as_array().unwrap();
    let last = messages.last().unwrap();
    assert_eq!(last["role"], "user");
    last["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|block| block.get("toolResult").cloned())
        .collect()
}

#[tokio::test]
async fn an_agent_file_with_two_built_in_tools_is_served_over_invocations() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(tool_turn(
        "t1",
        "calculator",
        &json!({"expression": "6 * 7"}),
    )));
    fake.push(Reply::Stream(tool_turn(
        "t2",
        "current_time",
        &json!({"timezone": "Asia/Tokyo"}),
    )));
    fake.push(Reply::Stream(frames::text_turn(
        &["It is 42 o'clock."],
        "end_turn",
    )));
    let dir = workdir("tools");
    let agent = dir.join("agent.json");
    std::fs::write(
        &agent,
        json!({
            "name": "clock",
            "model": {"provider": "bedrock", "model_id": "us.amazon.nova-lite-v1:0", "max_tokens": 300, "temperature": 0.5},
            "prompt": "You tell the time.",
            "tools": ["strands_tools.calculator", "current_time"],
            "conversation_manager": {"type": "sliding_window", "window_size": 10},
            "session": {"storage": "file", "directory": dir.join("sessions")}
        })
        .to_string(),
    )
    .unwrap();
    let runtime = serve(&fake, &dir, &agent).await;

    let body = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/invocations", runtime.port))
        .header(
            "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
            "agent-file-session-0000000000000001",
        )
        .body(r#"{"prompt": "What time is it?"}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, r#"{"result": "It is 42 o'clock.\n"}"#);

    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    // The file's model, settings, prompt and tools reach Bedrock.
    let first = &requests[0].body;
    assert_eq!(requests[0].model_id, "us.amazon.nova-lite-v1:0");
    assert_eq!(
        first["inferenceConfig"],
        json!({"maxTokens": 300, "temperature": 0.5})
    );
    assert_eq!(first["system"], json!([{"text": "You tell the time."}]));
    let tools: Vec<&str> = first["toolConfig"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["toolSpec"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["calculator", "current_time"]);
    // Each tool ran and its result went back to the model.
    let calculator = tool_results(&requests[1].body);
    assert_eq!(
        calculator,
        [json!({"toolUseId": "t1", "content": [{"text": "Result: 42"}]})]
    );
    let time = tool_results(&requests[2].body);
    let text = time[0]["content"][0]["text"].as_str().unwrap();
    assert!(text.ends_with("+09:00") && text.len() == 32, "{text}");

    // The session was persisted in Python's layout, under the default agent id.
    let session = dir.join("sessions/session_agent-file-session-0000000000000001");
    assert!(
        session.join("session.json").is_file(),
        "no session at {}",
        session.display()
    );
    let messages = session.join("agents/agent_default/messages");
    assert_eq!(std::fs::read_dir(&messages).unwrap().count(), 6);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn check_reads_the_file_and_a_bad_file_stops_the_server_with_one_line() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    let dir = workdir("check");
    let agent = dir.join("agent.json");
    std::fs::write(
        &agent,
        r#"{"model": "us.amazon.nova-lite-v1:0", "tools": ["calculator"]}"#,
    )
    .unwrap();
    let output = command(&fake, &dir)
        .args(["check", "--agent"])
        .arg(&agent)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "ok: provider bedrock, model us.amazon.nova-lite-v1:0, tools: calculator\n"
    );

    std::fs::write(
        &agent,
        r#"{"model": "m", "tools": ["calculator", "shovel"]}"#,
    )
    .unwrap();
    for args in [&["check", "--agent"][..], &["serve", "--agent"]] {
        let output = command(&fake, &dir)
            .args(args)
            .arg(&agent)
            .env("PORT", free_port().to_string())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(
            stderr,
            format!(
                "strands-runtime: agent file {}: tools[1]: unknown tool \"shovel\"; the built-in tools are calculator, current_time, file_read, file_editor, http_request, shell, a2a_client\n",
                agent.display()
            )
        );
    }
    // STRANDS_AGENT_FILE names the file too.
    let output = command(&fake, &dir)
        .arg("check")
        .env("STRANDS_AGENT_FILE", &agent)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let output = command(&fake, &dir).arg("check").output().unwrap();
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("check needs an agent file")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_agent_file_with_an_output_schema_answers_structured_output() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    let person = json!({"name": "Ana", "age": "31"});
    // JSON: the model answers in text, is forced once, then calls the output tool.
    fake.push(Reply::Stream(frames::text_turn(
        &["Ana is 31."],
        "end_turn",
    )));
    fake.push(Reply::Stream(tool_turn("s1", "Person", &person)));
    // Streaming: the model calls the output tool at once.
    fake.push(Reply::Stream(tool_turn("s2", "Person", &person)));
    let dir = workdir("structured");
    let agent = dir.join("agent.json");
    std::fs::write(
        &agent,
        json!({
            "model": "us.amazon.nova-lite-v1:0",
            // pydantic's `Person.model_json_schema()`, as it prints it
            "structured_output_schema": {
                "description": "A person.",
                "properties": {
                    "name": {"title": "Name", "type": "string"},
                    "age": {"title": "Age", "type": "integer"}
                },
                "required": ["name", "age"],
                "title": "Person",
                "type": "object"
            }
        })
        .to_string(),
    )
    .unwrap();
    let runtime = serve(&fake, &dir, &agent).await;
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/invocations", runtime.port);

    let body: Value = client
        .post(&url)
        .body(r#"{"prompt": "Who is Ana?"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"result": r#"{"name":"Ana","age":31}"#, "structured_output": {"name": "Ana", "age": 31}})
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let spec = &requests[0].body["toolConfig"]["tools"][0]["toolSpec"];
    assert_eq!(spec["name"], "Person");
    assert!(
        spec["description"]
            .as_str()
            .unwrap()
            .ends_with("<description>A person.</description>")
    );
    assert_eq!(
        requests[1].body["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "Person"}})
    );

    let body = client
        .post(&url)
        .body(r#"{"prompt": "Who is Ana?", "stream": true}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        body,
        "data: {\"structured_output\": {\"name\": \"Ana\", \"age\": 31}}\n\n"
    );

    // A schema that cannot describe an output stops `check` with the key and the fix.
    std::fs::write(
        &agent,
        r#"{"structured_output_schema": {"title": "P", "type": "object", "properties": {"age": {"type": "int"}}}}"#,
    )
    .unwrap();
    let output = command(&fake, &dir)
        .args(["check", "--agent"])
        .arg(&agent)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.ends_with(
            "structured_output_schema: properties.age.type: \"int\" is not a JSON schema type; use one of string, number, integer, boolean, array, object, null\n"
        ),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn http_request_and_shell_are_served_with_their_settings() {
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    // A service the agent may reach, on loopback (named exactly, so a private address is fine).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app =
        axum::Router::new().route("/status", axum::routing::get(|| async { "all systems go" }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://127.0.0.1:{port}/status");
    fake.push(Reply::Stream(tool_turn(
        "h1",
        "http_request",
        &json!({"method": "GET", "url": url}),
    )));
    fake.push(Reply::Stream(tool_turn(
        "h2",
        "http_request",
        &json!({"method": "GET", "url": "http://169.254.169.254/latest/meta-data/"}),
    )));
    fake.push(Reply::Stream(tool_turn(
        "s1",
        "shell",
        &json!({"command": "cat note.txt; echo \"[$AWS_SECRET_ACCESS_KEY]\""}),
    )));
    fake.push(Reply::Stream(frames::text_turn(&["Done."], "end_turn")));
    let dir = workdir("http-shell");
    std::fs::write(dir.join("note.txt"), "hello from the sandbox\n").unwrap();
    let agent = dir.join("agent.json");
    std::fs::write(
        &agent,
        json!({
            "model": "us.amazon.nova-lite-v1:0",
            "tools": ["strands.vended_tools.http_request", "shell"],
            "tool_settings": {
                "http_request": {"allowed_hosts": ["127.0.0.1", "*.amazonaws.com"], "timeout_seconds": 5},
                "shell": {"enabled": true, "directory": dir}
            }
        })
        .to_string(),
    )
    .unwrap();
    let runtime = serve(&fake, &dir, &agent).await;
    let body = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/invocations", runtime.port))
        .body(r#"{"prompt": "Check the status."}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, r#"{"result": "Done.\n"}"#);
    let requests = fake.requests();
    assert_eq!(requests.len(), 4);
    let fetched = tool_results(&requests[1].body);
    let answer: Value =
        serde_json::from_str(fetched[0]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["body"], "all systems go");
    let refused = tool_results(&requests[2].body);
    assert_eq!(
        refused[0]["content"][0]["text"],
        "Error: HttpRequestError - 169.254.169.254 is not an allowed host; allowed: 127.0.0.1, *.amazonaws.com"
    );
    // The command ran in the directory, without the server's credentials.
    let ran = tool_results(&requests[3].body);
    assert_eq!(
        ran[0]["content"][0]["text"],
        r#"{"output": "hello from the sandbox\n[]\n", "error": "", "exit_code": 0}"#
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The Python interpreter with the `mcp` package (`scripts/python-strands`), or `None` with a
/// note when it is not set up.
fn python() -> Option<String> {
    match std::env::var("STRANDS_PYTHON") {
        Ok(python) => Some(python),
        Err(_) => {
            assert!(
                std::env::var("STRANDS_REQUIRE_PYTHON").is_err(),
                "STRANDS_REQUIRE_PYTHON is set but STRANDS_PYTHON is not; run scripts/python-strands"
            );
            eprintln!("SKIPPED: set STRANDS_PYTHON to the interpreter from scripts/python-strands");
            None
        }
    }
}

fn fixture_server() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/mcp/fixture_server.py"
    )
    .to_owned()
}

/// The Python fixture MCP server over streamable HTTP on a free port; killed when dropped.
struct HttpMcpServer {
    child: Child,
    url: String,
}

impl Drop for HttpMcpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn http_mcp_server(python: &str) -> HttpMcpServer {
    let port = free_port();
    let child = Command::new(python)
        .args([fixture_server(), "http".to_owned(), port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = HttpMcpServer {
        child,
        url: format!("http://127.0.0.1:{port}/mcp"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the fixture MCP server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
}

/// Processes whose environment holds `marker` (the MCP servers a runtime started).
fn processes_marked(marker: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| {
            std::fs::read(entry.path().join("environ"))
                .is_ok_and(|env| env.windows(marker.len()).any(|w| w == marker.as_bytes()))
        })
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn mcp_servers_in_the_agent_file_lend_their_tools_and_are_reaped_on_sigterm() {
    let Some(python) = python() else { return };
    let http = http_mcp_server(&python).await;
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(tool_turn(
        "m1",
        "py_add",
        &json!({"a": 2, "b": 3}),
    )));
    fake.push(Reply::Stream(tool_turn(
        "m2",
        "web_echo",
        &json!({"text": "over HTTP"}),
    )));
    fake.push(Reply::Stream(tool_turn(
        "m3",
        "py_fail",
        &json!({"reason": "no luck"}),
    )));
    fake.push(Reply::Stream(frames::text_turn(
        &["5, echoed."],
        "end_turn",
    )));
    let dir = workdir("mcp");
    let marker = format!("STRANDS_MCP_TEST_MARKER_{}", free_port());
    let agent = dir.join("agent.json");
    std::fs::write(
        &agent,
        json!({
            "model": "us.anthropic.claude-sonnet-4-20250514-v1:0",
            "tools": ["calculator"],
            "mcpServers": {
                "local": {"command": python, "args": [fixture_server()], "env": {"MARKER": marker},
                          "prefix": "py", "tool_filters": {"rejected": ["crash", "big", "grow"]}},
                "remote": {"url": "${FIXTURE_URL}", "headers": {"Authorization": "Bearer ${FIXTURE_TOKEN}"},
                           "prefix": "web", "tool_filters": {"allowed": ["echo$"]}},
                // Never answers: /ping is not delayed, and the agent does without it.
                "stuck": {"command": "sleep", "args": ["600"], "startup_timeout": 1, "continue_on_error": true},
                "off": {"command": "${UNSET_VARIABLE}", "disabled": true}
            }
        })
        .to_string(),
    )
    .unwrap();

    let output = command(&fake, &dir)
        .args(["check", "--agent"])
        .arg(&agent)
        .env("FIXTURE_URL", &http.url)
        .env("FIXTURE_TOKEN", "fixture-token")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!(
            "ok: provider bedrock, model us.anthropic.claude-sonnet-4-20250514-v1:0, tools: calculator\nmcp servers: local ({python} (stdio)), remote ({}), stuck (sleep (stdio))\n",
            http.url
        )
    );

    let port = free_port();
    trace_logs::secret("fixture-token");
    let child = command(&fake, &dir)
        .args(["serve", "--agent"])
        .arg(&agent)
        .env("PORT", port.to_string())
        .env("FIXTURE_URL", &http.url)
        .env("FIXTURE_TOKEN", "fixture-token")
        .stdout(Stdio::null())
        .stderr(trace_logs::stderr("agent_file_binary_mcp"))
        .spawn()
        .unwrap();
    let mut runtime = Runtime { child, port };
    let started = Instant::now();
    let client = reqwest::Client::new();
    while client
        .get(format!("http://127.0.0.1:{port}/ping"))
        .send()
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "/ping waited for the MCP servers: {:?}",
        started.elapsed()
    );

    let body = client
        .post(format!("http://127.0.0.1:{port}/invocations"))
        .body(r#"{"prompt": "Add and echo."}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, r#"{"result": "5, echoed.\n"}"#);
    let requests = fake.requests();
    assert_eq!(requests.len(), 4);
    let tools: Vec<&str> = requests[0].body["toolConfig"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["toolSpec"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        [
            "calculator",
            "py_add",
            "py_echo",
            "py_pixel",
            "py_fail",
            "py_slow",
            "web_echo"
        ]
    );
    assert_eq!(
        tool_results(&requests[1].body),
        [json!({"toolUseId": "m1", "content": [{"text": "5"}], "status": "success"})]
    );
    assert_eq!(
        tool_results(&requests[2].body),
        [json!({"toolUseId": "m2", "content": [{"text": "over HTTP"}], "status": "success"})]
    );
    // The server's isError reaches the model (mcp 2.x does not pass the exception's text on).
    assert_eq!(
        tool_results(&requests[3].body),
        [
            json!({"toolUseId": "m3", "content": [{"text": "Error executing tool fail"}], "status": "error"})
        ]
    );

    // SIGTERM: the runtime stops and its MCP server processes are gone.
    assert_eq!(processes_marked(&marker).len(), 1);
    let status = Command::new("kill")
        .args(["-TERM", &runtime.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while runtime.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the runtime did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        processes_marked(&marker).is_empty(),
        "MCP server processes outlived the runtime"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Normalises a tool result for comparison across the two stacks: content and status (Python
/// adds `isError`, `metadata` and `structuredContent`, which models never see), image bytes as
/// base64.
fn result_content(result: &Value) -> Value {
    let mut content = result["content"].clone();
    for block in content.as_array_mut().into_iter().flatten() {
        if let Some(bytes) = block.pointer_mut("/image/source/bytes")
            && let Some(data) = bytes.get("data").cloned()
        {
            *bytes = data;
        }
    }
    json!({"status": result["status"], "content": content})
}

#[tokio::test]
async fn serve_protocol_mcp_serves_the_tools_and_the_agent_to_python_strands_and_to_ours() {
    let Some(python) = python() else { return };
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(
        &["Hello from the agent."],
        "end_turn",
    )));
    fake.push(Reply::Stream(frames::text_turn(
        &["Hello from the agent."],
        "end_turn",
    )));
    let dir = workdir("mcp-protocol");
    let agent = dir.join("agent.json");
    std::fs::write(
        &agent,
        json!({
            "name": "greeter",
            "model": "us.amazon.nova-lite-v1:0",
            "tools": ["calculator"],
            "mcpServers": {"py": {"command": python, "args": [fixture_server()], "tool_filters": {"allowed": ["add$", "pixel$"]}}}
        })
        .to_string(),
    )
    .unwrap();
    let port = free_port();
    let child = command(&fake, &dir)
        .args(["serve", "--protocol", "mcp", "--agent"])
        .arg(&agent)
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(trace_logs::stderr("agent_file_binary_mcp_protocol"))
        .spawn()
        .unwrap();
    let _runtime = Runtime { child, port };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client
        .get(format!("http://127.0.0.1:{port}/ping"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(Instant::now() < deadline, "no /ping");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let url = format!("http://127.0.0.1:{port}/mcp");
    let calls = json!([
        ["calculator", {"expression": "6 * 7"}],
        ["add", {"a": 2, "b": 40}],
        ["pixel", {}],
        ["greeter", {"input": "Say hello."}],
        ["calculator", {"expression": "1 / 0"}]
    ]);

    // Python Strands' MCPClient, with a platform-style Mcp-Session-Id on every request.
    let started = Instant::now();
    // Off the test's runtime thread, which serves the fake Bedrock the agent calls.
    let mut python_client = Command::new(&python);
    python_client
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/mcp/python_client.py"
        ))
        .arg(&url)
        .arg(calls.to_string());
    let output = tokio::task::spawn_blocking(move || python_client.output().unwrap())
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "python client: {:?}\n{}",
        started.elapsed(),
        String::from_utf8_lossy(&output.stderr)
    );
    let python_side: Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = python_side["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["calculator", "greeter", "add", "pixel"]);
    let greeter = &python_side["tools"][1];
    assert_eq!(greeter["inputSchema"]["json"]["required"], json!(["input"]));
    let python_results: Vec<Value> = python_side["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(result_content)
        .collect();
    assert_eq!(
        python_results[0],
        json!({"status": "success", "content": [{"text": "Result: 42"}]})
    );
    assert_eq!(python_results[1]["content"], json!([{"text": "42"}]));
    assert_eq!(python_results[2]["content"][0]["image"]["format"], "png");
    assert_eq!(
        python_results[3],
        json!({"status": "success", "content": [{"text": "Hello from the agent.\n"}]})
    );
    assert_eq!(python_results[4]["status"], "error");

    // Our client gets the same tools and the same results.
    let ours = strands_runtime::mcp::McpClient::builder(
        "runtime",
        strands_runtime::mcp::McpTransport::http(&url),
    )
    .start();
    let tools = ours.load_tools().await.unwrap();
    let our_names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
    assert_eq!(our_names, names);
    for (index, call) in calls.as_array().unwrap().iter().enumerate() {
        let tool = tools.iter().find(|t| t.name() == call[0]).unwrap();
        let mut stream =
            tool.stream(
                strands_runtime::core::tools::ToolUse::new("r", tool.name(), call[1].clone()),
                strands_runtime::core::ToolContext::new(
                    strands_runtime::core::CancellationToken::new(),
                ),
            );
        let mut result = None;
        while let Some(event) = futures_util::StreamExt::next(&mut stream).await {
            if let strands_runtime::core::ToolEvent::Result(r) = event {
                result = Some(serde_json::to_value(r).unwrap());
            }
        }
        assert_eq!(
            result_content(&result.unwrap()),
            python_results[index],
            "{call}"
        );
    }
    ours.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The names of the tools a Converse request offers.
fn offered(request: &Value) -> Vec<String> {
    request["toolConfig"]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| t["toolSpec"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn tool_search_on_a_sigv4_gateway_offers_each_invocation_the_tools_found() {
    use strands_testkit::gateway::{FakeGateway, SEARCH_TOOL};

    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    // The runtime's own credentials sign the Gateway's requests too.
    let gateway = FakeGateway::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    // The intent (Python's StrandsIntentProvider asks the agent's model), then the tool turn.
    fake.push(Reply::Stream(frames::text_turn(
        &["Get the weather forecast"],
        "end_turn",
    )));
    fake.push(Reply::Stream(tool_turn(
        "g1",
        "weather___get_forecast",
        &json!({"city": "Paris"}),
    )));
    fake.push(Reply::Stream(frames::text_turn(&["Sunny."], "end_turn")));
    let dir = workdir("tool-search");
    let agent = dir.join("agent.json");
    std::fs::write(
        &agent,
        json!({
            "model": "us.anthropic.claude-sonnet-4-20250514-v1:0",
            "tools": ["calculator"],
            "mcpServers": {
                "gateway": {"url": gateway.url(), "auth": {"type": "sigv4", "region": "us-east-1"},
                            "tool_search": true}
            }
        })
        .to_string(),
    )
    .unwrap();
    let output = command(&fake, &dir)
        .args(["check", "--agent"])
        .arg(&agent)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.ends_with(&format!(
            "mcp servers: gateway ({} (SigV4), tool search)\n",
            gateway.url()
        )),
        "{stdout}"
    );

    let runtime = serve(&fake, &dir, &agent).await;
    let body = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/invocations", runtime.port))
        .body(r#"{"prompt": "Will it rain in Paris tomorrow?"}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, r#"{"result": "Sunny.\n"}"#);
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    // The intent request: Python's system prompt, no tools, the user's words.
    let intent = &requests[0].body;
    assert!(
        intent["system"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("You are an intent classifier."),
        "{intent}"
    );
    assert!(intent.get("toolConfig").is_none(), "{intent}");
    assert_eq!(
        intent["messages"],
        json!([{"role": "user", "content": [{"text": "Will it rain in Paris tomorrow?"}]}])
    );
    // Only the tools found, after the agent's own; never the Gateway's whole list.
    assert_eq!(
        offered(&requests[1].body),
        [
            "calculator",
            "weather___get_forecast",
            "weather___get_alerts"
        ]
    );
    assert_eq!(
        tool_results(&requests[2].body),
        [
            json!({"toolUseId": "g1", "content": [{"text": "Forecast for Paris: sunny, 21 C"}], "status": "success"})
        ]
    );
    let calls: Vec<(String, Value)> = gateway
        .requests()
        .into_iter()
        .filter(|r| r.method == "tools/call")
        .map(|r| {
            (
                r.params["name"].as_str().unwrap().to_owned(),
                r.params["arguments"].clone(),
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            (
                SEARCH_TOOL.to_owned(),
                json!({"query": "Get the weather forecast"})
            ),
            (
                "weather___get_forecast".to_owned(),
                json!({"city": "Paris"})
            )
        ]
    );
    assert!(
        gateway
            .requests()
            .iter()
            .all(|r| r.auth == strands_testkit::bedrock::AuthOutcome::Accepted),
        "a Gateway request was not signed with the runtime's credentials"
    );
    drop(runtime);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn oauth_client_credentials_in_the_agent_file_reach_a_gateway_with_no_secret_logged() {
    use strands_testkit::gateway::FakeGateway;

    const CLIENT_SECRET: &str = "gateway-oauth-secret-for-the-agent-file";
    trace_logs::secret(CLIENT_SECRET);
    // The fake's first token: tokens are secrets too.
    trace_logs::secret("gw-token-1");
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    let gateway = FakeGateway::start_oauth("agent-file", CLIENT_SECRET, Duration::from_secs(3600))
        .await
        .unwrap();
    fake.push(Reply::Stream(tool_turn(
        "o1",
        "gw_orders___lookup_order",
        &json!({"order_id": "42"}),
    )));
    fake.push(Reply::Stream(frames::text_turn(&["Shipped."], "end_turn")));
    let dir = workdir("oauth");
    let agent = dir.join("agent.json");
    std::fs::write(
        &agent,
        json!({
            "model": "us.anthropic.claude-sonnet-4-20250514-v1:0",
            "mcpServers": {
                "gateway": {"url": gateway.url(), "prefix": "gw",
                            "auth": {"client_id": "agent-file", "client_secret": "${GATEWAY_SECRET}"}}
            }
        })
        .to_string(),
    )
    .unwrap();
    let port = free_port();
    let child = command(&fake, &dir)
        .args(["serve", "--agent"])
        .arg(&agent)
        .env("PORT", port.to_string())
        .env("GATEWAY_SECRET", CLIENT_SECRET)
        .stdout(Stdio::null())
        .stderr(trace_logs::stderr("agent_file_binary_oauth"))
        .spawn()
        .unwrap();
    let runtime = Runtime { child, port };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        assert!(Instant::now() < deadline, "the runtime did not answer");
        match client
            .post(format!("http://127.0.0.1:{port}/invocations"))
            .body(r#"{"prompt": "Where is order 42?"}"#)
            .send()
            .await
        {
            Ok(response) => break response.text().await.unwrap(),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    assert_eq!(body, r#"{"result": "Shipped.\n"}"#);
    let requests = fake.requests();
    assert_eq!(
        tool_results(&requests[1].body),
        [
            json!({"toolUseId": "o1", "content": [{"text": "Order 42: shipped"}], "status": "success"})
        ]
    );
    let grants: Vec<_> = gateway
        .oauth_requests()
        .into_iter()
        .filter(|r| r.path == "/token")
        .collect();
    assert_eq!(grants.len(), 1);
    assert_eq!(
        grants[0].basic.as_deref(),
        Some(format!("agent-file:{CLIENT_SECRET}").as_str())
    );
    drop(runtime);
    std::fs::remove_dir_all(&dir).unwrap();
}
