//! The server-sent-events decoder the Anthropic and OpenAI-compatible providers share
//! (`strands-models`, `src/sse.rs`), on any bytes cut into chunks anywhere.
//!
//! - The events do not depend on where the stream is cut (whole, at the fuzzer's cut points,
//!   one byte at a time): the same events, or the same error.
//! - They are the events an independent reader finds with the decoder's documented rules, and
//!   a stream is refused (not UTF-8) exactly when that reader refuses it.
//! - Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strands_fuzz::{SseRules, read_sse};
use strands_models::__fuzz::{Event, MAX_EVENT_BYTES, decode_sse};

fuzz_target!(|data: &[u8]| {
    // The first byte says how many cut points follow (at most 8), each a step from the last.
    let Some((&cuts, rest)) = data.split_first() else {
        return;
    };
    let cuts = usize::from(cuts % 9).min(rest.len());
    let (steps, stream) = rest.split_at(cuts);
    if stream.len() >= MAX_EVENT_BYTES {
        return;
    }
    let mut chunks = Vec::new();
    let mut at = 0;
    for &step in steps {
        let end = (at + usize::from(step)).min(stream.len());
        chunks.push(&stream[at..end]);
        at = end;
    }
    chunks.push(&stream[at..]);

    let whole = decode_sse([stream]);
    let cut = decode_sse(chunks.iter().copied());
    assert_eq!(
        whole, cut,
        "cutting the stream at {chunks:?} changed the events"
    );
    let bytewise = decode_sse(stream.chunks(1));
    assert_eq!(
        whole, bytewise,
        "feeding one byte at a time changed the events"
    );

    match read_sse(stream, SseRules::Lenient) {
        Ok(events) => {
            let events: Vec<Event> = events
                .into_iter()
                .map(|e| Event {
                    event: e.event,
                    data: e.data,
                })
                .collect();
            assert_eq!(
                whole,
                Ok(events),
                "not the events the reference reader finds"
            );
        }
        Err(_) => assert!(
            whole.is_err(),
            "accepted a stream with a line that is not UTF-8"
        ),
    }
});
