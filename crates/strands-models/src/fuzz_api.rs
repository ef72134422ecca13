//! Internals exposed for the fuzz targets in `fuzz/` only (feature `fuzzing`, never on by
//! default): the server-sent-events decoder the Anthropic and OpenAI-compatible providers share.
//! Not a public API; it may change in any release.

use crate::sse::{SseDecoder, SseError};

/// The largest line or event the decoder accepts.
pub const MAX_EVENT_BYTES: usize = crate::sse::MAX_EVENT_BYTES;

/// One decoded event: its `event:` field and its joined `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field (empty when absent).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Feeds `chunks` to a fresh decoder in order, then ends the stream: the events, or the first
/// error's message.
///
/// # Errors
///
/// The decoder's error (a line that is not UTF-8, an event over [`MAX_EVENT_BYTES`]).
pub fn decode_sse<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<Event>, String> {
    let mut decoder = SseDecoder::default();
    let mut events = Vec::new();
    let text = |error: SseError| error.to_string();
    for chunk in chunks {
        events.extend(decoder.push(chunk).map_err(text)?);
    }
    events.extend(decoder.finish().map_err(text)?);
    Ok(events
        .into_iter()
        .map(|e| Event {
            event: e.event,
            data: e.data,
        })
        .collect())
}
