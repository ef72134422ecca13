//! The one HTTP/1.1 response writer of every fake: the status line with its reason phrase, the
//! fake's headers, a `content-length` or chunked body, the terminating chunk, bodies cut part-way
//! (as a dropped connection leaves them), the `100 Continue` interim answer and the lingering
//! close after a refusal.
//!
//! Every response is framed the same way: the fake's headers in the order given, then
//! `content-length: <n>` or `transfer-encoding: chunked`, then `connection: close` when the
//! connection ends after it. Heads and chunks are each written with one `write_all` and flushed,
//! so a client sees every chunk as soon as it is written.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The chunk that ends a chunked body cleanly.
const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// The most a lingering close discards before closing anyway.
const MAX_LINGER_DISCARD: usize = 1024 * 1024;

/// What the connection does after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// The response ended cleanly; the connection may carry another request (if the client
    /// wants to keep it alive).
    Continue,
    /// The response was cut part-way; the connection must be closed now.
    Close,
}

/// The status line and headers of a response being built; the writers add the framing
/// headers and the blank line.
#[derive(Debug)]
#[must_use]
pub(crate) struct Head {
    text: String,
}

/// How the body after a head is delimited.
#[derive(Debug, Clone, Copy)]
enum Framing {
    Length(usize),
    Chunked,
}

impl Head {
    /// `HTTP/1.1 <status> <reason phrase>`.
    pub(crate) fn new(status: u16) -> Self {
        let mut text = String::with_capacity(256);
        text.push_str("HTTP/1.1 ");
        text.push_str(&status.to_string());
        text.push(' ');
        text.push_str(reason(status));
        text.push_str("\r\n");
        Self { text }
    }

    /// Adds `name: value` after the headers added so far.
    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.text.push_str(name);
        self.text.push_str(": ");
        self.text.push_str(value);
        self.text.push_str("\r\n");
        self
    }

    /// Adds the headers of a server-sent-events body (`text/event-stream` in UTF-8, not cached).
    #[cfg_attr(
        not(any(feature = "anthropic", feature = "openai")),
        allow(dead_code, reason = "only the Anthropic and OpenAI fakes stream SSE")
    )]
    pub(crate) fn event_stream(self) -> Self {
        self.header("content-type", "text/event-stream; charset=utf-8")
            .header("cache-control", "no-cache")
    }

    /// The head's bytes: the framing header, `connection: close` if `close`, the blank line.
    fn finish(self, framing: Framing, close: bool) -> Vec<u8> {
        let head = match framing {
            Framing::Length(len) => self.header("content-length", &len.to_string()),
            Framing::Chunked => self.header("transfer-encoding", "chunked"),
        };
        let head = if close {
            head.header("connection", "close")
        } else {
            head
        };
        head.end()
    }

    /// The head's bytes as built, ended by the blank line.
    fn end(mut self) -> Vec<u8> {
        self.text.push_str("\r\n");
        self.text.into_bytes()
    }
}

/// The reason phrase sent with `status` (`Status` for codes no fake has needed yet).
fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        424 => "Failed Dependency",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Overloaded",
        _ => "Status",
    }
}

/// Writes `bytes` and flushes them.
async fn write_flushed<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// Writes a complete response with a `content-length` body.
///
/// # Errors
///
/// Socket errors.
pub(crate) async fn write_full<S: AsyncWrite + Unpin>(
    stream: &mut S,
    head: Head,
    body: &[u8],
    close: bool,
) -> io::Result<After> {
    let mut out = head.finish(Framing::Length(body.len()), close);
    out.extend_from_slice(body);
    write_flushed(stream, &out).await?;
    Ok(After::Continue)
}

/// Announces a `content-length` body of `announced` bytes but sends only `sent`, as a
/// connection dropped mid-body would; the caller closes the connection.
///
/// # Errors
///
/// Socket errors.
#[cfg_attr(
    not(feature = "openai"),
    allow(dead_code, reason = "only the OpenAI fake cuts a fixed-length body")
)]
pub(crate) async fn write_full_then_cut<S: AsyncWrite + Unpin>(
    stream: &mut S,
    head: Head,
    announced: usize,
    sent: &[u8],
) -> io::Result<After> {
    let mut out = head.finish(Framing::Length(announced), false);
    out.extend_from_slice(sent);
    write_flushed(stream, &out).await?;
    Ok(After::Close)
}

/// Writes a chunked response, one HTTP chunk per item of `chunks` (empty items are skipped:
/// an empty chunk would end the body), then the terminating chunk.
///
/// # Errors
///
/// Socket errors.
#[cfg_attr(
    not(any(feature = "anthropic", feature = "bedrock", feature = "openai")),
    allow(
        dead_code,
        reason = "the metadata fake answers with fixed-length bodies only"
    )
)]
pub(crate) async fn write_chunked<S, I>(
    stream: &mut S,
    head: Head,
    chunks: I,
    close: bool,
) -> io::Result<After>
where
    S: AsyncWrite + Unpin,
    I: IntoIterator<Item: AsRef<[u8]>>,
{
    write_chunks(stream, head, chunks, close).await?;
    write_flushed(stream, LAST_CHUNK).await?;
    Ok(After::Continue)
}

