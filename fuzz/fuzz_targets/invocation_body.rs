//! Any bytes as the body of `POST /invocations` to an app whose entrypoint echoes its payload,
//! through `AgentCoreApp::into_router()`.
//!
//! - A body serde_json accepts (after one UTF-8 BOM) is answered 200 with exactly what Python's
//!   `json.dumps(payload, ensure_ascii=False)` writes (an independent writer is the oracle), which
//!   parses back to the same value.
//! - Any other body is answered 400 with a JSON object `{"error", "details"}`: `Invalid encoding`
//!   with CPython's `UnicodeDecodeError` text naming the right byte and position, or `Invalid
//!   JSON` with `str(JSONDecodeError)` whose line, column and char agree with the document (or,
//!   where Python would not answer 400, serde_json's message).
//! - Never a panic, never a 5xx.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use strands_fuzz::{block_on_within, python_dumps};
use strands_runtime::{AgentCoreApp, HandlerError, RequestContext};
use tower::ServiceExt as _;

fn router() -> Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER
        .get_or_init(|| {
            AgentCoreApp::new()
                .entrypoint(|payload: Value, _: RequestContext| async move {
                    Ok::<_, HandlerError>(payload)
                })
                .into_router()
        })
        .clone()
}

const MESSAGES: [&str; 9] = [
    "Expecting value",
    "Expecting ',' delimiter",
    "Expecting property name enclosed in double quotes",
    "Expecting ':' delimiter",
    "Unterminated string starting at",
    "Invalid control character at",
    "Invalid \\uXXXX escape",
    "Invalid \\escape",
    "Extra data",
];

fuzz_target!(|data: &[u8]| {
    let request = Request::post("/invocations")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(data.to_vec()))
        .expect("a valid request");
    let (status, content_type, body) = block_on_within(Duration::from_secs(10), async {
        let response = router()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a full body")
            .to_bytes();
        (status, content_type, body)
    });
    assert_eq!(content_type, "application/json", "status {status}");
    let text = std::str::from_utf8(&body).expect("responses are UTF-8");
    let answer: Value = serde_json::from_str(text).expect("responses are JSON");

    let bytes = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let document = match std::str::from_utf8(bytes) {
        Ok(document) => document,
        Err(error) => {
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(answer["error"], "Invalid encoding");
            let details = answer["details"].as_str().expect("details");
            let position = error.valid_up_to();
            let byte = bytes[position];
            let prefix =
                format!("'utf-8' codec can't decode byte 0x{byte:02x} in position {position}: ");
            assert!(details.starts_with(&prefix), "{details:?} for {bytes:?}");
            return;
        }
    };
    match serde_json::from_str::<Value>(document) {
        Ok(payload) => {
            assert_eq!(status, StatusCode::OK, "{text}");
            assert_eq!(text, python_dumps(&payload), "not what Python writes");
            let echoed: Value = serde_json::from_str(text).expect("the echo is JSON");
            assert_eq!(echoed, payload, "the echo is not the payload");
        }
        Err(_) => {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
            let members = answer.as_object().expect("an object");
            assert_eq!(members.len(), 2, "{text}");
            assert_eq!(answer["error"], "Invalid JSON");
            let details = answer["details"].as_str().expect("details");
            check_python_position(document, details);
        }
    }
});

/// `<message>: line L column C (char N)`: N is within the document, and L and C are where the
/// N-th code point is (lines start after `\n` only). serde_json's own messages (for the bodies
/// Python would not answer 400) are only required to be non-empty.
fn check_python_position(document: &str, details: &str) {
    assert!(!details.is_empty());
    let Some(message) = MESSAGES
        .iter()
        .find(|m| details.starts_with(&format!("{m}: line ")))
    else {
        return;
    };
    let rest = &details[message.len() + ": line ".len()..];
    let numbers: Vec<usize> = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("a number"))
        .collect();
    let [line, column, char] = numbers[..] else {
        panic!("{details:?} is not shaped like str(JSONDecodeError)");
    };
    assert_eq!(
        rest,
        format!("{line} column {column} (char {char})"),
        "{details:?}"
    );
    let before: String = document.chars().take(char).collect();
    assert!(
        char <= document.chars().count(),
        "{details:?}: past the end"
    );
    let want_line = before.matches('\n').count() + 1;
    let want_column = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
    assert_eq!((line, column), (want_line, want_column), "{details:?}");
}
