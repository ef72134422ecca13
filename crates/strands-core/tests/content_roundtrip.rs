//! Every content block kind, stream event and tool type round-trips Python Strands' JSON byte for
//! byte (Python writes dicts in insertion order; serde_json keeps key order with `preserve_order`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use pretty_assertions::assert_eq;
use serde::Serialize;
use serde::de::DeserializeOwned;
use strands_core::{
    Blob, ContentBlock, Message, ModelError, Role, StopReason, StreamEvent, ToolChoice, ToolResult,
    ToolSpec, Usage,
};

fn round_trip<T: Serialize + DeserializeOwned>(json: &str) -> T {
    let value: T = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
    assert_eq!(serde_json::to_string(&value).unwrap(), json);
    value
}

#[test]
fn every_content_block_kind_round_trips() {
    let blocks = [
        r#"{"text":"hello"}"#,
        r#"{"toolUse":{"toolUseId":"t1","name":"add","input":{"b":2,"a":1}}}"#,
        r#"{"toolUse":{"toolUseId":"t1","name":"add","input":{},"reasoningSignature":"sig"}}"#,
        r#"{"toolResult":{"toolUseId":"t1","status":"success","content":[{"text":"3"},{"json":{"x":[1,2.5,null]}}]}}"#,
        r#"{"toolResult":{"toolUseId":"t1","status":"error","content":[{"image":{"format":"png","source":{"bytes":{"__bytes_encoded__":true,"data":"iVBORw=="}}}}]}}"#,
        r#"{"image":{"format":"jpeg","source":{"location":{"type":"s3","uri":"s3://b/k.jpg","bucketOwner":"123456789012"}}}}"#,
        r#"{"document":{"format":"pdf","name":"report","source":{"bytes":{"__bytes_encoded__":true,"data":"JVBERi0="}},"citations":{"enabled":true},"context":"q3"}}"#,
        r#"{"video":{"format":"mp4","source":{"location":{"type":"s3","uri":"s3://b/v.mp4"}}}}"#,
        r#"{"audio":{"format":"wav","source":{"bytes":{"__bytes_encoded__":true,"data":"UklGRg=="}}}}"#,
        r#"{"reasoningContent":{"reasoningText":{"text":"thinking...","signature":"sig-part-1-part-2"}}}"#,
        r#"{"reasoningContent":{"redactedContent":{"__bytes_encoded__":true,"data":"AAEC"}}}"#,
        r#"{"cachePoint":{"type":"default"}}"#,
        r#"{"cachePoint":{"type":"default","ttl":"1h"}}"#,
        r#"{"guardContent":{"text":{"text":"check me","qualifiers":["grounding_source"]}}}"#,
        r#"{"citationsContent":{"citations":[{"location":{"documentChar":{"documentIndex":0,"start":3,"end":9}},"sourceContent":[{"text":"src"}],"title":"doc"}],"content":[{"text":"cited"}]}}"#,
    ];
    for json in blocks {
        let _: ContentBlock = round_trip(json);
    }
}

#[test]
fn qualifier_order_in_guard_content_is_not_required() {
    let block: ContentBlock =
        serde_json::from_str(r#"{"guardContent":{"text":{"qualifiers":["query"],"text":"t"}}}"#)
            .unwrap();
    assert!(matches!(block, ContentBlock::GuardContent(_)));
}

#[test]
fn messages_keep_metadata_and_tracking_id() {
    let json = r#"{"role":"assistant","content":[{"text":"Hi"}],"metadata":{"usage":{"inputTokens":12,"outputTokens":50,"totalTokens":62},"metrics":{"latencyMs":0}},"tracking_id":"fea7761d-bf7d-4e3e-954f-8c1091730c6c"}"#;
    let message: Message = round_trip(json);
    assert_eq!(message.role, Role::Assistant);
    assert_eq!(message.text(), "Hi\n");
}

#[test]
fn python_session_message_loads() {
    // Shape of `message_<n>.json` content in a Python FileSessionManager session (indent=2).
    let json = r#"{
  "role": "user",
  "content": [
    {
      "image": {
        "format": "png",
        "source": {
          "bytes": {
            "__bytes_encoded__": true,
            "data": "aGk="
          }
        }
      }
    },
    {
      "text": "what is this?"
    }
  ],
  "tracking_id": "e8825131-0a20-4d4f-aaa8-a79be5b773c4"
}"#;
    let message: Message = serde_json::from_str(json).unwrap();
    let ContentBlock::Image(image) = &message.content[0] else {
        panic!("an image block")
    };
    assert_eq!(
        image.source.bytes.as_ref().map(Blob::as_bytes),
        Some(&b"hi"[..])
    );
}

