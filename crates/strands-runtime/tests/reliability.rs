//! Reliability of the `strands-runtime` binary, end to end: hostile HTTP over raw TCP, slow and
//! vanishing clients, a faulty Bedrock (down, throttling and 503 storms, a hang, a stall, a cut
//! stream, garbage frames) and SIGTERM with answers in flight. The binary runs against the fake
//! Bedrock of `strands-testkit`, with its timeouts cut to a second or two through its environment
//! (`HEADER_READ_TIMEOUT_SECONDS`, `BODY_READ_TIMEOUT_SECONDS`, `MODEL_RETRY_MAX_SECONDS`, ...), so
//! the file runs in seconds.
//!
//! What must hold throughout: a client's mistake is never a `5xx`; every `4xx` the app writes has
//! a JSON body; `/ping` answers between cases and the process stays alive; after a turn that
//! failed, was cancelled or was cut, the same session answers its next call at once, and Bedrock
//! then receives a history whose roles alternate, the broken turn closed by the agent's
//! "No response" message.
//!
//! `STRANDS_RUNTIME_BIN=<absolute path>` runs another build of the binary instead of the one
//! cargo built for the test, such as a release build:
//!
//! ```text
//! cargo build --release -p strands-runtime
//! STRANDS_RUNTIME_BIN=$PWD/target/release/strands-runtime cargo test -p strands-runtime --test reliability
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]
#![cfg(unix)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::Value;
use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Frame, Reply, frames};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

use common::trace_logs;

const AKID: &str = "AKIDRELIABILITYTEST1";
const SECRET: &str = "reliability-test-secret-0000000000000000";
const MODEL_ID: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const SESSION_HEADER: &str = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id";
/// The assistant message that closes a turn left without an answer.
const NO_RESPONSE: &str = "No response: the previous turn ended before an answer.";
/// The longest any single exchange may take before the test fails instead of waiting.
const PATIENCE: Duration = Duration::from_secs(15);
/// How fast a session must answer after a broken turn (the model answers at once).
const PROMPTLY: Duration = Duration::from_secs(5);
/// The body limit the hostile-HTTP runtime is given through `MAX_BODY_BYTES_IN_FLIGHT`, which
/// also bounds a single body (the 100 MB default would make the edge cases slow).
const BODY_LIMIT: usize = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The binary

fn binary() -> PathBuf {
    std::env::var_os("STRANDS_RUNTIME_BIN")
        .filter(|path| !path.is_empty())
        .map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_strands-runtime")),
            PathBuf::from,
        )
}

