//! The server-sent-events decoder gives the same events wherever the stream is cut. Found by the
//! `sse_decoder` fuzz target (`fuzz/`): an empty read between a `\r` and its `\n` made the `\n`
//! a blank line of its own, dispatching an event early.
#![cfg(feature = "fuzzing")]
#![allow(clippy::unwrap_used, reason = "tests")]

use strands_models::__fuzz::{Event, decode_sse};

fn event(event: &str, data: &str) -> Event {
    Event {
        event: event.to_owned(),
        data: data.to_owned(),
    }
}

#[test]
fn an_empty_read_between_cr_and_lf_is_not_a_blank_line() {
    let stream: &[u8] = b"event: x\r\ndata: 1\n\n";
    let whole = decode_sse([stream]).unwrap();
    assert_eq!(whole, [event("x", "1")]);
    let (head, tail) = stream.split_at(9);
    assert_eq!(decode_sse([head, b"", tail]).unwrap(), whole);
    assert_eq!(decode_sse([head, b"", b"", tail]).unwrap(), whole);
}

#[test]
fn one_byte_at_a_time_gives_the_same_events() {
    let stream: &[u8] = b"event: a\r\ndata: 1\r\rdata: 2\r\n\r\n: c\rdata: tail";
    let whole = decode_sse([stream]).unwrap();
    assert_eq!(whole, [event("a", "1"), event("", "2"), event("", "tail")]);
    assert_eq!(decode_sse(stream.chunks(1)).unwrap(), whole);
}
