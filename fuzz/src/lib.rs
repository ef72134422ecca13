//! What the fuzz targets share: one Tokio runtime, an independent writer of Python's
//! `json.dumps(ensure_ascii=False)` (the oracle the runtime's JSON and SSE output is held to), an
//! independent server-sent-events reader, and a loopback upstream that answers model providers
//! with whatever the fuzzer wrote.
//!
//! Each target is in `fuzz_targets/`; `scripts/fuzz` builds and runs them.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

/// One current-thread runtime per fuzz process, with I/O and timers: targets `block_on` it, and
/// the servers they start run as its tasks.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime builds")
    })
}

/// Runs `future` on the shared runtime; a hang of more than `limit` is a finding (a panic).
pub fn block_on_within<F: std::future::Future>(limit: Duration, future: F) -> F::Output {
    runtime().block_on(async {
        match tokio::time::timeout(limit, future).await {
            Ok(output) => output,
            Err(_) => panic!("no answer within {limit:?}: the code under test hangs"),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Python's json.dumps(value, ensure_ascii=False), written independently of strands_core::json.

/// `json.dumps(value, ensure_ascii=False)` as CPython 3.11 writes it: `", "` and `": "`
/// separators, floats as `repr(float)`, non-ASCII characters as they are, control characters
/// escaped (`\n`, `\u001f`, ...).
pub fn python_dumps(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                out.push_str(&python_float(n.as_f64().unwrap_or(f64::NAN)));
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// `json.encoder.ESCAPE_DCT`: `"`, `\`, `\b`, `\f`, `\n`, `\r`, `\t` by name, the other
/// characters below U+0020 as `\u00XX` (lowercase hex), everything else as it is.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `repr(float)`: the shortest digits that round-trip, in fixed notation when the decimal point
/// falls within -4 < decpt <= 16 (`0.0001`, `1e-05`, `1000000000000000.0`, `1e+16`), else
/// `d.ddde±XX` with at least two exponent digits.
pub fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Rust's `{:e}` also prints the shortest round-trip digits: `1.2345e-7`, `-1e16`.
    let formatted = format!("{f:e}");
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let decpt = exponent + 1;
    let len = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if -4 < decpt && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            out.push_str(&"0".repeat(usize::try_from(-decpt).unwrap_or(0)));
            out.push_str(&digits);
        } else if decpt >= len {
            out.push_str(&digits);
            out.push_str(&"0".repeat(usize::try_from(decpt - len).unwrap_or(0)));
            out.push_str(".0");
        } else {
            let (int, frac) = digits.split_at(usize::try_from(decpt).unwrap_or(0));
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        }
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        out.push_str(&format!("e{sign}{:02}", exponent.unsigned_abs()));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Server-sent events, read independently of strands-models' decoder.

/// One event as a reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field (empty when absent).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Which end-of-stream and dispatch rules [`read_sse`] follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseRules {
    /// The WHATWG HTML standard's: an event without data is not dispatched, an unterminated
    /// event at the end of the stream is dropped, a leading BOM is skipped.
    Whatwg,
    /// strands-models' documented choices: an event with only an `event:` field is dispatched,
    /// the last event is delivered even without its blank line, no BOM handling.
    Lenient,
}

/// The events in `body`, or `Err` if a line that is read is not UTF-8. Lines end at `\r\n`,
/// `\n` or `\r`; `:` lines are comments; `field: value` loses one leading space.
pub fn read_sse(body: &[u8], rules: SseRules) -> Result<Vec<SseEvent>, String> {
    let mut body = body;
    if rules == SseRules::Whatwg {
        body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    }
    let mut events = Vec::new();
    let mut event = String::new();
    let mut data: Option<String> = None;
    let mut rest = body;
    loop {
        let end = rest.iter().position(|&b| b == b'\n' || b == b'\r');
        let (line, complete) = match end {
            Some(end) => (&rest[..end], true),
            None => (rest, false),
        };
        if !complete {
            // The end of the stream.
            if rules == SseRules::Lenient {
                if !line.is_empty() {
                    let line = std::str::from_utf8(line).map_err(|e| e.to_string())?;
                    field(line, &mut event, &mut data);
                }
                if data.is_some() || !event.is_empty() {
                    events.push(SseEvent {
                        event: std::mem::take(&mut event),
                        data: data.take().unwrap_or_default(),
                    });
                }
            }
            return Ok(events);
        }
        let mut next = end.unwrap_or(rest.len()) + 1;
        if rest[next - 1] == b'\r' && rest.get(next) == Some(&b'\n') {
            next += 1;
        }
        rest = &rest[next..];
        let line = std::str::from_utf8(line).map_err(|e| e.to_string())?;
        if line.is_empty() {
            let dispatch = match rules {
                SseRules::Whatwg => data.is_some(),
                SseRules::Lenient => data.is_some() || !event.is_empty(),
            };
            if dispatch {
                events.push(SseEvent {
                    event: std::mem::take(&mut event),
                    data: data.take().unwrap_or_default(),
                });
            } else {
                event.clear();
            }
            continue;
        }
        field(line, &mut event, &mut data);
    }
}

fn field(line: &str, event: &mut String, data: &mut Option<String>) {
    if line.starts_with(':') {
        return;
    }
    let (name, value) = match line.split_once(':') {
        Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
        None => (line, ""),
    };
    match name {
        "event" => value.clone_into(event),
        "data" => match data {
            Some(data) => {
                data.push('\n');
                data.push_str(value);
            }
            None => *data = Some(value.to_owned()),
        },
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// A loopback upstream answering every request with the fuzzer's response.

/// What the upstream answers, whatever the request.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `content-type` header.
    pub content_type: String,
    /// The body, sent as chunks of `chunk` bytes (all at once when 0).
    pub body: Vec<u8>,
    /// The chunk size.
    pub chunk: usize,
}

struct Upstream {
    addr: SocketAddr,
    answer: std::sync::Arc<Mutex<Answer>>,
}

fn upstream() -> &'static Upstream {
    static UPSTREAM: OnceLock<Upstream> = OnceLock::new();
    UPSTREAM.get_or_init(|| {
        let answer = std::sync::Arc::new(Mutex::new(Answer::default()));
        let shared = answer.clone();
        let listener = runtime().block_on(async {
            tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
                .await
                .expect("a loopback port binds")
        });
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let app = axum::Router::new().fallback(move || {
            let answer = shared.lock().map(|a| a.clone()).unwrap_or_default();
            async move { respond(answer) }
        });
        runtime().spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Upstream { addr, answer }
    })
}

fn respond(answer: Answer) -> Response {
    let chunk = if answer.chunk == 0 {
        answer.body.len().max(1)
    } else {
        answer.chunk
    };
    let chunks: Vec<Result<Bytes, Infallible>> = answer
        .body
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let mut response = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
    *response.status_mut() =
        http::StatusCode::from_u16(answer.status).unwrap_or(http::StatusCode::OK);
    if let Ok(value) = http::HeaderValue::from_str(&answer.content_type) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    response
}

/// The upstream's base URL, e.g. `http://127.0.0.1:40123`; starts it on first use.
pub fn upstream_url() -> String {
    format!("http://{}", upstream().addr)
}

/// Sets what the upstream answers from now on.
pub fn set_answer(answer: Answer) {
    if let Ok(mut current) = upstream().answer.lock() {
        *current = answer;
    }
}

// ---------------------------------------------------------------------------------------------
// Arbitrary JSON values.

/// An arbitrary JSON value at most `depth` containers deep: any strings (keys too), integers,
/// finite floats.
pub fn arbitrary_value(
    u: &mut arbitrary::Unstructured<'_>,
    depth: usize,
) -> arbitrary::Result<Value> {
    let kind = if depth == 0 {
        u.int_in_range(0..=5)?
    } else {
        u.int_in_range(0..=7)?
    };
    Ok(match kind {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::from(u.arbitrary::<u64>()?),
        4 => {
            let f: f64 = u.arbitrary()?;
            serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
        }
        5 => Value::String(u.arbitrary()?),
        6 => {
            let len = u.int_in_range(0..=4)?;
            let mut items = Vec::with_capacity(len);
            for _ in 0..len {
                items.push(arbitrary_value(u, depth - 1)?);
            }
            Value::Array(items)
        }
        _ => {
            let len = u.int_in_range(0..=4)?;
            let mut members = serde_json::Map::new();
            for _ in 0..len {
                let key: String = u.arbitrary()?;
                members.insert(key, arbitrary_value(u, depth - 1)?);
            }
            Value::Object(members)
        }
    })
}