/// A running binary; killed when dropped.
struct Runtime {
    child: Child,
    addr: SocketAddr,
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

/// Starts the binary against Bedrock at `endpoint` with `extra` settings (on top of a one-second
/// retry budget) and waits for `/ping`.
async fn start(endpoint: &str, extra: &[(&str, &str)]) -> Runtime {
    let port = free_port();
    let mut command = Command::new(binary());
    command
        .env_clear()
        .env(
            "HOME",
            std::env::temp_dir().join(format!("strands-reliability-{port}")),
        )
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", endpoint)
        .env("MODEL_ID", MODEL_ID)
        .env("MODEL_RETRY_MAX_SECONDS", "1")
        .env("LOG_LEVEL", trace_logs::level())
        .stdout(Stdio::null())
        .stderr(trace_logs::stderr("reliability"));
    trace_logs::secret(AKID);
    trace_logs::secret(SECRET);
    for (name, value) in extra {
        command.env(name, value);
    }
    let runtime = Runtime {
        child: command
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", binary().display())),
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Ok(mut stream)) =
            tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(runtime.addr)).await
        {
            let _ = stream.write_all(PING).await;
            let mut answer = Vec::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(1), stream.read_to_end(&mut answer)).await;
            if answer.starts_with(b"HTTP/1.1 200") {
                return runtime;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the runtime did not answer /ping within 30 s");
}

async fn fake_bedrock() -> FakeBedrock {
    FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap()
}

const PING: &[u8] = b"GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

/// An answer to an invocation.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    body: String,
    elapsed: Duration,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl Runtime {
    /// Panics if the process has exited.
    fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("the runtime exited: {status}");
        }
    }

    /// `/ping`'s status; panics unless it answers 200 within [`PATIENCE`].
    async fn ping(&self) -> String {
        let reply = exchange(self.addr, PING, false).await;
        assert_eq!(reply.status, Some(200), "/ping: {}", reply.show());
        reply.json()["status"].as_str().unwrap().to_owned()
    }

    /// Polls `/ping` until it says `status`.
    async fn ping_until(&self, status: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let now = self.ping().await;
            if now == status {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "/ping stayed {now}, not {status}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `POST /invocations` with `{"prompt": prompt, "stream": stream}` in `session`; the whole
    /// answer (an SSE stream read to its end).
    async fn invoke(&self, session: &str, prompt: &str, stream: bool) -> Answer {
        let started = Instant::now();
        let response = reqwest::Client::builder()
            .timeout(PATIENCE)
            .build()
            .unwrap()
            .post(format!("http://{}/invocations", self.addr))
            .header(SESSION_HEADER, session)
            .json(&serde_json::json!({"prompt": prompt, "stream": stream}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("no answer to {prompt:?}: {e}"));
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("the answer to {prompt:?} broke: {e}"));
        Answer {
            status,
            content_type,
            body,
            elapsed: started.elapsed(),
        }
    }

    /// Waits for the process to exit.
    async fn exit_within(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running after {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends SIGTERM.
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// A session id as AgentCore sends them (at least 33 characters).
fn session(name: &str) -> String {
    format!("reliability-session-{name}-0000000000000000")
}

/// A 5xx with a JSON `{"error": ...}` body containing `needle`, heard within `within`.
fn assert_clean_server_error(answer: &Answer, needle: &str, within: Duration) {
    assert!(
        (500..600).contains(&answer.status),
        "not a server error: {answer:?}"
    );
    assert_eq!(answer.content_type, "application/json", "{answer:?}");
    let error = answer.json()["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message: {answer:?}"))
        .to_owned();
    assert!(error.contains(needle), "{needle:?} not in {error:?}");
    assert!(
        answer.elapsed < within,
        "the error took {:?} (more than {within:?})",
        answer.elapsed
    );
}

/// A 200 SSE answer whose last frame is Python's error frame with `needle` in its message.
fn assert_stream_ended_with_error(answer: &Answer, needle: &str) {
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(
        answer.content_type.starts_with("text/event-stream"),
        "{answer:?}"
    );
    let last = answer
        .body
        .trim_end()
        .rsplit("\n\n")
        .next()
        .and_then(|frame| frame.strip_prefix("data: "))
        .unwrap_or_else(|| panic!("no frame: {answer:?}"));
    let frame: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert_eq!(
        frame["message"], "An error occurred during streaming",
        "{answer:?}"
    );
    assert!(
        frame["error"].as_str().is_some_and(|e| e.contains(needle)),
        "{needle:?} not in {frame}"
    );
}

/// The next call of `session` is answered at once and in full, and Bedrock receives the history
/// `failed_prompt`, the agent's "No response" message, the new prompt: roles alternating.
async fn assert_session_recovers(
    runtime: &mut Runtime,
    fake: &FakeBedrock,
    session: &str,
    failed_prompt: &str,
) {
    runtime.assert_alive();
    fake.push(Reply::Stream(frames::text_turn(
        &["Recovered", "."],
        "end_turn",
    )));
    let before = fake.requests().len();
    let answer = runtime.invoke(session, "Are you there?", false).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body, r#"{"result": "Recovered.\n"}"#);
    assert!(
        answer.elapsed < PROMPTLY,
        "the session answered after {:?}",
        answer.elapsed
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), before + 1, "one model call");
    let turns: Vec<(&str, &str)> = requests[before].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap(),
                m["content"][0]["text"].as_str().unwrap_or("(not text)"),
            )
        })
        .collect();
    for (i, (role, _)) in turns.iter().enumerate() {
        let expected = if i % 2 == 0 { "user" } else { "assistant" };
        assert_eq!(*role, expected, "roles do not alternate: {turns:?}");
    }
    assert_eq!(
        turns,
        [
            ("user", failed_prompt),
            ("assistant", NO_RESPONSE),
            ("user", "Are you there?"),
        ]
    );
    runtime.ping_until("Healthy").await;
    runtime.assert_alive();
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

/// What came back on a raw connection: `status` is `None` when it closed without an answer.
struct RawReply {
    status: Option<u16>,
    head: String,
    body: Vec<u8>,
    bytes: Vec<u8>,
}

impl RawReply {
    fn parse(bytes: Vec<u8>) -> Self {
        let mut rest = bytes.as_slice();
        loop {
            let Some(split) = rest.windows(4).position(|w| w == b"\r\n\r\n") else {
                return Self {
                    status: None,
                    head: String::new(),
                    body: Vec::new(),
                    bytes,
                };
            };
            let head = String::from_utf8_lossy(&rest[..split]).into_owned();
            let status = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse::<u16>().ok())
                .unwrap_or_else(|| panic!("not an HTTP answer: {head}"));
            rest = &rest[split + 4..];
            if (100..200).contains(&status) {
                continue; // an interim answer such as 100 Continue
            }
            let lower = head.to_ascii_lowercase();
            let body = if lower.contains("\r\ntransfer-encoding: chunked") {
                dechunk(rest)
            } else {
                rest.to_vec()
            };
            return Self {
                status: Some(status),
                head,
                body,
                bytes,
            };
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.show()))
    }

    fn show(&self) -> String {
        let text = String::from_utf8_lossy(&self.bytes);
        let mut end = text.len().min(600);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{:?}", &text[..end])
    }
}