#[test]
fn stream_events_round_trip_in_bedrock_shape() {
    let events = [
        r#"{"messageStart":{"role":"assistant"}}"#,
        r#"{"contentBlockStart":{"start":{}}}"#,
        r#"{"contentBlockStart":{"start":{"toolUse":{"toolUseId":"tooluse_bench_0001","name":"add"}},"contentBlockIndex":1}}"#,
        r#"{"contentBlockDelta":{"delta":{"text":"Hello"}}}"#,
        r#"{"contentBlockDelta":{"delta":{"toolUse":{"input":"{\"a\": 2, "}},"contentBlockIndex":1}}"#,
        r#"{"contentBlockDelta":{"delta":{"reasoningContent":{"text":"hmm"}}}}"#,
        r#"{"contentBlockDelta":{"delta":{"reasoningContent":{"signature":"sig"}}}}"#,
        r#"{"contentBlockDelta":{"delta":{"citation":{"location":{"web":{"url":"https://x","domain":"x"}},"title":"X"}}}}"#,
        r#"{"contentBlockStop":{}}"#,
        r#"{"messageStop":{"stopReason":"tool_use"}}"#,
        r#"{"messageStop":{"stopReason":"guardrail_intervened","additionalModelResponseFields":{"k":1}}}"#,
        r#"{"metadata":{"usage":{"inputTokens":60,"outputTokens":20,"totalTokens":80,"cacheReadInputTokens":5},"metrics":{"latencyMs":0}}}"#,
        r#"{"redactContent":{"redactUserContentMessage":"[User input redacted.]"}}"#,
    ];
    for json in events {
        let _: StreamEvent = round_trip(json);
    }
}

#[test]
fn the_python_benchmark_streams_parse() {
    let json = include_str!("../../strands-testkit/fixtures/canned_streams.json");
    let streams: std::collections::HashMap<String, Vec<StreamEvent>> =
        serde_json::from_str(json).unwrap();
    assert_eq!(streams["text_answer"].len(), 15);
    assert_eq!(streams["tool_request"][4], StreamEvent::block_stop());
}

#[test]
fn tool_types_round_trip() {
    let _: ToolSpec = round_trip(
        r#"{"name":"add","description":"Add two integers.","inputSchema":{"json":{"properties":{"a":{"description":"first addend","type":"integer"}},"required":["a"],"type":"object"}}}"#,
    );
    let _: ToolResult = round_trip(
        r#"{"toolUseId":"t1","status":"error","content":[{"text":"Unknown tool: multiply"}]}"#,
    );
    let choices: [ToolChoice; 3] = [
        round_trip(r#"{"auto":{}}"#),
        round_trip(r#"{"any":{}}"#),
        round_trip(r#"{"tool":{"name":"WeatherReport"}}"#),
    ];
    assert_eq!(
        choices[2],
        ToolChoice::Tool {
            name: "WeatherReport".to_owned()
        }
    );
}

#[test]
fn unknown_block_kinds_and_bad_bytes_are_clear_errors() {
    let error = serde_json::from_str::<ContentBlock>(r#"{"hologram":{}}"#).unwrap_err();
    assert!(
        error.to_string().contains("unknown variant `hologram`"),
        "{error}"
    );
    let error = serde_json::from_str::<Blob>(r#""not base64!""#).unwrap_err();
    assert!(error.to_string().contains("invalid base64"), "{error}");
    let error = serde_json::from_str::<Blob>(r#"{"data":"aGk="}"#).unwrap_err();
    assert!(error.to_string().contains("__bytes_encoded__"), "{error}");
}

#[test]
fn usage_accumulates_cache_counters_once_reported() {
    let mut total = Usage::new(1, 2);
    total.accumulate(&Usage::new(3, 4));
    assert_eq!(
        (total.input_tokens, total.output_tokens, total.total_tokens),
        (4, 6, 10)
    );
    assert_eq!(total.cache_read_input_tokens, None);
    let mut cached = Usage::new(1, 1);
    cached.cache_read_input_tokens = Some(7);
    total.accumulate(&cached);
    assert_eq!(total.cache_read_input_tokens, Some(7));
}

#[test]
fn stop_reasons_use_python_names() {
    assert_eq!(
        serde_json::to_string(&StopReason::MaxTokens).unwrap(),
        r#""max_tokens""#
    );
    assert_eq!(
        StopReason::GuardrailIntervened.to_string(),
        "guardrail_intervened"
    );
}

#[test]
fn only_throttling_is_retryable() {
    assert!(ModelError::throttled("x").is_retryable());
    assert!(!ModelError::context_window_overflow("x").is_retryable());
    assert!(ModelError::context_window_overflow("x").is_context_window_overflow());
}