/// Writes the head and chunks like [`write_chunked`] but never ends the body, as a dropped
/// connection would; the caller closes the connection. The head does not announce the close.
///
/// # Errors
///
/// Socket errors.
#[cfg_attr(
    not(any(feature = "anthropic", feature = "bedrock", feature = "openai")),
    allow(
        dead_code,
        reason = "the metadata fake answers with fixed-length bodies only"
    )
)]
pub(crate) async fn write_chunked_then_cut<S, I>(
    stream: &mut S,
    head: Head,
    chunks: I,
) -> io::Result<After>
where
    S: AsyncWrite + Unpin,
    I: IntoIterator<Item: AsRef<[u8]>>,
{
    write_chunks(stream, head, chunks, false).await?;
    Ok(After::Close)
}

/// The chunked head, then each non-empty item as one flushed chunk.
async fn write_chunks<S, I>(stream: &mut S, head: Head, chunks: I, close: bool) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
    I: IntoIterator<Item: AsRef<[u8]>>,
{
    write_flushed(stream, &head.finish(Framing::Chunked, close)).await?;
    for chunk in chunks {
        let data = chunk.as_ref();
        if data.is_empty() {
            continue;
        }
        let mut out = format!("{:x}\r\n", data.len()).into_bytes();
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
        write_flushed(stream, &out).await?;
    }
    Ok(())
}

/// Writes the `100 Continue` interim response a client sending `expect: 100-continue` waits for.
///
/// # Errors
///
/// Socket errors.
pub(crate) async fn write_continue<S: AsyncWrite + Unpin>(stream: &mut S) -> io::Result<()> {
    write_flushed(stream, &Head::new(100).end()).await
}

/// After refusing a request part-way through, half-closes the connection and discards what the
/// client still sends (at most 1 MiB; it ends at the client's EOF or when the fake is dropped),
/// so closing does not reset the connection before the client has read the answer.
pub(crate) async fn linger<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) {
    let _ = stream.shutdown().await;
    let mut scratch = vec![0_u8; 16 * 1024];
    let mut discarded = 0;
    while discarded < MAX_LINGER_DISCARD {
        match stream.read(&mut scratch).await {
            Ok(0) | Err(_) => break,
            Ok(n) => discarded += n,
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::duplex;

    use super::*;

    /// What `write` puts on the wire.
    async fn wire<F, Fut>(write: F) -> String
    where
        F: FnOnce(tokio::io::DuplexStream) -> Fut,
        Fut: Future<Output = io::Result<()>>,
    {
        let (mut client, server) = duplex(1 << 16);
        write(server).await.unwrap();
        let mut out = Vec::new();
        client.read_to_end(&mut out).await.unwrap();
        String::from_utf8(out).unwrap()
    }

    #[tokio::test]
    async fn full_response_frames_the_body_with_its_length_then_the_close() {
        let sent = wire(|mut s| async move {
            let head = Head::new(429).header("retry-after", "2");
            let after = write_full(&mut s, head, b"{}", true).await?;
            assert_eq!(after, After::Continue);
            Ok(())
        })
        .await;
        assert_eq!(
            sent,
            "HTTP/1.1 429 Too Many Requests\r\nretry-after: 2\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"
        );
    }

    #[tokio::test]
    async fn chunked_response_skips_empty_chunks_and_ends_with_the_last_chunk() {
        let sent = wire(|mut s| async move {
            let head = Head::new(200).event_stream();
            write_chunked(&mut s, head, ["data: a\n\n", "", "0123456789abcdef"], false).await?;
            Ok(())
        })
        .await;
        assert_eq!(
            sent,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n\
             cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n\
             9\r\ndata: a\n\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn cut_responses_neither_end_the_body_nor_announce_the_close() {
        let sent = wire(|mut s| async move {
            let after = write_chunked_then_cut(&mut s, Head::new(200), ["ab"]).await?;
            assert_eq!(after, After::Close);
            let after = write_full_then_cut(&mut s, Head::new(200), 10, b"{").await?;
            assert_eq!(after, After::Close);
            Ok(())
        })
        .await;
        assert_eq!(
            sent,
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n\
             HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{"
        );
    }

    #[tokio::test]
    async fn interim_continue_and_unknown_statuses_have_reason_phrases() {
        let sent = wire(|mut s| async move {
            write_continue(&mut s).await?;
            write_full(&mut s, Head::new(599), b"", false).await?;
            Ok(())
        })
        .await;
        assert_eq!(
            sent,
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 599 Status\r\ncontent-length: 0\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn linger_half_closes_then_drains_until_the_client_closes() {
        let (mut client, mut server) = duplex(1 << 16);
        client.write_all(&[b'x'; 40 * 1024]).await.unwrap();
        client.shutdown().await.unwrap();
        linger(&mut server).await;
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }
}
