//! Just enough HTTP/1.1 for the SDK: bounded request reading (shared with the other fakes) and
//! fixed-length and chunked responses.

use std::io;
use std::time::SystemTime;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

#[cfg(test)]
use crate::http::Refusal;
pub(super) use crate::http::{Incoming, RawRequest};

/// Bedrock's limits: 64 KiB of headers in at most 128 lines, 32 MiB bodies.
const LIMITS: crate::http::Limits = crate::http::Limits {
    server: "fake bedrock",
    max_header_bytes: 64 * 1024,
    max_headers: 128,
    max_body_bytes: 32 * 1024 * 1024,
};
#[cfg(test)]
const MAX_HEADER_BYTES: usize = LIMITS.max_header_bytes;
#[cfg(test)]
const MAX_BODY_BYTES: usize = LIMITS.max_body_bytes;

/// Reads the next request from `stream` within Bedrock's limits; bytes past its end stay in `buf`.
///
/// # Errors
///
/// Socket errors.
pub(super) async fn read_request<S>(stream: &mut S, buf: &mut BytesMut) -> io::Result<Incoming>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    crate::http::read_request(stream, buf, &LIMITS).await
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
