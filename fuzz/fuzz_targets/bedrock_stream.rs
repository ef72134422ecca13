//! Bedrock's ConverseStream and Converse answers, read through the public `BedrockModel` (the
//! official SDK decodes the event stream; what is ours is the mapping of its events, documents
//! and errors to Strands events and `ModelError`s). A loopback upstream is the Bedrock endpoint.
//!
//! The input is text, so the seed corpus is readable:
//!
//! ```text
//! stream                       <- or `raw`, `converse`, or an HTTP status such as `429`
//! event:messageStart {"role": "assistant"}
//! event:contentBlockDelta {"contentBlockIndex": 0, "delta": {"text": "Hi"}}
//! exception:throttlingException {"message": "slow down"}
//! ```
//!
//! `stream` encodes each line as an event-stream message (valid prelude and CRCs, so the fuzzer
//! reaches the events themselves); `raw` sends the rest as the event-stream bytes; `converse`
//! answers the non-streaming Converse call with the rest as its JSON body; a status answers with
//! the rest as a JSON error body.
//!
//! The stream ends, within seconds, with events or one error whose message is not empty; it never
//! panics.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use futures_util::StreamExt as _;
use libfuzzer_sys::fuzz_target;
use strands_core::{Message as ChatMessage, Model, ModelRequest};
use strands_fuzz::{Answer, block_on_within, runtime, set_answer, upstream_url};
use strands_models::bedrock::BedrockModel;

struct Models {
    streaming: BedrockModel,
    converse: BedrockModel,
}

fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let url = upstream_url();
        runtime().block_on(async {
            let sdk = aws_config::defaults(BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .credentials_provider(Credentials::new("AKIDFUZZ", "secret", None, None, "fuzz"))
                .endpoint_url(url)
                .retry_config(RetryConfig::disabled())
                .load()
                .await;
            let model = |streaming| {
                BedrockModel::builder()
                    .model_id("fuzz")
                    .sdk_config(sdk.clone())
                    .streaming(streaming)
                    .build()
            };
            Models {
                streaming: model(true).await,
                converse: model(false).await,
            }
        })
    })
}

fn header(name: &str, value: &str) -> Header {
    Header::new(
        name.to_owned(),
        HeaderValue::String(value.to_owned().into()),
    )
}

/// One line, `<message-type>:<name> <payload>`, as an event-stream message.
fn frame(line: &[u8], out: &mut Vec<u8>) {
    let (head, payload) = match line.iter().position(|&b| b == b' ') {
        Some(space) => (&line[..space], &line[space + 1..]),
        None => (line, &b""[..]),
    };
    let head = String::from_utf8_lossy(head);
    let (kind, name) = head.split_once(':').unwrap_or(("event", &head));
    let type_header = match kind {
        "exception" => ":exception-type",
        "error" => ":error-code",
        _ => ":event-type",
    };
    let mut message = Message::new(payload.to_vec())
        .add_header(header(":message-type", kind))
        .add_header(header(type_header, name))
        .add_header(header(":content-type", "application/json"));
    if kind == "error" {
        message = message.add_header(header(":error-message", "fuzzed error"));
    }
    // Names over 64 KiB cannot be encoded: such a line is left out.
    let _ = write_message_to(&message, out);
}

fuzz_target!(|data: &[u8]| {
    let (mode, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(newline) => (&data[..newline], &data[newline + 1..]),
        None => (data, &b""[..]),
    };
    let models = models();
    let (answer, model) = match mode {
        b"raw" => (
            Answer {
                status: 200,
                content_type: "application/vnd.amazon.eventstream".into(),
                body: rest.to_vec(),
                chunk: 0,
            },
            &models.streaming,
        ),
        b"converse" => (
            Answer {
                status: 200,
                content_type: "application/json".into(),
                body: rest.to_vec(),
                chunk: 0,
            },
            &models.converse,
        ),
        b"stream" => {
            let mut body = Vec::new();
            for line in rest.split(|&b| b == b'\n') {
                frame(line, &mut body);
            }
            // Cut the stream into pieces the size of the first frame's length byte, so frames
            // also arrive split across reads.
            let chunk = body.get(3).copied().map_or(0, usize::from);
            (
                Answer {
                    status: 200,
                    content_type: "application/vnd.amazon.eventstream".into(),
                    body,
                    chunk,
                },
                &models.streaming,
            )
        }
        status => {
            let status = std::str::from_utf8(status)
                .ok()
                .and_then(|s| s.parse::<u16>().ok());
            let Some(status) = status.filter(|s| (200..600).contains(s)) else {
                return;
            };
            let answer = Answer {
                status,
                content_type: "application/json".into(),
                body: rest.to_vec(),
                chunk: 0,
            };
            (
                answer,
                if status % 2 == 0 {
                    &models.streaming
                } else {
                    &models.converse
                },
            )
        }
    };
    set_answer(answer);
    let messages = [ChatMessage::user("hi")];
    block_on_within(Duration::from_secs(30), async {
        let mut stream = model.stream(ModelRequest::new(&messages));
        while let Some(item) = stream.next().await {
            if let Err(error) = item {
                assert!(!error.to_string().is_empty(), "an error without a message");
                break;
            }
        }
    });
});
