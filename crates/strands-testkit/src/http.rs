//! Bounded HTTP/1.1 request reading shared by the fake servers: the header section, the
//! announced body, keep-alive, refusals (431, 413, 411, 400) before anything unbounded is read.

use std::io;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A fake server's limits and the name its messages carry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Prefix of refusal messages, e.g. `fake bedrock`.
    pub(crate) server: &'static str,
    /// The largest header section accepted; larger ones get 431.
    pub(crate) max_header_bytes: usize,
    /// The most header lines accepted; more get 431.
    pub(crate) max_headers: usize,
    /// The largest body accepted; larger ones get 413.
    pub(crate) max_body_bytes: usize,
}

/// How much is read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// A request read off the connection, body included.
#[derive(Debug)]
pub(crate) struct RawRequest {
    pub(crate) method: String,
    /// The request target as sent (path and query, still percent-encoded).
    pub(crate) target: String,
    /// Names lower-cased, in the order received.
    pub(crate) headers: Vec<(String, String)>,
    #[cfg_attr(
        not(feature = "bedrock"),
        allow(dead_code, reason = "the metadata fake ignores bodies")
    )]
    pub(crate) body: Bytes,
    /// Whether the connection may carry another request after this one.
    pub(crate) keep_alive: bool,
}

/// A request refused before it was fully read; the connection is closed after the answer.
#[derive(Debug, PartialEq)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) error_type: &'static str,
    pub(crate) message: String,
}

/// What reading the next request produced.
#[derive(Debug)]
pub(crate) enum Incoming {
    Request(RawRequest),
    /// The peer closed the connection (between requests or part-way through one).
    Closed,
    Refused(Refusal),
}

/// The parsed request line and headers.
#[derive(Debug)]
struct Head {
    method: String,
    target: String,
    minor_version: u8,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

fn refusal(status: u16, error_type: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        error_type,
        message: message.into(),
    }
}

fn headers_too_large(limits: &Limits) -> Refusal {
    refusal(
        431,
        "RequestHeaderFieldsTooLargeException",
        format!(
            "{}: the request header section exceeds {} bytes or {} lines; send fewer or smaller headers",
            limits.server, limits.max_header_bytes, limits.max_headers
        ),
    )
}

/// Parses a complete header section at the start of `buf`: `Ok(None)` when more bytes are needed.
fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(Head, usize)>, Refusal> {
    let mut headers = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len > limits.max_header_bytes => {
            Err(headers_too_large(limits))
        }
        Ok(httparse::Status::Complete(len)) => {
            let head = Head {
                method: request.method.unwrap_or_default().to_owned(),
                target: request.path.unwrap_or_default().to_owned(),
                minor_version: request.version.unwrap_or(1),
                headers: request
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_ascii_lowercase(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
            };
            Ok(Some((head, len)))
        }
        Ok(httparse::Status::Partial) if buf.len() > limits.max_header_bytes => {
            Err(headers_too_large(limits))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(headers_too_large(limits)),
        Err(error) => Err(refusal(
            400,
            "BadRequestException",
            format!(
                "{}: malformed HTTP/1.1 request ({error}); send a valid request",
                limits.server
            ),
        )),
    }
}

/// The body length announced by `head`.
fn content_length(head: &Head, limits: &Limits) -> Result<usize, Refusal> {
    if head.header("transfer-encoding").is_some() {
        return Err(refusal(
            411,
            "LengthRequiredException",
            format!(
                "{}: chunked request bodies are not supported; send a content-length header",
                limits.server
            ),
        ));
    }
    let mut length = None;
    for (_, value) in head.headers.iter().filter(|(k, _)| k == "content-length") {
        let parsed = value.trim().parse::<u64>().map_err(|_| {
            refusal(
                400,
                "BadRequestException",
                format!(
                    "{}: invalid content-length `{value}`; send a decimal byte count",
                    limits.server
                ),
            )
        })?;
        if length.is_some_and(|previous| previous != parsed) {
            return Err(refusal(
                400,
                "BadRequestException",
                format!(
                    "{}: conflicting content-length headers; send exactly one",
                    limits.server
                ),
            ));
        }
        length = Some(parsed);
    }
    let length = length.unwrap_or(0);
    match usize::try_from(length) {
        Ok(length) if length <= limits.max_body_bytes => Ok(length),
        _ => Err(refusal(
            413,
            "RequestEntityTooLargeException",
            format!(
                "{}: the request body of {length} bytes exceeds the {}-byte limit; send a smaller request",
                limits.server, limits.max_body_bytes
            ),
        )),
    }
}

/// Reads more bytes into `buf`; `Ok(0)` means the peer closed the connection.
async fn fill<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    want: usize,
) -> io::Result<usize> {
    buf.reserve(want.clamp(1, READ_CHUNK));
    stream.read_buf(buf).await
}

/// Reads the next request from `stream`; bytes past its end stay in `buf` for the next one.
///
/// # Errors
///
/// Socket errors.
pub(crate) async fn read_request<S>(
    stream: &mut S,
    buf: &mut BytesMut,
    limits: &Limits,
) -> io::Result<Incoming>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (head, head_len) = loop {
        if !buf.is_empty() {
            match parse_head(buf, limits) {
                Ok(Some(parsed)) => break parsed,
                Ok(None) => {}
                Err(refusal) => return Ok(Incoming::Refused(refusal)),
            }
        }
        if fill(stream, buf, READ_CHUNK).await? == 0 {
            return Ok(Incoming::Closed);
        }
    };
    let _ = buf.split_to(head_len);
    let body_len = match content_length(&head, limits) {
        Ok(len) => len,
        Err(refusal) => return Ok(Incoming::Refused(refusal)),
    };
    let expects_continue = head
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    if expects_continue && buf.len() < body_len {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    while buf.len() < body_len {
        if fill(stream, buf, body_len - buf.len()).await? == 0 {
            return Ok(Incoming::Closed);
        }
    }
    let body = buf.split_to(body_len).freeze();
    let connection = head.header("connection").map(str::to_ascii_lowercase);
    let keep_alive = match head.minor_version {
        0 => connection.as_deref() == Some("keep-alive"),
        _ => connection.as_deref() != Some("close"),
    };
    Ok(Incoming::Request(RawRequest {
        method: head.method,
        target: head.target,
        headers: head.headers,
        body,
        keep_alive,
    }))
}
