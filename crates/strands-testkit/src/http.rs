//! What the fake servers share: a bounded accept loop, bounded HTTP/1.1 request reading (the
//! header section, the announced body, keep-alive, refusals (431, 413, 411, 400) before anything
//! unbounded is read), one response writer ([`response`]), and the scripted-replies and
//! recorded-requests state.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

pub(crate) mod response;

/// Accepts connections (with `TCP_NODELAY`) and runs `serve` on each, at most `max_connections`
/// at once (further ones wait in the listener's backlog), until the task is aborted; aborting it
/// drops the [`JoinSet`] and so every connection task with it.
pub(crate) async fn accept_loop<F, Fut>(listener: TcpListener, max_connections: usize, serve: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        while connections.len() >= max_connections {
            let _ = connections.join_next().await;
        }
        match listener.accept().await {
            Ok((stream, _peer)) => {
                let _ = stream.set_nodelay(true);
                connections.spawn(serve(stream));
            }
            // Transient (e.g. out of file descriptors): wait for a connection to finish, if any,
            // instead of spinning. No timer is used, so runtimes without one work too.
            Err(_) => {
                if connections.join_next().await.is_none() {
                    tokio::task::yield_now().await;
                }
            }
        }
    }
}

/// State a fake shares between its handle and its connection tasks: the scripted replies, the
/// recorded requests, the credentials it accepts and a request counter. No lock is held across
/// an `.await`.
#[cfg_attr(
    not(any(feature = "anthropic", feature = "bedrock", feature = "openai")),
    allow(dead_code, reason = "the metadata fake keeps its own state")
)]
#[derive(Debug)]
pub(crate) struct Script<Reply, Request, Auth> {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Request>>,
    auth: Mutex<Auth>,
    next_id: AtomicU64,
}

#[cfg_attr(
    not(any(feature = "anthropic", feature = "bedrock", feature = "openai")),
    allow(dead_code, reason = "the metadata fake keeps its own state")
)]
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the data consistent, so a poisoned lock is still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg_attr(
    not(any(feature = "anthropic", feature = "bedrock", feature = "openai")),
    allow(dead_code, reason = "the metadata fake keeps its own state")
)]
impl<Reply, Request: Clone, Auth: Clone> Script<Reply, Request, Auth> {
    pub(crate) fn new(auth: Auth, replies: Vec<Reply>) -> Self {
        Self {
            replies: Mutex::new(replies.into()),
            requests: Mutex::new(Vec::new()),
            auth: Mutex::new(auth),
            next_id: AtomicU64::new(1),
        }
    }

    pub(crate) fn push(&self, reply: Reply) {
        lock(&self.replies).push_back(reply);
    }

    pub(crate) fn next_reply(&self) -> Option<Reply> {
        lock(&self.replies).pop_front()
    }

    pub(crate) fn pending_replies(&self) -> usize {
        lock(&self.replies).len()
    }

    pub(crate) fn record(&self, request: Request) {
        lock(&self.requests).push(request);
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        lock(&self.requests).clone()
    }

    pub(crate) fn request_count(&self) -> usize {
        lock(&self.requests).len()
    }

    pub(crate) fn auth(&self) -> Auth {
        lock(&self.auth).clone()
    }

    pub(crate) fn set_auth(&self, auth: Auth) {
        *lock(&self.auth) = auth;
    }

    /// 1, 2, 3, ... (for request ids).
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

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

impl RawRequest {
    /// The first value of the header `name` (lower case).
    #[cfg_attr(
        not(feature = "gateway"),
        allow(dead_code, reason = "only the fake Gateway reads headers this way")
    )]
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }
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
        header_in(&self.headers, name)
    }
}

/// The first value of the header `name` among `headers` (names lower case).
fn header_in<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
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
        response::write_continue(stream).await?;
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

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncWriteExt, duplex};

    use super::*;

    /// 64 KiB of headers in at most 128 lines, 32 MiB bodies (what Bedrock allows).
    const LIMITS: Limits = Limits {
        server: "fake test",
        max_header_bytes: 64 * 1024,
        max_headers: 128,
        max_body_bytes: 32 * 1024 * 1024,
    };

    async fn read_one(input: &[u8]) -> (Incoming, BytesMut) {
        let (mut client, mut server) = duplex(1 << 20);
        client.write_all(input).await.unwrap();
        drop(client);
        let mut buf = BytesMut::new();
        let incoming = read_request(&mut server, &mut buf, &LIMITS).await.unwrap();
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
            LIMITS.max_body_bytes + 1
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
        input.extend(std::iter::repeat_n(b'a', LIMITS.max_header_bytes + 10));
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
