//! Just enough HTTP/1.1 for the SDK: bounded request reading, fixed-length and chunked responses.

use std::io;
use std::time::SystemTime;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest header section accepted; larger ones get 431.
pub(super) const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The largest body accepted; larger ones get 413.
pub(super) const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// The most header lines accepted; more get 431.
const MAX_HEADERS: usize = 128;
/// How much is read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// A request read off the connection, body included.
#[derive(Debug)]
pub(super) struct RawRequest {
    pub(super) method: String,
    /// The request target as sent (path and query, still percent-encoded).
    pub(super) target: String,
    /// Names lower-cased, in the order received.
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Bytes,
    /// Whether the connection may carry another request after this one.
    pub(super) keep_alive: bool,
}

/// A request refused before it was fully read; the connection is closed after the answer.
#[derive(Debug, PartialEq)]
pub(super) struct Refusal {
    pub(super) status: u16,
    pub(super) error_type: &'static str,
    pub(super) message: String,
}

/// What reading the next request produced.
#[derive(Debug)]
pub(super) enum Incoming {
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

fn headers_too_large() -> Refusal {
    refusal(
        431,
        "RequestHeaderFieldsTooLargeException",
        format!(
            "fake bedrock: the request header section exceeds {MAX_HEADER_BYTES} bytes or {MAX_HEADERS} lines; send fewer or smaller headers"
        ),
    )
}

/// Parses a complete header section at the start of `buf`: `Ok(None)` when more bytes are needed.
fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len > MAX_HEADER_BYTES => Err(headers_too_large()),
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
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEADER_BYTES => Err(headers_too_large()),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(headers_too_large()),
        Err(error) => Err(refusal(
            400,
            "BadRequestException",
            format!("fake bedrock: malformed HTTP/1.1 request ({error}); send a valid request"),
        )),
    }
}