/// The data of a chunked body, as far as it is well-formed.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
        let Some(size) = size.filter(|&n| n > 0 && line_end + 2 + n <= data.len()) else {
            break;
        };
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[(line_end + 4 + size).min(data.len())..];
    }
    out
}

/// Sends `request` on a new connection while reading, and reads until the server closes. A
/// server may answer and close before it has read everything, so a failed write is part of the
/// case, not an error. With `half_close`, the client shuts its side once the request is sent
/// (a body cut short).
async fn exchange(addr: SocketAddr, request: &[u8], half_close: bool) -> RawReply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.split();
    let write = async {
        if writer.write_all(request).await.is_ok() && half_close {
            let _ = writer.shutdown().await;
        }
    };
    let read = async {
        let mut bytes = Vec::new();
        let mut buf = vec![0_u8; 64 * 1024];
        // A reset after the answer (the server closing with bytes unread) ends the read too.
        while let Ok(n @ 1..) = reader.read(&mut buf).await {
            bytes.extend_from_slice(&buf[..n]);
        }
        bytes
    };
    let ((), bytes) = tokio::time::timeout(PATIENCE, async { tokio::join!(write, read) })
        .await
        .unwrap_or_else(|_| panic!("neither answered nor closed within {PATIENCE:?}"));
    RawReply::parse(bytes)
}

/// `POST /invocations` with these header lines (each ending in `\r\n`) and body, verbatim.
fn invocation(headers: impl AsRef<[u8]>, body: &[u8]) -> Vec<u8> {
    let mut request =
        b"POST /invocations HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n".to_vec();
    request.extend_from_slice(headers.as_ref());
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(body);
    request
}

/// `POST /invocations` with a `Content-Length` body.
fn json_invocation(body: &[u8]) -> Vec<u8> {
    invocation(format!("Content-Length: {}\r\n", body.len()), body)
}

