//! The Anthropic and OpenAI-compatible providers reading any answer: a loopback upstream replies
//! to the real HTTP request with the fuzzer's status, content type and body (cut into chunks of
//! the fuzzer's size), and the provider's stream is read to its end through the public
//! `Model::stream`. This covers what is ours on that path: the SSE decoder, the event
//! converters of both providers, the error-body readers, the non-streamed completion reader.
//!
//! The stream ends, within seconds, with events or one error whose message is not empty; it never
//! panics.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt as _;
use libfuzzer_sys::fuzz_target;
use strands_core::{Message, Model, ModelRequest};
use strands_fuzz::{Answer, block_on_within, set_answer, upstream_url};
use strands_models::anthropic::AnthropicModel;
use strands_models::openai::OpenAiModel;

const STATUSES: [u16; 12] = [200, 200, 200, 200, 400, 401, 403, 404, 413, 429, 500, 529];
const CONTENT_TYPES: [&str; 5] = [
    "text/event-stream",
    "application/json",
    "text/plain",
    "text/event-stream; charset=utf-8",
    "application/json; charset=utf-8",
];

struct Models {
    anthropic: AnthropicModel,
    openai: OpenAiModel,
    openai_unstreamed: OpenAiModel,
}

fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let url = upstream_url();
        let openai = |streaming| {
            OpenAiModel::builder()
                .model_id("fuzz")
                .base_url(format!("{url}/v1"))
                .api_key("sk-fuzz")
                .streaming(streaming)
                .read_timeout(Duration::from_secs(5))
                .build()
                .expect("an OpenAI-compatible model builds")
        };
        Models {
            anthropic: AnthropicModel::builder()
                .model_id("fuzz")
                .base_url(&url)
                .api_key("sk-ant-fuzz")
                .build()
                .expect("an Anthropic model builds"),
            openai: openai(true),
            openai_unstreamed: openai(false),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let [which, status, content_type, chunk, body @ ..] = data else {
        return;
    };
    set_answer(Answer {
        status: STATUSES[usize::from(*status) % STATUSES.len()],
        content_type: CONTENT_TYPES[usize::from(*content_type) % CONTENT_TYPES.len()].to_owned(),
        body: body.to_vec(),
        chunk: usize::from(*chunk),
    });
    let models = models();
    let model: &dyn Model = match which % 3 {
        0 => &models.anthropic,
        1 => &models.openai,
        _ => &models.openai_unstreamed,
    };
    let messages = [Message::user("hi")];
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
