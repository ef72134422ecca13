//! Server-sent-events framing: an entrypoint streams arbitrary JSON values (any strings, numbers,
//! nesting) and may end with an error carrying an arbitrary message and type.
//!
//! Read back with an independent WHATWG event-stream reader, every item arrives as exactly one
//! event whose data is what Python's `json.dumps(item, ensure_ascii=False)` writes and parses back
//! to the item; the frame bytes are exactly `data: <json>\n\n`; an error ends the stream with
//! Python's error frame carrying the message and type unchanged.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Unstructured;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use strands_fuzz::{SseRules, arbitrary_value, block_on_within, python_dumps, read_sse};
use strands_runtime::{AgentCoreApp, HandlerError, Reply, RequestContext};
use tower::ServiceExt as _;

/// Streams `payload.items`, then fails with `payload.error` = `[message, type]` if present.
fn router() -> Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER
        .get_or_init(|| {
            AgentCoreApp::new()
                .entrypoint(|payload: Value, _: RequestContext| async move {
                    let items = payload["items"].as_array().cloned().unwrap_or_default();
                    let mut stream: Vec<Result<Value, HandlerError>> =
                        items.into_iter().map(Ok).collect();
                    if let Some([message, kind]) = payload["error"].as_array().map(Vec::as_slice) {
                        stream.push(Err(HandlerError::new(message.as_str().unwrap_or_default())
                            .with_error_type(kind.as_str().unwrap_or_default())));
                    }
                    Ok::<_, HandlerError>(Reply::stream(futures_util::stream::iter(stream)))
                })
                .into_router()
        })
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(count) = u.int_in_range(0..=8usize) else {
        return;
    };
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        let Ok(item) = arbitrary_value(&mut u, 3) else {
            return;
        };
        items.push(item);
    }
    let error: Option<(String, String)> = u.arbitrary().unwrap_or_default();
    let payload = json!({
        "items": items,
        "error": error.as_ref().map(|(m, t)| json!([m, t])),
    });

    // The items as the entrypoint will see them.
    let text = payload.to_string();
    let payload: Value = serde_json::from_str(&text).expect("serde_json reads what it writes");
    let items = payload["items"].as_array().cloned().unwrap_or_default();
    let request = Request::post("/invocations")
        .body(axum::body::Body::from(text))
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
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/event-stream; charset=utf-8");

    let mut expected_frames = String::new();
    let mut expected: Vec<Value> = items.clone();
    for item in &items {
        expected_frames.push_str(&format!("data: {}\n\n", python_dumps(item)));
    }
    if let Some((message, kind)) = &error {
        let frame = json!({
            "error": message,
            "error_type": kind,
            "message": "An error occurred during streaming",
        });
        expected_frames.push_str(&format!("data: {}\n\n", python_dumps(&frame)));
        expected.push(frame);
    }
    let text = std::str::from_utf8(&body).expect("frames are UTF-8");
    assert_eq!(text, expected_frames, "frames differ from Python's");

    let events = read_sse(&body, SseRules::Whatwg).expect("frames are UTF-8");
    assert_eq!(events.len(), expected.len(), "one event per item");
    for (event, item) in events.iter().zip(&expected) {
        assert_eq!(event.event, "");
        let value: Value = serde_json::from_str(&event.data).expect("each event's data is JSON");
        assert_eq!(
            &value, item,
            "an event's data does not read back as its item"
        );
    }
});
