//! A bounded Server-Sent Events decoder for the HTTP providers (Anthropic, OpenAI-compatible).
//!
//! Follows the WHATWG event-stream rules the providers rely on: `event:` and `data:` fields,
//! multi-line data joined with `\n`, comments (`:`) ignored, events dispatched on a blank line,
//! `\n`, `\r\n` or `\r` line ends. A line or event larger than the bound is an error instead of
//! unbounded buffering.

use bytes::{Buf, BytesMut};

/// Largest line or event accepted (providers send events of a few KiB; tool inputs may be
/// larger, so the bound is generous).
pub(crate) const MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// One decoded event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SseEvent {
    /// The `event:` field (empty when absent).
    pub(crate) event: String,
    /// The `data:` lines joined with `\n`.
    pub(crate) data: String,
}

/// Why the stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SseError {
    /// A line or event exceeded [`MAX_EVENT_BYTES`].
    #[error("server-sent event larger than {MAX_EVENT_BYTES} bytes")]
    TooLarge,
    /// A line was not UTF-8.
    #[error("server-sent event is not valid UTF-8")]
    NotUtf8,
}

/// Incremental decoder: feed it chunks as they arrive, take complete events out.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    buffer: BytesMut,
    current: SseEvent,
    has_data: bool,
    /// A `\r` ended the previous chunk; a leading `\n` in the next one belongs to it.
    pending_cr: bool,
}

impl SseDecoder {
    /// Adds a chunk and returns the events it completed.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        if chunk.is_empty() {
            // An empty read between a `\r` and its `\n` must not forget the `\r`.
            return Ok(Vec::new());
        }
        let mut chunk = chunk;
        if self.pending_cr && chunk.first() == Some(&b'\n') {
            chunk = &chunk[1..];
        }
        self.pending_cr = false;
        self.buffer.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n' || b == b'\r') {
            let line = self.buffer.split_to(end);
            let terminator = self.buffer[0];
            self.buffer.advance(1);
            if terminator == b'\r' {
                match self.buffer.first() {
                    Some(b'\n') => self.buffer.advance(1),
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
            let line = std::str::from_utf8(&line).map_err(|_| SseError::NotUtf8)?;
            if let Some(event) = self.line(line)? {
                events.push(event);
            }
        }
        if self.buffer.len() > MAX_EVENT_BYTES {
            return Err(SseError::TooLarge);
        }
        Ok(events)
    }

    /// Ends the stream: a final event without its blank line is still delivered.
    pub(crate) fn finish(&mut self) -> Result<Option<SseEvent>, SseError> {
        if !self.buffer.is_empty() {
            let rest = self.buffer.split();
            let line = std::str::from_utf8(&rest).map_err(|_| SseError::NotUtf8)?;
            if let Some(event) = self.line(line)? {
                return Ok(Some(event));
            }
        }
        Ok(self.dispatch())
    }

    fn line(&mut self, line: &str) -> Result<Option<SseEvent>, SseError> {
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.current.event),
            "data" => {
                if self.current.data.len() + value.len() + 1 > MAX_EVENT_BYTES {
                    return Err(SseError::TooLarge);
                }
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        if !self.has_data && self.current.event.is_empty() {
            return None;
        }
        self.has_data = false;
        Some(std::mem::take(&mut self.current))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn decodes_events_split_across_chunks_and_line_ends() {
        let mut decoder = SseDecoder::default();
        let mut out = decoder.push(b"event: message_start\ndata: {\"a\"").unwrap();
        assert!(out.is_empty());
        out.extend(
            decoder
                .push(b":1}\n\n: keep-alive\r\n\r\ndata: x\r")
                .unwrap(),
        );
        out.extend(decoder.push(b"\ndata: y\r\n\r\n").unwrap());
        out.extend(decoder.push(b"data: [DONE]").unwrap());
        out.extend(decoder.finish().unwrap());
        assert_eq!(
            out,
            [
                ev("message_start", "{\"a\":1}"),
                ev("", "x\ny"),
                ev("", "[DONE]")
            ]
        );
    }

    #[test]
    fn bounds_the_buffer() {
        let mut decoder = SseDecoder::default();
        let big = vec![b'a'; MAX_EVENT_BYTES + 1];
        assert_eq!(decoder.push(&big), Err(SseError::TooLarge));
    }
}
