//! Cost of decoding a Bedrock stream: 1,000 text deltas served by the fake Bedrock over loopback,
//! read (a) with the bare SDK client and (b) through `BedrockModel::stream`, which adds the
//! conversion to Strands events. Reports µs per event for both and the difference.
//!
//! Run: `cargo bench -p strands-models --bench bedrock_decode`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark binary reports on stdout and fails loudly"
)]

use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use futures_util::StreamExt;
use strands_core::{Message, Model, ModelRequest};
use strands_models::bedrock::BedrockModel;
use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};

const DELTAS: usize = 1_000;
const ROUNDS: usize = 30;

fn script() -> Reply {
    let mut events = vec![frames::message_start()];
    for i in 0..DELTAS {
        events.push(frames::text_delta(
            0,
            if i % 2 == 0 { "token " } else { "word, " },
        ));
    }
    events.push(frames::block_stop(0));
    events.push(frames::message_stop("end_turn"));
    events.push(frames::metadata(10, 1000));
    Reply::Stream(events)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fake = FakeBedrock::start(FakeAuth::Any).await.unwrap();
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDBENCH", "secret", None, None, "bench"))
            .endpoint_url(fake.endpoint_url())
            .load()
            .await;
        let client = aws_sdk_bedrockruntime::Client::new(&sdk);
        let model = BedrockModel::builder()
            .model_id("bench")
            .sdk_config(sdk.clone())
            .build()
            .await;
        let messages = [Message::user("go")];
        let prompt = aws_sdk_bedrockruntime::types::Message::builder()
            .role(aws_sdk_bedrockruntime::types::ConversationRole::User)
            .content(aws_sdk_bedrockruntime::types::ContentBlock::Text(
                "go".to_owned(),
            ))
            .build()
            .unwrap();

        let (mut sdk_best, mut ours_best) = (Duration::MAX, Duration::MAX);
        for _ in 0..ROUNDS {
            fake.push(script());
            let started = Instant::now();
            let mut output = client
                .converse_stream()
                .model_id("bench")
                .messages(prompt.clone())
                .send()
                .await
                .unwrap();
            let mut n = 0;
            while let Some(event) = output.stream.recv().await.unwrap() {
                std::hint::black_box(event);
                n += 1;
            }
            assert_eq!(n, DELTAS + 4);
            sdk_best = sdk_best.min(started.elapsed());

            fake.push(script());
            let started = Instant::now();
            let mut stream = model.stream(ModelRequest::new(&messages));
            let mut n = 0;
            while let Some(event) = stream.next().await {
                std::hint::black_box(event.unwrap());
                n += 1;
            }
            assert_eq!(n, DELTAS + 4);
            ours_best = ours_best.min(started.elapsed());
        }
        let per_event = |d: Duration| d.as_secs_f64() * 1e6 / (DELTAS + 4) as f64;
        println!("bedrock_decode: {DELTAS} text deltas over loopback, best of {ROUNDS}");
        println!(
            "  SDK client only (HTTP + event-stream decode): {:.3} µs/event",
            per_event(sdk_best)
        );
        println!(
            "  BedrockModel::stream (+ conversion to Strands events): {:.3} µs/event",
            per_event(ours_best)
        );
        println!(
            "  conversion overhead: {:.3} µs/event",
            per_event(ours_best) - per_event(sdk_best)
        );
    });
}