/// `body` as one HTTP chunk per `size` bytes, then the last chunk.
fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A JSON object of exactly `len` bytes with no `"prompt"` string.
fn padded_object(len: usize) -> Vec<u8> {
    let frame = r#"{"prompt": 1, "pad": ""}"#;
    let pad = "a".repeat(len - frame.len());
    format!(r#"{{"prompt": 1, "pad": "{pad}"}}"#).into_bytes()
}

/// What a hostile request must get.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// The app's answer: this status, `application/json`, an object whose `error` is a string,
    /// and this text somewhere in the body.
    App(u16, &'static str),
    /// hyper's answer before the app sees the request: this status.
    Hyper(u16),
    /// hyper's answer, or a close with nothing: with request bytes left unread, the close is a
    /// reset that may overtake the answer.
    HyperOrClosed(u16),
    /// No HTTP/1.1 answer: the connection closes.
    Closed,
}

struct Case {
    name: &'static str,
    request: Vec<u8>,
    half_close: bool,
    expect: Expect,
}

fn case(name: &'static str, request: Vec<u8>, expect: Expect) -> Case {
    Case {
        name,
        request,
        half_close: false,
        expect,
    }
}

fn hostile_cases() -> Vec<Case> {
    use Expect::{App, Closed, Hyper, HyperOrClosed};
    const BAD_BODY: &str = "Invalid request body";
    const NO_PROMPT: &str = r#"needs a \"prompt\": a string"#;
    const TOO_LARGE: &str = "Payload too large";
    const INVALID_JSON: &str = "Invalid JSON";
    let te = "Transfer-Encoding: chunked\r\n";
    let deep_open = "[".repeat(100_000);
    let deep_closed = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_objects = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    let many_headers: String = (0..1000)
        .map(|i| format!("X-Header-{i}: {i}\r\n"))
        .collect();
    let big_header = format!("X-Big: {}\r\n", "a".repeat(500 * 1024));
    vec![
        // Framing.
        case(
            "a chunk size that is not hex",
            invocation(te, b"zz\r\n{}\r\n0\r\n\r\n"),
            App(400, BAD_BODY),
        ),
        case(
            "a chunk size past u64",
            invocation(te, b"fffffffffffffffffffff\r\n{}\r\n0\r\n\r\n"),
            App(400, BAD_BODY),
        ),
        case(
            "a chunk longer than its size",
            invocation(te, b"2\r\n{}XX\r\n0\r\n\r\n"),
            App(400, BAD_BODY),
        ),
        Case {
            half_close: true,
            ..case(
                "a Content-Length body cut short",
                invocation("Content-Length: 100\r\n", br#"{"prompt":"#),
                App(400, BAD_BODY),
            )
        },
        Case {
            half_close: true,
            ..case(
                "a chunked body cut short",
                invocation(te, b"40\r\n{\"prompt\": \"h"),
                App(400, BAD_BODY),
            )
        },
        case(
            "Content-Length and Transfer-Encoding together",
            invocation(
                "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                b"2\r\n{}\r\n0\r\n\r\n",
            ),
            App(400, NO_PROMPT),
        ),
        case(
            "Content-Length and Transfer-Encoding on a kept-alive connection, then a pipelined request",
            b"POST /invocations HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\
              Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n\
              GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n"
                .to_vec(),
            // One answer, then the connection closes (RFC 9112 6.3): the JSON body check fails
            // if a second answer follows.
            App(400, NO_PROMPT),
        ),
        case(
            "two different Content-Lengths",
            invocation("Content-Length: 2\r\nContent-Length: 3\r\n", b"{}"),
            Hyper(400),
        ),
        case(
            "a Content-Length that is not a number",
            invocation("Content-Length: two\r\n", b"{}"),
            Hyper(400),
        ),
        case(
            "a negative Content-Length",
            invocation("Content-Length: -1\r\n", b"{}"),
            Hyper(400),
        ),
        case(
            "a Transfer-Encoding other than chunked",
            invocation("Transfer-Encoding: gzip\r\n", b"{}"),
            Hyper(400),
        ),
        // Header sections.
        case(
            "a header section of 500 KiB",
            invocation(&big_header, b""),
            HyperOrClosed(431),
        ),
        case(
            "1000 headers",
            invocation(&many_headers, b""),
            HyperOrClosed(431),
        ),
        case(
            "a NUL in a header value",
            invocation("X-Bad: a\0b\r\n", b""),
            Hyper(400),
        ),
        case(
            "a space in a header name",
            invocation("Bad Name: x\r\n", b""),
            Hyper(400),
        ),
        case(
            "a folded header line",
            invocation("X-Folded: a\r\n b\r\n", b""),
            Hyper(400),
        ),
        case(
            "a request line of garbage",
            b"GARBAGE\r\n\r\n".to_vec(),
            Hyper(400),
        ),
        case(
            "a URI of 70 KiB",
            format!(
                "GET /ping?{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "a".repeat(70 * 1024)
            )
            .into_bytes(),
            HyperOrClosed(414),
        ),
        case(
            "non-UTF-8 bytes in header values, the session id included",
            invocation(
                [
                    b"Content-Length: 2\r\nX-Name: caf\xe9\r\n".as_slice(),
                    SESSION_HEADER.as_bytes(),
                    b": session-\xff\xfe-0000000000000000000000000\r\n",
                ]
                .concat(),
                b"{}",
            ),
            App(400, NO_PROMPT),
        ),
        case(
            "an HTTP/2 preface followed by garbage",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nthis is not a SETTINGS frame at all".to_vec(),
            Closed,
        ),
        // Sizes.
        case(
            "a declared Content-Length of 150 MB, never sent",
            invocation("Content-Length: 150000000\r\n", b""),
            App(413, TOO_LARGE),
        ),
        case(
            "a declared Content-Length one byte over the limit, never sent",
            invocation(format!("Content-Length: {}\r\n", BODY_LIMIT + 1), b""),
            App(413, TOO_LARGE),
        ),
        case(
            "Expect: 100-continue over the limit",
            invocation(
                format!(
                    "Content-Length: {}\r\nExpect: 100-continue\r\n",
                    BODY_LIMIT + 1
                ),
                b"",
            ),
            App(413, TOO_LARGE),
        ),
        case(
            "a chunked body one byte over the limit",
            invocation(te, &chunked(&padded_object(BODY_LIMIT + 1), 64 * 1024)),
            App(413, TOO_LARGE),
        ),
        case(
            "a body of exactly the limit",
            json_invocation(&padded_object(BODY_LIMIT)),
            App(400, NO_PROMPT),
        ),
        case(
            "a chunked body of exactly the limit",
            invocation(te, &chunked(&padded_object(BODY_LIMIT), 64 * 1024)),
            App(400, NO_PROMPT),
        ),
        // Bodies.
        case(
            "100k unclosed [",
            json_invocation(deep_open.as_bytes()),
            App(400, INVALID_JSON),
        ),
        case(
            "100k nested arrays, closed",
            json_invocation(deep_closed.as_bytes()),
            App(400, INVALID_JSON),
        ),
        case(
            "100k nested objects",
            json_invocation(deep_objects.as_bytes()),
            App(400, INVALID_JSON),
        ),
        case(
            "invalid UTF-8",
            json_invocation(b"{\"prompt\": \"\xff\xfe\"}"),
            App(400, "Invalid encoding"),
        ),
        case(
            "a lone surrogate escape",
            json_invocation(br#"{"prompt": "\ud800"}"#),
            App(400, INVALID_JSON),
        ),
        case(
            "an empty body",
            json_invocation(b""),
            App(400, INVALID_JSON),
        ),
        case(
            "trailing garbage",
            json_invocation(br#"{"prompt": "hi"} and more"#),
            App(400, INVALID_JSON),
        ),
        case(
            "a number out of range",
            json_invocation(br#"{"prompt": 1e999999}"#),
            App(400, INVALID_JSON),
        ),
        case("an array", json_invocation(b"[]"), App(400, NO_PROMPT)),
        case("a string", json_invocation(br#""hi""#), App(400, NO_PROMPT)),
        case("a number", json_invocation(b"42"), App(400, NO_PROMPT)),
        case("null", json_invocation(b"null"), App(400, NO_PROMPT)),
        case("true", json_invocation(b"true"), App(400, NO_PROMPT)),
        case("no prompt", json_invocation(b"{}"), App(400, NO_PROMPT)),
        case(
            "a prompt that is a number",
            json_invocation(br#"{"prompt": 1}"#),
            App(400, NO_PROMPT),
        ),
        case(
            "a prompt that is null",
            json_invocation(br#"{"prompt": null}"#),
            App(400, NO_PROMPT),
        ),
        case(
            "a prompt that is an object",
            json_invocation(br#"{"prompt": {"text": "hi"}}"#),
            App(400, NO_PROMPT),
        ),
    ]
}

fn check(case: &Case, reply: &RawReply) {
    let name = case.name;
    if let Some(status) = reply.status {
        assert!(status < 500, "{name}: a server error: {}", reply.show());
    }
    match case.expect {
        Expect::App(status, needle) => {
            assert_eq!(reply.status, Some(status), "{name}: {}", reply.show());
            assert_eq!(
                reply.header("content-type"),
                Some("application/json"),
                "{name}: {}",
                reply.show()
            );
            assert!(
                reply.json()["error"].is_string(),
                "{name}: {}",
                reply.show()
            );
            assert!(
                String::from_utf8_lossy(&reply.body).contains(needle),
                "{name}: {needle:?} not in {}",
                reply.show()
            );
        }
        Expect::Hyper(status) => {
            assert_eq!(reply.status, Some(status), "{name}: {}", reply.show());
        }
        Expect::HyperOrClosed(status) => {
            assert!(
                reply.status.is_none_or(|s| s == status),
                "{name}: {}",
                reply.show()
            );
        }
        Expect::Closed => assert_eq!(reply.status, None, "{name}: {}", reply.show()),
    }
}

#[tokio::test]
async fn hostile_http_gets_4xx_answers_and_never_stops_the_server() {
    // No reply is scripted: a request that reached the model would be a 500.
    let fake = fake_bedrock().await;
    let limit = BODY_LIMIT.to_string();
    let mut runtime = start(
        &fake.endpoint_url(),
        &[
            ("MAX_BODY_BYTES_IN_FLIGHT", &limit),
            ("BODY_READ_TIMEOUT_SECONDS", "5"),
        ],
    )
    .await;
    for case in hostile_cases() {
        let reply = exchange(runtime.addr, &case.request, case.half_close).await;
        check(&case, &reply);
        runtime.assert_alive();
        assert_eq!(runtime.ping().await, "Healthy", "after {}", case.name);
    }
    assert!(fake.requests().is_empty(), "no case reached the model");
}

// ---------------------------------------------------------------------------------------------
// Slow and disconnecting clients

/// Whether the server has closed `stream` (reading what it sent meanwhile, without waiting).
fn closed(stream: &TcpStream) -> bool {
    let mut buf = [0_u8; 1024];
    loop {
        match stream.try_read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

#[tokio::test]
async fn slowloris_and_silent_connections_are_closed_while_ping_answers() {
    let fake = fake_bedrock().await;
    let mut runtime = start(
        &fake.endpoint_url(),
        &[
            ("HEADER_READ_TIMEOUT_SECONDS", "1"),
            ("IDLE_TIMEOUT_SECONDS", "1"),
        ],
    )
    .await;
    let started = Instant::now();
    let silent = TcpStream::connect(runtime.addr).await.unwrap();
    let mut slow = Vec::new();
    for _ in 0..16 {
        let mut stream = TcpStream::connect(runtime.addr).await.unwrap();
        stream
            .write_all(b"POST /invocations HTTP/1.1\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    // A header line now and then: never idle, never finished.
    loop {
        let mut open = 0;
        for stream in &mut slow {
            if !closed(stream) && stream.write_all(b"X-Slow: 1\r\n").await.is_ok() {
                open += 1;
            }
        }
        if open == 0 && closed(&silent) {
            break;
        }
        assert_eq!(runtime.ping().await, "Healthy");
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{open} slow connections still open after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed before the timeouts: {:?}",
        started.elapsed()
    );
    runtime.assert_alive();
}

#[tokio::test]
async fn an_unfinished_body_gets_408_and_ping_stays_healthy_meanwhile() {
    let fake = fake_bedrock().await;
    let mut runtime = start(
        &fake.endpoint_url(),
        &[
            ("BODY_READ_TIMEOUT_SECONDS", "1"),
            ("IDLE_TIMEOUT_SECONDS", "5"),
        ],
    )
    .await;
    let started = Instant::now();
    let addr = runtime.addr;
    let unfinished = tokio::spawn(async move {
        exchange(
            addr,
            &invocation("Content-Length: 100\r\n", br#"{"prompt": "#),
            false,
        )
        .await
    });
    while !unfinished.is_finished() {
        assert_eq!(
            runtime.ping().await,
            "Healthy",
            "a body still arriving is not work"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reply = unfinished.await.unwrap();
    assert_eq!(reply.status, Some(408), "{}", reply.show());
    assert_eq!(reply.json()["error"], "Request timeout");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(runtime.ping().await, "Healthy");
    runtime.assert_alive();
}

/// Reads `stream` until `marker` has arrived; everything read so far.
async fn read_until(stream: &mut TcpStream, marker: &str) -> String {
    let mut bytes = Vec::new();
    let mut buf = [0_u8; 4096];
    tokio::time::timeout(PATIENCE, async {
        while !String::from_utf8_lossy(&bytes).contains(marker) {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "closed before {marker:?}: {}",
                String::from_utf8_lossy(&bytes)
            );
            bytes.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {marker:?} within {PATIENCE:?}"));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Waits until the fake has received `count` requests.
async fn model_calls(fake: &FakeBedrock, count: usize) {
    let deadline = Instant::now() + PATIENCE;
    while fake.requests().len() < count {
        assert!(
            Instant::now() < deadline,
            "{} model calls, not {count}",
            fake.requests().len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An invocation of `session` sent on a raw connection.
async fn raw_invocation(runtime: &Runtime, session: &str, prompt: &str, stream: bool) -> TcpStream {
    let body = serde_json::json!({"prompt": prompt, "stream": stream}).to_string();
    let mut connection = TcpStream::connect(runtime.addr).await.unwrap();
    connection
        .write_all(&invocation(
            format!(
                "Content-Length: {}\r\n{SESSION_HEADER}: {session}\r\n",
                body.len()
            ),
            body.as_bytes(),
        ))
        .await
        .unwrap();
    connection
}

#[tokio::test]
async fn a_client_leaving_mid_json_frees_its_session_at_once() {
    let fake = fake_bedrock().await;
    fake.push(Reply::Hang);
    let mut runtime = start(&fake.endpoint_url(), &[]).await;
    let session = session("leaves-mid-json");
    let client = raw_invocation(&runtime, &session, "Tell me everything.", false).await;
    model_calls(&fake, 1).await;
    assert_eq!(runtime.ping().await, "HealthyBusy");
    drop(client);
    assert_session_recovers(&mut runtime, &fake, &session, "Tell me everything.").await;
}

#[tokio::test]
async fn a_client_leaving_mid_stream_frees_its_session_at_once() {
    let fake = fake_bedrock().await;
    fake.push(Reply::StreamThenHang(vec![
        frames::message_start(),
        frames::text_delta(0, "Once upon"),
    ]));
    let mut runtime = start(&fake.endpoint_url(), &[]).await;
    let session = session("leaves-mid-sse");
    let mut client = raw_invocation(&runtime, &session, "Tell me a story.", true).await;
    read_until(&mut client, "data: \"Once upon\"\n\n").await;
    assert_eq!(runtime.ping().await, "HealthyBusy");
    drop(client);
    assert_session_recovers(&mut runtime, &fake, &session, "Tell me a story.").await;
}

// ---------------------------------------------------------------------------------------------
// Model faults

/// Takes off the script the error replies the runtime did not consume (a storm longer than its
/// retries), so that the next reply pushed is the next one served. Returns how many there were.
async fn drain_errors(fake: &FakeBedrock) -> usize {
    fake.set_auth(FakeAuth::Any);
    let client = reqwest::Client::new();
    let mut drained = 0;
    loop {
        let response = client
            .post(format!("{}/model/drain/converse", fake.endpoint_url()))
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(
            status.is_client_error() || status.is_server_error(),
            "{text}"
        );
        if text.contains("no scripted reply") {
            break;
        }
        drained += 1;
    }
    fake.set_auth(FakeAuth::sigv4(AKID, SECRET));
    drained
}

/// A storm of `reply` longer than the retries: the client hears a clean 5xx well before a
/// second retry schedule would end, and the session is fine afterwards.
async fn storm(reply: Reply, name: &str, needle: &str) {
    const STORM: usize = 12;
    let fake = fake_bedrock().await;
    for _ in 0..STORM {
        fake.push(reply.clone());
    }
    let mut runtime = start(&fake.endpoint_url(), &[("MODEL_RETRY_MAX_SECONDS", "1")]).await;
    let session = session(name);
    let answer = runtime.invoke(&session, "Hello?", false).await;
    assert_clean_server_error(&answer, needle, Duration::from_secs(10));
    let calls = fake.requests().len();
    assert!(
        (1..=STORM).contains(&calls),
        "{calls} model calls for a storm of {STORM}"
    );
    assert_eq!(runtime.ping().await, "Healthy");
    assert_eq!(drain_errors(&fake).await, STORM - calls);
    assert_session_recovers(&mut runtime, &fake, &session, "Hello?").await;
}

#[tokio::test]
async fn a_throttling_storm_is_a_clean_5xx_within_the_retry_budget() {
    storm(Reply::throttling(), "throttling-storm", "Too many requests").await;
}

#[tokio::test]
async fn a_503_storm_is_a_clean_5xx_within_the_retry_budget() {
    storm(
        Reply::service_unavailable(),
        "unavailable-storm",
        "unable to process your request",
    )
    .await;
}

/// Forwards every connection to `to`.
async fn proxy(listener: tokio::net::TcpListener, to: String) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            return;
        };
        let to = to.clone();
        tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(to).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

#[tokio::test]
async fn bedrock_down_is_a_clean_5xx_and_the_session_works_once_it_is_back() {
    let fake = fake_bedrock().await;
    // Nothing listens on this port until Bedrock "comes back" below.
    let port = free_port();
    let mut runtime = start(&format!("http://127.0.0.1:{port}"), &[]).await;
    let session = session("bedrock-down");
    let answer = runtime.invoke(&session, "Anyone home?", false).await;
    assert_clean_server_error(&answer, "127.0.0.1", Duration::from_secs(10));
    assert_eq!(runtime.ping().await, "Healthy");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("port {port} was taken meanwhile, rerun: {e}"));
    let forward = tokio::spawn(proxy(listener, fake.endpoint_url().replace("http://", "")));
    assert_session_recovers(&mut runtime, &fake, &session, "Anyone home?").await;
    forward.abort();
}

#[tokio::test]
async fn a_hung_model_fails_after_the_first_event_timeout() {
    let fake = fake_bedrock().await;
    fake.push(Reply::Hang);
    let mut runtime = start(
        &fake.endpoint_url(),
        &[("MODEL_FIRST_EVENT_TIMEOUT_SECONDS", "1")],
    )
    .await;
    let session = session("hung-model");
    let answer = runtime.invoke(&session, "Still there?", false).await;
    assert_clean_server_error(&answer, "first-event timeout", Duration::from_secs(5));
    assert!(answer.elapsed >= Duration::from_millis(900), "{answer:?}");
    assert_eq!(fake.requests().len(), 1, "a timeout is not retried");
    assert_session_recovers(&mut runtime, &fake, &session, "Still there?").await;
}

#[tokio::test]
async fn a_model_stalling_mid_answer_fails_after_the_idle_timeout() {
    let fake = fake_bedrock().await;
    fake.push(Reply::StreamThenHang(vec![
        frames::message_start(),
        frames::text_delta(0, "Let me think"),
    ]));
    let mut runtime = start(&fake.endpoint_url(), &[("MODEL_IDLE_TIMEOUT_SECONDS", "1")]).await;
    let session = session("stalled-model");
    let answer = runtime.invoke(&session, "Think hard.", true).await;
    assert!(
        answer.body.starts_with("data: \"Let me think\"\n\n"),
        "{answer:?}"
    );
    assert_stream_ended_with_error(&answer, "idle timeout");
    assert!(
        (Duration::from_millis(900)..Duration::from_secs(5)).contains(&answer.elapsed),
        "{answer:?}"
    );
    assert_session_recovers(&mut runtime, &fake, &session, "Think hard.").await;
}

#[tokio::test]
async fn a_model_stream_cut_mid_answer_ends_the_stream_with_an_error_frame() {
    let fake = fake_bedrock().await;
    fake.push(Reply::StreamThenDrop(vec![
        frames::message_start(),
        frames::text_delta(0, "Half an"),
    ]));
    let mut runtime = start(&fake.endpoint_url(), &[]).await;
    let session = session("cut-stream");
    let answer = runtime.invoke(&session, "Answer in full.", true).await;
    assert!(
        answer.body.starts_with("data: \"Half an\"\n\n"),
        "{answer:?}"
    );
    assert_stream_ended_with_error(&answer, "stream");
    assert!(answer.elapsed < PROMPTLY, "{answer:?}");
    assert_session_recovers(&mut runtime, &fake, &session, "Answer in full.").await;
}

/// A valid text delta frame with one payload byte flipped (its message CRC no longer matches).
fn corrupted_frame() -> Vec<u8> {
    let mut bytes = frames::text_delta(0, "corrupted").to_bytes();
    let payload_byte = bytes.len() - 10;
    bytes[payload_byte] ^= 0x55;
    bytes
}

#[tokio::test]
async fn garbage_from_the_model_is_an_error_and_the_session_recovers() {
    let fake = fake_bedrock().await;
    // An idle timeout well above the bound below: garbage must fail at once, not by timing out.
    let mut runtime = start(
        &fake.endpoint_url(),
        &[("MODEL_IDLE_TIMEOUT_SECONDS", "10")],
    )
    .await;
    let start_frames = || {
        vec![
            frames::message_start().to_bytes(),
            frames::text_delta(0, "Fine so far").to_bytes(),
        ]
    };
    let garbage: [(&str, Vec<u8>); 3] = [
        (
            "junk",
            b"this is not an event-stream message at all".to_vec(),
        ),
        ("bad-crc", corrupted_frame()),
        (
            "unknown-exception",
            Frame::exception("noSuchException", serde_json::json!({"message": "?"})).to_bytes(),
        ),
    ];
    for (i, (name, bytes)) in garbage.into_iter().enumerate() {
        let mut chunks = start_frames();
        chunks.push(bytes);
        fake.push(Reply::RawStream(chunks));
        let session = session(&format!("garbage-{name}"));
        let prompt = format!("Garbage case {name}");
        // JSON and SSE in turn.
        let stream = i % 2 == 1;
        let answer = runtime.invoke(&session, &prompt, stream).await;
        if stream {
            assert_stream_ended_with_error(&answer, "");
            assert!(answer.elapsed < PROMPTLY, "{name}: {answer:?}");
        } else {
            assert_clean_server_error(&answer, "", PROMPTLY);
        }
        assert_eq!(runtime.ping().await, "Healthy", "{name}");
        assert_session_recovers(&mut runtime, &fake, &session, &prompt).await;
    }
}

/// A model stream that ends cleanly at the HTTP level but before `messageStop` was cut short: the
/// client must hear an error, not a complete (empty) answer.
#[tokio::test]
async fn a_model_stream_ending_before_message_stop_is_an_error() {
    let fake = fake_bedrock().await;
    let mut runtime = start(&fake.endpoint_url(), &[]).await;
    let unterminated: [(&str, Reply); 2] = [
        (
            "clean-end",
            Reply::Stream(vec![
                frames::message_start(),
                frames::text_delta(0, "Fine so far"),
            ]),
        ),
        // The SDK's decoder takes a whole 12-byte prelude off its buffer, so a body cut right
        // after one ends the stream cleanly too (aws-smithy-http's event-stream receiver).
        (
            "cut-after-a-prelude",
            Reply::RawStream(vec![
                frames::message_start().to_bytes(),
                frames::text_delta(0, "Fine so far").to_bytes(),
                vec![0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ]),
        ),
    ];
    for (i, (name, reply)) in unterminated.into_iter().enumerate() {
        fake.push(reply);
        let session = session(&format!("unterminated-{name}"));
        let prompt = format!("Unterminated case {name}");
        let stream = i % 2 == 1;
        let answer = runtime.invoke(&session, &prompt, stream).await;
        if stream {
            assert_stream_ended_with_error(&answer, "");
        } else {
            assert_clean_server_error(&answer, "", PROMPTLY);
        }
        assert_session_recovers(&mut runtime, &fake, &session, &prompt).await;
    }
}

// ---------------------------------------------------------------------------------------------
// SIGTERM

#[tokio::test]
async fn sigterm_ends_json_and_sse_in_flight_refuses_new_connections_and_exits_0() {
    let fake = fake_bedrock().await;
    fake.push(Reply::Hang);
    fake.push(Reply::StreamThenHang(vec![
        frames::message_start(),
        frames::text_delta(0, "Working on it"),
    ]));
    let mut runtime = start(&fake.endpoint_url(), &[("SHUTDOWN_GRACE_SECONDS", "1")]).await;
    let mut json = raw_invocation(&runtime, &session("sigterm-json"), "Slow JSON", false).await;
    model_calls(&fake, 1).await;
    let mut sse = raw_invocation(&runtime, &session("sigterm-sse"), "Slow SSE", true).await;
    let before = read_until(&mut sse, "data: \"Working on it\"\n\n").await;
    let signalled = Instant::now();
    runtime.terminate();
    // The listener closes at once: a new connection is refused while the grace period runs
    // (the process is still serving the two answers in flight).
    loop {
        match TcpStream::connect(runtime.addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            _ => {}
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(5),
            "still accepting connections {:?} after SIGTERM",
            signalled.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    runtime.assert_alive();
    let status = runtime.exit_within(Duration::from_secs(10)).await;
    assert!(status.success(), "{status:?}");
    assert!(
        signalled.elapsed() >= Duration::from_millis(900),
        "the grace period was honoured"
    );
    // The stream ends with Python's error frame; the JSON client is not left hanging.
    let mut rest = Vec::new();
    tokio::time::timeout(PATIENCE, sse.read_to_end(&mut rest))
        .await
        .expect("the stream ended")
        .unwrap();
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        rest.contains(r#""error_type": "ServerShutdown""#),
        "{before}{rest}"
    );
    let mut json_rest = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, json.read_to_end(&mut json_rest))
        .await
        .expect("the JSON connection was closed");
    let json_rest = String::from_utf8_lossy(&json_rest);
    assert!(
        !json_rest.starts_with("HTTP/1.1 2"),
        "an unfinished answer passed as a success: {json_rest}"
    );
}
