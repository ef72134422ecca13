//! Server-sent events as a2a-sdk's server sends them: each event's `data` lines joined.

use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt;

use super::A2AClientError;

/// The `data` of each event of `response`'s body; an event may be at most `limit` bytes, and
/// the server may stay silent at most `timeout` between reads.
pub(super) fn events(
    response: reqwest::Response,
    limit: usize,
    timeout: Duration,
) -> impl Stream<Item = Result<Vec<u8>, A2AClientError>> + Send {
    async_stream::try_stream! {
        let mut chunks = std::pin::pin!(response.bytes_stream());
        let mut buffer: Vec<u8> = Vec::new();
        // Bytes of `buffer` already searched for an event's end (less the 3 an end may span).
        let mut scanned = 0;
        loop {
            while let Some((end, gap)) = event_end(&buffer, scanned) {
                let event: Vec<u8> = buffer.drain(..end + gap).collect();
                scanned = 0;
                if let Some(data) = data(&event[..end]) {
                    yield data;
                }
            }
            scanned = buffer.len().saturating_sub(3);
            let chunk = tokio::time::timeout(timeout, chunks.next())
                .await
                .map_err(|_| A2AClientError::Timeout)?;
            let Some(chunk) = chunk else { break };
            let chunk = chunk.map_err(|e| A2AClientError::network(&e))?;
            if buffer.len() + chunk.len() > limit {
                Err(A2AClientError::TooLarge(limit))?;
            }
            buffer.extend_from_slice(&chunk);
        }
        // A last event without the blank line after it.
        if let Some(data) = data(&buffer) {
            yield data;
        }
    }
}

/// Where the first event in `buffer` ends (searching from `from`), and the length of the blank
/// line ending it.
fn event_end(buffer: &[u8], from: usize) -> Option<(usize, usize)> {
    let tail = buffer.get(from..)?;
    let lf = tail
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (from + i, 2));
    let crlf = tail
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (from + i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The event's `data` lines, joined with new lines (one leading space dropped from each), or
/// `None` when it has none (a comment, a keep-alive).
fn data(event: &[u8]) -> Option<Vec<u8>> {
    let mut data: Option<Vec<u8>> = None;
    for line in event.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(value) = line.strip_prefix(b"data:") else {
            continue;
        };
        let value = value.strip_prefix(b" ").unwrap_or(value);
        match &mut data {
            Some(data) => {
                data.push(b'\n');
                data.extend_from_slice(value);
            }
            None => data = Some(value.to_vec()),
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_end_on_a_blank_line_and_join_their_data_lines() {
        let body = b": keep-alive\n\ndata: {\"a\":\ndata: 1}\r\n\r\nevent: x\ndata:2\n\n";
        let (end, gap) = event_end(body, 0).unwrap_or((0, 0));
        assert_eq!(data(&body[..end]), None, "a comment has no data");
        let rest = &body[end + gap..];
        let (end, gap) = event_end(rest, 0).unwrap_or((0, 0));
        assert_eq!(data(&rest[..end]).as_deref(), Some(&b"{\"a\":\n1}"[..]));
        let rest = &rest[end + gap..];
        let (end, _) = event_end(rest, 0).unwrap_or((0, 0));
        assert_eq!(data(&rest[..end]).as_deref(), Some(&b"2"[..]));
    }
}