/// The body length announced by `head`.
fn content_length(head: &Head) -> Result<usize, Refusal> {
    if head.header("transfer-encoding").is_some() {
        return Err(refusal(
            411,
            "LengthRequiredException",
            "fake bedrock: chunked request bodies are not supported; send a content-length header",
        ));
    }
    let mut length = None;
    for (_, value) in head.headers.iter().filter(|(k, _)| k == "content-length") {
        let parsed = value.trim().parse::<u64>().map_err(|_| {
            refusal(
                400,
                "BadRequestException",
                format!(
                    "fake bedrock: invalid content-length `{value}`; send a decimal byte count"
                ),
            )
        })?;
        if length.is_some_and(|previous| previous != parsed) {
            return Err(refusal(
                400,
                "BadRequestException",
                "fake bedrock: conflicting content-length headers; send exactly one",
            ));
        }
        length = Some(parsed);
    }
    let length = length.unwrap_or(0);
    match usize::try_from(length) {
        Ok(length) if length <= MAX_BODY_BYTES => Ok(length),
        _ => Err(refusal(
            413,
            "RequestEntityTooLargeException",
            format!(
                "fake bedrock: the request body of {length} bytes exceeds the {MAX_BODY_BYTES}-byte limit; send a smaller request"
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
pub(super) async fn read_request<S>(stream: &mut S, buf: &mut BytesMut) -> io::Result<Incoming>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (head, head_len) = loop {
        if !buf.is_empty() {
            match parse_head(buf) {
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
    let body_len = match content_length(&head) {
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

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        424 => "Failed Dependency",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn status_and_common_headers(status: u16, request_id: &str) -> String {
    let date = DateTime::from(SystemTime::now())
        .fmt(Format::HttpDate)
        .unwrap_or_default();
    format!(
        "HTTP/1.1 {status} {}\r\ndate: {date}\r\nx-amzn-requestid: {request_id}\r\n",
        reason(status)
    )
}

/// Writes a complete response with a `content-length` body.
///
/// # Errors
///
/// Socket errors.
pub(super) async fn write_full<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: u16,
    request_id: &str,
    extra_headers: &[(&str, &str)],
    body: &[u8],
    close: bool,
) -> io::Result<()> {
    let mut out = status_and_common_headers(status, request_id);
    for (name, value) in extra_headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n", body.len()));
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).await?;
    stream.flush().await
}

/// Writes the head of a chunked `application/vnd.amazon.eventstream` response.
///
/// # Errors
///
/// Socket errors.
pub(super) async fn write_stream_head<S: AsyncWrite + Unpin>(
    stream: &mut S,
    request_id: &str,
    close: bool,
) -> io::Result<()> {
    let mut out = status_and_common_headers(200, request_id);
    out.push_str("content-type: application/vnd.amazon.eventstream\r\n");
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("transfer-encoding: chunked\r\n\r\n");
    stream.write_all(out.as_bytes()).await?;
    stream.flush().await
}

/// Writes `data` as one chunk (nothing for empty data, which would end the body).
///
/// # Errors
///
/// Socket errors.
pub(super) async fn write_chunk<S: AsyncWrite + Unpin>(
    stream: &mut S,
    data: &[u8],
) -> io::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    stream.write_all(&out).await?;
    stream.flush().await
}

/// Writes the terminating chunk that ends a chunked body cleanly.
///
/// # Errors
///
/// Socket errors.
pub(super) async fn write_last_chunk<S: AsyncWrite + Unpin>(stream: &mut S) -> io::Result<()> {
    stream.write_all(b"0\r\n\r\n").await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use tokio::io::duplex;

    use super::*;

    async fn read_one(input: &[u8]) -> (Incoming, BytesMut) {
        let (mut client, mut server) = duplex(1 << 20);
        client.write_all(input).await.unwrap();
        drop(client);
        let mut buf = BytesMut::new();
        let incoming = read_request(&mut server, &mut buf).await.unwrap();
        (incoming, buf)
    }

    #[tokio::test]
    async fn pipelined_requests_keep_the_next_one_in_the_buffer() {
        let (incoming, rest) = read_one(
            b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GET /b HTTP/1.1\r\n\r\n",
        )
        .await;
        let Incoming::Request(request) = incoming else {
            panic!("expected a request, got {incoming:?}");
        };
        assert_eq!(request.method, "POST");
        assert_eq!(request.target, "/a");
        assert_eq!(request.headers[0], ("host".to_owned(), "x".to_owned()));
        assert_eq!(request.body.as_ref(), b"{}");
        assert!(request.keep_alive);
        assert_eq!(rest.as_ref(), b"GET /b HTTP/1.1\r\n\r\n");
    }

    #[tokio::test]
    async fn connection_close_and_http_1_0_end_keep_alive() {
        let (incoming, _) = read_one(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").await;
        assert!(matches!(incoming, Incoming::Request(r) if !r.keep_alive));
        let (incoming, _) = read_one(b"GET / HTTP/1.0\r\n\r\n").await;
        assert!(matches!(incoming, Incoming::Request(r) if !r.keep_alive));
    }

    #[tokio::test]
    async fn oversized_body_is_refused_with_413_before_reading_it() {
        let head = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        let (incoming, _) = read_one(head.as_bytes()).await;
        assert!(matches!(
            incoming,
            Incoming::Refused(Refusal { status: 413, .. })
        ));
    }

    #[tokio::test]
    async fn oversized_header_section_is_refused_with_431() {
        let mut input = b"POST / HTTP/1.1\r\nx-big: ".to_vec();
        input.extend(std::iter::repeat_n(b'a', MAX_HEADER_BYTES + 10));
        let (incoming, _) = read_one(&input).await;
        assert!(matches!(
            incoming,
            Incoming::Refused(Refusal { status: 431, .. })
        ));
    }

    #[tokio::test]
    async fn truncated_body_is_a_closed_connection() {
        let (incoming, _) = read_one(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}").await;
        assert!(matches!(incoming, Incoming::Closed));
    }

    #[tokio::test]
    async fn chunked_request_bodies_are_refused() {
        let (incoming, _) =
            read_one(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").await;
        assert!(matches!(
            incoming,
            Incoming::Refused(Refusal { status: 411, .. })
        ));
    }

    #[tokio::test]
    async fn garbage_is_refused_with_400() {
        let (incoming, _) = read_one(b"\x01\x02 nonsense\r\n\r\n").await;
        assert!(matches!(
            incoming,
            Incoming::Refused(Refusal { status: 400, .. })
        ));
    }
}
